from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

LOGS_PREFIX = "invocation-logs"


class InvocationLogging(Construct):
    """Bedrock's model invocation logging for this account and region (stage setting
    `invocation_logging`), written to the pipeline bucket under invocation-logs/, for teams
    that distil from production traffic. The bucket admits bedrock.amazonaws.com to that prefix
    only, for this account's logging in this region, and the data key's policy admits it to
    encrypt what it writes there (the bucket is SSE-KMS). Logging is an account-wide setting:
    the stack sets it on deployment and removes it when deleted.

    Exposes `logs_uri`, what a request's invocation_logs.source names."""

    def __init__(self, scope: Construct, id_: str, *, bucket: s3.IBucket, key: kms.IKey) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        logs_key = f"{LOGS_PREFIX}/AWSLogs/{stack.account}/BedrockModelInvocationLogs"
        statement = iam.PolicyStatement(
            principals=[iam.ServicePrincipal("bedrock.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[bucket.arn_for_objects(f"{logs_key}/*")],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": stack.format_arn(service="bedrock", resource="*")},
            },
        )
        policy = bucket.add_to_resource_policy(statement).policy_dependable
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="BedrockWritesInvocationLogsToTheBucket",
            principals=[iam.ServicePrincipal("bedrock.amazonaws.com")],
            actions=["kms:GenerateDataKey"],
            resources=["*"],  # in a key policy, "*" is this key
            conditions=statement.conditions,
        ))  # an existing key (the stage's kms_key_arn) is not changed: its policy must say as much
        logging = {
            "loggingConfig": {
                "s3Config": {"bucketName": bucket.bucket_name, "keyPrefix": LOGS_PREFIX},
                "textDataDeliveryEnabled": True,
                "imageDataDeliveryEnabled": False,
                "embeddingDataDeliveryEnabled": False,
            }
        }
        put = cr.AwsSdkCall(
            service="bedrock", action="putModelInvocationLoggingConfiguration", parameters=logging,
            physical_resource_id=cr.PhysicalResourceId.of(f"{stack.stack_name}-invocation-logging"),
        )
        setting = cr.AwsCustomResource(
            self, "Setting", on_create=put, on_update=put,
            on_delete=cr.AwsSdkCall(service="bedrock", action="deleteModelInvocationLoggingConfiguration"),
            # These two actions support no resource-level permissions.
            policy=cr.AwsCustomResourcePolicy.from_statements([iam.PolicyStatement(
                actions=["bedrock:PutModelInvocationLoggingConfiguration", "bedrock:DeleteModelInvocationLoggingConfiguration"],
                resources=["*"],
            )]),
            install_latest_aws_sdk=False,
        )
        if policy is not None:
            setting.node.add_dependency(policy)  # Bedrock checks it may write before it accepts the setting
        self.logs_uri = f"s3://{bucket.bucket_name}/{logs_key}/"
