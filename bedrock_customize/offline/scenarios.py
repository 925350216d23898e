"""Named offline scenarios: the happy path and the ways a run goes wrong, each with the status
it must end in. Every one must leave nothing running (`resources.leaked` empty)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bedrock_customize.offline.simulator import Faults
from infra import constants as c


@dataclass(frozen=True)
class Scenario:
    description: str
    expected_status: str
    faults: Callable[[], Faults] = Faults
    crashes: dict[str, str | Exception] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)
    abort_when: Callable[[list[str]], bool] | None = None
    example: str | None = None  # the request in examples/requests/ it runs on (default: the bundled one)
    job_polls: int = 2
    deployment_polls: int = 1


def _entered(state: str, times: int = 1) -> Callable[[list[str]], bool]:
    return lambda states: states.count(state) >= times


# The sweep of the bundled example: three learning rates, at most three training at once.
SWEEP = {"grid": {"learningRate": [1e-06, 1e-05, 0.0001]}, "max_parallel": 3}

SCENARIOS: dict[str, Scenario] = {
    "happy": Scenario("the whole lifecycle succeeds", "SUCCEEDED"),
    "versioned": Scenario(
        "a promoted run becomes version 1 of its model_name, and the current one (its ARN in the SSM parameter)",
        "SUCCEEDED", request={"model_name": "summaries"},
    ),
    "job-failed": Scenario(
        "Bedrock fails the customization job", "FAILED",
        faults=lambda: Faults(job_failure_message="Training data validation failed: record 17 exceeds the token limit"),
    ),
    "job-stopped": Scenario(
        "someone stops the job outside the pipeline", "FAILED", faults=lambda: Faults(job_stopped_by_someone=True)
    ),
    "deployment-failed": Scenario(
        "the deployment (a provisioned throughput or an on-demand deployment) fails to come up", "FAILED",
        faults=lambda: Faults(deployment_failure_message="Insufficient capacity for the requested model units"),
    ),
    "evaluate-crash": Scenario(
        "the evaluation crashes after the deployment exists", "FAILED",
        crashes={c.SCORE_SAMPLES: "the evaluation process was killed (SIMULATED crash)"},
    ),
    "throttled": Scenario(
        "every Bedrock call is throttled once, then succeeds on retry", "SUCCEEDED",
        faults=lambda: Faults(throttle_every_call_once=True),
    ),
    "abort-during-job": Scenario(
        "the execution is stopped by hand while the job trains", "ABORTED",
        abort_when=_entered(c.WAIT_FOR_JOB, 2), job_polls=50, request={"wait_seconds": {"job": 1}},
    ),
    "abort-during-evaluation": Scenario(
        "the execution is stopped by hand during the evaluation", "ABORTED", abort_when=_entered(c.SCORE_SAMPLES),
        faults=lambda: Faults(converse_delay_seconds=0.2),
    ),
    "job-timeout": Scenario(
        "the job runs past the request's time limit", "FAILED",
        job_polls=1000, request={"wait_seconds": {"job": 1}, "timeouts": {"job_hours": 0.0004}},
    ),
    "over-budget": Scenario(
        "the cost estimate (of a provisioned throughput) is above budget.max_usd: rejected before anything is created",
        "FAILED", request={"budget": {"max_usd": 5}, "deployment": {"mode": "provisioned"}},
    ),
    "no-model-units": Scenario(
        "the account has no no-commitment model units (new accounts request them from AWS Support): "
        "rejected in pre-flight", "FAILED",
        faults=lambda: Faults(quota_values={"Model units no-commitment Provisioned Throughputs across custom models": 0}),
        request={"deployment": {"mode": "provisioned"}},
    ),
    "teacher-cannot-teach": Scenario(
        "a distillation run names a teacher that cannot teach its student: rejected before anything is created, "
        "naming the teachers that can", "FAILED",
        request={"customization_type": "DISTILLATION", "distillation": {"teacher": "llama3.1-70b"}},
    ),
    "grader-fails": Scenario(
        "a reinforcement run's grader fails when Validate Request tries it: rejected before anything is created",
        "FAILED", crashes={c.GRADE_SAMPLES: "the grader raised on its first batch (SIMULATED crash)"},
        example="nova-2-lite-rft-invoice-totals",
        request={"base_model": "nova-2-lite", "customization_type": "REINFORCEMENT_FINE_TUNING",
                 "reinforcement": {"grader": {"kind": "exact_match"}}},
    ),
    "judged": Scenario(
        "an LLM judge (Nova Pro with a rubric) scores both models' answers beside the other metrics (offline the "
        "simulated models do not answer as judges, so both score 0)", "SUCCEEDED",
        request={"evaluation": {"judge": {"model": "nova-pro", "rubric": "A good answer sums the text up in one sentence."}}},
    ),
    "second-engine": Scenario(
        "Bedrock's own evaluation job scores both models while the provisioned throughput exists; its metrics join the "
        "report's", "SUCCEEDED", request={"evaluation": {"bedrock_evaluation_job": True}, "deployment": {"mode": "provisioned"}},
    ),
    "images": Scenario(
        "test records with images: both models are sent each image (as bytes to Llama 3.2 Vision) and the page shows "
        "it beside the answers", "SUCCEEDED", example="llama3.2-11b-vision-shapes",
    ),
    "sweep": Scenario(
        "a learning-rate sweep: three candidates train two at a time (the job quota's headroom), the lowest validation "
        "loss is deployed and evaluated, the others' custom models are deleted", "SUCCEEDED",
        example="nova-lite-learning-rate-sweep", request={"sweep": SWEEP},
    ),
    "sweep-by-metric": Scenario(
        "a sweep chosen by the evaluation's primary metric: each candidate is deployed on demand and evaluated, one "
        "deployment at a time", "SUCCEEDED", example="nova-lite-learning-rate-sweep",
        request={"sweep": {**SWEEP, "grid": {"learningRate": [1e-05, 0.0001]}, "select_by": "primary_metric"},
                 "deployment": {"mode": "on_demand"}},
    ),
    "sweep-candidate-fails": Scenario(
        "one candidate's job fails; the sweep goes on with the others, and the report names the failure", "SUCCEEDED",
        example="nova-lite-learning-rate-sweep", request={"sweep": SWEEP},
        faults=lambda: Faults(job_failure_message="Internal error while training (SIMULATED)", failing_job_suffix="-c3"),
    ),
    "sweep-abort": Scenario(
        "the execution is stopped by hand while the candidates train: every job still training is stopped", "ABORTED",
        example="nova-lite-learning-rate-sweep", request={"sweep": SWEEP, "wait_seconds": {"job": 1}},
        abort_when=_entered(c.WAIT_FOR_CANDIDATE_JOB, 3), job_polls=50,
    ),
    "multi-stage": Scenario(
        "two fine-tuning stages, the second on the first's custom model; each stage is evaluated against the base "
        "model, one deployment at a time, and the last is the run's model", "SUCCEEDED",
        example="nova-lite-two-stage-fine-tuning", request={"evaluate_stages": True, "deployment": {"mode": "on_demand"}},
    ),
    "teardown-retry": Scenario(
        "the first delete fails transiently, beyond the SDK's own retries", "SUCCEEDED",
        faults=lambda: Faults(failing_deletes=5),
    ),
}
