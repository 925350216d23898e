from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


class PipelineBucket(Construct):
    """The bucket of datasets, run reports and job outputs: public access blocked, TLS only,
    encrypted with the stage's data key (SSE-KMS with an S3 bucket key, so reads do not each
    call KMS), versioned, server access logs in a second bucket. The access-log bucket keeps
    SSE-S3: S3 server access logging cannot deliver to a bucket encrypted with a KMS key. Both
    are retained when the stack is deleted: they hold the only copy of the users' data.

    Exposes `bucket` and `access_logs`."""

    def __init__(self, scope: Construct, id_: str, *, key: kms.IKey) -> None:
        super().__init__(scope, id_)
        common = {
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "enforce_ssl": True,
            "versioned": True,
            "removal_policy": cdk.RemovalPolicy.RETAIN,
        }
        self.access_logs = s3.Bucket(self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, **common)  # type: ignore[arg-type]
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="pipeline-bucket/",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            event_bridge_enabled=True,  # request files under requests/ start runs
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=cdk.Duration.days(30))],
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            **common,  # type: ignore[arg-type]
        )
