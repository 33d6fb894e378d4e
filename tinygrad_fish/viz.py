"""Draw the computational graph with Graphviz, as the fish book and DeZero draw it.

>>> from tinygrad_fish import Tensor
>>> from tinygrad_fish.viz import draw_graph
>>> a = Tensor([1.0, 2.0], requires_grad=True, name="a")
>>> b = Tensor([3.0, 4.0], requires_grad=True, name="b")
>>> dot = draw_graph((a * b + a).sum())       # a graphviz.Digraph
>>> "mul" in dot.source                          # DOT text, no Graphviz program needed
True

In Jupyter the returned ``graphviz.Digraph`` displays itself inline (it has
``_repr_mimebundle_``; that needs the ``dot`` program). :func:`render_graph` writes it to a
file, the format taken from the suffix (``.svg``, ``.png``, ``.pdf``, ``.dot``).

Two views:

* ``view="forward"``: tensors (ellipses) and the ops (boxes) that made them, inputs to outputs.
* ``view="backward"``: the walk ``backward()`` does: one gradient-function node per op
  (``MatMulBackward``...), edges from the output's gradient toward the inputs, each edge labelled
  with the shape of the gradient it carries, and an explicit ``+`` node wherever gradients from
  several paths are summed (a tensor used more than once).

The gradient of a gradient is an ordinary graph: after ``backward(create_graph=True)`` (or
``grad(..., create_graph=True)``), ``draw_graph(x.grad)`` draws the graph that computes the first
derivative, ready to be differentiated again.

**A freed graph** (``backward()`` without ``retain_graph=True`` releases the inputs of every op
it passed through) is drawn as far as it is still reachable: the op nodes whose inputs are gone
are drawn dashed and red and marked "freed", and the legend says what to do (draw before
``backward()``, or pass ``retain_graph=True``). Nothing is raised, so a notebook cell that draws
after training still shows something.

Every walk here is iterative (no recursion) and keys nodes by ``id()``, so a subexpression used
twice is drawn once, with two out-edges. ``graphviz`` is imported only inside the functions that
need it, so importing this module costs numpy only.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from ._optional import install_hint
from .autograd import Function
from .errors import GraphError, MissingDependencyError, TinygradFishError
from .tensor import Tensor

if TYPE_CHECKING:
    import graphviz  # type: ignore[import-untyped]

__all__ = [
    "GraphvizNotFoundError",
    "GraphvizPackageNotFoundError",
    "draw_graph",
    "render_book_graph",
    "render_graph",
]


class GraphvizNotFoundError(TinygradFishError, RuntimeError):
    """The Graphviz ``dot`` program (or the ``graphviz`` Python package) is not installed."""


class GraphvizPackageNotFoundError(GraphvizNotFoundError, MissingDependencyError):
    """The ``graphviz`` Python package (the ``viz`` extra) is not installed."""


class _NamedParameters(Protocol):
    def named_parameters(self) -> Iterable[tuple[str, Any]]: ...


#: What ``params=`` accepts: a Module (anything with ``named_parameters()``), or a mapping from
#: name to Tensor or numpy array (the book's ``net.params``; arrays are matched by identity
#: with ``tensor.data``).
Params = _NamedParameters | Mapping[str, Any]


# ---------------------------------------------------------------------------------------------
# The look of the drawing, in one place (as torchviz does): every kind of node, its Graphviz
# attributes, and what it means in each view. The legend is made from this table.
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Style:
    attrs: dict[str, str]
    forward: str  # the legend's words in the forward view
    backward: str  # ... and in the backward view


_STYLES: dict[str, _Style] = {
    # light blue: a leaf tensor that requires grad, i.e. a parameter (W1, b1, ...).
    # backward() fills its .grad; in the backward view it is where a gradient ends.
    "param": _Style(
        {"shape": "ellipse", "style": "filled", "fillcolor": "lightblue"},
        "parameter (leaf, requires grad)",
        "parameter: backward() stores its .grad",
    ),
    # light grey: a tensor that does not require grad: input data, labels, constants.
    "const": _Style(
        {"shape": "ellipse", "style": "filled", "fillcolor": "gray90"},
        "input / constant (no grad)",
        "input / constant (no grad)",
    ),
    # wheat: an intermediate tensor, computed by an op.
    "tensor": _Style(
        {"shape": "ellipse", "style": "filled", "fillcolor": "wheat"},
        "intermediate tensor",
        "intermediate tensor",
    ),
    # green: the tensors given to draw_graph (the loss...); in the backward view, the gradient
    # backward() starts from (ones for a scalar loss).
    "output": _Style(
        {"shape": "ellipse", "style": "filled", "fillcolor": "darkolivegreen1"},
        "output (passed to draw_graph)",
        "output: backward() starts here",
    ),
    # lavender boxes: an op (forward view) or the gradient function backward() calls for it.
    "op": _Style(
        {"shape": "box", "style": "rounded,filled", "fillcolor": "lavender"},
        "op (with its attributes)",
        "gradient function of an op",
    ),
    # pink, dashed: an op whose inputs backward() has released (retain_graph=False): the graph
    # behind it is gone. Draw before backward(), or pass retain_graph=True.
    "freed": _Style(
        {"shape": "box", "style": "rounded,filled,dashed", "fillcolor": "mistyrose",
         "color": "red3"},
        "freed by backward(): draw before it, or retain_graph=True",
        "freed by backward(): draw before it, or retain_graph=True",
    ),
    # orange circle, backward view: a tensor used by several ops gets one gradient from each;
    # they are summed here before flowing on.
    "accumulate": _Style(
        {"shape": "circle", "style": "filled", "fillcolor": "orange"},
        "gradients summed",
        "+: gradients from several uses summed",
    ),
    # light cyan 3-D box, collapse=True: a whole layer scope drawn as one node.
    "scope": _Style(
        {"shape": "box3d", "style": "filled", "fillcolor": "lightcyan"},
        "layer scope, collapsed",
        "layer scope, collapsed (its gradient functions)",
    ),
    # white note, dashed: the part of the graph max_nodes left out.
    "truncated": _Style(
        {"shape": "note", "style": "dashed"},
        "not drawn (max_nodes)",
        "not drawn (max_nodes)",
    ),
}

_GRAPH_ATTRS = {"fontname": "Helvetica", "fontsize": "11"}
_NODE_ATTRS = {"fontname": "Helvetica", "fontsize": "10"}
_EDGE_ATTRS = {"fontname": "Helvetica", "fontsize": "9"}
_CLUSTER_ATTRS = {"style": "rounded,filled", "fillcolor": "gray97", "color": "gray40",
                  "fontname": "Helvetica-Bold", "fontsize": "11"}

_MAX_ATTR_CHARS = 40
_MAX_LISTED = 6  # ops / params listed in a collapsed scope's label


# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------
def _num(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (complex, np.complexfloating)):
        return f"{complex(v):.4g}"
    f = float(v)
    return "0" if f == 0 else f"{f:.4g}"  # no "-0" from ReLU's -0.0


def _summary(a: np.ndarray[Any, Any]) -> str:
    """A scalar's value, or an array's min/mean/max (never its elements)."""
    if a.size == 0:
        return "empty"
    if a.size == 1:
        return _num(a.reshape(-1)[0])
    if a.dtype.kind == "b":
        return f"{int(np.count_nonzero(a))}/{a.size} true"
    with np.errstate(all="ignore"):
        if a.dtype.kind == "c":
            return f"mean {_num(a.mean())}"
        return f"min {_num(a.min())} mean {_num(a.mean())} max {_num(a.max())}"


def _shape(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else str(tuple(shape))


def _attr_value(v: Any) -> str:
    """One attribute value, short: arrays by shape and dtype, never their elements."""
    if isinstance(v, np.ndarray):
        return f"array{_shape(v.shape)} {v.dtype}"
    if isinstance(v, Tensor):
        return f"tensor{_shape(v.shape)} {v.dtype}"
    if isinstance(v, slice):
        parts = ["" if x is None else str(x) for x in (v.start, v.stop, v.step)]
        return ":".join(parts[:2] if v.step is None else parts)
    if v is Ellipsis:
        return "..."
    if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        return np.dtype(v).name
    if isinstance(v, (float, np.floating, np.integer, np.bool_)):
        return _num(v)
    r = repr(v)
    return r if len(r) <= _MAX_ATTR_CHARS else r[: _MAX_ATTR_CHARS - 1] + "…"


def _attr_text(v: Any) -> str:
    if isinstance(v, (tuple, list)):
        inner = [_attr_value(x) for x in v[:_MAX_LISTED]]
        if len(v) > _MAX_LISTED:
            inner.append("…")
        text = ", ".join(inner) + ("," if len(v) == 1 and isinstance(v, tuple) else "")
        text = f"({text})" if isinstance(v, tuple) else f"[{text}]"
    else:
        text = _attr_value(v)
    return text if len(text) <= _MAX_ATTR_CHARS else text[: _MAX_ATTR_CHARS - 1] + "…"


def _attr_lines(fn: Function) -> list[str]:
    """``key=value`` for each attribute of the op that says something (None/False skipped)."""
    attrs: dict[str, Any] = getattr(fn, "attrs", None) or {}
    return [f"{k}={_attr_text(v)}" for k, v in attrs.items() if v is not None and v is not False]


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _label(lines: Iterable[str]) -> str:
    """Lines joined with DOT's centred line break, user text escaped."""
    return "\\n".join(_escape(s) for s in lines)


