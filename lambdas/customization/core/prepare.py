"""Validate Request: the request and its datasets are checked before anything is spent."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from customization.core.costs import CostEstimate, Workload, enforce_budget, estimate_cost
from customization.core.hyperparameters import HyperparameterPlan, plan_hyperparameters, resolve_hyperparameters
from customization.core.naming import RunNames
from customization.core.quotas import check_headroom
from customization.core.split import choose_holdout, split_stream
from customization.core.validation import DatasetReport, DatasetSource, validate_sources
from customization.errors import DatasetInvalidError, RequestInvalidError
from customization.models.request import CustomizationRequest, split_s3_uri
from customization.models.steps import RunContext, ValidateRequestInput, Waits
from customization.registry import BaseModelSpec, CustomizationSpec, load_registry

if TYPE_CHECKING:
    from customization.adapters.bedrock import FoundationModels
    from customization.adapters.ledger import RunLedger
    from customization.adapters.quotas import AccountQuotas
    from customization.adapters.roles import ServiceRoles
    from customization.adapters.storage import ObjectStore
    from customization.settings import Settings

TAG_EXECUTION = "bedrock-customize:execution"
TAG_STACK = "bedrock-customize:stack"
TAG_EXPIRES = "bedrock-customize:expires-at"
DATA_ROLES = {"training_data": "training", "validation_data": "validation", "test_data": "test"}


def describe_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "request"
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def parse_request(raw: dict[str, object], *, bucket: str | None) -> CustomizationRequest:
    try:
        return CustomizationRequest.model_validate(raw, context={"bucket": bucket})
    except ValidationError as exc:
        raise RequestInvalidError(f"invalid request: {describe_validation_error(exc)}") from None


def run_tags(run: RunContext) -> dict[str, str]:
    return {TAG_EXECUTION: run.execution_name, TAG_STACK: run.stack_name}


def s3_source(role: str, uri: str, store: ObjectStore) -> DatasetSource:
    size = store.size(uri)
    if size is None:
        raise DatasetInvalidError(f"{role} data: {uri} does not exist")
    return DatasetSource(role=role, name=uri, lines=lambda: store.iter_lines(uri), size_bytes=size, bucket=split_s3_uri(uri)[0])


def choose_test_set(
    request: CustomizationRequest, customization: CustomizationSpec, reports: dict[str, DatasetReport]
) -> tuple[set[int], str | None]:
    """The training records to hold out for evaluation (ordinals), or why none are."""
    if request.test_data is not None:
        return set(), None
    if request.deployment.mode == "none":
        return set(), "no deployment, so no evaluation"
    limits = customization.limits
    validation_records = reports["validation"].records if "validation" in reports else 0
    min_training = max(limits.training_records.min or 1, (limits.total_records.min or 0) - validation_records if limits.total_records else 0)
    settings = request.evaluation
    holdout = choose_holdout(
        reports["training"].records, fraction=settings.holdout_fraction, max_samples=settings.max_samples,
        min_training=min_training, seed=settings.seed,
    )
    return holdout, None if holdout else f"the training set is at the model's minimum of {min_training} records"


def split_counts(request: CustomizationRequest, reports: dict[str, DatasetReport], holdout: set[int]) -> dict[str, int]:
    if request.test_data is not None:
        return {"training_records": reports["training"].records, "test_records": reports["test"].records}
    return {"training_records": reports["training"].records - len(holdout), "test_records": len(holdout)}


def hold_out_test_set(
    request: CustomizationRequest,
    customization: CustomizationSpec,
    reports: dict[str, DatasetReport],
    store: ObjectStore,
    data_prefix: str,
) -> dict[str, Any]:
    """The test set the evaluation scores, and the training file Bedrock gets: test_data as
    given, or else a seeded sample held out of the training data, which is then rewritten
    without those records under the run's prefix. The split is recorded."""
    holdout, reason = choose_test_set(request, customization, reports)
    split: dict[str, Any] = {
        "source": "test_data", "training_uri": request.training_data, "test_uri": request.test_data,
        **split_counts(request, reports, holdout),
    }
    if reason is not None:
        return {**split, "source": "none", "reason": reason}
    if not holdout:
        return split
    held: list[bytes] = []
    training_uri = f"{data_prefix}training.jsonl"
    store.write_stream(training_uri, split_stream(store.iter_lines(request.training_data), holdout, held))
    test_uri = f"{data_prefix}held-out-test.jsonl"
    store.put_bytes(test_uri, b"".join(held), "application/jsonl")
    settings = request.evaluation
    return {
        **split, "source": "held-out", "seed": settings.seed, "fraction": settings.holdout_fraction,
        "original_training_uri": request.training_data, "training_uri": training_uri, "test_uri": test_uri,
    }


