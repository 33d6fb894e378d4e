"""Properties of the graph for random expressions (in the manner of MyGrad's test suite).

Hypothesis builds random expressions: a few leaf tensors (float64, shapes that broadcast
together, from :mod:`tinygrad_fish.testing`) and constant arrays, combined by random ops
(elementwise, reductions with ``keepdims``, shape ops, softmax and friends), where later
ops may reuse any earlier node (so graphs have diamonds and shared inputs). For each:

- forward and backward leave every input array, constant and seed gradient unchanged;
- no two leaves' gradients share memory, and no gradient shares memory with an input or
  with the seed gradient (``np.shares_memory``);
- after ``backward()`` the graph is released: the intermediate tensors and the arrays the
  ops saved for backward are garbage (weak references die), even while the output lives;
- with ``retain_graph=True`` it is kept: a second backward works and doubles the gradients.
"""

from __future__ import annotations

import gc
import itertools
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_fish as tf
from tinygrad_fish import Tensor
from tinygrad_fish.testing import arrays, broadcastable_shapes

Node = Any  # a Tensor, or a constant ndarray


class Expression:
    """A random graph: its leaves, constants, every node in creation order, the output.

    Not a dataclass on purpose: Hypothesis pretty-prints a dataclass field by field and
    remembers the lists it printed, which would keep the graph alive.
    """

    def __init__(self, leaves: list[Tensor], constants: list[np.ndarray[Any, Any]],
                 nodes: list[Node], out: Tensor, steps: list[str]) -> None:
        self.leaves = leaves
        self.constants = constants
        self.nodes = nodes
        self.out = out
        self.steps = steps

    def take_output(self) -> Tensor:
        """Hand the output over and drop this object's references to the graph (Hypothesis
        keeps the drawn expression alive while the test runs)."""
        out = self.out
        self.out = None  # type: ignore[assignment]
        self.nodes = []
        return out

    def __repr__(self) -> str:  # what Hypothesis prints for a failing example
        shapes = [t.shape for t in self.leaves]
        return f"Expression(leaves {shapes}, ops {' -> '.join(self.steps)})"


def _shape(x: Node) -> tuple[int, ...]:
    return tuple(x.shape)


# Unary ops: name -> function of one node (a Tensor; constants are never passed alone).
UNARY: dict[str, Callable[[Tensor], Tensor]] = {
    "neg": lambda x: -x,
    "tanh": tf.tanh,
    "sigmoid": lambda x: x.sigmoid(),
    "relu": tf.relu,
    "abs": abs,
    "exp_tanh": lambda x: tf.exp(tf.tanh(x)),
    "log1p_sq": lambda x: tf.log(x * x + 1.0),
    "sqrt1p_sq": lambda x: (x * x + 1.0).sqrt(),
    "square": lambda x: x**2,
    "clip": lambda x: tf.clip(x, -0.5, 0.5),
    "astype32": lambda x: x.astype(np.float32).astype(np.float64),
    "sum_keep": lambda x: x.sum(axis=-1, keepdims=True) if x.ndim else x.sum(),
    "mean_keep": lambda x: x.mean(axis=0, keepdims=True) if x.ndim else x.mean(),
    "max_keep": lambda x: x.max(axis=-1, keepdims=True) if x.ndim else x.max(),
    "min_all": lambda x: tf.min(x),
    "sum_all": lambda x: tf.sum(x),
    "softmax": lambda x: tf.softmax(x) if x.ndim else x,
    "log_softmax": lambda x: x.log_softmax(axis=0) if x.ndim else x,
    "logsumexp": lambda x: tf.logsumexp(x, keepdims=True) if x.ndim else x,
    "transpose_twice": lambda x: x.T.T if x.ndim >= 2 else x.transpose(),
    "reshape_flat": lambda x: x.reshape(-1).reshape(x.shape),
    "getitem_all": lambda x: x[...],
    "getitem_flip": lambda x: x[::-1] if x.ndim else x,
    "stack_sum": lambda x: tf.stack([x, x * 2.0]).sum(axis=0),
    "concat_half": lambda x: tf.concatenate([x, x], axis=0)[: x.shape[0]] if x.ndim else x,
    "dot_self": lambda x: x.reshape(-1) @ x.reshape(-1),
}

