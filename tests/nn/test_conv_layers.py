"""Conv2d and MaxPool2d: PyTorch's arguments, layout, init, padding; gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_fish import Tensor
from tinygrad_fish.errors import InvalidArgumentError, ShapeError
from tinygrad_fish.nn import Conv2d, Convolution, MaxPool2d
from tinygrad_fish.numerical import gradcheck


def _direct_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int
                 ) -> np.ndarray:
    """The definition, one output cell at a time."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, h, wd = xp.shape
    fn, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, fn, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", win, w) + b
    return out


@pytest.mark.parametrize(("k", "stride", "pad"), [(3, 1, 0), ((2, 3), 2, 1), (1, 1, 0)])
def test_conv2d_is_the_definition(k: int | tuple[int, int], stride: int, pad: int) -> None:
    conv = Conv2d(2, 3, k, stride=stride, padding=pad, rng=np.random.default_rng(0))
    assert conv.bias is not None
    kh, kw = (k, k) if isinstance(k, int) else k
    assert conv.weight.shape == (3, 2, kh, kw) and conv.bias.shape == (3,)
    x = np.random.default_rng(1).standard_normal((2, 2, 6, 5))
    np.testing.assert_allclose(
        conv(x).data, _direct_conv(x, conv.weight.data, conv.bias.data, stride, pad),
        rtol=1e-12, atol=1e-14)


def test_conv2d_init_bound_names_and_the_books_layer() -> None:
    conv = Conv2d(4, 50, 3, rng=np.random.default_rng(0))
    k = 1 / math.sqrt(4 * 3 * 3)
    assert conv.bias is not None
    assert abs(conv.weight.data).max() <= k and abs(conv.weight.data).max() > 0.95 * k
    assert abs(conv.bias.data).max() <= k
    assert [n for n, _ in conv.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in Conv2d(1, 1, 2, bias=False).named_parameters()] == ["weight"]
    # the book's Convolution with the same (FN, C, FH, FW) weights gives the same numbers
    book = Convolution(conv.weight.data, conv.bias.data, stride=1, pad=0)
    x = np.random.default_rng(1).standard_normal((2, 4, 5, 5))
    np.testing.assert_array_equal(conv(x).data, book.forward(x).data)


def test_conv2d_gradients_match_central_differences() -> None:
    conv = Conv2d(2, 2, 2, stride=2, padding=1, rng=np.random.default_rng(0))
    assert conv.bias is not None
    x = Tensor(np.random.default_rng(1).standard_normal((2, 2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda x_, w_, b_: conv(x_), [x, conv.weight, conv.bias])


def test_conv2d_errors() -> None:
    conv = Conv2d(3, 2, 3)
    with pytest.raises(ShapeError, match=r"Conv2d: expected input of shape \(N, 3, H, W\), "
                       r"got \(1, 2, 5, 5\)"):
        conv(np.ones((1, 2, 5, 5)))
    with pytest.raises(ShapeError, match="a 3x3 window does not fit a 2x2 image"):
        conv(np.ones((1, 3, 2, 2)))
    with pytest.raises(InvalidArgumentError, match=r"Conv2d: stride must be the same along "
                       r"both axes \(the ops take one\), got \(1, 2\)"):
        Conv2d(1, 1, 3, stride=(1, 2))
    with pytest.raises(InvalidArgumentError, match="Conv2d: kernel_size must be an int >= 1 "
                       "or a pair of them, got 0"):
        Conv2d(1, 1, 0)
    with pytest.raises(ValueError, match="Conv2d: in_channels must be a positive int"):
        Conv2d(0, 1, 1)


def test_maxpool2d_values_and_default_stride() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 4))
    out = MaxPool2d(2)(x).data
    assert out.shape == (2, 3, 3, 2)
    np.testing.assert_array_equal(out, x.reshape(2, 3, 3, 2, 2, 2).max(axis=(3, 5)))
    out = MaxPool2d((3, 2), stride=1)(x).data
    assert out.shape == (2, 3, 4, 3)
    np.testing.assert_array_equal(out[:, :, 1, 2], x[:, :, 1:4, 2:4].max(axis=(2, 3)))


def test_maxpool2d_pads_with_minus_infinity_as_pytorch() -> None:
    x = Tensor(-np.arange(1.0, 17.0).reshape(1, 1, 4, 4), requires_grad=True)
    y = MaxPool2d(3, stride=2, padding=1)(x)
    # windows rows/cols [-1, 1] and [1, 3]: the true maxima of all-negative windows
    np.testing.assert_array_equal(y.data[0, 0], [[-1.0, -2.0], [-5.0, -6.0]])
    y.sum().backward()
    expected = np.zeros((4, 4))
    expected[0, 0] = expected[0, 1] = expected[1, 0] = expected[1, 1] = 1.0
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad[0, 0], expected)


def test_maxpool2d_gradients_match_central_differences() -> None:
    x = np.random.default_rng(3).permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) / 7.0
    t = Tensor(x, requires_grad=True)  # distinct values: no ties within eps
    assert gradcheck(lambda x_: MaxPool2d(3, stride=2, padding=1)(x_), [t])
    assert gradcheck(lambda x_: MaxPool2d(2, stride=1)(x_), [t])


def test_maxpool2d_errors() -> None:
    with pytest.raises(InvalidArgumentError, match=r"MaxPool2d: padding must be at most half "
                       r"the kernel size, got padding 2 for kernel \(3, 3\)"):
        MaxPool2d(3, padding=2)
    with pytest.raises(InvalidArgumentError, match="MaxPool2d: stride must be the same along "
                       "both axes"):
        MaxPool2d((2, 3))
    with pytest.raises(ShapeError, match=r"MaxPool2d: expected input of shape \(N, C, H, W\), "
                       r"got \(4, 4\)"):
        MaxPool2d(2)(np.ones((4, 4)))
