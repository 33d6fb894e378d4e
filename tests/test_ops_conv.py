"""Convolution and pooling ops (tinygrad_fish.ops.conv): gradients against central
differences over strides, pads, kernel sizes and odd image sizes (first and second order),
the unfold/fold adjoint pair, the edge domain (ties, zero windows, nan, views, dtypes), the
inference fast paths, errors, and the book's own im2col/col2im/layers, bit for bit."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import book_root

import tinygrad_fish as tf
from tinygrad_fish import Tensor
from tinygrad_fish.errors import InvalidArgumentError, ShapeError
from tinygrad_fish.ops.conv import (
    avg_pool2d,
    col2im,
    conv2d,
    fold,
    im2col,
    max_pool2d,
    unfold,
)
from tinygrad_fish.testing import (
    arrays,
    assert_grad_equals,
    assert_grad_matches,
    assert_gradgrad_matches,
    distinct_arrays,
    non_contiguous,
)


@st.composite
def conv_cases(draw: st.DrawFn) -> tuple[tuple[int, ...], int, int, int, int]:
    """An image shape (N, C, H, W), a kernel fh x fw, a stride and a pad that fit."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    fh, fw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, fh - 2 * pad), 7))
    w = draw(st.integers(max(1, fw - 2 * pad), 7))
    return (n, c, h, w), fh, fw, stride, pad


@given(case=conv_cases(), data=st.data())
def test_conv2d_gradients_first_and_second_order(case, data):
    shape, fh, fw, stride, pad = case
    x = data.draw(arrays(shape))
    fn = data.draw(st.integers(1, 3))
    W = data.draw(arrays((fn, shape[1], fh, fw)))
    b = data.draw(arrays((fn,)))
    f = lambda a, w, c: conv2d(a, w, c, stride, pad)  # noqa: E731
    assert_grad_matches(f, x, W, b)
    assert_gradgrad_matches(lambda a, w, c: f(a, w, c) ** 2, x, W, b)


@given(case=conv_cases(), data=st.data())
def test_unfold_and_fold_gradients_and_adjointness(case, data):
    shape, fh, fw, stride, pad = case
    x = data.draw(arrays(shape))
    cols = unfold(Tensor(x), fh, fw, stride, pad)
    c = data.draw(arrays(cols.shape))
    # <unfold(x), c> == <x, fold(c)>: each is the other's adjoint
    lhs = float((cols.data * c).sum())
    rhs = float((x * fold(Tensor(c), shape, fh, fw, stride, pad).data).sum())
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)
    assert_grad_matches(lambda a: unfold(a, fh, fw, stride, pad), x)
    assert_grad_matches(lambda a: fold(a, shape, fh, fw, stride, pad), c)
    assert_gradgrad_matches(lambda a: unfold(a, fh, fw, stride, pad) ** 2, x)


@given(case=conv_cases(), data=st.data())
def test_pooling_gradients(case, data):
    shape, ph, pw, stride, pad = case
    x = data.draw(distinct_arrays(shape, gap=0.01))  # no ties within the step
    assert_grad_matches(lambda a: max_pool2d(a, ph, pw, stride, pad), x)
    assert_grad_matches(lambda a: avg_pool2d(a, ph, pw, stride, pad), x)
    assert_gradgrad_matches(lambda a: max_pool2d(a, ph, pw, stride, pad) ** 2, x)
    assert_gradgrad_matches(lambda a: avg_pool2d(a, ph, pw, stride, pad) ** 2, x)


# --- the edge domain -------------------------------------------------------------------------
def test_max_pool_ties_give_the_whole_gradient_to_the_first_maximum():
    x = np.array([[[[1.0, 1.0, 0.0, 0.0],
                    [1.0, 0.5, 0.0, 0.0]]]])  # a tie of three ones; an all-zero window
    expected = np.array([[[[1.0, 0.0, 1.0, 0.0],
                           [0.0, 0.0, 0.0, 0.0]]]])
    assert_grad_equals(lambda t: max_pool2d(t, 2, 2, 2), [x], [expected], ulps=0)