# Binary ops on nodes whose shapes broadcast to one common shape; the result does too.
BINARY: dict[str, Callable[[Node, Node], Tensor]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: tf.sub(a, b),
    "mul": lambda a, b: a * b,
    "div": lambda a, b: tf.div(a, b * b + 1.0),
    "pow": lambda a, b: (a * a + 1.0) ** tf.tanh(b),
    "where": lambda a, b: tf.where(np.asarray(a.data if isinstance(a, Tensor) else a) > 0, a, b),
    "max_pair": lambda a, b: tf.where(
        (a.data if isinstance(a, Tensor) else a) > (b.data if isinstance(b, Tensor) else b),
        a, b),
}


@st.composite
def expressions(draw: st.DrawFn, max_steps: int = 6) -> Expression:
    n_leaves = draw(st.integers(1, 3))
    n_consts = draw(st.integers(0, 2))
    shps = draw(broadcastable_shapes(num_shapes=n_leaves + n_consts, max_dims=3, max_side=3))
    leaves = [
        Tensor(draw(arrays(s)), requires_grad=True, name=f"x{i}")
        for i, s in enumerate(shps[:n_leaves])
    ]
    constants = [draw(arrays(s)) for s in shps[n_leaves:]]
    nodes: list[Node] = [*leaves, *constants]
    tensors: list[Tensor] = list(leaves)
    steps: list[str] = []
    # Operands are drawn by index: a strategy over the tensors themselves would keep them
    # alive in Hypothesis's records, and the tests below watch them die.
    for _ in range(draw(st.integers(1, max_steps))):
        if draw(st.booleans()):
            name = draw(st.sampled_from(sorted(UNARY)))
            x = tensors[draw(st.integers(0, len(tensors) - 1))]
            y = UNARY[name](x)
            steps.append(f"{name}({_index(nodes, x)})")
        else:
            name = draw(st.sampled_from(sorted(BINARY)))
            a = tensors[draw(st.integers(0, len(tensors) - 1))]
            b = nodes[draw(st.integers(0, len(nodes) - 1))]
            if draw(st.booleans()):
                a, b = b, a
            y = BINARY[name](a, b)
            steps.append(f"{name}({_index(nodes, a)}, {_index(nodes, b)})")
        nodes.append(y)
        tensors.append(y)
    return Expression(leaves, constants, nodes, tensors[-1], steps)


def _index(nodes: list[Node], x: Node) -> int:
    return next(i for i, n in enumerate(nodes) if n is x)


def _seed(out: Tensor, data: st.DataObject) -> np.ndarray[Any, Any] | None:
    """None (implicit ones) for a scalar output half the time, else a random gradient."""
    if out.size == 1 and data.draw(st.booleans()):
        return None
    return data.draw(arrays(out.shape))


def _graph_tensors(out: Tensor) -> list[Tensor]:
    """The non-leaf tensors of the graph behind ``out`` (out excluded)."""
    found: list[Tensor] = []
    seen: set[int] = {id(out)}
    stack = [out]
    while stack:
        t = stack.pop()
        fn = t._ctx
        if fn is None or fn.inputs is None:
            continue
        for inp in fn.inputs:
            if id(inp) not in seen:
                seen.add(id(inp))
                stack.append(inp)
                if inp._ctx is not None:
                    found.append(inp)
    return found


def _used_leaves(expr: Expression) -> list[Tensor]:
    """The leaves the output depends on."""
    ids = {id(t) for t in [expr.out, *_graph_tensors(expr.out)]}
    ids |= {id(i) for t in [expr.out, *_graph_tensors(expr.out)] if t._ctx is not None
            for i in (t._ctx.inputs or ())}
    return [t for t in expr.leaves if id(t) in ids]


def _saved_arrays(out: Tensor, keep: set[int]) -> list[np.ndarray[Any, Any]]:
    """Arrays the graph's nodes saved in forward for backward (masks, weights, ...), except
    those in ``keep`` (the user's own arrays, which must of course survive)."""
    saved = []
    for t in [out, *_graph_tensors(out)]:
        fn = t._ctx
        if fn is None:
            continue
        for v in vars(fn).values():
            if isinstance(v, np.ndarray) and id(v) not in keep and (
                v.base is None or id(v.base) not in keep
            ):
                saved.append(v)
    return saved


