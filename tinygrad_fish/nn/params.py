"""The book networks' ``params``: a mapping of names to the arrays the layers train.

The book updates weights with ``network.params[key] -= lr * grad[key]`` (in place) and
sometimes rebinds them, ``network.params[key] = network.params[key] - lr * grad[key]``. With
a plain dict the second form would silently train nothing: the layers keep the old array. A
:class:`ParamDict` makes both forms mean the same thing: assigning to a key *writes into* the
parameter's own array (same shape; the values are cast to its dtype as numpy assignment
casts), and every assignment, in place or not, bumps the parameter tensor's version counter,
so a graph that saved the old values refuses to backpropagate instead of giving a wrong
gradient.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DTypeError, ShapeError
from ..tensor import Tensor

__all__ = ["ParamDict"]

Array = npt.NDArray[Any]


class ParamDict(MutableMapping[str, Array]):
    """``{key: numpy array}`` for the book's ``network.params``, linked to the parameter
    Tensors: ``params[key]`` is the very array ``tensor.data`` the layers use.

    Assigning ``params[key] = value`` copies ``value`` (an array, a Tensor or anything numpy
    turns into an array of the parameter's shape) into that array. Keys are fixed when the
    network is built: a new key or ``del params[key]`` is refused, since no layer would use
    it. Iteration follows the book's key order (``W1``, ``b1``, ``W2``, ...).

    Examples:
        >>> import numpy as np
        >>> from tinygrad_fish.nn import TwoLayerNet
        >>> net = TwoLayerNet(4, 3, 2, seed=0)
        >>> w1 = net.params["W1"]
        >>> net.params["W1"] = net.params["W1"] - 0.1          # rebinding writes in place
        >>> net.params["W1"] is w1 and net.Affine1.W.data is w1
        True
    """

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._tensors: dict[str, Tensor] = {}

    def _add(self, key: str, tensor: Tensor) -> None:
        """Register the parameter tensor behind ``key`` (the networks call it once per key)."""
        self._tensors[key] = tensor

    def __getitem__(self, key: str) -> Array:
        return self._tensors[key].data

    def __setitem__(self, key: str, value: Any) -> None:
        """Write ``value`` into the parameter array of ``key`` and record the change.

        Raises:
            KeyError: ``key`` is not one of the network's parameters.
            ShapeError: ``value`` does not have the parameter's shape.
            DTypeError: ``value`` is not numeric, or cannot be cast to the parameter's
                dtype without changing its kind (complex into float).
        """
        t = self._tensors.get(key)
        if t is None:
            raise KeyError(
                f"{self._owner}.params has no parameter {key!r} (its keys are "
                f"{list(self._tensors)}); a new key would not be used by any layer"
            )
        dst = t.data
        if value is not dst:
            src = value.data if isinstance(value, Tensor) else np.asarray(value)
            if src.shape != dst.shape:
                raise ShapeError(
                    f"{self._owner}.params[{key!r}] = ...: the value has shape {src.shape}, "
                    f"the parameter {dst.shape}; the layers' arrays keep their shapes"
                )
            if src.dtype.kind not in "biuf" or not np.can_cast(src.dtype, dst.dtype,
                                                                "same_kind"):
                raise DTypeError(
                    f"{self._owner}.params[{key!r}] = ...: cannot store dtype {src.dtype} in "
                    f"the parameter of dtype {dst.dtype}"
                )
            dst[...] = src
        t._bump_version()

    def __delitem__(self, key: str) -> None:
        raise TypeError(
            f"{self._owner}.params: parameters cannot be deleted (the layers use them)"
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._tensors)

    def __len__(self) -> int:
        return len(self._tensors)

    def __contains__(self, key: object) -> bool:
        return key in self._tensors

    def copy(self) -> dict[str, Array]:
        """A plain dict of the same arrays (shallow, as ``dict.copy``)."""
        return {k: t.data for k, t in self._tensors.items()}

    def tensors(self) -> Mapping[str, Tensor]:
        """The parameter Tensors by key (read-only view)."""
        return dict(self._tensors)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: array{t.data.shape}" for k, t in self._tensors.items())
        return f"ParamDict({{{inner}}})"