# ---------------------------------------------------------------------------------------------
# The walk: breadth-first from the outputs, iterative, nodes keyed by id()
# ---------------------------------------------------------------------------------------------
_FWD_TENSOR, _FN, _SEED, _ACC, _LEAF = "tensor", "fn", "seed", "acc", "leaf"


@dataclass
class _Walk:
    """What the walk found. Items are ``(what, obj)`` in BFS order; the first ``kept`` are
    drawn, the rest only counted."""

    items: list[tuple[str, Any]] = field(default_factory=list)
    kept: int = 0
    edges: list[tuple[int, int, str]] = field(default_factory=list)  # (tail, head, label)
    cut: list[int] = field(default_factory=list)  # drawn items with neighbours not drawn
    consumers: dict[int, list[int]] = field(default_factory=dict)  # id(tensor) -> fn items
    freed: set[int] = field(default_factory=set)
    fn_ids: dict[int, int] = field(default_factory=dict)  # id(op) -> item, drawn ops only
    uncounted: int = 0  # nodes past the cap found by the light count (not in items)

    def finish(self, cap: int) -> _Walk:
        self.kept = min(cap, len(self.items))
        self.fn_ids = {id(obj): i for i, (what, obj) in enumerate(self.items[: self.kept])
                       if what == _FN}
        return self


