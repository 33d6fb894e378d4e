"""Reading the book's pickled weights without running any code.

The fish book ships its trained weights as pickles (``ch03/sample_weight.pkl``,
``ch07/params.pkl``, ``ch08/deep_convnet_params.pkl``): dicts of numpy arrays. ``pickle.load``
would run whatever a pickle asks for, so a file from elsewhere could execute code.
:func:`load_pickle` reads them with a restricted unpickler that admits only what such a file
needs, numpy's array reconstruction (``ndarray``, ``dtype``, ``_reconstruct``, ``scalar``)
and ``collections.OrderedDict``; anything else (``os.system``, ``builtins.eval``, any other
class) is refused with an error before it is called. The result must be a dict of names to
numeric arrays.

Convert a book pickle once to the project's ``.npz`` (no pickle at all)::

    from tinygrad_fish.pickles import load_pickle
    from tinygrad_fish.serialization import save
    save(load_pickle("ch07/params.pkl"), "params.npz")
"""

from __future__ import annotations

import collections
import os
import pickle
from typing import Any

import numpy as np
import numpy.typing as npt

from .serialization import ModelFileError

__all__ = ["ALLOWED_GLOBALS", "load_pickle"]

PathLike = str | os.PathLike[str]

#: The (module, name) pairs a pickle may refer to: what numpy arrays and dicts need.
ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("collections", "OrderedDict"),
})

_multiarray: Any = np._core.multiarray  # type: ignore[attr-defined]
_OBJECTS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy.core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy._core.multiarray", "scalar"): _multiarray.scalar,
    ("collections", "OrderedDict"): collections.OrderedDict,
}


class _Restricted(pickle.Unpickler):
    def __init__(self, f: Any, path: str) -> None:
        super().__init__(f)
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        obj = _OBJECTS.get((module, name))
        if obj is None:
            raise ModelFileError(
                f"load_pickle(): {self.path!r} asks for {module}.{name}, which is not part "
                "of a dict of numpy arrays; refused (unpickling it could run arbitrary code)",
                self.path,
            )
        return obj

    def persistent_load(self, pid: Any) -> Any:
        raise ModelFileError(f"load_pickle(): {self.path!r} uses persistent ids; refused",
                             self.path)


def load_pickle(path: PathLike) -> dict[str, npt.NDArray[Any]]:
    """The ``{name: array}`` dict of a pickle such as the book's weight files, read without
    executing code (see the module doc).

    Raises:
        ModelFileError: the file cannot be read, is not a pickle, refers to anything but
            numpy arrays and dicts, or does not hold a dict of names to numeric arrays.
    """
    p = os.fsdecode(path)
    try:
        with open(p, "rb") as f:
            obj = _Restricted(f, p).load()
    except ModelFileError:
        raise
    except OSError as e:
        raise ModelFileError(f"load_pickle(): cannot read {p!r}: {e.strerror or e}", p,
                             e.errno) from e
    except Exception as e:  # UnpicklingError, EOFError, ValueError, TypeError...
        raise ModelFileError(
            f"load_pickle(): {p!r} is not a readable pickle of arrays ({type(e).__name__}: "
            f"{e})", p
        ) from e
    if not isinstance(obj, dict):
        raise ModelFileError(f"load_pickle(): {p!r} holds a {type(obj).__name__}, not a dict "
                             "of arrays", p)
    out: dict[str, npt.NDArray[Any]] = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, np.ndarray) or (
                value.dtype.kind not in "biufc"):
            raise ModelFileError(
                f"load_pickle(): {p!r} maps {key!r} to a {type(value).__name__}"
                f"{' of dtype ' + str(value.dtype) if isinstance(value, np.ndarray) else ''}; "
                "only names to numeric arrays are accepted", p)
        out[key] = value
    return out
