"""The offline engine: runs the real synthesized state machine with the real handlers.

1. Synthesize the app (stage `local`: zero default waits, 1 s retry intervals, which pass at a
   tenth of their length here, as the SDK's back-off does).
2. Inside moto, create what the template declares that a run touches: the IAM roles, the
   S3 buckets, the dead-letter queue, one Lambda function per AWS::Lambda::Function (with its
   environment resolved)
   and the state machine from the resolved DefinitionString. moto's own ASL interpreter
   executes it.
3. Each Lambda invocation runs the function's real handler in this process; Bedrock is the
   simulation in `simulator.py`.
Shared by `bedrock-customize run-local` and the tests.
"""

from __future__ import annotations

import base64
import contextvars
import functools
import importlib
import io
import json
import logging
import os
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import botocore.loaders
import botocore.session
from antlr4 import CommonTokenStream, InputStream
from botocore.retries.standard import ExponentialBackoff
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend, lambda_simple_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.events.models import EventPattern
from moto.iam.models import iam_backends
from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.asl.parse.asl_parser import (
    AmazonStateLanguageParser,
    ASLParserException,
    SyntaxErrorListener,
)
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for as _boto_client_for
from moto.stepfunctions.parser.models import StepFunctionsParserBackend, stepfunctions_parser_backends

from bedrock_customize import local_media
from bedrock_customize.offline import clients, handler_calls, networking
from bedrock_customize.offline import simulator as sim
from bedrock_customize.offline.authorization import RolePolicies
from bedrock_customize.offline.template import Template
from bedrock_customize.requests import (  # noqa: F401 - the engine's callers use these from here
    DATA_FIELDS,
    PREPARE_SOURCE,
    RequestFileError,
    dataset_key,
    execution_name_for,
    load_request,
    local_datasets,
    with_uploaded,
)
from customization import adapters
from customization.registry import load_registry
from customization.vocabulary import REPORT_HTML, REPORT_JSON, VALIDATION_REPORT, run_prefix
from infra.constants import CLEAN_UP_RUN
from infra.steps import ALL_FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REQUEST = ROOT / "examples" / "requests" / "nova-lite-summarization.json"
FINAL_STATUSES = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
STATE_BY_HANDLER = {step.handler: step.state for step in ALL_FUNCTIONS}
SDK_RETRY_DELAY = 0.01
# The state machine's own Retry waits (1 s, 2 s, ... in stage `local`) pass at a tenth of their
# length: their order and count are what the emulation keeps, as for the SDK's back-off.
STATE_RETRY_TIME_SCALE = 0.1


# moto and the X-Ray SDK make botocore sessions of their own, each reading the service models
# and endpoint data from disk again (a third of a run's time); the files do not change, so the
# sessions made during a run share one loader.
_shared_loader = functools.lru_cache(maxsize=4)(botocore.loaders.create_loader)
# moto parses a definition to validate it each time a state machine is created (once a run);
# a definition once found valid is valid again (lru_cache never remembers a failure).
_validate_definition = functools.lru_cache(maxsize=8)(StepFunctionsParserBackend._validate_definition)


_error_output = ExecutionState._construct_error_output_value


def _error_output_of_a_stopped_map(failure_event: Any) -> Any:
    """moto 5.2.5 hands a Map's Catch the aborted iteration's details as the stop's bare error
    string, so stopping an execution while a Map with a Catch runs ended it FAILED (States.Runtime)
    instead of ABORTED. Read such a string as the error it is."""
    details = list(failure_event.event_details.values())[0]
    if isinstance(details, str) or details is None:
        return {"Error": details or "", "Cause": ""}
    return _error_output(failure_event)


_set_error = Environment.set_error


def _set_error_unless_stopped(self: Environment, error: Any) -> None:
    """moto 5.2.5 then fails the Map state once its iterations have aborted, which turned the
    stopped execution FAILED. In AWS a stopped execution ends ABORTED, whatever its states do."""
    if isinstance(self.program_state(), ProgramStopped):
        return
    _set_error(self, error)


_submit = ThreadPoolExecutor.submit


def _submit_in_context(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """A handler's worker threads call AWS as its role too: each task runs in the submitter's context."""
    return _submit(self, contextvars.copy_context().run, fn, *args, **kwargs)


class _StateRetryClock:
    """What moto's Retry interpreter sees as the `time` module."""

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds * STATE_RETRY_TIME_SCALE)
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


