"""cdk-nag: the AwsSolutions pack runs on the whole app; every acknowledged finding is
listed here, once, with the reason it is acceptable. So are the IaC scanner's (checkov's)
skips, written into the template's own metadata where a reviewer's scan reads them."""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
import jsii
from cdk_nag import AwsSolutionsChecks
from constructs import Construct, IConstruct

ACKNOWLEDGED: dict[str, str] = {
    "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]": (
        "Only on CDK's own custom-resource functions: BucketNotificationsHandler, which switches on the "
        "bucket's EventBridge notifications at deployment, and (with the stage's invocation_logging) the "
        "AwsCustomResource that sets Bedrock's invocation logging; they write their logs and nothing else."
    ),
    "AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]": (
        "Publishing to the notification topic needs GenerateDataKey on the topic's own key (named "
        "by its ARN); CDK's topic grant names the action family."
    ),
    "AwsSolutions::AwsSolutions-SQS3": (
        "The only queue is itself the dead-letter queue of the EventBridge rule and Scheduler "
        "targets (cdk-nag sees no SQS redrive policy pointing at it); a queue behind it would hold nothing."
    ),
    "AwsSolutions::AwsSolutions-S1": (
        "The access-log bucket is the target of the pipeline bucket's server access logs; "
        "logging it into itself would loop."
    ),
    "AwsSolutions::AwsSolutions-IAM5[Resource::*]": (
        "X-Ray's PutTraceSegments/PutTelemetryRecords, the CloudWatch Logs delivery actions of "
        "Step Functions, Bedrock's ListProvisionedModelThroughputs/ListCustomModelDeployments "
        "(the janitor's listing), and the pre-flight's GetFoundationModelAvailability (model access), "
        "ListServiceQuotas, ListModelCustomizationJobs and ListCustomModels (quota headroom), and "
        "Put/DeleteModelInvocationLoggingConfiguration (the stage's invocation_logging, an account "
        "setting) support no resource-level permissions; nor do EC2's Describe* calls that Lambda and "
        "Bedrock make to place network interfaces (the stage's vpc)."
    ),
    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:model-customization-job/*]": (
        "Job ARNs end in an id Bedrock assigns at creation; the account and region are fixed."
    ),
    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:custom-model/*]": (
        "Custom model ARNs end in an id Bedrock assigns at creation; the account and region are fixed."
    ),
    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:provisioned-model/*]": (
        "Provisioned throughput ARNs end in an id Bedrock assigns at creation; the account and region are fixed."
    ),
    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:custom-model-deployment/*]": (
        "Deployment ARNs end in an id Bedrock assigns at creation; the account and region are fixed."
    ),
    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:evaluation-job/*]": (
        "Evaluation job ARNs end in an id Bedrock assigns at creation; the account and region are fixed."
    ),
    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:inference-profile/*]": (
        "Base models such as Llama 3.2 are invoked through system inference profiles, whose ids "
        "differ by geography; the account and region are fixed."
    ),
    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]": (
        "With the stage's vpc: Lambda (with each function's role) and Bedrock (with the service role, for a "
        "customization job) create network interfaces whose ids exist only then, in the stage's subnets and "
        "security groups; Bedrock's are further held to interfaces tagged BedrockManaged for a job of this "
        "account and region (the user guide's conditions)."
    ),
}


# Findings whose ids name a resource's logical id, filled in by `acknowledge`.
BUCKET_OBJECTS = (
    "AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]",
    "Bedrock and the steps read datasets and write outputs under per-run keys that only exist "
    "at run time; the grant stays inside the pipeline bucket.",
)
BUCKET_REQUEST_FILES = (
    "AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket}.Arn>/requests/*]",
    "The trigger reads the request files users write under requests/ and writes a rejection "
    "file beside an invalid one; their names are the users' choice.",
)
BUCKET_RUN_REPORTS = (
    "AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket}.Arn>/runs/*]",
    "Run reports are written under runs/<execution name>/, a key known only at run time.",
)
EXECUTIONS = (
    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<{machine}.Name>:*]",
    "The janitor reads the status of this state machine's executions, whose names are only "
    "known at run time.",
)
MODEL_PARAMETERS = (
    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/bedrock-customize/{stack}/models/*]",
    "Register Version writes one parameter per model name a request gives (its current version's ARN); "
    "the names are the users', and the grant stays under this stack's own prefix.",
)
FUNCTION_VERSIONS = (
    "AwsSolutions::AwsSolutions-IAM5[Resource::<{function}.Arn>:*]",
    "Granted by CDK's LambdaInvoke so the state machine may invoke any version or alias of "
    "this one step function.",
)


# checkov's findings that are not fixed, and why; each is skipped in the metadata of the
# resources it is about (ScannerSkips), so a reviewer's own scan sees the reason too.
SCANNER_SKIPS: dict[str, str] = {
    "CKV_AWS_115": (
        "No reserved concurrency: reserving it takes from the account's unreserved pool, which new "
        "accounts keep at 10, and a deployment asking for more fails; the steps run one run's Tasks "
        "at a time (the Map has its own max concurrency)."
    ),
    "CKV_AWS_117": (
        "Outside a VPC: the lifecycle functions run in private subnets when the stage sets `vpc` (and pass "
        "this check); without it they call only AWS APIs, over TLS and signed with their roles. CDK's "
        "deployment custom resources stay outside any VPC: they run only while CloudFormation deploys."
    ),
    "CKV_AWS_173": (
        "The functions' environment variables hold resource names and ARNs, no secrets; Lambda "
        "encrypts them at rest with its AWS managed key."
    ),
    "CKV_AWS_116": (
        "Invoked synchronously (a Task of the state machine, whose Catch takes every error; the grader, "
        "called by Bedrock; CDK's deployment custom resources): a dead-letter queue serves asynchronous "
        "invocations only. The asynchronously invoked functions have one."
    ),
    "CKV_AWS_18": (
        "The access-log bucket is the target of the pipeline bucket's server access logs; logging it "
        "into itself would loop."
    ),
    "CKV_AWS_27": (
        "The dead-letter queue is encrypted with SQS-managed keys (SSE-SQS), which EventBridge and "
        "Lambda may write to without a key policy to keep in step with the queue's writers."
    ),
}


@jsii.implements(cdk.IAspect)
class ScannerSkips:
    """Writes each resource's checkov skips (SCANNER_SKIPS) into its template metadata."""

    def __init__(self, *, asynchronous: set[str], access_logs: Construct, in_vpc: set[str]) -> None:
        self.asynchronous, self.access_logs, self.in_vpc = asynchronous, access_logs, in_vpc

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, cdk.CfnResource):
            return
        kind = node.cfn_resource_type
        if kind == "AWS::Lambda::Function":
            ids = ["CKV_AWS_115", "CKV_AWS_173"]
            if node.node.path not in self.in_vpc:
                ids.append("CKV_AWS_117")
            if node.node.path not in self.asynchronous:
                ids.append("CKV_AWS_116")
        elif kind == "AWS::S3::Bucket" and node.node.scope is self.access_logs:
            ids = ["CKV_AWS_18"]
        elif kind == "AWS::SQS::Queue":
            ids = ["CKV_AWS_27"]
        else:
            return
        node.add_metadata("checkov", {"skip": [{"id": i, "comment": SCANNER_SKIPS[i]} for i in ids]})


def skip_scanner_findings(
    stack: cdk.Stack, *, asynchronous: Iterable[Construct], access_logs: Construct, in_vpc: Iterable[Construct] = ()
) -> None:
    def paths(functions: Iterable[Construct]) -> set[str]:
        return {function.node.default_child.node.path for function in functions}  # type: ignore[union-attr]

    cdk.Aspects.of(stack).add(ScannerSkips(asynchronous=paths(asynchronous), access_logs=access_logs, in_vpc=paths(in_vpc)))


def add_checks(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(
    stack: cdk.Stack, *, bucket: Construct, functions: Iterable[Construct], state_machine: Construct
) -> None:
    def logical_id(construct: Construct) -> str:
        return stack.get_logical_id(construct.node.default_child)  # type: ignore[arg-type]

    findings = dict(ACKNOWLEDGED)
    for template, reason in (BUCKET_OBJECTS, BUCKET_RUN_REPORTS, BUCKET_REQUEST_FILES):
        findings[template.format(bucket=logical_id(bucket))] = reason
    findings[EXECUTIONS[0].format(machine=logical_id(state_machine))] = EXECUTIONS[1]
    findings[MODEL_PARAMETERS[0].format(stack=stack.stack_name)] = MODEL_PARAMETERS[1]
    for function in functions:
        template, reason = FUNCTION_VERSIONS
        findings[template.format(function=logical_id(function))] = reason
    # A stage with a region (or account) renders it literally in the ARNs cdk-nag names.
    known = {name: value for name, value in (("<AWS::Partition>", stack.partition), ("<AWS::Region>", stack.region),
                                             ("<AWS::AccountId>", stack.account)) if not cdk.Token.is_unresolved(value)}
    for rule_id, reason in findings.items():
        rendered = rule_id
        for placeholder, value in known.items():
            rendered = rendered.replace(f":{placeholder}:", f":{value}:") if placeholder != "<AWS::Partition>" \
                else rendered.replace(f"arn:{placeholder}:", f"arn:{value}:")
        for id_ in dict.fromkeys((rule_id, rendered)):  # AWS managed policy ARNs keep the partition token
            cdk.Validations.of(stack).acknowledge(cdk.Acknowledgment(id=id_, reason=reason))
