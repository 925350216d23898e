"""The promotion gate: promote when the primary metric improved by at least the request's
minimum AND its 95% interval lies above zero (a gain the data establishes)."""

from __future__ import annotations

from typing import Protocol


class GateSettings(Protocol):
    primary_metric: str
    min_improvement: float


def promotion_decision(delta: float, ci95: tuple[float, float], paired: int, settings: GateSettings) -> tuple[bool, str]:
    metric, need = settings.primary_metric, settings.min_improvement
    interval = f"95% interval {ci95[0]:+.4f} to {ci95[1]:+.4f}"
    if paired == 0:
        return False, "no sample was answered by both models"
    if delta < need:
        return False, f"{metric} changed by {delta:+.4f} ({interval}), less than the required {need:+.4f}"
    if ci95[0] <= 0:
        return False, f"{metric} changed by {delta:+.4f}, but its {interval} includes zero: the gain is not established"
    return True, f"{metric} improved by {delta:+.4f} ({interval}), at least the required {need:+.4f}, and the interval is above zero"
