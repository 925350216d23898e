"""An honest test set: the request's test_data, or else a seeded sample of the training
records held out of the file submitted for training, so the evaluation never scores on
training data. Chosen in Validate Request, before anything is spent."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from customization.vocabulary import DataRole

if TYPE_CHECKING:
    from customization.adapters.storage import ObjectStore
    from customization.datasets.report import DatasetReport
    from customization.models.request import CustomizationRequest
    from customization.registry import CustomizationSpec


def choose_holdout(records: int, *, fraction: float, max_samples: int, min_training: int, seed: int) -> set[int]:
    """Ordinals (0-based, among non-blank lines) of the records to hold out."""
    wanted = min(max_samples, max(1, round(records * fraction)))
    wanted = min(wanted, records - max(1, min_training))
    if wanted <= 0:
        return set()
    return set(random.Random(seed).sample(range(records), wanted))


def split_stream(lines: Iterable[bytes], holdout: set[int], held: list[bytes]) -> Iterator[bytes]:
    """Yields the training lines to keep (newline-terminated); appends the held-out ones to
    `held`. One pass, constant memory beyond the held-out records themselves."""
    ordinal = 0
    for raw in lines:
        if not raw.strip():
            continue
        line = raw if raw.endswith(b"\n") else raw + b"\n"
        if ordinal in holdout:
            held.append(line)
        else:
            yield line
        ordinal += 1


def choose_test_set(
    request: CustomizationRequest, customization: CustomizationSpec, reports: dict[str, DatasetReport]
) -> tuple[set[int], str | None]:
    """The training records to hold out for evaluation (ordinals), or why none are."""
    if request.test_data is not None:
        return set(), None
    if request.deployment.mode == "none":
        return set(), "no deployment, so no evaluation"
    limits = customization.limits
    validation = reports.get(DataRole.VALIDATION)
    validation_records = validation.records if validation else 0
    min_training = max(limits.training_records.min or 1, (limits.total_records.min or 0) - validation_records if limits.total_records else 0)
    settings = request.evaluation
    holdout = choose_holdout(
        reports[DataRole.TRAINING].records, fraction=settings.holdout_fraction, max_samples=settings.max_samples,
        min_training=min_training, seed=settings.seed,
    )
    return holdout, None if holdout else f"the training set is at the model's minimum of {min_training} records"


def split_counts(request: CustomizationRequest, reports: dict[str, DatasetReport], holdout: set[int]) -> dict[str, int]:
    training = reports[DataRole.TRAINING].records
    if request.test_data is not None:
        return {"training_records": training, "test_records": reports[DataRole.TEST].records}
    return {"training_records": training - len(holdout), "test_records": len(holdout)}


def hold_out_test_set(
    request: CustomizationRequest, holdout: set[int], reason: str | None, counts: dict[str, int], *,
    store: ObjectStore, data_prefix: str,
) -> dict[str, Any]:
    """The test set the evaluation scores, and the training file Bedrock gets: test_data as
    given, or else the held-out records, written beside the training data rewritten without
    them under the run's prefix. Returns the split as recorded in the reports."""
    split: dict[str, Any] = {
        "source": "test_data", "training_uri": request.training_data, "test_uri": request.test_data, **counts,
    }
    if reason is not None:
        return {**split, "source": "none", "reason": reason}
    if not holdout:
        return split
    held: list[bytes] = []
    training_uri = f"{data_prefix}training.jsonl"
    store.write_stream(training_uri, split_stream(store.iter_lines(request.training_data), holdout, held))
    test_uri = f"{data_prefix}held-out-test.jsonl"
    store.put_bytes(test_uri, b"".join(held), "application/jsonl")
    settings = request.evaluation
    return {
        **split, "source": "held-out", "seed": settings.seed, "fraction": settings.holdout_fraction,
        "original_training_uri": request.training_data, "training_uri": training_uri, "test_uri": test_uri,
    }
