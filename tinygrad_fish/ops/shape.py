"""Shape ops: reshape, transpose, broadcast_to / sum_to, indexing, concatenate / stack, pad,
and the composites built on them (squeeze, expand_dims, swapaxes, moveaxis, flip).

Their backward passes are each other: the gradient of ``broadcast_to`` is ``sum_to`` and the
other way round; the gradient of indexing scatters back into zeros, whose own gradient is
indexing again. That pairing is what makes every order of derivative work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, SupportsIndex

import numpy as np
import numpy.typing as npt

from .. import autograd as _autograd
from ..autograd import Function
from ..errors import InvalidArgumentError, ShapeError
from ..tensor import ArrayLike, Tensor, as_tensor

__all__ = [
    "broadcast_to",
    "concatenate",
    "expand_dims",
    "flatten",
    "flip",
    "getitem",
    "moveaxis",
    "pad",
    "repeat_interleave",
    "reshape",
    "squeeze",
    "stack",
    "sum_to",
    "swapaxes",
    "tile",
    "transpose",
    "unbroadcast",
    "unsqueeze",
]

Array = npt.NDArray[Any]


def plain_backward() -> bool:
    """True while a backward pass runs that is not itself recorded (``create_graph=False``)
    and not under ``detect_anomaly``.

    The ops' ``backward`` methods are written once, in Tensor ops, for the recorded case;
    when this is True they may compute the same gradient with the very numpy calls their
    Tensor ops' ``forward`` would make (so bit-identical), wrapped with ``Tensor._wrap``,
    and skip building Tensor nodes that would record nothing anyway.
    """
    s = _autograd._state
    return not (s.grad_enabled or s.anomaly)


def _sum_to_array(x: Array, shape: tuple[int, ...]) -> Array:
    """Sum ``x`` over the axes that broadcasting added or stretched to reach ``shape``.

    The sum runs over ``x`` in C order whatever its memory layout (numpy's reductions round
    differently over a transposed view), so a gradient does not depend on the layout of the
    arrays that made it, and a bias gradient rounds as the book's ``np.sum(dout, axis=0)``.
    """
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    lead = x.ndim - len(shape)
    if lead == 1 and x.shape[1:] == shape:  # the common case: a bias over a batch
        return x.sum(axis=0)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
    )
    out = x.sum(axis=axes, keepdims=True) if axes else x
    return out.reshape(shape) if lead or out.shape != shape else out


class Reshape(Function):
    """``x.reshape(shape)``; backward: ``dx = reshape(g, x.shape)``."""

    saves_inputs = False
    is_view = True

    def forward(self, x: Array, shape: tuple[int, ...]) -> Array:
        return x.reshape(shape)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (x,) = self.inputs  # type: ignore[misc]
        return (reshape(g, x.shape),)


class Transpose(Function):
    """``x.transpose(axes)``; backward: ``dx = transpose(g, argsort(axes))``, the
    inverse permutation (``transpose(g)`` again when ``axes`` is None).
    """

    saves_inputs = False
    is_view = True

    def forward(self, x: Array, axes: tuple[int, ...] | None) -> Array:
        return x.transpose(axes)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        axes = self.attrs["axes"]
        if axes is None:
            return (transpose(g),)
        return (transpose(g, tuple(np.argsort(axes).tolist())),)


class BroadcastTo(Function):
    """``np.broadcast_to(x, shape)``; backward: ``dx = sum_to(g, x.shape)``, summing
    over the axes that broadcasting added or stretched.
    """

    name = "broadcast_to"
    saves_inputs = False
    is_view = True

    def forward(self, x: Array, shape: tuple[int, ...]) -> Array:
        return np.broadcast_to(x, shape)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (x,) = self.inputs  # type: ignore[misc]
        return (sum_to(g, x.shape),)


class SumTo(Function):
    """Sum over broadcast axes down to ``shape``: the adjoint of :class:`BroadcastTo`;
    backward: ``dx = broadcast_to(g, x.shape)``.
    """

    name = "sum_to"
    saves_inputs = False

    def forward(self, x: Array, shape: tuple[int, ...]) -> Array:
        return _sum_to_array(x, shape)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (x,) = self.inputs  # type: ignore[misc]
        return (broadcast_to(g, x.shape),)


class GetItem(Function):
    """``x[index]`` (numpy indexing); backward: ``dx = scatter_add(g, x.shape, index)``:
    zeros of ``x.shape`` with ``g`` added at ``index`` (repeated indices add up).
    """

    name = "getitem"
    saves_inputs = False
    is_view = True  # basic indexing gives a view; advanced indexing a copy (checked)

    def forward(self, x: Array, index: Any) -> Array:
        return x[index]

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (x,) = self.inputs  # type: ignore[misc]
        return (ScatterAdd.apply(g, shape=x.shape, index=self.attrs["index"]),)


class ScatterAdd(Function):
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices add up; with
    ``unique=True`` the caller vouches that none repeats, and ``g`` is simply placed):
    the adjoint of indexing; backward: ``dg = gg[index]``, indexing again.
    """

    name = "scatter_add"
    saves_inputs = False

    def forward(self, g: Array, shape: tuple[int, ...], index: Any,
                unique: bool = False) -> Array:
        out = np.zeros(shape, dtype=g.dtype)
        if unique or _is_basic(index):
            out[index] = g  # slices and ints (or indices known unique) never repeat
        else:
            np.add.at(out, index, g)
        return out

    def backward(self, gg: Tensor) -> tuple[Tensor | None, ...]:
        return (getitem(gg, self.attrs["index"]),)


