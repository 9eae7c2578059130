"""Model access: client factory, response cache, usage recording, prices and the cost budget."""

from paper2code.llm.client import Clients, RecordingClient, build_clients, openai_client
from paper2code.llm.prices import CostBudget, price_for
from paper2code.llm.recorder import UsageRecorder, usage_context

__all__ = [
    "Clients",
    "CostBudget",
    "RecordingClient",
    "UsageRecorder",
    "build_clients",
    "openai_client",
    "price_for",
    "usage_context",
]
