"""The ops: each a :class:`~tinygrad_fish.autograd.Function` with its forward and backward
side by side, grouped by family, and a public function for each.

- :mod:`.arithmetic`: ``add sub mul div pow neg``
- :mod:`.math`: ``exp log sqrt abs tanh``, ``exp2 expm1 log1p log2 log10 cbrt``, the
  trigonometric and hyperbolic functions and their inverses, ``hypot arctan2 logaddexp``,
  and the piecewise-constant ``sign floor ceil trunc round``
- :mod:`.activation`: ``relu sigmoid``
- :mod:`.selection`: ``clip where maximum minimum``
- :mod:`.cast`: ``astype copy``
- :mod:`.reduce`: ``sum mean max min var std``, and ``any all`` (bool, not differentiable)
- :mod:`.shape`: ``reshape transpose broadcast_to sum_to getitem concatenate stack pad``,
  ``squeeze expand_dims swapaxes moveaxis flip``
- :mod:`.linalg`: ``matmul dot tensordot outer einsum``
- :mod:`.nn`: ``softmax log_softmax logsumexp cross_entropy``
"""

from __future__ import annotations

from .activation import relu, sigmoid
from .arithmetic import add, div, mul, neg, pow, sub
from .cast import astype, copy
from .linalg import dot, einsum, matmul, outer, tensordot
from .math import (
    abs,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    cbrt,
    ceil,
    cos,
    cosh,
    exp,
    exp2,
    expm1,
    floor,
    hypot,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    round,
    sign,
    sin,
    sinh,
    sqrt,
    tan,
    tanh,
    trunc,
)
from .nn import cross_entropy, log_softmax, logsumexp, softmax
from .reduce import all, any, max, mean, min, std, sum, var
from .selection import clip, maximum, minimum, where
from .shape import (
    broadcast_to,
    concatenate,
    expand_dims,
    flip,
    getitem,
    moveaxis,
    pad,
    reshape,
    squeeze,
    stack,
    sum_to,
    swapaxes,
    transpose,
)

__all__ = [
    "abs",
    "add",
    "all",
    "any",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "astype",
    "broadcast_to",
    "cbrt",
    "ceil",
    "clip",
    "concatenate",
    "copy",
    "cos",
    "cosh",
    "cross_entropy",
    "div",
    "dot",
    "einsum",
    "exp",
    "exp2",
    "expand_dims",
    "expm1",
    "flip",
    "floor",
    "getitem",
    "hypot",
    "log",
    "log1p",
    "log2",
    "log10",
    "log_softmax",
    "logaddexp",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "moveaxis",
    "mul",
    "neg",
    "outer",
    "pad",
    "pow",
    "relu",
    "reshape",
    "round",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "softmax",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sub",
    "sum",
    "sum_to",
    "swapaxes",
    "tan",
    "tanh",
    "tensordot",
    "transpose",
    "trunc",
    "var",
    "where",
]
