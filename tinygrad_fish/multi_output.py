"""Functions with several outputs: ``forward`` returns a tuple of arrays, ``apply`` a tuple
of Tensors, and ``backward`` receives one gradient per output (None for an output that no
gradient reached).

How it works, without touching the backward walk: the op's outputs are packed into one
flat array (a graph node of its own, :class:`Packed`, whose backward calls the op's), and
each output is a view of its slice (:class:`Output`, whose backward pads the gradient back
to the packed length and notes that this output was used). The outputs are created after
the packed node, so the walk visits all of them first, and the packed node sees which ones
received a gradient. The outputs must share one floating dtype (they are views of one
array); an in-place change of one output counts as a change of all (one version counter).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .autograd import Function, _get_requires_grad, _state
from .errors import DTypeError, GraphError
from .tensor import Tensor

__all__ = ["Output", "Packed", "apply_multi"]


class Packed(Function):
    """The outputs of a multi-output op, raveled and concatenated; backward: splits its
    gradient into one per output and calls the op's ``backward(*grads)``."""

    user: ClassVar[type[Function]]
    inner: Function  # the op's own node (its forward ran; its backward is called here)
    layout: list[tuple[int, int, tuple[int, ...]]]  # (offset, size, shape) per output
    received: set[int]  # the outputs a gradient reached in this backward pass

    def forward(self, *arrays: Any, _arrays: tuple[Any, ...], **attrs: Any) -> Any:
        return np.concatenate([a.ravel() for a in _arrays])

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        from .ops.shape import getitem, reshape

        inner: Function = self.inner
        used, self.received = self.received, set()
        grads = [reshape(getitem(g, slice(off, off + n)), shape) if i in used else None
                 for i, (off, n, shape) in enumerate(self.layout)]
        return inner.backward(*grads)  # type: ignore[arg-type]


class Output(Function):
    """Output ``index`` of a multi-output op: a view of its slice of the packed array;
    backward: the gradient padded with zeros to the packed length."""

    name = "output"
    saves_inputs = False
    is_view = True

    def forward(self, p: Any, index: int, offset: int, shape: tuple[int, ...]) -> Any:
        return p[offset:offset + int(np.prod(shape, dtype=np.int64))].reshape(shape)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        from .ops.shape import pad, reshape

        (p,) = self.inputs  # type: ignore[misc]
        node = p._ctx
        if node is not None and hasattr(node, "received"):
            node.received.add(self.attrs["index"])
        off = self.attrs["offset"]
        n = g.data.size
        return (pad(reshape(g, -1), ((off, p.data.size - off - n),)),)


_packed_classes: dict[type[Function], type[Packed]] = {}


def _packed_class(cls: type[Function]) -> type[Packed]:
    k = _packed_classes.get(cls)
    if k is None:
        k = _packed_classes[cls] = type(cls.__name__, (Packed,), {
            "name": cls.name, "saves_inputs": cls.saves_inputs, "user": cls,
            "__module__": cls.__module__})
    return k


def apply_multi(cls: type[Function], fn: Function, arrays: tuple[Any, ...],
                inputs: tuple[Tensor, ...], attrs: dict[str, Any]) -> tuple[Tensor, ...]:
    """The Tensors of a multi-output op whose ``forward`` (already run on ``fn``) returned
    ``arrays``; in the graph when an input requires grad.

    Raises:
        GraphError: ``forward`` returned an empty tuple, or the op sets ``save_output``.
        DTypeError: in the graph, the outputs are not all of one floating dtype.
    """
    arrs = tuple(np.asarray(a) for a in arrays)
    if not arrs:
        raise GraphError(f"{cls.name}.forward returned an empty tuple")
    if not (_state.grad_enabled and True in map(_get_requires_grad, inputs)):
        return tuple(Tensor._wrap(a) for a in arrs)
    if cls.save_output:
        raise GraphError(f"{cls.name}: save_output is not supported for a multi-output op")
    dt = arrs[0].dtype
    if dt.kind != "f" or any(a.dtype != dt for a in arrs):
        raise DTypeError(
            f"{cls.name}: the outputs of a multi-output op in the graph must share one "
            f"floating dtype, got {', '.join(str(a.dtype) for a in arrs)}"
        )
    p = _packed_class(cls).apply(*inputs, _arrays=arrs, **attrs)
    node = p._ctx
    assert isinstance(node, Packed)
    del node.attrs["_arrays"]
    layout: list[tuple[int, int, tuple[int, ...]]] = []
    off = 0
    for a in arrs:
        layout.append((off, a.size, a.shape))
        off += a.size
    node.inner, node.layout, node.received = fn, layout, set()
    fn.inputs, fn.needs_input_grad, fn.attrs = node.inputs, node.needs_input_grad, node.attrs
    fn.scope, fn.versions, fn.seq, fn.ghosts, fn._out = node.scope, None, node.seq, None, None
    return tuple(Output.apply(p, index=i, offset=o, shape=s)
                 for i, (o, _, s) in enumerate(layout))