def _walk_forward(outputs: list[Tensor], cap: int) -> _Walk:
    w = _Walk()
    items, edges, consumers = w.items, w.edges, w.consumers
    index: dict[int, int] = {}
    for t in outputs:
        if id(t) not in index:
            index[id(t)] = len(items)
            items.append((_FWD_TENSOR, t))
    queue = deque(range(len(items)))
    while queue:
        i = queue.popleft()
        what, obj = items[i]
        drawn = i < cap
        if i >= cap + 1:  # past the cap: only count what is left, by id, as cheaply as we can
            w.uncounted = _count_rest([obj] + [items[k][1] for k in queue], set(index))
            break
        if what == _FWD_TENSOR:
            fn = obj._ctx
            preds: tuple[Any, ...] = () if fn is None else (fn,)
            pred_what = _FN
        else:
            if obj.inputs is None:
                w.freed.add(i)
                continue
            preds = obj.inputs
            pred_what = _FWD_TENSOR
        was_cut = False
        for p in preds:
            j = index.get(id(p))
            if j is None:
                j = index[id(p)] = len(items)
                items.append((pred_what, p))
                queue.append(j)
            if drawn:
                if j < cap:
                    edges.append((j, i, ""))
                    if pred_what == _FWD_TENSOR:
                        consumers.setdefault(id(p), []).append(i)
                elif not was_cut:
                    w.cut.append(i)
                    was_cut = True
    return w.finish(cap)


def _count_rest(pending: list[Any], seen: set[int]) -> int:
    """How many tensors and ops not in ``seen`` are reachable from ``pending`` (tensors and
    ops), walking towards the inputs; ``seen`` holds the ids already counted."""
    found = 0
    stack = pending
    while stack:
        obj = stack.pop()
        if isinstance(obj, Tensor):
            nxt: tuple[Any, ...] = () if obj._ctx is None else (obj._ctx,)
        else:
            nxt = () if obj.inputs is None else obj.inputs
        for p in nxt:
            k = id(p)
            if k not in seen:
                seen.add(k)
                found += 1
                stack.append(p)
    return found


def _count_rest_backward(
    pending: list[tuple[str, Any]], seen: set[tuple[str, int]], contrib: dict[int, int]
) -> int:
    """The backward view's :func:`_count_rest`: nodes (gradient functions, accumulation
    points, leaves) not in ``seen`` reachable from the ``pending`` items."""
    found = 0
    stack = list(pending)

    def push(what: str, obj: Any) -> None:
        nonlocal found
        key = (what, id(obj))
        if key not in seen:
            seen.add(key)
            found += 1
            stack.append((what, obj))

    def push_target(t: Tensor) -> None:
        if contrib.get(id(t), 0) > 1:
            push(_ACC, t)
        elif t._ctx is not None:
            push(_FN, t._ctx)
        else:
            push(_LEAF, t)

    while stack:
        what, obj = stack.pop()
        if what == _SEED:
            push_target(obj)
        elif what == _ACC:
            if obj._ctx is not None:
                push(_FN, obj._ctx)
            else:
                push(_LEAF, obj)
        elif what == _FN and obj.inputs is not None:
            for inp in obj.inputs:
                if inp.requires_grad:
                    push_target(inp)
    return found


