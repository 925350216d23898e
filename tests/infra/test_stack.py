"""Assertions on the synthesized template; resources are found by type and properties,
never by logical id."""

import json

import pytest
from aws_cdk.assertions import Match

from customization.settings import Settings
from infra import constants as c
from infra.steps import ALL_FUNCTIONS


def test_the_pipeline_bucket_is_private_encrypted_versioned_and_tls_only(template):
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
                "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": Match.any_value()},
                "BucketKeyEnabled": True}]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": Match.object_like({"DestinationBucketName": Match.any_value()}),
        },
    )
    policies = template.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 2  # the pipeline bucket and its access-log bucket
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )


def test_the_bedrock_role_trusts_bedrock_only_for_this_accounts_jobs(template):
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "bedrock.amazonaws.com"},
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                            "ArnLike": {"aws:SourceArn": Match.any_value()},
                        },
                    }
                ],
                "Version": "2012-10-17",
            }
        },
    )


def bedrock_role_policy(template_dict):
    roles = {
        logical_id
        for logical_id, r in template_dict["Resources"].items()
        if r["Type"] == "AWS::IAM::Role"
        and r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service") == "bedrock.amazonaws.com"
    }
    (policy,) = [
        r for r in template_dict["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and {ref["Ref"] for ref in r["Properties"]["Roles"]} & roles
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_the_bedrock_role_reaches_only_the_pipeline_bucket(template_dict):
    buckets = [
        logical_id for logical_id, r in template_dict["Resources"].items()
        if r["Type"] == "AWS::S3::Bucket" and "LoggingConfiguration" in r["Properties"]
    ]
    statements = bedrock_role_policy(template_dict)
    for statement in statements:
        actions = set(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if actions == {"bedrock:InvokeModel"}:  # evaluation jobs invoke the base model and the throughput
            assert all("bedrock" in str(r) for r in resources)
            continue
        if all(a.startswith("kms:") for a in actions):  # the data key, through S3 and Bedrock (its own test)
            continue
        if actions == {"lambda:InvokeFunction"}:  # a reinforcement job invokes the stack's grader, only
            assert [str(r) for r in resources] == [str(grader_arn(template_dict))]
            continue
        assert actions <= {"s3:GetObject", "s3:PutObject", "s3:ListBucket"}
        for resource in resources:
            assert buckets[0] in str(resource)
    assert any(s["Action"] == "bedrock:InvokeModel" for s in statements)


def test_one_function_per_step_with_tracing_json_logs_and_its_settings(template_dict):
    functions = [r["Properties"] for r in template_dict["Resources"].values()
                 if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"].startswith("customization.")]
    assert sorted(f["Handler"] for f in functions) == sorted(step.handler for step in ALL_FUNCTIONS)
    required = {name for name, field in Settings.model_fields.items() if field.is_required()}
    for function in functions:
        assert function["Runtime"] == "python3.14"
        assert function["TracingConfig"] == {"Mode": "Active"}
        assert function["LoggingConfig"]["LogFormat"] == "JSON"
        assert "S3Key" in function["Code"]  # Code.from_asset, not inline code or an image
        assert required <= set(function["Environment"]["Variables"])


def test_each_function_has_its_own_role(template_dict):
    roles = [r["Properties"]["Role"] for r in template_dict["Resources"].values()
             if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"].startswith("customization.")]
    assert len({str(role) for role in roles}) == len(ALL_FUNCTIONS)


def test_a_standard_state_machine_with_full_logging_tracing_and_a_timeout(template, definition):
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "STANDARD",
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like({"Level": "ALL"}),
        },
    )
    assert definition["TimeoutSeconds"] == 48 * 3600


def test_outputs_name_the_state_machine_and_the_bucket(template):
    outputs = template.find_outputs("*")
    assert {"StateMachineArn", "BucketName", "DeadLetterQueueUrl"} <= set(outputs)


def test_the_run_ledger_is_a_dynamodb_table_with_ttl_and_point_in_time_recovery(template):
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "execution", "KeyType": "HASH"}, {"AttributeName": "resource", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": Match.any_value()},
        },
    )


def test_executions_that_skip_tear_down_trigger_the_cleanup(template_dict):
    rules = [r["Properties"] for r in template_dict["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    (status_rule,) = [r for r in rules if "EventPattern" in r and "FAILED" in str(r["EventPattern"])
                      and "SUCCEEDED" not in str(r["EventPattern"])]
    pattern = status_rule["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert sorted(pattern["detail"]["status"]) == ["ABORTED", "FAILED", "TIMED_OUT"]
    assert list(pattern["detail"]["stateMachineArn"][0]) == ["Ref"]  # this stack's machine only
    target = status_rule["Targets"][0]["Arn"]["Fn::GetAtt"][0]
    handler = template_dict["Resources"][target]["Properties"]["Handler"]
    assert handler == "customization.handlers.clean_up_run.handler"


def test_the_janitor_runs_on_the_stage_schedule_and_may_read_executions(template_dict):
    rules = [r["Properties"] for r in template_dict["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    (schedule,) = [r for r in rules if "ScheduleExpression" in r]
    assert schedule["ScheduleExpression"] == "rate(1 hour)"
    target = schedule["Targets"][0]["Arn"]["Fn::GetAtt"][0]
    janitor = template_dict["Resources"][target]["Properties"]
    assert janitor["Handler"] == "customization.handlers.janitor.handler"
    assert "STATE_MACHINE_ARN" in janitor["Environment"]["Variables"]
    policies = [r["Properties"]["PolicyDocument"]["Statement"] for r in template_dict["Resources"].values()
                if r["Type"] == "AWS::IAM::Policy" and {"Ref": janitor["Role"]["Fn::GetAtt"][0]} in r["Properties"]["Roles"]]
    actions = {a for statements in policies for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert {"states:DescribeExecution", "bedrock:DeleteProvisionedModelThroughput", "bedrock:ListTagsForResource"} <= actions
    assert not any(a.startswith("bedrock:Create") for a in actions)


def test_request_files_start_runs_and_every_run_end_is_announced(template_dict):
    rules = [r["Properties"] for r in template_dict["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    by_source = {}
    for rule in rules:
        if "EventPattern" in rule:
            target = rule["Targets"][0]["Arn"]["Fn::GetAtt"][0]
            by_source.setdefault(rule["EventPattern"]["source"][0], []).append(
                (rule["EventPattern"], template_dict["Resources"][target]["Properties"]["Handler"])
            )
    ((files, handler),) = by_source["aws.s3"]
    assert handler == "customization.handlers.start_from_request.handler"
    assert files["detail-type"] == ["Object Created"]
    assert files["detail"]["object"]["key"] == [{"wildcard": "requests/*.json"}]
    handlers = {h: p["detail"]["status"] for p, h in by_source["aws.states"]}
    assert sorted(handlers["customization.handlers.notify_run.handler"]) == ["ABORTED", "FAILED", "SUCCEEDED", "TIMED_OUT"]
    buckets = [r["Properties"] for r in template_dict["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    assert any(b.get("NotificationConfiguration", {}).get("EventBridgeConfiguration") for b in buckets) or any(
        r["Type"] == "Custom::S3BucketNotifications" for r in template_dict["Resources"].values()
    )


def test_the_notification_topic_is_encrypted_with_a_key_the_alarms_may_use_and_tls_only(template_dict):
    resources = template_dict["Resources"]
    (topic,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::SNS::Topic"]
    # A key of this stack, not the AWS managed alias/aws/sns, whose policy no service principal may use.
    key_id = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = resources[key_id]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
    (alarms,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"]
                 if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert set(alarms["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert set(alarms["Condition"]) == {"StringEquals", "ArnLike"} and "aws:SourceAccount" in alarms["Condition"]["StringEquals"]
    assert ":alarm:*" in json.dumps(alarms["Condition"]["ArnLike"])
    # Each function that publishes may use the key (the topic's grant).
    publishers = [r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"
                  and any("sns:Publish" in json.dumps(s["Action"]) for s in r["Properties"]["PolicyDocument"]["Statement"])]
    assert publishers
    for policy in publishers:
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any("kms:GenerateDataKey*" in json.dumps(s["Action"]) and key_id in json.dumps(s["Resource"]) for s in statements)
    (policy,) = [r["Properties"] for r in template_dict["Resources"].values() if r["Type"] == "AWS::SNS::TopicPolicy"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in policy["PolicyDocument"]["Statement"])


def test_a_dashboard_and_alarms_on_failed_runs_and_janitor_deletions(template_dict):
    resources = template_dict["Resources"].values()
    assert [r for r in resources if r["Type"] == "AWS::CloudWatch::Dashboard"]
    alarms = [r["Properties"] for r in resources if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert sorted(a["MetricName"] for a in alarms) == ["ApproximateNumberOfMessagesVisible", "ExecutionsFailed", "JanitorDeletions"]
    for alarm in alarms:
        assert alarm["Threshold"] == 1 and len(alarm["AlarmActions"]) == 1  # the notification topic


def test_no_delivery_is_lost_silently_every_target_retries_then_keeps_the_event(template_dict):
    resources = template_dict["Resources"]
    (queue_id,) = [logical_id for logical_id, r in resources.items() if r["Type"] == "AWS::SQS::Queue"]
    queue = resources[queue_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True and queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    rules = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    targets = [t for rule in rules for t in rule["Targets"]]
    assert len(targets) == len(rules) == 5
    for target in targets:
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 2 and target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    # EventBridge may put undelivered events there, for these rules only; TLS only.
    (policy,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::SQS::QueuePolicy"]
    statements = policy["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements)
    senders = [s for s in statements if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    assert senders and all(s["Action"] == "sqs:SendMessage" and "aws:SourceArn" in s["Condition"]["ArnEquals"] for s in senders)


def test_synthesis_needs_no_lambda_runtime_package():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for path in (root / "infra").rglob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {m for m in imported if m.startswith(("aws_lambda_powertools", "customization.observability", "boto3"))}, path


SCHEDULE = {"name": "weekly", "expression": "cron(0 6 ? * MON *)",
            "request": {"base_model": "nova-lite", "training_data": "s3://my-bucket/datasets/train.jsonl"}}


def test_stage_schedules_start_runs_through_eventbridge_scheduler(tmp_path):
    from aws_cdk.assertions import Template

    from infra.app_builder import build_app

    app, stack, _ = build_app(outdir=str(tmp_path), context={"stage": "dev", "stage_overrides": {"schedules": [SCHEDULE]}},
                              bundling=False)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::Scheduler::Schedule", {
        "ScheduleExpression": "cron(0 6 ? * MON *)",
        "Target": Match.object_like({"Input": json.dumps(SCHEDULE["request"]), "RetryPolicy": {"MaximumRetryAttempts": 3},
                                     "DeadLetterConfig": {"Arn": Match.any_value()}}),
    })


def test_a_scheduled_request_that_breaks_the_schema_fails_synthesis():
    from infra.app_builder import build_app
    from infra.config import ConfigError

    bad = {**SCHEDULE, "request": {**SCHEDULE["request"], "hyperparameters": {"epochs": 3}}}
    with pytest.raises(ConfigError, match="unknown name.*epochs"):
        build_app(context={"stage": "dev", "stage_overrides": {"schedules": [bad]}}, bundling=False)


def test_job_progress_notices_filter_on_job_status_not_status(template_dict):
    rules = [r["Properties"] for r in template_dict["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    (rule,) = [r for r in rules if r.get("EventPattern", {}).get("source") == ["aws.bedrock"]]
    assert rule["EventPattern"]["detail-type"] == ["Model Customization Job State Change"]
    assert set(rule["EventPattern"]["detail"]) == {"jobStatus"}


def step_role_statements(template_dict, state: str) -> list[dict]:
    """The statements of the role of the function that runs `state`."""
    (step,) = [step for step in ALL_FUNCTIONS if step.state == state]
    (function,) = [r["Properties"] for r in template_dict["Resources"].values()
                   if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == step.handler]
    role = function["Role"]["Fn::GetAtt"][0]
    return [statement for r in template_dict["Resources"].values()
            if r["Type"] == "AWS::IAM::Policy" and {ref["Ref"] for ref in r["Properties"]["Roles"]} == {role}
            for statement in r["Properties"]["PolicyDocument"]["Statement"]]


@pytest.mark.parametrize("who", ["Bedrock's service role (the job asks the teacher)", c.SCORE_SAMPLES])
def test_each_distillation_teacher_may_be_invoked_and_no_withdrawn_one(template_dict, who):
    from customization.registry import load_registry

    registry = load_registry()
    statements = bedrock_role_policy(template_dict) if who.startswith("Bedrock") else step_role_statements(template_dict, who)
    invocable = " ".join(json.dumps(s["Resource"]) for s in statements if "bedrock:InvokeModel" in s["Action"])
    for teacher in registry.distillation_teachers:
        named = f"foundation-model/{teacher.model_id}"
        if teacher.withdrawn:
            assert named not in invocable, teacher.model_id
            continue
        if registry.profile_geography(teacher.invocation_id):  # the profile, and the model in every region it routes to
            assert f":inference-profile/{teacher.invocation_id}" in invocable
            for region in registry.profile_geography(teacher.invocation_id).regions:
                assert f"arn:\", {{\"Ref\": \"AWS::Partition\"}}, \":bedrock:{region}::{named}" in invocable, region
        else:
            # the stack's own region: a distillation job invokes its teacher where it runs
            assert f'":bedrock:", {{"Ref": "AWS::Region"}}, "::{named}"' in invocable, teacher.model_id


def function_of(template_dict, state: str) -> tuple[str, dict]:
    (step,) = [step for step in ALL_FUNCTIONS if step.state == state]
    ((logical_id, props),) = [(i, r["Properties"]) for i, r in template_dict["Resources"].items()
                              if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == step.handler]
    return logical_id, props


def grader_arn(template_dict) -> dict:
    return {"Fn::GetAtt": [function_of(template_dict, c.GRADE_SAMPLES)[0], "Arn"]}


@pytest.mark.parametrize("state", [c.VALIDATE_REQUEST, c.SCORE_SAMPLES])
def test_the_steps_that_try_and_score_with_the_grader_may_invoke_it_and_know_it(template_dict, state):
    invoked = [s["Resource"] for s in step_role_statements(template_dict, state) if s["Action"] == "lambda:InvokeFunction"]
    assert invoked == [grader_arn(template_dict)]
    variables = function_of(template_dict, state)[1]["Environment"]["Variables"]
    assert variables["GRADER_FUNCTION_ARN"] == grader_arn(template_dict) and variables["ALLOWED_GRADER_ARNS"] == ""


def test_the_grader_may_invoke_only_the_registrys_judges(template_dict):
    from customization.registry import load_registry

    statements = step_role_statements(template_dict, c.GRADE_SAMPLES)
    invoke = [s for s in statements if "bedrock:InvokeModel" in s["Action"]]
    assert len(invoke) == 1 and not [s for s in statements if s not in invoke and "logs:" not in json.dumps(s["Action"])
                                     and "xray:" not in json.dumps(s["Action"])]
    named = json.dumps(invoke[0]["Resource"])
    for judge in load_registry().grader_judges:
        assert judge.invocation_id in named
    assert "*" not in named.replace("arn:", "")


def test_a_stage_grader_may_be_invoked_by_bedrock_and_named_by_requests(tmp_path):
    from infra.app_builder import build_app

    team_grader = "arn:aws:lambda:us-east-1:123456789012:function:team-grader"
    app, stack, _ = build_app(outdir=str(tmp_path), context={"stage": "dev", "stage_overrides": {"reinforcement_graders": [team_grader]}},
                              bundling=False)
    template_dict = app.synth().get_stack_by_name(stack.stack_name).template
    (invoked,) = [s["Resource"] for s in bedrock_role_policy(template_dict) if s["Action"] == "lambda:InvokeFunction"]
    assert sorted(map(json.dumps, invoked)) == sorted(map(json.dumps, [grader_arn(template_dict), team_grader]))
    assert function_of(template_dict, c.VALIDATE_REQUEST)[1]["Environment"]["Variables"]["ALLOWED_GRADER_ARNS"] == team_grader


def test_a_stage_grader_that_is_not_a_function_arn_fails_synthesis(tmp_path):
    from infra.app_builder import build_app
    from infra.config import ConfigError

    with pytest.raises(ConfigError, match="reinforcement_graders"):
        build_app(outdir=str(tmp_path), context={"stage": "dev", "stage_overrides": {"reinforcement_graders": ["team-grader"]}},
                  bundling=False)


def test_invocation_logging_writes_to_the_pipeline_bucket_for_this_account_only(tmp_path):
    from aws_cdk.assertions import Template

    from infra.app_builder import build_app

    app, stack, _ = build_app(outdir=str(tmp_path), context={"stage": "dev", "stage_overrides": {"invocation_logging": True}},
                              bundling=False)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::S3::BucketPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({
            "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "s3:PutObject", "Effect": "Allow",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                          "ArnLike": {"aws:SourceArn": Match.any_value()}},
        })])}})
    (key,) = template.find_resources("AWS::KMS::Key").values()
    (writes,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Principal") == {"Service": "bedrock.amazonaws.com"}]
    assert writes["Action"] == "kms:GenerateDataKey" and "aws:SourceAccount" in writes["Condition"]["StringEquals"]
    (setting,) = template.find_resources("Custom::AWS").values()
    create = json.dumps(setting["Properties"]["Create"])
    assert "putModelInvocationLoggingConfiguration" in create and "invocation-logs" in create
    assert "deleteModelInvocationLoggingConfiguration" in json.dumps(setting["Properties"]["Delete"])
    assert "InvocationLogsUri" in template.to_json()["Outputs"]
    app.synth()  # cdk-nag finds nothing unacknowledged (it fails the synthesis otherwise)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert all(p["violations"] == [] for p in report["pluginReports"])


def test_without_the_stage_setting_no_invocation_logging_is_set(template_dict):
    assert not [r for r in template_dict["Resources"].values() if r["Type"] == "Custom::AWS"]


def data_key(template_dict) -> str:
    (key,) = [i for i, r in template_dict["Resources"].items() if r["Type"] == "AWS::KMS::Key"]
    return key


def test_one_customer_managed_key_encrypts_the_bucket_logs_ledger_and_topic(template_dict):
    resources, key = template_dict["Resources"], data_key(template_dict)
    assert resources[key]["Properties"]["EnableKeyRotation"] is True and resources[key]["DeletionPolicy"] == "Retain"
    arn = {"Fn::GetAtt": [key, "Arn"]}
    buckets = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::S3::Bucket"]
    encryption = [b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0] for b in buckets]
    # The pipeline bucket under the key (with a bucket key); the access-log bucket SSE-S3, which server access logging needs.
    assert sorted(json.dumps(e["ServerSideEncryptionByDefault"], sort_keys=True) for e in encryption) == sorted([
        json.dumps({"KMSMasterKeyID": arn, "SSEAlgorithm": "aws:kms"}, sort_keys=True), json.dumps({"SSEAlgorithm": "AES256"})])
    log_groups = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert len(log_groups) == len(ALL_FUNCTIONS) + 1 and all(g["KmsKeyId"] == arn for g in log_groups)  # and the state machine's
    tables = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) == 2 and all(t["SSESpecification"]["KMSMasterKeyId"] == arn for t in tables)  # the ledger, the versions
    (topic,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::SNS::Topic"]
    assert topic["KmsMasterKeyId"] == arn
    logs = [s for s in resources[key]["Properties"]["KeyPolicy"]["Statement"]
            if s.get("Principal") == {"Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}]
    assert len(logs) == 1 and "kms:EncryptionContext:aws:logs:arn" in logs[0]["Condition"]["ArnLike"]


def key_statements(statements, key: str) -> dict[str, set[str]]:
    """The data key's actions, by the service they may be used through (kms:ViaService); the
    topic's grant to its publishers (CDK's) names none."""
    found: dict[str, set[str]] = {}
    for s in statements:
        if s["Resource"] == {"Fn::GetAtt": [key, "Arn"]}:
            if "Condition" not in s:
                service = "topic"
            else:
                via = s["Condition"]["StringEquals"]["kms:ViaService"]  # {"Fn::Join": ["", ["s3.", region, ".amazonaws.com"]]}
                service = via["Fn::Join"][1][0].rstrip(".")
            found.setdefault(service, set()).update(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    return found


def test_the_bedrock_role_uses_the_key_only_through_s3_and_bedrock(template_dict):
    uses = key_statements(bedrock_role_policy(template_dict), data_key(template_dict))
    assert uses == {"s3": {"kms:Decrypt", "kms:GenerateDataKey"},
                    "bedrock": {"kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"}}


def test_each_function_uses_the_key_only_for_the_data_it_touches(template_dict):
    key = data_key(template_dict)
    for step in ALL_FUNCTIONS:
        uses = key_statements(step_role_statements(template_dict, step.state), key)
        touched = {name for access in step.access for name in access.resources}
        assert ("s3" in uses) == bool(touched & {"bucket_objects", "run_objects", "request_files"}), step.state
        assert ("dynamodb" in uses) == bool(touched & {"ledger", "model_versions"}), step.state
        assert ("bedrock" in uses) == (step.state in (c.DEPLOY_MODEL, c.SCORE_SAMPLES)), step.state
        assert ("topic" in uses) == ("topic" in touched), step.state  # the topic's own grant, for publishers
    assert function_of(template_dict, c.SUBMIT_JOB)[1]["Environment"]["Variables"]["DATA_KEY_ARN"] == {"Fn::GetAtt": [key, "Arn"]}


def test_a_stage_may_name_its_own_key(tmp_path):
    from infra.app_builder import build_app

    existing = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    app, stack, _ = build_app(outdir=str(tmp_path), context={"stage": "dev", "stage_overrides": {"kms_key_arn": existing}},
                              bundling=False)
    template_dict = app.synth().get_stack_by_name(stack.stack_name).template
    assert not [r for r in template_dict["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    tables = [r["Properties"] for r in template_dict["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) == 2 and all(t["SSESpecification"]["KMSMasterKeyId"] == existing for t in tables)
