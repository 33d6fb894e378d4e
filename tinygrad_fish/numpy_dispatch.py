"""numpy's functions on Tensors: the one table from numpy's names to the engine's ops.

``Tensor`` implements numpy's two dispatch protocols, ``__array_ufunc__`` (NEP 13: ``np.exp``,
``np.maximum``, ``arr - t``...) and ``__array_function__`` (NEP 18: ``np.dot``, ``np.sum``,
``np.reshape``...), by calling :func:`array_ufunc` and :func:`array_function` here. So the
fish book's numpy code differentiates as it is written::

    a1 = np.dot(x, W1) + b1          # W1, b1 Tensors: a1 is a Tensor in the graph
    y = np.exp(a1) / np.sum(np.exp(a1), axis=-1, keepdims=True)

The rules, in order:

1. A function or ufunc in the tables (:data:`UFUNCS`, :data:`FUNCTIONS`) runs the engine's
   own op: its result is a Tensor in the graph. No op is implemented a second time here:
   each entry only translates numpy's arguments.
2. A function whose result carries no gradient (comparisons, ``argmax``, ``shape``,
   ``allclose``...: :data:`NO_GRADIENT_UFUNCS`, :data:`NO_GRADIENT_FUNCTIONS`) computes on the
   values; an array result comes back as a Tensor that does not require grad, anything else
   (a tuple of ints, a bool) as numpy gives it.
3. Any other numpy function, or an option the table cannot differentiate (``out=``,
   ``where=``, a pad ``mode`` other than ``"constant"``...), called with a Tensor that
   requires grad while grad mode is on, raises
   :class:`~tinygrad_fish.errors.NotDifferentiableError` naming the function and the ways
   out: a tinygrad_fish op, or leaving the graph on purpose with ``t.detach()`` or
   ``np.asarray(t.data)``. It never returns a detached array silently.
4. With no Tensor that requires grad (or under ``no_grad``), such a function runs on the
   arrays and returns exactly what numpy returns for them (plain ndarrays). ``out=`` is then
   allowed too: it writes into the arrays (a Tensor's ``.data``, whose version is bumped).

``np.asarray(t)``, ``np.array(t)`` and ``t.__array__()`` keep giving the values (for plotting
and printing); they do not dispatch.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import ops
from .autograd import is_grad_enabled
from .errors import InvalidArgumentError, NotDifferentiableError
from .tensor import Tensor, as_tensor

__all__ = [
    "FUNCTIONS",
    "NO_GRADIENT_FUNCTIONS",
    "NO_GRADIENT_UFUNCS",
    "UFUNCS",
    "array_function",
    "array_ufunc",
]

_NoValue: Any = np._NoValue


class _Unsupported(Exception):
    """An argument the engine's op cannot take: the call falls back to rules 3 and 4."""


def _default(value: Any, default: Any, what: str) -> None:
    if value is not default and value is not _NoValue:
        raise _Unsupported(what)


def _kw(value: Any, default: Any) -> Any:
    return default if value is _NoValue else value


# ---------------------------------------------------------------------------------------------
# ufuncs
# ---------------------------------------------------------------------------------------------
_DEG = float(np.pi / 180)

#: ufunc -> the engine's op for ``ufunc(*inputs)``.
UFUNCS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: ops.add,
    np.subtract: ops.sub,
    np.multiply: ops.mul,
    np.divide: ops.div,
    np.power: ops.pow,
    np.negative: ops.neg,
    np.positive: ops.copy,
    np.absolute: ops.abs,
    np.fabs: ops.abs,
    np.square: lambda a: ops.pow(a, 2),
    np.reciprocal: lambda a: ops.div(1.0, a),
    np.sqrt: ops.sqrt,
    np.cbrt: ops.cbrt,
    np.exp: ops.exp,
    np.exp2: ops.exp2,
    np.expm1: ops.expm1,
    np.log: ops.log,
    np.log2: ops.log2,
    np.log10: ops.log10,
    np.log1p: ops.log1p,
    np.sin: ops.sin,
    np.cos: ops.cos,
    np.tan: ops.tan,
    np.arcsin: ops.arcsin,
    np.arccos: ops.arccos,
    np.arctan: ops.arctan,
    np.sinh: ops.sinh,
    np.cosh: ops.cosh,
    np.tanh: ops.tanh,
    np.arcsinh: ops.arcsinh,
    np.arccosh: ops.arccosh,
    np.arctanh: ops.arctanh,
    np.hypot: ops.hypot,
    np.arctan2: ops.arctan2,
    np.logaddexp: ops.logaddexp,
    np.maximum: ops.maximum,
    np.minimum: ops.minimum,
    np.deg2rad: lambda a: ops.mul(a, _DEG),
    np.rad2deg: lambda a: ops.div(a, _DEG),
    np.sign: ops.sign,
    np.floor: ops.floor,
    np.ceil: ops.ceil,
    np.trunc: ops.trunc,
    np.rint: ops.round,
    np.matmul: ops.matmul,
}

