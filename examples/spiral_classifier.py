"""Classify DeZero's three-arm spiral with a small MLP built from Sequential, and SGD.

DeZero's step 48: 300 points on three spiral arms, a 2 -> 10 -> 3 network with a sigmoid
between, softmax cross-entropy, plain SGD at ``lr=1.0`` on mini-batches of 30. The data
generator is written here (DeZero's ``get_spiral``, vectorized, with a numpy Generator in
place of its ``np.random.seed``, so the points are not DeZero's bit for bit).
Run: ``python examples/spiral_classifier.py``.
"""

from __future__ import annotations

import argparse

import numpy as np

from tinygrad_fish import Tensor
from tinygrad_fish.nn import Linear, Sequential, Sigmoid
from tinygrad_fish.ops import cross_entropy
from tinygrad_fish.optim import SGD


def spiral(num_per_class: int = 100, num_classes: int = 3, seed: int = 1984
           ) -> tuple[np.ndarray, np.ndarray]:
    """Points on ``num_classes`` spiral arms: x (N, 2) float64, labels t (N,) int64, with
    ``N = num_per_class * num_classes``, shuffled. Arm ``j``'s i-th point has radius
    ``r = i / num_per_class`` and angle ``4 j + 4 r + 0.2 * noise``."""
    rng = np.random.default_rng(seed)
    rate = np.tile(np.arange(num_per_class) / num_per_class, num_classes)
    t = np.repeat(np.arange(num_classes), num_per_class)
    theta = t * 4.0 + 4.0 * rate + rng.standard_normal(rate.shape) * 0.2
    x = np.stack([rate * np.sin(theta), rate * np.cos(theta)], axis=1)
    order = rng.permutation(len(t))
    return x[order], t[order]


def accuracy(model: Sequential, x: np.ndarray, t: np.ndarray) -> float:
    """The fraction of points whose highest score is their label."""
    return float((model(x).data.argmax(axis=1) == t).mean())


def main(
    epochs: int = 300,
    hidden_size: int = 10,
    batch_size: int = 30,
    lr: float = 1.0,
    seed: int = 0,
    verbose: bool = True,
) -> tuple[list[float], float]:
    """Train; return the mean loss of each epoch and the final training accuracy."""
    x, t = spiral()
    rng = np.random.default_rng(seed)
    model = Sequential(Linear(2, hidden_size, rng=rng), Sigmoid(), Linear(hidden_size, 3, rng=rng))
    optimizer = SGD(model.parameters(), lr=lr)
    n = len(x)
    history = []
    for epoch in range(epochs):
        index = rng.permutation(n)
        total = 0.0
        for start in range(0, n, batch_size):
            batch = index[start:start + batch_size]
            loss = cross_entropy(model(Tensor(x[batch])), t[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.data) * len(batch)
        history.append(total / n)
        if verbose and (epoch + 1) % max(1, epochs // 10) == 0:
            print(f"epoch {epoch + 1}: loss {history[-1]:.4f}")
    acc = accuracy(model, x, t)
    if verbose:
        print(f"train accuracy {acc:.3f}")
    return history, acc


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    args = parser.parse_args()
    main(args.epochs)
