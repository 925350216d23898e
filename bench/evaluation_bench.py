"""`make bench`: the evaluation's inference against a simulated endpoint.

The endpoint answers after a fixed latency and serves at most CONCURRENCY calls at once
(beyond that it throttles, as Bedrock does). Scoring N samples calls it 2N times (base and
custom), so the ideal is 2N x latency / concurrency. Target: at most 1.25x the ideal; and with
20% of calls throttled, no sample is lost.
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
    def __init__(self, *, throttle_share: float) -> None:
        self.throttle_share = throttle_share
        self.slots = threading.BoundedSemaphore(CONCURRENCY)
        self.rng = random.Random(5)
        self.lock = threading.Lock()
        self.calls = self.throttled = 0

    def converse(self, *, model_id, system, messages, max_tokens, temperature):
        with self.lock:
            self.calls += 1
            throttle = self.rng.random() < self.throttle_share
        if throttle or not self.slots.acquire(blocking=False):
            with self.lock:
                self.throttled += 1
            raise ThrottlingError("Rate exceeded (simulated endpoint)")
        try:
            time.sleep(LATENCY)
        finally:
            self.slots.release()
        return ModelReply(text=f"answer from {model_id}", input_tokens=20, output_tokens=10, latency_ms=int(LATENCY * 1000))


def run(throttle_share: float) -> tuple[float, int, Endpoint]:
    endpoint = Endpoint(throttle_share=throttle_share)
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
    elapsed_t, complete_t, endpoint_t = run(0.2)
    print(f"  20% throttled: {elapsed_t:.2f} s ({elapsed_t / ideal:.2f}x, back-off included), "
          f"{endpoint_t.throttled} of {endpoint_t.calls} calls throttled, {complete_t}/{SAMPLES} samples complete "
          f"(target: none lost)")
    ok = ratio <= 1.25 and complete == SAMPLES and complete_t == SAMPLES
    print(f"{'all targets met' if ok else 'TARGET MISSED'} (one run on a shared machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