#: ufuncs whose results carry no gradient (bools): computed on the values.
NO_GRADIENT_UFUNCS: frozenset[np.ufunc] = frozenset({
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.isnan, np.isinf, np.isfinite, np.signbit, np.logical_and, np.logical_or,
    np.logical_xor, np.logical_not,
})

#: ``ufunc.reduce`` -> the engine's reduction (``np.add.reduce(t, axis=0)`` is a sum).
_REDUCTIONS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: ops.sum,
    np.maximum: ops.max,
    np.minimum: ops.min,
}


def _walk(obj: Any) -> Iterator[Tensor]:
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for x in obj:
            yield from _walk(x)
    elif isinstance(obj, dict):
        for x in obj.values():
            yield from _walk(x)


def _needs_grad(*objs: Any) -> bool:
    """True when a Tensor that requires grad is among ``objs`` and grad mode is on."""
    return is_grad_enabled() and any(t._requires_grad for o in objs for t in _walk(o))


def _values(obj: Any) -> Any:
    """``obj`` with every Tensor replaced by its array (in lists, tuples and dicts too)."""
    if isinstance(obj, Tensor):
        return obj.data
    if isinstance(obj, list):
        return [_values(x) for x in obj]
    if isinstance(obj, tuple):
        return tuple(_values(x) for x in obj)
    if isinstance(obj, dict):
        return {k: _values(v) for k, v in obj.items()}
    return obj


def _wrap(result: Any) -> Any:
    """numpy's result as Tensors (that do not require grad): arrays and numpy scalars."""
    if isinstance(result, np.ndarray):
        return Tensor._wrap(result)
    if isinstance(result, np.generic):
        return Tensor._wrap(np.asarray(result))
    if isinstance(result, tuple):
        return tuple(_wrap(r) for r in result)
    return result


def _refuse(what: str, reason: str = "") -> NotDifferentiableError:
    head = (f"{what} cannot be differentiated with {reason}" if reason
            else f"{what} has no differentiable implementation in tinygrad_fish")
    return NotDifferentiableError(
        f"{head}, and it was called with a Tensor that requires grad: its result would "
        "silently leave the graph. Use a tinygrad_fish op that does the same, or leave the "
        "graph on purpose: pass t.detach() or np.asarray(t.data) instead of t (see the docs "
        "page 'Differentiate your numpy code')."
    )


def _name(func: Any) -> str:
    """``numpy.unique``, ``numpy.linalg.norm``: the name a user would write."""
    module = getattr(func, "__module__", None) or "numpy"
    if module.startswith("numpy.") and module.split(".")[1] in ("linalg", "fft", "random"):
        module = ".".join(module.split(".")[:2])
    elif module.startswith("numpy"):
        module = "numpy"
    return f"{module}.{getattr(func, '__name__', repr(func))}"


def _write_out(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], out: Any,
               kwargs: dict[str, Any]) -> Any:
    """``ufunc(..., out=...)`` on the values; a Tensor in ``out`` gets its version bumped."""
    outs = out if isinstance(out, tuple) else (out,)
    raw = tuple(o.data if isinstance(o, Tensor) else o for o in outs)
    for o in outs:
        if isinstance(o, Tensor) and not o.data.flags.writeable:
            raise InvalidArgumentError(
                f"numpy.{ufunc.__name__}(..., out=t): t is a read-only view (as broadcast_to "
                "gives); make a tensor of its own first"
            )
    getattr(ufunc, method)(*_values(inputs), out=raw, **_values(kwargs))
    for o in outs:
        if isinstance(o, Tensor):
            o._bump_version()
    return out if isinstance(out, tuple) and len(out) > 1 else outs[0]


