"""numpy functions on Tensors: every dispatched one equals the engine's op in value and
gradient, and no numpy function returns a detached array for a Tensor that requires grad."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_fish as tf
from tinygrad_fish import GraphError, Tensor
from tinygrad_fish.errors import NotDifferentiableError, TinygradFishError
from tinygrad_fish.numpy_dispatch import (
    FUNCTIONS,
    NO_GRADIENT_FUNCTIONS,
    NO_GRADIENT_UFUNCS,
    UFUNCS,
)
from tinygrad_fish.testing import (
    arrays,
    assert_grad_matches,
    assert_gradgrad_matches,
    broadcastable_shapes,
    distinct_arrays,
    shapes,
)

# --- every ufunc in the table: value as numpy's, gradient as central differences -----------
#: the domain each ufunc is smooth on (kept away from its edges: the edges have their own
#: exact tests in test_ops_edges.py)
POSITIVE = {np.log, np.log2, np.log10, np.sqrt, np.cbrt, np.reciprocal, np.power}
UNIT = {np.arcsin, np.arccos, np.arctanh}
DOMAIN: dict[np.ufunc, tuple[float, float]] = {
    **{u: (0.2, 3.0) for u in POSITIVE},
    **{u: (-0.9, 0.9) for u in UNIT},
    np.arccosh: (1.2, 4.0),
    np.log1p: (-0.8, 3.0),
    np.tan: (-1.2, 1.2),
}
PIECEWISE = {np.sign, np.floor, np.ceil, np.trunc, np.rint}
KINKED = {np.absolute, np.fabs, np.maximum, np.minimum, *PIECEWISE}
UFUNC_IDS = sorted(UFUNCS, key=lambda u: u.__name__)


def _draw_inputs(data: st.DataObject, ufunc: np.ufunc) -> list[np.ndarray]:
    lo, hi = DOMAIN.get(ufunc, (-3.0, 3.0))
    if ufunc is np.matmul:
        n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
        return [data.draw(arrays((n, k))), data.draw(arrays((k, m)))]
    if ufunc.nin == 1:
        if ufunc in KINKED:  # a grid shifted off the integers and halves, where they jump
            return [data.draw(distinct_arrays(shapes(max_dims=2), gap=0.05)) + 0.013]
        return [data.draw(arrays(shapes(max_dims=3), min_value=lo, max_value=hi))]
    sa, sb = data.draw(broadcastable_shapes(max_dims=3))
    if ufunc in KINKED:  # values on a grid, shifted so a and b never tie
        return [data.draw(distinct_arrays(sa, gap=0.1, max_value=4.0)),
                data.draw(distinct_arrays(sb, gap=0.1, max_value=4.0)) + 0.05]
    if ufunc in (np.hypot, np.arctan2):
        lo = 0.3
    return [data.draw(arrays(sa, min_value=lo, max_value=hi)),
            data.draw(arrays(sb, min_value=0.5 if ufunc in (np.divide, np.power) else lo,
                             max_value=2.0 if ufunc is np.power else hi))]


@pytest.mark.parametrize("ufunc", UFUNC_IDS, ids=lambda u: u.__name__)
@given(data=st.data())
def test_every_dispatched_ufunc_matches_numpy_and_its_gradient(ufunc, data):
    inputs = _draw_inputs(data, ufunc)
    with np.errstate(all="ignore"):
        expected = ufunc(*inputs)
        got = ufunc(*[Tensor(x, requires_grad=True) for x in inputs])
    assert isinstance(got, Tensor) and got.requires_grad
    np.testing.assert_allclose(got.data, expected, rtol=1e-12, atol=1e-300)
    assert got.dtype == expected.dtype
    assert_grad_matches(lambda *ts: ufunc(*ts), *inputs)
    if ufunc not in PIECEWISE and ufunc not in KINKED:
        assert_gradgrad_matches(lambda *ts: ufunc(*ts), *inputs)


def test_ufunc_with_an_array_on_the_left_dispatches_to_the_tensor():
    w = Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) - w  # ndarray.__sub__ -> np.subtract -> Tensor
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [-1.0, -1.0])


@pytest.mark.parametrize("ufunc", sorted(NO_GRADIENT_UFUNCS, key=lambda u: u.__name__),
                         ids=lambda u: u.__name__)
def test_no_gradient_ufuncs_compute_on_the_values(ufunc):
    x = Tensor([0.5, -1.0, np.nan], requires_grad=True)
    args = [x] * ufunc.nin
    got = ufunc(*args)
    assert isinstance(got, Tensor) and not got.requires_grad
    np.testing.assert_array_equal(got.data, ufunc(*[x.data] * ufunc.nin))


def test_ufunc_reduce_and_outer_dispatch():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    np.testing.assert_array_equal(np.add.reduce(x).data, [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(np.maximum.reduce(x, axis=1).data, [2.0, 5.0])
    o = np.multiply.outer(x[0], x[1])
    assert o.shape == (3, 3) and o.requires_grad
    o.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[12.0, 12.0, 12.0], [3.0, 3.0, 3.0]])
    with pytest.raises(NotDifferentiableError, match=r"numpy.add.accumulate has no "):
        np.add.accumulate(x)


def test_ufunc_out_is_refused_in_the_graph_and_writes_outside_it():
    x = Tensor([1.0, 2.0], requires_grad=True)
    buf = np.zeros(2)
    with pytest.raises(NotDifferentiableError,
                       match=r"numpy.add cannot be differentiated with out="):
        np.add(x, 1, out=buf)
    t = Tensor(np.zeros(2))
    c = Tensor([1.0, 2.0])
    got = np.add(c, 1, out=t)
    assert got is t and t.tolist() == [2.0, 3.0] and t._version == 1
    with tf.no_grad():
        np.multiply(x, 2, out=buf)  # no graph is recorded: allowed
    np.testing.assert_array_equal(buf, [2.0, 4.0])


# --- every array function in the table ------------------------------------------------------
# name -> (call with numpy's spelling, the arrays it takes, smooth enough for 2nd order)
A = np.array([[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]])
B = np.array([[0.2, 1.1], [-0.4, 0.9], [1.3, -0.6]])
V = np.array([0.7, -0.2, 1.4])
CALLS: dict[Any, tuple[Callable[..., Any], list[np.ndarray], bool]] = {
    np.dot: (lambda a, b: np.dot(a, b), [A, B], True),
    np.outer: (lambda a, b: np.outer(a, b), [V, V * 2], True),
    np.tensordot: (lambda a, b: np.tensordot(a, b, axes=1), [A, B], True),
    np.einsum: (lambda a, b: np.einsum("ij,jk->ik", a, b), [A, B], True),
    np.sum: (lambda a: np.sum(a, axis=0, keepdims=True), [A], True),
    np.mean: (lambda a: np.mean(a, axis=1), [A], True),
    np.max: (lambda a: np.max(a, axis=1, keepdims=True), [A], False),
    np.amax: (lambda a: np.amax(a), [A], False),
    np.min: (lambda a: np.min(a, axis=0), [A], False),
    np.amin: (lambda a: np.amin(a, axis=1), [A], False),
    np.var: (lambda a: np.var(a, axis=0, ddof=1), [A], True),
    np.std: (lambda a: np.std(a, axis=1), [A], True),
    np.reshape: (lambda a: np.reshape(a, (3, 2)), [A], True),
    np.ravel: (lambda a: np.ravel(a), [A], True),
    np.transpose: (lambda a: np.transpose(a), [A], True),
    np.swapaxes: (lambda a: np.swapaxes(a, 0, 1), [A], True),
    np.moveaxis: (lambda a: np.moveaxis(a, 0, -1), [A], True),
    np.squeeze: (lambda a: np.squeeze(a[None]), [A], True),
    np.expand_dims: (lambda a: np.expand_dims(a, 1), [A], True),
    np.broadcast_to: (lambda a: np.broadcast_to(a, (4, 3)), [V], True),
    np.flip: (lambda a: np.flip(a, axis=1), [A], True),
    np.atleast_1d: (lambda a: np.atleast_1d(a[0, 0]), [A], True),
    np.atleast_2d: (lambda a: np.atleast_2d(a), [V], True),
    np.where: (lambda a, b: np.where(A > 0, a, b), [A, A * 2], True),
    np.clip: (lambda a: np.clip(a, -1.0, 1.0), [A], False),
    np.concatenate: (lambda a, b: np.concatenate([a, b.T], axis=0), [A, B], True),
    np.stack: (lambda a, b: np.stack([a, b.T]), [A, B], True),
    np.vstack: (lambda a, b: np.vstack([a, b.T]), [A, B], True),
    np.hstack: (lambda a, b: np.hstack([a, b.T]), [A, B], True),
    np.split: (lambda a: np.split(a, 3, axis=1)[1], [A], True),
    np.diff: (lambda a: np.diff(a, axis=1), [A], True),
    np.pad: (lambda a: np.pad(a, 1, constant_values=2.0), [A], True),
    np.copy: (lambda a: np.copy(a), [A], True),
    np.round: (lambda a: np.round(a, 1), [A + 0.013], False),
    np.around: (lambda a: np.around(a), [A + 0.013], False),
    np.tile: (lambda a: np.tile(a, (2, 1, 2)), [A], True),
    np.take_along_axis: (lambda a: np.take_along_axis(a, np.array([[2, 0, 2, 1]]), 1), [A],
                         True),
    np.cumsum: (lambda a: np.cumsum(a, axis=1), [A], True),
    np.repeat: (lambda a: np.repeat(a, [1, 0, 3], axis=1), [A], True),
    np.linalg.norm: (lambda a: np.linalg.norm(a, axis=0), [A], True),
}
LIKE = [np.zeros_like, np.ones_like, np.empty_like, np.full_like]


def test_every_table_function_has_a_test_call():
    assert set(FUNCTIONS) == set(CALLS) | set(LIKE)


@pytest.mark.parametrize("func", list(CALLS), ids=lambda f: f.__name__)
def test_every_dispatched_function_matches_numpy_and_its_gradient(func):
    call, arrays_, smooth = CALLS[func]
    expected = call(*arrays_)
    ts = [Tensor(a, requires_grad=True) for a in arrays_]
    got = call(*ts)
    assert isinstance(got, Tensor) and got.requires_grad, func.__name__
    np.testing.assert_allclose(got.data, expected, rtol=1e-13, atol=1e-15)
    assert got.shape == np.shape(expected)
    assert tf.gradcheck(lambda *t: call(*t), [Tensor(a, requires_grad=True) for a in arrays_])
    if smooth:
        assert tf.gradgradcheck(lambda *t: call(*t) * call(*t),
                                [Tensor(a, requires_grad=True) for a in arrays_])


@pytest.mark.parametrize("func", LIKE, ids=lambda f: f.__name__)
def test_like_functions_give_new_tensors_outside_the_graph(func):
    x = Tensor(A, requires_grad=True)
    args = (x, 3.0) if func is np.full_like else (x,)
    got = func(*args)
    assert isinstance(got, Tensor) and not got.requires_grad and got.shape == A.shape
    if func is not np.empty_like:
        np.testing.assert_array_equal(got.data, func(A, *args[1:]))


@pytest.mark.parametrize("func", sorted(NO_GRADIENT_FUNCTIONS, key=lambda f: f.__name__),
                         ids=lambda f: f.__name__)
def test_no_gradient_functions_compute_on_the_values(func):
    x = Tensor(A, requires_grad=True)
    args: tuple[Any, ...] = (x,)
    if func in (np.allclose, np.isclose, np.array_equal, np.array_equiv,
                np.may_share_memory, np.shares_memory):
        args = (x, x)
    elif func is np.searchsorted:
        args = (x[0], x[1])
    got = func(*args)
    want = func(*[a.data for a in args])
    if isinstance(got, Tensor):
        assert not got.requires_grad
        got = got.data
    np.testing.assert_array_equal(got, want)


def test_dispatched_functions_refuse_options_they_cannot_differentiate():
    x = Tensor(A, requires_grad=True)
    with pytest.raises(NotDifferentiableError, match=r"numpy.sum cannot be differentiated "
                                                     r"with out="):
        np.sum(x, out=np.zeros(()))
    with pytest.raises(NotDifferentiableError, match=r"numpy.pad cannot be differentiated "
                                                     r"with mode='reflect'"):
        np.pad(x, 1, mode="reflect")
    # without a tensor that requires grad, numpy computes on the arrays
    got = np.pad(Tensor(A), 1, mode="reflect")
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, np.pad(A, 1, mode="reflect"))


def test_reviewed_calls_now_work():
    # the review's list: no silent detach, no 'out' TypeError, no refused maximum/square,
    # no transpose ShapeError
    x = Tensor(np.array([[1.0, -2.0]]))
    W = Tensor(np.array([[0.5], [0.25]]), requires_grad=True)
    b = Tensor(np.array([0.1]), requires_grad=True)
    y = np.dot(x, W) + b
    assert isinstance(y, Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(W.grad.data, [[1.0], [-2.0]])
    t = Tensor(A, requires_grad=True)
    for call in (lambda: np.sum(t), lambda: np.max(t, axis=1), lambda: np.mean(t),
                 lambda: np.maximum(0, t), lambda: np.square(t), lambda: np.transpose(t),
                 lambda: np.reshape(t, -1), lambda: np.where(A > 0, t, 0.0),
                 lambda: np.clip(t, 0, 1), lambda: np.concatenate([t, t])):
        assert call().requires_grad


# --- no numpy function returns a detached array for a Tensor that requires grad -------------
def _public_numpy_callables() -> list[tuple[str, Any]]:
    out = []
    for mod_name, mod in (("numpy", np), ("numpy.linalg", np.linalg), ("numpy.fft", np.fft)):
        for name in sorted(dir(mod)):
            if name.startswith("_"):
                continue
            obj = getattr(mod, name)
            if isinstance(obj, np.ufunc) or (callable(obj) and not inspect.isclass(obj)
                                             and hasattr(obj, "_implementation")):
                out.append((f"{mod_name}.{name}", obj))
    return out


#: numpy functions that by design take the values (array creation and conversion): the
#: documented way out of the graph, plus the array printing and saving functions.
VALUE_TAKERS = {
    "numpy.asarray", "numpy.array", "numpy.asanyarray", "numpy.ascontiguousarray",
    "numpy.asfortranarray", "numpy.require", "numpy.array2string", "numpy.array_repr",
    "numpy.array_str", "numpy.save", "numpy.savez", "numpy.savez_compressed",
    "numpy.savetxt",
}
ARG_PATTERNS: list[Callable[[Tensor], tuple[Any, ...]]] = [
    lambda t: (t,),
    lambda t: (t, t),
    lambda t: (t, 1),
    lambda t: (t, 0),
    lambda t: (t, t, t),
]


def test_no_numpy_function_returns_a_plain_array_for_a_tensor_that_requires_grad():
    checked = returned_tensors = refused = other_errors = 0
    offenders = []
    for name, func in _public_numpy_callables():
        if name in VALUE_TAKERS:
            continue
        for pattern in ARG_PATTERNS:
            t = Tensor(np.array([[0.5, 1.5], [2.5, 0.25]]), requires_grad=True)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    result = func(*pattern(t))
            except NotDifferentiableError:
                refused += 1
                continue
            except (TinygradFishError, TypeError, ValueError, IndexError, AttributeError,
                    NotImplementedError, RuntimeError, OverflowError, np.linalg.LinAlgError):
                other_errors += 1  # the arguments did not fit: nothing was returned
                continue
            checked += 1
            leaves = result if isinstance(result, (tuple, list)) else (result,)
            for r in leaves:
                if isinstance(r, Tensor):
                    returned_tensors += 1
                elif isinstance(r, np.ndarray) and r.dtype.kind in "fc" and r.size:
                    offenders.append(f"{name}{tuple(type(a).__name__ for a in pattern(t))}")
    assert not offenders, f"detached float arrays returned by: {sorted(set(offenders))}"
    assert checked > 100 and returned_tensors > 100 and refused > 100, (
        checked, returned_tensors, refused, other_errors)


def test_asarray_and_array_keep_giving_the_values():
    t = Tensor(A, requires_grad=True)
    assert np.asarray(t) is t.data
    np.testing.assert_array_equal(np.array(t), A)
    assert t.__array__() is t.data


# --- the book's own numpy code, differentiated ----------------------------------------------
def test_a_graph_freed_by_numpy_code_still_refuses_a_second_backward():
    w = Tensor(V, requires_grad=True)
    y = np.sum(np.exp(w))
    y.backward()
    with pytest.raises(GraphError, match="freed"):
        y.backward()


def test_the_docs_page_lists_every_table_entry():
    from support import REPO

    text = (REPO / "docs" / "numpy.md").read_text(encoding="utf-8")
    words = set(text.replace("`", " ").replace(",", " ").split())
    names = {u.__name__ for u in (*UFUNCS, *NO_GRADIENT_UFUNCS)} | {
        f.__name__ for f in (*FUNCTIONS, *NO_GRADIENT_FUNCTIONS)}
    assert not names - words, sorted(names - words)
