"""One training step of the book's 784-50-10 net at 1 and at N BLAS threads, side by side.

What is measured
    ``tinygrad_fish.nn.TwoLayerNet``: ``net.gradient(x, t)`` then the SGD update
    (lr 0.1), float64 (the book's and ``train``'s default), on a synthetic MNIST-shaped
    float32 batch (fixed seed). The thread counts are set with threadpoolctl, as ``train
    --threads`` sets them.

How it is measured
    In one process, blocks of ``--steps`` consecutive steps alternate between the thread
    counts (1, N, 1, N, ...), so a busy shared machine slows both alike; each sample is one
    block's time divided by its steps. Prints the median and min-max µs per step for each.

Usage::

    python benchmarks/bench_threads.py [--batch-size 100] [--threads 2] [--repeats 30]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from tinygrad_fish.nn import TwoLayerNet


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2, help="the count compared with 1")
    ap.add_argument("--repeats", type=int, default=30, help="timed blocks per count")
    ap.add_argument("--steps", type=int, default=20, help="steps per timed block")
    args = ap.parse_args(argv)

    rng = np.random.default_rng(0)
    x = rng.random((args.batch_size, 784), dtype=np.float32)
    t = np.eye(10, dtype=np.float32)[rng.integers(0, 10, args.batch_size)]
    net = TwoLayerNet(784, 50, 10, seed=0)

    def block() -> float:
        start = time.perf_counter_ns()
        for _ in range(args.steps):
            grads = net.gradient(x, t)
            for key in ("W1", "b1", "W2", "b2"):
                net.params[key] -= 0.1 * grads[key]
        return (time.perf_counter_ns() - start) / args.steps / 1000

    counts = (1, args.threads)
    samples: dict[int, list[float]] = {n: [] for n in counts}
    for n in counts:  # warm up each
        with threadpool_limits(limits=n, user_api="blas"):
            block()
    for _ in range(args.repeats):
        for n in counts:
            with threadpool_limits(limits=n, user_api="blas"):
                samples[n].append(block())
    blas = [f"{p.get('internal_api')} {p.get('version')} (max {p.get('num_threads')})"
            for p in threadpool_info() if p.get("user_api") == "blas"]
    print(f"BLAS: {', '.join(blas) or 'none found'}; batch {args.batch_size}, float64, "
          f"{args.repeats} blocks of {args.steps} steps per count, interleaved")
    print(f"{'BLAS threads':>12}  {'median µs/step':>14}  {'min - max':>17}")
    for n in counts:
        s = samples[n]
        print(f"{n:>12}  {statistics.median(s):>14.1f}  {min(s):>8.1f} - {max(s):<8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
