"""The numbers behind the verdict: means, the paired bootstrap interval of the custom-minus-base
difference, and the verdict in plain words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
# Below this absolute difference the two models are called equivalent.
TIE_MARGIN = 0.005


def mean_score(scores: Sequence[float]) -> float:
    return round(fmean(scores), 4) if scores else 0.0


def bootstrap_interval(deltas: Sequence[float], *, seed: int = 7, resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float]:
    """95% percentile interval of the mean of paired differences (custom minus base)."""
    if not deltas:
        return (0.0, 0.0)
    values = np.asarray(deltas, dtype=float)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return (round(float(low), 4), round(float(high), 4))


@dataclass(frozen=True)
class Verdict:
    custom_is_better: bool
    delta: float
    text: str


def verdict(base: float, custom: float, samples: int, metric: str = "rougeL") -> Verdict:
    delta = round(custom - base, 4)
    figures = f"{metric} {custom:.4f} vs {base:.4f} ({delta:+.4f}) on {samples} samples"
    if delta > TIE_MARGIN:
        return Verdict(True, delta, f"custom model is BETTER than the base model: {figures}")
    if delta < -TIE_MARGIN:
        return Verdict(False, delta, f"custom model is WORSE than the base model: {figures}")
    return Verdict(False, delta, f"custom model is NOT BETTER than the base model: {figures}, within {TIE_MARGIN}")
