from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class Notifications(Construct):
    """The topic of run notices (succeeded, failed, rejected request files, cleanup and janitor
    deletions) and of the alarms: TLS only, with the stage's email subscriptions, encrypted with
    the stage's data key, whose policy admits CloudWatch for this account's alarms (see
    `DataKey`); the functions that publish get the key through the topic's grant. Exposes `topic`."""

    def __init__(self, scope: Construct, id_: str, *, emails: tuple[str, ...], key: kms.IKey) -> None:
        super().__init__(scope, id_)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="Bedrock customization runs",
            master_key=key,
            enforce_ssl=True,
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