def array_ufunc(ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    """Tensor's ``__array_ufunc__``: ``ufunc`` (or its ``method``) on Tensors, by the rules
    of this module.

    Raises:
        NotDifferentiableError: a ufunc, method or option with no differentiable
            implementation, called with a Tensor that requires grad.
    """
    for x in inputs:
        if not isinstance(x, (Tensor, np.ndarray, np.generic, int, float, complex, bool)):
            return NotImplemented
    grad = _needs_grad(inputs, kwargs)
    out = kwargs.pop("out", None)
    what = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    if out is not None:
        if grad or _needs_grad(out):
            raise _refuse(what, "out= (it writes into an existing array, outside the graph: "
                                f"write y = np.{ufunc.__name__}(...) instead)")
        return _write_out(ufunc, method, inputs, out, kwargs)
    if method == "__call__" and ufunc in NO_GRADIENT_UFUNCS:
        return _wrap(ufunc(*_values(inputs), **_values(kwargs)))
    try:
        if method == "__call__":
            op = UFUNCS.get(ufunc)
            if op is None:
                raise _Unsupported("")
            dtype = kwargs.pop("dtype", None)
            if kwargs:
                raise _Unsupported(f"the option {sorted(kwargs)[0]}=")
            if dtype is not None:
                inputs = tuple(ops.astype(as_tensor(x), dtype) for x in inputs)
            return op(*inputs)
        if method == "reduce":
            return _reduce(ufunc, *inputs, **kwargs)
        if method == "outer" and ufunc in UFUNCS and len(inputs) == 2 and not kwargs:
            a, b = (as_tensor(x) for x in inputs)
            return UFUNCS[ufunc](ops.reshape(a, a.shape + (1,) * b.ndim), b)
        raise _Unsupported("")
    except _Unsupported as e:
        if grad:
            raise _refuse(what, str(e)) from None
    return _wrap(getattr(ufunc, method)(*_values(inputs), **_values(kwargs)))


def _reduce(ufunc: np.ufunc, a: Any, axis: Any = 0, dtype: Any = None, out: Any = None,
            keepdims: bool = False, initial: Any = _NoValue, where: Any = True) -> Tensor:
    op = _REDUCTIONS.get(ufunc)
    if op is None:
        raise _Unsupported("")
    _default(dtype, None, "dtype=")
    _default(initial, _NoValue, "initial=")
    _default(where, True, "where=")
    return op(a, axis=axis, keepdims=keepdims)


# ---------------------------------------------------------------------------------------------
# array functions
# ---------------------------------------------------------------------------------------------
def _sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _NoValue,
         initial: Any = _NoValue, where: Any = _NoValue) -> Tensor:
    _default(out, None, "out=")
    _default(where, True, "where=")
    t = as_tensor(a) if dtype is None else ops.astype(as_tensor(a), dtype)
    s = ops.sum(t, axis=axis, keepdims=bool(_kw(keepdims, False)))
    return s if initial is _NoValue else s + initial


def _mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _NoValue,
          *, where: Any = _NoValue) -> Tensor:
    _default(out, None, "out=")
    _default(where, True, "where=")
    t = as_tensor(a) if dtype is None else ops.astype(as_tensor(a), dtype)
    return ops.mean(t, axis=axis, keepdims=bool(_kw(keepdims, False)))


