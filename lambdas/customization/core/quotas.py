"""Quota headroom, checked in Validate Request before anything is created.

Service Quotas gives the account's applied values; Bedrock's list calls give what is in use.
Quotas are found by name (Service Quotas has no stable name-to-code table for Bedrock in its
documentation), so a quota that is not found is reported as not checked, never assumed."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from customization.errors import QuotaExceededError

if TYPE_CHECKING:
    from customization.models.request import CustomizationRequest
    from customization.models.resources import Usage


@dataclass(frozen=True)
class QuotaRule:
    what: str
    name_pattern: re.Pattern[str]
    usage: str  # a field of Usage
    needed: Callable[[CustomizationRequest], int]  # what this run adds to that usage


RULES = (
    QuotaRule("customization jobs in progress", re.compile(r"concurrent.*customization jobs", re.I),
              "customization_jobs_in_progress", lambda request: 1),
    # Every candidate's or stage's custom model exists at once before the losers are deleted.
    QuotaRule("custom models", re.compile(r"^custom models per account$", re.I), "custom_models", lambda request: trained_models(request)),
    QuotaRule(
        "no-commitment model units for custom models",
        re.compile(r"model units no-commitment provisioned throughputs across custom models", re.I),
        "no_commitment_custom_model_units",
        lambda request: request.deployment.model_units if request.deployment.mode == "provisioned" else 0,
    ),
)


def trained_models(request: CustomizationRequest) -> int:
    """How many custom models the run makes: one, a sweep's candidates, or its stages."""
    if request.sweep is not None:
        return len(request.sweep.expand())
    return 1 + len(request.stages or [])


def job_headroom(quotas: dict[str, float] | None, usage: Usage | None) -> int | None:
    """Customization jobs the account may still start at once (None: the quota is not known)."""
    if quotas is None or usage is None:
        return None
    rule = RULES[0]
    matches = [value for name, value in quotas.items() if rule.name_pattern.search(name)]
    return None if not matches else max(0, int(matches[0]) - getattr(usage, rule.usage))


def check_headroom(request: CustomizationRequest, quotas: dict[str, float] | None, usage: Usage | None) -> list[str]:
    """Raise QuotaExceededError when a quota leaves no room for this run; return what was
    checked (or why not), for the validation report."""
    if quotas is None or usage is None:
        return ["quotas not checked: Service Quotas did not answer for Amazon Bedrock in this account"]
    notes, short = [], []
    for rule in RULES:
        needed = rule.needed(request)
        if not needed:
            continue
        matches = [(name, value) for name, value in quotas.items() if rule.name_pattern.search(name)]
        if not matches:
            notes.append(f"{rule.what}: no quota of that name in Service Quotas, not checked")
            continue
        name, limit = matches[0]
        used = getattr(usage, rule.usage)
        notes.append(f"{rule.what}: {used} in use + {needed} needed of {limit:g} ({name!r})")
        if used + needed > limit:
            short.append(f"{name!r} is {limit:g} and {used} are in use, so the {needed} this run needs do not fit")
    if short:
        raise QuotaExceededError(
            "quota: " + "; ".join(short) + ". Free capacity (delete unused custom models or provisioned "
            "throughputs, wait for running jobs) or request an increase in Service Quotas; nothing was started"
        )
    return notes
