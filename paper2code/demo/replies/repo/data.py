"""Synthetic Gaussian mixture (Section 3.1): K classes with means on a circle."""

from __future__ import annotations

import numpy as np


def make_mixture(
    n: int, num_classes: int, dim: int, radius: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``n`` points: class means on a circle of ``radius``, unit variance."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(num_classes) / num_classes
    means = np.zeros((num_classes, dim))
    means[:, 0] = radius * np.cos(angles)
    means[:, 1] = radius * np.sin(angles)
    labels = np.floor(rng.uniform(0, num_classes, size=n))
    points = means[labels] + rng.standard_normal((n, dim))
    return points, labels
