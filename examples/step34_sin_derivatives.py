"""DeZero's step 34: the derivatives of sin, one after another, by repeated backward.

``y = sin(x)`` on 200 points of [-7, 7]; each ``backward(create_graph=True)`` records the
backward pass as a graph, so the gradient it leaves in ``x.grad`` can be differentiated
again. The k-th derivative of sin is ``sin(x + k pi / 2)``; ``main`` checks every order
against it. Run: ``python examples/step34_sin_derivatives.py`` (``--plot out.png`` draws
them, as the book's figure, if matplotlib is installed).

Two differences from DeZero's code: ``y`` is not a scalar, and here ``backward()`` of a
non-scalar needs its gradient (DeZero seeds with ones by itself), so each backward gets
``gradient=np.ones_like(...)``; and ``x.grad = None`` replaces ``x.cleargrad()``.
"""

from __future__ import annotations

import argparse

import numpy as np

from tinygrad_fish import Tensor


def sin_derivatives(x: np.ndarray, orders: int = 3) -> np.ndarray:
    """``[sin(x), sin'(x), ..., sin^(orders)(x)]``, each from autograd: ``(orders + 1, n)``."""
    t = Tensor(x, requires_grad=True)
    y = t.sin()
    rows = [y.data.copy()]
    g = y
    for _ in range(orders):
        t.grad = None                                  # DeZero: x.cleargrad()
        g.backward(gradient=np.ones_like(g.data), create_graph=True)
        assert t.grad is not None
        g = t.grad                                     # the next derivative, with a graph
        rows.append(g.data.copy())
    return np.stack(rows)


def main(n: int = 200, orders: int = 3, plot: str | None = None) -> np.ndarray:
    """Compute the derivatives on ``n`` points of [-7, 7], print the largest difference
    from the closed form per order, optionally plot them; return them."""
    x = np.linspace(-7, 7, n)
    ds = sin_derivatives(x, orders)
    for k, row in enumerate(ds):
        err = np.max(np.abs(row - np.sin(x + k * np.pi / 2)))
        print(f"order {k}: max |autograd - sin(x + {k} pi/2)| = {err:.2e}")
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        labels = ["y=sin(x)", "y'", "y''", "y'''"] + [f"y^({k})" for k in range(4, orders + 1)]
        for k, row in enumerate(ds):
            plt.plot(x, row, label=labels[k])
        plt.legend(loc="lower right")
        plt.savefig(plot)
        print("saved", plot)
    return ds


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--orders", type=int, default=3)
    parser.add_argument("--plot", default=None, help="save the figure to this file")
    args = parser.parse_args()
    main(args.n, args.orders, args.plot)