class InjectedCrash(RuntimeError):
    """A failure the engine injected in place of a step's handler (tests and scenarios)."""


def synthesize(outdir: Path, *, stage: str = "local", overrides: dict[str, Any] | None = None) -> Path:
    """Synthesize the app into `outdir` (no asset bundling: handlers run from source here);
    `overrides` replace fields of the stage's settings (a `vpc`, for instance)."""
    from infra.app_builder import build_app  # CDK is imported only when synthesizing

    context: dict[str, Any] = {"stage": stage, **({"stage_overrides": overrides} if overrides else {})}
    app, stack, _ = build_app(outdir=str(outdir), context=context, bundling=False)
    app.synth()
    return outdir / f"{stack.stack_name}.template.json"


TASK_STATES = frozenset(STATE_BY_HANDLER.values())
TASK_STOP_DELAY_SECONDS = 0.1


def _execution_status(sfn: Any, execution_arn: str) -> str:
    """The execution's status, read from the emulator (a DescribeExecution through botocore every
    50 ms cost a fifth of a run); through the API where the emulator's object is not reachable."""
    region = execution_arn.split(":")[3]
    try:
        execution = stepfunctions_parser_backends[DEFAULT_ACCOUNT_ID][region].describe_execution(execution_arn=execution_arn)
        return str(getattr(execution.exec_status, "value", execution.exec_status))
    except AttributeError:
        return str(sfn.describe_execution(executionArn=execution_arn)["status"])


@functools.lru_cache(maxsize=8)
def _parse_tree(definition: str) -> Any:
    """moto lexes and parses a definition again for every execution; the tree of one definition
    is the same each time (a definition with a syntax error is never cached: it raises)."""
    errors = SyntaxErrorListener()
    parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
    parser.removeErrorListeners()
    parser.addErrorListener(errors)
    tree = parser.state_machine()
    if errors.errors:
        raise ASLParserException(errors=errors.errors)
    return tree


def _parse(definition: str) -> tuple[Any, Any]:
    """AmazonStateLanguageParser.parse on the cached tree: the components are built anew for each
    execution, as moto builds them."""
    tree = _parse_tree(definition)
    return Preprocessor().visit(tree), tree


@functools.lru_cache(maxsize=32)
def _integration_client(region: str, service: str) -> Any:
    return _boto_client_for(region, service)


