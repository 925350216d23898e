"""The built-in grader: what the stack's grader function does with each batch Bedrock sends
(and Validate Request and the evaluation send): read each sample's settings and reference,
score its answer with the reward of its kind, answer as the contract says."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from customization.datasets.formats.rft_chat import REFERENCE
from customization.errors import GraderFailedError
from customization.evaluation.judging import bedrock_judge
from customization.grading.rewards import SETTINGS, reward
from customization.models.grading import GRADER_FIELD
from customization.models.request import JudgeGrader

if TYPE_CHECKING:
    from customization.adapters.runtime import BedrockRuntime

def _field(sample: dict[str, Any], name: str) -> Any:
    """A record's field, at the top of the sample or under `metadata` (AWS's samples read both)."""
    if name in sample:
        return sample[name]
    metadata = sample.get("metadata")
    return metadata.get(name) if isinstance(metadata, dict) else None


def _answer(sample: dict[str, Any]) -> str:
    messages = sample.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    if isinstance(last, dict) and last.get("role") == "assistant" and isinstance(last.get("content"), str):
        return str(last["content"])
    return ""


def grade_batch(samples: Any, *, runtime: BedrockRuntime) -> list[dict[str, Any]]:
    if not isinstance(samples, list):
        raise GraderFailedError(f"the grader takes a list of samples, not {type(samples).__name__}")
    scored = []
    for position, sample in enumerate(samples):
        if not isinstance(sample, dict) or "id" not in sample:
            raise GraderFailedError(f"sample [{position}] is not an object with an id")
        try:
            settings = SETTINGS.validate_python(_field(sample, GRADER_FIELD))
        except ValidationError as exc:
            raise GraderFailedError(f"sample {sample['id']}: no valid {GRADER_FIELD} settings ({exc.error_count()} "
                                    "problems); the built-in grader scores only the pipeline's own job data") from None
        judge = bedrock_judge(runtime, settings.judge) if isinstance(settings, JudgeGrader) else None
        score = reward(settings, _answer(sample), _field(sample, REFERENCE), judge=judge)
        scored.append({"id": sample["id"], "aggregate_reward_score": score,
                       "metrics_list": [{"name": settings.kind, "value": score, "type": "Reward"}]})
    return scored