def _contributions(outputs: list[Tensor]) -> dict[int, int]:
    """How many gradients reach each tensor in a backward pass (id -> count): one per use by
    an op, plus one for each output. More than one means backward() sums them."""
    count: dict[int, int] = {}
    seen: set[int] = set()
    stack: list[Tensor] = []
    for t in outputs:
        count[id(t)] = count.get(id(t), 0) + 1
        if id(t) not in seen:
            seen.add(id(t))
            stack.append(t)
    while stack:
        fn = stack.pop()._ctx
        if fn is None or fn.inputs is None:
            continue
        for inp in fn.inputs:
            if inp.requires_grad:
                k = id(inp)
                count[k] = count.get(k, 0) + 1
                if k not in seen:
                    seen.add(k)
                    stack.append(inp)
    return count


def _walk_backward(outputs: list[Tensor], cap: int) -> _Walk:
    w = _Walk()
    items, edges, consumers = w.items, w.edges, w.consumers
    contrib = _contributions(outputs)
    index: dict[tuple[str, int], int] = {}
    queue: deque[int] = deque()

    def visit(what: str, obj: Any) -> int:
        key = (what, id(obj))
        j = index.get(key)
        if j is None:
            j = index[key] = len(items)
            items.append((what, obj))
            queue.append(j)
        return j

    def target(t: Tensor) -> int:
        """The node a gradient for ``t`` flows into."""
        if contrib.get(id(t), 0) > 1:
            return visit(_ACC, t)
        return visit(_FN, t._ctx) if t._ctx is not None else visit(_LEAF, t)

    for t in outputs:
        visit(_SEED, t)
    while queue:
        i = queue.popleft()
        what, obj = items[i]
        drawn = i < cap
        if i >= cap + 1:  # past the cap: only count what is left, as cheaply as we can
            pending = [items[i], *(items[k] for k in queue)]
            w.uncounted = _count_rest_backward(pending, set(index), contrib)
            break
        heads: list[tuple[int, str]] = []
        if what == _SEED:
            heads.append((target(obj), _shape(obj.shape)))
        elif what == _ACC:
            base = visit(_FN, obj._ctx) if obj._ctx is not None else visit(_LEAF, obj)
            heads.append((base, _shape(obj.shape)))
        elif what == _FN:
            if obj.inputs is None:
                w.freed.add(i)
                continue
            for inp in obj.inputs:
                if inp.requires_grad:
                    j = target(inp)
                    heads.append((j, _shape(inp.shape)))
                    if drawn and j < cap:
                        consumers.setdefault(id(inp), []).append(i)
        if drawn:
            was_cut = False
            for j, lab in heads:
                if j < cap:
                    edges.append((i, j, lab))
                elif not was_cut:
                    w.cut.append(i)
                    was_cut = True
    return w.finish(cap)


# ---------------------------------------------------------------------------------------------
# Layer scopes: clusters and collapsed nodes
# ---------------------------------------------------------------------------------------------
ClusterKey = tuple[tuple[str, ...], int]  # (scope path, component id)


class _UnionFind:
    """Iterative union-find over hashable keys (no recursion)."""

    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, k: Any) -> Any:
        root = k
        while (p := self.parent.get(root, root)) != root:
            root = p
        while k != root:
            self.parent[k], k = root, self.parent[k]
        return root

    def union(self, a: Any, b: Any) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _fn_chains(w: _Walk) -> dict[int, tuple[ClusterKey, ...]]:
    """For each drawn op item, its boxes, outermost first.

    A box is a scope path plus a component: ops of one scope are boxed together only when
    connected through tensors made inside that scope, so a layer applied to two separate
    inputs (shared weights, a Siamese net) gives two boxes. A layer applied twice in a row,
    the second call on the first call's output, looks like one call in the recorded scopes
    and gets one box.
    """
    fn_index = w.fn_ids
    uf = _UnionFind()
    for fid, i in fn_index.items():
        fn = w.items[i][1]
        if fn.inputs is None:
            continue
        for inp in fn.inputs:
            producer = inp._ctx
            if producer is None or id(producer) not in fn_index or id(producer) == fid:
                continue
            a, b = fn.scope, producer.scope
            depth = 0
            while depth < min(len(a), len(b)) and a[depth] == b[depth]:
                depth += 1
            for level in range(depth):
                uf.union((level, i), (level, fn_index[id(producer)]))
    chains: dict[int, tuple[ClusterKey, ...]] = {}
    for i in fn_index.values():
        scope = getattr(w.items[i][1], "scope", ())
        chains[i] = tuple((scope[: k + 1], uf.find((k, i))[1]) for k in range(len(scope)))
    return chains


