from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct


def retained_table(
    scope: Construct, *, key: kms.IKey, partition: tuple[str, str], sort: tuple[str, str], ttl: str | None = None
) -> dynamodb.Table:
    """An on-demand table encrypted with the stage's data key, with point-in-time recovery,
    retained with the stack's data. A one-region table (not TableV2): a TableV2's customer
    managed key is rendered per replica region, which a region-agnostic stack cannot name."""
    kinds = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}
    return dynamodb.Table(
        scope, "Table",
        partition_key=dynamodb.Attribute(name=partition[0], type=kinds[partition[1]]),
        sort_key=dynamodb.Attribute(name=sort[0], type=kinds[sort[1]]),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        time_to_live_attribute=ttl,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True),
        removal_policy=cdk.RemovalPolicy.RETAIN,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
    )


class RunLedgerTable(Construct):
    """The run ledger: one item per resource a run creates, keyed by execution name and
    `<type>#<name>`, plus a `run` item with the run's cleanup options.

    DynamoDB because the ledger needs conditional writes (an intent is written once, before
    the create call), strongly consistent reads (Tear Down must see the intent written a step
    earlier), a TTL (items expire 90 days after their last change) and no servers to run.
    Point-in-time recovery is on; encrypted with the stage's data key; the table is retained
    with the stack's data. Exposes `table`."""

    def __init__(self, scope: Construct, id_: str, *, key: kms.IKey) -> None:
        super().__init__(scope, id_)
        self.table = retained_table(self, key=key, partition=("execution", "S"), sort=("resource", "S"), ttl="expires")


class ModelVersionsTable(Construct):
    """Every model version (a promoted custom model kept under a model name, with its lineage),
    keyed by model name and version number. Never expires; point-in-time recovery on, encrypted
    with the stage's data key, retained with the stack's data. Each model name's current
    version ARN is an SSM parameter under `parameter_prefix`, written by Register Version and
    the CLI (applications read it). Exposes `table` and `parameter_prefix`."""

    def __init__(self, scope: Construct, id_: str, *, key: kms.IKey) -> None:
        super().__init__(scope, id_)
        self.parameter_prefix = f"/bedrock-customize/{cdk.Stack.of(self).stack_name}/models"
        self.table = retained_table(self, key=key, partition=("model", "S"), sort=("version", "N"))

    def parameters_arn(self) -> str:
        return cdk.Stack.of(self).format_arn(service="ssm", resource="parameter", resource_name=f"{self.parameter_prefix.lstrip('/')}/*")
