"""Prices per model and the cost budget.

Prices are USD per million tokens: (input, cached input, output), as published by the
providers; override or extend them with ``LLMSettings.prices``. A model that is not in the table
costs 0 and is flagged ``priced: false`` in the events, so a missing price is visible, not hidden.
Models served by a local endpoint (localhost, 127.0.0.1, ::1) cost 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from paper2code.errors import BudgetExceeded

PRICES: dict[str, tuple[float, float, float]] = {
    "gpt-5": (1.25, 0.125, 10.00),
    "gpt-5-mini": (0.25, 0.025, 2.00),
    "gpt-5-nano": (0.05, 0.005, 0.40),
    "gpt-4.1": (2.00, 0.50, 8.00),
    "gpt-4.1-mini": (0.40, 0.10, 1.60),
    "gpt-4.1-nano": (0.10, 0.025, 0.40),
    "gpt-4o": (2.50, 1.25, 10.00),
    "gpt-4o-mini": (0.15, 0.075, 0.60),
    "o3": (2.00, 0.50, 8.00),
    "o3-mini": (1.10, 0.55, 4.40),
    "o4-mini": (1.10, 0.275, 4.40),
}

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


def is_local(base_url: str | None) -> bool:
    return bool(base_url) and (urlparse(base_url).hostname or "") in LOCAL_HOSTS


@dataclass(frozen=True)
class Price:
    input: float
    cached_input: float
    output: float
    priced: bool = True

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        uncached = max(0, prompt_tokens - cached_tokens)
        return (
            uncached * self.input
            + cached_tokens * self.cached_input
            + completion_tokens * self.output
        ) / 1_000_000


FREE = Price(0.0, 0.0, 0.0, priced=True)
UNKNOWN = Price(0.0, 0.0, 0.0, priced=False)


def price_for(
    model: str,
    *,
    base_url: str | None = None,
    overrides: Mapping[str, tuple[float, float, float]] | None = None,
) -> Price:
    """The price of ``model``: overrides first, then the table (also for dated snapshots such as
    ``gpt-4.1-mini-2025-04-14``), free on a local endpoint, else unknown (0, flagged)."""
    table = {**PRICES, **(overrides or {})}
    if model in table:
        return Price(*table[model])
    if is_local(base_url):
        return FREE
    for name in sorted(table, key=len, reverse=True):  # longest prefix: gpt-4.1-mini before gpt-4.1
        if model.startswith(name + "-"):
            return Price(*table[name])
    return UNKNOWN


class CostBudget:
    """Stops a run before a call that could take its total cost over ``max_usd``."""

    def __init__(self, max_usd: float | None, spent_usd: float = 0.0) -> None:
        self.max_usd = max_usd
        self.spent_usd = spent_usd

    def check(self, estimated_usd: float) -> None:
        """Raise ``BudgetExceeded`` if spending ``estimated_usd`` more could exceed the cap."""
        if self.max_usd is None:
            return
        if self.spent_usd + estimated_usd > self.max_usd:
            raise BudgetExceeded(
                f"cost cap reached: {self.spent_usd:.4f} USD spent, the next call could cost "
                f"about {estimated_usd:.4f} USD, cap {self.max_usd:.4f} USD. Finished artifacts "
                f"are kept: rerun with a larger --max-cost to continue."
            )

    def add(self, usd: float) -> None:
        self.spent_usd += usd