def _cached_boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto's interpreter made a new boto3 client for every Lambda task it ran (a quarter of a
    run); clients are thread-safe, so one per region and service serves them all (moto 5.2.5's
    boto_client_for does not use the state's credentials either)."""
    return _integration_client(region, service)


def _entered_states(sfn: Any, execution_arn: str) -> list[str]:
    """The states an execution has entered, in order. Read from the emulator's own event list
    (moto copies and serializes the whole history, inputs and outputs, for every
    GetExecutionHistory); through the API where that list is not reachable."""
    region = execution_arn.split(":")[3]
    try:
        execution = stepfunctions_parser_backends[DEFAULT_ACCOUNT_ID][region].describe_execution(execution_arn=execution_arn)
        manager = execution.exec_worker.env.event_manager
        with manager._mutex:  # noqa: SLF001 - the emulator's own state, read as it writes it
            events = list(manager._history_event_list)  # noqa: SLF001
    except AttributeError:  # not started yet, or another moto
        events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
_handler_clients: list[tuple[str, str]] = []


def _handler_clients_for(template: Path, region: str) -> None:
    """The handlers' adapters keep their clients (made for one region, naming one stack's
    resources) from run to run of the same template and region, as a warm Lambda would; any
    other deployment starts with new ones."""
    key = (str(template), region)
    if _handler_clients != [key]:
        adapters.reset_clients()
        _handler_clients[:] = [key]


@dataclass
class FakeContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str = "offline-request"
    log_group_name: str = "/aws/lambda/offline"
    log_stream_name: str = "offline"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@dataclass
class RunResult:
    status: str
    execution_name: str
    execution_arn: str
    states: list[str]
    error: dict[str, str] | None
    output: dict[str, Any] | None
    resources: dict[str, list[dict[str, str]]]
    bucket: str
    objects: dict[str, bytes] = field(default_factory=dict)
    handler_calls: list[str] = field(default_factory=list)
    simulator: sim.SimulatedBedrock | None = None
    cleanup: dict[str, Any] | None = None
    notifications: list[dict[str, str]] = field(default_factory=list)


class OfflineEngine:
    def __init__(
        self,
        template_path: Path,
        *,
        log: Callable[[str], None] = print,
        handler_log: io.TextIOBase | None = None,
    ) -> None:
        self.template_path = template_path
        self.log = log
        self.handler_log = handler_log

    # -- the moto side --------------------------------------------------------------------

    def _deploy(self, template: Template, region: str) -> tuple[str, str, dict[str, str]]:
        """Create the stack's resources in moto; return (state machine ARN, bucket, function -> state)."""
        # The roles and functions are made through moto's backends, not its API: each is the
        # engine's own setup (a call through botocore costs 3 ms, the backend 0.03 ms, and a run
        # makes some fifty), while everything a run does goes through the API as in AWS.
        iam = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
        for logical_id, resource in template.resources("AWS::IAM::Role").items():
            trust = resource["Properties"]["AssumeRolePolicyDocument"]
            role = iam.create_role(
                role_name=logical_id[:64], assume_role_policy_document=json.dumps(template.resolve(trust)), path="/",
                permissions_boundary=None, description="", tags=[], max_session_duration=None,
            )
            template.refs[logical_id] = role.name
            template.attributes[(logical_id, "Arn")] = role.arn
        s3 = clients.client("s3", region)
        stack = template.pseudo["AWS::StackName"].lower()
        for logical_id in template.resources("AWS::S3::Bucket"):
            name = re.sub(r"[^a-z0-9-]", "-", f"{stack}-{logical_id.lower()}")[:63].strip("-")
            kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            s3.create_bucket(Bucket=name, **kwargs)
            if template.document["Resources"][logical_id]["Properties"].get("VersioningConfiguration"):
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
            template.refs[logical_id] = name
            template.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
        sns = clients.client("sns", region)
        sqs = clients.client("sqs", region)
        for logical_id in template.resources("AWS::SQS::Queue"):
            url = sqs.create_queue(QueueName=logical_id[:80])["QueueUrl"]
            template.refs[logical_id] = url
            template.attributes[(logical_id, "Arn")] = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for logical_id in template.resources("AWS::SNS::Topic"):
            topic = sns.create_topic(Name=logical_id)["TopicArn"]
            template.refs[logical_id] = topic
            template.attributes[(logical_id, "TopicArn")] = topic
        dynamodb = clients.client("dynamodb", region)
        kms = clients.client("kms", region)
        for logical_id in template.resources("AWS::KMS::Key"):
            key = kms.create_key(Description=logical_id)["KeyMetadata"]
            template.refs[logical_id] = key["KeyId"]
            template.attributes[(logical_id, "Arn")] = key["Arn"]
        for logical_id, resource in template.resources("AWS::DynamoDB::Table").items():
            props = resource["Properties"]
            table = dynamodb.create_table(
                TableName=logical_id, KeySchema=props["KeySchema"], AttributeDefinitions=props["AttributeDefinitions"],
                BillingMode="PAY_PER_REQUEST",
            )["TableDescription"]
            template.refs[logical_id] = table["TableName"]
            template.attributes[(logical_id, "Arn")] = table["TableArn"]
        machines = template.resources("AWS::StepFunctions::StateMachine")
        (machine_id, machine), = machines.items()
        machine_name = f"{template.pseudo['AWS::StackName']}-lifecycle"
        template.refs[machine_id] = f"arn:aws:states:{region}:{DEFAULT_ACCOUNT_ID}:stateMachine:{machine_name}"
        template.attributes[(machine_id, "Name")] = machine_name
        for logical_id in template.resources("AWS::Logs::LogGroup"):
            template.refs[logical_id] = f"/offline/{logical_id}"
            template.attributes[(logical_id, "Arn")] = f"arn:aws:logs:{region}:{DEFAULT_ACCOUNT_ID}:log-group:/offline/{logical_id}:*"

        networking.create(template, region)
        lambda_ = lambda_simple_backends[DEFAULT_ACCOUNT_ID][region]  # MOTO_CONFIG: Lambda without Docker
        state_by_function: dict[str, str] = {}
        functions = template.resources("AWS::Lambda::Function")

        def names_a_function(item: tuple[str, dict[str, Any]]) -> bool:  # its environment holds another's ARN
            variables = json.dumps(item[1]["Properties"].get("Environment", {}))
            return any(f'"{other}"' in variables for other in functions if other != item[0])

        for logical_id, resource in sorted(functions.items(), key=names_a_function):
            props = resource["Properties"]
            if props.get("Handler") not in STATE_BY_HANDLER:
                continue  # CDK's own custom-resource functions: deployment plumbing, not part of a run
            created = lambda_.create_function({
                "FunctionName": logical_id[:64],
                "Runtime": props["Runtime"],
                "Role": template.resolve(props["Role"]),
                "Handler": props["Handler"],
                "Code": {"ZipFile": base64.b64encode(_placeholder_zip()).decode()},
                "Timeout": props.get("Timeout", 3),
                "MemorySize": props.get("MemorySize", 128),
                "Environment": {"Variables": template.resolve(props.get("Environment", {}).get("Variables", {}))},
                **({"VpcConfig": template.resolve(props["VpcConfig"])} if "VpcConfig" in props else {}),
            })
            template.refs[logical_id] = created.function_name
            template.attributes[(logical_id, "Arn")] = created.function_arn
            state_by_function[created.function_name] = STATE_BY_HANDLER.get(props["Handler"], logical_id)

        definition = template.resolve(machine["Properties"]["DefinitionString"])
        bucket = template.output("BucketName")
        arn = clients.client("stepfunctions", region).create_state_machine(
            name=machine_name, definition=definition, roleArn=template.resolve(machine["Properties"]["RoleArn"]),
        )["stateMachineArn"]
        return arn, bucket, state_by_function

    @staticmethod
    def _networks(policies: RolePolicies, region: str) -> dict[str, set[str]]:
        """For each function in private subnets (by role): Lambda's check of its role, and the
        services its calls can reach from there."""
        reach = networking.Reachability(region)
        networks: dict[str, set[str]] = {}
        by_placement: dict[tuple[tuple[str, ...], tuple[str, ...]], set[str]] = {}  # the functions share subnets and groups
        for function in clients.client("lambda", region).list_functions()["Functions"]:
            vpc = function.get("VpcConfig") or {}
            if not vpc.get("SubnetIds"):
                continue
            networking.check_function_role(policies, function, region, DEFAULT_ACCOUNT_ID)
            placement = (tuple(sorted(vpc["SubnetIds"])), tuple(sorted(vpc.get("SecurityGroupIds", []))))
            if placement not in by_placement:
                by_placement[placement] = reach.services(list(placement[0]), list(placement[1]))
            networks[function["Role"]] = by_placement[placement]
        return networks

    @contextmanager
    def _in_process_lambdas(
        self, state_by_function: dict[str, str], crashes: dict[str, str | Exception], calls: list[str], region: str
    ) -> Iterator[None]:
        """Every invocation runs the function's real handler in this process. Handlers run in
        the interpreter's threads and the caller's at once, so the environment is set once for
        the session (the functions' variables together) and every handler module is imported
        up front, never concurrently."""
        functions = clients.client("lambda", region).list_functions()["Functions"]
        environment: dict[str, str] = {}
        for function in functions:
            environment.update(function.get("Environment", {}).get("Variables", {}))
        handlers = {}
        with mock.patch.dict(os.environ, environment):
            for function in functions:
                module_name, attribute = function["Handler"].rsplit(".", 1)
                handlers[function["FunctionName"]] = getattr(importlib.import_module(module_name), attribute)

        def invoke(backend: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any) -> bytes:
            function = backend.get_function(function_name, qualifier)
            state = state_by_function.get(function.function_name, function.function_name)
            calls.append(state)
            event = json.loads(body or "{}")
            context = FakeContext(function.function_name, function.memory_size, function.function_arn)
            caller = handler_calls.calling_role.set(function.role)  # its calls are its role's
            try:
                if state in crashes:
                    injected = crashes[state]
                    raise injected if isinstance(injected, Exception) else InjectedCrash(injected)
                result = handlers[function.function_name](event, context)
            except Exception as exc:  # noqa: BLE001 - reported as Lambda reports an unhandled error
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc), "stackTrace": []}).encode()
            finally:
                handler_calls.calling_role.reset(caller)
            return json.dumps(result).encode()

        with mock.patch.dict(os.environ, environment), mock.patch.object(LambdaSimpleBackend, "invoke", invoke):
            yield

    @contextmanager
    def _handler_logs(self) -> Iterator[None]:
        """For the run, the handlers' structured logs go to `handler_log`, not between the
        state lines; the original streams come back afterwards."""
        if self.handler_log is None:
            yield
            return
        from customization.observability import logger

        handlers_logger = logging.getLogger(logger.service)
        streams = [h for h in handlers_logger.handlers if isinstance(h, logging.StreamHandler)]
        # Swapped without setStream, which would flush the old stream (possibly closed by now).
        originals = [h.stream for h in streams]
        for handler in streams:
            handler.stream = self.handler_log
        propagate, handlers_logger.propagate = handlers_logger.propagate, False
        try:
            yield
        finally:
            handlers_logger.propagate = propagate
            for handler, original in zip(streams, originals, strict=True):
                handler.stream = original

    # -- one run --------------------------------------------------------------------------

    @contextmanager
    def session(
        self,
        *,
        region: str,
        faults: sim.Faults | None = None,
        crashes: dict[str, str | Exception] | None = None,
        job_polls: int = 2,
        deployment_polls: int = 1,
    ) -> Iterator[Session]:
        """The stack deployed in moto, the handlers in-process, Bedrock simulated."""
        simulated = sim.SimulatedBedrock(
            account=DEFAULT_ACCOUNT_ID, region=region, registry=load_registry(),
            job_polls=job_polls, deployment_polls=deployment_polls, faults=faults, log=self.log,
        )
        env = {
            "AWS_DEFAULT_REGION": region, "AWS_REGION": region, "AWS_ACCESS_KEY_ID": "offline",
            "AWS_SECRET_ACCESS_KEY": "offline", "SIMULATED_BEDROCK": "true",
        }
        calls: list[str] = []
        # moto's interpreter logs an ERROR for every IsPresent test on an absent path.
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        with (
            mock.patch.dict(os.environ, env),
            mock_aws(config=MOTO_CONFIG),
            sim.activate(simulated),
            # Time is simulated too: the SDK's retry back-off would otherwise sleep for seconds.
            mock.patch.object(ExponentialBackoff, "delay_amount", lambda _self, _context: SDK_RETRY_DELAY),
            mock.patch.object(retrier_decl, "time", _StateRetryClock),
            mock.patch.object(botocore.session, "create_loader", _shared_loader),
            mock.patch.object(StepFunctionsParserBackend, "_validate_definition", staticmethod(_validate_definition)),
            mock.patch.object(ExecutionState, "_construct_error_output_value", staticmethod(_error_output_of_a_stopped_map)),
            mock.patch.object(Environment, "set_error", _set_error_unless_stopped),
            mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(_parse)),
            mock.patch.object(lambda_eval_utils, "boto_client_for", _cached_boto_client_for),
            self._handler_logs(),
        ):
            _handler_clients_for(self.template_path, region)
            template = Template.load(self.template_path, account=DEFAULT_ACCOUNT_ID, region=region,
                                     stack_name=self.template_path.name.removesuffix(".template.json"))
            machine_arn, bucket, state_by_function = self._deploy(template, region)
            simulated.authorization = RolePolicies()
            simulated.authorization.load(template)
            with (
                handler_calls.enforce(simulated.authorization, region=region, account=DEFAULT_ACCOUNT_ID,
                                      profile_prefixes=tuple(load_registry().inference_geographies),
                                      networks=self._networks(simulated.authorization, region)),
                mock.patch.object(ThreadPoolExecutor, "submit", _submit_in_context),
                self._in_process_lambdas(state_by_function, crashes or {}, calls, region),
            ):
                yield Session(self, template, region, machine_arn, bucket, state_by_function, simulated, calls)

    def run(
        self,
        request: dict[str, Any],
        *,
        execution_name: str,
        datasets: dict[str, Path] | None = None,
        faults: sim.Faults | None = None,
        crashes: dict[str, str | Exception] | None = None,
        job_polls: int = 2,
        deployment_polls: int = 1,
        abort_when: Callable[[list[str]], bool] | None = None,
        timeout_seconds: float = 300,
    ) -> RunResult:
        try:
            region = load_registry().resolve(str(request.get("base_model", ""))).regions[0]
        except ValueError:
            region = "us-east-1"  # Validate Request rejects the model; the region does not matter
        with self.session(region=region, faults=faults, crashes=crashes, job_polls=job_polls,
                          deployment_polls=deployment_polls) as session:
            request = self._upload(request, datasets or {}, session.bucket, execution_name, region)
            return session.execute(request, execution_name, abort_when=abort_when, timeout_seconds=timeout_seconds)

    def _upload(self, request: dict[str, Any], datasets: dict[str, Path], bucket: str, execution_name: str, region: str) -> dict[str, Any]:
        s3 = clients.client("s3", region)
        request = dict(request)
        for name, path in datasets.items():
            uri, media = local_media.upload(s3, path, bucket, dataset_key(execution_name, name, path))
            request = with_uploaded(request, name, uri)
            self.log(f"uploaded {path} to {uri}" + (f" with the {media} media files it names" if media else "") + " (emulated S3)")
        return request

    def _follow(
        self, sfn: Any, execution_arn: str, timeout_seconds: float, abort_when: Callable[[list[str]], bool] | None
    ) -> tuple[list[str], dict[str, Any]]:
        """Print each state as it is entered, until the execution ends; stop it, as a person
        would in the console, once `abort_when` says so."""
        states: list[str] = []
        seen = 0
        aborted = False
        deadline = time.monotonic() + timeout_seconds
        while True:
            final = _execution_status(sfn, execution_arn) in FINAL_STATUSES
            entered = _entered_states(sfn, execution_arn)
            for name in entered[seen:]:
                self.log(f"-> {name}")
            seen = len(entered)
            states = entered
            if final:
                return states, sfn.describe_execution(executionArn=execution_arn)
            if abort_when is not None and not aborted and abort_when(states):
                aborted = True
                if states[-1] in TASK_STATES:
                    # A person stops a Task while it runs, not the instant it is entered (moto's
                    # interpreter can end an execution stopped at that instant as FAILED).
                    time.sleep(TASK_STOP_DELAY_SECONDS)
                self.log(f"stopping the execution by hand after '{states[-1]}' (StopExecution)")
                sfn.stop_execution(executionArn=execution_arn, error="StoppedByHand", cause="stopped during an offline scenario")
                continue
            if time.monotonic() > deadline:
                sfn.stop_execution(executionArn=execution_arn, error="OfflineTimeout", cause="the offline run took too long")
            time.sleep(0.05)


