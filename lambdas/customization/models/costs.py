"""The cost estimate as it travels with the run (Validate Request makes it; the report, the
notices and the CLI read it), and the billing rule of provisioned throughput."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from customization.registry import PriceName


class CostLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str
    quantity: float
    unit: str
    price: PriceName | None = Field(description="the registry price used, None for a line that costs nothing")
    unit_usd: float | None
    usd: float | None = Field(description="None: the price is unknown")
    note: str = ""


class CostEstimate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = "USD"
    base_model: str
    region: str
    training_tokens_per_epoch: int
    epochs: int
    billed_training_tokens: int
    lines: list[CostLine]
    total_usd: float | None = Field(description="None when a needed price is unknown")
    known_usd: float = Field(description="the sum of the lines whose price is known")
    worst_case_usd: float | None = Field(description="the total if the deployment lives to deployment.max_hours")
    unknown_prices: list[str]
    unconfirmed_prices: list[str]
    overridden_prices: list[str]
    sources: dict[str, str]
    assumptions: list[str]

    def describe_total(self) -> str:
        if self.total_usd is None:
            return f"at least ${self.known_usd:,.2f} (unknown: {', '.join(self.unknown_prices)})"
        return f"${self.total_usd:,.2f}"

    def rates(self) -> dict[str, float | None]:
        """The unit price of each registry price the estimate used."""
        return {item.price: item.unit_usd for item in self.lines if item.price}


def hours_billed(hours: float) -> int:
    """Provisioned throughput is billed hourly; a started hour is counted whole (the cautious reading)."""
    return max(1, math.ceil(hours))
