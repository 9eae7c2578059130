"""Entry point: train softmax regression with and without label smoothing, report metrics."""

from __future__ import annotations

import argparse
import json

import yaml

from data import make_mixture
from evaluate import accuracy, expected_calibration_error
from model import SoftmaxRegression
from train import train


def load_config(path: str, smoke: bool) -> dict:
    with open(path, encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    if smoke:
        for section, values in config.get("smoke", {}).items():
            if isinstance(values, dict):
                config.setdefault(section, {}).update(values)
    return config


def run(config: dict) -> dict:
    data, opt = config["data"], config["optimization"]
    X, y = make_mixture(data["n_train"], data["num_classes"], data["dim"], data["radius"], data["seed"])
    Xt, yt = make_mixture(data["n_test"], data["num_classes"], data["dim"], data["radius"], data["seed"] + 1)
    results = {}
    for eps in config["smoothing"]["epsilons"]:
        model = SoftmaxRegression(data["dim"], data["num_classes"])
        losses = train(model, X, y, epsilon=eps, lr=opt["lr"], steps=opt["steps"], weight_decay=opt["weight_decay"])
        probs = model.predict_proba(Xt)
        results[str(eps)] = {
            "final_loss": losses[-1],
            "accuracy": accuracy(probs, yt),
            "ece": expected_calibration_error(probs, yt, config["evaluation"]["ece_bins"]),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--smoke", action="store_true", help="seconds-long run on tiny synthetic data")
    args = parser.parse_args()
    results = run(load_config(args.config, args.smoke))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