# ---------------------------------------------------------------------------------------------
# Inputs unchanged, gradients not aliased
# ---------------------------------------------------------------------------------------------
def _assert_no_aliasing(expr: Expression, seed: np.ndarray[Any, Any] | None) -> None:
    grads = [(t.name, t.grad.data) for t in expr.leaves if t.grad is not None]
    for (n1, g1), (n2, g2) in itertools.combinations(grads, 2):
        assert not np.shares_memory(g1, g2), f"{n1}.grad and {n2}.grad share memory"
    others = [(f"{t.name}.data", t.data) for t in expr.leaves]
    others += [(f"constant {i}", c) for i, c in enumerate(expr.constants)]
    if seed is not None:
        others.append(("the seed gradient", seed))
    for (n, g), (m, a) in itertools.product(grads, others):
        assert not np.shares_memory(g, a), f"{n}.grad shares memory with {m}"


@given(expr=expressions(), data=st.data())
def test_forward_and_backward_leave_inputs_unchanged_and_grads_unaliased(expr, data):
    leaf_copies = [t.data.copy() for t in expr.leaves]
    const_copies = [c.copy() for c in expr.constants]
    seed = _seed(expr.out, data)
    seed_copy = None if seed is None else seed.copy()
    with np.errstate(all="ignore"):
        expr.out.backward(seed)
    for t, c in zip(expr.leaves, leaf_copies, strict=True):
        np.testing.assert_array_equal(t.data, c, err_msg=f"{t.name} changed")
    for i, (a, c) in enumerate(zip(expr.constants, const_copies, strict=True)):
        np.testing.assert_array_equal(a, c, err_msg=f"constant {i} changed")
    if seed is not None:
        np.testing.assert_array_equal(seed, seed_copy, err_msg="the seed gradient changed")
    for t in expr.leaves:
        if t.grad is not None:
            assert t.grad.shape == t.shape and t.grad.dtype == t.dtype
    _assert_no_aliasing(expr, seed)


@given(expr=expressions(), data=st.data())
def test_grad_function_leaves_inputs_and_dot_grad_alone(expr, data):
    leaf_copies = [t.data.copy() for t in expr.leaves]
    seed = _seed(expr.out, data)
    seed_copy = None if seed is None else seed.copy()
    with np.errstate(all="ignore"):
        grads = tf.grad(expr.out, expr.leaves, seed, allow_unused=True)
    for t, c, g in zip(expr.leaves, leaf_copies, grads, strict=True):
        assert t.grad is None
        np.testing.assert_array_equal(t.data, c)
        assert g is None or (g.shape == t.shape and g.dtype == t.dtype)
    if seed is not None:
        np.testing.assert_array_equal(seed, seed_copy)
    # No result is a view of an input or a constant. (Results may share memory with each
    # other and with the seed: see test_grad_function_results_are_not_aliased_xfail.)
    others = [(f"{t.name}.data", t.data) for t in expr.leaves]
    others += [(f"constant {i}", c) for i, c in enumerate(expr.constants)]
    for (i, g), (m, a) in itertools.product(enumerate(grads), others):
        if g is not None:
            assert not np.shares_memory(g.data, a), f"grad {i} shares memory with {m}"


def test_grad_function_results_are_not_aliased_xfail():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    seed = np.array([1.0, -1.0])
    ga, gb = tf.grad(a + b, [a, b], seed)
    assert not np.shares_memory(ga.data, gb.data)
    assert not np.shares_memory(ga.data, seed) and not np.shares_memory(gb.data, seed)


@given(expr=expressions(), data=st.data())
def test_gradients_accumulate_into_fresh_arrays(expr, data):
    """A second backward (of a second forward) adds to .grad without writing into the
    arrays the first one handed out (someone may hold them)."""
    with np.errstate(all="ignore"):
        expr.out.sum().backward(retain_graph=True)
        first = {t.name: (t.grad, t.grad.data.copy()) for t in expr.leaves if t.grad is not None}
        expr.out.sum().backward()
    for t in expr.leaves:
        if t.name in first:
            g, copy = first[t.name]
            np.testing.assert_array_equal(g.data, copy)  # the old gradient is untouched
            assert t.grad is not g
    _assert_no_aliasing(expr, None)


