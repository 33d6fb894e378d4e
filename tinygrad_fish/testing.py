"""Hypothesis strategies and assertions for property-testing gradients — yours and ours.

The project's own tests use exactly these. A complete test of a new op is three lines::

    from hypothesis import given
    from tinygrad_fish.testing import arrays, assert_grad_matches

    @given(arrays())
    def test_cube(x):
        assert_grad_matches(lambda t: Cube.apply(t), x)

The strategies draw float64 arrays of drawn shapes (0-d to 4-d by default), pairs of shapes
that broadcast together, values kept away from kinks (``avoid=(0.0,)`` for ReLU or abs),
positive values for ``log`` and ``sqrt``, and well-separated values so that a ``max`` has
no ties within the finite-difference step.

Those keep central differences honest, which is also why they stay in the comfortable
interior. Silent wrong gradients live at the edges, so the edge domain has strategies of
its own, checked against exact expected values rather than central differences
(:func:`assert_grad_equals`):

- :func:`edge_arrays`: zeros (both signs), ties, huge and tiny magnitudes, subnormals, in
  any float dtype;
- :func:`soft_targets`: cross-entropy targets that are not one-hot (rows of zeros,
  multi-hot rows, probabilities, arbitrary weights);
- :func:`non_contiguous`: the same values as a transposed, strided, reversed or broadcast
  view, to check that an op's gradient does not depend on memory layout.

Requires Hypothesis, an optional dependency (``pip install 'tinygrad-fish[testing]'``);
without it, importing this module raises
:class:`~tinygrad_fish.errors.MissingDependencyError` saying so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ._optional import install_hint
from .errors import MissingDependencyError

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as e:
    raise MissingDependencyError(
        f"tinygrad_fish.testing needs hypothesis, an optional dependency that is not "
        f"installed ({e}): {install_hint('hypothesis')}"
    ) from e

from .numerical import gradcheck, gradgradcheck
from .tensor import Tensor

__all__ = [
    "arrays",
    "assert_close_ulp",
    "assert_grad_equals",
    "assert_grad_matches",
    "assert_gradgrad_matches",
    "broadcastable_shapes",
    "distinct_arrays",
    "edge_arrays",
    "edge_values",
    "non_contiguous",
    "positive_arrays",
    "shapes",
    "soft_targets",
    "tensors",
]

Array = npt.NDArray[np.float64]


def shapes(
    min_dims: int = 0, max_dims: int = 4, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes with ``min_dims``..``max_dims`` axes of ``min_side``..``max_side``."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    num_shapes: int = 2,
    min_dims: int = 0,
    max_dims: int = 4,
    min_side: int = 1,
    max_side: int = 4,
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together under numpy's rules
    (with added leading axes and size-1 axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes,
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda bs: tuple(bs.input_shapes))


def _push_away(avoid: Sequence[float], margin: float) -> Callable[[float], float]:
    def push(x: float) -> float:
        for a in avoid:
            if abs(x - a) < margin:
                return a + math.copysign(margin, x - a if x != a else 1.0)
        return x

    return push


def arrays(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    min_value: float = -3.0,
    max_value: float = 3.0,
    avoid: Sequence[float] = (),
    margin: float = 1e-2,
) -> st.SearchStrategy[Array]:
    """float64 arrays with values in [min_value, max_value], none closer than ``margin``
    to a point in ``avoid`` (kinks such as 0 for ReLU and abs).

    Args:
        shape: a shape, a strategy of shapes, or None for :func:`shapes` ().
        min_value, max_value: the range of the values.
        avoid: points the values keep ``margin`` away from.
        margin: the smallest distance to those points; keep it well above the
            finite-difference step of the gradient check.
    """
    elements = st.floats(
        min_value, max_value, allow_nan=False, allow_infinity=False, allow_subnormal=False
    )
    if avoid:
        elements = elements.map(_push_away(avoid, margin))
    return hnp.arrays(np.float64, shapes() if shape is None else shape, elements=elements)


def positive_arrays(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    min_value: float = 0.1,
    max_value: float = 4.0,
) -> st.SearchStrategy[Array]:
    """float64 arrays with values in [min_value, max_value]: away from the edge of the
    domain of ``log``, ``sqrt``, ``x ** y``, and from division by numbers near 0."""
    return arrays(shape, min_value=min_value, max_value=max_value)


def distinct_arrays(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    gap: float = 1e-2,
    max_value: float = 3.0,
) -> st.SearchStrategy[Array]:
    """float64 arrays whose values differ pairwise by at least ``gap`` and are never 0:
    ``max``/``min`` have no ties and ReLU no kink within a finite-difference step.

    Values are multiples of ``gap`` in [-max_value, max_value]; the array may hold at most
    ``2 * max_value / gap`` elements (600 by default, more than a 4-d array of side 4).

    Raises:
        ValueError: a shape with more elements than that (at once for a fixed ``shape``,
            when drawing for a strategy of shapes).
    """
    k = int(max_value / gap)

    def build(shp: tuple[int, ...]) -> st.SearchStrategy[Array]:
        n = int(np.prod(shp))
        if n > 2 * k:
            raise ValueError(f"distinct_arrays: {n} elements cannot be {gap} apart")
        ints = st.integers(1, k).flatmap(lambda m: st.sampled_from([-m, m]))
        return hnp.arrays(np.int64, shp, elements=ints, unique=True).map(
            lambda a: a.astype(np.float64) * gap
        )

    shape_st = shapes() if shape is None else shape
    if isinstance(shape_st, tuple):
        return build(shape_st)
    return shape_st.flatmap(build)


def tensors(
    elements: st.SearchStrategy[Array] | None = None, requires_grad: bool = True
) -> st.SearchStrategy[Tensor]:
    """Tensors around arrays drawn from ``elements`` (default :func:`arrays` ())."""
    return (arrays() if elements is None else elements).map(
        lambda a: Tensor(a, requires_grad=requires_grad)
    )


def _as_inputs(inputs: Sequence[Any]) -> list[Tensor]:
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            out.append(x if x.dtype == np.float64 else Tensor(x.data, dtype=np.float64,
                                                                requires_grad=x.requires_grad))
        else:
            out.append(Tensor(np.array(x, dtype=np.float64), requires_grad=True))
    return out


def assert_grad_matches(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
) -> None:
    """Assert that backprop through ``fn`` equals the central-difference gradient.

    Args:
        fn: a function of Tensors returning a Tensor of any shape.
        inputs: arrays (made float64 Tensors that require grad) or Tensors (checked when
            they require grad).
        eps, atol, rtol: as :func:`tinygrad_fish.gradcheck`.

    Raises:
        GradcheckError: the input, the worst element, and both values.
        ValueError: no input requires grad (only Tensors that do not were given).
        TypeError: ``fn`` does not return a Tensor.
        DTypeError: a Tensor input whose values cannot be made float64 (complex).
    """
    gradcheck(fn, _as_inputs(inputs), eps=eps, atol=atol, rtol=rtol)


def assert_gradgrad_matches(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> None:
    """Assert that second derivatives (backprop of backprop, ``create_graph=True``) of ``fn``
    equal central differences of its first derivatives.

    Raises:
        GradcheckError: the input, the worst element, and both values.
        ValueError: no input requires grad (only Tensors that do not were given).
        TypeError: ``fn`` does not return a Tensor.
        DTypeError: a Tensor input whose values cannot be made float64 (complex).
        GraphError: ``fn``'s output does not depend on the inputs through the graph.
    """
    gradgradcheck(fn, _as_inputs(inputs), eps=eps, atol=atol, rtol=rtol)


# ---------------------------------------------------------------------------------------------
# The edge domain
# ---------------------------------------------------------------------------------------------
def edge_values(dtype: npt.DTypeLike = np.float64) -> list[float]:
    """The special values of a float dtype, both signs: 0, the smallest subnormal, a
    subnormal, the smallest normal, tiny and huge powers of ten, 0.5, 1, 2, the largest
    finite value and its half. (No inf or nan: those are domains of their own.)"""
    fi = np.finfo(dtype)
    tiny_sub = float(fi.smallest_subnormal)
    mags = [
        0.0, tiny_sub, tiny_sub * 2**10, float(fi.smallest_normal),
        float(fi.smallest_normal) * 2**20, float(fi.eps), 0.5, 1.0, 2.0,
        float(fi.max) / 2**20, float(fi.max) / 2, float(fi.max),
    ]
    # a tiny and a huge power of ten well inside the range (1e-300 / 1e300 in float64)
    exp10 = int(np.floor(np.log10(float(fi.max)))) - 8
    mags += [10.0 ** -exp10, 10.0 ** exp10]
    pos = sorted({float(np.asarray(m, dtype=dtype)) for m in mags} - {0.0})
    return [*(-v for v in reversed(pos)), -0.0, 0.0, *pos]


def edge_arrays(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    dtype: npt.DTypeLike = np.float64,
    min_value: float | None = None,
    max_value: float | None = None,
) -> st.SearchStrategy[npt.NDArray[Any]]:
    """Arrays of ``dtype`` whose values come from the edge domain: the :func:`edge_values`
    of the dtype and a few ordinary numbers, drawn from a small pool so that ties (equal
    values) are common. ``min_value``/``max_value`` restrict the pool (e.g. ``0.0`` for
    ``log``).

    Raises:
        ValueError: the bounds leave no value in the pool.
    """
    values = [float(np.asarray(v, dtype=dtype))
              for v in (*edge_values(dtype), -3.0, -1.5, -0.25, 0.25, 1.5, 3.0)]
    # distinct values, -0.0 kept apart from 0.0
    pool = [v for v, _ in sorted({(v, math.copysign(1.0, v)) for v in values})]
    if min_value is not None:
        pool = [v for v in pool if v >= min_value]
    if max_value is not None:
        pool = [v for v in pool if v <= max_value]
    if not pool:
        raise ValueError(f"edge_arrays: no edge value lies in [{min_value}, {max_value}]")
    # Hypothesis favours the first choices of a sampled_from; split the pool by kind so
    # that every kind (huge, tiny, zero, ordinary), and every value within it, comes up
    # often even in a few examples.
    fi = np.finfo(dtype)
    kinds = [
        [v for v in pool if abs(v) >= 2 ** (fi.maxexp // 2)],       # huge
        [v for v in pool if 0 < abs(v) <= 2 ** (fi.minexp // 2)],   # tiny and subnormal
        [v for v in pool if v == 0],                                 # both zeros
        [v for v in pool if 2 ** (fi.minexp // 2) < abs(v) < 2 ** (fi.maxexp // 2)],
    ]
    elements = st.one_of(*(st.sampled_from(k) for k in kinds if k))
    return hnp.arrays(np.dtype(dtype), shapes() if shape is None else shape,
                      elements=elements)


def soft_targets(
    shape: tuple[int, int] | st.SearchStrategy[tuple[int, int]] = (3, 4),
    dtype: npt.DTypeLike = np.float64,
) -> st.SearchStrategy[npt.NDArray[Any]]:
    """Cross-entropy targets of shape (N, C) that are not (only) one-hot: each row is one
    of zeros, one-hot, multi-hot (several 1s), probabilities (summing to 1) or arbitrary
    non-negative weights (summing to anything)."""

    def row(c: int) -> st.SearchStrategy[list[float]]:
        weights = st.lists(st.floats(0.0, 3.0, allow_subnormal=False), min_size=c,
                           max_size=c)
        zeros = st.just([0.0] * c)
        one_hot = st.integers(0, c - 1).map(lambda k: [float(i == k) for i in range(c)])
        multi_hot = st.lists(st.sampled_from([0.0, 1.0]), min_size=c, max_size=c)
        probs = weights.filter(lambda w: sum(w) > 0).map(lambda w: [v / sum(w) for v in w])
        return st.one_of(zeros, one_hot, multi_hot, probs, weights)

    def build(shp: tuple[int, int]) -> st.SearchStrategy[npt.NDArray[Any]]:
        n, c = shp
        return st.lists(row(c), min_size=n, max_size=n).map(
            lambda rows: np.array(rows, dtype=dtype).reshape(n, c))

    return shape.flatmap(build) if isinstance(shape, st.SearchStrategy) else build(shape)


def non_contiguous(
    arrays: st.SearchStrategy[npt.NDArray[Any]],
) -> st.SearchStrategy[npt.NDArray[Any]]:
    """The same values as the arrays drawn from ``arrays``, laid out differently in memory:
    Fortran order (a transposed view), every other element of a bigger array (strided),
    reversed twice (negative strides), or, for arrays whose elements are all equal, a
    read-only broadcast of one element. An op's gradient must not depend on the layout."""

    def fortran(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.asfortranarray(a)

    def strided(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if a.ndim == 0:
            return a
        big = np.zeros((*a.shape[:-1], 2 * a.shape[-1]), dtype=a.dtype)
        big[..., ::2] = a
        return big[..., ::2]

    def reversed_twice(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if a.ndim == 0:
            return a
        return np.ascontiguousarray(a[..., ::-1])[..., ::-1]

    def broadcast(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if a.size and (a == a.flat[0]).all() and not np.isnan(a).any():
            return np.broadcast_to(a.flat[:1].reshape((1,) * a.ndim), a.shape)
        return strided(a)

    return st.tuples(arrays, st.sampled_from([fortran, strided, reversed_twice, broadcast])
                     ).map(lambda pair: pair[1](pair[0]))


def assert_close_ulp(
    actual: npt.ArrayLike, expected: npt.ArrayLike, ulps: float = 4, atol: float = 0.0,
    what: str = "values",
) -> None:
    """Assert ``actual`` equals ``expected`` within ``ulps`` units in the last place of
    ``actual``'s dtype (plus ``atol``), elementwise; infinities must match exactly (sign
    included) and nan must be where nan is expected. ``expected`` is the exact value, e.g.
    computed with :mod:`fractions` or :mod:`decimal` and rounded.

    Raises:
        AssertionError: the shapes differ, or an element is further off; the message names
            the worst element and both values.
    """
    a = np.asarray(actual)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shape {a.shape}, expected {e.shape}")
    af = a.astype(np.float64)
    both_nan = np.isnan(af) & np.isnan(e)
    same_inf = np.isinf(af) & np.isinf(e) & (np.sign(af) == np.sign(e))
    with np.errstate(invalid="ignore", over="ignore"):
        room = ulps * np.spacing(np.abs(e).astype(a.dtype if a.dtype.kind == "f"
                                                  else np.float64)).astype(np.float64)
        ok = both_nan | same_inf | (np.abs(af - e) <= room + atol)
    if not ok.all():
        bad = np.argwhere(~ok)
        idx = tuple(int(i) for i in bad[0])
        raise AssertionError(
            f"{what} differ at {len(bad)} of {ok.size} elements; first at index {idx}: got "
            f"{af[idx]!r}, expected {e[idx]!r} (allowed {ulps} ulp + atol {atol})"
        )


def assert_grad_equals(
    fn: Callable[..., Tensor],
    inputs: Sequence[npt.ArrayLike | Tensor],
    expected: Sequence[npt.ArrayLike | None],
    grad_output: npt.ArrayLike | None = None,
    ulps: float = 4,
    atol: float = 0.0,
) -> None:
    """Assert that backprop through ``fn`` gives exactly the expected gradients: the edge
    domain's counterpart of :func:`assert_grad_matches`, for points where central
    differences are meaningless (kinks, ties, huge or tiny values, base 0).

    Args:
        fn: a function of Tensors returning a Tensor.
        inputs: arrays (made Tensors that require grad, in their own dtype) or Tensors.
        expected: the exact gradient of each input (None: not checked).
        grad_output: the gradient of the output (default: ones of its shape).
        ulps, atol: as :func:`assert_close_ulp`.

    Raises:
        AssertionError: a gradient is missing, has another dtype than its input, or
            differs; the message names the input and the worst element.
    """
    ts = [x if isinstance(x, Tensor) else Tensor(np.asarray(x), requires_grad=True)
          for x in inputs]
    out = fn(*ts)
    g = np.ones(out.shape, dtype=out.dtype) if grad_output is None else grad_output
    out.backward(g)
    for i, (t, e) in enumerate(zip(ts, expected, strict=True)):
        if e is None:
            continue
        if t.grad is None:
            raise AssertionError(f"input {i}: no gradient reached it")
        if t.grad.dtype != t.dtype:
            raise AssertionError(f"input {i}: gradient dtype {t.grad.dtype}, input {t.dtype}")
        assert_close_ulp(t.grad.data, e, ulps, atol, what=f"gradient of input {i}")
