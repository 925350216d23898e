"""An honest test set: without test_data, a seeded sample of the training records is held
out, and the file submitted for training is rewritten without them, so the evaluation never
scores on training data."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator


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
