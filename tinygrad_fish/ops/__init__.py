"""The ops: each a :class:`~tinygrad_fish.autograd.Function` with its forward and backward
side by side, grouped by family, and a public function for each.

- :mod:`.elementwise`: ``add sub mul div pow neg exp log sqrt abs relu sigmoid tanh clip
  where astype``
- :mod:`.reduce`: ``sum mean max min``
- :mod:`.shape`: ``reshape transpose broadcast_to sum_to getitem concatenate stack``
- :mod:`.linalg`: ``matmul``
- :mod:`.nn`: ``softmax log_softmax logsumexp cross_entropy``
"""

from __future__ import annotations

from .elementwise import (
    abs,
    add,
    astype,
    clip,
    div,
    exp,
    log,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
    where,
)
from .linalg import matmul
from .nn import cross_entropy, log_softmax, logsumexp, softmax
from .reduce import max, mean, min, sum
from .shape import broadcast_to, concatenate, getitem, reshape, stack, sum_to, transpose

__all__ = [
    "abs", "add", "astype", "broadcast_to", "clip", "concatenate", "cross_entropy", "div",
    "exp", "getitem", "log", "log_softmax", "logsumexp", "matmul", "max", "mean", "min", "mul",
    "neg", "pow", "relu", "reshape", "sigmoid", "softmax", "sqrt", "stack", "sub", "sum",
    "sum_to", "tanh", "transpose", "where",
]
