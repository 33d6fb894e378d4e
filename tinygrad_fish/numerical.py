"""Numerical gradients: the book's ``numerical_gradient``, and ``gradcheck`` / ``gradgradcheck``.

Central differences, ``(f(x + h) - f(x - h)) / 2h``, are the oracle every gradient of the
engine is tested against: slow (two evaluations per element) but independent of backprop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .autograd import enable_grad, grad, no_grad
from .errors import DTypeError, GradcheckError
from .tensor import Tensor

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "numerical_gradient"]


def numerical_gradient(
    f: Callable[[Any], Any], x: npt.NDArray[Any] | Tensor, h: float = 1e-4
) -> npt.NDArray[Any]:
    """The book's central-difference gradient of a scalar function ``f`` at ``x``.

    Every element of ``x`` in turn is set to ``x[i] + h`` then ``x[i] - h`` *in place*, ``f``
    is called (with ``x`` as its argument, which the book's ``lambda W: net.loss(x, t)``
    ignores, since the network reads the same array), and the value is restored afterwards.
    ``f`` runs under :class:`~tinygrad_fish.no_grad` (only its value is needed); wrap its body
    in :class:`~tinygrad_fish.enable_grad` if it differentiates something itself.

    Args:
        f: returns a scalar (a float, a 0-d array, or a one-element Tensor).
        x: a float numpy array, or a Tensor (its ``.data`` is perturbed).
        h: the step.

    Returns:
        An array of ``x``'s shape and dtype: d f / d x.

    Raises:
        DTypeError: ``x`` is not floating point (in-place steps of h would be truncated).
    """
    arr = x.data if isinstance(x, Tensor) else x
    if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
        raise DTypeError(
            "numerical_gradient: x must be a floating-point numpy array or Tensor, got "
            f"{type(arr).__name__} of dtype {getattr(arr, 'dtype', None)}"
        )
    g = np.zeros_like(arr)
    it = np.nditer(arr, flags=["multi_index"], op_flags=["readwrite"])
    with no_grad():  # only f's value is needed: record no graph
        while not it.finished:
            idx = it.multi_index
            tmp = arr[idx].copy()
            try:
                arr[idx] = float(tmp) + h
                fxh1 = float(f(x))
                arr[idx] = float(tmp) - h
                fxh2 = float(f(x))
            finally:  # Ctrl-C or an error in f must not leave a weight shifted by h
                arr[idx] = tmp
            g[idx] = (fxh1 - fxh2) / (2 * h)
            it.iternext()
    return g


def _as_inputs(inputs: Tensor | Sequence[Tensor]) -> list[Tensor]:
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradcheck: input {i} is a {type(t).__name__}, not a Tensor")
        if t.dtype != np.float64:
            raise DTypeError(
                f"gradcheck: input {i} has dtype {t.dtype}; central differences need float64 "
                "(use Tensor(..., dtype=np.float64))"
            )
    return ins


def _weighted_output(
    fn: Callable[..., Any], ins: Sequence[Tensor], seed: int
) -> Callable[[], Tensor]:
    """A scalar function of the inputs: sum(fn(*ins) * v) for a fixed random v.

    Checking the gradient of a random projection checks the vector-Jacobian product that
    backprop computes, with one backward pass instead of one per output element.
    """
    cache: dict[tuple[int, ...], npt.NDArray[np.float64]] = {}

    def f() -> Tensor:
        out = fn(*ins)
        if not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
        v = cache.get(out.shape)
        if v is None:
            rng = np.random.default_rng(seed)
            v = rng.uniform(0.5, 1.5, out.shape) * rng.choice([-1.0, 1.0], out.shape)
            cache[out.shape] = v
        return (out * v).sum()

    return f


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check backprop against central differences for every input that requires grad.

    ``fn(*inputs)`` may return a tensor of any shape: the check compares the gradient of
    ``sum(fn(*inputs) * v)`` for a fixed random ``v`` (a vector-Jacobian product, which is
    what backprop computes), so one backward pass covers all outputs.

    Args:
        fn: a function of Tensors returning a Tensor.
        inputs: float64 Tensors; those with ``requires_grad=True`` are checked.
        eps: the central-difference step.
        atol, rtol: pass when ``|analytic - numerical| <= atol + rtol * |numerical|``
            everywhere.
        seed: seeds the random projection ``v``.

    Returns:
        True when every gradient matches.

    Raises:
        GradcheckError: a mismatch, naming the input, the worst index, and both values.
        DTypeError: an input is not float64.
        TypeError: an input is not a Tensor, or ``fn`` does not return a Tensor.
        ValueError: no input requires grad.
    """
    ins = _as_inputs(inputs)
    f = _weighted_output(fn, ins, seed)
    checked = [i for i, t in enumerate(ins) if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True; nothing to check")
    out = f()
    targets = [ins[i] for i in checked]
    # An output that does not depend on the inputs through the graph has zero gradient.
    analytic = grad(out, targets, allow_unused=True) if out.requires_grad else [None] * len(
        targets)
    for i, a in zip(checked, analytic, strict=True):
        t = ins[i]
        a_arr = np.zeros_like(t.data) if a is None else a.data
        num = numerical_gradient(lambda _: f(), t, h=eps)
        _compare(a_arr, num, atol, rtol, f"input {i}" + (f" ({t.name})" if t.name else ""))
    return True


def _compare(
    analytic: npt.NDArray[Any], numerical: npt.NDArray[Any], atol: float, rtol: float, what: str
) -> None:
    err = np.abs(analytic - numerical)
    bad = ~(err <= atol + rtol * np.abs(numerical))  # NaN counts as a mismatch
    if bad.any():
        excess = np.where(bad, np.nan_to_num(err, nan=np.inf) - rtol * np.abs(numerical), -np.inf)
        worst = np.unravel_index(int(np.argmax(excess)), analytic.shape)
        idx = tuple(int(i) for i in worst)
        raise GradcheckError(
            f"gradient mismatch for {what} at index {idx}: analytic {float(analytic[worst])!r}, "
            f"numerical {float(numerical[worst])!r} (|diff| {err[worst]:.3g} > atol {atol} + rtol "
            f"{rtol} * |numerical|); {int(bad.sum())} of {bad.size} elements differ",
            input_index=what, index=idx, analytic=float(analytic[worst]),
            numerical=float(numerical[worst]),
        )


def gradgradcheck(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check second derivatives: the gradients of ``fn`` (taken with ``create_graph=True``)
    are themselves checked by :func:`gradcheck`.

    The function checked is ``sum_i sum(grad_i * u_i)``, where ``grad_i`` is the gradient of
    ``sum(fn(*inputs) * v)`` with respect to input ``i`` and ``u_i`` is a fixed random array:
    a Hessian-vector product, compared with central differences of the first derivative.

    The arguments are those of :func:`gradcheck`.

    Returns:
        True when every second derivative matches.

    Raises:
        GradcheckError: a mismatch, as :func:`gradcheck`.
        DTypeError: an input is not float64.
        TypeError: an input is not a Tensor, or ``fn`` does not return a Tensor.
        ValueError: no input requires grad.
        GraphError: ``fn``'s output does not depend on the inputs through the graph (which
            :func:`gradcheck` accepts, with a zero gradient).
    """
    ins = _as_inputs(inputs)
    diff = [t for t in ins if t.requires_grad]
    f = _weighted_output(fn, ins, seed)
    rng = np.random.default_rng(seed + 1)
    us = [rng.uniform(0.5, 1.5, t.shape) * rng.choice([-1.0, 1.0], t.shape) for t in diff]

    @enable_grad()  # differentiates inside numerical_gradient's no_grad
    def first_derivative(*_: Tensor) -> Tensor:
        out = f()
        if not out.requires_grad:  # no path from the inputs: every derivative is 0
            return Tensor(0.0)
        gs = grad(out, diff, create_graph=True, allow_unused=True)
        total: Tensor = Tensor(0.0)
        for g, u in zip(gs, us, strict=True):
            if g is not None:
                total = total + (g * u).sum()
        return total

    return gradcheck(first_derivative, ins, eps=eps, atol=atol, rtol=rtol, seed=seed)
