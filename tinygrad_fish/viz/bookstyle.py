"""The book's ch05 style for small scalar graphs (the "buy apple" figures): ops as circles,
each value on an edge, the forward value above the edge and the backward gradient below it
(in red), left to right."""

from __future__ import annotations

from typing import Any

from ..autograd import grad
from ..errors import GraphError
from ..tensor import Tensor
from .format import _num
from .walk import _FN, _FWD_TENSOR, _walk_forward

# the op symbols the book's figures use; other ops show their name
_SYMBOLS = {"mul": "×", "add": "+", "sub": "−", "div": "÷", "neg": "−", "exp": "exp"}
# the look, in one place: ops are white circles; values black above the edge, gradients
# red below it; inputs and the output are plain text at the ends
_OP_ATTRS = {"shape": "circle", "style": "solid", "width": "0.5", "fixedsize": "true",
             "fontsize": "14"}
_END_ATTRS = {"shape": "plaintext", "fontsize": "14"}
_GRAD_COLOUR = "red3"


def _edge_label(value: Any, g: Any) -> str:
    lines = f'<font point-size="14">{_num(value)}</font>'
    if g is not None:
        lines += f'<br/><font point-size="14" color="{_GRAD_COLOUR}">{_num(g)}</font>'
    return f"<{lines}>"


def draw_book_style(loss: Tensor, *, gradients: bool = True) -> Any:
    """Draw a small scalar graph as the book's chapter 5 does.

    Every tensor in the graph must hold one number. Ops are circles (``×``, ``+``...); each
    tensor is an edge from the op that made it (or from its name, for an input) to the op
    that uses it, labelled with its value above and, with ``gradients``, d(loss)/d(tensor)
    below in red. The gradients are computed with :func:`tinygrad_fish.grad`
    (``retain_graph=True``): ``.grad`` is left alone and the graph stays usable.

    Args:
        loss: a 0-d (or one-element) Tensor, e.g. the price in ``buy_apple.py``.
        gradients: add the backward gradients below the edges.

    Returns:
        A ``graphviz.Digraph`` laid out left to right.

    Raises:
        ValueError: a tensor of the graph holds more than one number.
        GraphError: the graph's values were freed by a backward pass.
    """
    from .render import _import_graphviz

    if not isinstance(loss, Tensor):
        raise TypeError(f"draw_book_style() takes a Tensor, got {type(loss).__name__}")
    w = _walk_forward([loss], 10**9)
    tensors = [obj for what, obj in w.items if what == _FWD_TENSOR]
    freed = any(t.data is None for t in tensors) or any(
        what == _FN and obj.inputs is None for what, obj in w.items)
    if freed:
        raise GraphError("draw_book_style(): backward() freed this graph's values; "
                         "draw before it, or call backward(retain_graph=True)")
    for t in tensors:
        if t.size != 1:
            raise ValueError(
                "draw_book_style() draws small scalar graphs (the book's ch05 figures); "
                f"a tensor {t.name or ''} of this graph has shape {t.shape}"
            )
    grads: dict[int, Any] = {}
    if gradients:
        wanted = [t for t in tensors if t.requires_grad]
        if wanted:
            gs = grad(loss, wanted, retain_graph=True, allow_unused=True)
            grads = {id(t): None if g is None else g.item() for t, g in zip(wanted, gs,
                                                                              strict=True)}
    gv = _import_graphviz()
    dot = gv.Digraph(graph_attr={"rankdir": "LR", "fontname": "Helvetica"},
                     node_attr={"fontname": "Helvetica"}, edge_attr={"fontname": "Helvetica"})
    fn_id = {id(obj): f"f{i}" for i, (what, obj) in enumerate(w.items) if what == _FN}
    for what, obj in w.items:
        if what == _FN:
            dot.node(fn_id[id(obj)], _SYMBOLS.get(obj.name, obj.name), **_OP_ATTRS)
    consumers: dict[int, list[str]] = {}
    for what, obj in w.items:
        if what == _FN:
            for inp in obj.inputs:
                consumers.setdefault(id(inp), []).append(fn_id[id(obj)])
    for k, t in enumerate(tensors):
        tail = fn_id.get(id(t._ctx)) if t._ctx is not None else None
        if tail is None:
            tail = f"in{k}"
            dot.node(tail, t.name or "", **_END_ATTRS)
        heads = consumers.get(id(t), [])
        if t is loss:
            heads = [*heads, "out"]
            dot.node("out", t.name or "", **_END_ATTRS)
        for h in heads:
            dot.edge(tail, h, label=_edge_label(t.item(), grads.get(id(t))))
    return dot


__all__ = ["draw_book_style"]
