"""Inference for the evaluation: every sample answered by the base and the custom model
through the Converse API, with bounded concurrency, back-off on throttling and a per-call
timeout (the client's). Latency and token counts are recorded; a sample that still fails is
reported with its error, never dropped."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from customization.errors import RETRYABLE_ERRORS, CustomizationError

if TYPE_CHECKING:
    from customization.adapters.runtime import BedrockRuntime

ATTEMPTS = 4  # on top of the SDK's own retries
BACKOFF_SECONDS = 0.5


def _answer(
    runtime: BedrockRuntime, model_id: str, sample: dict[str, Any], settings: dict[str, Any], sleep: Callable[[float], None]
) -> dict[str, Any]:
    started = time.perf_counter()
    for attempt in range(ATTEMPTS):
        try:
            answer = runtime.converse(
                model_id=model_id, system=sample["system"], messages=sample["messages"],
                max_tokens=settings["max_tokens"], temperature=settings["temperature"],
            )
        except RETRYABLE_ERRORS as exc:
            if attempt == ATTEMPTS - 1:
                return {"error": f"{type(exc).__name__}: {exc}", "attempts": attempt + 1}
            sleep(BACKOFF_SECONDS * 2**attempt)
            continue
        except CustomizationError as exc:
            return {"error": f"{type(exc).__name__}: {exc}", "attempts": attempt + 1}
        return {
            "text": answer.text,
            "latency_ms": round((time.perf_counter() - started) * 1000),
            "service_latency_ms": answer.latency_ms,
            "input_tokens": answer.input_tokens,
            "output_tokens": answer.output_tokens,
            "attempts": attempt + 1,
        }
    raise AssertionError("unreachable")


def answer_samples(
    samples: list[dict[str, Any]],
    models: dict[str, str],
    *,
    runtime: BedrockRuntime,
    settings: dict[str, Any],
    concurrency: int,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """For each sample, `{"index", "reference", <role>: answer-or-error, ...}` in input order."""
    jobs = [(sample, role, model_id) for sample in samples for role, model_id in models.items()]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        answers = list(pool.map(lambda job: _answer(runtime, job[2], job[0], settings, sleep), jobs))
    rows: dict[int, dict[str, Any]] = {}
    for (sample, role, _), answer in zip(jobs, answers, strict=True):
        row = rows.setdefault(sample["index"], {"index": sample["index"], "reference": sample["reference"]})
        row[role] = answer
    return [rows[sample["index"]] for sample in samples]
