"""The book's ``common/util.py``: curve smoothing, dataset shuffling, convolution sizes, and
``im2col``/``col2im`` (the array forms of :func:`tinygrad_fish.ops.conv.unfold` and
:func:`~tinygrad_fish.ops.conv.fold`).

These work on numpy arrays (they prepare data and plots; nothing here is differentiated).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..ops.conv import col2im, im2col

# As the book's module, whose `import *` also gives numpy as `np` (ch06 scripts use it).
__all__ = ["col2im", "conv_output_size", "im2col", "np", "shuffle_dataset", "smooth_curve"]

Array = npt.NDArray[Any]


def smooth_curve(x: Any, window_len: int = 11, beta: float = 2.0) -> Array:
    """A loss curve smoothed for plotting (the book's): convolved with a normalized Kaiser
    window of ``window_len`` points (shape ``beta``), the ends mirrored so that the result
    has ``len(x)`` points.

    Args:
        x: the values, a sequence of numbers (or 0-d Tensors) of length >= ``window_len``.
        window_len: the window's length (odd).
        beta: the Kaiser window's shape.

    Returns:
        float64 array of ``len(x)`` points.

    Raises:
        ValueError: ``x`` is shorter than the window.
    """
    v = np.asarray([float(a) for a in x] if not isinstance(x, np.ndarray) else x,
                   dtype=np.float64)
    if v.ndim != 1 or len(v) < window_len:
        raise ValueError(f"smooth_curve: needs a 1-D sequence of at least {window_len} "
                         f"values, got shape {v.shape}")
    # mirror window_len - 1 points at each end, leaving out the end points themselves
    head = v[window_len - 1:0:-1]
    tail = v[-1:-window_len:-1]
    kernel = np.kaiser(window_len, beta)
    smoothed = np.convolve(kernel / kernel.sum(), np.concatenate([head, v, tail]),
                           mode="valid")
    half = window_len // 2
    return smoothed[half:len(smoothed) - half]


def shuffle_dataset(x: Any, t: Any) -> tuple[Any, Any]:
    """``x`` and ``t`` reordered by one random permutation of their first axis (drawn with
    ``np.random.permutation``, as the book, so ``np.random.seed`` makes it repeatable).

    Raises:
        ValueError: ``x`` and ``t`` differ in length.
    """
    n = len(x)
    if len(t) != n:
        raise ValueError(f"shuffle_dataset: {n} samples but {len(t)} labels")
    perm = np.random.permutation(n)
    return x[perm], t[perm]


def conv_output_size(input_size: int, filter_size: int, stride: int = 1,
                     pad: int = 0) -> float:
    """The output length of a convolution: ``(input_size + 2 * pad - filter_size) / stride
    + 1`` (a float, as the book computes it; it is whole when the sizes fit)."""
    return (input_size + 2 * pad - filter_size) / stride + 1
