"""Fuzz the public API: every op, every dtype, odd shapes and odd values.

Each case draws inputs of a random dtype (bool, int8, int64, uint8, float16/32/64,
complex64) and shape (0-d, empty axes, up to 3-d), with NaN, inf and extreme values, calls
an op through one of its public spellings (``tinygrad_fish.add``, ``a + b``, ``array + t``,
``np.exp(t)``, ``t.sum()``, ...), sometimes with ``requires_grad=True`` on float inputs,
and checks the contract:

- the op returns what numpy computes (same shape, same dtype, same values, NaN where numpy
  has NaN; with a Python scalar, what numpy's same spelling computes: ``x ** 2`` for
  ``t ** 2``), and then ``out.sum().backward()`` gives every leaf a gradient of its shape
  and dtype; a bool or integer output never requires grad, and backward of a complex one
  raises a :class:`~tinygrad_fish.DTypeError`; or
- it raises an error of tinygrad_fish (a :class:`~tinygrad_fish.TinygradFishError`).

Never a raw numpy/Python error from inside the engine, never a result where numpy refuses,
never a crash. numpy's warnings are silenced (``np.errstate(all="ignore")``).

Where numpy has no such function the reference is a numpy formula: ``np.maximum(x, 0)``
for relu, ``1 / (1 + exp(-x))`` for sigmoid, and for softmax, log_softmax, logsumexp and
cross entropy the max-shifted formula, computed in the float dtype numpy's ``exp`` would
give the input (bool, int8, uint8 -> float16, int64 -> float64). logsumexp shifts only by a
finite maximum, so that all -inf gives -inf and a +inf gives inf (the true limits, as
``scipy.special.logsumexp`` has them); softmax and log_softmax keep the plain shifted
formula (NaN where the input has a +inf, or is all -inf).

Every input region is fuzzed, with one exception: matmul's operands are finite. For 2-D
operands the engine calls ``np.dot``, whose BLAS kernels skip ``nan * 0`` (and ``inf * 0``)
in K=1 products, giving 0 where ``np.matmul`` gives NaN: a kept, documented behaviour,
pinned by the strict ``xfail`` test ``test_matmul_propagates_nan_times_zero_like_numpy``
at the end of the file. The other tests there are regression examples, one or two inputs
each, of the engine bugs this fuzz found (all fixed).

The number of cases run is counted; the count is printed at the end of the module (see it
with ``pytest -s -p no:xdist tests/test_fuzz.py``) and stored in the pytest cache under
``tinygrad_fish/fuzz_cases/<worker>``.
"""

from __future__ import annotations

import math
import operator
import os
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_fish as tf
from tinygrad_fish import DTypeError, Tensor, TinygradFishError

# ---------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------
#: (op, outcome) -> number of cases; outcome is "matched", "refused" or "backward".
CASES: Counter[tuple[str, str]] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_fuzz_cases(request: pytest.FixtureRequest):
    yield
    total = sum(n for (_, outcome), n in CASES.items() if outcome != "backward")
    matched = sum(n for (_, outcome), n in CASES.items() if outcome == "matched")
    refused = sum(n for (_, outcome), n in CASES.items() if outcome == "refused")
    backward = sum(n for (_, outcome), n in CASES.items() if outcome == "backward")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    cache = getattr(request.config, "cache", None)  # absent with -p no:cacheprovider
    if cache is not None:
        cache.set(
            f"tinygrad_fish/fuzz_cases/{worker}",
            {"total": total, "matched": matched, "refused": refused, "backward": backward},
        )
    sys.stdout.write(
        f"\nfuzz cases: {total} ({matched} matched numpy, {refused} refused with a "
        f"tinygrad_fish error; {backward} also ran backward) [{worker}]\n"
    )


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------
DTYPES = [
    np.dtype(t)
    for t in (np.bool_, np.int8, np.int64, np.uint8, np.float16, np.float32, np.float64,
              np.complex64)
]
FLOATS = [d for d in DTYPES if d.kind == "f"]
def _elements(dtype: np.dtype[Any]) -> st.SearchStrategy[Any]:
    small = st.sampled_from([0, 1, 2, -1, 3])
    if dtype == np.bool_:
        return st.booleans()
    if dtype.kind in "iu":
        return st.one_of(small.filter(lambda v: v >= 0 or dtype.kind == "i"),
                         hnp.from_dtype(dtype))
    # floats and complex: from_dtype gives NaN, +-inf, extremes and subnormals
    nice = st.floats(-4, 4, width=16 if dtype == np.float16 else 32)
    return st.one_of(nice, hnp.from_dtype(dtype))


