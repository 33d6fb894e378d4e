"""Define a new op that the engine treats like a built-in one, and prove its gradient.

An op is a subclass of ``tinygrad_fish.Function`` with ``forward`` on numpy arrays and
``backward`` in Tensor ops, side by side. Because the backward uses Tensor ops, second
derivatives work with no extra code. Run: ``python examples/custom_op.py``.
"""

from __future__ import annotations

import numpy as np

import tinygrad_fish as tf
from tinygrad_fish import Function, Tensor


class Softplus(Function):
    """softplus(x) = log(1 + e**x), computed without overflow; d/dx = sigmoid(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, x)

    def backward(self, gy: Tensor) -> tuple[Tensor | None, ...]:
        (x,) = self.inputs  # the input Tensors (not arrays): the backward stays in the graph
        return (gy * x.sigmoid(),)


def softplus(x: Tensor) -> Tensor:
    """The public function users call: ``softplus(x)``."""
    return Softplus.apply(x)


def main() -> None:
    x = Tensor(np.linspace(-3, 3, 7), requires_grad=True)
    y = softplus(x).sum()
    y.backward()
    print("softplus'(x) =", np.round(x.grad.data, 4))
    print("sigmoid(x)   =", np.round(1 / (1 + np.exp(-x.data)), 4))

    # The same checks the project's own tests run: first and second order.
    z = Tensor(np.array([-1.5, 0.2, 2.0]), requires_grad=True)
    print("gradcheck:", tf.gradcheck(softplus, [z]))
    print("gradgradcheck:", tf.gradgradcheck(softplus, [z]))


if __name__ == "__main__":
    main()
