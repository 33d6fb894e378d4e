"""The Tensor type: construction, attributes, numpy interop, operators, errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_fish as tf
from tinygrad_fish import DTypeError, GraphError, ShapeError, Tensor
from tinygrad_fish.errors import NotDifferentiableError


def test_construction_from_lists_scalars_and_arrays():
    assert Tensor([[1.0, 2.0]]).dtype == np.float64
    assert Tensor(3).dtype == np.int64 and Tensor(3).shape == ()
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32
    arr = np.zeros(3)
    t = Tensor(arr)
    assert t.data is arr  # wraps, no copy: in-place edits are seen
    arr[0] = 5.0
    assert t.data[0] == 5.0
    assert Tensor(t).data is arr


def test_bad_data_is_a_dtype_error():
    with pytest.raises(DTypeError, match="cannot make a numeric array"):
        Tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(DTypeError, match="not numeric"):
        Tensor(["a", "b"])


def test_attributes():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="W")
    assert (t.shape, t.ndim, t.size, len(t)) == ((2, 3), 2, 6, 2)
    assert t.T.shape == (3, 2) and t.T.grad_fn is not None
    assert t.numpy() is t.data
    assert Tensor([2.5]).item() == 2.5 and float(Tensor(2.5)) == 2.5 and int(Tensor(3.0)) == 3
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert t.is_leaf and not (t * 2).is_leaf
    assert [row.shape for row in t] == [(3,), (3,)]
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))
    with pytest.raises(ValueError, match=r"one-element.*shape \(2, 3\)"):
        t.item()


def test_repr_shows_grad_fn_requires_grad_name_and_dtype():
    w = Tensor([1.0, 2.0], requires_grad=True, name="W1")
    assert repr(w) == "Tensor([1., 2.], requires_grad=True, name='W1')"
    assert repr(w * 2) == "Tensor([2., 4.], grad_fn=<Mul>)"
    assert repr(Tensor([1.0], dtype=np.float32)) == "Tensor([1.], dtype=float32)"


def test_numpy_functions_accept_tensors():
    t = Tensor([[1.0, 5.0], [3.0, 2.0]])
    np.testing.assert_array_equal(np.asarray(t), t.data)
    assert np.argmax(t) == 1
    assert np.allclose(t, t.data)
    assert np.array(t, dtype=np.float32).dtype == np.float32


def test_numpy_arrays_and_scalars_mix_on_either_side():
    x = Tensor([1.0, 2.0], requires_grad=True)
    arr = np.array([10.0, 20.0])
    for y in (arr - x, x - arr, 2 * x, x * 2, arr @ x, np.exp(x), np.tanh(x)):
        assert isinstance(y, Tensor) and y.grad_fn is not None
    (arr - x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, -1.0])


def test_python_scalars_keep_float32():
    x = Tensor([1.0, 2.0], dtype=np.float32)
    for y in (x * 2, 2 * x, x + 0.5, x / 3, 1 - x, x**2):
        assert y.dtype == np.float32


def test_non_differentiable_numpy_ufunc_on_grad_tensor_is_refused():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotDifferentiableError,
                       match=r"numpy\.fmod has no differentiable implementation"):
        np.fmod(x, 1.5)
    np.testing.assert_allclose(np.fmod(x.detach(), 1.5), np.fmod([1.0, 2.0], 1.5))
    assert (np.greater(x, 1.5)).tolist() == [False, True]
    np.sin(x).sum().backward()  # a ufunc with a derivative dispatches to the engine's op
    np.testing.assert_allclose(x.grad.data, np.cos([1.0, 2.0]))


def test_comparisons_return_bool_tensors_outside_the_graph():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x == Tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert (x <= 2).grad_fn is None
    assert len({x, x}) == 1  # hashable by identity


def test_inplace_arithmetic_only_outside_the_graph():
    w = Tensor([1.0, 2.0], requires_grad=True)
    data = w.data
    with pytest.raises(GraphError, match=r"in-place '-=' .*no_grad"):
        w -= 1.0
    with tf.no_grad():
        w -= Tensor([0.5, 0.5])
        w *= 2
    assert w.data is data
    np.testing.assert_array_equal(w.data, [1.0, 3.0])


def test_setitem_writes_numbers_and_counts_the_change():
    t = Tensor([1.0, 2.0])
    t[0] = 5.0
    assert t.tolist() == [5.0, 2.0] and t._version == 1
    w = Tensor([1.0, 2.0], requires_grad=True)  # a leaf: the book's numerical_gradient
    y = (w * w).sum()
    w[0] = 3.0
    assert w.tolist() == [3.0, 2.0]
    with pytest.raises(GraphError, match="modified in place"):
        y.backward()
    t[1] = Tensor(3.0, requires_grad=True) * 2  # the number is stored
    assert t.tolist() == [5.0, 6.0] and not t.requires_grad
    with pytest.raises(GraphError, match="where"):
        (w * 2)[0] = 1.0


def test_binary_broadcast_error_names_op_and_shapes():
    with pytest.raises(ShapeError, match=r"add.*\(2, 3\).*\(4,\)"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))
    with pytest.raises(ShapeError, match=r"mul.*\(2, 3\).*\(2,\)"):
        Tensor(np.ones((2, 3))) * np.ones(2)


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(ShapeError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    with pytest.raises(ShapeError, match="at least 1 dimension"):
        Tensor(2.0) @ Tensor(np.ones(2))


def test_shape_op_errors():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"reshape: cannot reshape.*\(2, 3\).*\(4,\)"):
        x.reshape(4)
    with pytest.raises(ShapeError, match="not a permutation"):
        x.transpose(0, 0)
    with pytest.raises(ShapeError, match=r"broadcast_to: .*\(2, 3\) to shape \(4, 3\)"):
        x.broadcast_to((4, 3))
    with pytest.raises(ShapeError, match="axis 2 is out of range"):
        x.sum(axis=2)
    with pytest.raises(ShapeError, match=r"stack: all tensors must have the same shape"):
        tf.stack([x, Tensor(np.ones(3))])
    with pytest.raises(ShapeError, match="concatenate: cannot join"):
        tf.concatenate([x, Tensor(np.ones((2, 2, 1)))])


def test_cross_entropy_errors():
    logits = Tensor(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"class indices of shape \(3,\).*\(2, 3\)"):
        tf.cross_entropy(logits, np.array([0, 1, 2]))
    with pytest.raises(IndexError, match=r"out of range \[0, 3\)"):
        tf.cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(DTypeError, match="class indices must be integers"):
        tf.cross_entropy(logits, np.array([0.0, 1.0]))
    with pytest.raises(ShapeError, match=r"target of shape \(2, 4\)"):
        tf.cross_entropy(logits, np.zeros((2, 4)))


def test_ops_never_modify_their_inputs():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4))
    b = rng.normal(size=(4,))
    a0, b0 = a.copy(), b.copy()
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    y = ((ta * tb).relu() + ta.softmax() - tf.cross_entropy(ta, np.array([0, 1, 2]))).sum()
    y.backward()
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


def test_astype_to_a_non_numeric_dtype_is_refused():
    with pytest.raises(DTypeError, match="astype: object is not a numeric dtype"):
        Tensor([1.0]).astype(object)


def test_argmax_bad_axis_is_a_shape_error():
    with pytest.raises(ShapeError, match=r"argmax: .*axis 2.*\(2, 3\)"):
        Tensor(np.zeros((2, 3))).argmax(axis=2)
    with pytest.raises(ShapeError, match="argmin"):
        Tensor(np.zeros((2, 3))).argmin(axis=-3)


def test_backward_takes_a_python_number_as_the_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward(2.0)
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])
    (gx,) = tf.grad((x * x).sum(), x, 0.5)
    np.testing.assert_array_equal(gx.data, [1.0, 2.0])


# --------------------------------------------------------------------------- truth values, any/all


AMBIGUOUS = r"the truth value of a Tensor with {n} elements \(shape {shape}\) is ambiguous: " \
    r"use \.any\(\) or \.all\(\)"


def test_if_on_a_tensor_of_several_elements_says_what_happened():
    t = Tensor([1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match=AMBIGUOUS.format(n=3, shape=r"\(3,\)")):
        if t:
            pass
    with pytest.raises(ShapeError, match=AMBIGUOUS.format(n=0, shape=r"\(0,\)")):
        bool(Tensor(np.zeros(0)))


def test_assert_equal_and_in_list_say_to_use_all():
    t, u = Tensor([[1.0, 2.0]]), Tensor([[1.0, 2.0]])
    with pytest.raises(ShapeError, match=r"write 'assert \(t == u\)\.all\(\)'") as e:
        assert t == u
    assert "item()" not in str(e.value)
    with pytest.raises(ShapeError, match=r"'t in a_list' compares t with each item"):
        _ = t in [Tensor([[0.0, 0.0]]), u]
    assert (t == u).all()
    assert t in [t]  # the identity check comes first, as for numpy arrays


def test_bool_of_a_one_element_tensor():
    assert bool(Tensor(2.0)) is True
    assert bool(Tensor([[0.0]])) is False
    assert bool(Tensor([1.0]) > 0) is True


@pytest.mark.parametrize("name", ["any", "all"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_any_all_match_numpy(name, axis, keepdims):
    a = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    t = Tensor(a, requires_grad=True)
    want = getattr(np, name)(a, axis=axis, keepdims=keepdims)
    for got in (getattr(t, name)(axis=axis, keepdims=keepdims),
                getattr(tf, name)(t, axis, keepdims),
                getattr(tf, name)(a, axis=axis, keepdims=keepdims)):
        assert isinstance(got, Tensor)
        assert got.dtype == np.bool_ and got.shape == want.shape
        np.testing.assert_array_equal(got.data, want)
        assert not got.requires_grad and got.grad_fn is None


def test_any_all_of_empty_and_their_axis_errors():
    e = Tensor(np.zeros((0, 2)))
    assert e.any().item() is False and e.all().item() is True
    with pytest.raises(ShapeError, match=r"any: axis 2 is out of range for a tensor of shape"):
        e.any(axis=2)
    with pytest.raises(ShapeError, match=r"all: repeated axis in \(0, 0\)"):
        e.all(axis=(0, 0))
