"""Node labels: the kind and label lines of each walked tensor, op, ``+`` and ``.grad``."""

from __future__ import annotations

from ..tensor import Tensor
from .format import _attr_lines, _shape, _summary
from .nodes import ClusterKey, _Node, _Options
from .scopes import _common_prefix, _is_absorbable_leaf
from .walk import _ACC, _FN, _FWD_TENSOR, _SEED, _Walk


def _tensor_kind(t: Tensor, o: _Options) -> str:
    if id(t) in o.outputs:
        return "output"
    if t._ctx is not None:
        return "tensor"
    return "param" if t.requires_grad else "const"


def _tensor_lines(t: Tensor, o: _Options, kind: str) -> list[str]:
    name = o.names.of(t)
    lines = [] if name is None else [name]
    lines.append(f"{_shape(t.shape)} {t.dtype}")
    if t.data is None:  # a stand-in for a tensor backward() freed
        if o.show_values:
            lines.append("value freed by backward()")
    elif o.show_values or (kind == "const" and t.ndim == 0 and name is None):
        lines.append(("value " if t.size == 1 else "") + _summary(t.data))
    if o.show_grads and t.requires_grad:
        lines.append("grad " + ("None" if t.grad is None else _summary(t.grad.data)))
    return lines


def _item_node(w: _Walk, i: int, o: _Options, chains: dict[int, tuple[ClusterKey, ...]]) -> _Node:
    what, obj = w.items[i]
    dot_id = f"n{i}"
    if what == _FN:
        title = obj.name if o.view == "forward" else f"{type(obj).__name__}Backward"
        lines = [title, *_attr_lines(obj)]
        kind = "op"
        if i in w.freed:
            lines.append("freed by backward()")
            kind = "freed"
        return _Node(dot_id, kind, lines, chains.get(i, ()))
    t: Tensor = obj
    if what == _FWD_TENSOR:
        kind = _tensor_kind(t, o)
        chain: tuple[ClusterKey, ...] = ()
        if kind != "output":
            if t._ctx is not None and id(t._ctx) in w.fn_ids:
                chain = chains.get(w.fn_ids[id(t._ctx)], ())
            elif t._ctx is None and _is_absorbable_leaf(t, o.names):
                chain = _common_prefix([chains.get(c, ()) for c in w.consumers.get(id(t), [])])
        return _Node(dot_id, kind, _tensor_lines(t, o, kind), chain)
    name = o.names.of(t)
    if what == _SEED:
        lines = [name or "output", f"{_shape(t.shape)} {t.dtype}"]
        if o.show_values:
            lines.append(("value " if t.size == 1 else "") + _summary(t.data))
        return _Node(dot_id, "output", lines)
    consumer_chain = _common_prefix([chains.get(c, ()) for c in w.consumers.get(id(t), [])])
    if what == _ACC:
        producer = w.fn_ids.get(id(t._ctx)) if t._ctx is not None else None
        chain = chains.get(producer, ()) if producer is not None else consumer_chain
        return _Node(dot_id, "accumulate", ["+"], chain)
    # a leaf that receives a gradient
    lines = [f"{name}.grad" if name else "grad", f"{_shape(t.shape)} {t.dtype}"]
    if o.show_values or o.show_grads:  # this node IS the gradient: show its numbers
        lines.append("grad " + ("None" if t.grad is None else _summary(t.grad.data)))
    return _Node(dot_id, "param", lines, consumer_chain)