def _common_prefix(chains: list[tuple[ClusterKey, ...]]) -> tuple[ClusterKey, ...]:
    if not chains:
        return ()
    first = chains[0]
    n = len(first)
    for c in chains[1:]:
        m = 0
        while m < min(n, len(c)) and c[m] == first[m]:
            m += 1
        n = m
    return first[:n]


def _is_absorbable_leaf(t: Tensor, names: _Names) -> bool:
    """Leaves kept inside their layer's box: parameters and unnamed scalar constants.
    Other constants (the data, the labels) stay outside, as the book draws them."""
    return t.requires_grad or (t.ndim == 0 and names.of(t) is None)


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------
class _Names:
    def __init__(self, params: Params | None) -> None:
        self.by_tensor: dict[int, str] = {}
        self.by_array: dict[int, str] = {}
        if params is None:
            return
        named = getattr(params, "named_parameters", None)
        if callable(named):
            pairs: Iterable[tuple[str, Any]] = named()
        elif isinstance(params, Mapping):
            pairs = params.items()
        else:
            raise TypeError(
                "draw_graph(params=...): expected a Module (with named_parameters()) or a "
                f"dict of name -> Tensor or numpy array, got {type(params).__name__}"
            )
        for name, p in pairs:
            if isinstance(p, Tensor):
                self.by_tensor[id(p)] = str(name)
            elif isinstance(p, np.ndarray):
                self.by_array[id(p)] = str(name)
            else:
                raise TypeError(
                    f"draw_graph(params=...): {name!r} is a {type(p).__name__}, expected a "
                    "Tensor or a numpy array"
                )

    def of(self, t: Tensor) -> str | None:
        name = self.by_tensor.get(id(t))
        if name is None:
            name = self.by_array.get(id(t.data))
        return name if name is not None else t.name


# ---------------------------------------------------------------------------------------------
# From the walk to drawable nodes
# ---------------------------------------------------------------------------------------------
@dataclass
class _Node:
    dot_id: str
    kind: str  # a key of _STYLES
    lines: list[str]
    chain: tuple[ClusterKey, ...] = ()


@dataclass
class _Options:
    view: str
    show_values: bool
    show_grads: bool
    names: _Names
    outputs: set[int]


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
    if o.show_values or (kind == "const" and t.ndim == 0 and name is None):
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
    if o.show_values:
        lines.append("value " + _summary(t.data))
    if o.show_grads:
        lines.append("grad " + ("None" if t.grad is None else _summary(t.grad.data)))
    return _Node(dot_id, "param", lines, consumer_chain)


def _collapse(
    w: _Walk,
    nodes: dict[int, _Node],
    chains: dict[int, tuple[ClusterKey, ...]],
    o: _Options,
    level: int,
) -> tuple[dict[int, str], list[_Node]]:
    """Merge every scope at depth ``level`` into one node. Returns item -> DOT id of the
    node it was merged into, and the new scope nodes."""
    group_of: dict[int, ClusterKey] = {}
    for i, chain in chains.items():
        if len(chain) >= level:
            group_of[i] = chain[level - 1]
    members: dict[ClusterKey, list[int]] = {}
    absorbed_leaves: dict[ClusterKey, dict[int, Tensor]] = {}
    for i in range(w.kept):
        what, obj = w.items[i]
        g: ClusterKey | None = group_of.get(i)
        if g is None and what in (_FWD_TENSOR, _ACC, _LEAF) and id(obj) not in o.outputs:
            cons = [group_of.get(c) for c in w.consumers.get(id(obj), [])]
            inside = bool(cons) and all(c is not None and c == cons[0] for c in cons)
            producer = w.fn_ids.get(id(obj._ctx)) if obj._ctx is not None else None
            if producer is not None:
                pg = group_of.get(producer)
                if pg is not None and (not cons or (inside and cons[0] == pg)):
                    g = pg
            elif inside and (what == _LEAF or _is_absorbable_leaf(obj, o.names)):
                g = cons[0]
                if g is not None and obj.requires_grad:  # parameters are listed in the label
                    absorbed_leaves.setdefault(g, {})[id(obj)] = obj
        if g is not None:
            group_of[i] = g
            members.setdefault(g, []).append(i)
    merged: dict[int, str] = {}
    scope_nodes: list[_Node] = []
    for n, (g, idx) in enumerate(members.items()):
        dot_id = f"s{n}"
        for i in idx:
            merged[i] = dot_id
        if o.view == "forward":  # list in the order they ran (the walk goes outputs first)
            idx = idx[::-1]
        ops = [w.items[i][1] for i in idx if w.items[i][0] == _FN]
        op_names = list(dict.fromkeys(
            f.name if o.view == "forward" else type(f).__name__ + "Backward" for f in ops))
        shown = ", ".join(op_names[:_MAX_LISTED]) + (", …" if len(op_names) > _MAX_LISTED else "")
        noun = "op" if o.view == "forward" else "grad fn"
        lines = [g[0][-1], f"{len(ops)} {noun}{'s' if len(ops) != 1 else ''}: {shown}"]
        params = list(absorbed_leaves.get(g, {}).values())
        if o.view == "forward":
            params.reverse()
        for t in params[:_MAX_LISTED]:
            name = o.names.of(t)
            label = name if name is not None else "param"
            if o.view == "backward":
                label += ".grad"
            lines.append(f"{label} {_shape(t.shape)}")
        if len(params) > _MAX_LISTED:
            lines.append(f"+{len(params) - _MAX_LISTED} more")
        first_op = next(i for i in idx if w.items[i][0] == _FN)
        scope_nodes.append(_Node(dot_id, "scope", lines, chains[first_op][: level - 1]))
    for node in nodes.values():
        node.chain = node.chain[: level - 1]
    return merged, scope_nodes


