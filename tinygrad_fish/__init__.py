"""tinygrad_fish: a tiny reverse-mode autodiff engine for the fish book.

Examples:
    >>> import tinygrad_fish as tf
    >>> x = tf.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> loss = (x * x).sum()
    >>> loss.backward()
    >>> x.grad
    Tensor([2., 4., 6.])

The core (``Tensor``, the ops, ``backward``/``grad``, ``no_grad``, the numerical checks) needs
only numpy. The book's layers are in :mod:`tinygrad_fish.nn`, optimizers in
:mod:`tinygrad_fish.optim`, MNIST in :mod:`tinygrad_fish.datasets`, graph drawing in
:mod:`tinygrad_fish.viz`, and Hypothesis strategies for testing ops in
:mod:`tinygrad_fish.testing`.
"""

from __future__ import annotations

from . import autograd
from .autograd import (
    Function,
    backward,
    detect_anomaly,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    scope,
    set_grad_enabled,
)
from .errors import (
    AnomalyError,
    DatasetError,
    DTypeError,
    GradcheckError,
    GraphError,
    NotDifferentiableError,
    ShapeError,
    TinygradFishError,
)
from .factories import (
    arange,
    empty,
    eye,
    full,
    full_like,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .numerical import gradcheck, gradgradcheck, numerical_gradient
from .ops import abs as abs
from .ops import (
    add,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    astype,
    broadcast_to,
    cbrt,
    ceil,
    clip,
    concatenate,
    copy,
    cos,
    cosh,
    cross_entropy,
    div,
    dot,
    einsum,
    exp,
    exp2,
    expand_dims,
    expm1,
    flip,
    floor,
    getitem,
    hypot,
    log,
    log1p,
    log2,
    log10,
    log_softmax,
    logaddexp,
    logsumexp,
    matmul,
    maximum,
    mean,
    minimum,
    moveaxis,
    mul,
    neg,
    outer,
    pad,
    relu,
    reshape,
    sigmoid,
    sign,
    sin,
    sinh,
    softmax,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum_to,
    swapaxes,
    tan,
    tanh,
    tensordot,
    transpose,
    trunc,
    var,
    where,
)
from .ops import all as all
from .ops import any as any
from .ops import max as max
from .ops import min as min
from .ops import pow as pow
from .ops import round as round
from .ops import sum as sum
from .saving import load, save
from .tensor import Tensor, as_tensor

# `tensor` is the factory function (torch.tensor's name), which hides the submodule of the
# same name as an attribute: `from tinygrad_fish.tensor import Tensor` still works (it goes
# through sys.modules), `import tinygrad_fish.tensor as m` would give the function.

__version__ = "0.1.0"

# Not in __all__, so that `from tinygrad_fish import *` leaves Python's builtins alone; they
# are tf.abs, tf.all, tf.any, tf.max, tf.min, tf.pow, tf.round and tf.sum.
__all__ = [
    "AnomalyError",
    "DTypeError",
    "DatasetError",
    "Function",
    "GradcheckError",
    "GraphError",
    "NotDifferentiableError",
    "ShapeError",
    "Tensor",
    "TinygradFishError",
    "__version__",
    "add",
    "arange",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "as_tensor",
    "astype",
    "autograd",
    "backward",
    "broadcast_to",
    "cbrt",
    "ceil",
    "clip",
    "concatenate",
    "copy",
    "cos",
    "cosh",
    "cross_entropy",
    "detect_anomaly",
    "div",
    "dot",
    "einsum",
    "empty",
    "enable_grad",
    "exp",
    "exp2",
    "expand_dims",
    "expm1",
    "eye",
    "flip",
    "floor",
    "full",
    "full_like",
    "getitem",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "hypot",
    "is_grad_enabled",
    "load",
    "log",
    "log1p",
    "log2",
    "log10",
    "log_softmax",
    "logaddexp",
    "logsumexp",
    "matmul",
    "maximum",
    "mean",
    "minimum",
    "moveaxis",
    "mul",
    "neg",
    "no_grad",
    "numerical_gradient",
    "ones",
    "ones_like",
    "outer",
    "pad",
    "rand",
    "rand_like",
    "randn",
    "randn_like",
    "relu",
    "reshape",
    "save",
    "scope",
    "set_grad_enabled",
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
    "sum_to",
    "swapaxes",
    "tan",
    "tanh",
    "tensor",
    "tensordot",
    "transpose",
    "trunc",
    "var",
    "where",
    "zeros",
    "zeros_like",
]
