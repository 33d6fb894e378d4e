"""``tf.save`` and ``tf.load``, PyTorch's names for :mod:`tinygrad_fish.serialization`
(imported when first called, so that ``import tinygrad_fish`` stays light).

>>> import os, tempfile
>>> import tinygrad_fish as tf
>>> path = os.path.join(tempfile.mkdtemp(), "w.npz")
>>> tf.save({"W": tf.ones(2, 2)}, path)
>>> tf.load(path)["W"]
array([[1., 1.],
       [1., 1.]])

Unlike ``torch.save``, nothing is pickled: only a Module, a state dict of arrays or
Tensors, or the book's ``params`` dict can be saved, and :func:`load` returns numpy arrays.
"""

from __future__ import annotations

from typing import Any

import numpy.typing as npt

__all__ = ["load", "save"]


def save(obj: Any, path: Any) -> None:
    """``tf.save(state_dict_or_module, path)``: :func:`tinygrad_fish.serialization.save`,
    a ``.npz`` of arrays written atomically (no pickle, unlike ``torch.save``: only a
    Module, a state dict of arrays/Tensors, or the book's ``params`` dict)."""
    from .serialization import save as _save

    _save(obj, path)


def load(path: Any, into: Any = None, **kwargs: Any) -> dict[str, npt.NDArray[Any]]:
    """``tf.load(path)``: :func:`tinygrad_fish.serialization.load`, the arrays of a file
    :func:`save` wrote (``{name: array}``); ``into=model`` copies them into a Module or a
    state dict, checked first. Never unpickles."""
    from .serialization import load as _load

    return _load(path, into, **kwargs)