class Session:
    """One emulated deployment of the stack: start executions, invoke its functions."""

    def __init__(
        self, engine: OfflineEngine, template: Template, region: str, machine_arn: str, bucket: str,
        state_by_function: dict[str, str], simulator: sim.SimulatedBedrock, calls: list[str],
    ) -> None:
        self.engine, self.template, self.region = engine, template, region
        self.machine_arn, self.bucket, self.simulator, self.calls = machine_arn, bucket, simulator, calls
        self.function_by_state = {state: name for name, state in state_by_function.items()}

    def invoke(self, state: str, event: dict[str, Any]) -> dict[str, Any]:
        """Invoke one of the stack's functions as its AWS trigger would."""
        response = clients.client("lambda", self.region).invoke(
            FunctionName=self.function_by_state[state], Payload=json.dumps(event).encode()
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise RuntimeError(f"{state} failed: {payload.get('errorType')}: {payload.get('errorMessage')}")
        return payload  # type: ignore[no-any-return]

    def execution_event(self, execution_arn: str, name: str, status: str) -> dict[str, Any]:
        """The event EventBridge delivers for an execution's status change."""
        return {
            "version": "0", "id": f"offline-{name}", "source": "aws.states",
            "detail-type": "Step Functions Execution Status Change",
            "account": DEFAULT_ACCOUNT_ID, "region": self.region, "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "resources": [execution_arn],
            "detail": {"executionArn": execution_arn, "stateMachineArn": self.machine_arn, "name": name, "status": status},
        }

    def targets_of(self, event: dict[str, Any]) -> list[str]:
        """The functions (by state) EventBridge would deliver the event to: the targets of every
        enabled rule of the template whose pattern matches it (moto's pattern matcher)."""
        return [state for state, _, _ in self._matching_targets(event)]

    def _matching_targets(self, event: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
        matched = []
        for rule, resource in self.template.resources("AWS::Events::Rule").items():
            props = resource["Properties"]
            if "EventPattern" not in props or props.get("State", "ENABLED") != "ENABLED":
                continue
            if EventPattern.load(json.dumps(self.template.resolve(props["EventPattern"]))).matches_event(event):
                matched += [(state, target, rule) for target in props.get("Targets", []) if (state := self._state_of_target(target))]
        return matched

    def _may_invoke(self, rule: str, target: dict[str, Any]) -> bool:
        """What Lambda enforces on EventBridge: the function's resource policy (an
        AWS::Lambda::Permission) admits events.amazonaws.com from this rule."""
        for permission in self.template.resources("AWS::Lambda::Permission").values():
            props = permission["Properties"]
            if (props.get("Action") == "lambda:InvokeFunction" and props.get("Principal") == "events.amazonaws.com"
                    and props.get("FunctionName") == target["Arn"] and props.get("SourceArn") == {"Fn::GetAtt": [rule, "Arn"]}):
                return True
        return False

    def deliver(self, event: dict[str, Any], what: str) -> dict[str, dict[str, Any]]:
        """The event delivered as AWS would. EventBridge tries each target as often as its
        RetryPolicy says while it cannot deliver (the function's resource policy does not admit
        the rule), then puts the event in the target's dead-letter queue. Once delivered, the
        invocation is asynchronous: Lambda runs the function, retries it as its
        EventInvokeConfig says, then puts the event in the function's own dead-letter queue.
        Returns the answer of each function that succeeded."""
        answers: dict[str, dict[str, Any]] = {}
        for state, target, rule in self._matching_targets(event):
            self.engine.log(f"-> (EventBridge: {what}) {state}")
            if not self._may_invoke(rule, target):
                attempts = 1 + int(target.get("RetryPolicy", {}).get("MaximumRetryAttempts", 185))
                self._dead_letter(self.template.resolve(target.get("DeadLetterConfig", {}).get("Arn")), event, state,
                                  f"EventBridge may not invoke {state}: no resource policy admits rule {rule}", attempts, "EventBridge")
                continue
            function = target["Arn"]["Fn::GetAtt"][0]
            attempts = 1 + self._async_retries(function)
            for attempt in range(attempts):
                try:
                    answers[state] = self.invoke(state, event)
                    break
                except RuntimeError as exc:
                    failure = str(exc)
                    if attempt < attempts - 1:
                        time.sleep(SDK_RETRY_DELAY)  # Lambda's back-off between asynchronous retries, shortened
            else:
                queue = self.template.document["Resources"][function]["Properties"].get("DeadLetterConfig", {}).get("TargetArn")
                self._dead_letter(self.template.resolve(queue) if queue else None, event, state, failure, attempts, "Lambda")
        return answers

    def _async_retries(self, function: str) -> int:
        """MaximumRetryAttempts of the function's asynchronous invocations (Lambda's default: 2)."""
        for config in self.template.resources("AWS::Lambda::EventInvokeConfig").values():
            if config["Properties"]["FunctionName"] == {"Ref": function}:
                return int(config["Properties"].get("MaximumRetryAttempts", 2))
        return 2

    def _dead_letter(self, queue_arn: str | None, event: dict[str, Any], state: str, failure: str, attempts: int,
                     who: str) -> None:
        if not queue_arn:
            self.engine.log(f"{who}: {state} failed {attempts} times; the event is LOST (no dead-letter queue)")
            return
        sqs = clients.client("sqs", self.region)
        url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event), MessageAttributes={
            "ERROR_MESSAGE": {"DataType": "String", "StringValue": failure[:1000]},
            "RULE_TARGET": {"DataType": "String", "StringValue": state},
        })
        self.engine.log(f"{who}: {state} failed {attempts} times; the event is in the dead-letter queue")

    def _state_of_target(self, target: dict[str, Any]) -> str | None:
        arn = self.template.resolve(target["Arn"])
        name = arn.rsplit(":function:", 1)[-1] if ":function:" in arn else None
        return next((state for state, function in self.function_by_state.items() if function == name), None)

    def execute(
        self, request: dict[str, Any], execution_name: str, *,
        abort_when: Callable[[list[str]], bool] | None = None, timeout_seconds: float = 300,
    ) -> RunResult:
        sfn = clients.client("stepfunctions", self.region)
        execution_arn = sfn.start_execution(
            stateMachineArn=self.machine_arn, name=execution_name, input=json.dumps(request)
        )["executionArn"]
        states, description = self.engine._follow(sfn, execution_arn, timeout_seconds, abort_when)
        status = description["status"]
        cleanup = None
        delivered = self.deliver(self.execution_event(execution_arn, execution_name, status), f"execution {status}")
        if CLEAN_UP_RUN in delivered:
            cleanup = delivered[CLEAN_UP_RUN]
            time.sleep(0.2)  # let an aborted execution's in-flight step settle before the inventory
        objects = _download_prefix(clients.client("s3", self.region), self.bucket, run_prefix(execution_name))
        error = None
        if status != "SUCCEEDED":
            error = {"error": description.get("error", status), "cause": description.get("cause", "")}
        output = json.loads(description["output"]) if description.get("output") else None
        return RunResult(
            status=status, execution_name=execution_name, execution_arn=execution_arn, states=states, error=error,
            output=output, resources=self.simulator.inventory(), bucket=self.bucket, objects=objects,
            handler_calls=list(self.calls), simulator=self.simulator, cleanup=cleanup, notifications=self.notifications(),
        )

    def notifications(self) -> list[dict[str, str]]:
        """What was published on the stack's notification topic(s), oldest first."""
        from moto.sns.models import sns_backends

        topics = sns_backends[DEFAULT_ACCOUNT_ID][self.region].topics
        return [
            {"subject": sent[2] or "", "message": sent[1]}
            for topic in topics.values() for sent in topic.sent_notifications
        ]

    def put_request_file(self, key: str, body: bytes) -> dict[str, Any]:
        """Write a request file into the emulated bucket and return the Object Created event
        that S3 would send to EventBridge."""
        put = clients.client("s3", self.region).put_object(Bucket=self.bucket, Key=key, Body=body)
        return {
            "version": "0", "id": f"offline-{key}", "source": "aws.s3", "detail-type": "Object Created",
            "account": DEFAULT_ACCOUNT_ID, "region": self.region, "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "resources": [f"arn:aws:s3:::{self.bucket}"],
            "detail": {"version": "0", "bucket": {"name": self.bucket},
                       "object": {"key": key, "size": len(body), "version-id": put.get("VersionId")},
                       "reason": "PutObject"},
        }


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "The offline engine runs the handler from source in-process.")
    return buffer.getvalue()