class Concatenate(Function):
    """``np.concatenate(xs, axis)``; backward: ``dx_i`` = the slice ``start_i:stop_i`` of ``g``
    along ``axis``, where input ``i`` was placed.
    """

    saves_inputs = False

    def forward(self, *xs: Array, axis: int) -> Array:
        return np.concatenate(xs, axis=axis)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        axis = self.attrs["axis"]
        grads: list[Tensor | None] = []
        start = 0
        for x, need in zip(self.inputs, self.needs_input_grad, strict=True):  # type: ignore[arg-type]
            stop = start + x.shape[axis]
            if need:
                index = (slice(None),) * (axis % g.ndim) + (slice(start, stop),)
                grads.append(getitem(g, index))
            else:
                grads.append(None)
            start = stop
        return tuple(grads)


class Pad(Function):
    """``np.pad(x, pad_width, constant_values=value)``; backward: ``dx`` = the interior of
    ``g`` (the slice where ``x`` was placed). ``pad_width`` is one ``(before, after)`` pair
    of non-negative ints per axis.
    """

    saves_inputs = False

    def forward(self, x: Array, pad_width: tuple[tuple[int, int], ...], value: Any) -> Array:
        return np.pad(x, pad_width, mode="constant", constant_values=value)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (x,) = self.inputs  # type: ignore[misc]
        index = tuple(slice(before, before + n)
                      for (before, _), n in zip(self.attrs["pad_width"], x.shape, strict=True))
        return (getitem(g, index),)


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(
        i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer)) for i in items
    )


def _normalize_shape(shape: tuple[Any, ...], op: str = "reshape") -> tuple[int, ...]:
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        try:
            shape = tuple(shape[0])
        except TypeError:
            raise ShapeError(f"{op}: expected ints, got {shape[0]!r}") from None
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise ShapeError(f"{op}: expected ints, got {s!r} in {shape}")
    return tuple(int(s) for s in shape)


