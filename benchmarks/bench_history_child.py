"""The timing child of ``bench_history.py``: measures the tinygrad_fish it imports, once.

``bench_history.py`` runs this file (from the current tree, never from the checkout being
measured) with ``PYTHONPATH`` set to one old checkout and the BLAS thread variables set
before numpy loads, so ``import tinygrad_fish`` is that commit's package.  It uses only
APIs present at every commit since 2aec3f9 (``Tensor`` with ``+ * @ .relu() .sum()
.backward()``, ``nn.TwoLayerNet(784, 50, 10, weight_init_std, dtype=)``, ``gradient``,
``params``); a cell whose API is missing or fails is reported as an error, not a number.

What it times (µs; one sample per cell, the median of this run's repeats):

* ``step b{1,100} float{64,32}``: one training step of the book's 784-50-10 TwoLayerNet
  (``weight_init_std=0.01``, weights drawn after ``np.random.seed(0)``):
  ``grads = net.gradient(x, t)`` then ``net.params[k] -= lr * grads[k]`` for W1 b1 W2 b2.
  Data: a fixed pool of 8 MNIST-shaped random float32 batches (values in [0, 1]) with
  one-hot float32 labels, cycled through, as the book's loop feeds them.  Blocks of
  consecutive steps lasting about ``--block-ms``, weights reset (untimed) before each
  block, as ``bench_train_step.py`` does; the sample is the median block's µs per step.
* ``fwd/bwd OP`` (OP = add, mul, relu, matmul, sum): ``bench_engine.py``'s section [1]
  method on (2, 2) tensors: a chain of ``--ops-n`` ops ``y = op(y)`` (the other operand a
  constant Tensor) is timed (forward µs/op), then ``y.sum().backward()`` (backward µs/op);
  ``sum`` is ``sum(y) * q`` minus the ``mul`` row, as bench_engine's ``sum ≈`` row.

It prints one line ``RESULT {json}`` with the cells, errors and where tinygrad_fish came
from; with ``--dump FILE`` it also saves the weights after one batch-100 float64 step from
the initial weights (``bench_history.py`` compares those across commits).

Usage (by hand)::

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=CHECKOUT python -P benchmarks/bench_history_child.py
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

KEYS = ("W1", "b1", "W2", "b2")
LR = 0.1
POOL = 8
SHAPE = (2, 2)
OPS = ("add", "mul", "relu", "matmul", "sum")


def now() -> int:
    return time.perf_counter_ns()


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


# --------------------------------------------------------------------------------------
# training step
# --------------------------------------------------------------------------------------


def batches(bs: int) -> tuple[list[Any], list[Any]]:
    """The same POOL batches for every commit (seeded here, not by tinygrad_fish)."""
    rng = np.random.default_rng(1000 + bs)
    xs, ts = [], []
    for _ in range(POOL):
        xs.append(rng.random((bs, 784), dtype=np.float32))
        t = np.zeros((bs, 10), dtype=np.float32)
        t[np.arange(bs), rng.integers(0, 10, bs)] = 1.0
        ts.append(t)
    return xs, ts


def make_net(dtype: Any) -> Any:
    from tinygrad_fish.nn import TwoLayerNet

    np.random.seed(0)
    if dtype is np.float64:
        return TwoLayerNet(784, 50, 10, weight_init_std=0.01)
    return TwoLayerNet(784, 50, 10, weight_init_std=0.01, dtype=dtype)


def time_step(dtype: Any, bs: int, blocks: int, block_ms: float, dump: str | None) -> float:
    """Median µs per training step over `blocks` blocks."""
    net = make_net(dtype)
    p0 = {k: np.array(net.params[k], copy=True) for k in KEYS}
    if np.dtype(p0["W1"].dtype) != np.dtype(dtype):
        raise TypeError(f"parameters are {p0['W1'].dtype}, not {np.dtype(dtype).name}")
    xs, ts = batches(bs)
    params = net.params

    def reset() -> None:
        for k in KEYS:
            params[k][...] = p0[k]

    def run(n: int, i: int) -> int:
        for _ in range(n):
            grads = net.gradient(xs[i], ts[i])
            for k in KEYS:
                params[k] -= LR * grads[k]
            i = (i + 1) % POOL
        return i

    if dump is not None:
        run(1, 0)
        w = [np.array(params[k]) for k in KEYS]
        np.savez(dump, W1=w[0], b1=w[1], W2=w[2], b2=w[3])
        reset()
    # warm up, then size a block to about block_ms
    i = run(3, 0)
    t0 = now()
    i = run(3, i)
    per = max((now() - t0) / 3, 1.0)
    n = max(1, round(block_ms * 1e6 / per))
    samples = []
    for _ in range(blocks):
        reset()
        t0 = now()
        i = run(n, i)
        samples.append((now() - t0) / n)
    reset()
    return statistics.median(samples) / 1e3


# --------------------------------------------------------------------------------------
# per-op overhead (bench_engine.py's section [1])
# --------------------------------------------------------------------------------------


def op_table(Tensor: Any, dt: Any) -> dict[str, Callable[[Any], Any]]:
    ones = Tensor(np.ones(SHAPE, dtype=dt))
    eye = Tensor(np.eye(SHAPE[0], dtype=dt))
    q = Tensor(np.full(SHAPE, 0.25, dtype=dt))
    c = Tensor(np.full(SHAPE, 1e-3, dtype=dt))
    return {
        "add": lambda y: y + c,
        "mul": lambda y: y * ones,
        "relu": lambda y: y.relu(),
        "matmul": lambda y: y @ eye,
        "sum·mul": lambda y: y.sum() * q,
    }


def time_chain(Tensor: Any, dt: Any, step: Callable[[Any], Any], n: int) -> tuple[float, float]:
    """(forward ns/op, backward ns/op) for one chain of n ops, as bench_engine.py."""
    x = Tensor(np.full(SHAPE, 0.5, dtype=dt), requires_grad=True)
    gc.collect()
    t0 = now()
    y = x
    for _ in range(n):
        y = step(y)
    t1 = now()
    root = y.sum()
    t2 = now()
    root.backward()
    t3 = now()
    if x.grad is None:
        raise RuntimeError("x.grad is None after backward")
    return (t1 - t0) / n, (t3 - t2) / n


def time_ops(
    dt: Any, n: int, repeats: int, cells: dict[str, float], errors: dict[str, str]
) -> None:
    from tinygrad_fish import Tensor

    rows: dict[str, tuple[float, float]] = {}
    for name, step in op_table(Tensor, dt).items():
        try:
            fwd, bwd = [], []
            for _ in range(repeats):
                f, b = time_chain(Tensor, dt, step, n)
                fwd.append(f)
                bwd.append(b)
        except Exception as exc:
            errors[f"ops {name}"] = describe(exc)
            continue
        rows[name] = (statistics.median(fwd) / 1e3, statistics.median(bwd) / 1e3)
    if "sum·mul" in rows and "mul" in rows:
        (f, b), (mf, mb) = rows.pop("sum·mul"), rows["mul"]
        rows["sum"] = (f - mf, b - mb)
    for name, (f, b) in rows.items():
        cells[f"fwd {name}"] = f
        cells[f"bwd {name}"] = b


# --------------------------------------------------------------------------------------


def blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return "unknown (no threadpoolctl)"
    pools = [f"{p.get('internal_api')}={p.get('num_threads')}" for p in threadpool_info()]
    return ", ".join(pools) or "no pools"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops-n", type=int, default=2000, help="ops per chain")
    ap.add_argument("--op-repeats", type=int, default=7, help="chains per op")
    ap.add_argument("--op-dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--blocks", type=int, default=7, help="timed blocks per step cell")
    ap.add_argument("--block-ms", type=float, default=20.0)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 100])
    ap.add_argument("--expect-root", help="refuse a tinygrad_fish imported from elsewhere")
    ap.add_argument("--dump", help="save the weights after one batch-100 float64 step here")
    args = ap.parse_args(argv)

    cells: dict[str, float] = {}
    errors: dict[str, str] = {}
    import tinygrad_fish

    where = os.path.dirname(os.path.dirname(os.path.abspath(tinygrad_fish.__file__)))
    if args.expect_root and os.path.realpath(where) != os.path.realpath(args.expect_root):
        print(f"tinygrad_fish imported from {where}, not {args.expect_root}", file=sys.stderr)
        return 2
    for bs in args.batch_sizes:
        for dt in (np.float64, np.float32):
            name = f"step b{bs} {np.dtype(dt).name}"
            dump = args.dump if (bs == 100 and dt is np.float64) else None
            try:
                cells[name] = time_step(dt, bs, args.blocks, args.block_ms, dump)
            except Exception as exc:
                errors[name] = describe(exc)
    time_ops(np.dtype(args.op_dtype).type, args.ops_n, args.op_repeats, cells, errors)
    info = {
        "tinygrad_fish": where,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "blas": blas_threads(),
    }
    print("RESULT " + json.dumps({"cells": cells, "errors": errors, "info": info}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