def test_max_pool_with_overlap_adds_the_gradients_a_pixel_gets():
    x = np.array([[[[0.0, 5.0, 0.0],
                    [0.0, 0.0, 0.0]]]])
    # windows of 2x2, stride 1: two windows, both pick the 5
    assert_grad_equals(lambda t: max_pool2d(t, 2, 2, 1), [x],
                       [np.array([[[[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]]]])], ulps=0)


def test_max_pool_propagates_nan_as_numpy_max():
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]])
    out = max_pool2d(Tensor(x, requires_grad=True), 2, 2, 2)
    assert np.isnan(out.item())
    assert np.isnan(max_pool2d(Tensor(x), 2, 2, 2).item())  # the no-graph path too


def test_conv_with_zero_filters_and_huge_values_is_exact():
    x = np.full((1, 1, 3, 3), 1e300)
    W = np.zeros((1, 1, 2, 2))
    out = conv2d(Tensor(x), Tensor(W, requires_grad=True), None)
    np.testing.assert_array_equal(out.data, np.zeros((1, 1, 2, 2)))
    # d out / d W for each filter tap is the sum of the pixels it saw: 4 * 1e300 overflows
    # to inf exactly as the sum does
    assert_grad_equals(lambda w: conv2d(Tensor(x * 1e-300), w), [W],
                       [np.full((1, 1, 2, 2), 4.0)], ulps=1)


@given(data=st.data())
def test_gradients_do_not_depend_on_the_input_layout(data):
    x = data.draw(non_contiguous(arrays((2, 2, 5, 5))))
    W = data.draw(arrays((3, 2, 3, 3)))
    grads = []
    for arr in (x, np.ascontiguousarray(x)):
        t = Tensor(arr, requires_grad=True)
        (conv2d(t, W, None, 1, 1).sum() + max_pool2d(t, 2, 2, 1).sum()).backward()
        grads.append(t.grad.data)
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_conv_and_pool_keep_the_input_dtype(dtype):
    x = Tensor(np.random.default_rng(0).random((1, 2, 4, 4)).astype(dtype), requires_grad=True)
    W = Tensor(np.ones((2, 2, 2, 2), dtype=dtype), requires_grad=True)
    y = max_pool2d(conv2d(x, W), 2, 2, 1)
    assert y.dtype == dtype
    y.sum().backward()
    assert x.grad.dtype == dtype and W.grad.dtype == dtype


@given(case=conv_cases(), data=st.data())
def test_the_inference_paths_give_the_graphs_values(case, data):
    shape, fh, fw, stride, pad = case
    x = data.draw(arrays(shape))
    W = data.draw(arrays((2, shape[1], fh, fw)))
    b = data.draw(arrays((2,)))
    graph = conv2d(Tensor(x, requires_grad=True), W, b, stride, pad).data
    with tf.no_grad():
        fast = conv2d(Tensor(x), W, b, stride, pad).data
    np.testing.assert_allclose(fast, graph, rtol=1e-14, atol=1e-14)  # small: the same path
    pooled = max_pool2d(Tensor(x, requires_grad=True), fh, fw, stride, pad).data
    np.testing.assert_array_equal(max_pool2d(Tensor(x), fh, fw, stride, pad).data, pooled)


# --- errors ----------------------------------------------------------------------------------
def test_bad_shapes_and_arguments_are_clear_errors():
    x = Tensor(np.ones((1, 2, 4, 4)))
    with pytest.raises(ShapeError, match=r"conv2d: expected images of shape \(N, C, H, W\), "
                                         r"got \(2, 4, 4\)"):
        conv2d(Tensor(np.ones((2, 4, 4))), np.ones((1, 2, 3, 3)))
    with pytest.raises(ShapeError, match=r"take 3 channels, the images of shape "
                                         r"\(1, 2, 4, 4\) have 2"):
        conv2d(x, np.ones((1, 3, 3, 3)))
    with pytest.raises(ShapeError, match=r"a 5x5 window does not fit a 4x4 image padded by 0"):
        conv2d(x, np.ones((1, 2, 5, 5)))
    with pytest.raises(InvalidArgumentError, match=r"max_pool2d: stride must be an int >= 1, "
                                                   r"got 0"):
        max_pool2d(x, 2, 2, 0)
    with pytest.raises(InvalidArgumentError, match=r"unfold: pad must be an int >= 0, got 1.5"):
        unfold(x, 2, 2, 1, 1.5)
    with pytest.raises(ShapeError, match=r"fold: expected columns of shape \(9, 8\)"):
        fold(np.ones((3, 3)), (1, 2, 4, 4), 2, 2)


