"""Save and load model weights as ``.npz`` files: nothing lost, nothing silently wrong.

>>> import numpy as np, tempfile, os
>>> from tinygrad_fish.serialization import save, load
>>> params = {"W1": np.ones((2, 3)), "b1": np.zeros(3)}
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> save(params, path)
>>> sorted(load(path))
['W1', 'b1']
>>> params["W1"][...] = 0.0
>>> _ = load(path, into=params)       # copies the saved values back, in place
>>> float(params["W1"].sum())
6.0

What can be saved: a :class:`~tinygrad_fish.nn.Module` (its ``state_dict()``: parameters and
buffers under their dotted names), a plain state dict (``{name: numpy array or Tensor}``), or
the book's ``params`` dict (``{"W1": array, ...}``). The file is the ``.npz`` format of
``np.savez`` (a zip of ``.npy`` files, one per name), so ``np.load(path)`` reads it too.

Promises:

- **Atomic writes.** :func:`save` writes a temporary file in the target's directory, flushes
  and ``fsync``-s it, then renames it over the target (``os.replace``). A crash or an error
  mid-write leaves the previous file as it was, never a truncated model, and the temporary
  file is removed on any error.
- **No pickle.** :func:`load` reads with ``allow_pickle=False`` and refuses object arrays
  (and anything else that is not a numeric array) before reading any data.
- **Checked loads.** ``load(path, into=target)`` checks names (missing and unexpected),
  shapes, dtypes and writability for *every* entry first and raises one error listing every
  difference; only when all match does it copy the values into the existing arrays, in place
  (so the book's ``params`` dict, the layers and every other view see them). A failed load
  changes nothing. Dtypes are never converted silently.
- **Clear errors.** A missing, unreadable, truncated or corrupt file raises
  :class:`ModelFileError` (an ``OSError``) naming the path.

Note: the arrays are written with numpy's own ``.npy`` writer into a zip file exactly as
``np.savez`` does, rather than by calling ``np.savez(file, **arrays)``: that call would take
a parameter named ``file`` or ``allow_pickle`` as its own argument instead of saving it.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import stat
import zipfile
from collections.abc import Mapping
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from .errors import DTypeError, ShapeError, TinygradFishError
from .nn.module import Module
from .nn.params import ParamDict
from .tensor import Tensor

__all__ = ["ModelFileError", "StateDictError", "load", "save"]

Array = npt.NDArray[Any]
PathLike = str | os.PathLike[str]

#: The dtype kinds a model file may hold: bool, signed and unsigned integers, floats, complex.
_NUMERIC_KINDS = "biufc"


class ModelFileError(TinygradFishError, OSError):
    """A model file that is missing, unreadable, not an ``.npz`` file, truncated or corrupt,
    or that holds something other than numeric arrays (such as pickled object arrays).

    Attributes:
        path: the file.
    """

    def __init__(self, message: str, path: PathLike, errno: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = os.fspath(path)
        self.filename = self.path
        if errno is not None:
            self.errno = errno

    def __str__(self) -> str:
        return self.message


class StateDictError(TinygradFishError, KeyError):
    """The names in a model file do not match the names of the model it is loaded into.

    Attributes:
        missing: names the target has but the file lacks.
        unexpected: names the file has but the target lacks.
    """

    def __init__(self, message: str, missing: list[str], unexpected: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing
        self.unexpected = unexpected

    def __str__(self) -> str:  # KeyError's own would print the message in quotes
        return self.message


# ---------------------------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------------------------
def _arrays_to_save(obj: Module | Mapping[str, Any]) -> dict[str, Array]:
    """The ``{name: numeric ndarray}`` that :func:`save` writes for ``obj``."""
    if isinstance(obj, Module):
        items: Mapping[str, Any] = obj.state_dict()
    elif isinstance(obj, Mapping):
        items = obj
    else:
        raise TypeError(
            f"save(): expected a Module, a state dict or a params dict (name -> array), got "
            f"{type(obj).__name__}"
        )
    out: dict[str, Array] = {}
    for name, value in items.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"save(): names must be non-empty str, got {name!r}")
        arr = value.data if isinstance(value, Tensor) else np.asarray(value)
        if arr.dtype.kind not in _NUMERIC_KINDS or arr.dtype.fields is not None:
            raise DTypeError(
                f"save(): {name!r} has dtype {arr.dtype}; a model file holds numeric arrays "
                "only (bool, integer, floating, complex)"
            )
        out[name] = arr
    return out


def _write_npz(f: IO[bytes], arrays: Mapping[str, Array]) -> None:
    """Write ``arrays`` to the open file ``f`` as ``np.savez`` would (uncompressed zip64)."""
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


def _open_temp(path: str) -> tuple[int, str]:
    """Create and open a new temporary file next to ``path`` (same directory, so the final
    rename is atomic), with the permissions a plain ``open(path, "wb")`` would give it."""
    directory, base = os.path.split(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp  # the umask applies, as for open()
        except FileExistsError:
            continue


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(obj: Module | Mapping[str, Any], path: PathLike) -> None:
    """Save a model's weights to ``path`` as an ``.npz`` file, atomically.

    Args:
        obj: a :class:`~tinygrad_fish.nn.Module` (its ``state_dict()`` is saved), a state dict
            ``{name: numpy array or Tensor}``, or the book's ``params`` dict.
        path: the file to write, used as given (no ``.npz`` is appended). An existing file
            is replaced only once the new one is completely written and synced to disk; its
            permission bits are kept.

    Raises:
        TypeError: ``obj`` is none of the above, or a name is not a non-empty str.
        DTypeError: a value is not a numeric array (e.g. an object or string array).
        ModelFileError: the file cannot be written (a missing directory, no permission, a
            full disk); the message names the path. The previous file, if any, is intact.
    """
    arrays = _arrays_to_save(obj)
    path = os.fspath(path)
    try:
        old_mode: int | None = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        old_mode = None
    try:
        fd, tmp = _open_temp(path)
    except OSError as e:
        raise ModelFileError(
            f"save(): cannot create a file next to {path!r}: {e.strerror or e}", path, e.errno
        ) from e
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, TinygradFishError):
            raise ModelFileError(
                f"save(): cannot write {path!r}: {e.strerror or e}; the previous file, if "
                "any, is unchanged", path, e.errno
            ) from e
        raise
    _fsync_directory(os.path.dirname(path))


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------
def _check_member(zf: zipfile.ZipFile, member: str, path: str) -> None:
    """Check the ``.npy`` header of ``member`` without reading its data: a numeric dtype,
    and as many data bytes as the shape needs (so a corrupt header cannot ask for a huge
    allocation, and a truncated entry is named as such)."""
    name = member[:-4]
    try:
        with zf.open(member) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
            else:  # version 3.0 is only written for structured dtypes with non-latin1 names
                raise ValueError(f"unsupported .npy format version {version}")
            header_size = f.tell()
    except Exception as e:
        raise ModelFileError(
            f"load(): {path!r} is not a valid model file: its entry {name!r} is not a "
            f"numpy array ({type(e).__name__}: {e})", path
        ) from e
    if dtype.hasobject or dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None:
        raise ModelFileError(
            f"load(): {path!r} holds {name!r} with dtype {dtype}; refused: a model file "
            "holds numeric arrays only"
            + (" (object arrays would be unpickled, which can run arbitrary code)"
               if dtype.hasobject else ""), path
        )
    needed = header_size + math.prod(shape) * dtype.itemsize
    size = zf.getinfo(member).file_size
    if size < needed:
        raise ModelFileError(
            f"load(): {path!r} is truncated or corrupt: {name!r} of shape {shape} and dtype "
            f"{dtype} needs {needed} bytes but its entry holds {size}", path
        )


def _read_file(path: str) -> dict[str, Array]:
    """Every array in the ``.npz`` file ``path``, checked, in native byte order."""
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise ModelFileError(
            f"load(): cannot read the model file {path!r}: {e.strerror or e}", path, e.errno
        ) from e
    if magic[:2] != b"PK":
        what = (
            "it is empty" if not magic
            else "it holds a single .npy array" if magic == b"\x93NUM"
            else "it is not a zip file"
        )
        raise ModelFileError(
            f"load(): {path!r} is not an .npz model file ({what}); save models with "
            "tinygrad_fish.serialization.save or np.savez", path
        )
    out: dict[str, Array] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.namelist()
            for member in members:  # check everything before reading any data
                if not member.endswith(".npy"):
                    raise ModelFileError(
                        f"load(): {path!r} is not a valid model file: its entry {member!r} is "
                        "not a .npy array", path
                    )
                _check_member(zf, member, path)
            for member in members:
                with zf.open(member) as f:
                    arr = np.lib.format.read_array(f, allow_pickle=False)
                if not arr.dtype.isnative:
                    arr = arr.astype(arr.dtype.newbyteorder("="))
                out[member[:-4]] = arr
    except ModelFileError:
        raise
    except Exception as e:  # BadZipFile, EOFError, ValueError, zlib.error, OSError...
        raise ModelFileError(
            f"load(): {path!r} is truncated or corrupt and cannot be read as an .npz model "
            f"file ({type(e).__name__}: {e})", path
        ) from e
    return out


def _target_arrays(into: Module | Mapping[str, Any]) -> tuple[dict[str, Array], list[Tensor]]:
    """The arrays of ``into`` to copy into, by name, and the Tensors that wrap them."""
    if isinstance(into, Module):
        params = dict(into.named_parameters())
        arrays = {name: t.data for name, t in params.items()}
        arrays.update(into.named_buffers())
        return arrays, list(params.values())
    if not isinstance(into, Mapping):
        raise TypeError(
            f"load(): into= must be a Module, a state dict or a params dict (name -> array), "
            f"got {type(into).__name__}"
        )
    arrays = {}
    tensors = []
    for name, value in into.items():
        if isinstance(value, Tensor):
            arrays[name] = value.data
            tensors.append(value)
        elif isinstance(value, np.ndarray):
            arrays[name] = value
        else:
            raise TypeError(
                f"load(): into[{name!r}] is a {type(value).__name__}, not a numpy array or "
                "Tensor, so it cannot be loaded into in place"
            )
    return arrays, tensors


def _copy_into(
    path: str, loaded: dict[str, Array], into: Module | Mapping[str, Any], strict: bool
) -> None:
    targets, tensors = _target_arrays(into)
    missing = [k for k in targets if k not in loaded]
    unexpected = [k for k in loaded if k not in targets]
    shapes: list[str] = []
    dtypes: list[str] = []
    readonly: list[str] = []
    for name, dst in targets.items():
        src = loaded.get(name)
        if src is None:
            continue
        if src.shape != dst.shape:
            shapes.append(f"{name!r}: shape {src.shape} in the file, {dst.shape} in the target")
        if src.dtype != dst.dtype:
            dtypes.append(f"{name!r}: dtype {src.dtype} in the file, {dst.dtype} in the target")
        if not dst.flags.writeable:
            readonly.append(f"{name!r}: the target array is read-only")
    names_bad = strict and bool(missing or unexpected)
    if names_bad or shapes or dtypes or readonly:
        lines = []
        if names_bad and missing:
            lines.append(f"missing from the file: {missing}")
        if names_bad and unexpected:
            lines.append(f"unexpected in the file: {unexpected}")
        lines += shapes + dtypes + readonly
        message = (
            f"load(): {path!r} does not fit the target; nothing was loaded:\n  "
            + "\n  ".join(lines)
        )
        if dtypes and not names_bad and not shapes:
            message += "\n(dtypes are never converted silently: build the model with the "
            message += "file's dtype, or convert the loaded arrays yourself)"
        if names_bad:
            raise StateDictError(message, missing, unexpected)
        if shapes or readonly:
            raise ShapeError(message)
        raise DTypeError(message)
    for name, dst in targets.items():
        if name in loaded:
            dst[...] = loaded[name]
    # The values changed in place: a graph that saved one of these tensors must not
    # backpropagate with the new values (backward() raises instead, as after `w -= ...`).
    if isinstance(into, ParamDict):  # the book networks' params: arrays of Tensors
        tensors = list(into.tensors().values())
    for t in tensors:
        t._bump_version()


def load(
    path: PathLike, into: Module | Mapping[str, Any] | None = None, *, strict: bool = True
) -> dict[str, Array]:
    """Read a model file written by :func:`save` (or ``np.savez``), optionally into a model.

    Args:
        path: the ``.npz`` file.
        into: None to just read the arrays; or a Module, a state dict or the book's
            ``params`` dict whose arrays receive the saved values, in place, after every
            name, shape and dtype has been checked.
        strict: with ``into``, require exactly the target's names in the file (no missing,
            no unexpected); ``strict=False`` loads the names both have and ignores the rest.
            Shapes and dtypes are checked either way.

    A failed load into ``into`` lists every difference found in one error (the first of
    StateDictError, ShapeError, DTypeError that applies) and leaves the target unchanged.

    Returns:
        ``{name: array}`` as saved, in the file's order (native byte order).

    Raises:
        ModelFileError: the file is missing or unreadable, not an ``.npz`` file, truncated or
            corrupt, or holds object (pickled) or other non-numeric arrays; names the path.
        StateDictError: (a ``KeyError``) names missing from or unexpected in the file.
        ShapeError: a saved array's shape differs from the target's, or a target array is
            read-only.
        DTypeError: a saved array's dtype differs from the target's.
        TypeError: ``into`` is not a Module or a mapping, or one of its values is neither a
            numpy array nor a Tensor.
    """
    p = os.fspath(path)
    loaded = _read_file(p)
    if into is not None:
        _copy_into(p, loaded, into, strict)
    return loaded
