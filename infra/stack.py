from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from customization.registry import Registry
from infra import nag
from infra.config import StageConfig
from infra.constructs.bedrock_role import BedrockServiceRole
from infra.constructs.functions import LifecycleFunctions
from infra.constructs.storage import PipelineBucket
from infra.constructs.workflow import LifecycleWorkflow


class ModelCustomizationStack(cdk.Stack):
    """The deployment unit: composes the components, wires them, declares the outputs."""

    def __init__(self, scope: Construct, id_: str, *, config: StageConfig, registry: Registry, **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        storage = PipelineBucket(self, "Pipeline")
        bedrock_role = BedrockServiceRole(self, "BedrockService", bucket=storage.bucket)
        functions = LifecycleFunctions(
            self, "Steps", config=config, registry=registry, bucket=storage.bucket, bedrock_role=bedrock_role.role
        )
        workflow = LifecycleWorkflow(self, "Lifecycle", config=config, functions=dict(functions.by_state))

        nag.acknowledge(self, bucket=storage.bucket, functions=functions.by_state.values())
        cdk.Tags.of(self).add("bedrock-customize:stack", self.stack_name)
        cdk.CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "BucketName", value=storage.bucket.bucket_name)
        cdk.CfnOutput(self, "BedrockRoleArn", value=bedrock_role.role.role_arn)
