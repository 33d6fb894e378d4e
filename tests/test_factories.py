"""tinygrad_fish.factories: PyTorch's factory names, numpy's dtypes and random numbers."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest

import tinygrad_fish as tf
from tinygrad_fish import Tensor
from tinygrad_fish.errors import DTypeError, InvalidArgumentError, ShapeError


@pytest.mark.parametrize("name, fill", [("zeros", 0.0), ("ones", 1.0)])
def test_zeros_ones_take_a_shape_as_ints_or_one_sequence(name, fill):
    make = getattr(tf, name)
    for t in (make(2, 3), make((2, 3)), make([2, 3]), make(np.int64(2), 3)):
        assert isinstance(t, Tensor) and t.shape == (2, 3) and t.dtype == np.float64
        np.testing.assert_array_equal(t.data, np.full((2, 3), fill))
        assert not t.requires_grad
    w = make(4, dtype="float32", requires_grad=True)
    assert w.dtype == np.float32 and w.requires_grad and w.is_leaf
    assert make().shape == () and make(0).shape == (0,)


@pytest.mark.parametrize("bad", [(-1,), (2.5,), ("a",), (True, 2)])
def test_a_bad_shape_is_a_shape_error(bad):
    with pytest.raises(ShapeError, match=r"zeros: a shape is (non-negative )?ints"):
        tf.zeros(*bad)


def test_empty_full_eye_arange():
    assert tf.empty(3, 2).shape == (3, 2) and tf.empty(3, 2).dtype == np.float64
    f = tf.full((2, 2), 7)
    assert f.dtype == np.int64 and f.tolist() == [[7, 7], [7, 7]]
    assert tf.full(3, 0.5, dtype="float32").tolist() == [0.5, 0.5, 0.5]
    assert tf.full(3, 0.5, dtype="float32").dtype == np.float32
    np.testing.assert_array_equal(tf.eye(3).data, np.eye(3))
    np.testing.assert_array_equal(tf.eye(2, 3).data, np.eye(2, 3))
    assert tf.arange(5).tolist() == [0, 1, 2, 3, 4] and tf.arange(5).dtype == np.int64
    assert tf.arange(1, 2, 0.25).tolist() == [1.0, 1.25, 1.5, 1.75]
    assert tf.arange(3, dtype="float32").dtype == np.float32
    with pytest.raises(InvalidArgumentError, match="arange: step must not be 0"):
        tf.arange(0, 1, 0)


def test_tensor_copies_and_detaches():
    a = np.array([1.0, 2.0])
    t = tf.tensor(a)
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0]  # a copy, as torch.tensor
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = tf.tensor(x * 2, requires_grad=True)
    assert y.is_leaf and y.grad_fn is None and y.requires_grad
    assert tf.tensor([1, 2]).dtype == np.int64
    assert tf.tensor([1, 2], dtype="float32").dtype == np.float32
    assert tf.tensor(3.5).shape == ()
    with pytest.raises(DTypeError, match="only floating-point tensors can require gradients"):
        tf.tensor([1, 2], requires_grad=True)  # integers cannot require grad


def test_rand_randn_are_seeded_by_a_numpy_generator():
    a = tf.randn(2, 3, generator=np.random.default_rng(0))
    b = tf.randn((2, 3), generator=np.random.default_rng(0))
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.data, np.random.default_rng(0).standard_normal((2, 3)))
    u = tf.rand(1000, generator=np.random.default_rng(1))
    assert u.dtype == np.float64 and u.data.min() >= 0.0 and u.data.max() < 1.0
    np.testing.assert_array_equal(u.data, np.random.default_rng(1).random(1000))
    # float32: the float64 draw, rounded.
    h = tf.randn(5, generator=np.random.default_rng(2), dtype="float32")
    want = np.random.default_rng(2).standard_normal(5).astype(np.float32)
    assert h.dtype == np.float32
    np.testing.assert_array_equal(h.data, want)


def test_rand_randn_without_a_generator_use_numpys_global_state():
    np.random.seed(0)
    a = tf.randn(4)
    np.random.seed(0)
    np.testing.assert_array_equal(a.data, np.random.randn(4))
    np.random.seed(3)
    b = tf.rand(2, 2)
    np.random.seed(3)
    np.testing.assert_array_equal(b.data, np.random.rand(2, 2))


def test_a_generator_that_is_not_a_numpy_generator_is_refused():
    with pytest.raises(InvalidArgumentError, match=r"randn: generator must be a "
                       r"numpy\.random\.Generator .*got int"):
        tf.randn(2, generator=0)  # type: ignore[arg-type]


def test_like_factories_take_shape_and_dtype():
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    for t, fill in ((tf.zeros_like(x), 0), (tf.ones_like(x), 1), (tf.full_like(x, 4), 4)):
        assert t.shape == (2, 3) and t.dtype == np.float32
        assert (t.data == fill).all() and not t.requires_grad and t.grad_fn is None
    assert tf.zeros_like(np.zeros((2,), np.int64)).dtype == np.int64
    assert tf.ones_like(x, dtype="float64").dtype == np.float64
    r = tf.rand_like(x, generator=np.random.default_rng(0))
    assert r.shape == (2, 3) and r.dtype == np.float32
    n = tf.randn_like(x, generator=np.random.default_rng(0), requires_grad=True)
    np.testing.assert_array_equal(
        n.data, np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32))
    assert n.requires_grad


def test_size_stays_numpys_attribute():
    t = tf.zeros(2, 3)
    assert t.size == 6  # the element count, as numpy's; PyTorch's t.size() is t.shape


def test_tf_tensor_is_the_function_and_the_submodule_still_imports():
    assert callable(tf.tensor)
    module = sys.modules["tinygrad_fish.tensor"]
    assert module.Tensor is Tensor
    assert importlib.import_module("tinygrad_fish.tensor") is module
    from tinygrad_fish.tensor import Tensor as T2

    assert T2 is Tensor
    # No module of the package reaches the submodule as an attribute of the package.
    import pathlib

    root = pathlib.Path(tf.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "tinygrad_fish.tensor." not in text.replace("tinygrad_fish.tensor.Tensor", ""), \
            path
