"""Tests for tinygrad_fish.viz: the drawings are parsed back (a small DOT parser below) and
checked node by node and edge by edge against the graph the test built."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz  # type: ignore[import-untyped]
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_fish as tf
from tinygrad_fish import Tensor, scope
from tinygrad_fish.errors import GraphError, TinygradFishError
from tinygrad_fish.viz import (
    GraphvizNotFoundError,
    draw_graph,
    render_book_graph,
    render_graph,
)

HAVE_DOT = shutil.which("dot") is not None
IN_CI = os.environ.get("CI", "").lower() == "true"


def need_dot() -> None:
    """Skip without the Graphviz program locally; in CI (which installs it) fail instead."""
    if not HAVE_DOT:
        if IN_CI:
            pytest.fail("the Graphviz 'dot' program is missing, but CI must install it")
        pytest.skip("the Graphviz 'dot' program is not installed")


# ---------------------------------------------------------------------------------------------
# A small parser for the DOT subset graphviz (the Python package) emits
# ---------------------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s+|//[^\n]*|/\*.*?\*/
      |(?P<str>"(?:[^"\\]|\\.)*")
      |(?P<id>[A-Za-z_\x80-\uffff][A-Za-z_0-9\x80-\uffff]*|-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?))
      |(?P<op>->|--|[{}\[\]=;,])""",
    re.VERBOSE | re.DOTALL,
)


