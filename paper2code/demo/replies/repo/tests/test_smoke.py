"""Smoke test: the whole code path on the config's smoke settings, in seconds on CPU."""

from __future__ import annotations

import math
from pathlib import Path

from main import load_config, run

ROOT = Path(__file__).resolve().parent.parent


def test_smoke_run_completes() -> None:
    config = load_config(str(ROOT / "config.yaml"), smoke=True)
    results = run(config)
    assert set(results) == {str(e) for e in config["smoothing"]["epsilons"]}
    for metrics in results.values():
        assert math.isfinite(metrics["final_loss"])
        assert 0.0 <= metrics["accuracy"] <= 1.0
        assert 0.0 <= metrics["ece"] <= 1.0
