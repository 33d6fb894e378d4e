"""DOT emission: :func:`draw_graph` builds the ``graphviz.Digraph``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Literal

from ..errors import GraphError
from ..tensor import Tensor
from .format import _label
from .labels import _item_node
from .names import Params, _Names
from .nodes import ClusterKey, _Node, _Options
from .render import _import_graphviz
from .scopes import _collapse, _fn_chains
from .style import _CLUSTER_ATTRS, _EDGE_ATTRS, _GRAPH_ATTRS, _NODE_ATTRS, _STYLES
from .walk import _walk_backward, _walk_forward

if TYPE_CHECKING:
    import graphviz  # type: ignore[import-untyped]


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
    legend: bool = False,
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
        legend: add a compact box explaining the colours and shapes used (off by
            default, so the graph gets the width).

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
