"""The backward walk: accumulation, reuse, grad modes, retain/free, big graphs, higher order."""

from __future__ import annotations

import functools
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_fish as tf
from tinygrad_fish import DTypeError, GraphError, ShapeError, Tensor
from tinygrad_fish.autograd import release_graph
from tinygrad_fish.testing import arrays, assert_grad_matches


def test_reuse_accumulates_x_times_x():
    x = Tensor(3.0, requires_grad=True)
    (x * x).backward()
    assert x.grad.item() == 6.0


def test_input_used_twice_through_different_paths():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp() + x * 3.0  # two paths from x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp([1.0, 2.0]) + 3.0)


def test_gradients_accumulate_across_backward_calls_until_cleared():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0, 5.0])
    x.zero_grad()
    assert x.grad is None
    (x * 4).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 4.0])


def test_diamond_graph_visits_each_node_once():
    calls = []

    class Spy(tf.Function):
        def forward(self, a):
            return a * 1.0

        def backward(self, g):
            calls.append(1)
            return (g,)

    x = Tensor([1.0, 2.0], requires_grad=True)
    s = Spy.apply(x)
    y = (s * 2 + s * 3).sum()  # s feeds two branches
    y.backward()
    assert len(calls) == 1  # its gradient was summed first, then passed on once
    np.testing.assert_array_equal(x.grad.data, [5.0, 5.0])


def test_no_grad_records_nothing_and_works_as_decorator():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with tf.no_grad():
        y = w * 2
        assert not tf.is_grad_enabled()
    assert tf.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @tf.no_grad()
    def f(t):
        return t.exp()

    assert f(w).grad_fn is None
    with tf.no_grad(), tf.enable_grad():
        assert (w * 2).grad_fn is not None


def test_grad_mode_is_per_thread():
    seen = {}
    barrier = threading.Barrier(2)

    def other():
        barrier.wait()
        seen["other"] = tf.is_grad_enabled()
        seen["recorded"] = (Tensor([1.0], requires_grad=True) * 2).requires_grad

    th = threading.Thread(target=other)
    with tf.no_grad():
        th.start()
        barrier.wait()
        th.join()
    assert seen == {"other": True, "recorded": True}


def test_detach_cuts_the_graph_but_shares_data():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = (x * d).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, d.data)  # d is a constant
    assert x.detach().data is x.data


def test_backward_frees_the_graph_and_a_second_backward_is_a_clear_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(GraphError, match="graph that has been freed"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)


def test_backward_releases_saved_arrays():
    import weakref

    x = Tensor(np.ones(5), requires_grad=True)
    h = x.relu()
    node = h.grad_fn
    saved_mask = weakref.ref(node.mask)
    (h * 2).sum().backward()
    assert node.inputs is None
    assert saved_mask() is None


def test_release_graph_frees_without_backward():
    x = Tensor([1.0], requires_grad=True)
    y = (x * 2).exp().sum()
    release_graph(y)
    with pytest.raises(GraphError, match="freed"):
        y.backward()


def test_non_scalar_backward_needs_a_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(GraphError, match=r"scalar output.*shape \(2,\).*gradient="):
        y.backward()
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 20.0])


def test_gradient_of_wrong_shape_is_a_shape_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ShapeError, match=r"gradient has shape \(3,\).*output has shape \(2,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_on_tensor_without_graph_is_a_clear_error():
    with pytest.raises(GraphError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(DTypeError, match=r"only floating-point tensors.*int64"):
        Tensor([1, 2], requires_grad=True)
    t = Tensor([1, 2])
    with pytest.raises(DTypeError, match="bool"):
        Tensor([True]).requires_grad_()
    assert not t.requires_grad


def test_leaf_gradients_do_not_share_memory():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (a + b).backward(seed)  # add passes the same gradient array to both inputs
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert not np.shares_memory(a.grad.data, seed)
    c = Tensor([1.0, 2.0], requires_grad=True)
    c.sum().backward()  # sum's gradient is a broadcast view: the leaf gets its own array
    assert c.grad.data.flags.writeable and c.grad.data.flags.owndata


def test_gradient_dtype_follows_the_leaf():
    w = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (w * np.arange(3.0)).sum().backward()  # float64 constant upcasts the product
    assert w.grad.dtype == np.float32


def test_functional_grad_leaves_dot_grad_alone():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x**3).sum()
    (gx,) = tf.grad(y, x)
    np.testing.assert_allclose(gx.data, 3 * x.data**2)
    assert x.grad is None
    assert gx.grad_fn is None


