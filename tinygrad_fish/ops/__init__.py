"""The ops: each a :class:`~tinygrad_fish.autograd.Function` with its forward and backward
side by side, grouped by family, and a public function for each.

- :mod:`.arithmetic`: ``add sub mul div pow neg``
- :mod:`.math`: ``exp log sqrt abs tanh``, ``exp2 expm1 log1p log2 log10 cbrt``, the
  trigonometric and hyperbolic functions and their inverses, ``hypot arctan2 logaddexp``,
  and the piecewise-constant ``sign floor ceil trunc round``
- :mod:`.activation`: ``relu sigmoid leaky_relu softplus gelu silu``
- :mod:`.special`: ``erf erfc``
- :mod:`.selection`: ``clip where maximum minimum``
- :mod:`.cast`: ``astype copy``
- :mod:`.reduce`: ``sum mean max min var std cumsum``, and ``any all`` (bool, not
  differentiable)
- :mod:`.shape`: ``reshape transpose broadcast_to sum_to getitem concatenate stack pad``,
  ``squeeze expand_dims unsqueeze flatten swapaxes moveaxis flip tile repeat_interleave``
- :mod:`.linalg`: ``matmul dot tensordot outer einsum norm``
- :mod:`.indexing`: ``take_along_axis gather``
- :mod:`.nn`: ``softmax log_softmax logsumexp cross_entropy``
"""

from __future__ import annotations

from .activation import gelu, leaky_relu, relu, sigmoid, silu, softplus
from .arithmetic import add, div, mul, neg, pow, sub
from .cast import astype, copy
from .indexing import gather, take_along_axis
from .linalg import dot, einsum, matmul, norm, outer, tensordot
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
from .reduce import all, any, cumsum, max, mean, min, std, sum, var
from .selection import clip, maximum, minimum, where
from .shape import (
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    flip,
    getitem,
    moveaxis,
    pad,
    repeat_interleave,
    reshape,
    squeeze,
    stack,
    sum_to,
    swapaxes,
    tile,
    transpose,
    unsqueeze,
)
from .special import erf, erfc

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
    "cumsum",
    "div",
    "dot",
    "einsum",
    "erf",
    "erfc",
    "exp",
    "exp2",
    "expand_dims",
    "expm1",
    "flatten",
    "flip",
    "floor",
    "gather",
    "gelu",
    "getitem",
    "hypot",
    "leaky_relu",
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
    "norm",
    "outer",
    "pad",
    "pow",
    "relu",
    "repeat_interleave",
    "reshape",
    "round",
    "sigmoid",
    "sign",
    "silu",
    "sin",
    "sinh",
    "softmax",
    "softplus",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sub",
    "sum",
    "sum_to",
    "swapaxes",
    "take_along_axis",
    "tan",
    "tanh",
    "tensordot",
    "tile",
    "transpose",
    "trunc",
    "unsqueeze",
    "var",
    "where",
]