# --- the book's code, bit for bit ------------------------------------------------------------
CASES = [((2, 3, 7, 6), 3, 1, 0), ((2, 3, 7, 6), 3, 2, 1), ((1, 2, 5, 5), 2, 2, 0),
         ((2, 1, 8, 9), 3, 3, 2), ((3, 2, 6, 6), 2, 2, 0)]


@pytest.fixture
def book_common(monkeypatch):
    root = book_root()
    monkeypatch.syspath_prepend(str(root))
    for name in [m for m in sys.modules if m == "common" or m.startswith("common.")]:
        monkeypatch.delitem(sys.modules, name)
    import common.layers
    import common.util

    return common


@pytest.mark.parametrize(("shape", "k", "stride", "pad"), CASES)
def test_im2col_and_col2im_equal_the_books(book_common, shape, k, stride, pad):
    rng = np.random.default_rng(0)
    x = rng.random(shape)
    want = book_common.util.im2col(x, k, k, stride, pad)
    np.testing.assert_array_equal(im2col(x, k, k, stride, pad), want)
    c = rng.random(want.shape)
    c[0, 0] = -0.0
    np.testing.assert_array_equal(col2im(c, shape, k, k, stride, pad),
                                  book_common.util.col2im(c, shape, k, k, stride, pad))


@pytest.mark.parametrize(("shape", "k", "stride", "pad"), CASES)
def test_convolution_and_pooling_layers_equal_the_books(book_common, shape, k, stride, pad):
    from tinygrad_fish.nn import Convolution, Pooling

    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, shape).astype(np.float64)  # many ties for the pooling
    W, b = rng.random((4, shape[1], k, k)), rng.random(4)
    theirs, ours = book_common.layers.Convolution(W, b, stride, pad), Convolution(W, b,
                                                                                  stride, pad)
    out = theirs.forward(x)
    np.testing.assert_array_equal(ours.forward(x).data, out)
    g = rng.random(out.shape)
    np.testing.assert_array_equal(ours.backward(g), theirs.backward(g))
    np.testing.assert_array_equal(ours.dW, theirs.dW)
    np.testing.assert_array_equal(ours.db, theirs.db)
    if pad == 0:  # the book's Pooling leaves the padding out of its output size
        pt, po = book_common.layers.Pooling(k, k, stride), Pooling(k, k, stride)
        y = pt.forward(x)
        np.testing.assert_array_equal(po.forward(x).data, y)
        gy = rng.random(y.shape)
        np.testing.assert_array_equal(po.backward(gy), pt.backward(gy))


