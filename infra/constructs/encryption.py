from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class DataKey(Construct):
    """The stage's customer managed key: it encrypts the pipeline bucket (with an S3 bucket key),
    the log groups, the run ledger, the notification topic and every custom model
    (`customModelKmsKeyId`). Created per stage with rotation on and retained with the data it
    protects, or the stage's existing `kms_key_arn`, whose key policy must then admit what this
    one's does (the README lists it).

    The key policy admits, beside the account (so IAM policies grant the rest): CloudWatch Logs
    for this account's log groups in this region, and CloudWatch for this account's alarms
    publishing to the topic. Not the AWS managed `alias/aws/sns`: its policy admits no service
    principal, so alarms could not publish (the SNS guide's "compatibility between event sources
    from AWS services and encrypted topics"). Exposes `key`."""

    def __init__(self, scope: Construct, id_: str, *, existing_key_arn: str | None) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        if existing_key_arn:
            self.key: kms.IKey = kms.Key.from_key_arn(self, "Existing", existing_key_arn)
            return
        key = kms.Key(
            self, "Key", description=f"Encrypts the data of {stack.stack_name}: datasets, outputs, logs, ledger, notices, custom models",
            enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchLogsEncryptThisAccountsLogGroups",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],  # in a key policy, "*" is this key
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                service="logs", resource="log-group", resource_name="*", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)}},
        ))
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchAlarmsPublishToTheTopic",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": stack.format_arn(
                    service="cloudwatch", resource="alarm", resource_name="*", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)},
            },
        ))
        self.key = key
