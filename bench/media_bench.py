"""`make bench`: media lookups at the documented maxima, against a simulated S3 that answers
each call after 20 ms.

- Nova Lite: 20,000 records with 10 images each (200,000 images): sizes only.
- Llama 3.2 11B Vision: 10,000 records with 10 images each (100,000 images): sizes, and pixel
  dimensions from each image's header (a ranged GET, on the lookups' bounded pool).
Each validates the dataset as Validate Request does (the same validator and lookups) and prints
the wall time beside the Validate Request function's timeout and the S3 calls made.
"""

from __future__ import annotations

import bisect
import json
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambdas")]

from customization.datasets.media import MediaLookups  # noqa: E402
from customization.datasets.validator import DatasetSource, validate_sources  # noqa: E402
from customization.registry import load_registry  # noqa: E402
from infra import constants as c  # noqa: E402
from infra.steps import STEPS  # noqa: E402
from tests.images import png  # noqa: E402

LATENCY = 0.02
IMAGES_PER_RECORD = 10
HEADER = png(512, 512)


class SlowS3:
    """Objects by key, each call answered after LATENCY seconds (in parallel, as S3 does)."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = sorted(keys)
        self.calls = 0
        self._lock = threading.Lock()

    def _call(self) -> None:
        with self._lock:
            self.calls += 1
        time.sleep(LATENCY)

    def list_window(self, bucket: str, prefix: str, start_after: str) -> tuple[dict[str, int], bool]:
        self._call()
        start = bisect.bisect_right(self.keys, start_after)
        window = [k for k in self.keys[start : start + 1001] if k.startswith(prefix)]
        return {k: len(HEADER) for k in window[:1000]}, len(window) > 1000

    def read_range(self, uri: str, length: int) -> bytes | None:
        self._call()
        return HEADER[:length]


def dataset(records: int) -> tuple[list[bytes], list[str]]:
    lines, keys = [], []
    for index in range(records):
        blocks = []
        for image in range(IMAGES_PER_RECORD):
            key = f"media/images/r{index:05d}-{image}.png"
            keys.append(key)
            blocks.append({"image": {"format": "png", "source": {"s3Location": {"uri": f"s3://data/{key}"}}}})
        lines.append(json.dumps({
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [
                {"role": "user", "content": [{"text": f"Describe picture set {index}."}, *blocks]},
                {"role": "assistant", "content": [{"text": f"Set {index} shows ten grey squares."}]},
            ],
        }).encode())
    return lines, keys


def run(model_alias: str, records: int, timeout: int) -> bool:
    model = load_registry().resolve(model_alias)
    customization = model.customization("FINE_TUNING")
    lines, keys = dataset(records)
    s3 = SlowS3(keys)
    lookups = MediaLookups(s3)
    source = DatasetSource(role="training", name="s3://data/train.jsonl", lines=lambda: lines, bucket="data")
    started = time.perf_counter()
    (report,) = validate_sources(model, customization, [source], batch_size=None, media=lookups)
    lookups.close()
    elapsed = time.perf_counter() - started
    print(f"{model.display_name}: {records:,} records x {IMAGES_PER_RECORD} images = {len(keys):,} images, "
          f"valid={report.valid}: {elapsed:.1f} s (Validate Request's timeout: {timeout} s)")
    print(f"  S3 calls: {lookups.calls['list']:,} listings, {lookups.calls['range']:,} ranged reads "
          f"({s3.calls:,} in all; one HEAD per image would be {len(keys):,} calls, {len(keys) * LATENCY:,.0f} s)")
    return report.valid and elapsed < timeout


def main() -> int:
    (validate,) = (step for step in STEPS if step.state == c.VALIDATE_REQUEST)
    print(f"media lookups against a simulated S3 answering each call after {LATENCY * 1000:.0f} ms")
    ok = run("nova-lite", 20_000, validate.timeout_seconds)
    ok = run("llama3.2-11b", 10_000, validate.timeout_seconds) and ok
    print(f"{'all targets met' if ok else 'TARGET MISSED'} (one run on a shared machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
