"""Full-batch gradient descent on the smoothed cross-entropy (Section 2.3)."""

from __future__ import annotations

import numpy as np

from model import SoftmaxRegression, smooth_targets


def train(
    model: SoftmaxRegression,
    X: np.ndarray,
    labels: np.ndarray,
    *,
    epsilon: float,
    lr: float,
    steps: int,
    weight_decay: float,
) -> list[float]:
    """Run ``steps`` of gradient descent; returns the loss after each step."""
    targets = smooth_targets(labels, model.b.shape[0], epsilon)
    n = X.shape[0]
    losses = []
    for _ in range(steps):
        probs = model.predict_proba(X)
        grad_w = X.T @ (probs - targets) / n + weight_decay * model.W
        grad_b = (probs - targets).mean(axis=0)
        model.W -= lr * grad_w
        model.b -= lr * grad_b
        losses.append(model.loss(X, targets, weight_decay))
    return losses
