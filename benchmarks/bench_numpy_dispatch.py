"""What numpy's dispatch costs: ``np.dot(x, W)`` against ``x @ W``, and friends.

The fish book's code spells its ops with numpy functions (``np.dot``, ``np.sum``,
``np.exp``, ``np.maximum``); on Tensors they reach the engine through ``__array_function__``
or ``__array_ufunc__`` (see ``tinygrad_fish/numpy_dispatch.py``). That path adds a numpy
dispatch and an argument translation to every call. This script measures it side by side in
one run: for each pair, the µs per call of the numpy spelling and of the Tensor spelling,
forward only and forward + backward, on the book's batch-100 shapes (x 100x784, W 784x50,
float64) and on tiny (2, 2) tensors where the overhead is all there is, and their ratio.

Columns: median µs per call over ``--repeats`` rounds of ``--number`` calls each, the
spellings interleaved round-robin so that machine noise hits both alike.

Usage::

    python benchmarks/bench_numpy_dispatch.py [--repeats 9] [--number 200] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

import tinygrad_fish as tf
from tinygrad_fish import Tensor


def _time(fn: Callable[[], object], number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--number", type=int, default=200)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (threadpoolctl)")
    args = p.parse_args()
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.threads, user_api="blas")
    except ImportError:
        print("threadpoolctl is not installed: BLAS threads left at numpy's default")

    rng = np.random.default_rng(0)
    big_x = Tensor(rng.random((100, 784)))
    big_w = Tensor(rng.standard_normal((784, 50)) * 0.01, requires_grad=True)
    small_x = Tensor(rng.random((2, 2)))
    small_w = Tensor(rng.random((2, 2)), requires_grad=True)

    def fwd_bwd(f: Callable[[], Tensor]) -> Callable[[], None]:
        def run() -> None:
            f().sum().backward()

        return run

    cases: list[tuple[str, Callable[[], Tensor], Callable[[], Tensor]]] = []
    for size, x, w in (("100x784 @ 784x50", big_x, big_w), ("2x2", small_x, small_w)):
        cases += [
            (f"dot {size}", lambda x=x, w=w: np.dot(x, w), lambda x=x, w=w: x @ w),
            (f"sum {size}", lambda w=w: np.sum(w, axis=0), lambda w=w: w.sum(axis=0)),
            (f"exp {size}", lambda w=w: np.exp(w), lambda w=w: w.exp()),
            (f"maximum(0, .) {size}", lambda w=w: np.maximum(0, w),
             lambda w=w: tf.maximum(0, w)),
        ]

    print(f"numpy {np.__version__}, {args.threads} BLAS thread(s), median of {args.repeats} "
          f"rounds of {args.number} calls; µs per call")
    print(f"{'case':<26} {'mode':<9} {'numpy spelling':>15} {'Tensor op':>10} {'ratio':>7}")
    for name, numpy_call, tensor_call in cases:
        for mode, wrap in (("forward", lambda f: f), ("fwd+bwd", fwd_bwd)):
            a, b = wrap(numpy_call), wrap(tensor_call)
            ta: list[float] = []
            tb: list[float] = []
            for _ in range(args.repeats):  # interleaved: noise hits both alike
                ta.append(_time(a, args.number))
                tb.append(_time(b, args.number))
            ma, mb = statistics.median(ta), statistics.median(tb)
            print(f"{name:<26} {mode:<9} {ma:>15.2f} {mb:>10.2f} {ma / mb:>7.2f}")


if __name__ == "__main__":
    main()
