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

**After backward()** (without ``retain_graph=True``) the saved arrays are freed but the graph's
structure is kept, so both views are still drawn whole: the ops are drawn dashed and red and
marked "freed", and with ``show_values`` the intermediate tensors say their values were freed
(parameters and tensors you still hold keep theirs). A second ``backward()`` still raises the
freed-graph :class:`~tinygrad_fish.GraphError`. Only :func:`~tinygrad_fish.autograd.release_graph`
drops the structure too; what is left is drawn as far as it is reachable.

Every walk here is iterative (no recursion) and keys nodes by ``id()``, so a subexpression used
twice is drawn once, with two out-edges. ``graphviz`` is imported only inside the functions that
need it, so importing this module costs numpy only.

Layout (one concern per module): :mod:`.style` (colours and shapes, the legend's words),
:mod:`.names` (``params=``), :mod:`.format` (text pieces of labels), :mod:`.walk` (the graph
walk), :mod:`.nodes` and :mod:`.labels` (drawable nodes and their labels), :mod:`.scopes`
(clusters and collapsed scopes), :mod:`.draw` (DOT emission), :mod:`.render` (files),
:mod:`.book` (the book's demo graph).
"""

from __future__ import annotations

from .animate import BackwardAnimation, animate_backward
from .book import render_book_graph
from .bookstyle import draw_book_style
from .draw import draw_graph
from .names import Params
from .render import GraphvizNotFoundError, GraphvizPackageNotFoundError, render_graph

__all__ = [
    "BackwardAnimation",
    "GraphvizNotFoundError",
    "GraphvizPackageNotFoundError",
    "Params",
    "animate_backward",
    "draw_book_style",
    "draw_graph",
    "render_book_graph",
    "render_graph",
]
