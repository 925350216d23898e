"""The simulated Bedrock rejects malformed requests as AWS would, and honours idempotency."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError
from moto import mock_aws

from bedrock_customize.offline import simulator as sim
from bedrock_customize.offline.authorization import RolePolicies
from customization.registry import load_registry

ROLE = "arn:aws:iam::123456789012:role/bedrock"


@pytest.fixture
def bedrock():
    simulated = sim.SimulatedBedrock(account="123456789012", region="us-east-1", registry=load_registry(), log=lambda _: None)
    with mock_aws(), sim.activate(simulated):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="data")
        s3.put_object(Bucket="data", Key="train.jsonl", Body=b'{"prompt": "p", "completion": "c"}\n')
        yield boto3.client("bedrock", region_name="us-east-1"), simulated


def job(**change):
    return {
        "jobName": "job-1", "customModelName": "model-1", "roleArn": ROLE, "clientRequestToken": "token1",
        "baseModelIdentifier": "amazon.nova-lite-v1:0:300k", "customizationType": "FINE_TUNING",
        "hyperParameters": {"epochCount": "1"},
        "trainingDataConfig": {"s3Uri": "s3://data/train.jsonl"}, "outputDataConfig": {"s3Uri": "s3://data/out/"},
        **change,
    }


def distill(student: str, *, teacher: str | None = None, length: int | None = None) -> dict:
    change = {"customizationType": "DISTILLATION", "baseModelIdentifier": student, "hyperParameters": {}}
    if teacher:
        config = {"teacherModelIdentifier": teacher, **({"maxResponseLengthForInference": length} if length else {})}
        change["customizationConfig"] = {"distillationConfig": {"teacherModelConfig": config}}
    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"jobName": "job_with_underscores"}, "jobName"),
        ({"jobName": "j" * 64}, "at most 63"),
        ({"customizationType": "FINE-TUNING"}, "not one of"),
        ({"hyperParameters": {"epochCount": "9"}}, "outside the allowed range"),
        ({"trainingDataConfig": {"s3Uri": "s3://data/missing.jsonl"}}, "cannot read"),
        ({"baseModelIdentifier": "amazon.nova-lite-v1:0"}, "not available"),
        # Distillation: a teacher of this student, named as Bedrock invokes it, within its output limit.
        (distill("amazon.nova-lite-v1:0:300k"), "needs customizationConfig.distillationConfig"),
        (distill("amazon.nova-lite-v1:0:300k", teacher="meta.llama3-1-70b-instruct-v1:0"),
         "meta.llama3-1-70b-instruct-v1:0 cannot teach amazon.nova-lite-v1:0:300k"),
        (distill("amazon.nova-lite-v1:0:300k", teacher="amazon.nova-premier-v1:0"),
         "is invoked as us.amazon.nova-premier-v1:0"),
        (distill("amazon.nova-lite-v1:0:300k", teacher="amazon.nova-pro-v1:0", length=9000),
         "maxResponseLengthForInference 9000 is outside 1-5000"),
        ({"customizationConfig": {"distillationConfig": {"teacherModelConfig": {"teacherModelIdentifier": "amazon.nova-pro-v1:0"}}}},
         "only for DISTILLATION"),
    ],
)
def test_malformed_requests_fail_offline_with_a_validation_exception(bedrock, change, message):
    client, _ = bedrock
    with pytest.raises(ClientError) as caught:
        client.create_model_customization_job(**job(**change))
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert message in caught.value.response["Error"]["Message"]


def test_botocore_itself_rejects_a_missing_required_member(bedrock):
    client, _ = bedrock
    request = job()
    del request["roleArn"]
    with pytest.raises(ParamValidationError):
        client.create_model_customization_job(**request)


def test_a_repeated_client_request_token_creates_one_job(bedrock):
    client, simulated = bedrock
    first = client.create_model_customization_job(**job())["jobArn"]
    second = client.create_model_customization_job(**job())["jobArn"]
    assert first == second
    assert len(simulated.existing("customization_job")) == 1
    with pytest.raises(ClientError, match="ConflictException"):
        client.create_model_customization_job(**job(clientRequestToken="token2"))


def test_the_real_client_reads_jobs_by_name_and_by_arn(bedrock):
    client, _ = bedrock
    arn = client.create_model_customization_job(**job())["jobArn"]
    assert client.get_model_customization_job(jobIdentifier="job-1")["status"] == "InProgress"
    assert client.get_model_customization_job(jobIdentifier=arn)["jobArn"] == arn


def test_a_distillation_job_runs_with_its_teacher_answering_the_prompts(bedrock):
    client, simulated = bedrock
    arn = client.create_model_customization_job(**job(**distill(
        "amazon.nova-micro-v1:0:128k", teacher="amazon.nova-pro-v1:0", length=300)))["jobArn"]
    for _ in range(5):
        status = client.get_model_customization_job(jobIdentifier=arn)
    assert status["status"] == "Completed" and status["customizationType"] == "DISTILLATION"
    assert status["customizationConfig"]["distillationConfig"]["teacherModelConfig"]["maxResponseLengthForInference"] == 300


GRADER = "arn:aws:lambda:us-east-1:123456789012:function:grader"


def rft(grader: str | None = GRADER, **hyper) -> dict:
    change = {"customizationType": "REINFORCEMENT_FINE_TUNING", "baseModelIdentifier": "amazon.nova-2-lite-v1:0:256k",
              "hyperParameters": {}}
    if grader:
        change["customizationConfig"] = {"rftConfig": {"graderConfig": {"lambdaGrader": {"lambdaArn": grader}},
                                                       "hyperParameters": hyper}}
    return change


@pytest.fixture
def with_grader(bedrock):
    client, simulated = bedrock
    role = boto3.client("iam", region_name="us-east-1").create_role(RoleName="grader", AssumeRolePolicyDocument="{}")
    boto3.client("lambda", region_name="us-east-1").create_function(
        FunctionName="grader", Runtime="python3.12", Role=role["Role"]["Arn"], Handler="h.handler", Code={"ZipFile": b"x"})
    simulated.authorization = RolePolicies()
    simulated.authorization.statements[ROLE] = [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": GRADER},
                                                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}]
    return client, simulated


@pytest.mark.parametrize(("change", "code", "message"), [
    (rft(grader=None), "ValidationException", "needs customizationConfig.rftConfig.graderConfig.lambdaGrader"),
    ({**rft(), "hyperParameters": {"epochCount": "1"}}, "ValidationException", "takes its hyperparameters in rftConfig"),
    (rft(maxPromptLength=10**6), "ValidationException", "rftConfig.hyperParameters.maxPromptLength: 1000000 is outside"),
    (rft(grader="arn:aws:lambda:us-east-1:123456789012:function:missing"), "ValidationException", "does not exist"),
    ({**rft(), "customizationType": "FINE_TUNING", "hyperParameters": {"epochCount": "1"}}, "ValidationException",
     "rftConfig is only for REINFORCEMENT_FINE_TUNING"),
])
def test_reinforcement_jobs_bedrock_would_refuse_fail_offline(with_grader, change, code, message):
    client, _ = with_grader
    with pytest.raises(ClientError) as caught:
        client.create_model_customization_job(**job(**change))
    assert caught.value.response["Error"]["Code"] == code and message in caught.value.response["Error"]["Message"]


def test_a_reinforcement_job_needs_a_role_that_may_invoke_its_grader(with_grader):
    client, simulated = with_grader
    assert client.create_model_customization_job(**job(**rft(epochCount=1)))["jobArn"]
    simulated.authorization.statements[ROLE][0] = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "arn:other"}
    with pytest.raises(ClientError) as caught:
        client.create_model_customization_job(**job(**rft(), jobName="job-2", clientRequestToken="token2"))
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"{ROLE} may not invoke the grader {GRADER} (lambda:InvokeFunction)" in caught.value.response["Error"]["Message"]


def logs_job(uri: str = "s3://data/logs/", customization_type: str = "DISTILLATION") -> dict:
    change = distill("amazon.nova-micro-v1:0:128k", teacher="amazon.nova-pro-v1:0")
    change["customizationType"] = customization_type
    if customization_type != "DISTILLATION":
        change.pop("customizationConfig")
        change["hyperParameters"] = {"epochCount": "1"}
    change["trainingDataConfig"] = {"invocationLogsConfig": {"invocationLogSource": {"s3Uri": uri}, "usePromptResponse": True}}
    return change


def test_a_job_from_invocation_logs_needs_logs_it_may_read(bedrock):
    client, simulated = bedrock
    boto3.client("s3", region_name="us-east-1").put_object(Bucket="data", Key="logs/part.json", Body=b"{}\n")
    for change, code, message in [
        (logs_job("s3://data/nothing-here/"), "ValidationException", "no invocation logs under s3://data/nothing-here/"),
        (logs_job(customization_type="FINE_TUNING"), "ValidationException", "invocationLogsConfig is not for FINE_TUNING"),
    ]:
        with pytest.raises(ClientError) as caught:
            client.create_model_customization_job(**job(**change))
        assert caught.value.response["Error"]["Code"] == code and message in caught.value.response["Error"]["Message"]
    simulated.authorization = RolePolicies()
    simulated.authorization.statements[ROLE] = [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::data"}]
    with pytest.raises(ClientError) as caught:
        client.create_model_customization_job(**job(**logs_job()))
    assert f"{ROLE} may not s3:GetObject on arn:aws:s3:::data/logs/" in caught.value.response["Error"]["Message"]
    simulated.authorization.statements[ROLE].append({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"})
    assert client.create_model_customization_job(**job(**logs_job()))["jobArn"]


def test_bedrock_reads_the_training_data_as_the_jobs_role(bedrock):
    client, simulated = bedrock
    simulated.authorization = RolePolicies()
    simulated.authorization.statements[ROLE] = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}]
    with pytest.raises(ClientError) as caught:
        client.create_model_customization_job(**job())
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "may not s3:GetObject on arn:aws:s3:::data/train.jsonl" in caught.value.response["Error"]["Message"]
    simulated.authorization.statements[ROLE].append({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    simulated.authorization.statements[ROLE].append({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"})
    with pytest.raises(ClientError, match="AccessDeniedException"):  # an explicit Deny wins, as in IAM
        client.create_model_customization_job(**job())


def test_a_custom_model_key_must_exist_and_be_usable_by_the_jobs_role(bedrock):
    client, simulated = bedrock
    with pytest.raises(ClientError, match="is not a key of this account"):
        client.create_model_customization_job(**job(customModelKmsKeyId="arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"))
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    simulated.authorization = RolePolicies()
    simulated.authorization.statements[ROLE] = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"},
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], "Resource": key},
    ]
    with pytest.raises(ClientError) as caught:
        client.create_model_customization_job(**job(customModelKmsKeyId=key))
    assert f"may not kms:CreateGrant on {key}" in caught.value.response["Error"]["Message"]
    simulated.authorization.statements[ROLE][1]["Action"].append("kms:CreateGrant")
    assert client.create_model_customization_job(**job(customModelKmsKeyId=key))["jobArn"]


def _trained(client, **change) -> str:
    """Run a job to completion; its custom model's ARN."""
    arn = client.create_model_customization_job(**job(**change))["jobArn"]
    for _ in range(5):
        status = client.get_model_customization_job(jobIdentifier=arn)
        if status["status"] == "Completed":
            return status["outputModelArn"]
    raise AssertionError(f"job {arn} did not complete")