def test_functional_grad_of_intermediate_and_unused():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    unused = Tensor([5.0], requires_grad=True)
    y = (h * h).sum()
    gh, gu = tf.grad(y, [h, unused], retain_graph=True, allow_unused=True)
    np.testing.assert_allclose(gh.data, 2 * h.data)
    assert gu is None
    with pytest.raises(GraphError, match=r"input 1 .* is not used"):
        tf.grad(y, [h, unused])


# --- higher order ----------------------------------------------------------------------------
def test_second_derivative_of_tanh():
    x = Tensor(0.7, requires_grad=True)
    (g1,) = tf.grad(x.tanh(), x, create_graph=True)
    (g2,) = tf.grad(g1, x, create_graph=True)
    (g3,) = tf.grad(g2, x)
    t = np.tanh(0.7)
    np.testing.assert_allclose(g1.item(), 1 - t**2)
    np.testing.assert_allclose(g2.item(), -2 * t * (1 - t**2))
    np.testing.assert_allclose(g3.item(), -2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2))


def test_backward_create_graph_then_backward_again():
    x = Tensor(2.0, requires_grad=True)
    y = x**3
    y.backward(create_graph=True)
    g = x.grad  # 3x^2, in the graph
    assert g.grad_fn is not None
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(12.0)  # 6x


def test_hessian_vector_product():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    hess = a + a.T  # f(x) = x^T A x has Hessian A + A^T
    x = Tensor(rng.normal(size=4), requires_grad=True)
    v = rng.normal(size=4)
    f = (x @ (Tensor(a) @ x))
    (g,) = tf.grad(f, x, create_graph=True)
    (hv,) = tf.grad((g * v).sum(), x)
    np.testing.assert_allclose(hv.data, hess @ v)


def test_newtons_method_on_quartic():
    # f(x) = x^4 - 2x^2 has minima at +-1; Newton from 2.0 converges to 1.
    x = Tensor(2.0, requires_grad=True)
    for _ in range(10):
        y = x**4 - 2 * x**2
        (g,) = tf.grad(y, x, create_graph=True)
        (g2,) = tf.grad(g, x)
        with tf.no_grad():
            x = Tensor(x.data - g.data / g2.data, requires_grad=True)
    assert x.item() == pytest.approx(1.0, abs=1e-12)


# --- big graphs: iterative and linear --------------------------------------------------------
@pytest.mark.slow
def test_chain_of_100k_ops_backprops_without_recursion():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0000001**100_000, rtol=1e-9)


@pytest.mark.slow
def test_tree_with_100k_leaves_backprops():
    leaves = [Tensor(float(i), requires_grad=True) for i in range(100_000)]
    total = functools.reduce(lambda a, b: a + b, leaves)
    total.backward()
    assert all(leaf.grad.item() == 1.0 for leaf in leaves[::997])
    assert leaves[-1].grad.item() == 1.0


def test_walk_visits_each_node_once_whatever_the_fan_in(monkeypatch):
    # Counting, not timing: 1000 products of one leaf, summed one by one (a long chain of
    # adds, each also fed by a mul that shares the leaf): every node's backward runs once.
    from tinygrad_fish.ops import arithmetic as ew

    calls = {"mul": 0, "add": 0}
    for cls, key in ((ew.Mul, "mul"), (ew.Add, "add")):
        original = cls.backward

        def counted(self, g, _original=original, _key=key):
            calls[_key] += 1
            return _original(self, g)

        monkeypatch.setattr(cls, "backward", counted)
    x = Tensor(1.0, requires_grad=True)
    parts = [x * float(i) for i in range(1000)]
    total = functools.reduce(lambda a, b: a + b, parts)
    total.backward()
    assert calls == {"mul": 1000, "add": 999}
    assert x.grad.item() == sum(range(1000))