# ---------------------------------------------------------------------------------------------
# The public functions
# ---------------------------------------------------------------------------------------------
def draw_graph(
    *outputs: Tensor,
    view: Literal["forward", "backward"] = "forward",
    params: Params | None = None,
    show_values: bool = False,
    show_grads: bool = False,
    rankdir: Literal["TB", "LR", "BT", "RL"] = "TB",
    cluster: bool = True,
    collapse: bool | int = False,
    max_nodes: int | None = None,
    legend: bool = True,
) -> graphviz.Digraph:
    """Draw the graph that made ``outputs`` as a ``graphviz.Digraph``.

    Args:
        *outputs: the tensors to draw the graph of (usually the loss).
        view: ``"forward"``: tensors (ellipses) and ops (boxes), inputs to outputs.
            ``"backward"``: the walk ``backward()`` does: one ``<Op>Backward`` node per op,
            edges from the output's gradient toward the inputs labelled with the gradient's
            shape, ``+`` nodes where gradients from several uses of a tensor are summed, and
            each parameter's ``.grad`` where its gradient lands.
        params: names for the tensors: a Module (its ``named_parameters()``) or a dict of
            name -> Tensor or numpy array (the book's ``net.params``; arrays are matched by
            identity with ``tensor.data``). Otherwise ``tensor.name`` is used.
        show_values: add each tensor's value (scalars) or min/mean/max (arrays).
        show_grads: add the same summary of ``.grad`` for tensors that require grad.
        rankdir: Graphviz layout direction (``"TB"`` top to bottom, ``"LR"`` left to right...).
        cluster: box each layer scope (``tinygrad_fish.scope("Affine1")``) with its name,
            nested scopes nested, as the book draws its layers.
        collapse: draw each layer scope as ONE node (its name, op count and parameters), the
            edges re-routed to it, so a big model stays readable. ``True`` collapses the
            outermost scopes; an int ``k`` collapses the scopes at depth ``k`` (1 is the
            outermost) and keeps the ones above as boxes.
        max_nodes: draw at most this many nodes, breadth-first from the outputs, then one
            node saying how many were left out. The rest is only counted (by id), so a huge
            graph draws quickly.
        legend: add a box explaining the colours used.

    Returns:
        A ``graphviz.Digraph``: ``.source`` is the DOT text (no Graphviz program needed); in
        Jupyter it displays itself; :func:`render_graph` writes it to a file.

    Raises:
        TypeError: an output that is not a Tensor, or bad ``params``.
        ValueError: no outputs, or a bad ``view``/``rankdir``/``max_nodes``/``collapse``.
        GraphError: ``view="backward"`` for an output that does not require grad.
        GraphvizNotFoundError: the ``graphviz`` Python package is not installed.

    A graph already freed by ``backward()`` is drawn as far as it is reachable, the freed ops
    marked (see the module docstring).
    """
    if not outputs:
        raise ValueError("draw_graph() needs at least one output tensor, e.g. draw_graph(loss)")
    for k, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph(): output {k} is a {type(t).__name__}, not a Tensor")
    if view not in ("forward", "backward"):
        raise ValueError(f"draw_graph(): view must be 'forward' or 'backward', got {view!r}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"draw_graph(): rankdir must be TB, LR, BT or RL, got {rankdir!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or max_nodes < 1):
        raise ValueError(f"draw_graph(): max_nodes must be a positive int, got {max_nodes!r}")
    level = int(collapse)
    if level < 0:
        raise ValueError(f"draw_graph(): collapse must be a bool or a depth >= 1, got {collapse}")
    outs = list(dict.fromkeys(outputs))  # unique, in order (Tensors hash by identity)
    if view == "backward":
        for t in outs:
            if not t.requires_grad:
                raise GraphError(
                    f"draw_graph(view='backward'): an output of shape {t.shape} does not "
                    "require grad, so backward() has nothing to walk from it"
                )
    gv = _import_graphviz()
    cap = sys.maxsize if max_nodes is None else max_nodes
    w = _walk_forward(outs, cap) if view == "forward" else _walk_backward(outs, cap)
    o = _Options(view, show_values, show_grads, _Names(params), {id(t) for t in outs})

    chains = _fn_chains(w) if (cluster or level) else {}
    nodes = {i: _item_node(w, i, o, chains) for i in range(w.kept)}
    merged: dict[int, str] = {}
    scope_nodes: list[_Node] = []
    if level:
        merged, scope_nodes = _collapse(w, nodes, chains, o, level)
    if not cluster:
        for node in [*nodes.values(), *scope_nodes]:
            node.chain = ()

    def dot_id(i: int) -> str:
        return merged.get(i, f"n{i}")

    visible = [n for i, n in nodes.items() if i not in merged] + scope_nodes
    edges: list[tuple[str, str, str]] = []
    seen_edges: set[tuple[str, str, str]] = set()
    for a, b, lab in w.edges:
        e = (dot_id(a), dot_id(b), lab)
        if level:  # re-routed edges: drop the ones now inside a scope node, and duplicates
            if e[0] == e[1] or e in seen_edges:
                continue
            seen_edges.add(e)
        edges.append(e)
    left_out = len(w.items) - w.kept + w.uncounted
    truncated: list[tuple[str, str, str]] = []
    if left_out:
        more = _Node("more", "truncated",
                     [f"{left_out} more node{'s' if left_out != 1 else ''} not drawn",
                      f"(max_nodes={max_nodes})"])
        visible.append(more)
        for i in dict.fromkeys(dot_id(c) for c in w.cut):
            truncated.append(("more", i, "") if view == "forward" else (i, "more", ""))
    return _emit(gv, visible, edges, truncated, rankdir, legend, view)


def _import_graphviz() -> Any:
    try:
        import graphviz
    except ImportError as e:
        raise GraphvizPackageNotFoundError(
            "drawing graphs needs the graphviz Python package, an optional dependency that "
            f"is not installed: {install_hint('graphviz')} "
            "(and the Graphviz programs to render them: apt-get install graphviz / "
            "brew install graphviz / conda install graphviz)"
        ) from e
    return graphviz


def _emit(
    gv: Any,
    nodes: list[_Node],
    edges: list[tuple[str, str, str]],
    truncated: list[tuple[str, str, str]],
    rankdir: str,
    legend: bool,
    view: str,
) -> graphviz.Digraph:
    dot = gv.Digraph(
        graph_attr={"rankdir": rankdir, **_GRAPH_ATTRS},
        node_attr=dict(_NODE_ATTRS),
        edge_attr=dict(_EDGE_ATTRS),
    )
    # Boxes: number them in order of first appearance, remember each one's parent.
    boxes: dict[ClusterKey, Any] = {}
    parent: dict[ClusterKey, ClusterKey | None] = {}
    for node in nodes:
        for depth, key in enumerate(node.chain):
            if key not in boxes:
                boxes[key] = gv.Digraph(
                    name=f"cluster_{len(boxes)}",
                    graph_attr={"label": _label([key[0][-1]]), **_CLUSTER_ATTRS},
                )
                parent[key] = node.chain[depth - 1] if depth else None
    for node in nodes:
        g = boxes[node.chain[-1]] if node.chain else dot
        g.node(node.dot_id, gv.nohtml(_label(node.lines)), **_STYLES[node.kind].attrs)
    # Attach the boxes innermost first, so each is complete when it is copied into its parent.
    for key in sorted(boxes, key=lambda k: -len(k[0])):
        p = parent[key]
        (dot if p is None else boxes[p]).subgraph(boxes[key])
    for a, b, lab in edges:
        if lab:
            dot.edge(a, b, label=gv.nohtml(_label([lab])))
        else:
            dot.edge(a, b)
    for a, b, _ in truncated:
        dot.edge(a, b, style="dashed")
    if legend:
        kinds = list(dict.fromkeys(n.kind for n in nodes))
        with dot.subgraph(name="cluster_legend") as lg:
            lg.attr(label="legend", style="rounded", color="gray60", fontname="Helvetica")
            prev = None
            for kind in sorted(kinds, key=list(_STYLES).index):
                style = _STYLES[kind]
                words = style.forward if view == "forward" else style.backward
                name = f"legend_{kind}"
                lg.node(name, gv.nohtml(_label([words])), **style.attrs)
                if prev is not None:
                    lg.edge(prev, name, style="invis")
                prev = name
    return dot


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------
_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".jpg": "jpg", ".jpeg": "jpeg",
            ".dot": "dot", ".gv": "dot"}

