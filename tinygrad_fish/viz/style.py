"""The look of the drawing: every kind of node, its Graphviz attributes and legend words."""

from __future__ import annotations

from dataclasses import dataclass


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
    # pink, dashed: an op whose saved arrays backward() has freed (retain_graph=False). Its
    # structure is still drawn; a second backward() through it raises. Keep the arrays with
    # backward(retain_graph=True).
    "freed": _Style(
        {"shape": "box", "style": "rounded,filled,dashed", "fillcolor": "mistyrose",
         "color": "red3"},
        "values freed by backward() (retain_graph=True keeps them)",
        "values freed by backward() (retain_graph=True keeps them)",
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

# text sizes in points: 12 pt is 16 px, the docs' body text, when a picture is shown at 1:1
_GRAPH_ATTRS = {"fontname": "Helvetica", "fontsize": "13"}
_NODE_ATTRS = {"fontname": "Helvetica", "fontsize": "12"}
_EDGE_ATTRS = {"fontname": "Helvetica", "fontsize": "11"}
_CLUSTER_ATTRS = {"style": "rounded,filled", "fillcolor": "gray97", "color": "gray40",
                  "fontname": "Helvetica-Bold", "fontsize": "11"}

_MAX_ATTR_CHARS = 40
_MAX_LISTED = 6  # ops / params listed in a collapsed scope's label
