"""`make bench`: `bedrock-customize prepare` streams, so its memory does not grow with the input.

Generates (once, under .build/bench/) raw inputs in three readers' shapes, each at two sizes
ten times apart: Alpaca JSON Lines and a dialogue CSV converted for Nova Lite (2,000 and 20,000
records, Nova's maximum), the same Alpaca records as Parquet, and one long document for Titan
Text Express continued pre-training (5 and 50 MB of text, chunked under its token limit). Each
`prepare` runs as a fresh process; printed: wall time, records per second and peak RSS of
both sizes, and their RSS ratio. Target: the ten times larger input peaks within 1.5x the RSS
of the small one, and every run writes a valid dataset (exit 0).
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".build" / "bench" / "prepare"
CLI = [sys.executable, "-m", "bedrock_customize.cli", "prepare"]
WORDS = ("model data training record token bucket pipeline throughput evaluation custom base job "
         "validation summary council library river budget report service region account").split()
SIZES = (2_000, 20_000)


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def alpaca(rng: random.Random, count: int) -> list[dict[str, str]]:
    return [{"instruction": "Summarize the document in one sentence.", "input": f"Document {n}. " + words(rng, 150),
             "output": f"Summary {n}: " + words(rng, 20)} for n in range(count)]


def generate() -> dict[str, list[tuple[Path, list[str]]]]:
    """label -> [(input, arguments)] at each size, small first."""
    OUT.mkdir(parents=True, exist_ok=True)
    cases: dict[str, list[tuple[Path, list[str]]]] = {"JSON Lines (Alpaca)": [], "CSV (mapped)": [], "Parquet": [],
                                                      "text, continued pre-training": []}
    for count in SIZES:
        records = None
        jsonl, table, parquet = OUT / f"alpaca-{count}.jsonl", OUT / f"dialogues-{count}.csv", OUT / f"alpaca-{count}.parquet"
        if not (jsonl.exists() and table.exists() and parquet.exists()):
            records = alpaca(random.Random(count), count)
            jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))
            with table.open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=["id", "dialogue", "summary"])
                writer.writeheader()
                writer.writerows({"id": n, "dialogue": r["input"], "summary": r["output"]} for n, r in enumerate(records))
            import pyarrow
            import pyarrow.parquet as pq

            pq.write_table(pyarrow.Table.from_pylist(records), parquet, row_group_size=1_000)
        nova = ["--base-model", "nova-lite", "--validation-fraction", "0.05"]
        cases["JSON Lines (Alpaca)"].append((jsonl, nova))
        cases["CSV (mapped)"].append((table, [*nova, "--map", "prompt=dialogue", "--map", "completion=summary"]))
        cases["Parquet"].append((parquet, nova))
    for megabytes in (5, 50):
        document = OUT / f"document-{megabytes}mb.md"
        if not document.exists():
            rng = random.Random(megabytes)
            with document.open("w") as handle:
                while handle.tell() < megabytes * 1_000_000:
                    handle.write(". ".join(words(rng, 12).capitalize() for _ in range(8)) + ".\n\n")
        cases["text, continued pre-training"].append(
            (document, ["--base-model", "titan-text-express", "--customization-type", "CONTINUED_PRE_TRAINING"]))
    return cases


def run(path: Path, args: list[str]) -> tuple[float, float, dict]:
    """Wall seconds, peak RSS in MB and the prepare report of one fresh `prepare` process."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        process = subprocess.Popen([*CLI, str(path), "--out", out, *args], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit(f"prepare {path.name} exited {code}: {process.stderr.read().decode()[-500:] if process.stderr else ''}")
        report = json.loads((Path(out) / "prepare-report.json").read_text())
        return wall, usage.ru_maxrss / 1024, report


def main() -> int:
    if sys.argv[1:] == ["--generate"]:
        generate()
        return 0
    # The inputs are made in a process of their own: a child forked from a parent holding them
    # (and pyarrow) would count the parent's pages in its peak RSS.
    subprocess.run([sys.executable, __file__, "--generate"], check=True)
    ok = True
    for label, runs in generate().items():
        measured = [run(path, args) for path, args in runs]
        print(f"\n{label}:")
        for (path, _), (wall, rss, report) in zip(runs, measured, strict=True):
            written = sum(report["records_written"].values())
            print(f"  {path.name} ({path.stat().st_size / 1e6:.1f} MB): {report['records_read']:,} read, {written:,} written, "
                  f"valid={report['valid']}; {wall:.2f} s wall ({written / wall:,.0f} records/s), peak RSS {rss:.0f} MB")
        ratio = measured[1][1] / measured[0][1]
        print(f"  peak RSS, 10x the input: {ratio:.2f}x (target <= 1.5x)")
        ok = ok and ratio <= 1.5 and all(r[2]["valid"] for r in measured)
    print(f"\n{'all targets met' if ok else 'TARGET MISSED'} (one run on a shared machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
