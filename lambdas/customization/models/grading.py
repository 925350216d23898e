"""The reward-function contract of Bedrock's reinforcement fine-tuning (user guide, "Setting up
reward functions"): the grader is invoked with a list of samples, each the training record's
fields with an `id` and the conversation ending in the model's answer; it returns, for each
sample, its `id` and an `aggregate_reward_score` in [0, 1], optionally with `metrics_list`.

Every caller of a grader (Validate Request's trial, the evaluation, the offline Bedrock) reads
its answer through `read_scores`, so a grader that breaks the contract fails the same way,
named, wherever it is called."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from customization.errors import GraderFailedError

if TYPE_CHECKING:
    from customization.models.request import ReinforcementSettings

# The built-in grader's settings ride in this field of every record of the job's data.
GRADER_FIELD = "bedrock_customize_grader"


def openai_messages(system: list[dict[str, str]], messages: list[dict[str, Any]], answer: str) -> list[dict[str, str]]:
    """A Converse-shaped prompt and an answer as the chat-completion turns a grader receives."""
    turns = [{"role": "system", "content": " ".join(block["text"] for block in system)}] if system else []
    for message in messages:
        text = " ".join(block.get("text", "") for block in message["content"] if isinstance(block, dict))
        turns.append({"role": message["role"], "content": text})
    return [*turns, {"role": "assistant", "content": answer}]


def grading_fields(record: dict[str, Any], reinforcement: ReinforcementSettings) -> dict[str, Any]:
    """What a grader is given of a record beside the conversation: its own fields, and for the
    built-in grader the run's grader settings."""
    fields = {key: value for key, value in record.items() if key != "messages"}
    if reinforcement.built_in:
        fields[GRADER_FIELD] = reinforcement.grader.model_dump(mode="json")
    return fields


def grader_sample(sample_id: str, turns: list[dict[str, str]], fields: dict[str, Any]) -> dict[str, Any]:
    return {**fields, "id": sample_id, "messages": turns}


def read_scores(sent: list[dict[str, Any]], answer: Any, grader: str) -> dict[str, float]:
    """The score of each sample sent, by id; GraderFailedError naming the first breach of the
    contract (not a list, a sample missing or unknown, a score absent or outside [0, 1])."""
    if isinstance(answer, dict) and "errorMessage" in answer:
        raise GraderFailedError(f"the grader {grader} failed: {answer.get('errorType', 'Error')}: {answer['errorMessage']}")
    if not isinstance(answer, list):
        raise GraderFailedError(f"the grader {grader} answered {type(answer).__name__}, not a list of scores, one per sample")
    expected = {str(sample["id"]) for sample in sent}
    scores: dict[str, float] = {}
    for position, item in enumerate(answer):
        where = f"the grader {grader}'s answer [{position}]"
        if not isinstance(item, dict) or "id" not in item:
            raise GraderFailedError(f"{where} has no id")
        sample_id = str(item["id"])
        if sample_id not in expected:
            raise GraderFailedError(f"{where} names id {sample_id!r}, which was not sent")
        score = item.get("aggregate_reward_score")
        if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
            raise GraderFailedError(f"{where} (id {sample_id}): aggregate_reward_score {score!r} is not a number")
        if not 0.0 <= score <= 1.0:
            raise GraderFailedError(f"{where} (id {sample_id}): aggregate_reward_score {score} is outside [0, 1]")
        scores[sample_id] = float(score)
    missing = sorted(expected - set(scores))
    if missing:
        raise GraderFailedError(f"the grader {grader} scored {len(scores)} of {len(expected)} samples; missing ids: "
                                f"{', '.join(missing[:5])}")
    return scores
