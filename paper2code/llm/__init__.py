"""Model access: client factory, response cache, usage recording, prices and the cost budget,
structured replies.

- ``make_client`` / ``build_clients`` (``client.py``): AutoGen clients for the configured
  endpoint, cached, budgeted and recorded;
- ``usage_context`` / ``UsageRecorder`` (``recorder.py``): who made each call, ``events.jsonl``
  and the totals for ``run.json``;
- ``price_for`` / ``CostBudget`` (``prices.py``): USD per call and the ``--max-cost`` cap;
- ``ask_structured`` (``structured.py``): a validated pydantic reply, retried with the errors.
"""

from paper2code.llm.client import (
    Clients,
    RecordingClient,
    build_clients,
    make_client,
    model_errors,
    openai_client,
)
from paper2code.llm.prices import CostBudget, Price, price_for
from paper2code.llm.recorder import UsageRecorder, usage_context
from paper2code.llm.structured import ask_structured, strip_fences, validation_feedback

__all__ = [
    "Clients",
    "CostBudget",
    "Price",
    "RecordingClient",
    "UsageRecorder",
    "ask_structured",
    "build_clients",
    "make_client",
    "model_errors",
    "openai_client",
    "price_for",
    "strip_fences",
    "usage_context",
    "validation_feedback",
]