def unbroadcast(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum a gradient back to ``shape``, undoing numpy broadcasting (no-op if it fits).

    ``shape`` must broadcast to ``g.shape``; the result has ``shape``. Unlike
    :func:`sum_to` (the checked form) this fast path of the engine
    does not check that first.

    Raises:
        ShapeError: ``g`` cannot be summed and reshaped to ``shape``.
    """
    if g.data.shape == shape:
        return g
    if plain_backward():  # SumTo's forward, without a node
        return Tensor._wrap(_sum_to_array(g.data, shape))
    return SumTo.apply(g, shape=shape)


# --- public functions ------------------------------------------------------------------------
def reshape(x: ArrayLike, *shape: SupportsIndex | Sequence[SupportsIndex]) -> Tensor:
    """``x`` with a new shape of the same size (one dimension may be -1); the shape is
    given as ints (``reshape(x, 2, 3)``) or one sequence (``reshape(x, (2, 3))``).

    Raises:
        ShapeError: the sizes differ, or the shape holds something other than ints.
        DTypeError: ``x`` is not numeric data.
    """
    t = as_tensor(x)
    new = _normalize_shape(shape)
    if new == t.data.shape:
        return t
    try:
        return Reshape.apply(t, shape=new)
    except ValueError:
        raise ShapeError(
            f"reshape: cannot reshape a tensor of shape {t.shape} (size {t.size}) into "
            f"shape {new}"
        ) from None


def transpose(x: ArrayLike, *axes: SupportsIndex | Sequence[SupportsIndex]) -> Tensor:
    """Permute the axes of ``x``; with no axes, reverse them (``x.T``). Axis ``i`` of the
    result is axis ``axes[i]`` of ``x``.

    Raises:
        ShapeError: ``axes`` is not a permutation of ``range(x.ndim)``.
        DTypeError: ``x`` is not numeric data.
    """
    t = as_tensor(x)
    perm = _normalize_shape(axes, "transpose") if axes else None
    if perm is not None:
        nd = t.ndim
        if not all(-nd <= p < nd for p in perm) or sorted(p % nd for p in perm) != list(
            range(nd)
        ):
            raise ShapeError(
                f"transpose: axes {perm} are not a permutation of the {t.ndim} axes of a "
                f"tensor of shape {t.shape}"
            )
        perm = tuple(p % t.ndim for p in perm)
    if t.ndim < 2 and perm is None:
        return t
    return Transpose.apply(t, axes=perm)


def broadcast_to(x: ArrayLike, shape: int | Sequence[int]) -> Tensor:
    """Repeat ``x`` along new leading axes and size-1 axes to ``shape`` (numpy's rules; an
    int ``n`` means ``(n,)``).

    Raises:
        ShapeError: ``x``'s shape cannot be broadcast to ``shape``, or ``shape`` holds
            something other than ints.
        DTypeError: ``x`` is not numeric data.
    """
    t = as_tensor(x)
    target = _normalize_shape((shape,), "broadcast_to")
    if target == t.data.shape:
        return t
    try:
        return BroadcastTo.apply(t, shape=target)
    except ValueError:
        raise ShapeError(
            f"broadcast_to: cannot broadcast a tensor of shape {t.shape} to shape {target}"
        ) from None


def sum_to(x: ArrayLike, shape: int | Sequence[int]) -> Tensor:
    """Sum ``x`` down to ``shape``, undoing broadcasting: the adjoint of :func:`broadcast_to`.

    The result has ``shape`` (an int ``n`` means ``(n,)``).

    Raises:
        ShapeError: ``shape`` does not broadcast to ``x``'s shape, or holds something other
            than ints.
        DTypeError: ``x`` is not numeric data.
    """
    t = as_tensor(x)
    target = _normalize_shape((shape,), "sum_to")
    if target == t.data.shape:
        return t
    try:
        if np.broadcast_shapes(target, t.data.shape) != t.data.shape:
            raise ValueError
    except ValueError:
        raise ShapeError(
            f"sum_to: a tensor of shape {t.shape} is not a broadcast of shape {target}"
        ) from None
    return SumTo.apply(t, shape=target)


def getitem(x: ArrayLike, index: Any) -> Tensor:
    """``x[index]`` with numpy's indexing: ints, slices, None, ``...``, int arrays, masks.

    Repeated integer indices add up their gradients. Index arrays may be Tensors. The
    result has the shape numpy's indexing gives.

    Raises:
        IndexingError: an index out of range, too many indices, a boolean mask of the wrong
            shape, or an index that is not an int, slice, None, ``...`` or int/bool array.
        DTypeError: ``x`` is not numeric data.
    """
    t = as_tensor(x)
    if isinstance(index, tuple):
        index = tuple(map(_own_index_part, index))
    else:
        index = _own_index_part(index)
    return GetItem.apply(t, index=index)


def _own_index_part(i: Any) -> Any:
    """An index component the op can keep: index arrays (and Tensors, and lists) become
    arrays of their own, so editing the caller's array between forward and backward cannot
    move the gradient."""
    if isinstance(i, Tensor):
        return i.data.copy()
    if isinstance(i, np.ndarray):
        return i.copy()
    if isinstance(i, list):
        return np.array(i)
    return i


def _check_axis(op: str, axis: Any) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ShapeError(f"{op}: axis must be an int, got {axis!r}")
    return int(axis)


def concatenate(tensors: Sequence[ArrayLike], axis: int | None = 0) -> Tensor:
    """Join tensors along an existing ``axis``: the result's size along ``axis`` is the sum
    of theirs. ``axis=None`` (as numpy) flattens each tensor first: the result is 1-D.

    Raises:
        ShapeError: the shapes differ other than along ``axis``, ``axis`` is out of range
            or not an int (or None), the tensors are 0-d, or no tensors are given.
        DTypeError: a tensor is not numeric data.
    """
    ts = [as_tensor(t) for t in tensors]
    if not ts:
        raise ShapeError("concatenate: needs at least one tensor")
    if axis is None:  # numpy's meaning: flatten every tensor, then join them
        ts = [reshape(t, -1) for t in ts]
        axis = 0
    axis = _check_axis("concatenate", axis)
    try:
        return Concatenate.apply(*ts, axis=axis)
    except (ValueError, np.exceptions.AxisError) as e:
        shapes = ", ".join(str(t.shape) for t in ts)
        raise ShapeError(
            f"concatenate: cannot join shapes {shapes} along axis {axis}: {e}"
        ) from None


def stack(tensors: Sequence[ArrayLike], axis: int = 0) -> Tensor:
    """Join ``k`` tensors of the same shape along a new ``axis`` of size ``k``.

    Raises:
        ShapeError: the shapes differ, ``axis`` is out of range or not an int, or no tensors
            are given.
        DTypeError: a tensor is not numeric data.
    """
    ts = [as_tensor(t) for t in tensors]
    if not ts:
        raise ShapeError("stack: needs at least one tensor")
    axis = _check_axis("stack", axis)
    shape = ts[0].shape
    for t in ts[1:]:
        if t.shape != shape:
            shapes = ", ".join(str(u.shape) for u in ts)
            raise ShapeError(f"stack: all tensors must have the same shape, got {shapes}")
    ax = axis if axis >= 0 else axis + len(shape) + 1
    if not 0 <= ax <= len(shape):
        raise ShapeError(f"stack: axis {axis} is out of range for {len(shape) + 1} dimensions")
    new = (*shape[:ax], 1, *shape[ax:])
    return concatenate([reshape(t, new) for t in ts], axis=ax)


def pad(x: ArrayLike, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Tensor:
    """``x`` surrounded by ``constant_values`` (numpy's ``np.pad`` in ``"constant"`` mode):
    ``pad_width`` is an int (every side of every axis), a ``(before, after)`` pair (every
    axis), or one pair per axis. The result is ``x.shape[i] + before_i + after_i`` long
    along axis ``i``; the gradient is the interior of the output's.

    Raises:
        ShapeError: ``pad_width`` is not ints, has a negative entry, or does not fit the
            axes of ``x``.
        InvalidArgumentError: a ``mode`` other than ``"constant"``, or ``constant_values``
            that is not one number.
    """
    t = as_tensor(x)
    if mode != "constant":
        raise InvalidArgumentError(
            f"pad: mode {mode!r} is not differentiable in tinygrad_fish; only 'constant' is"
        )
    value = np.asarray(constant_values)
    if value.ndim != 0 or value.dtype.kind not in "biuf":
        raise InvalidArgumentError(
            f"pad: constant_values must be one number, got {constant_values!r}"
        )
    try:
        widths = np.broadcast_to(np.asarray(pad_width), (t.ndim, 2))
    except ValueError:
        raise ShapeError(
            f"pad: pad_width {pad_width!r} does not fit a tensor of shape {t.shape}: give "
            "an int, a (before, after) pair, or one pair per axis"
        ) from None
    if widths.dtype.kind not in "iu" or (widths < 0).any():
        raise ShapeError(f"pad: pad_width must be non-negative ints, got {pad_width!r}")
    pw = tuple((int(b), int(a)) for b, a in widths)
    return Pad.apply(t, pad_width=pw, value=value.item())


def _axes(op: str, axis: Any, ndim: int) -> tuple[int, ...]:
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        a = _check_axis(op, a)
        if not -ndim <= a < ndim:
            raise ShapeError(f"{op}: axis {a} is out of range for {ndim} dimensions")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    return tuple(out)


def expand_dims(x: ArrayLike, axis: int | Sequence[int]) -> Tensor:
    """``x`` with new axes of size 1 at ``axis`` (an int or a tuple, numpy's rule); a
    reshape in the graph.

    Raises:
        ShapeError: an axis is out of range for the result, repeated, or not an int.
    """
    t = as_tensor(x)
    axes = _axes("expand_dims", axis, t.ndim + (len(axis) if isinstance(axis, (tuple, list))
                                                else 1))
    shape = iter(t.shape)
    new = tuple(1 if i in axes else next(shape) for i in range(t.ndim + len(axes)))
    return reshape(t, new)


def squeeze(x: ArrayLike, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` without size-1 axes (all of them, or those in ``axis``); a reshape in the
    graph.

    Raises:
        ShapeError: an axis is out of range, not an int, or not of size 1.
    """
    t = as_tensor(x)
    if axis is None:
        axes = tuple(i for i, n in enumerate(t.shape) if n == 1)
    else:
        axes = _axes("squeeze", axis, t.ndim)
        bad = [a for a in axes if t.shape[a] != 1]
        if bad:
            raise ShapeError(
                f"squeeze: axis {bad[0]} of shape {t.shape} has size {t.shape[bad[0]]}, not 1"
            )
    return reshape(t, tuple(n for i, n in enumerate(t.shape) if i not in axes))


def swapaxes(x: ArrayLike, axis1: int, axis2: int) -> Tensor:
    """``x`` with two axes exchanged; a transpose in the graph.

    Raises:
        ShapeError: an axis is out of range or not an int.
    """
    t = as_tensor(x)
    (a,) = _axes("swapaxes", axis1, t.ndim)
    (b,) = _axes("swapaxes", axis2, t.ndim)
    perm = list(range(t.ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(t, perm)


def moveaxis(x: ArrayLike, source: int | Sequence[int],
             destination: int | Sequence[int]) -> Tensor:
    """``x`` with the axes ``source`` moved to ``destination`` (numpy's rule); a transpose
    in the graph.

    Raises:
        ShapeError: an axis is out of range, repeated or not an int, or ``source`` and
            ``destination`` differ in length.
    """
    t = as_tensor(x)
    src = _axes("moveaxis", source, t.ndim)
    dst = _axes("moveaxis", destination, t.ndim)
    if len(src) != len(dst):
        raise ShapeError("moveaxis: source and destination must have the same length")
    perm = [i for i in range(t.ndim) if i not in src]
    for d_, s_ in sorted(zip(dst, src, strict=True)):
        perm.insert(d_, s_)
    return transpose(t, perm)


def flip(x: ArrayLike, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` reversed along ``axis`` (all axes when None); indexing in the graph.

    Raises:
        ShapeError: an axis is out of range, repeated or not an int.
    """
    t = as_tensor(x)
    axes = tuple(range(t.ndim)) if axis is None else _axes("flip", axis, t.ndim)
    return getitem(t, tuple(slice(None, None, -1) if i in axes else slice(None)
                            for i in range(t.ndim)))


def unsqueeze(x: ArrayLike, dim: int) -> Tensor:
    """``x`` with a new axis of size 1 at ``dim`` (PyTorch's name for one-axis
    ``expand_dims``); a reshape in the graph.

    Raises:
        ShapeError: ``dim`` is out of range for the result, or not an int.
    """
    return expand_dims(x, _check_axis("unsqueeze", dim))


def flatten(x: ArrayLike, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """``x`` with the axes ``start_dim..end_dim`` (inclusive) merged into one (PyTorch's
    ``flatten``; the defaults give 1-D, as numpy's ``ravel``); a 0-d ``x`` becomes (1,).

    Raises:
        ShapeError: an axis is out of range or not an int, or ``start_dim`` comes after
            ``end_dim``.
    """
    t = as_tensor(x)
    if t.ndim == 0:
        _axes("flatten", start_dim, 1)
        _axes("flatten", end_dim, 1)
        return reshape(t, 1)
    (s,) = _axes("flatten", start_dim, t.ndim)
    (e,) = _axes("flatten", end_dim, t.ndim)
    if s > e:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for "
                         f"{t.ndim} dimensions")
    merged = int(np.prod(t.shape[s:e + 1], dtype=np.int64))
    return reshape(t, (*t.shape[:s], merged, *t.shape[e + 1:]))


def tile(x: ArrayLike, reps: int | Sequence[int]) -> Tensor:
    """``x`` repeated ``reps[i]`` times along axis ``i`` (numpy's ``np.tile``: ``reps`` and
    the shape are padded with leading 1s to the same length); a broadcast and a reshape
    in the graph, so the gradient sums the copies.

    Raises:
        ShapeError: ``reps`` holds something other than non-negative ints.
    """
    t = as_tensor(x)
    r = _normalize_shape((reps,) if isinstance(reps, (int, np.integer)) else (tuple(reps),),
                         "tile")
    if any(n < 0 for n in r):
        raise ShapeError(f"tile: reps must be non-negative, got {reps!r}")
    nd = max(len(r), t.ndim)
    r = (1,) * (nd - len(r)) + r
    shape = (1,) * (nd - t.ndim) + t.shape
    inter = tuple(v for pair in zip((1,) * nd, shape, strict=True) for v in pair)
    wide = tuple(v for pair in zip(r, shape, strict=True) for v in pair)
    out = broadcast_to(reshape(t, inter), wide)
    return reshape(out, tuple(a * b for a, b in zip(r, shape, strict=True)))


def repeat_interleave(x: ArrayLike, repeats: int | ArrayLike, dim: int | None = None) -> Tensor:
    """Each element of ``x`` repeated along ``dim`` (PyTorch's ``repeat_interleave``,
    numpy's ``np.repeat``): ``repeats`` is an int or one non-negative int per element
    along ``dim``; ``dim=None`` flattens ``x`` first. Indexing in the graph, so the
    gradient sums the copies.

    Raises:
        ShapeError: ``dim`` is out of range, or ``repeats`` is not one int or one per
            element along ``dim``, or is negative.
    """
    t = as_tensor(x)
    if dim is None:
        t, dim = reshape(t, -1), 0
    (d,) = _axes("repeat_interleave", dim, t.ndim)
    reps = np.asarray(repeats.data if isinstance(repeats, Tensor) else repeats)
    if reps.dtype.kind not in "iu" or reps.ndim > 1 or (reps.ndim == 1 and
                                                         reps.shape[0] != t.shape[d]):
        raise ShapeError(
            f"repeat_interleave: repeats must be an int or {t.shape[d]} ints (one per element "
            f"along dim {dim}), got {repeats!r}")
    if (reps < 0).any():
        raise ShapeError(f"repeat_interleave: repeats must be non-negative, got {repeats!r}")
    index = np.repeat(np.arange(t.shape[d]), reps)
    return getitem(t, (slice(None),) * d + (index,))
