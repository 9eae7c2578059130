"""Prices per model and the cost budget.

Prices are USD per million tokens: (input, cached input, output), as published by the
providers; override or extend them with ``LLMSettings.prices``. A model that is not in the table
costs 0 and is flagged ``priced: false`` in the events, so a missing price is visible, not hidden.
Models served by a local endpoint (localhost, 127.0.0.1, ::1) cost 0 unless overridden.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterator, Mapping
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

LOCAL_HOSTS = {"localhost", "0.0.0.0"}


def is_local(base_url: str | None) -> bool:
    """True when ``base_url`` names this machine: ``localhost`` or a loopback address
    (127.0.0.0/8, ::1, ::ffff:127.0.0.1)."""
    host = (urlparse(base_url).hostname or "") if base_url else ""
    if host in LOCAL_HOSTS:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


@dataclass(frozen=True)
class Price:
    input: float
    cached_input: float
    output: float
    priced: bool = True
    """False when no price is known for the model (its calls count as free)."""
    local: bool = False
    """A model served on this machine: its calls cost nothing here and are not counted."""

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        uncached = max(0, prompt_tokens - cached_tokens)
        return (
            uncached * self.input
            + cached_tokens * self.cached_input
            + completion_tokens * self.output
        ) / 1_000_000


FREE = Price(0.0, 0.0, 0.0, priced=True, local=True)
UNKNOWN = Price(0.0, 0.0, 0.0, priced=False)


def price_for(
    model: str,
    *,
    base_url: str | None = None,
    overrides: Mapping[str, tuple[float, float, float]] | None = None,
) -> Price:
    """The price of ``model``: an override first; free on a local endpoint (localhost,
    127.0.0.1, ::1), whatever the model is called; then the table (also for dated snapshots such
    as ``gpt-4.1-mini-2025-04-14``); else unknown (0, flagged ``priced=False``).

    A local proxy that forwards to a paid API (LiteLLM, say) needs ``prices`` overrides."""
    overrides = overrides or {}
    if model in overrides:
        return Price(*overrides[model])
    if is_local(base_url):
        return FREE
    table = {**PRICES, **overrides}
    if model in table:
        return Price(*table[model])
    for name in sorted(table, key=len, reverse=True):  # longest prefix: gpt-4.1-mini before gpt-4.1
        if model.startswith(name + "-"):
            return Price(*table[name])
    return UNKNOWN


class CostBudget:
    """Stops a run before a call that could take its total cost over ``max_usd``.

    ``check(estimate)`` raises ``BudgetExceeded`` when what was spent, plus the estimates of
    calls still in flight, plus ``estimate`` could exceed the cap; ``add(actual)`` books a
    finished call. ``hold(estimate)`` does both around one call, so concurrent calls (analysis
    and coding run several at once) cannot all pass the check on the same remaining budget.
    """

    def __init__(self, max_usd: float | None, spent_usd: float = 0.0) -> None:
        self.max_usd = max_usd
        self.spent_usd = spent_usd
        self.in_flight_usd = 0.0
        """Estimated cost of calls that passed ``hold`` and have not finished yet."""

    def check(self, estimated_usd: float) -> None:
        """Raise ``BudgetExceeded`` if spending ``estimated_usd`` more could exceed the cap."""
        if self.max_usd is None:
            return
        committed = self.spent_usd + self.in_flight_usd
        if committed + estimated_usd > self.max_usd:
            raise BudgetExceeded(
                f"cost cap reached: {self.spent_usd:.4f} USD spent"
                + (f" ({self.in_flight_usd:.4f} USD more in flight)" if self.in_flight_usd else "")
                + f", the next call could cost about {estimated_usd:.4f} USD, cap "
                f"{self.max_usd:.4f} USD. Finished artifacts are kept: rerun with a larger "
                f"--max-cost to continue."
            )

    def add(self, usd: float) -> None:
        """Book the actual cost of a finished call."""
        self.spent_usd += usd

    @contextlib.contextmanager
    def hold(self, estimated_usd: float) -> Iterator[None]:
        """Check ``estimated_usd``, keep it reserved while the call runs, release it after
        (the caller books the actual cost with ``add``)."""
        self.check(estimated_usd)
        self.in_flight_usd += estimated_usd
        try:
            yield
        finally:
            self.in_flight_usd = max(0.0, self.in_flight_usd - estimated_usd)
