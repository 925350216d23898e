"""Hyperparameters: request overrides merged over the model's defaults, checked against the
registry's specs, and rendered as the string map Bedrock expects."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from customization.registry import CustomizationSpec, HyperparameterSpec

WARMUP = "learningRateWarmupSteps"
EARLY_STOPPING_PREFIX = "earlyStopping"


class HyperparameterError(ValueError):
    """A hyperparameter name or value the base model does not accept."""


def _coerce(name: str, value: object, spec: HyperparameterSpec) -> float | str:
    if spec.type == "choice":
        if value not in spec.choices:
            raise HyperparameterError(f"hyperparameters.{name}: {value!r} is not one of {', '.join(spec.choices)}")
        return str(value)
    if isinstance(value, bool):
        raise HyperparameterError(f"hyperparameters.{name}: expected a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise HyperparameterError(f"hyperparameters.{name}: expected a number, got {value!r}") from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise HyperparameterError(f"hyperparameters.{name}: expected a finite number, got {value!r}")
    if spec.type == "int" and not float(value).is_integer():
        raise HyperparameterError(f"hyperparameters.{name}: expected an integer, got {value!r}")
    low, high = spec.bounds
    if not low <= value <= high:
        raise HyperparameterError(
            f"hyperparameters.{name}: {value!r} is outside the allowed range [{_render(low, spec)}, {_render(high, spec)}]"
        )
    return float(value)


def _render(value: float | str, spec: HyperparameterSpec) -> str:
    if isinstance(value, str):
        return value
    if spec.type == "int":
        return str(int(value))
    return repr(float(value))


def resolve_hyperparameters(
    overrides: Mapping[str, object], specs: Mapping[str, HyperparameterSpec]
) -> dict[str, str]:
    """Merge `overrides` over the defaults of `specs`; raise HyperparameterError on the first
    unknown name or bad value."""
    unknown = sorted(set(overrides) - set(specs))
    if unknown:
        raise HyperparameterError(
            f"hyperparameters: unknown name(s) {', '.join(unknown)}; allowed: {', '.join(sorted(specs))}"
        )
    resolved: dict[str, str] = {}
    for name, spec in specs.items():
        value = _coerce(name, overrides[name], spec) if name in overrides else spec.default
        resolved[name] = _render(value, spec)
    return resolved


def typed_values(values: Mapping[str, str], specs: Mapping[str, HyperparameterSpec]) -> dict[str, int | float | str]:
    """Resolved values as the typed members of a structure (RFT's hyperParameters), not strings."""
    typed: dict[str, int | float | str] = {}
    for name, text in values.items():
        kind = specs[name].type
        typed[name] = int(float(text)) if kind == "int" else float(text) if kind == "float" else text
    return typed


@dataclass(frozen=True)
class HyperparameterPlan:
    values: dict[str, str]
    adjustments: list[str] = field(default_factory=list)


def plan_hyperparameters(
    overrides: Mapping[str, object], customization: CustomizationSpec, *, training_records: int, has_validation: bool
) -> HyperparameterPlan:
    """Resolve the hyperparameters, then apply the data-aware defaults AWS publishes; every
    change to a default is recorded in plain words. Values the request sets are never changed."""
    values = resolve_hyperparameters(overrides, customization.hyperparameters)
    adjustments = []
    warmup = customization.hyperparameters.get(WARMUP)
    if customization.warmup_divisor and warmup and WARMUP not in overrides:
        low, high = warmup.bounds
        steps = int(min(high, max(low, round(training_records / customization.warmup_divisor))))
        if str(steps) != values[WARMUP]:
            adjustments.append(
                f"{WARMUP}: {steps} instead of the default {values[WARMUP]} ({training_records:,} training records / "
                f"{customization.warmup_divisor}, the rule of the Nova user guide, within [{int(low)}, {int(high)}])"
            )
            values[WARMUP] = str(steps)
    early = [name for name in values if name.startswith(EARLY_STOPPING_PREFIX)]
    if early and not has_validation:
        for name in early:
            del values[name]
        adjustments.append(f"{', '.join(early)} left out: early stopping watches validation loss and there is no validation set")
    return HyperparameterPlan(values=values, adjustments=adjustments)