def workload(reports: dict[str, DatasetReport], split: dict[str, int], max_samples: int) -> Workload:
    """Tokens the job trains on (after any hold-out) and what the evaluation will send."""
    training = reports["training"]
    per_record = training.estimated_tokens / training.records if training.records else 0.0
    test = reports.get("test")
    test_per_record = test.estimated_tokens / test.records if test and test.records else per_record
    return Workload(
        training_tokens=round(per_record * split["training_records"]),
        test_samples=min(max_samples, split["test_records"]),
        test_tokens_per_sample=test_per_record,
    )


def estimate_run(
    request: CustomizationRequest, model: BaseModelSpec, reports: dict[str, DatasetReport], counts: dict[str, int]
) -> tuple[CostEstimate, HyperparameterPlan]:
    """The hyperparameters the job will get and what the run will cost, from validated datasets."""
    plan = plan_hyperparameters(
        request.hyperparameters, model.customization(request.customization_type),
        training_records=counts["training_records"], has_validation="validation" in reports,
    )
    epochs = plan.values.get("epochCount")
    estimate = estimate_cost(
        request, model, load_registry(), workload(reports, counts, request.evaluation.max_samples),
        epochs=int(float(epochs)) if epochs else 1,
    )
    return estimate, plan


def preflight(
    model: BaseModelSpec, customization_type: str, *, region: str | None, foundation_models: FoundationModels
) -> list[str]:
    """Before any spend: the stack's region is one where the model can be customized, and
    Bedrock confirms the model supports the customization, is active, and that this account
    may use it. Returns what was checked."""
    if region and region not in model.regions:
        raise RequestInvalidError(
            f"base_model: {model.model_id} can be customized in {', '.join(model.regions)} only; "
            f"this stack is in {region} (deploy a stage pinned to one of those regions)"
        )
    info = foundation_models.describe(model.model_id)
    if info is None:
        raise RequestInvalidError(f"base_model: Bedrock does not offer {model.model_id} in {region or 'this region'}")
    if customization_type not in info.get("customizationsSupported", []):
        raise RequestInvalidError(
            f"customization_type: Bedrock reports that {model.model_id} supports "
            f"{', '.join(info.get('customizationsSupported', [])) or 'no customization'} here, not {customization_type}"
        )
    lifecycle = info.get("modelLifecycle", {}).get("status", "ACTIVE")
    if lifecycle != "ACTIVE":
        raise RequestInvalidError(f"base_model: {model.model_id} is {lifecycle} in Bedrock")
    access_id = model.model_id.rsplit(":", 1)[0]  # access is granted on the base id, without :NNk
    access = foundation_models.availability(access_id)
    if access is None:
        return [f"access to {access_id} not checked: the role may not call GetFoundationModelAvailability"]
    problems = []
    if access.get("authorizationStatus") == "NOT_AUTHORIZED":
        problems.append("this account is not authorized to use it (IAM or an SCP)")
    if access.get("entitlementAvailability") == "NOT_AVAILABLE":
        problems.append("model access has not been granted (request it in the Bedrock console, Model access)")
    agreement = (access.get("agreementAvailability") or {}).get("status", "AVAILABLE")
    if agreement != "AVAILABLE":
        problems.append(f"its offer agreement is {agreement} (accept it in the Bedrock console)")
    if access.get("regionAvailability") == "NOT_AVAILABLE":
        problems.append(f"it is not available in {region or 'this region'}")
    if problems:
        raise RequestInvalidError(f"base_model: {access_id} cannot be used here: " + "; ".join(problems))
    return [f"{model.model_id} supports {customization_type}, is ACTIVE, and this account has access to {access_id}"]


def trusts_bedrock(policy: dict[str, Any]) -> bool:
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        services = statement.get("Principal", {}).get("Service", [])
        if (
            statement.get("Effect") == "Allow"
            and "sts:AssumeRole" in ([actions] if isinstance(actions, str) else actions)
            and "bedrock.amazonaws.com" in ([services] if isinstance(services, str) else services)
        ):
            return True
    return False


def account_preflight(
    request: CustomizationRequest, *, settings: Settings, store: ObjectStore, quotas: AccountQuotas, roles: ServiceRoles
) -> list[str]:
    """Before any spend: the pipeline bucket (which holds every dataset) is in the stack's
    region, the service role still lets Bedrock assume it, and the account's quotas leave room
    for this run. Returns what was checked."""
    region, bucket, role = settings.AWS_REGION, settings.BUCKET_NAME, settings.BEDROCK_ROLE_ARN
    bucket_region = store.bucket_region(bucket)
    if region and bucket_region != region:
        raise RequestInvalidError(
            f"pre-flight: the pipeline bucket {bucket} is in {bucket_region}, the stack in {region}; "
            "Bedrock reads training data only from a bucket in its own region"
        )
    checked = [f"bucket {bucket} is in {bucket_region}"]
    policy = roles.trust_policy(role)
    if policy is None:
        checked.append(f"role {role} not checked: this function may not read it")
    elif not policy:
        raise RequestInvalidError(f"pre-flight: the Bedrock service role {role} does not exist (redeploy the stack)")
    elif not trusts_bedrock(policy):
        raise RequestInvalidError(
            f"pre-flight: the Bedrock service role {role} does not let bedrock.amazonaws.com assume it "
            "(its trust policy was changed outside the stack; redeploy the stack)"
        )
    else:
        checked.append(f"role {role} trusts bedrock.amazonaws.com")
    limits = quotas.bedrock_quotas()
    return checked + check_headroom(request, limits, quotas.usage() if limits is not None else None)