def _extreme(op: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def handler(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NoValue,
                initial: Any = _NoValue, where: Any = _NoValue) -> Tensor:
        _default(out, None, "out=")
        _default(initial, _NoValue, "initial=")
        _default(where, True, "where=")
        return op(a, axis=axis, keepdims=bool(_kw(keepdims, False)))

    return handler


def _var_std(op: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def handler(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
                keepdims: Any = _NoValue, *, where: Any = _NoValue, mean: Any = _NoValue,
                correction: Any = _NoValue) -> Tensor:
        _default(out, None, "out=")
        _default(where, True, "where=")
        _default(mean, _NoValue, "mean=")
        t = as_tensor(a) if dtype is None else ops.astype(as_tensor(a), dtype)
        d = _kw(correction, ddof)
        return op(t, axis=axis, ddof=d, keepdims=bool(_kw(keepdims, False)))

    return handler


def _reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None,
             copy: Any = None) -> Tensor:
    _default(order, "C", f"order={order!r}")
    return ops.reshape(a, shape if shape is not None else newshape)


def _transpose(a: Any, axes: Any = None) -> Tensor:
    return ops.transpose(a) if axes is None else ops.transpose(a, axes)


def _where(condition: Any, x: Any = _NoValue, y: Any = _NoValue) -> Any:
    if x is _NoValue and y is _NoValue:  # np.where(cond): the indices, no gradient
        return _wrap(np.where(_values(condition)))
    if x is _NoValue or y is _NoValue:
        raise _Unsupported("either both or neither of x and y")
    return ops.where(condition, x, y)


def _clip(a: Any, a_min: Any = _NoValue, a_max: Any = _NoValue, out: Any = None, *,
          min: Any = _NoValue, max: Any = _NoValue, **kwargs: Any) -> Tensor:
    _default(out, None, "out=")
    if kwargs:
        raise _Unsupported(f"the option {sorted(kwargs)[0]}=")
    lo, hi = _kw(a_min, _kw(min, None)), _kw(a_max, _kw(max, None))
    if isinstance(lo, Tensor) or isinstance(hi, Tensor) or np.ndim(lo) or np.ndim(hi):
        raise _Unsupported("array bounds")
    return ops.clip(a, lo, hi)


def _concatenate(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None,
                 casting: str = "same_kind") -> Tensor:
    _default(out, None, "out=")
    ts = [as_tensor(x) if dtype is None else ops.astype(as_tensor(x), dtype) for x in arrays]
    return ops.concatenate(ts, axis=axis)


def _stack(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None,
           casting: str = "same_kind") -> Tensor:
    _default(out, None, "out=")
    ts = [as_tensor(x) if dtype is None else ops.astype(as_tensor(x), dtype) for x in arrays]
    return ops.stack(ts, axis=axis)


def _atleast(nd: int) -> Callable[..., Any]:
    def handler(*arys: Any) -> Any:
        out = []
        for x in arys:
            t = as_tensor(x)
            if t.ndim < nd:
                shape = (1,) * (nd - t.ndim) + t.shape if nd < 3 or t.ndim == 0 else (
                    (1, *t.shape, 1) if t.ndim == 1 else (*t.shape, 1))
                t = ops.reshape(t, shape)
            out.append(t)
        return out[0] if len(out) == 1 else out

    return handler


def _vstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Tensor:
    return _concatenate([_atleast(2)(x) for x in tup], axis=0, dtype=dtype)


def _hstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Tensor:
    ts = [_atleast(1)(x) for x in tup]
    return _concatenate(ts, axis=0 if ts and ts[0].ndim == 1 else 1, dtype=dtype)


def _pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Tensor:
    if mode != "constant":
        raise _Unsupported(f"mode={mode!r}; only 'constant' is differentiable")
    value = kwargs.pop("constant_values", 0)
    if kwargs:
        raise _Unsupported(f"the option {sorted(kwargs)[0]}=")
    if np.ndim(value) != 0:
        raise _Unsupported("constant_values per axis")
    return ops.pad(array, pad_width, constant_values=value)


def _like(fill: Any) -> Callable[..., Tensor]:
    def handler(a: Any, *args: Any, dtype: Any = None, order: str = "K", subok: bool = True,
                shape: Any = None, device: Any = None) -> Tensor:
        value = fill if fill is not None else args[0]
        rest = args[1:] if fill is None else args
        if rest:
            dtype = rest[0]
        src = a.data if isinstance(a, Tensor) else np.asarray(a)
        return Tensor._wrap(np.full(src.shape if shape is None else shape, _values(value),
                                    dtype=src.dtype if dtype is None else dtype))

    return handler


def _broadcast_to(array: Any, shape: Any, subok: bool = False) -> Tensor:
    return ops.broadcast_to(array, shape)


def _copy(a: Any, order: str = "K", subok: bool = False) -> Tensor:
    return ops.copy(a)


def _round(a: Any, decimals: int = 0, out: Any = None) -> Tensor:
    _default(out, None, "out=")
    return ops.round(a, decimals)


def _ravel(a: Any, order: str = "C") -> Tensor:
    _default(order, "C", f"order={order!r}")
    return ops.reshape(a, -1)


def _dot(a: Any, b: Any, out: Any = None) -> Tensor:
    _default(out, None, "out=")
    return ops.dot(a, b)


def _outer(a: Any, b: Any, out: Any = None) -> Tensor:
    _default(out, None, "out=")
    return ops.outer(a, b)


def _einsum(*operands: Any, out: Any = None, optimize: Any = False, **kwargs: Any) -> Tensor:
    _default(out, None, "out=")
    if kwargs or not operands or not isinstance(operands[0], str):
        raise _Unsupported("only the subscripts form, einsum('ij,jk->ik', a, b)")
    return ops.einsum(operands[0], *operands[1:])


def _split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    t = as_tensor(ary)
    n = t.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise _Unsupported(f"{k} sections of an axis of length {n}")
        bounds = [i * (n // k) for i in range(k + 1)]
    else:
        bounds = [0, *[int(i) for i in indices_or_sections], n]
    ax = axis % t.ndim
    return [ops.getitem(t, (slice(None),) * ax + (slice(lo, hi),))
            for lo, hi in itertools.pairwise(bounds)]


def _diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = _NoValue,
          append: Any = _NoValue) -> Tensor:
    _default(prepend, _NoValue, "prepend=")
    _default(append, _NoValue, "append=")
    t = as_tensor(a)
    ax = axis % t.ndim
    for _ in range(n):
        lo = (slice(None),) * ax + (slice(None, -1),)
        hi = (slice(None),) * ax + (slice(1, None),)
        t = ops.getitem(t, hi) - ops.getitem(t, lo)
    return t


def _squeeze(a: Any, axis: Any = None) -> Tensor:
    return ops.squeeze(a, axis)


def _cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Tensor:
    _default(dtype, None, "dtype=")
    _default(out, None, "out=")
    return ops.cumsum(a, axis)


def _repeat(a: Any, repeats: Any, axis: Any = None) -> Tensor:
    return ops.repeat_interleave(a, repeats, axis)


def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:
    if ord not in (None, 2, "fro", 1, np.inf, -np.inf):
        raise _Unsupported(f"ord={ord!r}")
    return ops.norm(x, ord, axis, keepdims)


#: numpy function -> the handler that calls the engine's op with numpy's arguments.
FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.tile: ops.tile,
    np.take_along_axis: ops.take_along_axis,
    np.cumsum: _cumsum,
    np.repeat: _repeat,
    np.linalg.norm: _norm,
    np.dot: _dot,
    np.outer: _outer,
    np.tensordot: ops.tensordot,
    np.einsum: _einsum,
    np.sum: _sum,
    np.mean: _mean,
    np.max: _extreme(ops.max),
    np.amax: _extreme(ops.max),
    np.min: _extreme(ops.min),
    np.amin: _extreme(ops.min),
    np.var: _var_std(ops.var),
    np.std: _var_std(ops.std),
    np.reshape: _reshape,
    np.ravel: _ravel,
    np.transpose: _transpose,
    np.swapaxes: ops.swapaxes,
    np.moveaxis: ops.moveaxis,
    np.squeeze: _squeeze,
    np.expand_dims: ops.expand_dims,
    np.broadcast_to: _broadcast_to,
    np.flip: ops.flip,
    np.atleast_1d: _atleast(1),
    np.atleast_2d: _atleast(2),
    np.where: _where,
    np.clip: _clip,
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.vstack: _vstack,
    np.hstack: _hstack,
    np.split: _split,
    np.diff: _diff,
    np.pad: _pad,
    np.copy: _copy,
    np.round: _round,
    np.around: _round,
    np.zeros_like: _like(0),
    np.ones_like: _like(1),
    np.empty_like: _like(0),
    np.full_like: _like(None),
}

#: numpy functions whose results carry no gradient (indices, shapes, bools): computed on
#: the values.
NO_GRADIENT_FUNCTIONS: frozenset[Callable[..., Any]] = frozenset({
    np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero,
    np.count_nonzero, np.shape, np.ndim, np.size, np.allclose, np.isclose, np.array_equal,
    np.array_equiv, np.any, np.all, np.iscomplexobj, np.isrealobj, np.result_type,
    np.may_share_memory, np.shares_memory, np.searchsorted, np.isreal, np.iscomplex,
    np.isneginf, np.isposinf,
})


def array_function(func: Callable[..., Any], types: Any, args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
    """Tensor's ``__array_function__``: the numpy function ``func`` on Tensors, by the
    rules of this module.

    Raises:
        NotDifferentiableError: a function (or an option of one) with no differentiable
            implementation, called with a Tensor that requires grad.
    """
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented
    handler = FUNCTIONS.get(func)
    reason = ""
    if handler is not None:
        try:
            return handler(*args, **kwargs)
        except _Unsupported as e:
            reason = str(e)
    elif func in NO_GRADIENT_FUNCTIONS:
        return _wrap(func(*_values(args), **_values(kwargs)))
    if _needs_grad(args, kwargs):
        raise _refuse(_name(func), reason)
    return func(*_values(args), **_values(kwargs))
