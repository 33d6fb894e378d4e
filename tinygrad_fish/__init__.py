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
    ShapeError,
    TinygradFishError,
)
from .numerical import gradcheck, gradgradcheck, numerical_gradient
from .ops import (
    abs,
    add,
    astype,
    broadcast_to,
    clip,
    concatenate,
    cross_entropy,
    div,
    exp,
    getitem,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    mean,
    min,
    mul,
    neg,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    stack,
    sub,
    sum,
    sum_to,
    tanh,
    transpose,
    where,
)
from .tensor import Tensor, as_tensor

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "DTypeError",
    "DatasetError",
    "Function",
    "GradcheckError",
    "GraphError",
    "ShapeError",
    "Tensor",
    "TinygradFishError",
    "__version__",
    "abs",
    "add",
    "as_tensor",
    "astype",
    "autograd",
    "backward",
    "broadcast_to",
    "clip",
    "concatenate",
    "cross_entropy",
    "detect_anomaly",
    "div",
    "enable_grad",
    "exp",
    "getitem",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "mean",
    "min",
    "mul",
    "neg",
    "no_grad",
    "numerical_gradient",
    "pow",
    "relu",
    "reshape",
    "scope",
    "set_grad_enabled",
    "sigmoid",
    "softmax",
    "sqrt",
    "stack",
    "sub",
    "sum",
    "sum_to",
    "tanh",
    "transpose",
    "where",
]
