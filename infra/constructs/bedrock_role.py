from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct


class BedrockServiceRole(Construct):
    """The role Bedrock assumes to run customization jobs (and, when asked, evaluation jobs).

    Trusted by bedrock.amazonaws.com only for this account's customization and evaluation
    jobs in this region (aws:SourceAccount and aws:SourceArn); reads and writes the pipeline
    bucket and nothing else there, and invokes the registry's distillation teachers (`teachers`,
    their ARNs) and nothing else. Exposes `role`."""

    def __init__(self, scope: Construct, id_: str, *, bucket: s3.IBucket, teachers: list[str]) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            description="Assumed by Amazon Bedrock to run this stack's model customization jobs",
            assumed_by=iam.ServicePrincipal(
                "bedrock.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": [
                            stack.format_arn(service="bedrock", resource=resource, resource_name="*")
                            for resource in ("model-customization-job", "evaluation-job")
                        ]
                    },
                },
            ),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject"], resources=[bucket.arn_for_objects("*")])
        )
        self.role.add_to_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
        # A distillation job has the teacher answer the training prompts, as this role.
        self.role.add_to_policy(iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=teachers))

    def allow_graders(self, arns: list[str]) -> None:
        """A reinforcement fine-tuning job has the grader score each answer, as this role: the
        stack's grader and the stage's reinforcement_graders, nothing else."""
        self.role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=arns))
