"""Plan Evaluation: the test records become samples (through their data format), written in
shards; above the request's threshold the shards are scored in a Map state."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from customization.datasets.formats import format_for
from customization.errors import EvaluationFailedError
from customization.evaluation.contracts import Sample
from customization.models.steps import EvaluationPlan, RunContext, Shard
from customization.vocabulary import EVALUATION_DIR

if TYPE_CHECKING:
    from customization.adapters.storage import ObjectStore

SHARDS = f"{EVALUATION_DIR}shards/"
_UNFIT = (ValueError, KeyError, TypeError, IndexError, AttributeError)


def iter_samples(lines: Iterable[bytes], data_format: str) -> Iterator[Sample]:
    """Samples of the records that parse and fit the format, numbered in order; others are
    passed over (the validator has already reported them)."""
    extract = format_for(data_format).exchange
    index = 0
    for raw in lines:
        if not raw.strip():
            continue
        try:
            exchange = extract(json.loads(raw))
        except _UNFIT:
            continue
        if exchange.messages and exchange.messages[-1]["role"] == "user" and exchange.reference:
            yield Sample(index=index, system=exchange.system, messages=exchange.messages, reference=exchange.reference,
                         grading=exchange.grading)
            index += 1


def read_samples(lines: Iterable[bytes], data_format: str, limit: int) -> list[Sample]:
    samples = []
    for sample in iter_samples(lines, data_format):
        samples.append(sample)
        if len(samples) >= limit:
            break
    return samples


def plan_evaluation(run: RunContext, *, store: ObjectStore) -> EvaluationPlan:
    if run.test_data is None:
        return EvaluationPlan(sharded=False, shards=[], samples=0, note=run.split.get("reason", "no test set"))
    samples = read_samples(store.iter_lines(run.test_data), run.data_format, run.evaluation.max_samples)
    if not samples:
        raise EvaluationFailedError(f"{run.test_data} holds no record usable as an evaluation sample")
    sharded = len(samples) > run.evaluation.map_threshold
    size = run.evaluation.shard_size if sharded else len(samples)
    shards = []
    for number, start in enumerate(range(0, len(samples), size)):
        chunk = samples[start : start + size]
        uri = run.uri(f"{SHARDS}shard-{number:04d}.jsonl")
        store.put_bytes(uri, "".join(sample.model_dump_json() + "\n" for sample in chunk).encode(), "application/jsonl")
        shards.append(Shard(index=number, uri=uri, count=len(chunk)))
    return EvaluationPlan(sharded=sharded, shards=shards, samples=len(samples))


def read_shard(text: str) -> list[Sample]:
    return [Sample.model_validate_json(line) for line in text.splitlines() if line.strip()]
