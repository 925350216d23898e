"""The grader of a reinforcement fine-tuning run, before anything is spent and at submission:
which function it is (the built-in one, or a team's own the stage allows), whether every
training record gives it something to score against, a trial on a few records (it must
answer the contract), and the job's copy of the data carrying the built-in grader's settings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from customization.datasets.formats.rft_chat import REFERENCE, reference_text
from customization.errors import DatasetInvalidError, RequestInvalidError
from customization.grading.rewards import reference_problem
from customization.models.grading import GRADER_FIELD, grader_sample, grading_fields, read_scores

if TYPE_CHECKING:
    from customization.adapters.graders import Graders
    from customization.adapters.storage import ObjectStore
    from customization.models.request import ReinforcementSettings
    from customization.models.steps import RunContext
    from customization.settings import Settings

JOB_DATA_DIR = "reinforcement/"
_SHOWN = 5


def grader_function(reinforcement: ReinforcementSettings, settings: Settings) -> str:
    """The ARN Bedrock will invoke: the stack's grader, or the request's own where the stage
    lists it (the Bedrock service role may invoke nothing else)."""
    grader = reinforcement.grader
    if grader.kind != "lambda":
        if not settings.GRADER_FUNCTION_ARN:
            raise RuntimeError("GRADER_FUNCTION_ARN is not set for this function")
        return settings.GRADER_FUNCTION_ARN
    if grader.function_arn not in settings.allowed_graders:
        allowed = ", ".join(settings.allowed_graders) or "none"
        raise RequestInvalidError(
            f"invalid request: reinforcement.grader.function_arn: {grader.function_arn} is not one of the stage's "
            f"reinforcement_graders ({allowed}); add it in cdk.json and deploy, so the Bedrock role may invoke it"
        )
    return grader.function_arn


def _records(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Records the validator has passed, with their line numbers."""
    for number, raw in enumerate(lines, 1):
        if raw.strip():
            yield number, json.loads(raw)


def check_references(reinforcement: ReinforcementSettings, lines: Iterable[bytes], dataset: str) -> None:
    """Every record gives the built-in grader what its kind compares with, and leaves its
    settings field to the pipeline; DatasetInvalidError names the lines and the rule."""
    if not reinforcement.built_in:
        return
    problems = []
    for number, record in _records(lines):
        if GRADER_FIELD in record:
            problems.append(f"line {number}: [grader-field] the field {GRADER_FIELD} is the pipeline's; rename it")
        elif (problem := reference_problem(reinforcement.grader, record.get(REFERENCE))) is not None:
            problems.append(f"line {number}: [grader-reference] {problem}")
    if problems:
        more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        raise DatasetInvalidError(f"{dataset}: {len(problems)} record(s) the {reinforcement.grader.kind} grader cannot score: "
                                  + "; ".join(problems[:_SHOWN]) + more)


def try_grader(reinforcement: ReinforcementSettings, function_arn: str, lines: Iterable[bytes], *, graders: Graders) -> dict[str, Any]:
    """The grader scores a few training records, each answered with its own reference, before
    anything is spent; GraderFailedError when it fails, times out or breaks the contract."""
    samples = []
    for number, record in _records(lines):
        turns = [*record["messages"], {"role": "assistant", "content": reference_text(record[REFERENCE])}]
        samples.append(grader_sample(f"trial-line-{number}", turns, grading_fields(record, reinforcement)))
        if len(samples) >= reinforcement.preflight_records:
            break
    scores = read_scores(samples, graders.grade(function_arn, samples), function_arn)
    mean = sum(scores.values()) / len(scores)
    return {
        "grader": function_arn, "kind": reinforcement.grader.kind, "samples": len(scores),
        "scores": {key: round(value, 4) for key, value in scores.items()},
        "note": (f"the reference answers score {mean:.2f} on average" + (
            "; a grader that does not reward the reference may not reward what you mean" if mean < 0.5 else "")),
    }


def graded_lines(lines: Iterable[bytes], reinforcement: ReinforcementSettings) -> Iterator[bytes]:
    for raw in lines:
        if raw.strip():
            record = json.loads(raw)
            yield (json.dumps({"messages": record["messages"], **grading_fields(record, reinforcement)}) + "\n").encode()


def job_data(run: RunContext, *, store: ObjectStore) -> tuple[str, str | None]:
    """The training and validation data the job reads: for the built-in grader, copies whose
    records carry its settings; for a team's own grader, the data as it is."""
    reinforcement = run.reinforcement
    if reinforcement is None or not reinforcement.built_in:
        return run.training_data, run.validation_data
    uris = []
    for name, uri in (("train", run.training_data), ("validation", run.validation_data)):
        if uri is None:
            uris.append(None)
            continue
        copy = run.uri(f"{JOB_DATA_DIR}{name}.jsonl")
        store.write_stream(copy, graded_lines(store.iter_lines(uri), reinforcement))
        uris.append(copy)
    return uris[0] or run.training_data, uris[1]
