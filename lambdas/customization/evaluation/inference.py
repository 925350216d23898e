"""Inference for the evaluation: every sample answered by the base and the custom model (and a
distillation's teacher) through the Converse API, with bounded concurrency, back-off on throttling and a per-call
timeout (the client's). Latency and token counts are recorded; a sample that still fails is
reported with its error, never dropped."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from customization.errors import RETRYABLE_ERRORS, CustomizationError
from customization.evaluation.contracts import Answer, AnsweredSample, Answerer, Sample

if TYPE_CHECKING:
    from customization.adapters.runtime import BedrockRuntime

ATTEMPTS = 4  # on top of the SDK's own retries
BACKOFF_SECONDS = 0.5


@dataclass(frozen=True)
class InferenceSettings:
    max_tokens: int
    temperature: float


def _answer(
    runtime: BedrockRuntime, model_id: str, sample: Sample, settings: InferenceSettings, sleep: Callable[[float], None]
) -> Answer:
    started = time.perf_counter()
    for attempt in range(ATTEMPTS):
        try:
            reply = runtime.converse(
                model_id=model_id, system=sample.system, messages=sample.messages,
                max_tokens=settings.max_tokens, temperature=settings.temperature,
            )
        except RETRYABLE_ERRORS as exc:
            if attempt == ATTEMPTS - 1:
                return Answer(error=f"{type(exc).__name__}: {exc}", attempts=attempt + 1)
            sleep(BACKOFF_SECONDS * 2**attempt)
            continue
        except CustomizationError as exc:
            return Answer(error=f"{type(exc).__name__}: {exc}", attempts=attempt + 1)
        return Answer(
            text=reply.text,
            latency_ms=round((time.perf_counter() - started) * 1000),
            service_latency_ms=reply.latency_ms,
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            attempts=attempt + 1,
        )
    raise AssertionError("unreachable")


def answer_samples(
    samples: list[Sample],
    models: dict[Answerer, str],
    *,
    runtime: BedrockRuntime,
    settings: InferenceSettings,
    concurrency: int,
    sleep: Callable[[float], None] = time.sleep,
) -> list[AnsweredSample]:
    """Each sample answered by every model (role -> model id), in input order."""
    jobs = [(sample, role) for sample in samples for role in models]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        answers = list(pool.map(lambda job: _answer(runtime, models[job[1]], job[0], settings, sleep), jobs))
    by_sample: dict[int, dict[Answerer, Answer]] = {}
    for (sample, role), answer in zip(jobs, answers, strict=True):
        by_sample.setdefault(sample.index, {})[role] = answer
    return [AnsweredSample(index=s.index, reference=s.reference, **by_sample[s.index]) for s in samples]
