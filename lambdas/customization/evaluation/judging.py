"""An LLM judge: the prompt a Bedrock model is given (a rubric, the reference, the answer) and
the score read from its reply, 0 to 10 scaled to [0, 1]. Shared by the evaluation's `judge`
metric and the built-in reinforcement grader's `llm_judge` reward."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from customization.registry import load_registry

if TYPE_CHECKING:
    from customization.adapters.runtime import BedrockRuntime

REPLY_TOKENS = 16  # a SCORE line; the judge's maxTokens
SYSTEM = ("You grade one answer against a rubric and a reference answer. Reply with one line, "
          "'SCORE: n', where n is a whole number from 0 (useless) to 10 (perfect).")
_SCORE = re.compile(r"SCORE:\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
# A judge: (system prompt, user prompt) -> its reply.
Judge = Callable[[str, str], str]


def bedrock_judge(runtime: BedrockRuntime, judge: str) -> Judge:
    """One of the registry's judges (by id or alias), asked through the Converse API as it is
    invoked from the runtime's region."""
    registry = load_registry()
    spec = registry.judge(judge)
    model_id = spec.invocation_id_in(registry.geography_of(runtime.region))
    if model_id is None:
        raise ValueError(f"the judge {spec.display_name} has no inference profile in {runtime.region}'s geography")

    def ask(system: str, prompt: str) -> str:
        return runtime.converse(model_id=model_id, system=[{"text": system}], max_tokens=REPLY_TOKENS, temperature=0.0,
                                messages=[{"role": "user", "content": [{"text": prompt}]}]).text

    return ask


def judged(judge: Judge, *, rubric: str, reference: str, answer: str) -> float:
    """The judge's score of the answer; 0 when its reply names none (never an error)."""
    reply = judge(SYSTEM, f"Rubric:\n{rubric}\n\nReference answer:\n{reference}\n\nAnswer to grade:\n{answer}\n\nReply with SCORE: n")
    scored = _SCORE.search(reply)
    return min(1.0, float(scored.group(1)) / 10) if scored else 0.0
