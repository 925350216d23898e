from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from customization.registry import HOME_GEOGRAPHY, Registry
from customization.vocabulary import TAG_STACK
from infra import constants, nag
from infra.config import StageConfig
from infra.constructs.bedrock_role import BedrockServiceRole
from infra.constructs.encryption import DataKey
from infra.constructs.functions import RETENTION, LifecycleFunctions, ModelArns
from infra.constructs.guards import CleanupGuards, dead_letter_queue
from infra.constructs.invocation_logging import InvocationLogging
from infra.constructs.ledger import ModelVersionsTable, RunLedgerTable
from infra.constructs.monitoring import Monitoring
from infra.constructs.networking import PrivateNetwork
from infra.constructs.notifications import Notifications
from infra.constructs.schedules import ScheduledRuns
from infra.constructs.storage import PipelineBucket
from infra.constructs.workflow import LifecycleWorkflow
from infra.steps import ALL_FUNCTIONS


class ModelCustomizationStack(cdk.Stack):
    """The deployment unit: composes the components, wires them, declares the outputs."""

    def __init__(self, scope: Construct, id_: str, *, config: StageConfig, registry: Registry, **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        if config.region is None:
            self._deploy_only_in_the_home_geography(registry)
        key = DataKey(self, "Encryption", existing_key_arn=config.kms_key_arn).key
        storage = PipelineBucket(self, "Pipeline", key=key)
        ledger = RunLedgerTable(self, "Ledger", key=key)
        versions = ModelVersionsTable(self, "ModelVersions", key=key)
        notifications = Notifications(self, "Notifications", emails=config.notification_emails, key=key)
        bedrock_role = BedrockServiceRole(self, "BedrockService", bucket=storage.bucket,
                                          teachers=ModelArns(self, registry, region=config.region).teachers(), key=key)
        dead_letters = dead_letter_queue(self, "DeadLetters")
        network = PrivateNetwork(self, "Network", settings=config.vpc, key=key, retention=RETENTION[config.log_retention_days]) \
            if config.vpc else None
        if network:
            for statement in network.bedrock_job_statements():
                bedrock_role.role.add_to_principal_policy(statement)
        functions = LifecycleFunctions(
            self, "Steps", config=config, registry=registry, bucket=storage.bucket, bedrock_role=bedrock_role.role,
            ledger=ledger.table, key=key, dead_letters=dead_letters, versions=versions, network=network,
        )
        bedrock_role.allow_graders(functions.grader_arns)
        workflow = LifecycleWorkflow(self, "Lifecycle", config=config, functions=dict(functions.by_state), key=key)
        machine = workflow.state_machine
        executions = self.format_arn(
            service="states", resource="execution", resource_name=f"{machine.state_machine_name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        functions.grant_late(state_machine=machine, executions=executions, topic=notifications.topic)
        janitor = functions.by_state[constants.JANITOR]
        trigger = functions.by_state[constants.START_FROM_REQUEST]
        notify = functions.by_state[constants.NOTIFY_RUN]
        clean_up = functions.by_state[constants.CLEAN_UP_RUN]
        job_progress = functions.by_state[constants.NOTIFY_JOB_PROGRESS]
        guards = CleanupGuards(
            self, "Guards", state_machine=machine, clean_up=clean_up, janitor=janitor,
            janitor_schedule=config.janitor_schedule, bucket_name=storage.bucket.bucket_name,
            start_from_request=trigger, notify_run=notify, notify_job_progress=job_progress, dead_letters=dead_letters,
        )

        if config.invocation_logging:
            logging = InvocationLogging(self, "InvocationLogging", bucket=storage.bucket, key=key)
            cdk.CfnOutput(self, "InvocationLogsUri", value=logging.logs_uri)
        Monitoring(self, "Monitoring", state_machine=machine, topic=notifications.topic, dead_letters=guards.dead_letters)
        ScheduledRuns(self, "Schedules", state_machine=machine, runs=config.schedules, dead_letters=guards.dead_letters)
        nag.acknowledge(self, bucket=storage.bucket, functions=functions.by_state.values(), state_machine=machine)
        nag.skip_scanner_findings(self, access_logs=storage.access_logs, asynchronous=[
            functions.by_state[step.state] for step in ALL_FUNCTIONS if step.invoked_async],
            in_vpc=functions.by_state.values() if network else ())
        cdk.Tags.of(self).add(TAG_STACK, self.stack_name)
        cdk.CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "BucketName", value=storage.bucket.bucket_name)
        cdk.CfnOutput(self, "BedrockRoleArn", value=bedrock_role.role.role_arn)
        cdk.CfnOutput(self, "LedgerTableName", value=ledger.table.table_name)
        cdk.CfnOutput(self, "ModelVersionsTableName", value=versions.table.table_name)
        cdk.CfnOutput(self, "ModelParameterPrefix", value=versions.parameter_prefix)
        cdk.CfnOutput(self, "NotificationTopicArn", value=notifications.topic.topic_arn)
        cdk.CfnOutput(self, "DeadLetterQueueUrl", value=guards.dead_letters.queue_url)
        cdk.CfnOutput(self, "DataKeyArn", value=key.key_arn)
        if network:
            cdk.CfnOutput(self, "VpcId", value=network.vpc.vpc_id)

    def _deploy_only_in_the_home_geography(self, registry: Registry) -> None:
        """Without a stage region, the model ARNs are those of the US geography's profiles:
        CloudFormation refuses the stack anywhere else, before creating anything."""
        regions = registry.inference_geographies[HOME_GEOGRAPHY].source_regions
        cdk.CfnRule(self, "InferenceGeography", assertions=[cdk.CfnRuleAssertion(
            assert_=cdk.Fn.condition_contains(list(regions), cdk.Aws.REGION),
            assert_description=f"This stage names no region, so its model permissions are those of the {HOME_GEOGRAPHY} "
            f"geography ({', '.join(regions)}); set the stage's region in cdk.json to deploy elsewhere.",
        )])
