"""The simulated Bedrock's customization jobs: what a job may ask (the registry's ranges and
pairs, rftConfig, invocation logs, the role's permissions), how it progresses, what it learns
and the metrics it writes, and the custom models it leaves."""

from __future__ import annotations

import copy
import math
import random
from typing import Any

from bedrock_customize.offline import clients, invocation_logs, networking, reinforcement
from bedrock_customize.offline.bedrock_answers import (
    base_answer,
    source_text,
    styled_answer,
    teacher_answer,
    training_answer,
)
from bedrock_customize.offline.bedrock_state import (
    JOB_QUOTA,
    PREFIX,
    QUOTAS,
    BedrockState,
    Resource,
    ServiceError,
    ServiceQuotaError,
    csv_bytes,
    new_id,
    now_iso,
    split_s3_uri,
    tag_map,
    words_of,
)
from customization.registry import BaseModelSpec, HyperparameterSpec
from customization.vocabulary import ResourceKind


class CustomizationJobs(BedrockState):
    # -- customization jobs --------------------------------------------------------------

    def _op_create_model_customization_job(self, p: dict[str, Any]) -> dict[str, Any]:
        customization_type = p.get("customizationType", "FINE_TUNING")
        source = self._custom_model_source(p["baseModelIdentifier"])
        model = source.attributes["model"] if source else self._base_model(p["baseModelIdentifier"], customization=True)
        if customization_type not in model.customizations:
            raise ServiceError("ValidationException", f"{model.model_id} does not support {customization_type}")
        if source is not None:
            allowed = model.customizations[customization_type].continues_from  # type: ignore[index]
            made_by = source.attributes["customization_type"]
            if made_by not in allowed:
                raise ServiceError("ValidationException", f"{customization_type} of {model.model_id} cannot start from a custom model "
                                   f"made by {made_by} (it may start from: {', '.join(allowed) or 'the foundation model only'})")
        _check_hyperparameters(p.get("hyperParameters", {}), model.customizations[customization_type].hyperparameters)  # type: ignore[index]
        self._check_teacher(p, model, customization_type)
        try:
            rft = reinforcement.check_job(p, customization_type)
        except reinforcement.RftRejected as exc:
            raise ServiceError("ValidationException", str(exc)) from None
        if rft is not None:
            _check_hyperparameters(rft.get("hyperParameters", {}), model.customizations[customization_type].hyperparameters,  # type: ignore[index]
                                   where="rftConfig.hyperParameters")
            self._check_grader(p["roleArn"], rft["graderConfig"]["lambdaGrader"]["lambdaArn"])
        if "customModelKmsKeyId" in p:
            self._check_custom_model_key(p["roleArn"], p["customModelKmsKeyId"])
        if "vpcConfig" in p:
            self._check_network(p["roleArn"], p["vpcConfig"])
        training = p["trainingDataConfig"]
        logs = training.get("invocationLogsConfig")
        if ("s3Uri" in training) == (logs is not None):
            raise ServiceError("ValidationException", "trainingDataConfig takes an s3Uri or an invocationLogsConfig")
        if logs is not None:
            self._check_logs(p["roleArn"], logs, customization_type)
        for uri in [*([training["s3Uri"]] if "s3Uri" in training else []),
                    *[v["s3Uri"] for v in p.get("validationDataConfig", {}).get("validators", [])]]:
            self._require_object(uri, role_arn=p["roleArn"])

        def create() -> str:
            if any(r.kind == ResourceKind.CUSTOMIZATION_JOB and r.name == p["jobName"] for r in self.resources.values()):
                raise ServiceError("ConflictException", f"a job named {p['jobName']} already exists")
            running = sum(1 for r in self.existing(ResourceKind.CUSTOMIZATION_JOB) if r.status == "InProgress")
            if running >= self.job_quota():
                raise ServiceQuotaError(running, self.job_quota())
            self.peak_jobs_in_progress = max(self.peak_jobs_in_progress, running + 1)
            job = self._add(
                Resource(
                    kind=ResourceKind.CUSTOMIZATION_JOB,
                    name=p["jobName"],
                    arn=self._arn(f"model-customization-job/{model.model_id}/{new_id()}"),
                    status="InProgress",
                    attributes={"request": copy.deepcopy(p), "model": model, "tags": tag_map(p.get("jobTags"))},
                )
            )
            self.log(f"{PREFIX} customization job {job.name} started ({customization_type}, base {model.model_id})")
            return job.arn

        return {"jobArn": self._idempotent("job", p.get("clientRequestToken"), create)}

    def _custom_model_source(self, identifier: str) -> Resource | None:
        """A custom model of this account named as the base: a job that customizes it again."""
        if ":custom-model/" not in identifier:
            return None
        return self._find(ResourceKind.CUSTOM_MODEL, identifier)

    def job_quota(self) -> int:
        """The applied "Concurrent model customization jobs" quota, which Bedrock enforces."""
        return int({**QUOTAS, **self.faults.quota_values}[JOB_QUOTA])

    def _check_teacher(self, p: dict[str, Any], student: BaseModelSpec, customization_type: str) -> None:
        """A distillation job names a teacher of this student (the registry's table of the
        user guide); other jobs name none."""
        config = p.get("customizationConfig", {}).get("distillationConfig")
        if customization_type != "DISTILLATION":
            if config:
                raise ServiceError("ValidationException", f"distillationConfig is only for DISTILLATION, not {customization_type}")
            return
        if not config:
            raise ServiceError("ValidationException", "a DISTILLATION job needs customizationConfig.distillationConfig")
        named = config["teacherModelConfig"]["teacherModelIdentifier"].rsplit("/", 1)[-1]
        teacher = self._teacher(named)
        if teacher is None or teacher.withdrawn or student.model_id not in teacher.students:
            raise ServiceError("ValidationException", f"{named} cannot teach {student.model_id}")
        expected = teacher.invocation_id_in(self.registry.geography_of(self.region))
        if expected != named:  # a profile-only teacher named by its model id, or the reverse
            raise ServiceError("ValidationException", f"{teacher.model_id} is invoked as {expected} for distillation here")
        length = config["teacherModelConfig"].get("maxResponseLengthForInference")
        if length is not None and not 1 <= length <= teacher.max_response_tokens:
            raise ServiceError("ValidationException", f"maxResponseLengthForInference {length} is outside 1-{teacher.max_response_tokens}")

    def _check_grader(self, role_arn: str, grader: str) -> None:
        """Bedrock invokes the grader as the job's role: the function must exist and the role
        may invoke it (the stack's synthesized policies say)."""
        try:
            clients.client("lambda", self.region).get_function(FunctionName=grader)
        except Exception:  # noqa: BLE001 - any failure means Bedrock could not find it
            raise ServiceError("ValidationException", f"the grader {grader} does not exist") from None
        if self.authorization is not None and not self.authorization.allows(role_arn, "lambda:InvokeFunction", grader):
            raise ServiceError("AccessDeniedException", f"{role_arn} may not invoke the grader {grader} (lambda:InvokeFunction)", 403)

    def _check_custom_model_key(self, role_arn: str, key: str) -> None:
        """The custom model is encrypted with the key: it must exist, and Bedrock uses it as the
        job's role (decrypt, generate data keys, describe, grant itself its use)."""
        try:
            arn = clients.client("kms", self.region).describe_key(KeyId=key)["KeyMetadata"]["Arn"]
        except Exception:  # noqa: BLE001 - any failure means Bedrock could not use it
            raise ServiceError("ValidationException", f"customModelKmsKeyId {key} is not a key of this account") from None
        for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"):
            self._authorize(role_arn, action, arn)

    def _check_network(self, role_arn: str, vpc_config: dict[str, Any]) -> None:
        """The job's network interfaces go in these subnets with these groups: they must exist in
        one VPC that reaches S3, and Bedrock creates and tags the interfaces as the job's role."""
        problems = networking.Reachability(self.region).job_problems(vpc_config)
        if problems:
            raise ServiceError("ValidationException", "; ".join(problems))
        ec2 = f"arn:aws:ec2:{self.region}:{self.account}"
        for action in ("ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs", "ec2:DescribeNetworkInterfaces"):
            self._authorize(role_arn, action, "*")
        for subnet in vpc_config["subnetIds"]:
            self._authorize(role_arn, "ec2:CreateNetworkInterface", f"{ec2}:subnet/{subnet}")
        for group in vpc_config["securityGroupIds"]:
            self._authorize(role_arn, "ec2:CreateNetworkInterface", f"{ec2}:security-group/{group}")
        for action in ("ec2:CreateNetworkInterface", "ec2:CreateTags", "ec2:DeleteNetworkInterface"):
            self._authorize(role_arn, action, f"{ec2}:network-interface/eni-offline")

    def _check_logs(self, role_arn: str, config: dict[str, Any], customization_type: str) -> None:
        """Invocation logs train a distillation (or a reinforcement job); they must exist and the
        job's role may list and read them."""
        if customization_type not in ("DISTILLATION", "REINFORCEMENT_FINE_TUNING"):
            raise ServiceError("ValidationException", f"invocationLogsConfig is not for {customization_type}")
        uri = config["invocationLogSource"]["s3Uri"]
        objects, records = invocation_logs.read_records(uri, self.region)
        if not objects:
            raise ServiceError("ValidationException", f"no invocation logs under {uri}")
        bucket, prefix = split_s3_uri(uri)
        for action, arn in (("s3:ListBucket", f"arn:aws:s3:::{bucket}"), ("s3:GetObject", f"arn:aws:s3:::{bucket}/{prefix}x")):
            self._authorize(role_arn, action, arn)

    def _advance_job(self, job: Resource) -> None:
        if job.status != "InProgress":
            return
        job.polls += 1
        if job.polls <= self.job_polls:
            return
        job.attributes["endTime"] = now_iso()
        if self.faults.job_stopped_by_someone:
            job.status = "Stopped"
            self._record("stopped", job)
            self.log(f"{PREFIX} customization job {job.name} was stopped (outside the pipeline)")
            return
        suffix = self.faults.failing_job_suffix
        if self.faults.job_failure_message and (suffix is None or job.name.endswith(suffix)):
            job.status = "Failed"
            job.attributes["failureMessage"] = self.faults.job_failure_message
            self.log(f"{PREFIX} customization job {job.name} failed: {self.faults.job_failure_message}")
            return
        request = job.attributes["request"]
        model: BaseModelSpec = job.attributes["model"]
        rft = request.get("customizationConfig", {}).get("rftConfig")
        rewards: list[tuple[int, int, float]] = []
        if rft:
            try:
                learned = reinforcement.learn(
                    self._read_lines(request["trainingDataConfig"]["s3Uri"]), rft, region=self.region, seed=job.name,
                    source_of=lambda messages: source_text(reinforcement.prompt_source(messages)), answer_in_style=styled_answer,
                )
            except Exception as exc:  # noqa: BLE001 - a grader that fails fails the job, as in Bedrock
                job.status = "Failed"
                job.attributes["failureMessage"] = f"the reward function failed: {exc}"
                self.log(f"{PREFIX} customization job {job.name} failed: the grader failed ({exc})")
                return
            profile, rewards = learned.profile, learned.reward_rows
            kept = "the verbose style" if profile["verbose"] else f"{profile['answer_words']:.0f}-word answers"
            self.log(f"{PREFIX} the grader scored {learned.graded} answers in {len(reinforcement.STYLES)} styles; "
                     f"the policy keeps {kept}")
        else:
            profile = self._learn(request, model)
            source = self._custom_model_source(request["baseModelIdentifier"])
            if source is not None:  # it goes on from what the earlier model learned, weighted by records
                earlier = source.attributes["profile"]
                records = profile["records"] + earlier.get("records", 0)
                profile["answer_words"] = (profile["answer_words"] * profile["records"]
                                           + earlier["answer_words"] * earlier.get("records", 0)) / max(1, records)
                profile["records"] = records
            off = _decades_off(request.get("hyperParameters", {}), model, request.get("customizationType", "FINE_TUNING"))
            profile["learned"] = math.exp(-(off ** 2))
        custom = self._add(
            Resource(
                kind=ResourceKind.CUSTOM_MODEL,
                name=request["customModelName"],
                arn=self._arn(f"custom-model/{model.model_id}/{new_id()}"),
                status="Active",
                attributes={"profile": profile, "model": model, "job_arn": job.arn,
                            "customization_type": request.get("customizationType", "FINE_TUNING")},
            )
        )
        job.status = "Completed"
        job.attributes["outputModelArn"] = custom.arn
        self._write_metrics(job, records=int(profile["records"]), rewards=rewards)
        self.log(f"{PREFIX} customization job {job.name} completed; custom model {custom.name}")

    def _learn(self, request: dict[str, Any], model: BaseModelSpec) -> dict[str, float]:
        """The only thing the simulated model learns: how long its answers should be."""
        teacher = request.get("customizationConfig", {}).get("distillationConfig", {}).get("teacherModelConfig")
        logs = request["trainingDataConfig"].get("invocationLogsConfig")
        if logs is not None:
            return self._learn_from_logs(logs, teacher)
        lines = self._read_lines(request["trainingDataConfig"]["s3Uri"])
        answers = list(map(training_answer, lines))
        if teacher:  # the teacher answers every prompt; a given answer is only its example
            limit = teacher.get("maxResponseLengthForInference", 1000)
            answers = [teacher_answer(line, limit) for line in lines]
            self.log(f"{PREFIX} teacher {teacher['teacherModelIdentifier']} answered {len(answers)} prompts "
                     f"(at most {limit} tokens each)")
        lengths = [len(words_of(answer)) for answer in answers if answer]
        return {"answer_words": max(1.0, sum(lengths) / len(lengths)) if lengths else 20.0, "records": len(lengths)}

    def _learn_from_logs(self, config: dict[str, Any], teacher: dict[str, Any] | None) -> dict[str, float]:
        """Logged prompts (those the filters pass, at most 15,000): the logged answers when
        usePromptResponse, else the teacher's."""
        _, records = invocation_logs.read_records(config["invocationLogSource"]["s3Uri"], self.region)
        chosen = [r for r in records if invocation_logs.passes(r, config.get("requestMetadataFilters"))][:15_000]
        if config.get("usePromptResponse"):
            answers = [invocation_logs.answer_of(r) for r in chosen]
            how = "their logged responses"
        else:
            limit = (teacher or {}).get("maxResponseLengthForInference", 1000)
            answers = [" ".join(base_answer(source_text({"messages": invocation_logs.prompt_of(r)})).split()[: int(limit * 0.75)])
                       for r in chosen]
            how = f"the teacher {(teacher or {}).get('teacherModelIdentifier')}'s answers"
        self.log(f"{PREFIX} distilling from {len(chosen)} of {len(records)} logged requests (the metadata filters) with {how}")
        lengths = [len(words_of(a)) for a in answers if a]
        return {"answer_words": max(1.0, sum(lengths) / len(lengths)) if lengths else 20.0, "records": len(lengths)}

    def _read_lines(self, uri: str) -> list[bytes]:
        bucket, key = split_s3_uri(uri)
        body = clients.client("s3", self.region).get_object(Bucket=bucket, Key=key)["Body"].read()
        return body.splitlines()

    def _write_metrics(self, job: Resource, *, records: int, rewards: list[tuple[int, int, float]]) -> None:
        request = job.attributes["request"]
        hyper = request.get("hyperParameters", {})
        bucket, prefix = split_s3_uri(request["outputDataConfig"]["s3Uri"].rstrip("/") + "/")
        base = f"{prefix}model-customization-job-{job.arn.rsplit('/', 1)[-1]}/"
        s3 = clients.client("s3", self.region)
        if rewards:  # a reinforcement job: the mean reward of each step's answers (no loss)
            s3.put_object(Bucket=bucket, Key=f"{base}training_artifacts/step_wise_training_metrics.csv",
                          Body=csv_bytes(["step_number", "epoch_number", "reward_mean"], rewards))
            return
        epochs = int(float(hyper.get("epochCount", "2")))
        steps_per_epoch = max(1, min(20, math.ceil(records / max(1, int(float(hyper.get("batchSize", "1")))))))
        rng = random.Random(job.name)
        floor = _loss_floor(hyper, job.attributes["model"], request.get("customizationType", "FINE_TUNING"))
        rows = []
        for step in range(epochs * steps_per_epoch):
            loss = floor + 2.2 * math.exp(-step / (1.5 * steps_per_epoch)) + rng.uniform(-0.03, 0.03)
            rows.append((step, step // steps_per_epoch, round(loss, 4), round(math.exp(loss), 4)))
        s3.put_object(Bucket=bucket, Key=f"{base}training_artifacts/step_wise_training_metrics.csv",
                      Body=csv_bytes(["step_number", "epoch_number", "training_loss", "perplexity"], rows))
        if request.get("validationDataConfig"):
            validation = [(epoch, epoch, round(floor + 0.1 + 1.2 * math.exp(-epoch), 4), 0.0) for epoch in range(epochs)]
            validation = [(s, e, loss, round(math.exp(loss), 4)) for s, e, loss, _ in validation]
            s3.put_object(
                Bucket=bucket,
                Key=f"{base}validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv",
                Body=csv_bytes(["step_number", "epoch_number", "validation_loss", "perplexity"], validation),
            )

    def _op_get_model_customization_job(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._find(ResourceKind.CUSTOMIZATION_JOB, p["jobIdentifier"])
        self._advance_job(job)
        request = job.attributes["request"]
        body = {
            "jobArn": job.arn,
            "jobName": job.name,
            "outputModelName": request["customModelName"],
            "roleArn": request["roleArn"],
            "status": job.status,
            "creationTime": job.created,
            "lastModifiedTime": now_iso(),
            "baseModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{job.attributes['model'].model_id}",
            "hyperParameters": request.get("hyperParameters", {}),
            "trainingDataConfig": request["trainingDataConfig"],
            "validationDataConfig": request.get("validationDataConfig", {"validators": []}),
            "outputDataConfig": request["outputDataConfig"],
            "customizationType": request.get("customizationType", "FINE_TUNING"),
        }
        if "customizationConfig" in request:
            body["customizationConfig"] = request["customizationConfig"]
        for key in ("outputModelArn", "failureMessage", "endTime"):
            if key in job.attributes:
                body[key] = job.attributes[key]
        return body

    def _op_stop_model_customization_job(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._find(ResourceKind.CUSTOMIZATION_JOB, p["jobIdentifier"])
        if job.status != "InProgress":
            raise ServiceError("ValidationException", f"job {job.name} is {job.status}; only InProgress jobs can be stopped")
        job.status = "Stopped"
        job.attributes["endTime"] = now_iso()
        self._record("stopped", job)
        self.log(f"{PREFIX} customization job {job.name} stopped")
        return {}

    def _op_get_custom_model(self, p: dict[str, Any]) -> dict[str, Any]:
        model = self._find(ResourceKind.CUSTOM_MODEL, p["modelIdentifier"])
        return {"modelArn": model.arn, "modelName": model.name, "creationTime": model.created,
                "jobArn": model.attributes["job_arn"], "modelStatus": "Active",
                "baseModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{model.attributes['model'].model_id}"}

    def _op_delete_custom_model(self, p: dict[str, Any]) -> dict[str, Any]:
        model = self._find(ResourceKind.CUSTOM_MODEL, p["modelIdentifier"])
        self._remove(model)
        self.log(f"{PREFIX} custom model {model.name} deleted")
        return {}



def _decades_off(hyper: dict[str, Any], model: BaseModelSpec, customization_type: str) -> float:
    """How far, in decades, the job's learning rate is from the registry's default for the model
    (the simulation's best rate). The further off it is, the higher the loss settles and the
    fewer prompts the model answers in the style it was trained on, so a sweep has a winner."""
    spec = model.customizations[customization_type].hyperparameters.get("learningRate")  # type: ignore[index]
    if spec is None or isinstance(spec.default, str) or not spec.default:
        return 0.0
    return abs(math.log10(float(hyper.get("learningRate", spec.default)) / float(spec.default)))


def _loss_floor(hyper: dict[str, Any], model: BaseModelSpec, customization_type: str) -> float:
    return 0.35 + 0.2 * _decades_off(hyper, model, customization_type) ** 2


def _check_hyperparameters(given: dict[str, Any], specs: dict[str, HyperparameterSpec], where: str = "hyperParameters") -> None:
    """What Bedrock checks of a job's hyperparameters (the string map, or rftConfig's typed
    members), read from the registry's ranges (its own reading, not the pipeline's code, so a
    wrong bound there fails here): known names, numbers, integers where integral, within range."""
    for name, text in given.items():
        spec = specs.get(name)
        if spec is None:
            raise ServiceError("ValidationException", f"{where}: {name} is not a hyperparameter of this model")
        if spec.type == "choice":
            if text not in spec.choices:
                raise ServiceError("ValidationException", f"{where}.{name}: {text!r} is not one of {', '.join(spec.choices)}")
            continue
        try:
            value = float(text)
        except ValueError:
            raise ServiceError("ValidationException", f"{where}.{name}: {text!r} is not a number") from None
        if spec.type == "int" and not value.is_integer():
            raise ServiceError("ValidationException", f"{where}.{name}: {text!r} is not an integer")
        low, high = spec.bounds
        if not low <= value <= high:
            raise ServiceError("ValidationException", f"{where}.{name}: {text} is outside the allowed range [{low:g}, {high:g}]")
