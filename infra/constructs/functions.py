from __future__ import annotations

import re
from collections.abc import Iterable

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from customization.registry import Invocable, Registry
from customization.vocabulary import REQUESTS_PREFIX, SERVICE_NAME
from infra.bundling import LAMBDAS_DIR, LocalPipBundling
from infra.config import StageConfig
from infra.constants import GRADE_SAMPLES
from infra.constructs.ledger import ModelVersionsTable
from infra.constructs.networking import PrivateNetwork
from infra.steps import ALL_FUNCTIONS, LATE_RESOURCES, Access, Step

ASYNC_RETRIES = 2
RUNTIMES = {
    "3.11": lambda_.Runtime.PYTHON_3_11,
    "3.12": lambda_.Runtime.PYTHON_3_12,
    "3.13": lambda_.Runtime.PYTHON_3_13,
    "3.14": lambda_.Runtime.PYTHON_3_14,
}
RETENTION = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def construct_id(state: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", state.title())


class ModelArns:
    """The ARNs of Bedrock resources in this stack's account and region, and of the models the
    registry lists as they are invoked from the stack's geography (the registry's geography
    of the stage's region): a system inference profile in the stack's region, and the
    foundation model in every region that profile routes to, each of which IAM must allow."""

    def __init__(self, stack: cdk.Stack, registry: Registry, *, region: str | None = None) -> None:
        self._stack, self._registry = stack, registry
        self.geography = registry.geography_of(region)

    def arn(self, resource: str, name: str = "*", *, region: str | None = None, account: str | None = None) -> str:
        return self._stack.format_arn(service="bedrock", resource=resource, resource_name=name, region=region, account=account)

    def foundation_models(self, ids: set[str]) -> list[str]:
        """Foundation model ARNs: in this region, or, for a profile id, in each region its
        geography routes to (a global profile: the model without a region, and in this one)."""
        arns = []
        for model_id in sorted(ids):
            geography = self._registry.profile_geography(model_id)
            if geography is None:
                arns.append(self.arn("foundation-model", model_id, account=""))
                continue
            bare = model_id.split(".", 1)[1]
            if not geography.source_regions:  # global: the source region's model, and the regionless ARN
                arns.append(self.arn("foundation-model", bare, account=""))
            arns += [self.arn("foundation-model", bare, region=r, account="") for r in geography.regions]
        return arns

    def invoked(self, model: Invocable) -> list[str]:
        """What invoking `model` from this stack needs: its profile here and the models behind
        it, or the model here; nothing where it cannot be invoked from this geography."""
        invocation_id = model.invocation_id_in(self.geography)
        if invocation_id is None:
            return []
        if self._registry.profile_geography(invocation_id):
            return [self.arn("inference-profile", invocation_id), *self.foundation_models({invocation_id})]
        return self.foundation_models({invocation_id})

    def teachers(self) -> list[str]:
        """What Bedrock invokes for a distillation job: each teacher that still teaches."""
        return _unique(arn for t in self._registry.distillation_teachers if not t.withdrawn for arn in self.invoked(t))

    def judges(self) -> list[str]:
        """What the built-in grader invokes as an LLM judge: the registry's judges."""
        return _unique(arn for j in self._registry.grader_judges for arn in self.invoked(j))

    def invocable(self, *, with_embeddings: bool) -> list[str]:
        """What the evaluation invokes: the base models (through their profiles), and the custom
        models' deployments; the steps' own role also the embedding models, custom models and
        the distillation teachers (a distilled student is scored beside its teacher)."""
        base = [arn for m in self._registry.models for arn in self.invoked(m)]
        if not with_embeddings:
            return _unique([*base, self.arn("provisioned-model")])
        return _unique([
            *base, *self.foundation_models(set(self._registry.embedding_models)), *self.teachers(), *self.judges(),
            self.arn("custom-model"), self.arn("provisioned-model"), self.arn("custom-model-deployment"),
        ])


def _unique(arns: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(arns))


class LifecycleFunctions(Construct):
    """One Lambda function per Step of `infra/steps.py`, all from the one bundled asset of
    `lambdas/`.

    Each function has its own role with only the access its Step lists, its own log group
    with the stage's retention, active X-Ray tracing and JSON logs. Exposes `by_state`
    (state or event-handler name -> function); `grant_late` adds the access to the state
    machine and the topic once they exist."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StageConfig,
        registry: Registry,
        bucket: s3.IBucket,
        bedrock_role: iam.IRole,
        ledger: dynamodb.ITable,
        key: kms.IKey,
        dead_letters: sqs.IQueue,
        versions: ModelVersionsTable,
        network: PrivateNetwork | None = None,
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self._config = config
        self._network = network
        self._key = key
        self._dead_letters = dead_letters
        self._runtime = RUNTIMES[config.lambda_python]
        self._code = lambda_.Code.from_asset(
            str(LAMBDAS_DIR),
            exclude=["**/__pycache__", "*.pyc", "requirements.txt"],
            bundling=cdk.BundlingOptions(image=self._runtime.bundling_image, local=LocalPipBundling(config.lambda_python)),
        )
        self._environment = {
            "BUCKET_NAME": bucket.bucket_name,
            "BEDROCK_ROLE_ARN": bedrock_role.role_arn,
            "STACK_NAME": stack.stack_name,
            "DEFAULT_JOB_WAIT_SECONDS": str(config.wait_seconds.job),
            "DEFAULT_DEPLOYMENT_WAIT_SECONDS": str(config.wait_seconds.deployment),
            "LEDGER_TABLE": ledger.table_name,
            "MODEL_VERSIONS_TABLE": versions.table.table_name,
            "MODEL_PARAMETER_PREFIX": versions.parameter_prefix,
            "DATA_KEY_ARN": key.key_arn,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        if network:  # each customization job's network interfaces go where the functions run
            self._environment["JOB_SUBNET_IDS"] = ",".join(network.subnet_ids)
            self._environment["JOB_SECURITY_GROUP_IDS"] = network.jobs.security_group_id
        models = ModelArns(stack, registry, region=config.region)
        self._resources: dict[str, list[str]] = {
            "customization_jobs": [models.arn("model-customization-job")],
            "custom_models": [models.arn("custom-model")],
            "provisioned_throughputs": [models.arn("provisioned-model")],
            "deployments": [models.arn("custom-model-deployment")],
            "evaluation_jobs": [models.arn("evaluation-job")],
            "customizable_models": models.foundation_models({m.model_id for m in registry.models}),
            "invocable_models": models.invocable(with_embeddings=True),
            "bucket": [bucket.bucket_arn],
            "bucket_objects": [bucket.arn_for_objects("*")],
            "run_objects": [bucket.arn_for_objects("runs/*")],
            "request_files": [bucket.arn_for_objects(f"{REQUESTS_PREFIX}*")],
            "ledger": [ledger.table_arn],
            "model_versions": [versions.table.table_arn],
            "model_parameters": [versions.parameters_arn()],
            "bedrock_role": [bedrock_role.role_arn],
            "data_key": [key.key_arn],
            "judge_models": models.judges(),
            "any": ["*"],
        }
        # Bedrock's evaluation jobs invoke both models (base, and the custom model's throughput) with the service role.
        bedrock_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=models.invocable(with_embeddings=False))
        )
        self.by_state: dict[str, lambda_.Function] = {}
        self._late: list[tuple[lambda_.Function, Access]] = []
        for step in ALL_FUNCTIONS:
            self.by_state[step.state] = self._function(step)

    def _function(self, step: Step) -> lambda_.Function:
        name = construct_id(step.state)
        log_group = logs.LogGroup(
            self, f"{name}Logs", retention=RETENTION[self._config.log_retention_days], removal_policy=cdk.RemovalPolicy.DESTROY,
            encryption_key=self._key,
        )
        role = iam.Role(
            self, f"{name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{step.state} step of the Bedrock customization lifecycle",
        )
        log_group.grant_write(role)
        for statement in self._network.function_statements() if self._network else ():
            role.add_to_policy(statement)
        function = lambda_.Function(
            self,
            name,
            description=f"{step.state}: Bedrock model customization lifecycle",
            runtime=self._runtime,
            architecture=lambda_.Architecture.X86_64,
            code=self._code,
            handler=step.handler,
            memory_size=step.memory_mb,
            timeout=cdk.Duration.seconds(step.timeout_seconds),
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=log_group,
            role=role,
            environment=self._environment,
            # Invoked asynchronously (by EventBridge), a function retries twice and then leaves the
            # event in the dead-letter queue; the state machine's and Bedrock's calls are synchronous.
            retry_attempts=ASYNC_RETRIES if step.invoked_async else 0,
            dead_letter_queue=self._dead_letters if step.invoked_async else None,
            vpc=self._network.vpc if self._network else None,
            vpc_subnets=self._network.subnets if self._network else None,
            security_groups=[self._network.functions] if self._network else None,
        )
        for access in step.all_access:
            if any(resource in LATE_RESOURCES for resource in access.resources):
                self._late.append((function, access))
            else:
                role.add_to_policy(self._statement(access))
        return function

    def _statement(self, access: Access, late: dict[str, list[str]] | None = None) -> iam.PolicyStatement:
        arns = {**self._resources, **(late or {})}
        conditions = {"StringEquals": {"kms:ViaService": f"{access.via}.{cdk.Stack.of(self).region}.amazonaws.com"}} \
            if access.via else None
        return iam.PolicyStatement(actions=list(access.actions), resources=[a for name in access.resources for a in arns[name]],
                                   conditions=conditions)

    @property
    def grader_arns(self) -> list[str]:
        """The graders a reinforcement run may name: the built-in one and the stage's own."""
        return [self.by_state[GRADE_SAMPLES].function_arn, *self._config.reinforcement_graders]

    def grant_late(self, *, state_machine: sfn.IStateMachine, executions: str, topic: sns.ITopic) -> None:
        """The steps' access to what exists only after the functions: the state machine, its
        executions and the notification topic (whose environment variables come with it)."""
        late = {"state_machine": [state_machine.state_machine_arn], "executions": [executions], "graders": self.grader_arns}
        for step in ALL_FUNCTIONS:
            if step.knows_state_machine:
                function = self.by_state[step.state]
                function.add_environment("STATE_MACHINE_ARN", state_machine.state_machine_arn)
                function.add_environment("NOTIFICATION_TOPIC_ARN", topic.topic_arn)
        for function, access in self._late:
            if access.resources == ("graders",):
                function.add_environment("GRADER_FUNCTION_ARN", self.by_state[GRADE_SAMPLES].function_arn)
                function.add_environment("ALLOWED_GRADER_ARNS", ",".join(self._config.reinforcement_graders))
            if access.resources == ("topic",):
                topic.grant_publish(function)  # CDK's grant also covers the topic's key
            else:
                function.add_to_role_policy(self._statement(access, late))
