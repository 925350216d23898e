"""`make bench`: the dataset validator against a bare json.loads-per-line loop.

Generates (once, under .build/bench/) a ~150 MB continued-pre-training file of 100,000
records and a 10,000-record Nova conversation file, then measures, in the same run:
- the bare loop over each file (in this process, best of 3);
- `bedrock-customize validate --json FILE` as a fresh process, best of 5 (wall time and peak RSS);
- that command's start-up, on a one-record file.
It prints records/s, MB/s, peak RSS and the ratio (validate - start-up) / bare loop.
Targets: ratio <= 2, start-up < 1.5 s, peak RSS < 150 MB.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".build" / "bench"
CLI = [sys.executable, "-m", "bedrock_customize.cli", "validate", "--json"]
WORDS = ("model data training record token bucket pipeline throughput evaluation custom base job "
         "validation summary council library river budget report service region account").split()


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def generate() -> dict[str, tuple[Path, list[str]]]:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(42)
    cpt = OUT / "cpt-100k.jsonl"
    if not cpt.exists():
        with cpt.open("w") as handle:
            for index in range(100_000):
                handle.write(json.dumps({"input": f"Document {index}. " + words(rng, 215)}) + "\n")
    nova = OUT / "nova-10k.jsonl"
    if not nova.exists():
        with nova.open("w") as handle:
            for index in range(10_000):
                handle.write(json.dumps({
                    "schemaVersion": "bedrock-conversation-2024",
                    "system": [{"text": "You summarize documents in one sentence."}],
                    "messages": [
                        {"role": "user", "content": [{"text": f"Summarize document {index}: " + words(rng, 120)}]},
                        {"role": "assistant", "content": [{"text": words(rng, 20)}]},
                    ],
                }) + "\n")
    tiny = OUT / "tiny.jsonl"
    tiny.write_text(json.dumps({"input": "one record"}) + "\n")
    return {
        "continued pre-training, Titan Text Express": (cpt, ["--base-model", "titan-text-express", "--customization-type", "CONTINUED_PRE_TRAINING"]),
        "conversation, Nova Lite": (nova, ["--base-model", "nova-lite"]),
        "_startup": (tiny, ["--base-model", "titan-text-express", "--customization-type", "CONTINUED_PRE_TRAINING"]),
    }


def bare_loop(path: Path) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        with path.open("rb") as handle:
            for line in handle:
                json.loads(line)
        best = min(best, time.perf_counter() - start)
    return best


def run_cli(path: Path, args: list[str]) -> tuple[float, float, dict]:
    """Wall seconds, peak RSS in MB (of this process alone) and the JSON report of one run."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen([*CLI, *args, str(path)], stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in (0, 1):
            raise SystemExit(f"validate exited {process.returncode}")
        out.seek(0)
        return wall, usage.ru_maxrss / 1024, json.loads(out.read())


def main() -> int:
    files = generate()
    startup = min(run_cli(*files["_startup"])[0] for _ in range(5))
    print(f"start-up of `bedrock-customize validate` (one-record file, best of 5): {startup:.2f} s (target < 1.5 s)")
    ok = startup < 1.5
    for label, (path, args) in files.items():
        if label.startswith("_"):
            continue
        size_mb = path.stat().st_size / 1e6
        loop = bare_loop(path)
        wall, rss, report = min((run_cli(path, args) for _ in range(5)), key=lambda r: r[0])
        work = wall - startup
        ratio = work / loop
        records = report["records"]
        print(f"\n{label}: {path.name}, {size_mb:.0f} MB, {records:,} records, valid={report['valid']}")
        print(f"  bare json.loads loop: {loop:.2f} s; validate: {wall:.2f} s wall, {work:.2f} s beyond start-up")
        print(f"  {records / work:,.0f} records/s, {size_mb / work:.0f} MB/s, peak RSS {rss:.0f} MB (target < 150 MB)")
        print(f"  ratio (validate beyond start-up / bare loop): {ratio:.2f}x (target <= 2x)")
        ok = ok and ratio <= 2 and rss < 150 and report["valid"]
    print(f"\n{'all targets met' if ok else 'TARGET MISSED'} (one run on a shared machine; ratios are what to compare)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
