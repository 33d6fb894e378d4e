"""DeZero's steps 29 and 33: minimize ``f(x) = x**4 - 2 x**2`` by Newton's method, with
both derivatives from autograd.

``x <- x - f'(x) / f''(x)``, starting from 2: the first backward (``create_graph=True``)
gives ``f'(x)`` as a graph, whose backward gives ``f''(x)``. It converges to the minimum
at 1 in 7 steps, doubling the correct digits each step. Run:
``python examples/newton_method.py``.
"""

from __future__ import annotations

import numpy as np

from tinygrad_fish import Tensor


def f(x: Tensor) -> Tensor:
    """``x**4 - 2 x**2``: minima at -1 and 1, a maximum at 0."""
    return x**4 - 2 * x**2


def newton(x0: float = 2.0, iters: int = 10) -> list[float]:
    """The iterates ``x_0 = x0, x_1, ..., x_iters`` of Newton's method on :func:`f`."""
    x = Tensor(np.float64(x0), requires_grad=True)
    xs = [float(x.data)]
    for _ in range(iters):
        y = f(x)
        x.grad = None                       # DeZero: x.cleargrad()
        y.backward(create_graph=True)
        gx = x.grad                         # f'(x), with a graph
        assert gx is not None
        x.grad = None
        gx.backward()
        gx2 = x.grad                        # f''(x)
        assert gx2 is not None
        x = Tensor(x.data - gx.data / gx2.data, requires_grad=True)
        xs.append(float(x.data))
    return xs


def main(x0: float = 2.0, iters: int = 10) -> list[float]:
    """Print and return the iterates."""
    xs = newton(x0, iters)
    for i, v in enumerate(xs):
        print(i, repr(v))
    return xs


if __name__ == "__main__":
    main()