def test_bedrock_enforces_the_concurrent_jobs_quota(bedrock):
    client, simulated = bedrock
    for n in (1, 2):  # the simulated account's quota is 2
        client.create_model_customization_job(**job(jobName=f"job-{n}", customModelName=f"m-{n}", clientRequestToken=f"t{n}"))
    with pytest.raises(ClientError, match="ServiceQuotaExceededException"):
        client.create_model_customization_job(**job(jobName="job-3", customModelName="m-3", clientRequestToken="t3"))
    assert simulated.peak_jobs_in_progress == 2


def test_a_custom_model_is_customized_again_only_where_the_registry_says_the_guide_allows(bedrock):
    client, _ = bedrock
    first = _trained(client)
    # Nova Lite's fine-tuning may start from its own fine-tuned model (the registry's continues_from).
    again = job(jobName="job-2", customModelName="model-2", clientRequestToken="token2", baseModelIdentifier=first)
    assert client.create_model_customization_job(**again)["jobArn"]
    titan = _trained(client, jobName="cpt", customModelName="cpt-model", clientRequestToken="t-cpt",
                     baseModelIdentifier="amazon.titan-text-express-v1:0:8k", customizationType="CONTINUED_PRE_TRAINING",
                     hyperParameters={"epochCount": "1"})
    with pytest.raises(ClientError, match="cannot start from a custom model made by CONTINUED_PRE_TRAINING"):
        client.create_model_customization_job(**job(jobName="ft", customModelName="ft-model", clientRequestToken="t-ft",
                                                    baseModelIdentifier=titan, hyperParameters={"epochCount": "1"}))