def test_create_graph_grads_are_unaliased_and_leave_the_seed_alone():
    """The same properties with create_graph=True, on the simplest graph that hands one
    gradient to two leaves (see test_create_graph_grads_are_not_aliased_xfail)."""
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0], requires_grad=True)
    seed = np.array([1.0, -1.0])
    (a * b).backward(seed, create_graph=True)
    assert not np.shares_memory(a.grad.data, seed)
    assert not np.shares_memory(b.grad.data, seed)


def test_create_graph_grads_are_not_aliased_xfail():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    seed = np.array([1.0, -1.0])
    (a + b).backward(seed, create_graph=True)
    assert a.grad is not b.grad
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert not np.shares_memory(a.grad.data, seed)


# ---------------------------------------------------------------------------------------------
# The graph is released after backward, and kept with retain_graph=True
# ---------------------------------------------------------------------------------------------
def _refs(expr: Expression) -> tuple[list[weakref.ref[Any]], list[weakref.ref[Any]]]:
    keep = {id(t.data) for t in expr.leaves} | {id(c) for c in expr.constants}
    tensors = [weakref.ref(t) for t in _graph_tensors(expr.out)]
    saved = [weakref.ref(a) for a in _saved_arrays(expr.out, keep)]
    return tensors, saved


def _alive(refs: list[weakref.ref[Any]]) -> list[Any]:
    gc.collect()
    return [r() for r in refs if r() is not None]


@given(expr=expressions())
def test_backward_releases_the_graph_even_while_the_output_lives(expr):
    tensors, saved = _refs(expr)
    out = expr.take_output()
    with np.errstate(all="ignore"):
        out.sum().backward()
    assert _alive(tensors) == [], "intermediate tensors survive backward()"
    assert _alive(saved) == [], "arrays saved for backward survive backward()"
    if out._ctx is not None:
        with pytest.raises(tf.GraphError, match="freed"):
            out.sum().backward()


@given(expr=expressions())
def test_backward_and_del_of_the_output_free_everything(expr):
    refs = [weakref.ref(n) for n in expr.nodes if isinstance(n, Tensor) and n._ctx is not None]
    used = _used_leaves(expr)
    out = expr.take_output()
    with np.errstate(all="ignore"):
        out.sum().backward()
    del out
    assert _alive(refs) == [], "tensors of the graph survive backward() and del"
    for t in used:  # the leaves keep their gradients
        assert t.grad is not None and t.grad.shape == t.shape


@given(expr=expressions())
def test_retain_graph_keeps_it(expr):
    tensors, saved = _refs(expr)
    out = expr.take_output()
    with np.errstate(all="ignore"):
        out.sum().backward(retain_graph=True)
        first = [None if t.grad is None else t.grad.data.copy() for t in expr.leaves]
        assert len(_alive(tensors)) == len(tensors), "retain_graph=True freed tensors"
        assert len(_alive(saved)) == len(saved), "retain_graph=True freed saved arrays"
        out.sum().backward()  # works, and now frees it
    for t, g in zip(expr.leaves, first, strict=True):
        if g is not None:
            np.testing.assert_array_equal(t.grad.data, g + g)
    assert _alive(tensors) == [] and _alive(saved) == []


@given(expr=expressions())
def test_no_graph_is_recorded_under_no_grad(expr):
    with tf.no_grad(), np.errstate(all="ignore"):
        x = expr.leaves[0]
        y = tf.tanh(x) * x + x.sum()
    assert y._ctx is None and not y.requires_grad
    assert _graph_tensors(y) == []


def test_the_leak_check_sees_a_leak():
    """The weakref checks above can fail: a graph kept alive on purpose is seen."""
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    hidden = x.relu()
    out = (hidden * 3.0).sum()
    expr = Expression([x], [], [x, hidden], out, ["relu"])
    tensors, saved = _refs(expr)
    assert len(tensors) == 2 and len(saved) == 1  # relu's output and mask, hidden * 3
    out.backward(retain_graph=True)
    assert len(_alive(tensors)) == 2 and len(_alive(saved)) == 1
    keep = hidden  # a user's reference keeps that tensor, but not its node's saved mask
    del hidden
    out.backward()
    assert _alive(tensors) == [keep] and _alive(saved) == []
