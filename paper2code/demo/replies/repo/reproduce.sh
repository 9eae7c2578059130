#!/usr/bin/env bash
# Reproduce the experiments of "Smoothed Softmax Regression".
#   bash reproduce.sh          full settings of Section 3.2
#   bash reproduce.sh --smoke  seconds-long run on tiny synthetic data (CPU, no network)
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = "--smoke" ]; then
    # Smoke mode: config.yaml's smoke overrides (few points, few steps).
    python main.py --config config.yaml --smoke
    exit 0
fi

# Full run: both smoothing factors, 300 steps.
python main.py --config config.yaml
