"""Gradient utilities (PyTorch's ``torch.nn.utils``): :func:`clip_grad_norm_`.

>>> import tinygrad_fish as tf
>>> from tinygrad_fish.nn.utils import clip_grad_norm_
>>> w = tf.Tensor([0.0, 0.0], requires_grad=True)
>>> w.grad = tf.Tensor([3.0, 4.0])
>>> float(clip_grad_norm_([w], max_norm=1.0))     # the norm before clipping
5.0
>>> w.grad                    # times 1 / (5 + 1e-6)
Tensor([0.59999988, 0.79999984])
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real

import numpy as np

from ..errors import InvalidArgumentError
from ..tensor import Tensor

__all__ = ["clip_grad_norm_"]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients of ``parameters`` in place so that their total norm is at most
    ``max_norm`` (PyTorch's ``torch.nn.utils.clip_grad_norm_``; DeZero's ``ClipGrad`` hook).

    The total norm is the ``norm_type``-norm of the per-parameter norms (that of all the
    gradients' entries taken together). When it exceeds ``max_norm``, every gradient is
    multiplied by ``max_norm / (total_norm + 1e-6)`` (PyTorch's and DeZero's 1e-6), in
    its own dtype. Parameters whose ``.grad`` is None are skipped; all-zero gradients
    (total norm 0) are left unchanged.

    A non-finite total norm (a gradient holding inf or NaN): with
    ``error_if_nonfinite=True``, an error and nothing changed; otherwise, as PyTorch,
    the gradients are scaled anyway (by 0 for an inf norm, so inf entries become NaN
    and the others 0; by NaN for a NaN norm). The returned norm says which happened.

    Args:
        parameters: a Tensor or an iterable of Tensors (``net.parameters()``).
        max_norm: the largest total norm allowed, >= 0.
        norm_type: the p of the p-norm, > 0, or ``math.inf`` (the largest absolute entry).
        error_if_nonfinite: raise instead of scaling by a non-finite norm.

    Returns:
        The total norm before clipping: a 0-d float64 Tensor (PyTorch returns it in the
        gradients' dtype; computed here per parameter in its dtype, then in float64).

    Raises:
        TypeError: ``parameters`` holds something other than Tensors, or ``max_norm`` or
            ``norm_type`` is not a number.
        InvalidArgumentError: ``max_norm`` is negative or NaN, ``norm_type`` is not
            positive, or (with ``error_if_nonfinite``) the total norm is not finite.
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"clip_grad_norm_: parameter {i} is a {type(p).__name__}, "
                            "not a Tensor")
    for name, value in (("max_norm", max_norm), ("norm_type", norm_type)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"clip_grad_norm_: {name} must be a number, got {value!r}")
    max_norm, norm_type = float(max_norm), float(norm_type)
    if math.isnan(max_norm) or max_norm < 0:
        raise InvalidArgumentError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    if math.isnan(norm_type) or norm_type <= 0:
        raise InvalidArgumentError(
            f"clip_grad_norm_: norm_type must be > 0 or math.inf, got {norm_type}")
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return Tensor(np.float64(0.0))
    norms = np.array([_norm(g.data, norm_type) for g in grads], dtype=np.float64)
    total = _norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise InvalidArgumentError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total}, so they cannot be clipped (nothing was changed); find where the "
            "inf/NaN comes from (tf.detect_anomaly()), or pass error_if_nonfinite=False to "
            "scale by it anyway as PyTorch does"
        )
    coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:  # also NaN: as PyTorch's clamp(max=1.0) keeps it
        for g in grads:
            # a Python float: float32 gradients stay float32
            with np.errstate(invalid="ignore"):  # inf * 0: NaN, as documented
                if g.data.flags.writeable:
                    g.data *= coef
                else:  # a read-only array (e.g. a broadcast view): a new one
                    g.data = g.data * coef
            g._bump_version()
    return Tensor(np.float64(total))


def _norm(a: np.ndarray, norm_type: float) -> float:
    """The ``norm_type``-norm of all of ``a``'s entries, in ``a``'s dtype."""
    flat = a.reshape(-1)
    if flat.size == 0:
        return 0.0
    if math.isinf(norm_type):
        return float(np.max(np.abs(flat)))
    return float(np.linalg.norm(flat, ord=norm_type))
