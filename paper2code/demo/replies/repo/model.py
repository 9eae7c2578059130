"""Softmax regression with smoothed targets (Sections 2.1 and 2.2)."""

from __future__ import annotations


def smooth_targets(labels, num_classes: int, epsilon: float):
    """q_k = (1 - eps) [k = y] + eps / K  (Eq. 1)."""
    one_hot = np.eye(num_classes)[labels]
    return (1.0 - epsilon) * one_hot + epsilon / num_classes


def softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class SoftmaxRegression:
    """Logits z = W^T x + b, probabilities p = softmax(z)."""

    def __init__(self, dim: int, num_classes: int) -> None:
        self.W = np.zeros((dim, num_classes))
        self.b = np.zeros(num_classes)

    def predict_proba(self, X):
        return softmax(X @ self.W + self.b)

    def loss(self, X, targets, weight_decay: float) -> float:
        probs = self.predict_proba(X)
        ce = -np.mean(np.sum(targets * np.log(probs + 1e-12), axis=1))
        return float(ce + 0.5 * weight_decay * np.sum(self.W**2))