def prepare_run(
    event: ValidateRequestInput,
    settings: Settings,
    store: ObjectStore,
    ledger: RunLedger,
    foundation_models: FoundationModels,
    quotas: AccountQuotas,
    roles: ServiceRoles,
) -> tuple[RunContext, dict[str, Any]]:
    request = parse_request(event.request, bucket=settings.BUCKET_NAME)
    model = load_registry().resolve(request.base_model)
    customization = model.customization(request.customization_type)
    checked = preflight(model, request.customization_type, region=settings.AWS_REGION, foundation_models=foundation_models)
    checked += account_preflight(request, settings=settings, store=store, quotas=quotas, roles=roles)
    prefix = f"runs/{event.execution_name}/"
    requested = resolve_hyperparameters(request.hyperparameters, customization.hyperparameters)
    batch_size = int(float(requested["batchSize"])) if "batchSize" in requested else None

    sources = [
        s3_source(DATA_ROLES[field], uri, store)
        for field in DATA_ROLES
        if (uri := getattr(request, field)) is not None
    ]
    reports = validate_sources(model, customization, sources, batch_size=batch_size, media_probe=lru_cache(maxsize=4096)(store.size))
    by_role = {r.role: r for r in reports}
    invalid = [r.describe() for r in reports if not r.valid]
    if invalid:
        report_uri = f"s3://{settings.BUCKET_NAME}/{prefix}validation-report.json"
        store.put_json(report_uri, {"valid": False, "base_model": model.model_id, "datasets": [r.as_dict() for r in reports]})
        raise DatasetInvalidError(" | ".join(invalid) + f" (full report: {report_uri})")

    split = hold_out_test_set(request, customization, by_role, store, f"s3://{settings.BUCKET_NAME}/{prefix}data/")
    estimate, plan = estimate_run(request, model, by_role, split)
    report = {
        "valid": True,
        "split": split,
        "base_model": model.model_id,
        "customization_type": request.customization_type,
        "data_format": customization.data_format,
        "token_estimate": f"characters / {customization.limits.chars_per_token:g} (an estimate, not a tokenizer count)",
        "datasets": [r.as_dict() for r in reports],
        "hyperparameters": plan.values,
        "hyperparameter_adjustments": plan.adjustments,
        "preflight": checked,
        "cost_estimate": estimate.model_dump(mode="json"),
        "budget_usd": request.budget.max_usd,
    }
    store.put_json(f"s3://{settings.BUCKET_NAME}/{prefix}validation-report.json", report)
    enforce_budget(estimate, request.budget.max_usd)

    run = RunContext(
        execution_name=event.execution_name,
        execution_arn=event.execution_arn,
        stack_name=settings.STACK_NAME,
        bucket=settings.BUCKET_NAME,
        prefix=prefix,
        output_uri=f"s3://{settings.BUCKET_NAME}/{prefix}output/",
        base_model_id=model.model_id,
        base_model_invocation_id=model.invocation_id,
        customization_type=request.customization_type,
        data_format=customization.data_format,
        training_data=split["training_uri"],
        validation_data=request.validation_data,
        test_data=split["test_uri"],
        split=split,
        hyperparameters=plan.values,
        hyperparameter_adjustments=plan.adjustments,
        names=RunNames.for_execution(event.execution_name),
        deployment=request.deployment,
        evaluation=request.evaluation,
        teardown=request.teardown,
        budget=request.budget,
        wait_seconds=Waits(
            job=request.wait_seconds.job if request.wait_seconds.job is not None else settings.DEFAULT_JOB_WAIT_SECONDS,
            deployment=request.wait_seconds.deployment
            if request.wait_seconds.deployment is not None
            else settings.DEFAULT_DEPLOYMENT_WAIT_SECONDS,
        ),
        timeouts=request.timeouts,
        records={**{r.role: r.records for r in reports}, "training": split["training_records"], "test": split["test_records"]},
        estimated_training_tokens=estimate.training_tokens_per_epoch,
        cost_estimate=estimate,
    )
    # What the cleanup of an aborted or timed-out run needs, since no state payload reaches it.
    ledger.record_run(
        run.execution_name,
        {"stack": run.stack_name, "delete_custom_model": run.teardown.delete_custom_model, "base_model": run.base_model_id},
    )
    return run, report
