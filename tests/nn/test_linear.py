"""Linear: PyTorch's layout, init and errors; DeZero's lazy form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_fish import Tensor
from tinygrad_fish.errors import ShapeError
from tinygrad_fish.nn import Linear
from tinygrad_fish.numerical import gradcheck


def test_linear_forward_is_x_times_weight_transposed_plus_bias() -> None:
    layer = Linear(3, 2, rng=np.random.default_rng(1))
    assert layer.weight is not None and layer.bias is not None
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    x = np.random.default_rng(2).standard_normal((4, 3))
    np.testing.assert_array_equal(
        layer(x).data, x @ layer.weight.data.T + layer.bias.data)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]


def test_linear_init_is_pytorchs_uniform_bound() -> None:
    layer = Linear(16, 400, rng=np.random.default_rng(0))
    assert layer.weight is not None and layer.bias is not None
    k = 1 / math.sqrt(16)
    w = layer.weight.data
    assert w.min() >= -k and w.max() < k
    assert w.min() < -0.95 * k and w.max() > 0.95 * k  # fills the whole interval
    assert abs(layer.bias.data).max() <= k
    # the same generator state gives the same weights; the global seed works too
    again = Linear(16, 400, rng=np.random.default_rng(0))
    assert again.weight is not None
    np.testing.assert_array_equal(again.weight.data, w)
    np.random.seed(3)
    a = Linear(4, 4).weight
    np.random.seed(3)
    b = Linear(4, 4).weight
    assert a is not None and b is not None
    np.testing.assert_array_equal(a.data, b.data)


def test_linear_dtype_and_no_bias() -> None:
    layer = Linear(3, 2, bias=False, dtype=np.float32)
    assert layer.bias is None and layer.weight is not None
    assert layer.weight.dtype == np.float32
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert layer(np.ones((1, 3), np.float32)).dtype == np.float32


def test_lazy_linear_sizes_its_weight_on_first_call() -> None:
    layer = Linear(5)
    assert layer.weight is None and layer.in_features is None
    assert list(layer.parameters()) == []
    y = layer(np.ones((4, 3)))
    assert y.shape == (4, 5)
    assert layer.weight is not None and layer.weight.shape == (5, 3)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert Linear(None, 5)(np.ones((2, 7))).shape == (2, 5)
    w = layer.weight
    layer(np.ones((1, 3)))
    assert layer.weight is w  # created once


def test_linear_gradients_match_central_differences_with_batch_dims() -> None:
    layer = Linear(3, 2, rng=np.random.default_rng(0))
    assert layer.weight is not None and layer.bias is not None
    x = Tensor(np.random.default_rng(1).standard_normal((2, 4, 3)), requires_grad=True)
    assert gradcheck(lambda x_, w_, b_: layer(x_), [x, layer.weight, layer.bias])
    single = Tensor(np.random.default_rng(2).standard_normal(3), requires_grad=True)
    assert layer(single).shape == (2,)
    assert gradcheck(lambda x_, w_: layer(x_), [single, layer.weight])


def test_linear_wrong_width_raises_shape_error() -> None:
    layer = Linear(3, 2)
    with pytest.raises(ShapeError, match=r"Linear: expected input with in_features=3 in its "
                       r"last dimension, got shape \(2, 4\)"):
        layer(np.ones((2, 4)))
    lazy = Linear(2)
    lazy(np.ones((1, 6)))
    with pytest.raises(ShapeError, match=r"in_features=6 .* got shape \(1, 5\)"):
        lazy(np.ones((1, 5)))
    with pytest.raises(ShapeError, match="got a 0-d tensor"):
        layer(np.float64(1.0))


@pytest.mark.parametrize("args", [(0, 2), (3, -1), (2.5,), (True, 3)])
def test_linear_refuses_bad_sizes(args: tuple[object, ...]) -> None:
    with pytest.raises(ValueError, match=r"Linear: (in|out)_features must be a positive int"):
        Linear(*args)  # type: ignore[arg-type]


def test_linear_with_transposed_affine_weights_matches_the_books_affine() -> None:
    from tinygrad_fish.nn import Affine

    rng = np.random.default_rng(4)
    W, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    layer = Linear(3, 2)
    assert layer.weight is not None and layer.bias is not None
    layer.weight.data = W.T.copy()
    layer.bias.data = b.copy()
    x = rng.standard_normal((5, 3))
    np.testing.assert_allclose(layer(x).data, Affine(W, b).forward(x).data, rtol=1e-14)
