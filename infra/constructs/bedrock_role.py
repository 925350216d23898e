from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.steps import KEY_ACTIONS

# What the service role does with the data key, by the service that calls KMS for it: S3 reads
# and writes the bucket's objects; Bedrock encrypts the custom model (and grants itself its use).
KEY_USE = {"s3": KEY_ACTIONS["s3"], "bedrock": KEY_ACTIONS["bedrock"]}


class BedrockServiceRole(Construct):
    """The role Bedrock assumes to run customization jobs (and, when asked, evaluation jobs).

    Trusted by bedrock.amazonaws.com only for this account's customization and evaluation
    jobs in this region (aws:SourceAccount and aws:SourceArn); reads and writes the pipeline
    bucket and nothing else there, and invokes the registry's distillation teachers (`teachers`,
    their ARNs) and nothing else. It uses the stage's data key only through S3 (the bucket's
    objects) and through Bedrock (the custom model it encrypts, `customModelKmsKeyId`).
    Exposes `role`."""

    def __init__(self, scope: Construct, id_: str, *, bucket: s3.IBucket, teachers: list[str], key: kms.IKey) -> None:
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
        for via, actions in KEY_USE.items():
            self.role.add_to_policy(iam.PolicyStatement(
                actions=list(actions), resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"{via}.{stack.region}.amazonaws.com"}},
            ))
        # A distillation job has the teacher answer the training prompts, as this role.
        self.role.add_to_policy(iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=teachers))

    def allow_graders(self, arns: list[str]) -> None:
        """A reinforcement fine-tuning job has the grader score each answer, as this role: the
        stack's grader and the stage's reinforcement_graders, nothing else."""
        self.role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=arns))