def _unescape(s: str) -> str:
    """A quoted DOT string's text: \\n (and \\l, \\r) are line breaks, \\x is x."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nlr" else m.group(1), s[1:-1])


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"DOT: cannot tokenize at {text[pos:pos + 30]!r}")
        pos = m.end()
        if m.group("str") is not None:
            out.append("\0" + _unescape(m.group("str")))  # \0 marks a quoted string
        elif m.group("id") is not None or m.group("op") is not None:
            out.append(m.group(0))
    return out


def _text(tok: str) -> str:
    return tok[1:] if tok.startswith("\0") else tok


@dataclass
class Dot:
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    node_cluster: dict[str, tuple[str, ...]] = field(default_factory=dict)  # outermost first
    edges: list[tuple[str, str, dict[str, str], tuple[str, ...]]] = field(default_factory=list)
    clusters: dict[str, dict[str, str]] = field(default_factory=dict)
    graph_attrs: dict[str, str] = field(default_factory=dict)

    # views used by the tests (the legend is set apart)
    def graph_nodes(self) -> dict[str, dict[str, str]]:
        return {n: a for n, a in self.nodes.items() if "cluster_legend" not in self.node_cluster[n]}

    def graph_edges(self) -> list[tuple[str, str, dict[str, str]]]:
        return [(a, b, at) for a, b, at, c in self.edges if "cluster_legend" not in c]

    def legend(self) -> dict[str, dict[str, str]]:
        return {n: a for n, a in self.nodes.items() if "cluster_legend" in self.node_cluster[n]}

    def label(self, n: str) -> str:
        return self.nodes[n].get("label", n)


def parse_dot(text: str) -> Dot:
    """Parse ``digraph { ... }`` with node, edge, attribute and (nested) subgraph statements."""
    toks = _tokens(text)
    d = Dot()
    i = 0

    def expect(t: str) -> None:
        nonlocal i
        if toks[i] != t:
            raise ValueError(f"DOT: expected {t!r}, got {toks[i]!r} (token {i})")
        i += 1

    def attr_list() -> dict[str, str]:
        nonlocal i
        attrs: dict[str, str] = {}
        while i < len(toks) and toks[i] == "[":
            i += 1
            while toks[i] != "]":
                key = _text(toks[i])
                expect_eq = toks[i + 1]
                if expect_eq != "=":
                    raise ValueError(f"DOT: attribute {key!r} without '='")
                attrs[key] = _text(toks[i + 2])
                i += 3
                if toks[i] in (",", ";"):
                    i += 1
            i += 1
        return attrs

    if toks[i] == "strict":
        i += 1
    if toks[i] != "digraph":
        raise ValueError("DOT: expected a digraph")
    i += 1
    if toks[i] != "{":
        i += 1  # graph name
    expect("{")
    stack: list[str] = []  # the subgraphs we are in
    while i < len(toks):
        tok = toks[i]
        if tok == "}":
            i += 1
            if not stack:
                break
            stack.pop()
        elif tok == ";":
            i += 1
        elif tok in ("graph", "node", "edge") and toks[i + 1] == "[":
            i += 1
            attrs = attr_list()
            if tok == "graph":
                (d.clusters[stack[-1]] if stack else d.graph_attrs).update(attrs)
        elif tok == "subgraph":
            name = _text(toks[i + 1])
            i += 2
            expect("{")
            d.clusters.setdefault(name, {})
            stack.append(name)
        elif toks[i + 1] == "=":  # `label=Affine1` inside a (sub)graph
            (d.clusters[stack[-1]] if stack else d.graph_attrs)[_text(tok)] = _text(toks[i + 2])
            i += 3
        else:
            ids = [_text(tok)]
            i += 1
            while i < len(toks) and toks[i] == "->":
                ids.append(_text(toks[i + 1]))
                i += 2
            attrs = attr_list()
            here = tuple(stack)
            if len(ids) == 1:
                if ids[0] in d.nodes:
                    d.nodes[ids[0]].update(attrs)
                else:
                    d.nodes[ids[0]] = attrs
                    d.node_cluster[ids[0]] = here
            else:
                for a, b in itertools.pairwise(ids):
                    d.edges.append((a, b, attrs, here))
                    for n in (a, b):
                        if n not in d.nodes:
                            d.nodes[n] = {}
                            d.node_cluster[n] = here
    return d


def parse(dot: graphviz.Digraph) -> Dot:
    return parse_dot(dot.source)


def test_parser_reads_nested_subgraphs_and_escapes() -> None:
    d = parse_dot(
        'digraph {\n\tgraph [rankdir=LR]\n\ta [label="x\\ny \\"q\\""]\n'
        "\tsubgraph cluster_0 {\n\t\tlabel=A\n\t\tsubgraph cluster_1 {\n\t\t\tb\n\t\t}\n\t}\n"
        '\ta -> b [label="(2,)"]\n}\n'
    )
    assert d.graph_attrs == {"rankdir": "LR"}
    assert d.label("a") == 'x\ny "q"'
    assert d.node_cluster == {"a": (), "b": ("cluster_0", "cluster_1")}
    assert d.clusters == {"cluster_0": {"label": "A"}, "cluster_1": {}}
    assert d.edges == [("a", "b", {"label": "(2,)"}, ())]


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
COLOURS = {
    "param": "lightblue",
    "const": "gray90",
    "tensor": "wheat",
    "output": "darkolivegreen1",
    "op": "lavender",
    "freed": "mistyrose",
    "accumulate": "orange",
    "scope": "lightcyan",
}


def by_label(d: Dot) -> dict[str, str]:
    """label -> node, for the graph's nodes (labels must be unique in the test's graph)."""
    nodes = d.graph_nodes()
    labels = [d.label(n) for n in nodes]
    assert len(set(labels)) == len(labels), f"labels not unique: {labels}"
    return {d.label(n): n for n in nodes}


def edge_pairs(d: Dot) -> Counter[tuple[str, str]]:
    return Counter((d.label(a), d.label(b)) for a, b, _ in d.graph_edges())


def kind_of(d: Dot, n: str) -> str:
    colour = d.nodes[n].get("fillcolor")
    for kind, c in COLOURS.items():
        if c == colour:
            return kind
    return "truncated" if d.nodes[n].get("shape") == "note" else "?"


# ---------------------------------------------------------------------------------------------
# The forward view
# ---------------------------------------------------------------------------------------------
GOLDEN = """\
digraph {
	graph [fontname=Helvetica fontsize=13 rankdir=TB]
	node [fontname=Helvetica fontsize=12]
	edge [fontname=Helvetica fontsize=11]
	n0 [label="scalar float64" fillcolor=darkolivegreen1 shape=ellipse style=filled]
	n1 [label=sum fillcolor=lavender shape=box style="rounded,filled"]
	n2 [label="(2,) float64" fillcolor=wheat shape=ellipse style=filled]
	n3 [label=add fillcolor=lavender shape=box style="rounded,filled"]
	n4 [label="(2,) float64" fillcolor=wheat shape=ellipse style=filled]
	n5 [label="a\\n(2,) float64" fillcolor=lightblue shape=ellipse style=filled]
	n6 [label=mul fillcolor=lavender shape=box style="rounded,filled"]
	n7 [label="b\\n(2,) float64" fillcolor=lightblue shape=ellipse style=filled]
	n1 -> n0
	n2 -> n1
	n3 -> n2
	n4 -> n3
	n5 -> n3
	n6 -> n4
	n5 -> n6
	n7 -> n6
}
"""


def ab() -> tuple[Tensor, Tensor]:
    return (Tensor([1.0, 2.0], requires_grad=True, name="a"),
            Tensor([3.0, 4.0], requires_grad=True, name="b"))


def test_golden_dot_of_a_tiny_expression() -> None:
    a, b = ab()
    assert draw_graph((a * b + a).sum()).source == GOLDEN


def test_forward_nodes_edges_labels_and_colours() -> None:
    a, b = ab()
    ab_ = a * b
    ab_.name = "ab"
    s = ab_ + a
    s.name = "s"
    y = s.sum()
    y.name = "y"
    d = parse(draw_graph(y, legend=True))
    n = by_label(d)
    assert set(n) == {
        "a\n(2,) float64", "b\n(2,) float64", "ab\n(2,) float64", "s\n(2,) float64",
        "y\nscalar float64", "mul", "add", "sum",
    }
    assert edge_pairs(d) == Counter({
        ("a\n(2,) float64", "mul"): 1, ("b\n(2,) float64", "mul"): 1,
        ("mul", "ab\n(2,) float64"): 1,
        ("ab\n(2,) float64", "add"): 1, ("a\n(2,) float64", "add"): 1,
        ("add", "s\n(2,) float64"): 1,
        ("s\n(2,) float64", "sum"): 1, ("sum", "y\nscalar float64"): 1,
    })
    kinds = {d.label(x).split("\n")[0]: kind_of(d, x) for x in d.graph_nodes()}
    assert kinds == {"a": "param", "b": "param", "ab": "tensor", "s": "tensor",
                     "y": "output", "mul": "op", "add": "op", "sum": "op"}
    assert all(d.nodes[x]["shape"] == "box" for x in (n["mul"], n["add"], n["sum"]))
    # `a` is used twice: one node, two out-edges
    assert sum(1 for e in d.graph_edges() if e[0] == n["a\n(2,) float64"]) == 2
    # the legend explains exactly the kinds drawn
    assert {kind_of(d, x) for x in d.legend()} == {"param", "tensor", "output", "op"}


def test_same_tensor_twice_in_one_op_gives_two_edges() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    d = parse(draw_graph(x * x))
    n = by_label(d)
    assert edge_pairs(d)[("x\n(2,) float64", "mul")] == 2
    assert len(n) == 3


def test_op_attributes_and_constants() -> None:
    x = Tensor(np.ones((3, 4)), requires_grad=True, name="x")
    cond = np.array([True, False, True, False])
    y = tf.where(cond, x.sum(axis=0, keepdims=True) ** 3, x * 2)
    d = parse(draw_graph(y))
    labels = {d.label(v) for v in d.graph_nodes()}
    assert "sum\naxis=(0,)\nkeepdims=True" in labels
    assert "pow\nexponent=3" in labels
    assert "where\ncondition=array(4,) bool" in labels  # arrays summarized, never dumped
    # a scalar constant shows its value; it is grey (no grad)
    const = next(v for v in d.graph_nodes() if d.label(v) == "scalar float64\nvalue 2")
    assert kind_of(d, const) == "const"


def test_long_attribute_reprs_are_cut() -> None:
    x = Tensor(np.ones(100), requires_grad=True)
    y = x[np.arange(50)]
    d = parse(draw_graph(y))
    op = next(v for v in d.graph_nodes() if d.label(v).startswith("getitem"))
    assert d.label(op) == "getitem\nindex=array(50,) int64"


def test_values_and_grads() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    y = (x * x).sum()
    y.name = "y"
    y.backward(retain_graph=True)
    d = parse(draw_graph(y, show_values=True, show_grads=True))
    labels = {d.label(v) for v in d.graph_nodes()}
    assert "x\n(3,) float64\nmin 1 mean 2 max 3\ngrad min 2 mean 4 max 6" in labels
    assert "y\nscalar float64\nvalue 14\ngrad None" in labels


def test_names_from_params_dict_of_arrays_and_tensors() -> None:
    W = np.ones((2, 3))
    b = Tensor(np.zeros(3), requires_grad=True)
    x = Tensor(np.ones((4, 2)))
    y = x @ Tensor(W, requires_grad=True) + b
    d = parse(draw_graph(y, params={"W1": W, "b1": b}))
    first_lines = {d.label(v).split("\n")[0] for v in d.graph_nodes()}
    assert {"W1", "b1"} <= first_lines
    with pytest.raises(TypeError, match="named_parameters"):
        draw_graph(y, params=[W])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Tensor or a numpy array"):
        draw_graph(y, params={"W1": [1, 2]})


def test_argument_errors() -> None:
    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="at least one output"):
        draw_graph()
    with pytest.raises(TypeError, match="not a Tensor"):
        draw_graph(np.ones(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="view"):
        draw_graph(x * 2, view="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(x * 2, rankdir="XY")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(x * 2, max_nodes=0)
    with pytest.raises(GraphError, match="does not require grad"):
        draw_graph(Tensor([1.0]) * 2, view="backward")


def test_rankdir_and_no_legend() -> None:
    x = Tensor([1.0], requires_grad=True)
    d = parse(draw_graph(x * 2, rankdir="LR", legend=False))
    assert d.graph_attrs["rankdir"] == "LR"
    assert not d.legend()


def test_leaf_and_constant_outputs() -> None:
    d = parse(draw_graph(Tensor([1.0, 2.0], name="c")))
    assert [d.label(v) for v in d.graph_nodes()] == ["c\n(2,) float64"]
    assert not d.graph_edges()


def test_import_does_not_import_graphviz() -> None:
    code = "import sys, tinygrad_fish.viz; assert 'graphviz' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------------------------
# Layer scopes: boxes and collapsed nodes
# ---------------------------------------------------------------------------------------------
def book_net() -> tuple[Tensor, Any]:
    from tinygrad_fish.nn import TwoLayerNet

    rng = np.random.default_rng(0)
    net = TwoLayerNet(784, 50, 10, seed=0)
    x = Tensor(rng.random((100, 784)), name="x")
    t = Tensor(np.eye(10)[rng.integers(0, 10, 100)], name="t")
    loss = net.loss(x, t)
    loss.name = "loss"
    return loss, net


def cluster_of(d: Dot, node: str) -> list[str]:
    return [d.clusters[c]["label"] for c in d.node_cluster[node]]


def test_book_net_layers_are_boxed() -> None:
    loss, net = book_net()
    d = parse(draw_graph(loss, params=net))
    n = {d.label(v).split("\n")[0]: v for v in d.graph_nodes()}
    assert cluster_of(d, n["W1"]) == ["Affine1"] and cluster_of(d, n["b1"]) == ["Affine1"]
    assert cluster_of(d, n["W2"]) == ["Affine2"]
    assert cluster_of(d, n["x"]) == [] and cluster_of(d, n["t"]) == []  # data stays outside
    assert cluster_of(d, n["relu"]) == ["Relu1"]
    assert cluster_of(d, n["cross_entropy"]) == ["SoftmaxWithLoss"]
    ops = Counter(
        (d.label(v), tuple(cluster_of(d, v))) for v in d.graph_nodes() if kind_of(d, v) == "op")
    assert ops == Counter({("matmul", ("Affine1",)): 1, ("add", ("Affine1",)): 1,
                           ("relu", ("Relu1",)): 1, ("matmul", ("Affine2",)): 1,
                           ("add", ("Affine2",)): 1, ("cross_entropy", ("SoftmaxWithLoss",)): 1})
    assert sorted(c["label"] for name, c in d.clusters.items() if name != "cluster_legend") == [
        "Affine1", "Affine2", "Relu1", "SoftmaxWithLoss"]
    # without boxes: the same nodes, no clusters but the legend
    d2 = parse(draw_graph(loss, params=net, cluster=False))
    assert len(d2.graph_nodes()) == len(d.graph_nodes()) == 18
    assert set(d2.clusters) == set()  # (the legend is off by default)


def test_nested_scopes_nest_boxes() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    with scope("Block"):
        with scope("Inner"):
            h = x.tanh()
        y = h * 3
    d = parse(draw_graph(y.sum()))
    n = {d.label(v).split("\n")[0]: v for v in d.graph_nodes()}
    assert cluster_of(d, n["tanh"]) == ["Block", "Inner"]
    assert cluster_of(d, n["mul"]) == ["Block"]
    assert cluster_of(d, n["sum"]) == []


def test_a_scope_applied_to_two_inputs_gives_two_boxes() -> None:
    W = Tensor(np.eye(2), requires_grad=True, name="W")
    outs = []
    for k in range(2):
        x = Tensor([[1.0, 2.0]], name=f"x{k}")
        with scope("Shared"):
            outs.append((x @ W).tanh())
    d = parse(draw_graph(outs[0] + outs[1]))
    boxes = [c for c in d.clusters if c != "cluster_legend"]
    assert len(boxes) == 2
    assert all(d.clusters[c]["label"] == "Shared" for c in boxes)
    ops = [v for v in d.graph_nodes() if d.label(v) in ("matmul", "tanh")]
    assert Counter(d.node_cluster[v] for v in ops) == Counter({(boxes[0],): 2, (boxes[1],): 2})
    # W is used by both: it belongs to neither box
    w = next(v for v in d.graph_nodes() if d.label(v).startswith("W\n"))
    assert d.node_cluster[w] == ()
    dc = parse(draw_graph(outs[0] + outs[1], collapse=True))
    assert Counter(dc.label(v) for v in dc.graph_nodes())["Shared\n2 ops: matmul, tanh"] == 2


def test_collapse_draws_each_layer_as_one_node() -> None:
    loss, net = book_net()
    d = parse(draw_graph(loss, params=net, collapse=True))
    nodes = d.graph_nodes()
    scopes = {d.label(v).split("\n")[0]: v for v in nodes if kind_of(d, v) == "scope"}
    assert set(scopes) == {"Affine1", "Relu1", "Affine2", "SoftmaxWithLoss"}
    assert d.label(scopes["Affine1"]) == "Affine1\n2 ops: matmul, add\nW1 (784, 50)\nb1 (50,)"
    assert d.label(scopes["Relu1"]) == "Relu1\n1 op: relu"
    others = sorted(d.label(v) for v in nodes if kind_of(d, v) != "scope")
    assert others == ["(100, 10) float64", "(100, 50) float64", "(100, 50) float64",
                      "loss\nscalar float64", "t\n(100, 10) float64", "x\n(100, 784) float64"]
    lab = {v: d.label(v).split("\n")[0] for v in nodes}
    assert Counter((lab[a], lab[b]) for a, b, _ in d.graph_edges()) == Counter({
        ("x", "Affine1"): 1, ("Affine1", "(100, 50) float64"): 1,
        ("(100, 50) float64", "Relu1"): 1, ("Relu1", "(100, 50) float64"): 1,
        ("(100, 50) float64", "Affine2"): 1, ("Affine2", "(100, 10) float64"): 1,
        ("(100, 10) float64", "SoftmaxWithLoss"): 1, ("t", "SoftmaxWithLoss"): 1,
        ("SoftmaxWithLoss", "loss"): 1,
    })


def test_collapse_depth_keeps_outer_boxes() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    with scope("Block"):
        with scope("Inner"):
            h = (x * 2).tanh()
        y = h * 3
    d = parse(draw_graph(y, collapse=2))
    n = {d.label(v).split("\n")[0]: v for v in d.graph_nodes()}
    assert d.label(n["Inner"]) == "Inner\n2 ops: mul, tanh\nx (2,)"  # x: a parameter of it
    assert cluster_of(d, n["Inner"]) == ["Block"]
    assert cluster_of(d, n["mul"]) == ["Block"]
    d1 = parse(draw_graph(y, collapse=True))
    assert sorted(d1.label(v) for v in d1.graph_nodes()) == [
        "(2,) float64", "Block\n3 ops: mul, tanh\nx (2,)"]


# ---------------------------------------------------------------------------------------------
# The backward view
# ---------------------------------------------------------------------------------------------
def test_backward_view_accumulates_a_reused_tensor() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = (x * x).sum()
    y.name = "y"
    d = parse(draw_graph(y, view="backward"))
    n = by_label(d)
    assert set(n) == {"y\nscalar float64", "SumBackward", "MulBackward", "+",
                      "x.grad\n(2,) float64"}
    assert kind_of(d, n["+"]) == "accumulate"
    edges = Counter((d.label(a), d.label(b), at.get("label")) for a, b, at in d.graph_edges())
    assert edges == Counter({
        ("y\nscalar float64", "SumBackward", "scalar"): 1,
        ("SumBackward", "MulBackward", "(2,)"): 1,
        ("MulBackward", "+", "(2,)"): 2,
        ("+", "x.grad\n(2,) float64", "(2,)"): 1,
    })


def test_backward_view_of_the_book_net() -> None:
    loss, net = book_net()
    loss.backward(retain_graph=True)
    d = parse(draw_graph(loss, view="backward", params=net, show_grads=True))
    nodes = d.graph_nodes()
    fns = Counter(d.label(v) for v in nodes if kind_of(d, v) == "op")
    assert fns == Counter({"SoftmaxCrossEntropyBackward": 1, "AddBackward": 2,
                           "MatMulBackward": 2, "ReluBackward": 1})
    grads = {d.label(v).split("\n")[0]: v for v in nodes if kind_of(d, v) == "param"}
    assert set(grads) == {"W1.grad", "b1.grad", "W2.grad", "b2.grad"}
    assert d.label(grads["W1.grad"]).startswith("W1.grad\n(784, 50) float64\ngrad min ")
    assert cluster_of(d, grads["W1.grad"]) == ["Affine1"]
    shapes = Counter(at["label"] for _, _, at in d.graph_edges())
    assert shapes == Counter({"scalar": 1, "(100, 10)": 2, "(10,)": 1, "(50, 10)": 1,
                              "(100, 50)": 3, "(50,)": 1, "(784, 50)": 1})
    # no accumulation in a chain without reuse; the inputs (no grad) are not in this view
    assert not any(kind_of(d, v) in ("accumulate", "const") for v in nodes)
    dc = parse(draw_graph(loss, view="backward", params=net, collapse=True))
    labels = sorted(dc.label(v) for v in dc.graph_nodes())
    assert labels == [
        "Affine1\n2 grad fns: AddBackward, MatMulBackward\nb1.grad (50,)\nW1.grad (784, 50)",
        "Affine2\n2 grad fns: AddBackward, MatMulBackward\nb2.grad (10,)\nW2.grad (50, 10)",
        "Relu1\n1 grad fn: ReluBackward",
        "SoftmaxWithLoss\n1 grad fn: SoftmaxCrossEntropyBackward",
        "loss\nscalar float64",
    ]


def test_second_derivative_graph_draws() -> None:
    x = Tensor(1.0, requires_grad=True, name="x")
    y = x.tanh()
    (g,) = tf.grad(y, x, create_graph=True)
    assert g is not None
    gx = g
    gx.name = "gx"
    d = parse(draw_graph(gx))
    labels = Counter(d.label(v) for v in d.graph_nodes())
    assert labels["tanh"] == 1 and labels["x\nscalar float64"] == 1
    assert labels["gx\nscalar float64"] == 1
    # d(gx)/dx is drawn backward too, and agrees with a second derivative existing
    db = parse(draw_graph(gx, view="backward"))
    assert "TanhBackward" in {db.label(v) for v in db.graph_nodes()}
    (gg,) = tf.grad(gx, x, create_graph=True)
    assert gg is not None
    ggx = gg
    t = np.tanh(1.0)
    assert np.isclose(ggx.item(), -2 * t * (1 - t * t))
    d2 = parse(draw_graph(ggx))
    assert len(d2.graph_nodes()) > len(d.graph_nodes())


# ---------------------------------------------------------------------------------------------
# Freed graphs
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("view", ["forward", "backward"])
def test_freed_graph_is_marked(view: str) -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = (x.tanh() * 2).sum()
    y.backward()
    d = parse(draw_graph(y, view=view, legend=True))  # type: ignore[arg-type]
    nodes = d.graph_nodes()
    freed = [v for v in nodes if kind_of(d, v) == "freed"]
    # the structure outlives backward(): every op is drawn, each marked freed
    assert len(freed) == 3 and all(d.label(v).endswith("freed by backward()") for v in freed)
    assert any("retain_graph=True" in d.label(v) for v in d.legend())
    # release_graph() drops the structure too: only the output and its op are left
    x3 = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y3 = (x3.tanh() * 2).sum()
    tf.autograd.release_graph(y3)
    d3 = parse(draw_graph(y3, view=view))  # type: ignore[arg-type]
    assert len(d3.graph_nodes()) == 2
    # with retain_graph the whole graph is still there
    x2 = Tensor([1.0, 2.0], requires_grad=True)
    y2 = (x2.tanh() * 2).sum()
    y2.backward(retain_graph=True)
    d2 = parse(draw_graph(y2, view=view))  # type: ignore[arg-type]
    assert not any(kind_of(d2, v) == "freed" for v in d2.graph_nodes())


# ---------------------------------------------------------------------------------------------
# max_nodes, and no recursion
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def long_chain() -> Tensor:
    """A chain of 50,000 ops: 100,001 nodes in the forward view."""
    c = Tensor(0.5, requires_grad=True, name="start")
    for _ in range(50_000):
        c = -c
    return c


@pytest.mark.parametrize(("view", "total"), [("forward", 100_001), ("backward", 50_002)])
def test_max_nodes_caps_a_huge_graph(long_chain: Tensor, view: str, total: int) -> None:
    d = parse(draw_graph(long_chain, view=view, max_nodes=25, legend=True))  # type: ignore[arg-type]
    nodes = d.graph_nodes()
    assert len(nodes) == 26
    more = [v for v in nodes if kind_of(d, v) == "truncated"]
    assert len(more) == 1
    assert d.label(more[0]) == f"{total - 25} more nodes not drawn\n(max_nodes=25)"
    assert any(more[0] in (a, b) for a, b, _ in d.graph_edges())
    assert "truncated" in {kind_of(d, v) for v in d.legend()}


def test_max_nodes_larger_than_the_graph_changes_nothing() -> None:
    a, b = ab()
    assert draw_graph((a * b + a).sum(), max_nodes=100).source == GOLDEN


def test_walk_needs_no_recursion() -> None:
    c = Tensor(0.5, requires_grad=True)
    for _ in range(3000):
        c = c.tanh()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        fwd = draw_graph(c, collapse=True)
        bwd = draw_graph(c, view="backward")
    finally:
        sys.setrecursionlimit(limit)
    assert len(parse(fwd).graph_nodes()) == 6001
    assert len(parse(bwd).graph_nodes()) == 3002


# ---------------------------------------------------------------------------------------------
# Property: random expression graphs are drawn exactly
# ---------------------------------------------------------------------------------------------
UNARY = ["neg", "tanh", "exp", "sum", "square"]
BINARY = ["add", "mul", "sub"]


@st.composite
def expressions(draw: st.DrawFn) -> tuple[list[Tensor], list[Tensor]]:
    """Leaves (some requiring grad), then random ops over any earlier tensor (so subexpressions
    are shared); every tensor named v<i>. Returns (all tensors, outputs)."""
    pool: list[Tensor] = []
    for i in range(draw(st.integers(1, 4))):
        rg = True if i == 0 else draw(st.booleans())
        pool.append(Tensor(np.full(2, 0.1 * (i + 1)), requires_grad=rg, name=f"v{i}"))
    for _ in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(UNARY + BINARY))
        a = draw(st.sampled_from(pool))
        if op in BINARY:
            b = draw(st.sampled_from(pool))
            out = {"add": a + b, "mul": a * b, "sub": a - b}[op]
        else:
            out = {"neg": -a, "tanh": a.tanh(), "exp": a.exp(), "sum": a.sum(),
                   "square": a * a}[op]
        out.name = f"v{len(pool)}"
        pool.append(out)
    n_out = draw(st.integers(1, 2))
    outs = draw(st.lists(st.sampled_from(pool), min_size=n_out, max_size=n_out, unique_by=id))
    return pool, outs


def engine_graph(outputs: list[Tensor]) -> tuple[dict[int, Tensor], list[Any], Counter[Any]]:
    """The graph by walking .grad_fn.inputs: tensors and ops by id, and the edges
    (input name -> output name, once per use)."""
    tensors: dict[int, Tensor] = {}
    fns: list[Any] = []
    edges: Counter[tuple[str, str]] = Counter()
    stack = list(outputs)
    while stack:
        t = stack.pop()
        if id(t) in tensors:
            continue
        tensors[id(t)] = t
        fn = t.grad_fn
        if fn is not None:
            fns.append(fn)
            assert fn.inputs is not None
            for inp in fn.inputs:
                edges[(str(inp.name), str(t.name))] += 1
                stack.append(inp)
    return tensors, fns, edges


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_random_graphs_are_drawn_exactly(expr: tuple[list[Tensor], list[Tensor]]) -> None:
    _, outs = expr
    tensors, fns, edges = engine_graph(outs)
    d = parse(draw_graph(*outs, cluster=False))
    nodes = d.graph_nodes()
    tensor_nodes = {d.label(v).split("\n")[0]: v for v in nodes if kind_of(d, v) != "op"}
    op_nodes = [v for v in nodes if kind_of(d, v) == "op"]
    assert sorted(tensor_nodes) == sorted(str(t.name) for t in tensors.values())  # each once
    assert len(tensor_nodes) + len(op_nodes) == len(nodes)
    assert len(op_nodes) == len(fns)
    # each op node: one out-edge to the tensor it made; its in-edges are that op's inputs
    out_of = {a: d.label(b).split("\n")[0] for a, b, _ in d.graph_edges() if a in op_nodes}
    assert len(out_of) == len(op_nodes)
    drawn = Counter((d.label(a).split("\n")[0], out_of[b])
                    for a, b, _ in d.graph_edges() if b in op_nodes)
    assert drawn == edges
    assert sum(1 for e in d.graph_edges() if e[0] in op_nodes) == len(op_nodes)
    # colours
    out_ids = {id(t) for t in outs}
    for t in tensors.values():
        kind = kind_of(d, tensor_nodes[str(t.name)])
        expected = ("output" if id(t) in out_ids else "tensor" if t.grad_fn is not None
                    else "param" if t.requires_grad else "const")
        assert kind == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_random_graphs_backward_view(expr: tuple[list[Tensor], list[Tensor]]) -> None:
    _, outs = expr
    outs = [t for t in outs if t.requires_grad]
    if not outs:
        return
    # what backward() walks: tensors requiring grad, the gradients each one receives
    received: Counter[int] = Counter(id(t) for t in outs)
    seen: dict[int, Tensor] = {}
    stack = list(outs)
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen[id(t)] = t
        if t.grad_fn is not None:
            assert t.grad_fn.inputs is not None
            for inp in t.grad_fn.inputs:
                if inp.requires_grad:
                    received[id(inp)] += 1
                    stack.append(inp)
    n_fns = sum(1 for t in seen.values() if t.grad_fn is not None)
    n_leaves = sum(1 for t in seen.values() if t.grad_fn is None)
    n_acc = sum(1 for k in seen if received[k] > 1)
    d = parse(draw_graph(*outs, view="backward", cluster=False))
    kinds = Counter(kind_of(d, v) for v in d.graph_nodes())
    n_seeds = len(outs)
    assert kinds["op"] == n_fns
    assert kinds["accumulate"] == n_acc
    assert kinds["param"] == n_leaves
    assert kinds["output"] == n_seeds
    # every gradient that flows is one edge: from each output, each use, each accumulation
    assert len(d.graph_edges()) == sum(received.values()) + n_acc


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------
def svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return [el.text or "" for el in root.iter() if el.tag.endswith("text")]


def test_render_svg_holds_every_label(tmp_path: Path) -> None:
    need_dot()
    loss, net = book_net()
    dot = draw_graph(loss, params=net)
    out = render_graph(dot, tmp_path / "g.svg")
    texts = svg_texts(out)
    d = parse(dot)
    for v, attrs in d.nodes.items():
        for line in attrs.get("label", v).split("\n"):
            assert line in texts, line
    for c in d.clusters.values():
        assert c["label"] in texts


def test_render_formats(tmp_path: Path) -> None:
    a, b = ab()
    dot = draw_graph((a * b + a).sum())
    p = render_graph(dot, tmp_path / "sub" / "g.dot")
    assert p.read_text() == GOLDEN
    with pytest.raises(ValueError, match=r"\.svg"):
        render_graph(dot, tmp_path / "g.txt")
    need_dot()
    assert render_graph(dot, tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert render_graph(dot, tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"


def test_render_without_dot_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` here
    a, b = ab()
    dot = draw_graph((a * b + a).sum())
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz") as e:
        render_graph(dot, tmp_path / "g.svg")
    assert isinstance(e.value, TinygradFishError) and isinstance(e.value, RuntimeError)
    assert "brew install graphviz" in str(e.value)
    assert not (tmp_path / "g.svg").exists()
    # the DOT source needs no Graphviz program
    assert render_graph(dot, tmp_path / "g.dot").read_text() == GOLDEN


def test_render_book_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TINYGRAD_FISH_DATA", raising=False)  # a random batch: fast
    p = render_book_graph(tmp_path / "book.dot")
    d = parse_dot(p.read_text())
    assert {c["label"] for n, c in d.clusters.items() if n != "cluster_legend"} == {
        "Affine1", "Relu1", "Affine2", "SoftmaxWithLoss"}
    pc = render_book_graph(tmp_path / "c.dot", view="backward", show_values=True, collapse=True)
    labels = {parse_dot(pc.read_text()).label(v) for v in parse_dot(pc.read_text()).nodes}
    assert any(s.startswith("loss\nscalar float64\nvalue ") for s in labels)
    need_dot()
    svg = render_book_graph(tmp_path / "book.svg", view="backward")
    assert "MatMulBackward" in svg_texts(svg)


@pytest.mark.slow
def test_render_book_graph_on_mnist(tmp_path: Path) -> None:
    root = os.environ.get("TINYGRAD_FISH_DATA")
    if not root or not (Path(root) / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("MNIST not found: set TINYGRAD_FISH_DATA to a directory holding it")
    d = parse_dot(render_book_graph(tmp_path / "m.dot", show_values=True).read_text())
    labels = {d.label(v) for v in d.graph_nodes()}
    assert any(s.startswith("x\n(100, 784) float64\nmin 0 ") for s in labels)
    assert any(s.startswith("t\n(100, 10) float64\nmin 0 mean 0.1 max 1") for s in labels)


def test_jupyter_display() -> None:
    a, b = ab()
    dot = draw_graph((a * b + a).sum())
    assert callable(getattr(dot, "_repr_mimebundle_", None))
    need_dot()
    bundle = dot._repr_mimebundle_()
    ET.fromstring(bundle["image/svg+xml"])  # an SVG document


# --- drawing after backward (issue 14) ---------------------------------------------------


def _ops_and_edges(src: str) -> tuple[list[str], int]:
    ops = sorted(re.findall(r'label="(\w+)(?:\\n|")', src))
    return ops, src.count("->")


def test_draw_after_backward_keeps_the_whole_graph() -> None:
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = Tensor([3.0, 4.0], requires_grad=True, name="b")
    loss = (a * b + a).sum()
    fwd = draw_graph(loss, legend=False).source
    bwd = draw_graph(loss, view="backward", legend=False).source
    loss.backward()
    fwd_after = draw_graph(loss, legend=False, show_values=True).source
    bwd_after = draw_graph(loss, view="backward", legend=False).source
    assert fwd_after.count("->") == fwd.count("->") == 8
    assert bwd_after.count("->") == bwd.count("->") == 7
    for op in ("mul", "add", "sum"):
        assert f'label="{op}' in fwd_after
    for op in ("MulBackward", "AddBackward", "SumBackward"):
        assert op in bwd_after
    # the two intermediate tensors' values are gone, and said so; the leaves' are not
    assert fwd_after.count("value freed by backward()") == 2
    assert "min 1 mean 1.5 max 2" in fwd_after
    with pytest.raises(GraphError, match="graph that has been freed"):
        loss.backward()


def test_grad_node_shows_the_gradient_not_the_value() -> None:
    w = Tensor([1.5, 2.0, 2.5], requires_grad=True, name="W")
    x = Tensor([1.0, -3.0, 8.0], name="x")
    loss = (w * x).sum()
    loss.backward()
    src = draw_graph(loss, view="backward", show_values=True, legend=False).source
    label = re.search(r'label="W\.grad\\n[^"]*"', src)
    assert label is not None
    nums = [float(v) for v in re.findall(r"(?:min|mean|max) (-?[\d.e+-]+)", label.group(0))]
    g = w.grad.data
    assert nums == pytest.approx([g.min(), g.mean(), g.max()])
    assert "min 1.5" not in label.group(0)  # W's own values are not shown as its grad


def test_book_net_drawn_after_gradient() -> None:
    from tinygrad_fish.nn import TwoLayerNet

    rng = np.random.default_rng(0)
    x, t = rng.random((5, 784)), np.eye(10)[rng.integers(0, 10, 5)]
    net = TwoLayerNet(784, 50, 10, seed=0)
    before = net.loss(Tensor(x), Tensor(t))
    n_edges = draw_graph(before, params=net, legend=False).source.count("->")
    net.gradient(x, t)  # a new forward pass and a backward pass
    src = draw_graph(before, params=net, legend=False).source
    assert src.count("->") == n_edges
    for op in ("matmul", "add", "relu", "W1", "b2"):
        assert op in src
    bwd = draw_graph(before, view="backward", params=net, legend=False).source
    assert "MatMulBackward" in bwd and "W1.grad" in bwd
    with pytest.raises(GraphError, match="graph that has been freed"):
        before.backward()


def test_legend_is_off_by_default_and_on_request() -> None:
    a, b = ab()
    y = (a * b).sum()
    assert "cluster_legend" not in draw_graph(y).source
    assert "cluster_legend" in draw_graph(y, legend=True).source


def test_render_book_graph_old_names_are_deprecated(tmp_path: Path) -> None:
    with pytest.warns(DeprecationWarning, match=r"backward=\.\.\.\) is deprecated: use view="):
        old = render_book_graph(tmp_path / "old.dot", backward=True).read_text()
    new = render_book_graph(tmp_path / "new.dot", view="backward").read_text()
    assert old == new and "MatMulBackward" in new
    with pytest.warns(DeprecationWarning, match=r"values=\.\.\.\) is deprecated: use show_values"):
        old = render_book_graph(tmp_path / "oldv.dot", values=True).read_text()
    assert old == render_book_graph(tmp_path / "newv.dot", show_values=True).read_text()
    assert "cluster_legend" in render_book_graph(tmp_path / "l.dot", legend=True).read_text()
    with pytest.raises(ValueError, match="view must be 'forward' or 'backward', got 'up'"):
        render_book_graph(tmp_path / "x.dot", view="up")  # type: ignore[arg-type]


# --- animate_backward -------------------------------------------------------------------


def _frames(page: str) -> list[tuple[str, list[float], str]]:
    """(node, gradient received, svg) of each frame of an animation page."""
    found = re.findall(
        r'<div class="tf-frame" data-step="\d+" data-node="([^"]*)" data-grad=\'([^\']*)\''
        r"[^>]*>(.*?)</div>", page, flags=re.S)
    return [(n, json.loads(g), svg) for n, g, svg in found]


def test_animate_backward_one_frame_per_visited_node(tmp_path: Path) -> None:
    need_dot()
    from tinygrad_fish.viz import animate_backward

    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = Tensor([3.0, -4.0], requires_grad=True, name="b")
    m = (a * b).tanh()
    s = m + a
    loss = (s * s).sum()
    # the engine's gradients of each op's output, computed apart
    ga, gb, gm, gs = tf.grad(loss, [a, b, m, s], retain_graph=True)
    anim = animate_backward(loss)
    page = anim.save(tmp_path / "sub" / "anim.html").read_text()
    frames = _frames(page)
    assert [n for n, _, _ in frames] == [
        "SumBackward", "MulBackward", "AddBackward", "TanhBackward", "MulBackward"]
    # the gradient each node receives, equal to the engine's
    assert frames[1][1] == pytest.approx(np.ones(2))
    assert frames[2][1] == pytest.approx(gs.data)
    assert frames[3][1] == pytest.approx(gm.data)
    assert all("<svg" in svg for _, _, svg in frames)
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', "").replace(
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"', "")
    assert '<input type="range" min="0" max="4"' in page
    # the last frame shows a.grad filled in with the engine's numbers
    np.testing.assert_allclose(a.grad.data, ga.data)
    np.testing.assert_allclose(b.grad.data, gb.data)
    assert anim._repr_html_().count('class="tf-frame"') == 5


def test_animate_backward_records_without_rendering() -> None:
    from tinygrad_fish.viz import animate_backward

    x = Tensor([2.0], requires_grad=True, name="x")
    anim = animate_backward((x * x * 3).sum(), render=False)
    assert [f.node for f in anim.frames] == ["SumBackward", "MulBackward", "MulBackward"]
    assert anim.frames[2].grad_in == pytest.approx([3.0])
    assert x.grad.data == pytest.approx([12.0])
    with pytest.raises(TypeError, match="animate_backward\\(\\) takes a Tensor, got list"):
        animate_backward([x])  # type: ignore[arg-type]


# --- draw_book_style (the book's ch05 figures) -----------------------------------------


def _edge_numbers(src: str) -> dict[tuple[str, str], tuple[float, ...]]:
    names = dict(re.findall(r"^\t(\w+) \[label=(\w+|\"[^\"]*\")", src, flags=re.M))
    out = {}
    for a, b, lab in re.findall(r"^\t(\w+) -> (\w+) \[label=<(.*)>\]$", src, flags=re.M):
        nums = tuple(float(v) for v in re.findall(r">(-?[\d.e+-]+)</font>", lab))
        out[(names[a].strip('"'), names[b].strip('"'))] = nums
    return out


def test_draw_book_style_buy_apple() -> None:
    from tinygrad_fish.viz import draw_book_style

    apple = Tensor(100.0, requires_grad=True, name="apple")
    num = Tensor(2.0, requires_grad=True, name="apple_num")
    tax = Tensor(1.1, requires_grad=True, name="tax")
    price = apple * num * tax
    price.name = "price"
    edges = _edge_numbers(draw_book_style(price).source)
    # value above, gradient below: the numbers of the book's ch05 buy_apple.py figure
    assert edges[("apple", "×")] == pytest.approx((100, 2.2))
    assert edges[("apple_num", "×")] == pytest.approx((2, 110))
    assert edges[("tax", "×")] == pytest.approx((1.1, 200))
    assert edges[("×", "×")] == pytest.approx((200, 1.1))
    assert edges[("×", "price")] == pytest.approx((220, 1))
    assert apple.grad is None  # the gradients came from grad(), .grad untouched
    only_values = _edge_numbers(draw_book_style(price, gradients=False).source)
    assert only_values[("apple", "×")] == pytest.approx((100,))
    with pytest.raises(ValueError, match="draws small scalar graphs"):
        draw_book_style((Tensor([1.0, 2.0], requires_grad=True) * 2).sum())
    price.backward()
    with pytest.raises(GraphError, match="backward\\(\\) freed this graph's values"):
        draw_book_style(price)
