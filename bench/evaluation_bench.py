"""`make bench`: the evaluation's inference against a simulated endpoint.

The endpoint answers after a fixed latency and serves at most CONCURRENCY calls at once
(beyond that it throttles, as Bedrock does). Scoring N samples calls it 2N times (base and
custom), so the ideal is 2N x latency / concurrency. Targets: at most 1.25x the ideal; with 20%
of calls throttled, in each of three runs (minimum, median and maximum printed), no sample lost
and at most 2x the ideal, back-off included; and never more calls in flight than the endpoint
serves (a call over its capacity is counted: the client must not hammer it).
"""

from __future__ import annotations

import random
import sys
import threading
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "lambdas")]

from customization.errors import ThrottlingError  # noqa: E402
from customization.evaluation.contracts import Sample  # noqa: E402
from customization.evaluation.inference import InferenceSettings, answer_samples  # noqa: E402
from customization.models.resources import ModelReply  # noqa: E402

LATENCY = 0.05
CONCURRENCY = 8
SAMPLES = 200


class Endpoint:
    def __init__(self, *, throttle_share: float, seed: int = 5) -> None:
        self.throttle_share = throttle_share
        self.slots = threading.BoundedSemaphore(CONCURRENCY)
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.calls = self.throttled = self.over_capacity = 0

    def converse(self, *, model_id, system, messages, max_tokens, temperature):
        with self.lock:
            self.calls += 1
            throttle = self.rng.random() < self.throttle_share
        full = not throttle and not self.slots.acquire(blocking=False)
        if throttle or full:
            with self.lock:
                self.throttled += 1
                self.over_capacity += full
            raise ThrottlingError("Rate exceeded (simulated endpoint)")
        try:
            time.sleep(LATENCY)
        finally:
            self.slots.release()
        return ModelReply(text=f"answer from {model_id}", input_tokens=20, output_tokens=10, latency_ms=int(LATENCY * 1000))


def run(throttle_share: float, seed: int = 5) -> tuple[float, int, Endpoint]:
    endpoint = Endpoint(throttle_share=throttle_share, seed=seed)
    samples = [Sample(index=i, system=[], messages=[{"role": "user", "content": [{"text": f"q{i}"}]}], reference="r")
               for i in range(SAMPLES)]
    started = time.perf_counter()
    rows = answer_samples(samples, {"base": "base", "custom": "custom"}, runtime=endpoint,
                          settings=InferenceSettings(max_tokens=64, temperature=0), concurrency=CONCURRENCY)
    elapsed = time.perf_counter() - started
    complete = sum(1 for row in rows if row.paired)
    return elapsed, complete, endpoint


def main() -> int:
    ideal = 2 * SAMPLES * LATENCY / CONCURRENCY
    print(f"evaluation inference: {SAMPLES} samples x 2 models, latency {LATENCY * 1000:.0f} ms, concurrency {CONCURRENCY}; "
          f"ideal {ideal:.2f} s")
    elapsed, complete, endpoint = run(0.0)
    ratio = elapsed / ideal
    print(f"  no throttling: {elapsed:.2f} s, {ratio:.2f}x the ideal (target <= 1.25x), {complete}/{SAMPLES} samples complete")
    throttled = [run(0.2, seed) for seed in (5, 6, 7)]  # three different throttling patterns
    ratios = sorted(elapsed_t / ideal for elapsed_t, _, _ in throttled)
    lost = [SAMPLES - complete_t for _, complete_t, _ in throttled]
    over = sum(endpoint_t.over_capacity for _, _, endpoint_t in throttled)
    calls = ", ".join(f"{e.throttled} of {e.calls}" for _, _, e in throttled)
    print(f"  20% throttled, three runs: {ratios[0]:.2f}x / {ratios[1]:.2f}x / {ratios[2]:.2f}x the ideal (min / median / "
          f"max, back-off included; target <= 2x); calls throttled {calls}; samples lost {lost} (target: none); "
          f"calls over the endpoint's capacity: {over} (target: 0)")
    ok = ratio <= 1.25 and complete == SAMPLES and ratios[2] <= 2 and not any(lost) and over == 0
    print(f"{'all targets met' if ok else 'TARGET MISSED'} (one run on a shared machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
