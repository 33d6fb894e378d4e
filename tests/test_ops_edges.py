"""Every op at the edge of its domain, against exact expected values.

The property tests in ``test_ops.py`` compare backprop with central differences, which only
works in the comfortable interior (no kinks, no ties, moderate magnitudes). Silent wrong
gradients live at the edges, so here every op is run on :func:`tinygrad_fish.testing`'s edge
domain -- zeros of both signs, ties, huge and tiny magnitudes, subnormals, soft targets,
non-contiguous views, float32 and float16 -- and its gradient is compared with the exact
derivative, computed independently in 60-digit decimal arithmetic and rounded, to a few
units in the last place.

Conventions where the math has no derivative (fixed here, documented on each op): ``relu``
and ``abs`` have gradient 0 at 0; ``clip`` passes the gradient at its bounds; ``max``/``min``
ties share it equally; ``x ** 0`` is the constant 1; ``d(0 ** b)/db`` is 0 for ``b >= 0``.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_fish as tf
from tinygrad_fish import Tensor
from tinygrad_fish.testing import (
    assert_close_ulp,
    assert_grad_equals,
    edge_arrays,
    non_contiguous,
    shapes,
    soft_targets,
)

CTX = decimal.Context(prec=60, Emax=10**7, Emin=-(10**7), traps=[])
FLOATS = [np.float64, np.float32, np.float16]
#: ulps allowed per dtype: one or two roundings in float64; numpy's float16/float32 math
#: rounds each intermediate step.
ULPS = {np.float64: 4, np.float32: 8, np.float16: 8}


def D(x: float) -> Decimal:
    return Decimal(float(x))


def to_float(d: Decimal) -> float:
    return float(d) if d.is_finite() or d.is_infinite() else math.nan


def sig(x: Decimal) -> Decimal:
    return CTX.divide(1, CTX.add(1, CTX.exp(-x)))


def tanh(x: Decimal) -> Decimal:
    if x > 200:
        return Decimal(1)
    if x < -200:
        return Decimal(-1)
    e = CTX.exp(2 * x)
    return CTX.divide(e - 1, e + 1)


def _inv_zero(x: float, sign: float = 1.0) -> float:
    """1 / x at x = +-0, as IEEE gives it: +-inf."""
    return math.copysign(math.inf, sign * math.copysign(1.0, x))


# op: (function, exact derivative at a float, the values it is defined on)
def d_log(x: float) -> float:
    return _inv_zero(x) if x == 0 else to_float(CTX.divide(1, D(x)))


def d_sqrt(x: float) -> float:
    if x < 0:
        return math.nan
    if x == 0:
        return _inv_zero(x)
    return to_float(CTX.divide(1, 2 * CTX.sqrt(D(x))))


def d_sigmoid(x: float) -> float:
    s = sig(D(x))
    return to_float(s * (1 - s))


def d_tanh(x: float) -> float:
    t = tanh(D(x))
    return to_float(1 - t * t)


UNARY: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[float], float]]] = {
    "neg": (lambda t: -t, lambda x: -1.0),
    "exp": (lambda t: t.exp(), lambda x: to_float(CTX.exp(D(x)))),
    "log": (lambda t: t.log(), d_log),
    "sqrt": (lambda t: t.sqrt(), d_sqrt),
    "abs": (lambda t: t.abs(), lambda x: 0.0 if x == 0 else math.copysign(1.0, x)),
    "relu": (lambda t: t.relu(), lambda x: 1.0 if x > 0 else 0.0),
    "sigmoid": (lambda t: t.sigmoid(), d_sigmoid),
    "tanh": (lambda t: t.tanh(), d_tanh),
    "clip": (lambda t: t.clip(-1.0, 1.0), lambda x: 1.0 if -1 <= x <= 1 else 0.0),
}
MP = mpmath.mp.clone() if hasattr(mpmath.mp, "clone") else mpmath.mp
MP.prec = 200


def _mp(f: Callable[[Any], Any]) -> Callable[[float], float]:
    """The float of an mpmath expression of x, nan where it is not real."""

    def d(x: float) -> float:
        v = f(MP.mpf(x))
        if isinstance(v, mpmath.mpc):
            if v.imag != 0:
                return math.nan
            v = v.real
        return float(v)

    return d


def _div0(num: float, den: Any, x: float = 1.0) -> float:
    """num / den, and where den is 0 the IEEE answer: inf with the sign of num times the
    sign of ``x`` (mpmath has no -0)."""
    if den == 0:
        return math.copysign(math.inf, num * math.copysign(1.0, x)) if num else math.nan
    return float(MP.mpf(num) / den)


UNARY.update({
    "sin": (lambda t: tf.sin(t), _mp(MP.cos)),
    "cos": (lambda t: tf.cos(t), _mp(lambda x: -MP.sin(x))),
    "tan": (lambda t: tf.tan(t), _mp(lambda x: 1 + MP.tan(x) ** 2)),
    "arcsin": (lambda t: tf.arcsin(t),
               lambda x: _div0(1.0, MP.sqrt((1 - MP.mpf(x)) * (1 + MP.mpf(x))))
               if abs(x) <= 1 else math.nan),
    "arccos": (lambda t: tf.arccos(t),
               lambda x: _div0(-1.0, MP.sqrt((1 - MP.mpf(x)) * (1 + MP.mpf(x))))
               if abs(x) <= 1 else math.nan),
    "arctan": (lambda t: tf.arctan(t), _mp(lambda x: 1 / (1 + x * x))),
    "sinh": (lambda t: tf.sinh(t), _mp(MP.cosh)),
    "cosh": (lambda t: tf.cosh(t), _mp(MP.sinh)),
    "arcsinh": (lambda t: tf.arcsinh(t), _mp(lambda x: 1 / MP.sqrt(x * x + 1))),
    "arccosh": (lambda t: tf.arccosh(t),
                lambda x: _div0(1.0, MP.sqrt(MP.mpf(x) - 1) * MP.sqrt(MP.mpf(x) + 1))
                if x >= 1 else math.nan),
    # outside (-1, 1) arctanh is nan and its gradient the formula's number (PyTorch's, and
    # the same rule as log's 1/x for x < 0)
    "arctanh": (lambda t: tf.arctanh(t),
                lambda x: _div0(1.0, (1 - MP.mpf(x)) * (1 + MP.mpf(x)))),
    "log1p": (lambda t: tf.log1p(t), lambda x: _div0(1.0, 1 + MP.mpf(x))),
    "expm1": (lambda t: tf.expm1(t), _mp(MP.exp)),
    "exp2": (lambda t: tf.exp2(t), _mp(lambda x: MP.power(2, x) * MP.log(2))),
    "log2": (lambda t: tf.log2(t), lambda x: _div0(1.0, MP.mpf(x) * MP.log(2), x)),
    "log10": (lambda t: tf.log10(t), lambda x: _div0(1.0, MP.mpf(x) * MP.log(10), x)),
    "cbrt": (lambda t: tf.cbrt(t),
             lambda x: math.inf if x == 0 else float(
                 1 / (3 * MP.cbrt(abs(MP.mpf(x))) ** 2))),
    "sign": (lambda t: tf.sign(t), lambda x: 0.0),
    "floor": (lambda t: tf.floor(t), lambda x: 0.0),
    "ceil": (lambda t: tf.ceil(t), lambda x: 0.0),
    "trunc": (lambda t: tf.trunc(t), lambda x: 0.0),
    "round": (lambda t: tf.round(t), lambda x: 0.0),
})
#: absolute slack where the derivative is computed from a rounded output near 1
#: (1 - tanh(x)**2 at large |x|, as PyTorch), or from an argument that rounds (1 - x near
#: 1): a few eps of the dtype.
UNARY_ATOL = {"tanh": 4.0, "tan": 4.0}


def _reference(fn: Callable[[float], float], x: np.ndarray, dtype: type) -> np.ndarray:
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return np.array([fn(float(v)) for v in x.ravel()], dtype=np.float64).astype(
            dtype).astype(np.float64).reshape(x.shape)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", list(UNARY))
@given(data=st.data())
def test_unary_gradient_at_the_edges_is_exact(op, dtype, data):
    fn, deriv = UNARY[op]
    x = data.draw(edge_arrays(shapes(max_dims=2, max_side=6), dtype=dtype))
    expected = _reference(deriv, x, dtype)
    atol = UNARY_ATOL.get(op, 0.0) * float(np.finfo(dtype).eps)
    with np.errstate(all="ignore"):
        assert_grad_equals(fn, [x], [expected], ulps=ULPS[dtype], atol=atol)


def d_pow_const(c: float) -> Callable[[float], float]:
    def d(x: float) -> float:
        if c == 0:
            return 0.0
        if c == 1:
            return 1.0
        if x == 0:
            e = c - 1
            if e > 0:
                return 0.0
            odd = float(e).is_integer() and int(e) % 2 == 1
            return math.copysign(math.inf, c * (math.copysign(1.0, x) if odd else 1.0))
        if x < 0 and not float(c).is_integer():
            return math.nan
        return to_float(D(c) * CTX.power(D(x), D(c - 1)))

    return d


@pytest.mark.parametrize("c", [0, 1, 2, 3, -1, -2, 0.5, 1.5])
@given(data=st.data())
def test_pow_constant_exponent_gradient_at_the_edges_is_exact(c, data):
    x = data.draw(edge_arrays(shapes(max_dims=2, max_side=6)))
    expected = _reference(d_pow_const(c), x, np.float64)
    with np.errstate(all="ignore"):
        assert_grad_equals(lambda t: t**c, [x], [expected], ulps=4)


def test_pow_second_derivatives_at_base_zero_are_exact():
    # d(x**0)/dx, d2(x**1)/dx2 and d2(x**2)/dx2 at 0 are 0, 0 and 2 exactly.
    for c, first, second in [(0, 0.0, 0.0), (1, 1.0, 0.0), (2, 0.0, 2.0)]:
        x = Tensor(0.0, requires_grad=True)
        (g,) = tf.grad(x**c, x, create_graph=True)
        assert g.item() == first
        (gg,) = tf.grad(g, x, allow_unused=True) if g.requires_grad else (Tensor(0.0),)
        assert (0.0 if gg is None else gg.item()) == second


POW_B = [0.0, 1.0, 2.0, 3.0, 0.5, -1.0]


def d_pow_base(a: float, b: float) -> float:
    if b == 0:
        return 0.0
    if a == 0:
        return d_pow_const(b)(a)
    return to_float(D(b) * CTX.power(D(a), D(b - 1)))


def d_pow_exponent(a: float, b: float) -> float:
    if a == 0:
        return 0.0 if b >= 0 else math.nan
    return to_float(CTX.power(D(a), D(b)) * CTX.ln(D(a)))


@given(data=st.data())
def test_pow_tensor_exponent_gradients_at_base_zero_and_huge_are_exact(data):
    a = data.draw(edge_arrays((5,), min_value=0.0))
    b = np.array(data.draw(st.lists(st.sampled_from(POW_B), min_size=5, max_size=5)))
    with np.errstate(all="ignore"):
        da = np.array([d_pow_base(float(p), float(q)) for p, q in zip(a, b, strict=True)])
        db = np.array([d_pow_exponent(float(p), float(q)) for p, q in zip(a, b, strict=True)])
        # numpy's 0.0 ** -1.0 is inf, its 0 * log(0) path is handled by the op: the
        # reference is the math, the op must give it
        assert_grad_equals(lambda x, y: x**y, [a, b], [da, db], ulps=6)


BINARY: dict[str, tuple[Callable[[Tensor, Tensor], Tensor],
                        Callable[[Fraction, Fraction], tuple[Fraction, Fraction]]]] = {
    "add": (lambda a, b: a + b, lambda a, b: (Fraction(1), Fraction(1))),
    "sub": (lambda a, b: a - b, lambda a, b: (Fraction(1), Fraction(-1))),
    "mul": (lambda a, b: a * b, lambda a, b: (b, a)),
    "div": (lambda a, b: a / b, lambda a, b: (1 / b, -a / (b * b))),
}


def _round(q: Fraction) -> float:
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


@pytest.mark.parametrize("op", list(BINARY))
@given(data=st.data())
def test_binary_gradients_at_the_edges_are_exact(op, data):
    fn, deriv = BINARY[op]
    a = data.draw(edge_arrays((6,)))
    b = data.draw(edge_arrays((6,)))
    if op == "div":
        b[b == 0] = 1.0  # division by zero has no finite derivative to compare with
    da, db = [], []
    for p, q in zip(a.tolist(), b.tolist(), strict=True):
        x, y = deriv(Fraction(p), Fraction(q))
        da.append(_round(x))
        db.append(_round(y))
    slack = 0.0
    if op == "div":
        # (a / b) / b rounds a / b first: if that lands among the subnormals, it keeps only
        # the subnormals' absolute precision (as PyTorch's formula does).
        slack = float(np.max(2.0**-1074 / np.abs(b) * 4))
    with np.errstate(all="ignore"):
        assert_grad_equals(fn, [a, b], [np.array(da), np.array(db)], ulps=4, atol=slack)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
@given(data=st.data())
def test_maximum_minimum_gradients_at_ties_and_extremes_are_exact(op, data):
    a = data.draw(edge_arrays((6,)))
    b = data.draw(st.one_of(edge_arrays((6,)), st.just(a.copy())))  # ties, often
    win = a > b if op == "maximum" else a < b
    wa = np.where(a == b, 0.5, win.astype(np.float64))
    assert_grad_equals(getattr(tf, op), [a, b], [wa, 1 - wa], ulps=0)


def _mp_grads(fn: Callable[[Any, Any], tuple[Any, Any]], a: np.ndarray, b: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    ga, gb = [], []
    for p, q in zip(a.tolist(), b.tolist(), strict=True):
        x, y = fn(MP.mpf(p), MP.mpf(q))
        ga.append(float(x))
        gb.append(float(y))
    return np.array(ga), np.array(gb)


def _hypot_grad(p: Any, q: Any) -> tuple[Any, Any]:
    r = MP.sqrt(p * p + q * q)
    return (0, 0) if r == 0 else (p / r, q / r)


def _atan2_grad(p: Any, q: Any) -> tuple[Any, Any]:
    r2 = p * p + q * q
    return (MP.nan, MP.nan) if r2 == 0 else (q / r2, -p / r2)


def _logaddexp_grad(p: Any, q: Any) -> tuple[Any, Any]:
    s = 1 / (1 + MP.exp(q - p))
    return s, 1 - s


@pytest.mark.parametrize("op", ["hypot", "arctan2", "logaddexp"])
@given(data=st.data())
def test_hypot_arctan2_logaddexp_gradients_at_the_edges_are_exact(op, data):
    a = data.draw(edge_arrays((6,)))
    b = data.draw(edge_arrays((6,)))
    ref = {"hypot": _hypot_grad, "arctan2": _atan2_grad, "logaddexp": _logaddexp_grad}[op]
    ga, gb = _mp_grads(ref, a, b)
    with np.errstate(all="ignore"):
        assert_grad_equals(getattr(tf, op), [a, b], [ga, gb], ulps=4,
                           atol=4 * 2**-52 if op == "logaddexp" else 0.0)


def test_div_gradient_regressions_from_review():
    # b * b under/overflowed: a=1e-300, b=1e-170 gave -inf; float32 a=b=1e20 gave -0.0.
    assert_grad_equals(lambda a, b: a / b, [np.array(1e-300), np.array(1e-170)],
                       [None, np.array(-1e40)], ulps=4)
    a32 = np.array(1e20, dtype=np.float32)
    assert_grad_equals(lambda a, b: a / b, [a32, a32.copy()],
                       [None, np.array(np.float32(-1e-20))], ulps=4)


# --- reductions with ties --------------------------------------------------------------------
@pytest.mark.parametrize("op", ["max", "min"])
@given(data=st.data())
def test_max_min_ties_share_the_gradient_exactly(op, data):
    x = data.draw(edge_arrays(shapes(min_dims=1, max_dims=3, max_side=4)))
    axis = data.draw(st.sampled_from([None, *range(x.ndim)]))
    red = getattr(np, op)(x, axis=axis, keepdims=True)
    hit = (x == red).astype(np.float64)
    expected = hit / hit.sum(axis=axis, keepdims=True)
    assert_grad_equals(lambda t: getattr(t, op)(axis=axis), [x], [expected], ulps=0)


@pytest.mark.parametrize("op", ["sum", "mean"])
@given(data=st.data())
def test_sum_mean_gradients_are_exact_whatever_the_values(op, data):
    x = data.draw(edge_arrays(shapes(min_dims=1, max_dims=3, max_side=4)))
    axis = data.draw(st.sampled_from([None, *range(x.ndim)]))
    n = x.size if axis is None else x.shape[axis]
    expected = np.full(x.shape, 1.0 if op == "sum" else 1.0 / n)
    with np.errstate(all="ignore"):
        assert_grad_equals(lambda t: getattr(t, op)(axis=axis), [x], [expected], ulps=1)


# --- softmax family at huge logits and ties --------------------------------------------------
def _exact_log_softmax(row: list[float]) -> list[Decimal]:
    m = max(D(v) for v in row)
    lse = CTX.ln(sum((CTX.exp(D(v) - m) for v in row), Decimal(0)))
    return [D(v) - m - lse for v in row]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(data=st.data())
def test_log_softmax_value_and_gradient_at_huge_logits_are_exact(dtype, data):
    x = data.draw(edge_arrays((2, 4), dtype=dtype, min_value=-1e30, max_value=1e30))
    w = data.draw(st.lists(st.sampled_from([-1.0, 0.5, 1.0, 2.0]), min_size=8, max_size=8))
    w = np.array(w).reshape(2, 4).astype(dtype)
    logp = [_exact_log_softmax(r) for r in x.tolist()]
    value = np.array([[to_float(v) for v in r] for r in logp])
    # d/dx sum(w * log_softmax(x)) = w - softmax(x) * sum(w)
    grad = np.array([[float(D(wj) - CTX.exp(lp) * sum(D(v) for v in wr))
                      for wj, lp in zip(wr, r, strict=True)]
                     for wr, r in zip(w.tolist(), logp, strict=True)])
    eps = float(np.finfo(dtype).eps)
    out = tf.log_softmax(Tensor(x), axis=1)
    assert_close_ulp(out.data, value.astype(dtype), ulps=4, atol=4 * eps)
    assert_grad_equals(lambda t: tf.log_softmax(t, axis=1), [x], [grad], grad_output=w,
                       ulps=4, atol=16 * eps)


def test_log_softmax_regressions_from_review():
    x = np.array([3e4, 3e4 + 1, 3e4 - 2], dtype=np.float32)
    exact = np.array([to_float(v) for v in _exact_log_softmax(x.tolist())])
    assert_close_ulp(tf.log_softmax(Tensor(x)).data, exact.astype(np.float32), ulps=2)
    half = -math.log(2)
    assert_close_ulp(tf.log_softmax(Tensor([1e17, 1e17])).data, [half, half], ulps=1)


@given(data=st.data())
def test_softmax_and_logsumexp_gradients_at_huge_logits_are_exact(data):
    x = data.draw(edge_arrays((2, 4), min_value=-1e300, max_value=1e300))
    p = [[CTX.exp(v) for v in _exact_log_softmax(r)] for r in x.tolist()]
    prob = np.array([[to_float(v) for v in r] for r in p])
    assert_grad_equals(lambda t: tf.logsumexp(t, axis=1), [x], [prob], ulps=4,
                       atol=4 * 2**-52)
    w = np.array([[1.0, -2.0, 0.5, 3.0], [0.0, 1.0, 1.0, -1.0]])
    # d/dx sum(w * softmax(x)) = p * (w - sum(w * p))
    grad = np.array([[to_float(pj * (D(wj) - sum(D(wk) * pk for wk, pk in
                                                  zip(wr, r, strict=True))))
                      for wj, pj in zip(wr, r, strict=True)]
                     for wr, r in zip(w.tolist(), p, strict=True)])
    assert_grad_equals(lambda t: tf.softmax(t, axis=1), [x], [grad], grad_output=w,
                       ulps=4, atol=16 * 2**-52)


# --- cross-entropy with soft targets ---------------------------------------------------------
def _exact_cross_entropy_grad(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    rows = []
    for xr, tr in zip(x.tolist(), t.tolist(), strict=True):
        logp = _exact_log_softmax(xr)
        s = sum((D(v) for v in tr), Decimal(0))
        rows.append([to_float((CTX.exp(lp) * s - D(tv)) / n)
                     for lp, tv in zip(logp, tr, strict=True)])
    return np.array(rows)


@pytest.mark.parametrize("create_graph", [False, True])
@given(data=st.data())
def test_cross_entropy_soft_targets_gradient_is_exact(create_graph, data):
    t = data.draw(soft_targets((3, 4)))
    x = data.draw(edge_arrays((3, 4), min_value=-1e6, max_value=1e6))
    expected = _exact_cross_entropy_grad(x, t)
    xt = Tensor(x, requires_grad=True)
    loss = tf.cross_entropy(xt, t)
    (g,) = tf.grad(loss, xt, create_graph=create_graph)
    scale = max(1.0, float(np.abs(t).sum(axis=1).max()))
    assert_close_ulp(g.data, expected, ulps=4, atol=8 * 2**-52 * scale)


def test_cross_entropy_soft_target_regression_from_review():
    x = np.array([[1.0, 2, 3], [0.5, 0.1, -1]])
    t = np.array([[0.0, 0, 0], [0.5, 0.5, 0.5]])
    expected = _exact_cross_entropy_grad(x, t)
    assert expected[0].tolist() == [0.0, 0.0, 0.0]
    # (p * 1.5 - 0.5) / 2 cancels: allow eps of the terms, not of the difference
    assert_grad_equals(lambda v: tf.cross_entropy(v, t), [x], [expected], ulps=4,
                       atol=4 * 2**-52)
    assert tf.gradcheck(lambda v: tf.cross_entropy(v, t), [Tensor(x, requires_grad=True)])


# --- matmul with zeros and huge values -------------------------------------------------------
@given(data=st.data())
def test_matmul_gradients_at_the_edges_are_exact(data):
    a = data.draw(edge_arrays((3, 2), min_value=-1e150, max_value=1e150))
    b = data.draw(edge_arrays((2, 4), min_value=-1e150, max_value=1e150))
    g = np.ones((3, 4))
    da = np.array([[_round(sum(Fraction(v) for v in b[k].tolist())) for k in range(2)]
                   for _ in range(3)])
    db = np.array([[_round(sum(Fraction(v) for v in a[:, k].tolist())) for _ in range(4)]
                   for k in range(2)])
    # the sums may be rounded in any order: allow eps times the sum of magnitudes
    atol_a = 4 * 2**-52 * float(np.abs(b).sum(axis=1).max())
    atol_b = 4 * 2**-52 * float(np.abs(a).sum(axis=0).max())
    at, bt = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    (at @ bt).backward(g)
    assert_close_ulp(at.grad.data, da, ulps=4, atol=atol_a)
    assert_close_ulp(bt.grad.data, db, ulps=4, atol=atol_b)


# --- layouts: a view gives the same gradient as a contiguous copy ----------------------------
LAYOUT_OPS: dict[str, Callable[[Tensor], Tensor]] = {
    "mul": lambda t: t * t,
    "div": lambda t: 1.0 / (t * t + 1),
    "exp": lambda t: (t * 1e-300).exp(),
    "sigmoid": lambda t: t.sigmoid(),
    "tanh": lambda t: t.tanh(),
    "relu": lambda t: t.relu(),
    "abs": lambda t: t.abs(),
    "pow": lambda t: t**3,
    "sum": lambda t: t.sum(axis=-1) if t.ndim else t.sum(),
    "max": lambda t: t.max(axis=0) if t.ndim else t.max(),
    "transpose": lambda t: t.T * 2,
    "reshape": lambda t: t.reshape(-1) * 2,
    "getitem": lambda t: (t[..., ::-1] * 3) if t.ndim else t * 3,
    "softmax": lambda t: t.softmax(axis=-1) if t.ndim else t * 1,
    "log_softmax": lambda t: t.log_softmax(axis=-1) if t.ndim else t * 1,
}


@pytest.mark.parametrize("op", list(LAYOUT_OPS))
@given(data=st.data())
def test_gradient_does_not_depend_on_memory_layout(op, data):
    base = edge_arrays(shapes(min_dims=1, max_dims=3, max_side=4), min_value=-1e10,
                       max_value=1e10)
    view = data.draw(non_contiguous(base))
    fn = LAYOUT_OPS[op]
    with np.errstate(all="ignore"):
        grads = []
        for arr in (view, np.ascontiguousarray(view)):
            t = Tensor(arr, requires_grad=True)
            out = fn(t)
            out.backward(np.ones(out.shape))
            grads.append(t.grad.data)
    np.testing.assert_array_equal(grads[0], grads[1])


def test_matmul_gradient_on_a_transposed_view_equals_the_contiguous_one():
    rng = np.random.default_rng(0)
    a = np.asfortranarray(rng.standard_normal((5, 3)))
    w = rng.standard_normal((3, 4))
    grads = []
    for arr in (a, np.ascontiguousarray(a)):
        t = Tensor(arr, requires_grad=True)
        (t @ w).sum().backward()
        grads.append(t.grad.data)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-15, atol=0)


# --- odd dtypes: gradients keep the input's dtype --------------------------------------------
DTYPE_OPS: dict[str, Callable[[Tensor], Tensor]] = {
    "mul": lambda t: t * t,
    "div": lambda t: 1.0 / (t * t + 1),
    "exp": lambda t: t.exp(),
    "log": lambda t: t.log(),
    "sigmoid": lambda t: t.sigmoid(),
    "tanh": lambda t: t.tanh(),
    "pow": lambda t: t**3,
    "pow_tensor": lambda t: t**t,
    "sum": lambda t: t.sum(axis=-1),
    "max": lambda t: t.max(axis=0),
    "softmax": lambda t: t.softmax(axis=-1),
    "log_softmax": lambda t: t.log_softmax(axis=-1),
    "logsumexp": lambda t: tf.logsumexp(t, axis=-1),
    "matmul": lambda t: t @ t.T,
    "cross_entropy": lambda t: tf.cross_entropy(t, np.array([0, 3, 1])),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("op", list(DTYPE_OPS))
def test_gradients_keep_the_input_dtype_and_match_float64(op, dtype):
    rng = np.random.default_rng(1)
    x64 = rng.uniform(0.5, 2.0, (3, 4))
    fn = DTYPE_OPS[op]
    out = {}
    for dt in (np.float64, dtype):
        t = Tensor(x64.astype(dtype).astype(dt), requires_grad=True)
        y = fn(t)
        w = np.random.default_rng(2).uniform(-1.5, 1.5, y.shape).astype(dtype).astype(dt)
        y.backward(w)
        assert t.grad.dtype == dt
        out[dt] = t.grad.data
    eps = float(np.finfo(dtype).eps)
    ref = out[np.float64]
    np.testing.assert_allclose(out[dtype].astype(np.float64), ref, rtol=64 * eps,
                               atol=64 * eps * float(np.abs(ref).max()))