def _download_prefix(s3: Any, bucket: str, prefix: str) -> dict[str, bytes]:
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            objects[item["Key"][len(prefix):]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return objects


def write_summary(
    result: RunResult, out_dir: Path, base_model: str, *, scenario: str = "happy", expected_status: str = "SUCCEEDED"
) -> Path:
    """`summary.json` and the run's reports beside it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, body in result.objects.items():
        if name in (VALIDATION_REPORT, REPORT_JSON, REPORT_HTML):
            (out_dir / Path(name).name).write_bytes(body)
    report = out_dir / "report.html"
    evaluation = (result.output or {}).get("evaluation")
    validation = json.loads(result.objects.get(VALIDATION_REPORT) or b"{}")
    experiment = (result.output or {}).get("experiment") or {}
    trained = [{k: v for k, v in model.items() if k not in ("training_curve", "validation_curve", "evaluation")}
               for model in experiment.get("results", [])]
    summary = {
        "status": result.status,
        "execution_name": result.execution_name,
        "base_model": base_model,
        "states": result.states,
        "error": result.error,
        "resources": result.resources,
        "report": str(report) if report.exists() else None,
        "report_json": str(out_dir / "report.json") if report.exists() else None,
        "evaluation": evaluation,
        # A sweep's candidates or a multi-stage run's stages, and the one chosen (with why).
        **({"candidates" if experiment.get("kind") == "sweep" else "stages": trained, "selected": experiment.get("selected")}
           if experiment else {}),
        "peak_jobs_in_progress": result.simulator.peak_jobs_in_progress if result.simulator else None,
        # What the run would cost in AWS at list prices (nothing is billed offline).
        "cost_estimate": validation.get("cost_estimate"),
        "scenario": {"name": scenario, "expected_status": expected_status},
        "cleanup_after_execution": result.cleanup,
        "injected_faults": result.simulator.injected if result.simulator else [],
        "simulated": "Bedrock was simulated offline: jobs, deployments and model answers are not real.",
    }
    path = out_dir / "summary.json"
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return path