def shapes(min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy[tuple[int, ...]]:
    """0-d to 3-d shapes whose sides may be 0."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=3)


@st.composite
def arrays(
    draw: st.DrawFn,
    dtypes: Sequence[np.dtype[Any]] = DTYPES,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
) -> np.ndarray[Any, Any]:
    dtype = draw(st.sampled_from(list(dtypes)))
    shp = draw(shapes()) if shape is None else shape if isinstance(shape, tuple) else draw(shape)
    return draw(hnp.arrays(dtype, shp, elements=_elements(dtype)))


SCALARS = st.sampled_from([0, 1, 2, -1, 0.5, 2.0, -1.5, math.nan, math.inf, -math.inf])


@dataclass
class Case:
    """One call: ``tf_fn(*tensors)`` against ``np_fn(*arrays)``.

    ``args`` holds numpy arrays and Python scalars; ``wrap[i]`` says whether argument i is
    passed to tinygrad_fish as a Tensor (else as is), ``grad[i]`` whether that Tensor
    requires grad. ``exact`` asks for bit-equal values (the op calls the same numpy code).
    """

    op: str
    tf_fn: Callable[..., Any]
    np_fn: Callable[..., Any]
    args: list[Any]
    wrap: list[bool]
    grad: list[bool] = field(default_factory=list)
    exact: bool = True


def _is_float_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


@st.composite
def grad_flags(draw: st.DrawFn, args: Sequence[Any], wrap: Sequence[bool]) -> list[bool]:
    often = st.sampled_from([True, True, False])
    return [w and _is_float_array(a) and draw(often) for a, w in zip(args, wrap, strict=True)]


# ---------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------
def _tolerance(dtype: np.dtype[Any]) -> tuple[float, float]:
    if dtype in (np.float16,):
        return 2e-2, 2e-3
    if dtype in (np.float32, np.complex64):
        return 2e-5, 1e-6
    return 1e-10, 1e-12


def _fail(case: Case, what: str) -> None:
    shapes_ = [
        f"{a.dtype}{list(a.shape)}" if isinstance(a, np.ndarray) else repr(a) for a in case.args
    ]
    pytest.fail(f"{case.op} on {', '.join(shapes_)} (tensor {case.wrap}, grad {case.grad}): "
                f"{what}", pytrace=False)


def check(case: Case) -> None:
    """Run ``case`` through numpy and tinygrad_fish and hold them to the contract."""
    if not case.grad:
        case.grad = [False] * len(case.args)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "Mean of empty slice"
        np_args = [a.copy() if isinstance(a, np.ndarray) else a for a in case.args]
        try:
            expected = case.np_fn(*np_args)
            np_error: Exception | None = None
        except Exception as e:  # numpy refuses: so must we, with our own error
            np_error, expected = e, None
        tensors = [
            Tensor(a.copy() if isinstance(a, np.ndarray) else a, requires_grad=g) if w else a
            for a, w, g in zip(case.args, case.wrap, case.grad, strict=True)
        ]
        try:
            out = case.tf_fn(*tensors)
        except TinygradFishError:
            CASES[case.op, "refused"] += 1
            return
        except Exception as e:
            _fail(case, f"raised a raw {type(e).__module__}.{type(e).__name__}: {e}"
                        f" (numpy: {np_error!r})")
        if np_error is not None:
            _fail(case, f"numpy raises {type(np_error).__name__}: {np_error}, but "
                        f"tinygrad_fish returned {out!r}")
        if not isinstance(out, Tensor):
            _fail(case, f"returned a {type(out).__name__}, not a Tensor")
        exp = np.asarray(expected)
        if out.shape != exp.shape or out.dtype != exp.dtype:
            _fail(case, f"gave {out.dtype}{list(out.shape)}, numpy {exp.dtype}{list(exp.shape)}")
        try:
            if case.exact or exp.dtype.kind in "biu":
                np.testing.assert_array_equal(out.data, exp)
            else:
                rtol, atol = _tolerance(exp.dtype)
                np.testing.assert_allclose(out.data, exp, rtol=rtol, atol=atol, equal_nan=True)
        except AssertionError as e:
            _fail(case, f"values differ from numpy's:\n{e}")
        CASES[case.op, "matched"] += 1
        if out.requires_grad and out.dtype.kind in "biu":
            _fail(case, f"a {out.dtype} output requires grad (only floats can)")
        if out.requires_grad and out.dtype.kind == "c":
            _check_complex_backward_refused(case, out)
        elif out.requires_grad:
            _check_backward(case, out, tensors)


def _check_complex_backward_refused(case: Case, out: Tensor) -> None:
    try:
        out.sum().backward()
    except DTypeError:
        return
    except Exception as e:
        _fail(case, f"backward of a complex output raised a {type(e).__name__}: {e}, "
                    "not a DTypeError")
    _fail(case, "backward of a complex output ran, instead of raising a DTypeError")


def _check_backward(case: Case, out: Tensor, tensors: list[Any]) -> None:
    try:
        out.sum().backward()
    except Exception as e:
        _fail(case, f"backward of a valid forward raised {type(e).__name__}: {e}")
    for i, t in enumerate(tensors):
        if isinstance(t, Tensor) and t.requires_grad:
            if t.grad is None:
                _fail(case, f"input {i} requires grad but got no gradient")
            if t.grad.shape != t.shape or t.grad.dtype != t.dtype:
                _fail(case, f"input {i} ({t.dtype}{list(t.shape)}) got a gradient of "
                            f"{t.grad.dtype}{list(t.grad.shape)}")
    CASES[case.op, "backward"] += 1


# ---------------------------------------------------------------------------------------------
# Elementwise binary ops and matmul, in every spelling
# ---------------------------------------------------------------------------------------------
BINARY: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {
    "add": (tf.add, operator.add, np.add),
    "sub": (tf.sub, operator.sub, np.subtract),
    "mul": (tf.mul, operator.mul, np.multiply),
    "div": (tf.div, operator.truediv, np.true_divide),
    "pow": (tf.pow, operator.pow, np.power),
    "matmul": (tf.matmul, operator.matmul, np.matmul),
}


@st.composite
def binary_cases(draw: st.DrawFn, op: str) -> Case:
    fn, operator_fn, np_fn = BINARY[op]
    if op == "matmul":
        pair = st.one_of(
            hnp.mutually_broadcastable_shapes(
                signature="(m?,n),(n,p?)->(m?,p?)", max_dims=3, min_side=0, max_side=3
            ).map(lambda s: s.input_shapes),
            st.tuples(shapes(), shapes()),
        )
    else:
        pair = st.one_of(
            hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=0,
                                              max_side=3).map(lambda s: s.input_shapes),
            st.tuples(shapes(), shapes()),  # mostly not broadcastable
        )
    sa, sb = draw(pair)
    a, b = draw(arrays(shape=sa)), draw(arrays(shape=sb))
    if op == "matmul":  # finite operands only: see test_matmul_propagates_nan_times_zero_...
        for x in (a, b):
            if x.dtype.kind in "fc":
                x[~np.isfinite(x)] = 1.0
    form = draw(st.sampled_from(["function", "operator", "array_left", "scalar_right",
                                 "scalar_left"]))
    if form in ("scalar_right", "scalar_left"):
        s = draw(SCALARS)
    if form == "function":
        case = Case(op, fn, np_fn, [a, b], [True, True])
    elif form == "operator":
        case = Case(op, operator_fn, np_fn, [a, b], [True, True])
    elif form == "array_left":  # ndarray (op) Tensor: numpy hands the call to the Tensor
        case = Case(op, operator_fn, np_fn, [a, b], [False, True])
    # With a Python scalar the reference is numpy's same spelling, ``x ** 2`` for ``t ** 2``:
    # numpy computes ``bool_array ** 2`` as np.square (int8), np.power(bool_array, 2) is int64.
    elif form == "scalar_right":
        case = Case(op, lambda t, c=s: operator_fn(t, c), lambda x, c=s: operator_fn(x, c),
                    [a], [True])
    else:
        case = Case(op, lambda t, c=s: operator_fn(c, t), lambda x, c=s: operator_fn(c, x),
                    [a], [True])
    case.grad = draw(grad_flags(case.args, case.wrap))
    case.exact = op != "matmul"  # np.dot for 2-D operands may sum in another order
    return case


@pytest.mark.parametrize("op", list(BINARY))
@given(data=st.data())
def test_fuzz_binary(op, data):
    check(data.draw(binary_cases(op)))


# ---------------------------------------------------------------------------------------------
# Elementwise unary ops
# ---------------------------------------------------------------------------------------------
def _relu_ref(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.maximum(x, 0)


def _sigmoid_ref(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    dtype = (0.5 * x).dtype
    if dtype.kind == "c":
        return 0.5 * (np.tanh(0.5 * x) + 1.0)
    return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(dtype)


UNARY: dict[str, tuple[Callable[..., Any], Callable[..., Any], bool, Callable[..., Any] | None]] = {
    # op: (tinygrad_fish function, numpy reference, exact, ufunc spelling)
    "neg": (tf.neg, np.negative, True, np.negative),
    "exp": (tf.exp, np.exp, True, np.exp),
    "log": (tf.log, np.log, True, np.log),
    "sqrt": (tf.sqrt, np.sqrt, True, np.sqrt),
    "abs": (tf.abs, np.abs, True, np.abs),
    "relu": (tf.relu, _relu_ref, True, None),
    "sigmoid": (tf.sigmoid, _sigmoid_ref, False, None),
    "tanh": (tf.tanh, np.tanh, True, np.tanh),
}


@st.composite
def unary_cases(draw: st.DrawFn, op: str) -> Case:
    fn, ref, exact, ufunc = UNARY[op]
    x = draw(arrays())
    forms = ["function", "method"] + (["ufunc"] if ufunc is not None else [])
    if op in ("neg", "abs"):
        forms.append("operator")
    form = draw(st.sampled_from(forms))
    if form == "function":
        call = fn
    elif form == "method":
        call = operator.methodcaller(op) if op != "neg" else operator.methodcaller("__neg__")
    elif form == "ufunc":
        call = ufunc  # np.exp(t): numpy hands the call to the Tensor
    else:
        call = operator.neg if op == "neg" else abs
    case = Case(op, call, ref, [x], [True], exact=exact)
    case.grad = draw(grad_flags(case.args, case.wrap))
    return case


@pytest.mark.parametrize("op", list(UNARY))
@given(data=st.data())
def test_fuzz_unary(op, data):
    check(data.draw(unary_cases(op)))


# ---------------------------------------------------------------------------------------------
# clip, astype, where
# ---------------------------------------------------------------------------------------------
@given(data=st.data())
def test_fuzz_clip(data):
    x = data.draw(arrays())
    lo = data.draw(st.one_of(st.none(), SCALARS))
    hi = data.draw(st.one_of(st.none(), SCALARS))
    method = data.draw(st.booleans())
    call = ((lambda t: t.clip(lo, hi)) if method else (lambda t: tf.clip(t, lo, hi)))
    case = Case("clip", call, lambda a: np.clip(a, lo, hi), [x], [True])
    case.grad = data.draw(grad_flags(case.args, case.wrap))
    check(case)


@given(data=st.data())
def test_fuzz_astype(data):
    x = data.draw(arrays())
    dtype = data.draw(st.sampled_from(DTYPES))
    grad = data.draw(grad_flags([x], [True]))  # a cast to bool or int leaves the graph
    method = data.draw(st.booleans())
    call = (lambda t: t.astype(dtype)) if method else (lambda t: tf.astype(t, dtype))
    check(Case("astype", call, lambda a: a.astype(dtype), [x], [True], grad))


@given(data=st.data())
def test_fuzz_where(data):
    sc, sa, sb = data.draw(st.one_of(
        hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, min_side=0,
                                          max_side=3).map(lambda s: s.input_shapes),
        st.tuples(shapes(), shapes(), shapes()),
    ))
    cond = data.draw(arrays([np.dtype(np.bool_)], shape=sc))
    a = data.draw(arrays(shape=sa))
    b = data.draw(st.one_of(arrays(shape=sb), SCALARS))
    cond_form = data.draw(st.sampled_from(["array", "tensor"]))
    wrap = [cond_form == "tensor", True, isinstance(b, np.ndarray) and data.draw(st.booleans())]
    case = Case("where", tf.where, np.where, [cond, a, b], wrap)
    case.grad = data.draw(grad_flags(case.args, case.wrap))
    check(case)


# ---------------------------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------------------------
AXES = st.one_of(
    st.none(),
    st.integers(-4, 3),
    st.lists(st.integers(-4, 3), max_size=3).map(tuple),
)

REDUCTIONS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "sum": (tf.sum, np.sum),
    "mean": (tf.mean, np.mean),
    "max": (tf.max, np.max),
    "min": (tf.min, np.min),
}


@pytest.mark.parametrize("op", list(REDUCTIONS))
@given(data=st.data())
def test_fuzz_reduction(op, data):
    fn, ref = REDUCTIONS[op]
    x = data.draw(arrays())
    axis = data.draw(AXES)
    keepdims = data.draw(st.booleans())
    method = data.draw(st.booleans())
    call = ((lambda t: getattr(t, op)(axis, keepdims)) if method
            else (lambda t: fn(t, axis=axis, keepdims=keepdims)))
    case = Case(op, call, lambda a: ref(a, axis=axis, keepdims=keepdims), [x], [True],
                exact=op in ("max", "min"))
    case.grad = data.draw(grad_flags(case.args, case.wrap))
    check(case)


# ---------------------------------------------------------------------------------------------
# Shape ops
# ---------------------------------------------------------------------------------------------
@st.composite
def reshape_targets(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    size = math.prod(shape)
    valid = list(shape)
    draw(st.randoms()).shuffle(valid)
    options = [st.just(tuple(valid)), shapes(), st.just((size,)), st.just((-1,))]
    if valid:
        i = draw(st.integers(0, len(valid) - 1))
        options.append(st.just(tuple(-1 if j == i else n for j, n in enumerate(valid))))
    return draw(st.one_of(options))


@given(data=st.data())
def test_fuzz_reshape(data):
    x = data.draw(arrays())
    new = data.draw(reshape_targets(x.shape))
    form = data.draw(st.sampled_from(["function", "method_tuple", "method_args"]))
    if form == "function":
        call = lambda t: tf.reshape(t, new)  # noqa: E731
    elif form == "method_tuple":
        call = lambda t: t.reshape(new)  # noqa: E731
    else:
        call = lambda t: t.reshape(*new)  # noqa: E731
    case = Case("reshape", call, lambda a: a.reshape(new), [x], [True])
    case.grad = data.draw(grad_flags(case.args, case.wrap))
    check(case)


@given(data=st.data())
def test_fuzz_transpose(data):
    x = data.draw(arrays())
    perm = list(range(x.ndim))
    data.draw(st.randoms()).shuffle(perm)
    some = st.lists(st.integers(-4, 3), max_size=4).map(tuple)  # may be out of range
    axes = data.draw(st.one_of(st.none(), st.just(tuple(perm)), some))
    form = data.draw(st.sampled_from(["function", "method", "T"]))
    if axes is None and form == "T":
        call = lambda t: t.T  # noqa: E731
    elif axes is None:
        call = (lambda t: tf.transpose(t)) if form == "function" else (lambda t: t.transpose())
    else:
        call = (lambda t: tf.transpose(t, axes)) if form == "function" or not axes else (
            lambda t: t.transpose(*axes))
    case = Case("transpose", call, lambda a: np.transpose(a, axes), [x], [True])
    case.grad = data.draw(grad_flags(case.args, case.wrap))
    check(case)


@st.composite
def indices(draw: st.DrawFn, shape: tuple[int, ...]) -> Any:
    return draw(st.one_of(
        hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True),
        hnp.integer_array_indices(shape) if shape and all(shape) else st.just(()),
        hnp.arrays(np.bool_, shape),
        # and indices numpy refuses: past the end of an axis, too many, of another shape
        st.lists(st.integers(-4, 3), max_size=4).map(tuple),
        hnp.arrays(np.int64, shapes(max_dims=2), elements=st.integers(-4, 3)),
        hnp.arrays(np.bool_, shapes()),
        st.sampled_from([1.5, (0, 1.5), [0.0]]),
    ))


@given(data=st.data())
def test_fuzz_getitem(data):
    x = data.draw(arrays())
    index = data.draw(indices(x.shape))
    as_tensor = (isinstance(index, np.ndarray) and data.draw(st.booleans()))
    if as_tensor:
        call = lambda t: t[Tensor(index)]  # noqa: E731
    elif data.draw(st.booleans()):
        call = lambda t: t[index]  # noqa: E731
    else:
        call = lambda t: tf.getitem(t, index)  # noqa: E731
    case = Case("getitem", call, lambda a: a[index], [x], [True])
    case.grad = data.draw(grad_flags(case.args, case.wrap))
    check(case)


@given(data=st.data())
def test_fuzz_broadcast_to(data):
    x = data.draw(arrays())
    target = data.draw(st.one_of(
        hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3),
        hnp.mutually_broadcastable_shapes(num_shapes=1, base_shape=x.shape, max_dims=4,
                                          min_side=0, max_side=3).map(lambda s: s.result_shape),
    ))
    method = data.draw(st.booleans())
    call = ((lambda t: t.broadcast_to(target)) if method
            else (lambda t: tf.broadcast_to(t, target)))
    case = Case("broadcast_to", call, lambda a: np.broadcast_to(a, target), [x], [True])
    case.grad = data.draw(grad_flags(case.args, case.wrap))
    check(case)


@pytest.mark.parametrize("op", ["concatenate", "stack"])
@given(data=st.data())
def test_fuzz_join(op, data):
    base = data.draw(shapes())
    n = data.draw(st.integers(0, 3))
    shps = []
    for _ in range(n):  # mostly compatible shapes: vary one axis (concatenate) or none
        s = list(base)
        if data.draw(st.booleans()) and s:
            s[data.draw(st.integers(0, len(s) - 1))] = data.draw(st.integers(0, 3))
        shps.append(tuple(s))
    xs = [data.draw(arrays(shape=s)) for s in shps]
    axis = data.draw(st.integers(-4, 3))
    fn, ref = (tf.concatenate, np.concatenate) if op == "concatenate" else (tf.stack, np.stack)
    wrap = [data.draw(st.booleans()) for _ in xs]
    case = Case(op, lambda *ts: fn(list(ts), axis=axis), lambda *as_: ref(list(as_), axis=axis),
                xs, wrap)
    case.grad = data.draw(grad_flags(case.args, case.wrap))
    check(case)


# ---------------------------------------------------------------------------------------------
# softmax, log_softmax, logsumexp, cross_entropy
# ---------------------------------------------------------------------------------------------
def _float_of(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``x`` in the float dtype numpy's ``exp`` would give it (int8 -> float16, ...)."""
    return x.astype(np.exp(np.zeros(0, x.dtype)).dtype)


def _lse_ref(x: np.ndarray[Any, Any], axis: int, keepdims: bool) -> Any:
    x = _float_of(x)
    m = x.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, np.zeros_like(m))  # all -inf: -inf; a +inf: inf
    out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax_ref(x: np.ndarray[Any, Any], axis: int) -> Any:
    x = _float_of(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax_ref(x: np.ndarray[Any, Any], axis: int) -> Any:
    # (x - m) - log(sum(exp(x - m))): x - logsumexp(x) would cancel for huge logits
    x = _float_of(x)
    m = x.max(axis=axis, keepdims=True)
    z = x - np.where(np.isfinite(m), m, np.zeros_like(m))
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp"])
@given(data=st.data())
def test_fuzz_softmax_family(op, data):
    x = data.draw(arrays())
    axis = data.draw(st.integers(-4, 3))
    keepdims = data.draw(st.booleans())
    method = op != "logsumexp" and data.draw(st.booleans())
    if op == "logsumexp":
        call = lambda t: tf.logsumexp(t, axis=axis, keepdims=keepdims)  # noqa: E731
        ref = lambda a: _lse_ref(a, axis, keepdims)  # noqa: E731
    else:
        call = ((lambda t: getattr(t, op)(axis)) if method
                else (lambda t: getattr(tf, op)(t, axis=axis)))
        ref_fn = _softmax_ref if op == "softmax" else _log_softmax_ref
        ref = lambda a: ref_fn(a, axis)  # noqa: E731
    case = Case(op, call, ref, [x], [True], exact=False)
    case.grad = data.draw(grad_flags(case.args, case.wrap))
    check(case)


def _cross_entropy_ref(x: np.ndarray[Any, Any], t: np.ndarray[Any, Any]) -> Any:
    if x.dtype.kind != "f":
        raise TypeError("logits must be float")
    if x.ndim == 1:
        x = x.reshape(1, -1)
        t = t.reshape(1, -1) if t.ndim == 1 else t.reshape(1)
    if x.ndim != 2:
        raise ValueError("logits must be 1-d or 2-d")
    n, c = x.shape
    z = x - x.max(axis=1, keepdims=True)
    log_s = np.log(np.exp(z).sum(axis=1, keepdims=True))
    if t.ndim == 1:
        if t.shape != (n,) or t.dtype.kind not in "iu":
            raise ValueError("bad indices")
        if n and (t.min() < 0 or t.max() >= c):
            raise IndexError("class index out of range")
        loss = log_s.sum() - z[np.arange(n), t].sum()
    else:
        if t.shape != x.shape:
            raise ValueError("bad target shape")
        loss = -(t.astype(x.dtype) * (z - log_s)).sum()
    return np.asarray(loss / n, dtype=x.dtype)


@given(data=st.data())
def test_fuzz_cross_entropy(data):
    n, c = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
    shape = data.draw(st.sampled_from([(n, c), (c,), (n, c, 1), ()]))
    x = data.draw(arrays(shape=shape))
    rows = shape[0] if len(shape) >= 2 else 1
    kind = data.draw(st.sampled_from(["indices", "probabilities", "other"]))
    if kind == "indices":  # mostly in [0, c), sometimes out of range
        ishape = (rows,) if len(shape) >= 2 else ()
        itype = np.dtype(data.draw(st.sampled_from([np.int64, np.uint8, np.int8])))
        index = st.one_of(st.integers(0, max(c - 1, 0)),
                          st.integers(-2 if itype.kind == "i" else 0, c + 1))
        t = data.draw(hnp.arrays(itype, ishape, elements=index))
    elif kind == "probabilities":
        t = data.draw(arrays(shape=shape))
    else:  # targets of any dtype and shape
        t = data.draw(arrays())
    wrap = [True, data.draw(st.booleans())]
    case = Case("cross_entropy", tf.cross_entropy, _cross_entropy_ref, [x, t], wrap,
                exact=False)
    case.grad = data.draw(grad_flags(case.args, case.wrap))
    check(case)


# ---------------------------------------------------------------------------------------------
# requires_grad on every dtype
# ---------------------------------------------------------------------------------------------
@given(x=arrays())
def test_fuzz_requires_grad_only_on_floats(x):
    if x.dtype.kind == "f":
        t = Tensor(x, requires_grad=True)
        assert t.requires_grad
        CASES["requires_grad", "matched"] += 1
    else:
        with pytest.raises(DTypeError, match=str(x.dtype)):
            Tensor(x, requires_grad=True)
        CASES["requires_grad", "refused"] += 1


# ---------------------------------------------------------------------------------------------
# The engine bugs the fuzz found, as regression examples (all fixed but the matmul one)
# ---------------------------------------------------------------------------------------------
def _raises_tinygrad_fish_error_or_matches(fn: Callable[[], Any], expected: Any) -> None:
    with np.errstate(all="ignore"):
        try:
            out = fn()
        except TinygradFishError:
            return
        exp = np.asarray(expected)
        assert out.dtype == exp.dtype and out.shape == exp.shape, (out.dtype, exp.dtype)
        np.testing.assert_allclose(out.data, exp, equal_nan=True)


def _xfail(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=reason)


def test_array_divided_by_tensor_is_a_tensor_op():
    t = Tensor([1.0, 4.0], requires_grad=True)
    out = np.array([2.0, 2.0]) / t
    assert isinstance(out, Tensor)
    out.sum().backward()
    np.testing.assert_allclose(t.grad.data, [-2.0, -0.125])


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: -Tensor([True, False]), id="neg-bool"),
        pytest.param(lambda: Tensor([True]) - Tensor([False]), id="bool-minus-bool"),
    ],
)
def test_numpy_error_for_a_dtype_raises_a_tinygrad_fish_error(call):
    with pytest.raises(TinygradFishError):
        call()


