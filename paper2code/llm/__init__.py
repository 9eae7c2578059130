"""Model access: client factory, response cache, usage recording, prices and the cost budget,
structured replies.

- ``make_client`` / ``build_clients`` (``client.py``): AutoGen clients for the configured
  endpoint, cached, budgeted and recorded;
- ``usage_context`` / ``UsageRecorder`` (``recorder.py``): who made each call, ``events.jsonl``
  and the totals for ``run.json``;
- ``price_for`` / ``CostBudget`` (``prices.py``): USD per call and the ``--max-cost`` cap;
- ``strip_fences`` / ``validation_feedback`` (``structured.py``): the clean-up and the error
  feedback of structured replies (the retry loop is ``agents.base.ask``).
"""

from paper2code.llm.client import (
    Clients,
    ModelClients,
    RecordingClient,
    accepts_images,
    build_clients,
    has_endpoint,
    make_client,
    model_errors,
    openai_client,
    require_endpoint,
)
from paper2code.llm.prices import CostBudget, Price, price_for
from paper2code.llm.recorder import UsageRecorder, usage_context
from paper2code.llm.structured import strip_fences, validation_feedback

__all__ = [
    "Clients",
    "CostBudget",
    "ModelClients",
    "Price",
    "RecordingClient",
    "UsageRecorder",
    "accepts_images",
    "build_clients",
    "has_endpoint",
    "make_client",
    "model_errors",
    "openai_client",
    "price_for",
    "require_endpoint",
    "strip_fences",
    "usage_context",
    "validation_feedback",
]
