from __future__ import annotations

import re
import typing

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from customization.models.request import EvaluationSettings
from customization.registry import Registry
from infra import constants
from infra.bundling import LAMBDAS_DIR, LocalPipBundling
from infra.config import StageConfig

# The embedding models the evaluation may use for semantic similarity (request schema).
EMBEDDING_MODELS = typing.get_args(EvaluationSettings.model_fields["embedding_model"].annotation)
# Geography prefixes of system inference profiles, and the regions each may route to.
PROFILE_REGIONS = {"us": ("us-east-1", "us-east-2", "us-west-1", "us-west-2")}


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


class LifecycleFunctions(Construct):
    """One Lambda function per Task state, all from the one bundled asset of `lambdas/`.

    Each function has its own role with only the actions its step calls, its own log group
    with the stage's retention, active X-Ray tracing and JSON logs. Exposes `by_state`
    (state or event-handler name -> function)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StageConfig,
        registry: Registry,
        bucket: s3.IBucket,
        bedrock_role: iam.IRole,
        ledger: dynamodb.ITableV2,
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        runtime = RUNTIMES[config.lambda_python]
        code = lambda_.Code.from_asset(
            str(LAMBDAS_DIR),
            exclude=["**/__pycache__", "*.pyc", "requirements.txt"],
            bundling=cdk.BundlingOptions(image=runtime.bundling_image, local=LocalPipBundling(config.lambda_python)),
        )
        environment = {
            "BUCKET_NAME": bucket.bucket_name,
            "BEDROCK_ROLE_ARN": bedrock_role.role_arn,
            "STACK_NAME": stack.stack_name,
            "DEFAULT_JOB_WAIT_SECONDS": str(config.wait_seconds.job),
            "DEFAULT_DEPLOYMENT_WAIT_SECONDS": str(config.wait_seconds.deployment),
            "LEDGER_TABLE": ledger.table_name,
            "POWERTOOLS_SERVICE_NAME": constants.SERVICE_NAME,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }

        def arn(resource: str, name: str = "*", *, region: str | None = None, account: str | None = None) -> str:
            return stack.format_arn(service="bedrock", resource=resource, resource_name=name, region=region, account=account)

        def foundation_models(ids: set[str]) -> list[str]:
            arns = []
            for model_id in sorted(ids):
                geography, _, bare = model_id.partition(".")
                if geography in PROFILE_REGIONS:
                    arns += [arn("foundation-model", bare, region=r, account="") for r in PROFILE_REGIONS[geography]]
                else:
                    arns.append(arn("foundation-model", model_id, account=""))
            return arns

        jobs, models = arn("model-customization-job"), arn("custom-model")
        throughputs, deployments = arn("provisioned-model"), arn("custom-model-deployment")
        invocation_ids = {m.invocation_id for m in registry.models}
        profiles = [arn("inference-profile", i) for i in sorted(invocation_ids) if i.split(".")[0] in PROFILE_REGIONS]

        def allow(actions: list[str], resources: list[str]) -> iam.PolicyStatement:
            return iam.PolicyStatement(actions=actions, resources=resources)

        ledger_write = allow(["dynamodb:PutItem", "dynamodb:UpdateItem"], [ledger.table_arn])
        ledger_read_write = allow(
            ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"], [ledger.table_arn]
        )
        evaluation_jobs = arn("evaluation-job")
        clean_up = [
            allow(["bedrock:GetEvaluationJob", "bedrock:StopEvaluationJob"], [evaluation_jobs]),
            allow(["bedrock:DeleteProvisionedModelThroughput"], [throughputs]),
            allow(["bedrock:DeleteCustomModelDeployment"], [deployments]),
            allow(["bedrock:GetModelCustomizationJob", "bedrock:StopModelCustomizationJob"], [jobs]),
            allow(["bedrock:DeleteCustomModel"], [models]),
            ledger_read_write,
        ]
        read_data = allow(["s3:GetObject"], [bucket.arn_for_objects("*")])
        list_data = allow(["s3:ListBucket"], [bucket.bucket_arn])
        write_reports = allow(["s3:PutObject", "s3:AbortMultipartUpload"], [bucket.arn_for_objects("runs/*")])
        permissions: dict[str, list[iam.PolicyStatement]] = {
            constants.VALIDATE_REQUEST: [
                read_data, list_data, write_reports, ledger_write,
                allow(["bedrock:GetFoundationModel"], foundation_models({m.model_id for m in registry.models})),
                allow(["s3:GetBucketLocation"], [bucket.bucket_arn]),
                allow(["iam:GetRole"], [bedrock_role.role_arn]),
                # Pre-flight model access and quota headroom: these actions support no resource-level permissions.
                allow(
                    ["servicequotas:ListServiceQuotas", "bedrock:ListModelCustomizationJobs", "bedrock:ListCustomModels",
                     "bedrock:ListProvisionedModelThroughputs", "bedrock:GetFoundationModelAvailability"],
                    ["*"],
                ),
            ],
            constants.SUBMIT_JOB: [
                allow(
                    ["bedrock:CreateModelCustomizationJob"],
                    [*foundation_models({m.model_id for m in registry.models}), jobs, models],
                ),
                allow(["bedrock:TagResource"], [jobs, models]),
                allow(["iam:PassRole"], [bedrock_role.role_arn]),
                ledger_write,
            ],
            constants.CHECK_JOB: [
                allow(["bedrock:GetModelCustomizationJob", "bedrock:StopModelCustomizationJob"], [jobs]),
                ledger_write,
            ],
            constants.DEPLOY_MODEL: [
                allow(["bedrock:CreateProvisionedModelThroughput"], [models, throughputs]),
                allow(["bedrock:CreateCustomModelDeployment"], [models, deployments]),
                allow(["bedrock:TagResource"], [throughputs, deployments]),
                ledger_write,
            ],
            constants.CHECK_DEPLOYMENT: [
                allow(["bedrock:GetProvisionedModelThroughput"], [throughputs]),
                allow(["bedrock:GetCustomModelDeployment"], [deployments]),
            ],
            constants.PLAN_EVALUATION: [read_data, write_reports],
            constants.SCORE_SAMPLES: [
                allow(
                    ["bedrock:InvokeModel"],
                    [*foundation_models(invocation_ids | set(EMBEDDING_MODELS)), *profiles, models, throughputs, deployments],
                ),
                read_data,
                write_reports,
            ],
            constants.START_EVALUATION_JOB: [
                allow(["bedrock:CreateEvaluationJob", "bedrock:TagResource"], [evaluation_jobs]),
                allow(["iam:PassRole"], [bedrock_role.role_arn]),
                read_data, list_data, write_reports, ledger_write,
            ],
            constants.CHECK_EVALUATION_JOB: [allow(["bedrock:GetEvaluationJob"], [evaluation_jobs]), ledger_write],
            constants.REPORT_EVALUATION: [read_data, list_data, write_reports],
            constants.TEAR_DOWN: clean_up,
            constants.CLEAN_UP_RUN: clean_up,
            # Their Step Functions, S3 and SNS grants are added by the stack, which knows the resources.
            constants.START_FROM_REQUEST: [],
            constants.NOTIFY_RUN: [],
            constants.NOTIFY_JOB_PROGRESS: [allow(["bedrock:ListTagsForResource"], [jobs])],
            constants.JANITOR: [
                # List actions support no resource-level permissions.
                allow(["bedrock:ListProvisionedModelThroughputs", "bedrock:ListCustomModelDeployments"], ["*"]),
                allow(["bedrock:ListTagsForResource"], [throughputs, deployments]),
                allow(["bedrock:DeleteProvisionedModelThroughput"], [throughputs]),
                allow(["bedrock:DeleteCustomModelDeployment"], [deployments]),
                ledger_write,
            ],
        }

        # Bedrock's evaluation jobs invoke both models with the service role.
        bedrock_role.add_to_principal_policy(
            allow(["bedrock:InvokeModel"], [*foundation_models(invocation_ids), *profiles, throughputs])
        )

        self.by_state: dict[str, lambda_.Function] = {}
        for step in (*constants.STEPS, *constants.EVENT_HANDLERS):
            name = construct_id(step.state)
            log_group = logs.LogGroup(
                self,
                f"{name}Logs",
                retention=RETENTION[config.log_retention_days],
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            role = iam.Role(
                self,
                f"{name}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"{step.state} step of the Bedrock customization lifecycle",
            )
            log_group.grant_write(role)
            for statement in permissions[step.state]:
                role.add_to_policy(statement)
            self.by_state[step.state] = lambda_.Function(
                self,
                name,
                description=f"{step.state}: Bedrock model customization lifecycle",
                runtime=runtime,
                architecture=lambda_.Architecture.X86_64,
                code=code,
                handler=step.handler,
                memory_size=step.memory_mb,
                timeout=cdk.Duration.seconds(step.timeout_seconds),
                tracing=lambda_.Tracing.ACTIVE,
                logging_format=lambda_.LoggingFormat.JSON,
                log_group=log_group,
                role=role,
                environment=environment,
                retry_attempts=0,
            )
