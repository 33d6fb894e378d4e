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

Requires Hypothesis (``pip install tinygrad_fish[testing]``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .numerical import gradcheck, gradgradcheck
from .tensor import Tensor

__all__ = [
    "arrays",
    "assert_grad_matches",
    "assert_gradgrad_matches",
    "broadcastable_shapes",
    "distinct_arrays",
    "positive_arrays",
    "shapes",
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