@pytest.mark.parametrize("n", [1, 3])
def test_conv2d_filter_gradient_is_the_books_product_bit_for_bit(n):
    # the book: dW = dot(col.T, dout.transpose(0, 2, 3, 1).reshape(-1, FN)), dout copied to C
    # order; with N = 1 numpy could make that reshape a transposed view, which BLAS rounds
    # differently on some CPUs (AVX-512): the engine hands the product the C-ordered copy
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 2, 9, 9))
    w = Tensor(rng.standard_normal((5, 2, 3, 3)) * 0.01, requires_grad=True)
    g = rng.standard_normal((n, 5, 7, 7)) * 1e-3
    conv2d(x, w).backward(g)
    col = im2col(x, 3, 3)
    dout = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1, 5)
    want = np.dot(col.T, dout).transpose(1, 0).reshape(5, 2, 3, 3)
    assert np.array_equal(w.grad.data, want)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tiled_max_pool_matches_the_general_path_on_ties_nan_and_views(dtype: type) -> None:
    # the tiled fast path (stride == window, no pad) against the overlapping general path
    # run on the same tiles: window 2x2 stride 2 vs window 2x2 stride 2 on a padded-off copy
    from tinygrad_fish.ops import conv as C

    rng = np.random.default_rng(3)
    x = rng.integers(-2, 3, (2, 3, 6, 10)).astype(dtype)  # many ties
    x[0, 0, 0, 1] = np.nan
    x[1, 2, 3, 3] = np.nan
    x[1, 2, 2, 2] = np.nan  # two nans in one window: the first wins
    x[0, 1, :2, :2] = -0.0
    base = np.zeros((2, 3, 8, 12), dtype=dtype)
    base[:, :, 1:7, 1:11] = x
    xv = base[:, :, 1:7, 1:11]  # a non-contiguous view
    xz = np.where(np.isnan(x), -0.0, x)  # no nan (the fast path): ties of -0.0 and 0.0
    xz[1, 1, :2, :2] = [[-0.0, 0.0], [-0.0, 0.0]]
    for a in (x, xv, xz, xz.transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2)):
        out, index = C._tile_argmax(a, 2, 2)
        r = np.ascontiguousarray(a).reshape(2, 3, 3, 2, 5, 2).transpose(
            0, 1, 2, 4, 3, 5).reshape(2, 3, 3, 5, 4)
        want_index = np.argmax(r, axis=-1)
        np.testing.assert_array_equal(index, want_index)
        want = np.take_along_axis(r, want_index[..., None], axis=-1)[..., 0]
        np.testing.assert_array_equal(out, want)
        assert out.dtype == dtype
        np.testing.assert_array_equal(np.signbit(out), np.signbit(want))
        np.testing.assert_array_equal(C._tile_select(a, index, 2, 2), want)
        g = rng.standard_normal(out.shape).astype(dtype)
        g[0, 0, 0, 0] = -0.0
        got = C._tile_scatter(g, index, a.shape, 2, 2)
        d = np.zeros((2, 3, 3, 5, 4), dtype=dtype)
        np.put_along_axis(d, index[..., None], g[..., None], axis=-1)
        exp = d.reshape(2, 3, 3, 5, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(a.shape) + 0.0
        np.testing.assert_array_equal(got, exp)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(exp))  # 0 + -0.0 is 0.0


