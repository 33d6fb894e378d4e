"""Tensor.retain_grad, Tensor.register_hook (with handle.remove()) and Tensor.detach_."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import tinygrad_fish as tf
from tinygrad_fish import Tensor, autograd
from tinygrad_fish.errors import GraphError, ShapeError


def test_retain_grad_keeps_a_non_leaf_gradient_and_accumulates():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    assert h.retains_grad and not x.retains_grad
    y = (h * h).sum()
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(h.grad.data, 2 * h.data)
    np.testing.assert_array_equal(x.grad.data, 18 * x.data)
    y.backward()
    np.testing.assert_array_equal(h.grad.data, 4 * h.data)


def test_a_retained_gradient_shares_no_array_with_a_leaf_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x + 0.0  # add's backward hands the same gradient on to x
    h.retain_grad()
    (h * 2).sum().backward()
    assert not np.shares_memory(h.grad.data, x.grad.data)
    h.grad.data[0] = 5.0
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_without_retain_grad_a_non_leaf_has_no_grad():
    x = Tensor([1.0], requires_grad=True)
    h = x * 2
    (h * h).sum().backward()
    assert h.grad is None


def test_retain_grad_is_not_filled_by_functional_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    tf.grad((h * h).sum(), x)
    assert h.grad is None


def test_retain_grad_with_create_graph_is_differentiable():
    x = Tensor([1.5], requires_grad=True)
    h = x * x
    h.retain_grad()
    (h * h).sum().backward(create_graph=True)  # dh = 2 h = 2 x^2
    (g,) = tf.grad(h.grad.sum(), x)
    np.testing.assert_array_equal(g.data, [6.0])  # d(2 x^2)/dx = 4x


def test_retain_grad_on_a_tensor_without_grad_is_refused():
    with pytest.raises(GraphError, match="retain_grad\\(\\): the tensor does not require"):
        Tensor([1.0]).retain_grad()


def test_hook_sees_the_gradient_and_may_replace_it():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    h.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    np.testing.assert_array_equal(seen[0], 2 * h.data)
    np.testing.assert_array_equal(x.grad.data, 10 * 18 * x.data)


def test_hooks_on_a_leaf_run_before_accumulation_and_in_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: -g)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-2.0, -4.0])
    (g,) = tf.grad((x * x).sum(), x)
    np.testing.assert_array_equal(g.data, [-2.0, -4.0])


def test_handle_remove_unregisters_and_is_idempotent():
    x = Tensor([1.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 0)
    handle.remove()
    handle.remove()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0])
    assert not autograd._hooks.get(id(x))  # no empty entry left either


def test_hooks_go_with_their_tensor():
    x = Tensor([1.0], requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: g)
    h.retain_grad()
    key = id(h)
    assert key in autograd._hooks and key in autograd._retained
    del h
    gc.collect()
    assert key not in autograd._hooks and key not in autograd._retained


def test_a_hook_returning_a_wrong_gradient_is_refused():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: np.zeros(2))
    with pytest.raises(GraphError, match="a hook returned a ndarray; it must return a Tensor"):
        (x * 2).sum().backward()
    y = Tensor([1.0, 2.0], requires_grad=True)
    y.register_hook(lambda g: Tensor(np.zeros(3)))
    with pytest.raises(ShapeError, match=r"a hook returned a gradient of shape \(3,\) for a "
                                         r"tensor of shape \(2,\)"):
        (y * 2).sum().backward()
    with pytest.raises(GraphError, match="cannot register a hook on a tensor that does not"):
        Tensor([1.0]).register_hook(lambda g: g)


def test_detach_in_place_cuts_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    assert h.detach_() is h
    assert h.is_leaf and not h.requires_grad and h.grad_fn is None
    y = (h * x).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, h.data)  # no path through h any more


def test_detach_in_place_of_a_view_is_refused():
    x = Tensor(np.arange(6.0), requires_grad=True)
    v = (x * 1).reshape(2, 3)
    with pytest.raises(GraphError, match="detach_\\(\\): this tensor is a view made by "
                                         "reshape"):
        v.detach_()
    w = v.detach()  # the out-of-place form works
    assert not w.requires_grad
