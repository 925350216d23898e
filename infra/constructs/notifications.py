from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class Notifications(Construct):
    """The topic of run notices (succeeded, failed, rejected request files, cleanup and janitor
    deletions): encrypted with the AWS-managed SNS key, TLS only, with the stage's email
    subscriptions. Exposes `topic`."""

    def __init__(self, scope: Construct, id_: str, *, emails: tuple[str, ...]) -> None:
        super().__init__(scope, id_)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="Bedrock customization runs",
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
            enforce_ssl=True,
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