@pytest.mark.parametrize("shape", [(1, 1, 2, 2), (2, 2, 4, 6), (1, 3, 6, 4)])
def test_tiled_max_pool_gradients_first_and_second_order(shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(5).standard_normal(shape)
    assert_grad_matches(lambda a: max_pool2d(a, 2, 2, 2), x)
    assert_gradgrad_matches(lambda a: max_pool2d(a, 2, 2, 2) ** 2, x)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_plus_no_nan_reads_the_sign_bits_and_nan(dtype: type) -> None:
    # the tiled max pool skips the nan check and the zeros' signs when no element has its
    # sign bit set and none is nan (a ReLU's output): exactly then, on every kind of value
    from tinygrad_fish.ops import conv as C

    base = np.array([[0.0, 1.5, np.inf, 3.0], [2.0, 0.0, 7.0, 0.25]], dtype=dtype)
    assert C._plus_no_nan(base)
    assert C._plus_no_nan(np.asfortranarray(base)[:, ::2])  # a strided view
    swapped = base.astype(base.dtype.newbyteorder())  # the same values, bytes swapped
    assert C._plus_no_nan(swapped) is False  # not native: not read as integers
    for bad in (-0.0, -1.0, -np.inf, np.nan, -np.nan, np.finfo(dtype).tiny * -0.5):
        a = base.copy()
        a[1, 2] = bad
        assert C._plus_no_nan(a) is False, bad
        assert C._plus_no_nan(a.T) is False, bad  # a transposed view
    nan_payload = np.array([np.inf], dtype=dtype)
    nan_payload.view(f"u{nan_payload.itemsize}")[0] += 1  # the nan right above inf
    assert np.isnan(nan_payload[0]) and C._plus_no_nan(nan_payload) is False
    assert C._plus_no_nan(np.zeros((0, 3), dtype=dtype)) is False


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiled_max_pool_on_relu_outputs_matches_argmax(dtype: type) -> None:
    # no sign bit and no nan: the fast path without the zero fix-up; many ties of 0.0, an
    # inf, odd tile counts, a transposed layout (as a convolution's output) and a view
    from tinygrad_fish.ops import conv as C

    rng = np.random.default_rng(11)
    raw = rng.integers(-3, 3, (3, 2, 10, 6)).astype(dtype)
    raw[0, 1, 4, 3] = np.inf
    raw[2, 0, :2, :2] = -0.0  # -0.0 into the ReLU: 0.0 out of it
    x = np.maximum(raw, 0)
    x[x == 0] = 0.0  # every zero 0.0 (which zero np.maximum gives back is not promised)
    layouts = [x, x.transpose(0, 2, 3, 1).copy().transpose(0, 3, 1, 2),
               np.pad(x, [(0, 0), (0, 0), (1, 1), (2, 0)])[:, :, 1:-1, 2:]]
    for a in layouts:
        assert C._plus_no_nan(a)
        out, index = C._tile_argmax(a, 2, 2)
        r = np.ascontiguousarray(a).reshape(3, 2, 5, 2, 3, 2).transpose(
            0, 1, 2, 4, 3, 5).reshape(3, 2, 5, 3, 4)
        want_index = np.argmax(r, axis=-1)
        np.testing.assert_array_equal(index, want_index)
        want = np.take_along_axis(r, want_index[..., None], axis=-1)[..., 0]
        np.testing.assert_array_equal(out, want)
        assert out.dtype == dtype and not np.signbit(out).any()
        # and through the op: its values, and its gradient placed at the first maxima
        t = Tensor(a, requires_grad=True)
        y = max_pool2d(t, 2, 2, 2)
        np.testing.assert_array_equal(y.data, want)
        g = rng.standard_normal(y.shape).astype(dtype)
        y.backward(g)
        d = np.zeros((3, 2, 5, 3, 4), dtype=dtype)
        np.put_along_axis(d, want_index[..., None], g[..., None], axis=-1)
        exp = d.reshape(3, 2, 5, 3, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(a.shape) + 0.0
        np.testing.assert_array_equal(t.grad.data, exp)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("k", "shape"), [(1, (2, 3, 3, 5)), (2, (1, 1, 2, 2)),
                                          (2, (3, 2, 6, 10)), (3, (2, 3, 9, 6))])
@pytest.mark.parametrize("scratch", [1, 2, 1 << 40])
def test_tiled_pool_scatter_is_the_general_scatter(monkeypatch, dtype: type, k: int,
                                                   shape: tuple[int, ...],
                                                   scratch: int) -> None:
    # the tiled scatter (rows of windows through a scratch row) against the general path
    # (put at the window position in zeros, added into the col2im buffer): values, signs
    # of zeros (0 + -0.0 is 0.0), dtype and memory layout; g contiguous and a view; the
    # images one at a time, two at a time (3 images: a short last group) and all at once
    from tinygrad_fish.ops import conv as C

    rows = shape[1] * (shape[2] // k) * shape[3] * np.dtype(dtype).itemsize
    monkeypatch.setattr(C, "_SCRATCH_BYTES", rows * scratch)

    rng = np.random.default_rng(k)
    n, c, h, w = shape
    oh, ow = h // k, w // k
    index = rng.integers(0, k * k, (n, c, oh, ow))
    g = rng.standard_normal((n, c, oh, ow)).astype(dtype)
    g[0, 0, 0, 0] = -0.0
    g.reshape(-1)[-1] = 0.0
    g[g > 1.5] = -0.0  # many negative zeros
    gt = np.ascontiguousarray(g.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)  # a view
    d = np.zeros((n, c, oh, ow, k * k), dtype=dtype)
    np.put_along_axis(d, index[..., None], g[..., None], axis=-1)
    d = d.reshape(n, c, oh, ow, k, k)
    want = np.zeros((n, c, h + k - 1, w + k - 1), dtype=dtype)
    for y in range(k):
        for x in range(k):
            want[:, :, y:y + k * oh:k, x:x + k * ow:k] += d[:, :, :, :, y, x]
    want = want[:, :, :h, :w]
    for gg in (g, gt):
        got = C._tile_scatter(gg, index, shape, k, k)
        np.testing.assert_array_equal(got.view(f"u{got.itemsize}"),  # bit for bit
                                      want.view(f"u{want.itemsize}"))
        assert got.dtype == dtype and got.strides == want.strides
