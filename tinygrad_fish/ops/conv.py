"""Convolution and pooling: the unfold/fold pair (the book's im2col/col2im), and on them
``conv2d``, ``max_pool2d`` and ``avg_pool2d``. Images are NCHW, as in the book.

``unfold`` copies every ``FH x FW`` window of the (zero-padded) images into a row of a matrix
(N*OH*OW, C*FH*FW), in the book's order: rows by image and output position, columns by
channel and position in the window. ``fold`` is its adjoint: it adds each row back into the
windows it came from (overlapping windows add up). Each one's backward is the other, so a
convolution is a matrix product between two of them and every order of derivative works.

The forward passes use numpy's strided views: the windows are a view of the padded images
(no Python loop over the output), copied once into the matrix; ``fold`` adds the matrix back
one window offset at a time (``FH * FW`` vectorized additions, in the book's order, so the
sums are the book's bit for bit).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..autograd import Function, is_grad_enabled
from ..errors import InvalidArgumentError, ShapeError
from ..tensor import ArrayLike, Tensor, as_tensor
from .linalg import matmul
from .reduce import mean
from .shape import reshape, transpose

__all__ = [
    "avg_pool2d", "col2im", "conv2d", "conv_output_shape", "fold", "im2col", "max_pool2d",
    "unfold",
]

Array = npt.NDArray[Any]


def conv_output_shape(h: int, w: int, fh: int, fw: int, stride: int, pad: int) -> tuple[int, int]:
    """``(OH, OW)``: the number of ``fh x fw`` windows, ``stride`` apart, in an ``h x w``
    image padded by ``pad`` on every side.

    Raises:
        ShapeError: the window does not fit (the output would be empty).
    """
    oh = (h + 2 * pad - fh) // stride + 1
    ow = (w + 2 * pad - fw) // stride + 1
    if oh < 1 or ow < 1:
        raise ShapeError(
            f"a {fh}x{fw} window does not fit a {h}x{w} image padded by {pad} (stride {stride})"
        )
    return oh, ow


def im2col(x: Array, fh: int, fw: int, stride: int = 1, pad: int = 0) -> Array:
    """The book's ``im2col`` on arrays: the windows of ``x`` (N, C, H, W) as the rows of a
    (N*OH*OW, C*FH*FW) matrix (a new array; its dtype is ``x``'s).

    Raises:
        ShapeError: ``x`` is not 4-D, or the window does not fit.
    """
    if x.ndim != 4:
        raise ShapeError(f"im2col: expected images of shape (N, C, H, W), got {x.shape}")
    n, c, h, w = x.shape
    oh, ow = conv_output_shape(h, w, fh, fw, stride, pad)
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)]) if pad else x
    windows = np.lib.stride_tricks.sliding_window_view(img, (fh, fw), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :oh, :ow]  # (N, C, OH, OW, FH, FW)
    # Laid out as the book's: (N, C, FH, FW, OH, OW), then transposed and reshaped, which
    # numpy does as a view where it can (one image of one channel): the same memory layout
    # as the book's, so matrix products with it round as the book's do.
    col = np.empty((n, c, fh, fw, oh, ow), dtype=x.dtype)
    col[...] = windows.transpose(0, 1, 4, 5, 2, 3)
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, c * fh * fw)


def col2im(col: Array, input_shape: tuple[int, ...], fh: int, fw: int, stride: int = 1,
           pad: int = 0) -> Array:
    """The book's ``col2im`` on arrays: the adjoint of :func:`im2col`. Each row of ``col``
    (N*OH*OW, C*FH*FW) is added into the window of ``input_shape`` (N, C, H, W) it came from.

    Raises:
        ShapeError: ``col`` does not have the shape ``im2col`` gives for ``input_shape``.
    """
    n, c, h, w = input_shape
    oh, ow = conv_output_shape(h, w, fh, fw, stride, pad)
    if col.shape != (n * oh * ow, c * fh * fw):
        raise ShapeError(
            f"col2im: expected columns of shape {(n * oh * ow, c * fh * fw)} for images of "
            f"shape {tuple(input_shape)}, got {col.shape}"
        )
    # the book's order: window offsets in turn, each added to a padded buffer, which is cut
    # out at the end (the same values and memory layout as the book's col2im)
    cols = col.reshape(n, oh, ow, c, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1),
                   dtype=col.dtype)
    for y in range(fh):
        y_max = y + stride * oh
        for x in range(fw):
            x_max = x + stride * ow
            img[:, :, y:y_max:stride, x:x_max:stride] += cols[:, :, y, x, :, :]
    return img[:, :, pad:h + pad, pad:w + pad]


def _tiles(h: int, w: int, fh: int, fw: int, stride: int, pad: int) -> bool:
    """True when the windows tile the image exactly: no overlap, no gap, no padding."""
    return pad == 0 and stride == fh == fw and h % fh == 0 and w % fw == 0


class Unfold(Function):
    """im2col: ``x`` (N, C, H, W) -> its windows as rows (N*OH*OW, C*FH*FW); backward:
    ``dx = fold(g)``, col2im (the adjoint)."""

    saves_inputs = False

    def forward(self, x: Array, fh: int, fw: int, stride: int, pad: int) -> Array:
        return im2col(x, fh, fw, stride, pad)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (x,) = self.inputs  # type: ignore[misc]
        a = self.attrs
        return (Fold.apply(g, shape=x.shape, fh=a["fh"], fw=a["fw"], stride=a["stride"],
                           pad=a["pad"]),)


class Fold(Function):
    """col2im: rows (N*OH*OW, C*FH*FW) added back into images of ``shape`` (N, C, H, W);
    backward: ``dcol = unfold(g)``, im2col (the adjoint)."""

    saves_inputs = False

    def forward(self, col: Array, shape: tuple[int, ...], fh: int, fw: int, stride: int,
                pad: int) -> Array:
        return col2im(col, shape, fh, fw, stride, pad)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        a = self.attrs
        return (Unfold.apply(g, fh=a["fh"], fw=a["fw"], stride=a["stride"], pad=a["pad"]),)


def _check_int(op: str, what: str, v: Any, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise InvalidArgumentError(f"{op}: {what} must be an int >= {lo}, got {v!r}")
    return int(v)


def _images(op: str, x: ArrayLike) -> Tensor:
    t = as_tensor(x)
    if t.ndim != 4:
        raise ShapeError(f"{op}: expected images of shape (N, C, H, W), got {t.shape}")
    return t


def unfold(x: ArrayLike, fh: int, fw: int, stride: int = 1, pad: int = 0) -> Tensor:
    """im2col in the graph: the ``fh x fw`` windows of ``x`` (N, C, H, W), ``stride`` apart,
    after zero-padding by ``pad``, as the rows of a (N*OH*OW, C*FH*FW) tensor.

    Raises:
        ShapeError: ``x`` is not 4-D, or the window does not fit.
        InvalidArgumentError: a size, stride or pad is not an int in range.
    """
    t = _images("unfold", x)
    fh, fw = _check_int("unfold", "fh", fh, 1), _check_int("unfold", "fw", fw, 1)
    stride, pad = _check_int("unfold", "stride", stride, 1), _check_int("unfold", "pad", pad, 0)
    conv_output_shape(t.shape[2], t.shape[3], fh, fw, stride, pad)
    return Unfold.apply(t, fh=fh, fw=fw, stride=stride, pad=pad)


def fold(col: ArrayLike, shape: tuple[int, int, int, int], fh: int, fw: int, stride: int = 1,
         pad: int = 0) -> Tensor:
    """col2im in the graph: the adjoint of :func:`unfold`, rows added back into images of
    ``shape`` (N, C, H, W) (overlapping windows add up).

    Raises:
        ShapeError: ``col`` does not have the shape ``unfold`` gives for ``shape``.
        InvalidArgumentError: a size, stride or pad is not an int in range.
    """
    t = as_tensor(col)
    fh, fw = _check_int("fold", "fh", fh, 1), _check_int("fold", "fw", fw, 1)
    stride, pad = _check_int("fold", "stride", stride, 1), _check_int("fold", "pad", pad, 0)
    shp = tuple(int(s) for s in shape)
    n, c, h, w = shp
    oh, ow = conv_output_shape(h, w, fh, fw, stride, pad)
    if t.shape != (n * oh * ow, c * fh * fw):
        raise ShapeError(f"fold: expected columns of shape {(n * oh * ow, c * fh * fw)} for "
                         f"images of shape {shp}, got {t.shape}")
    return Fold.apply(t, shape=shp, fh=fh, fw=fw, stride=stride, pad=pad)


def conv2d(x: ArrayLike, W: ArrayLike, b: ArrayLike | None = None, stride: int = 1,
           pad: int = 0) -> Tensor:
    """2-D convolution (cross-correlation, as the book and PyTorch): ``x`` (N, C, H, W),
    filters ``W`` (FN, C, FH, FW), bias ``b`` (FN,) or a number or None -> (N, FN, OH, OW).

    Computed as the book's ``Convolution``: ``unfold(x) @ W.reshape(FN, -1).T + b``,
    reshaped, so its numbers are the book's bit for bit. (The windows are not Python loops:
    one strided copy and one matrix product.)

    Raises:
        ShapeError: ``x`` or ``W`` is not 4-D, their channels differ, or the filter does not
            fit the padded image.
        InvalidArgumentError: ``stride`` or ``pad`` is not an int in range.
    """
    t = _images("conv2d", x)
    w = as_tensor(W)
    if w.ndim != 4:
        raise ShapeError(f"conv2d: filters must have shape (FN, C, FH, FW), got {w.shape}")
    fn, c, fh, fw = w.shape
    if c != t.shape[1]:
        raise ShapeError(f"conv2d: filters of shape {w.shape} take {c} channels, the images "
                         f"of shape {t.shape} have {t.shape[1]}")
    n, _, h, wd = t.shape
    stride, pad = _check_int("conv2d", "stride", stride, 1), _check_int("conv2d", "pad", pad, 0)
    oh, ow = conv_output_shape(h, wd, fh, fw, stride, pad)
    dt = np.result_type(t.data.dtype, w.data.dtype)
    if t.data.dtype != dt:  # as numpy would promote the product: the windows in its dtype
        t = t.astype(dt)
    tb = None if b is None else as_tensor(b)
    if n * oh * ow >= _FAST_ROWS and not (is_grad_enabled() and (
            t.requires_grad or w.requires_grad or (tb is not None and tb.requires_grad))):
        return Tensor._wrap(_conv2d_values(t.data, w.data, None if tb is None else tb.data,
                                           stride, pad, oh, ow))
    col = Unfold.apply(t, fh=fh, fw=fw, stride=stride, pad=pad)
    out = matmul(col, transpose(reshape(w, (fn, -1))))
    if tb is not None:
        out = out + tb
    return transpose(reshape(_RowsInCOrder.apply(out), (n, oh, ow, fn)), (0, 3, 1, 2))


class _RowsInCOrder(Function):
    """The identity (a view) whose backward hands on ``g`` in C order: the gradient of the
    convolution's (N*OH*OW, FN) product reaches its matrix products laid out as the book's
    ``dout.transpose(0, 2, 3, 1).reshape(-1, FN)`` (a copy of the non-contiguous ``dout``
    its layers pass back), not as a transposed view, which numpy can make of a C-ordered
    gradient when N is 1 and which BLAS may round differently (on AVX-512 kernels it does)."""

    name = "contiguous"
    saves_inputs = False
    is_view = True

    def forward(self, a: Array) -> Array:
        return a.view()

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        if g.data.flags.c_contiguous or is_grad_enabled():  # differentiated again: g as is
            return (g,)
        return (Tensor._wrap(np.ascontiguousarray(g.data)),)


#: Outputs of at least this many positions (N * OH * OW), when no graph is recorded, take
#: the faster formulation of ``_conv2d_values``; below it the time is the ops' overhead, and
#: the graph's formulation (the book's, bit for bit) is used.
_FAST_ROWS = 2048


def _conv2d_values(x: Array, w: Array, b: Array | None, stride: int, pad: int, oh: int,
                   ow: int) -> Array:
    """conv2d when no graph is recorded (inference on a batch): the same sums as the
    graph's ``unfold(x) @ W.T``, but as ``W @ unfold(x).T``, whose windows copy faster (rows
    of the image stay contiguous); the matrix product is the same, transposed, so the values
    agree with the graph's to the last bit or so (BLAS may round the two orientations
    differently)."""
    n, c = x.shape[:2]
    fn, _, fh, fw = w.shape
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)]) if pad else x
    win = np.lib.stride_tricks.sliding_window_view(xp, (fh, fw), axis=(2, 3))
    win = win[:, :, ::stride, ::stride][:, :, :oh, :ow]  # (N, C, OH, OW, FH, FW)
    col_t = win.transpose(1, 4, 5, 0, 2, 3).reshape(c * fh * fw, n * oh * ow)
    out = np.dot(w.reshape(fn, -1), col_t)
    if b is not None:
        out = out + (b[:, None] if b.ndim else b)
    return out.reshape(fn, n, oh, ow).transpose(1, 0, 2, 3)


def _window_rows(x: Array, ph: int, pw: int, stride: int, pad: int) -> Array:
    """The windows of ``x`` (N, C, H, W) as (N, C, OH, OW, ph * pw): a copy, the window's
    elements in row-major order."""
    h, w = x.shape[2:]
    oh, ow = conv_output_shape(h, w, ph, pw, stride, pad)
    n, c = x.shape[:2]
    if _tiles(h, w, ph, pw, stride, pad):
        return x.reshape(n, c, oh, ph, ow, pw).transpose(0, 1, 2, 4, 3, 5).reshape(
            n, c, oh, ow, ph * pw)
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)]) if pad else x
    win = np.lib.stride_tricks.sliding_window_view(xp, (ph, pw), axis=(2, 3))
    return win[:, :, ::stride, ::stride][:, :, :oh, :ow].reshape(n, c, oh, ow, ph * pw)


def _tile_view(x: Array, ph: int, pw: int) -> Array:
    """``x`` (N, C, H, W), tiled by ``ph x pw`` windows, as a view (N, C, OH, ph, OW, pw);
    a copy first only when ``x``'s layout cannot be split so."""
    n, c, h, w = x.shape
    v = x.view()
    try:
        v.shape = (n, c, h // ph, ph, w // pw, pw)
    except AttributeError:  # not splittable in place (an unusual view): a copy
        v = np.ascontiguousarray(x).reshape(n, c, h // ph, ph, w // pw, pw)
    return v


def _index_dtype(ph: int, pw: int) -> type:
    """The dtype of window positions: int8 when they fit (cheaper to compare and add)."""
    return np.int8 if ph * pw <= 127 else np.intp


def _plus_no_nan(x: Array) -> bool:
    """True when the floating ``x`` (not empty) has no element with its sign bit set and
    no nan: every element is 0.0 (never -0.0), positive or inf. Its bits read as signed
    integers of its width lie between 0 and the bits of inf exactly then (two integer
    reductions, cheaper than a float one)."""
    if not (x.size and x.dtype.isnative and x.dtype.itemsize in (2, 4, 8)):
        return False
    bits = x.view(f"i{x.dtype.itemsize}")
    inf = int(np.array(np.inf, dtype=x.dtype).view(bits.dtype))
    return int(bits.min()) >= 0 and int(bits.max()) <= inf


def _tile_argmax(x: Array, ph: int, pw: int) -> tuple[Array, Array]:
    """Max pooling when the windows tile the image (stride == window, no padding): the
    maxima (N, C, OH, OW) and their window positions, with no copy of the windows: a few
    passes per window position over strided views. The first maximum wins ties, and the
    first nan wins over every number, as ``np.argmax`` over the window does (so the values
    and positions are exactly the general path's).

    Without a nan in ``x`` (checked once, by its minimum, which is nan exactly when one
    is): the maxima by ``np.maximum``, the position of each as the first one equal to it
    (unmasked arithmetic, no ``where=``, which numpy runs much slower), and the sign of a
    zero maximum taken from the element at that position (``np.maximum`` may return
    either of 0.0 and -0.0). With a nan: one comparison and two masked copies per position.

    When no element of ``x`` has its sign bit set and none is nan (a ReLU's output, say:
    :func:`_plus_no_nan`), every zero is 0.0, so is every zero maximum, and neither the
    nan check nor the sign of the zeros is needed.
    """
    v = _tile_view(x, ph, pw)
    kk = ph * pw
    floating = x.dtype.kind in "fc"
    plus = x.dtype.kind == "f" and _plus_no_nan(x)
    if x.dtype.kind in "iuf" and (plus or not (floating and bool(np.isnan(np.min(x))))):
        best = v[:, :, :, 0, :, 0].copy()
        for k in range(1, kk):
            np.maximum(best, v[:, :, :, k // pw, :, k % pw], out=best)
        index: Array = np.full(best.shape, kk - 1, dtype=_index_dtype(ph, pw))
        for k in range(kk - 2, -1, -1):  # the smallest position equal to the maximum wins
            eq = np.equal(v[:, :, :, k // pw, :, k % pw], best)
            index += eq * (index.dtype.type(k) - index)
        if floating and not plus:
            zero = np.flatnonzero(best == 0)
            if zero.size:  # the maximum's own zero, with its sign
                ni, ci, hi, wi = np.unravel_index(zero, best.shape)
                pos = index.reshape(-1)[zero]
                best.reshape(-1)[zero] = x[ni, ci, hi * ph + pos // pw, wi * pw + pos % pw]
        return best, index
    best = v[:, :, :, 0, :, 0].copy()
    index = np.zeros(best.shape, dtype=np.intp)
    upd = np.empty(best.shape, dtype=bool)
    for k in range(1, kk):
        cand = v[:, :, :, k // pw, :, k % pw]
        np.greater(cand, best, out=upd)
        if floating:  # a nan wins, unless an earlier one did
            upd |= np.isnan(cand) & ~np.isnan(best)
        np.copyto(best, cand, where=upd)
        np.copyto(index, k, where=upd)
    return best, index


def _tile_select(x: Array, index: Array, ph: int, pw: int) -> Array:
    """For each tile of ``x``, its element at window position ``index`` (N, C, OH, OW)."""
    v = _tile_view(x, ph, pw)
    out = v[:, :, :, 0, :, 0].copy()
    for k in range(1, ph * pw):
        np.copyto(out, v[:, :, :, k // pw, :, k % pw], where=index == k)
    return out


#: The size of the tiled scatter's scratch row: written and read back while in cache.
_SCRATCH_BYTES = 2 << 20


def _tile_scatter(g: Array, index: Array, shape: tuple[int, ...], ph: int, pw: int
                  ) -> Array:
    """``_pool_scatter`` when the windows tile the image: each ``g`` written at its
    window position (no window overlaps another, so nothing adds up), as ``0 + g`` (the
    book's col2im adds into zeros, which turns -0.0 into 0.0), in the memory layout of the
    general path (a view of a buffer one ``stride - 1`` wider, as the book's col2im).

    Every element is written once, so the buffer is not zeroed first: for floating ``g``
    with no inf or nan, each window position gets ``g * (index == k) + 0.0`` (``g``
    or 0.0, -0.0 turned to 0.0; unmasked arithmetic), else masked copies. The products
    are made one row of the windows at a time (``pw`` positions side by side, in a
    contiguous scratch row whose every ``pw``-th element is one position: numpy runs
    each as one long strided loop), and ``+ 0.0`` writes the row into the image rows
    (loops as long as the image row, not as a row of windows); a few images at a time, so
    the scratch row (about 2 MiB) is still in cache when it is written out."""
    n, c, h, w = shape
    buf = np.empty((n, c, h + ph - 1, w + pw - 1), dtype=g.dtype)
    dx = buf[:, :, :h, :w]
    v = _tile_view(dx, ph, pw)
    if g.dtype.kind == "f" and bool(np.isfinite(g).all()):
        per_image = g[:1].size * pw * g.itemsize
        step = max(1, min(n, _SCRATCH_BYTES // max(per_image, 1)))
        row = np.empty((step, *g.shape[1:], pw), dtype=g.dtype)  # (images, C, OH, OW, pw)
        eq = np.empty((step, *g.shape[1:]), dtype=bool)
        for i in range(0, n, step):
            j = min(i + step, n)
            r, e, gi, ki = row[:j - i], eq[:j - i], g[i:j], index[i:j]
            for y in range(ph):
                for x in range(pw):
                    np.equal(ki, y * pw + x, out=e)
                    np.multiply(gi, e, out=r[..., x])
                np.add(r, g.dtype.type(0.0), out=v[i:j, :, :, y, :, :])
        return dx
    dx[...] = 0
    g0 = g + 0.0 if g.dtype.kind in "fc" else g
    for k in range(ph * pw):
        np.copyto(v[:, :, :, k // pw, :, k % pw], g0, where=index == k)
    return dx


def _pool_scatter(g: Array, index: Array, shape: tuple[int, ...], ph: int, pw: int,
                  stride: int, pad: int) -> Array:
    """Each ``g`` of (N, C, OH, OW) placed at the window position ``index`` in zeros of
    ``shape`` (N, C, H, W); where windows overlap, added in the book's (col2im's) order."""
    n, c, h, w = shape
    oh, ow = index.shape[2:]
    if _tiles(h, w, ph, pw, stride, pad):
        return _tile_scatter(g, index, shape, ph, pw)
    d = np.zeros((*index.shape, ph * pw), dtype=g.dtype)
    np.put_along_axis(d, index[..., None], g[..., None], axis=-1)
    d = d.reshape(n, c, oh, ow, ph, pw)
    # added into a padded buffer and cut out of it, as the book's col2im: the same values
    # and the same memory layout (later sums over it round as the book's)
    dxp = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1),
                   dtype=g.dtype)
    for y in range(ph):
        for x in range(pw):
            dxp[:, :, y:y + stride * oh:stride, x:x + stride * ow:stride] += d[:, :, :, :, y, x]
    return dxp[:, :, pad:pad + h, pad:pad + w]


class _MaxPool(Function):
    """Max pooling: the maximum of each window, (N, C, H, W) -> (N, C, OH, OW); backward:
    ``g`` placed at the first maximum of each window (added up where windows overlap),
    zeros elsewhere: :class:`_PoolScatter`, whose own backward is :class:`_PoolSelect`."""

    name = "max_pool"
    saves_inputs = False

    def forward(self, x: Array, ph: int, pw: int, stride: int, pad: int) -> Array:
        if _tiles(x.shape[2], x.shape[3], ph, pw, stride, pad):  # the book's 2x2, stride 2
            out, self.index = _tile_argmax(x, ph, pw)
            return out
        rows = _window_rows(x, ph, pw, stride, pad)
        self.index = np.argmax(rows, axis=-1)  # the first maximum (or nan), as the book's
        return np.take_along_axis(rows, self.index[..., None], axis=-1)[..., 0]

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (x,) = self.inputs  # type: ignore[misc]
        return (_PoolScatter.apply(g, shape=x.shape, index=self.index, **self.attrs),)


class _PoolSelect(Function):
    """For every window of ``x``, the element at the window position ``index`` (N, C, OH,
    OW); backward: ``dx = scatter(g)`` (:class:`_PoolScatter`)."""

    name = "pool_select"
    saves_inputs = False

    def forward(self, x: Array, index: Array, ph: int, pw: int, stride: int,
                pad: int) -> Array:
        if _tiles(x.shape[2], x.shape[3], ph, pw, stride, pad):
            return _tile_select(x, index, ph, pw)
        rows = _window_rows(x, ph, pw, stride, pad)
        return np.take_along_axis(rows, index[..., None], axis=-1)[..., 0]

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (x,) = self.inputs  # type: ignore[misc]
        return (_PoolScatter.apply(g, shape=x.shape, **self.attrs),)


class _PoolScatter(Function):
    """The adjoint of :class:`_PoolSelect`: ``g`` placed at the window positions ``index``
    in zeros of ``shape``; backward: ``dg = select(gg)``."""

    name = "pool_scatter"
    saves_inputs = False

    def forward(self, g: Array, shape: tuple[int, ...], index: Array, ph: int, pw: int,
                stride: int, pad: int) -> Array:
        return _pool_scatter(g, index, shape, ph, pw, stride, pad)

    def backward(self, gg: Tensor) -> tuple[Tensor | None, ...]:
        a = dict(self.attrs)
        del a["shape"]
        return (_PoolSelect.apply(gg, **a),)


def _pool_windows(op: str, x: ArrayLike, ph: int, pw: int, stride: int,
                  pad: int) -> tuple[Tensor, tuple[int, int, int, int]]:
    t = _images(op, x)
    ph, pw = _check_int(op, "pool_h", ph, 1), _check_int(op, "pool_w", pw, 1)
    stride, pad = _check_int(op, "stride", stride, 1), _check_int(op, "pad", pad, 0)
    n, c, h, w = t.shape
    oh, ow = conv_output_shape(h, w, ph, pw, stride, pad)
    col = Unfold.apply(t, fh=ph, fw=pw, stride=stride, pad=pad)
    return reshape(col, (-1, ph * pw)), (n, oh, ow, c)


def max_pool2d(x: ArrayLike, pool_h: int, pool_w: int, stride: int = 2, pad: int = 0
               ) -> Tensor:
    """Max pooling, as the book's ``Pooling``: the maximum of each ``pool_h x pool_w``
    window (zero padding, as the book's), (N, C, H, W) -> (N, C, OH, OW). The gradient goes
    to the first maximum of each window (ties: the first in row-major order), as the book's
    and PyTorch's; where windows overlap, the gradients a pixel gets add up.

    Its values and gradients are the book's, bit for bit.

    Raises:
        ShapeError: ``x`` is not 4-D, or the window does not fit.
        InvalidArgumentError: a size, stride or pad is not an int in range.
    """
    t = _images("max_pool2d", x)
    ph = _check_int("max_pool2d", "pool_h", pool_h, 1)
    pw = _check_int("max_pool2d", "pool_w", pool_w, 1)
    stride = _check_int("max_pool2d", "stride", stride, 1)
    pad = _check_int("max_pool2d", "pad", pad, 0)
    h, w = t.shape[2:]
    oh, ow = conv_output_shape(h, w, ph, pw, stride, pad)
    if not (is_grad_enabled() and t.requires_grad):  # inference: the maxima, no positions
        xp = np.pad(t.data, [(0, 0), (0, 0), (pad, pad), (pad, pad)]) if pad else t.data
        out = None  # the elementwise maximum of the window's ph * pw strided views
        for y in range(ph):
            for x in range(pw):
                view = xp[:, :, y:y + stride * (oh - 1) + 1:stride,
                          x:x + stride * (ow - 1) + 1:stride]
                out = view.copy() if out is None else np.maximum(out, view, out=out)
        return Tensor._wrap(out)
    return _MaxPool.apply(t, ph=ph, pw=pw, stride=stride, pad=pad)


def avg_pool2d(x: ArrayLike, pool_h: int, pool_w: int, stride: int = 2, pad: int = 0
               ) -> Tensor:
    """Average pooling: the mean of each ``pool_h x pool_w`` window (zero padding counts),
    (N, C, H, W) -> (N, C, OH, OW).

    Raises:
        ShapeError: ``x`` is not 4-D, or the window does not fit.
        InvalidArgumentError: a size, stride or pad is not an int in range.
    """
    rows, (n, oh, ow, c) = _pool_windows("avg_pool2d", x, pool_h, pool_w, stride, pad)
    out = mean(rows, axis=1)
    return transpose(reshape(out, (n, oh, ow, c)), (0, 3, 1, 2))
