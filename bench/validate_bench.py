"""`make bench`: the dataset validator against a bare json.loads-per-line loop.

Generates (once, under .build/bench/) a ~150 MB continued-pre-training file of 100,000
records and a 10,000-record Nova conversation file, then measures, in the same run:
- the validator in this process (the CLI's file reader and `validate_sources`) against a bare
  loop over the same file, alternating the two, best of 5 each: the ratio;
- `bedrock-customize validate --json FILE` as a fresh process, best of 5: wall time and peak RSS;
- that command's start-up, on a one-record file.
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
sys.path[:0] = [str(ROOT), str(ROOT / "lambdas")]
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
        "continued pre-training, Titan Text Express": (cpt, ["--base-model", "titan-text-express", "--customization-type", "CONTINUED_PRE_TRAINING"]),  # noqa: E501
        "conversation, Nova Lite": (nova, ["--base-model", "nova-lite"]),
        "_startup": (tiny, ["--base-model", "titan-text-express", "--customization-type", "CONTINUED_PRE_TRAINING"]),
    }


def bare_loop(path: Path) -> float:
    start = time.perf_counter()
    with path.open("rb") as handle:
        for line in handle:
            json.loads(line)
    return time.perf_counter() - start


def validator(path: Path, args: list[str]) -> float:
    """The validator's work on the file, as the CLI does it, without the process start-up."""
    from bedrock_customize.cli import _local_lines
    from customization.datasets.validator import DatasetSource, batch_size_for, validate_sources
    from customization.registry import load_registry

    model = load_registry().resolve(args[args.index("--base-model") + 1])
    customization = model.customization(args[args.index("--customization-type") + 1] if "--customization-type" in args else "FINE_TUNING")
    source = DatasetSource(role="training", name=str(path), lines=lambda: _local_lines(path), size_bytes=path.stat().st_size)
    start = time.perf_counter()
    (report,) = validate_sources(model, customization, [source], batch_size=batch_size_for({}, customization.hyperparameters))
    elapsed = time.perf_counter() - start
    if not report.valid:
        raise SystemExit(f"the generated file is invalid: {report.describe()}")
    return elapsed


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
    # The fresh processes first: a child forked from a parent that has loaded the validator would
    # count the parent's pages in its peak RSS.
    fresh = {label: min((run_cli(path, args) for _ in range(5)), key=lambda r: r[0])
             for label, (path, args) in files.items() if not label.startswith("_")}
    for label, (path, args) in files.items():
        if label.startswith("_"):
            continue
        size_mb = path.stat().st_size / 1e6
        loops, validations = [], []
        for _ in range(5):  # alternating, so both see the same machine
            loops.append(bare_loop(path))
            validations.append(validator(path, args))
        loop, work = min(loops), min(validations)
        ratio = work / loop
        wall, rss, report = fresh[label]
        records = report["records"]
        print(f"\n{label}: {path.name}, {size_mb:.0f} MB, {records:,} records, valid={report['valid']}")
        print(f"  bare json.loads loop: {loop:.2f} s; the validator: {work:.2f} s ({records / work:,.0f} records/s, "
              f"{size_mb / work:.0f} MB/s)")
        print(f"  ratio (validator / bare loop, best of 5 each): {ratio:.2f}x (target <= 2x)")
        print(f"  `validate` as a fresh process: {wall:.2f} s wall, peak RSS {rss:.0f} MB (target < 150 MB)")
        ok = ok and ratio <= 2 and rss < 150 and report["valid"]
    print(f"\n{'all targets met' if ok else 'TARGET MISSED'} (one run on a shared machine; ratios are what to compare)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
