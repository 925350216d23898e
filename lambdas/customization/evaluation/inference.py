"""Inference for the evaluation: every sample answered by the base and the custom model (and a
distillation's teacher) through the Converse API, with bounded concurrency, jittered back-off on
throttling and a per-call timeout (the client's). Latency and token counts are recorded; a sample that still fails is
reported with its error, never dropped."""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING

from customization.errors import RETRYABLE_ERRORS, CustomizationError
from customization.evaluation.contracts import Answer, AnsweredSample, Answerer, Sample

if TYPE_CHECKING:
    from customization.adapters.runtime import BedrockRuntime
    from customization.models.resources import ModelReply

ATTEMPTS = 8  # on top of the SDK's own retries: a sample is lost only after 8 throttles in a row
BACKOFF_BASE_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 2.0


def full_jitter(attempt: int) -> float:
    """How long a throttled call waits before its next attempt: up to base x 2^attempt (capped),
    at random, so calls throttled together do not come back together."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))  # noqa: S311 - not for secrets


@dataclass(frozen=True)
class InferenceSettings:
    max_tokens: int
    temperature: float


@dataclass
class _Call:
    sample: Sample
    role: Answerer
    model_id: str
    attempts: int = 0
    started: float = 0.0
    answer: Answer | None = None


def _attempt(runtime: BedrockRuntime, call: _Call, settings: InferenceSettings) -> ModelReply:
    return runtime.converse(
        model_id=call.model_id, system=call.sample.system, messages=call.sample.messages,
        max_tokens=settings.max_tokens, temperature=settings.temperature,
    )


def _settle(call: _Call, future: Future[ModelReply], backoff: Callable[[int], float], waiting: list[tuple[float, int, _Call]],
            order: int) -> None:
    """A finished attempt: the answer, a failure that stays, or a retry after its back-off."""
    try:
        reply = future.result()
    except RETRYABLE_ERRORS as exc:
        if call.attempts >= ATTEMPTS:
            call.answer = Answer(error=f"{type(exc).__name__}: {exc}", attempts=call.attempts)
        else:
            heapq.heappush(waiting, (time.monotonic() + backoff(call.attempts - 1), order, call))
        return
    except CustomizationError as exc:
        call.answer = Answer(error=f"{type(exc).__name__}: {exc}", attempts=call.attempts)
        return
    call.answer = Answer(
        text=reply.text, latency_ms=round((time.perf_counter() - call.started) * 1000), service_latency_ms=reply.latency_ms,
        input_tokens=reply.input_tokens, output_tokens=reply.output_tokens, attempts=call.attempts,
    )


def answer_samples(
    samples: list[Sample],
    models: dict[Answerer, str],
    *,
    runtime: BedrockRuntime,
    settings: InferenceSettings,
    concurrency: int,
    backoff: Callable[[int], float] = full_jitter,
) -> list[AnsweredSample]:
    """Each sample answered by every model (role -> model id), in input order.

    At most `concurrency` calls are in flight. A throttled call waits its back-off before it is
    tried again, but not in a worker's place: the others go on meanwhile, so a throttled
    endpoint is never called more often than the concurrency allows, and never sits idle
    while there is work that may be sent."""
    calls = [_Call(sample, role, model_id) for sample in samples for role, model_id in models.items()]
    ready = list(reversed(calls))  # popped from the end: input order
    waiting: list[tuple[float, int, _Call]] = []  # (when it may be tried again, tie-break, call)
    running: dict[Future[ModelReply], tuple[_Call, int]] = {}
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        order = 0
        while ready or waiting or running:
            now = time.monotonic()
            while waiting and waiting[0][0] <= now:
                ready.append(heapq.heappop(waiting)[2])
            while ready and len(running) < concurrency:
                call = ready.pop()
                call.attempts += 1
                call.started = call.started or time.perf_counter()
                running[pool.submit(_attempt, runtime, call, settings)] = (call, order)
                order += 1
            timeout = max(0.0, waiting[0][0] - time.monotonic()) if waiting else None
            if not running:
                time.sleep(timeout or 0.0)  # only back-offs are left: wait for the first
                continue
            done, _ = wait(running, timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                call, tie = running.pop(future)
                _settle(call, future, backoff, waiting, tie)
    by_sample: dict[int, dict[Answerer, Answer]] = {}
    for call in calls:
        assert call.answer is not None
        by_sample.setdefault(call.sample.index, {})[call.role] = call.answer
    return [AnsweredSample(index=s.index, reference=s.reference, media=s.media, **by_sample[s.index]) for s in samples]
