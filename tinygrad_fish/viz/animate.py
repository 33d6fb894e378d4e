"""Watch backprop: :func:`animate_backward` records the backward walk, one frame per node.

>>> from tinygrad_fish import Tensor
>>> from tinygrad_fish.viz import animate_backward
>>> a = Tensor([1.0, 2.0], requires_grad=True, name="a")
>>> anim = animate_backward((a * a).sum())   # runs backward(); a.grad is filled
>>> len(anim.frames)
2
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd import _state
from ..tensor import Tensor
from .format import _label, _summary
from .render import GraphvizNotFoundError, _import_graphviz
from .style import _EDGE_ATTRS, _GRAPH_ATTRS, _NODE_ATTRS, _STYLES
from .walk import _ACC, _FN, _LEAF, _SEED, _walk_backward

# the node being visited in a frame: a thick red outline (its own meaning, used nowhere else)
_CURRENT = {"penwidth": "3", "color": "red"}


@dataclass
class Frame:
    """One step of the backward walk.

    Attributes:
        node: the gradient function visited (``MulBackward``...).
        grad_in: the gradient it receives (the sum of all that flowed into its output),
            an array of the output's shape.
        svg: the drawing of the graph at this step (rendered by ``dot``), or "" when not
            rendered.
    """

    node: str
    grad_in: np.ndarray[Any, Any]
    svg: str = ""


class BackwardAnimation:
    """The frames of one backward pass; :meth:`save` writes a self-contained HTML page
    (inline SVG frames, a step slider in plain JavaScript, no network), and in Jupyter it
    displays itself (``_repr_html_``)."""

    def __init__(self, frames: list[Frame]) -> None:
        self.frames = frames

    def to_html(self) -> str:
        """The page: every frame's SVG inline, one shown at a time, a slider to step."""
        divs = []
        for k, f in enumerate(self.frames):
            grad = json.dumps(np.asarray(f.grad_in, dtype=float).ravel().tolist())
            divs.append(
                f'<div class="tf-frame" data-step="{k}" data-node="{html.escape(f.node)}" '
                f"data-grad='{grad}' style=\"display:{'block' if k == 0 else 'none'}\">"
                f"<p>step {k + 1}/{len(self.frames)}: {html.escape(f.node)} receives "
                f"{html.escape(_summary(f.grad_in))}</p>{f.svg}</div>"
            )
        n = len(self.frames)
        uid = f"tfanim{id(self)}"
        return (
            f'<div id="{uid}"><input type="range" min="0" max="{max(n - 1, 0)}" value="0" '
            f'style="width:100%">{"".join(divs)}</div>\n<script>(function(){{'
            f'var r=document.getElementById("{uid}");var s=r.querySelector("input");'
            'var fs=r.querySelectorAll(".tf-frame");s.oninput=function(){for(var i=0;'
            'i<fs.length;i++){fs[i].style.display=(i==s.value)?"block":"none";}};'
            "})();</script>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the HTML page to ``path`` (missing directories are created)."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        body = self.to_html()
        out.write_text(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            "<title>backward, step by step</title></head>\n<body>" + body + "</body></html>\n",
            encoding="utf-8",
        )
        return out


def animate_backward(loss: Tensor, *, render: bool = True) -> BackwardAnimation:
    """Run ``loss.backward()`` and record it, one frame per node it visits, in its order.

    Each frame draws the backward view with the visited node outlined in thick red and
    labelled with the gradient it receives, ``+`` nodes with the sum formed so far, and each
    leaf's ``.grad`` as it fills in. Like ``loss.backward()`` it accumulates into ``.grad``
    and frees the graph's arrays.

    Args:
        loss: a scalar Tensor (or any output: its gradient seed is ones).
        render: render each frame to SVG with the ``dot`` program (needed for the page);
            ``False`` records the gradients only.

    Raises:
        GraphvizNotFoundError: ``render`` and the ``dot`` program is not installed.
    """
    if not isinstance(loss, Tensor):
        raise TypeError(f"animate_backward() takes a Tensor, got {type(loss).__name__}")
    w = _walk_backward([loss], 10**9)
    index = {(what, id(obj)): i for i, (what, obj) in enumerate(w.items)}
    events: list[tuple[Any, Any, Any, tuple[Any, ...]]] = []
    prev = _state.backward_trace
    _state.backward_trace = lambda fn, out, g, ins: events.append(
        (fn, out, g.data.copy(), tuple(None if x is None else x.data.copy() for x in ins)))
    try:
        inputs_of = {id(obj): tuple(obj.inputs) for what, obj in w.items
                     if what == _FN and obj.inputs is not None}
        loss.backward()
    finally:
        _state.backward_trace = prev
    frames: list[Frame] = []
    received: dict[int, np.ndarray[Any, Any]] = {}  # item -> gradient so far
    for fn, out, g, in_grads in events:
        i = index.get((_FN, id(fn)))
        acc = index.get((_ACC, id(out)))
        if acc is not None:
            received[acc] = g
        if i is not None:
            received[i] = g
        for inp, ig in zip(inputs_of.get(id(fn), ()), in_grads, strict=False):
            if ig is None or not inp.requires_grad:
                continue
            acc = index.get((_ACC, id(inp)))
            if acc is not None:  # a sum forming
                received[acc] = received[acc] + ig if acc in received else ig
            leaf = index.get((_LEAF, id(inp))) if inp._ctx is None else None
            if leaf is not None:  # .grad filling in
                if acc is not None:
                    received[leaf] = received[acc]
                else:
                    received[leaf] = received[leaf] + ig if leaf in received else ig
        name = f"{type(fn).__name__}Backward"
        svg = _frame_svg(w, received, i, g) if render else ""
        frames.append(Frame(name, g, svg))
    return BackwardAnimation(frames)


def _frame_svg(w: Any, received: dict[int, Any], current: int | None, g: Any) -> str:
    gv = _import_graphviz()
    dot = gv.Digraph(graph_attr={**_GRAPH_ATTRS, "rankdir": "TB"}, node_attr=_NODE_ATTRS,
                     edge_attr=_EDGE_ATTRS)
    for i, (what, obj) in enumerate(w.items):
        if what == _SEED:
            kind, lines = "output", [obj.name or "output", "grad ones"]
        elif what == _FN:
            kind, lines = "op", [f"{type(obj).__name__}Backward"]
        elif what == _ACC:
            kind, lines = "accumulate", ["+"]
        else:
            kind, lines = "param", [f"{obj.name}.grad" if obj.name else "grad"]
        if i in received and what != _SEED:
            lines.append(("sum " if what == _ACC else "grad ") + _summary(received[i]))
        attrs = dict(_STYLES[kind].attrs)
        if i == current:
            attrs.update(_CURRENT)
        dot.node(f"n{i}", _label(lines), **attrs)
    for a, b, lab in w.edges:
        dot.edge(f"n{a}", f"n{b}", label=lab)
    try:
        svg: str = dot.pipe(format="svg").decode("utf-8")
    except gv.ExecutableNotFound as e:
        raise GraphvizNotFoundError("animate_backward() renders frames with the Graphviz "
                                    "'dot' program, which is not installed") from e
    return svg[svg.index("<svg"):]


__all__ = ["BackwardAnimation", "Frame", "animate_backward"]