_INSTALL_HINT = (
    "the Graphviz 'dot' program is not installed (or not on PATH), so the graph cannot be "
    "rendered to {fmt}. Install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install graphviz`; or write the DOT source "
    "with a .dot suffix, which needs no Graphviz program."
)


def render_graph(dot: graphviz.Digraph, path: str | os.PathLike[str]) -> Path:
    """Write a drawing to ``path``, the format taken from its suffix.

    ``.svg``, ``.png``, ``.pdf`` (and ``.jpg``) are rendered by Graphviz's ``dot`` program;
    ``.dot`` / ``.gv`` write the DOT source, which needs no Graphviz program.
    Missing parent directories are created.

    Returns:
        The path written.

    Raises:
        ValueError: an unknown suffix.
        GraphvizNotFoundError: rendering needs the ``dot`` program and it is not installed
            (the message says how to install it).
    """
    out = Path(path)
    fmt = _FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"render_graph(): cannot tell the format from {str(out)!r}; use one of the "
            f"suffixes {', '.join(sorted(_FORMATS))}"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        out.write_text(dot.source, encoding="utf-8")
        return out
    gv = _import_graphviz()
    try:
        data = dot.pipe(format=fmt)
    except gv.ExecutableNotFound as e:
        raise GraphvizNotFoundError(_INSTALL_HINT.format(fmt=fmt.upper())) from e
    out.write_bytes(data)
    return out


