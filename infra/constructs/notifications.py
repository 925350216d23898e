from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class Notifications(Construct):
    """The topic of run notices (succeeded, failed, rejected request files, cleanup and janitor
    deletions) and of the alarms: TLS only, with the stage's email subscriptions, encrypted with
    a customer managed key of its own. Not the AWS managed `alias/aws/sns`: its key policy admits
    no service principal, so CloudWatch alarms could not publish (the SNS guide's "compatibility
    between event sources from AWS services and encrypted topics"). This key's policy admits
    CloudWatch for this account's alarms; the functions that publish get it through the topic's
    grant. Exposes `topic`, `key`."""

    def __init__(self, scope: Construct, id_: str, *, emails: tuple[str, ...]) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.key = kms.Key(
            self, "Key", description="Encrypts the Bedrock customization notification topic",
            enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.DESTROY,
            pending_window=cdk.Duration.days(7),
        )
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchAlarmsPublishToTheTopic",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" is this key
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": stack.format_arn(
                    service="cloudwatch", resource="alarm", resource_name="*", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)},
            },
        ))
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="Bedrock customization runs",
            master_key=self.key,
            enforce_ssl=True,
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