def test_abs_of_bool():
    _raises_tinygrad_fish_error_or_matches(
        lambda: abs(Tensor([True, False])), np.abs(np.array([True, False]))
    )


@pytest.mark.parametrize(
    ("call", "dtype"),
    [
        pytest.param(lambda: Tensor(np.array([1, 2], np.int8)) * 2, np.int8, id="int8*2"),
        pytest.param(lambda: 1 + Tensor(np.array([1, 2], np.uint8)), np.uint8, id="1+uint8"),
        pytest.param(lambda: Tensor(np.array([1j], np.complex64)) + 2.0, np.complex64,
                     id="complex64+2.0"),
        pytest.param(lambda: tf.mean(Tensor(np.array([1j, 1], np.complex64))), np.complex64,
                     id="mean-complex64"),
    ],
)
def test_python_scalar_keeps_the_dtype_of_int_and_complex_tensors(call, dtype):
    assert call().dtype == dtype


def test_clip_without_bounds_raises_a_tinygrad_fish_error_or_copies():
    _raises_tinygrad_fish_error_or_matches(lambda: tf.clip(Tensor([1.0, -2.0]), None, None),
                                           np.array([1.0, -2.0]))


def test_transpose_refuses_axes_out_of_range():
    with pytest.raises(TinygradFishError):
        tf.transpose(Tensor(np.zeros((2, 3))), (3, 0))