def _book_loss(seed: int) -> tuple[Tensor, Any]:
    """The book's TwoLayerNet (784-50-10) and its loss on one mini-batch of 100."""
    from .nn import TwoLayerNet

    rng = np.random.default_rng(seed)
    x: np.ndarray[Any, Any]
    t: np.ndarray[Any, Any]
    if os.environ.get("TINYGRAD_FISH_DATA"):
        from .datasets import load_mnist

        (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True, download=False)
        mask = rng.choice(len(x_train), 100, replace=False)
        x, t = x_train[mask].astype(np.float64), t_train[mask].astype(np.float64)
    else:
        x = rng.random((100, 784))
        t = np.eye(10)[rng.integers(0, 10, size=100)]
    net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, seed=seed)
    loss = net.loss(Tensor(x, name="x"), Tensor(t, name="t"))
    if not isinstance(loss, Tensor):  # pragma: no cover - depends on nn's API
        raise TypeError(f"TwoLayerNet.loss returned {type(loss).__name__}, expected a Tensor")
    return loss, net


def render_book_graph(
    out: str | os.PathLike[str],
    *,
    backward: bool = False,
    values: bool = False,
    collapse: bool = False,
    seed: int = 0,
) -> Path:
    """Render the loss graph of the book's TwoLayerNet (784-50-10) on one mini-batch of 100.

    The batch is random (seeded), or drawn from MNIST when ``$TINYGRAD_FISH_DATA`` is set.

    Args:
        out: the file to write; the format is taken from its suffix (see :func:`render_graph`).
        backward: draw the backward view (gradient functions, gradient shapes on edges).
        values: show values (and, in the backward view, the gradients after one backward pass).
        collapse: draw each layer as one node.
        seed: seed of the random batch and weights.

    Returns:
        The path written.

    Raises:
        ValueError: ``out`` has an unknown suffix.
        GraphvizNotFoundError: the format needs the ``dot`` program and it is not
            installed.
        DatasetError: ``$TINYGRAD_FISH_DATA`` is set but does not hold an intact MNIST
            (nothing is downloaded).
    """
    loss, net = _book_loss(seed)
    if loss.name is None:
        loss.name = "loss"
    if backward and values:
        loss.backward(retain_graph=True)
    has_named = callable(getattr(net, "named_parameters", None))
    params = net if has_named else getattr(net, "params", None)
    dot = draw_graph(
        loss,
        view="backward" if backward else "forward",
        params=params,
        show_values=values,
        show_grads=values and backward,
        collapse=collapse,
        rankdir="TB",
    )
    return render_graph(dot, out)
