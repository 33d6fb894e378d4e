"""``tinygrad-fish gradcheck``: the book's ch05 ``gradient_check.py``."""

from __future__ import annotations

import argparse

import numpy as np

from .common import GRADCHECK_TOL, _load_mnist


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    """``gradcheck``: backprop against central differences for TwoLayerNet(784, 50, 10) on
    the first 3 training samples; exit code 1 if a mean absolute difference exceeds
    GRADCHECK_TOL."""
    from ..nn import TwoLayerNet

    x_train, t_train, _, _ = _load_mnist(args, one_hot_label=True)
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, seed=args.seed)

    x_batch = x_train[:3]
    t_batch = t_train[:3]

    grad_numerical = network.numerical_gradient(x_batch, t_batch)
    grad_backprop = network.gradient(x_batch, t_batch)

    worst = 0.0
    for key in grad_numerical:
        diff = float(np.average(np.abs(grad_backprop[key] - grad_numerical[key])))
        worst = max(worst, diff)
        print(key + ":" + str(diff))
    ok = worst <= GRADCHECK_TOL
    print(f"{'OK' if ok else 'FAIL'}: largest mean absolute difference {worst:.3g} "
          f"({'<=' if ok else '>'} {GRADCHECK_TOL:g})")
    return 0 if ok else 1
