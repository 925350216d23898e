"""Pre-flight: before any spend, what AWS itself says about this run. The stack's region is one
where the model can be customized; Bedrock confirms the model supports the customization, is
active and that this account may use it; the pipeline bucket is in the stack's region; the
service role still trusts Bedrock; and the account's quotas leave room for this run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from customization.core.quotas import check_headroom, job_headroom
from customization.errors import RequestInvalidError

if TYPE_CHECKING:
    from customization.adapters.bedrock import FoundationModels
    from customization.adapters.quotas import AccountQuotas
    from customization.adapters.roles import ServiceRoles
    from customization.adapters.storage import ObjectStore
    from customization.models.request import CustomizationRequest
    from customization.registry import BaseModelSpec
    from customization.settings import Settings


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
    legacy = [warning] if (warning := model.legacy_warning()) else []
    if access is None:
        return [f"access to {access_id} not checked: the role may not call GetFoundationModelAvailability", *legacy]
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
    return [f"{model.model_id} supports {customization_type}, is ACTIVE, and this account has access to {access_id}", *legacy]


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


@dataclass(frozen=True)
class AccountCheck:
    notes: list[str]  # what was checked, for the validation report
    job_headroom: int | None  # customization jobs that may still start at once (None: not known)


def account_preflight(
    request: CustomizationRequest, *, settings: Settings, store: ObjectStore, quotas: AccountQuotas, roles: ServiceRoles
) -> AccountCheck:
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
    # IAM has no VPC endpoint in most regions: from the stage's private subnets it cannot be reached.
    policy = roles.trust_policy(role) if not settings.job_subnets else None
    if settings.job_subnets:
        checked.append(f"role {role} not checked: IAM is not reachable from the stage's private subnets")
    elif policy is None:
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
    usage = quotas.usage() if limits is not None else None
    return AccountCheck(checked + check_headroom(request, limits, usage), job_headroom(limits, usage))