# --- random compositions ---------------------------------------------------------------------
SMOOTH_UNARY = [
    lambda t: t.tanh(), lambda t: t.sigmoid(), lambda t: t * t, lambda t: (t * 0.5).exp(),
    lambda t: -t, lambda t: t.softmax(axis=-1),
]
BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b,
          lambda a, b: a / (b * b + 1.0)]


@given(data=st.data(), n_leaves=st.integers(1, 3), n_ops=st.integers(1, 8))
def test_random_expression_graphs_with_shared_subexpressions(data, n_leaves, n_ops):
    shape = data.draw(st.sampled_from([(), (3,), (2, 3)]))
    leaves = [data.draw(arrays(shape, -2, 2)) for _ in range(n_leaves)]
    program = []
    for k in range(n_ops):
        pool = n_leaves + k  # every node made so far can be reused: diamonds, fan-out
        if data.draw(st.booleans()):
            program.append(("u", data.draw(st.integers(0, len(SMOOTH_UNARY) - 1)),
                            data.draw(st.integers(0, pool - 1)), None))
        else:
            program.append(("b", data.draw(st.integers(0, len(BINARY) - 1)),
                            data.draw(st.integers(0, pool - 1)),
                            data.draw(st.integers(0, pool - 1))))

    def f(*ts):
        nodes = list(ts)
        for kind, op, i, j in program:
            if kind == "u":
                if nodes[i].ndim == 0 and op == 5:
                    nodes.append(nodes[i] * 1.0)
                else:
                    nodes.append(SMOOTH_UNARY[op](nodes[i]))
            else:
                nodes.append(BINARY[op](nodes[i], nodes[j]))
        return sum(nodes[n_leaves:], nodes[-1] * 0.0)

    assert_grad_matches(f, *leaves)


# --- in-place changes and anomalies ----------------------------------------------------------
def test_inplace_change_of_a_saved_input_is_detected():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y  # mul's backward reads its inputs
    with tf.no_grad():
        y += 1
    with pytest.raises(GraphError, match=r"mul: input 0 \(shape \(2,\)\) was modified in place"):
        z.sum().backward()


def test_inplace_change_of_an_input_the_backward_does_not_read_is_allowed():
    # exp's backward reads its output, add's nothing: changing their inputs afterwards
    # leaves the gradient exact, so backward must not refuse (PyTorch's saved tensors).
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y.exp() + (y + 1)
    with tf.no_grad():
        y += 1
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * np.exp([2.0, 4.0]) + 2)


def test_inplace_change_of_a_constant_is_detected():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    z = (x * c).sum()
    c += 1  # allowed: c does not require grad
    with pytest.raises(GraphError, match=r"mul: input 1 .* modified in place"):
        z.backward()


def test_inplace_change_of_a_saved_output_is_detected():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.tanh()
    with tf.no_grad():
        y *= 2
    with pytest.raises(GraphError, match=r"tanh: its output .* modified in place"):
        y.sum().backward()


def test_inplace_change_after_backward_is_fine():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    with tf.no_grad():
        x -= 0.1 * x.grad
    np.testing.assert_allclose(x.data, [0.8, 1.6])


def test_detect_anomaly_names_the_op_and_the_user_line_forward():
    expected = r"log produced nan .* at .*test_autograd.py:\d+"
    with tf.detect_anomaly(), np.errstate(all="ignore"), pytest.raises(
        tf.AnomalyError, match=expected
    ):
        Tensor([-1.0]).log()


def test_detect_anomaly_names_the_op_and_the_user_line_backward():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with tf.detect_anomaly(), np.errstate(all="ignore"):
        y = x.sqrt().sum()
        with pytest.raises(tf.AnomalyError,
                           match=r"sqrt backward produced inf .*created at .*test_autograd.py"):
            y.backward()


def test_without_detect_anomaly_nan_flows_silently_as_in_numpy():
    with np.errstate(all="ignore"):
        assert np.isnan(Tensor([-1.0]).log().item())