@pytest.mark.parametrize(
    "index",
    [
        pytest.param(5, id="int-past-end"),
        pytest.param(np.array([0, 5]), id="array-past-end"),
        pytest.param((0, 0), id="too-many-indices"),
        pytest.param(1.5, id="float-index"),
    ],
)
def test_index_out_of_range_raises_a_tinygrad_fish_error(index):
    with pytest.raises(TinygradFishError):
        Tensor([1.0, 2.0])[index]


def test_class_index_out_of_range_raises_a_tinygrad_fish_error():
    with pytest.raises(TinygradFishError, match="out of range"):
        tf.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 3]))


def test_float16_mean_does_not_overflow():
    x = np.array([60000, 60000], np.float16)
    with np.errstate(all="ignore"):
        out = tf.mean(Tensor(x))
    assert out.dtype == np.float16
    np.testing.assert_allclose(out.data, np.mean(x), rtol=1e-3)


def test_int64_mean_does_not_wrap():
    x = np.array([2**62, 2**62], np.int64)
    np.testing.assert_allclose(tf.mean(Tensor(x)).data, np.mean(x))


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        pytest.param(lambda: tf.softmax(Tensor(np.array([-128, 127], np.int8))),
                     np.array([0.0, 1.0], np.float16), id="softmax-int8"),
        pytest.param(lambda: tf.logsumexp(Tensor(np.array([0, 255], np.uint8))),
                     np.float16(255.0), id="logsumexp-uint8"),
    ],
)
def test_softmax_family_of_small_ints_is_right_or_refused(call, expected):
    _raises_tinygrad_fish_error_or_matches(call, expected)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        pytest.param([-np.inf, -np.inf], -np.inf, id="all-minus-inf"),
        pytest.param([np.inf, 0.0], np.inf, id="plus-inf"),
    ],
)
def test_logsumexp_of_infinities(x, expected):
    with np.errstate(all="ignore"):
        assert tf.logsumexp(Tensor(x)).item() == expected


@_xfail("ops/linalg.py MatMul.forward uses np.dot for 2-D operands; for matrix-vector shapes "
        "BLAS gemv skips zero entries, so nan/inf * 0 gives 0 where numpy's matmul gives "
        "nan: matmul([[nan], [1]], [[0]]) is [[0], [0]] instead of [[nan], [0]]")
def test_matmul_propagates_nan_times_zero_like_numpy():
    a, b = np.array([[np.nan], [1.0]]), np.zeros((1, 1))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(tf.matmul(Tensor(a), Tensor(b)).data, np.matmul(a, b))


def test_cast_to_int_does_not_require_grad():
    x = Tensor([1.5, 2.5], requires_grad=True)
    assert not x.astype(np.int64).requires_grad


def test_backward_of_complex_output_is_refused():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * np.array([1j, 2.0])).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        with pytest.raises(TinygradFishError):
            y.backward()


def test_inplace_on_a_read_only_tensor_raises_a_tinygrad_fish_error():
    b = tf.broadcast_to(Tensor([1.0]), (3,))
    with pytest.raises(TinygradFishError):
        b += 1.0
