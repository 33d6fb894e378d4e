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
  file is removed on any error; one that a killed process left behind is removed by the next
  :func:`save` of the same path (see :func:`remove_stale_temp_files`).
- **Only model files are replaced.** A directory, a device (``/dev/null``), a FIFO or a
  socket at the path is refused, never replaced. A symbolic link stays a link: the new
  weights replace its (final) target, atomically, next to it.
- **Names that come back.** :func:`save` refuses a name that :func:`load` could not return
  unchanged (a NUL character, a lone surrogate, anything the zip format would alter).
- **No pickle.** :func:`load` reads with ``allow_pickle=False`` and refuses object arrays
  (and anything else that is not a numeric array) before reading any data.
- **Bounded loads.** Before reading any data, :func:`load` adds up the bytes the entries'
  headers claim and refuses a file that claims more than ``max_bytes`` (by default
  :data:`MAX_LOAD_BYTES`, 1 GiB), or whose entries cannot hold what their headers claim. The
  file's own size proves nothing: a deflated entry can inflate about a thousandfold. A zip
  with two entries of the same name is refused too (which one would win is arbitrary).
- **Checked loads.** ``load(path, into=target)`` checks names (missing and unexpected),
  shapes, dtypes and writability for *every* entry first and raises one error listing every
  difference; only when all match does it copy the values into the existing arrays, in place
  (so the book's ``params`` dict, the layers and every other view see them). A failed load
  changes nothing. Dtypes are never converted silently.
- **Clear errors.** A missing, unreadable, truncated or corrupt file raises
  :class:`ModelFileError` (an ``OSError``) naming the path. Paths may be ``str``, ``bytes``
  or ``os.PathLike`` (bytes are decoded with :func:`os.fsdecode`).

Note: the arrays are written with numpy's own ``.npy`` writer into a zip file exactly as
``np.savez`` does, rather than by calling ``np.savez(file, **arrays)``: that call would take
a parameter named ``file`` or ``allow_pickle`` as its own argument instead of saving it.
"""

from __future__ import annotations

import contextlib
import errno as errno_codes
import math
import os
import re
import secrets
import stat
import struct
import types
import zipfile
from collections.abc import Mapping
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from .errors import DTypeError, InvalidArgumentError, ShapeError, TinygradFishError
from .nn.module import Module
from .nn.params import ParamDict
from .tensor import Tensor

__all__ = [
    "MAX_LOAD_BYTES",
    "ModelFileError",
    "StateDictError",
    "load",
    "remove_stale_temp_files",
    "save",
]

Array = npt.NDArray[Any]
PathLike = str | os.PathLike[str]
#: What :func:`save` and :func:`load` accept as a path (bytes are ``os.fsdecode``-d).
PathArg = str | bytes | os.PathLike[str] | os.PathLike[bytes]

#: The most bytes of array data :func:`load` reads from one file unless told otherwise
#: (``load(path, max_bytes=...)``): 1 GiB, a hundred times the book's largest networks. It
#: bounds what the ``.npy`` headers of a file claim, checked before any data is read. Set it
#: (``tinygrad_fish.serialization.MAX_LOAD_BYTES = 8 << 30``) to change the default.
MAX_LOAD_BYTES = 1 << 30

#: The dtype kinds a model file may hold: bool, signed and unsigned integers, floats, complex.
_NUMERIC_KINDS = "biufc"
#: The longest ``.npy`` header numpy itself reads without ``allow_pickle`` (its
#: ``max_header_size``); checked before the header is read, as numpy checks it after.
_MAX_NPY_HEADER = 10000
#: Deflate cannot inflate more than 1032 bytes out of one (zlib's documented limit).
_DEFLATE_MAX_RATIO = 1032
#: The longest zip member name, in bytes (its length field has 16 bits).
_MAX_MEMBER_NAME = 0xFFFF

# File locks (POSIX): save() holds one on its temporary file until the rename, so that
# remove_stale_temp_files() can tell a live write from one that was killed.
_fcntl: types.ModuleType | None
try:
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - Windows
    _fcntl = None


def _as_path(path: PathArg) -> str:
    """``path`` as a str: ``os.PathLike`` unwrapped, ``bytes`` decoded by ``os.fsdecode``."""
    return os.fsdecode(path)


def _describe_kind(mode: int) -> str:
    """What a non-regular file is, for messages: 'a directory', 'a FIFO (named pipe)'..."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _bytes_text(n: int) -> str:
    """``n`` bytes, with its size in KiB/MiB/GiB when large: '1073741824 bytes (1.0 GiB)'."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n} bytes ({n / size:.1f} {unit})"
    return f"{n} bytes"


class ModelFileError(TinygradFishError, OSError):
    """A model file that is missing, unreadable, not an ``.npz`` file, truncated or corrupt,
    or that holds something other than numeric arrays (such as pickled object arrays).

    Attributes:
        path: the file.
    """

    def __init__(self, message: str, path: PathArg, errno: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = _as_path(path)
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
def _check_name(name: str) -> None:
    """Refuse a name that would not come back from :func:`load` exactly as given."""
    member = name + ".npy"
    problem = ""
    if "\0" in name:
        problem = "it holds a NUL character, where zip member names end"
    else:
        try:
            encoded = member.encode("utf-8")
        except UnicodeEncodeError as e:
            problem = (
                f"it is not valid Unicode ({e.object[e.start:e.end]!r} is a lone surrogate, as "
                "os.fsdecode makes of undecodable bytes) and cannot be encoded as UTF-8"
            )
        else:
            stored = zipfile.ZipInfo(member).filename
            if len(encoded) > _MAX_MEMBER_NAME:
                problem = (
                    f"it is {len(encoded)} bytes long in UTF-8; a zip member name holds at "
                    f"most {_MAX_MEMBER_NAME}"
                )
            elif stored != member:
                problem = f"the zip file would store it as {stored[:-4]!r}"
    if problem:
        raise InvalidArgumentError(
            f"save(): cannot save the name {name!r}: {problem}, so load() could not read it "
            "back under the same name; rename it"
        )


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
        _check_name(name)
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


def _try_lock(fd: int) -> bool | None:
    """Take an exclusive lock on ``fd`` without waiting: True if taken, False if another open
    file holds it, None where file locks are not available (Windows, some file systems)."""
    if _fcntl is None:  # pragma: no cover - Windows
        return None
    try:
        _fcntl.flock(fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def _is_file_at(fd: int, path: str) -> bool:
    """Whether ``path`` still names the open file ``fd``."""
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _open_temp(path: str) -> tuple[int, str]:
    """Create, open and lock a new temporary file next to ``path`` (same directory, so the
    final rename is atomic), with the permissions a plain ``open(path, "wb")`` would give it.

    The lock (POSIX) tells :func:`remove_stale_temp_files` that the file is in use; a file
    that such a cleaner took between its creation and the lock is given up for another."""
    directory, base = os.path.split(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies, as for open()
        except FileExistsError:
            continue
        if _try_lock(fd) is False or not _is_file_at(fd, tmp):
            os.close(fd)  # a concurrent remove_stale_temp_files() has it: not ours any more
            continue
        return fd, tmp


def _remove_if_stale(tmp: str) -> bool:
    """Remove the temporary file ``tmp`` unless a live :func:`save` holds it; True if removed."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags)  # O_NONBLOCK: a FIFO of that name must not hang us
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode) or _try_lock(fd) is False:
            return False
        os.unlink(tmp)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def remove_stale_temp_files(path: PathArg) -> list[str]:
    """Remove the temporary files that writes of ``path`` killed midway left next to it.

    :func:`save` (and so :func:`~tinygrad_fish.checkpoint.save_checkpoint`) writes
    ``.NAME.<12 hex digits>.tmp`` in the directory of ``path`` (``NAME`` its file name) and
    renames it over ``path`` when complete; a process killed before the rename (``kill -9``,
    a power cut) leaves that file behind. :func:`save` calls this function itself before
    each write. Only files of exactly that form are considered, and one that a live
    :func:`save` is still writing (it holds a file lock on it until the rename) is left
    alone; where file locks are not available (Windows, some network file systems) every
    such file is removed. Files that cannot be removed are skipped silently.

    Args:
        path: the file whose leftovers to remove (``str``, ``bytes`` or ``os.PathLike``).

    Returns:
        The paths of the files removed.

    Raises:
        TypeError: ``path`` is not a ``str``, ``bytes`` or ``os.PathLike``.
    """
    p = _as_path(path)
    directory, base = os.path.split(p)
    pattern = re.compile(re.escape(f".{base}.") + r"[0-9a-f]{12}\.tmp")
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return []
    removed = []
    for name in sorted(names):
        if pattern.fullmatch(name):
            tmp = os.path.join(directory, name)
            if _remove_if_stale(tmp):
                removed.append(tmp)
    return removed


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


def _check_regular(path: str, given: str) -> None:
    """Refuse to replace ``path`` if it exists and is not a regular file (``given`` is the
    path the caller named, when ``path`` is the target of a symbolic link)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # nothing there (or not reachable): creating the temp file reports it
    if stat.S_ISREG(mode):
        return
    via = "" if path == given else f" (the target of the symbolic link {given!r})"
    raise ModelFileError(
        f"save(): {path!r}{via} is {_describe_kind(mode)}, not a model file; refusing to "
        "replace it: pass the path of a new or existing model file",
        given, errno_codes.EISDIR if stat.S_ISDIR(mode) else None,
    )


def _save_target(path: str) -> str:
    """The file :func:`save` replaces for ``path``: ``path`` itself, or for a symbolic link
    the file it finally points to (created if the link dangles). Refuses non-regular files."""
    if os.path.islink(path):
        try:
            target = os.path.realpath(path, strict=True)
        except FileNotFoundError:  # a dangling link: write its target, as open() would
            target = os.path.realpath(path)
        except OSError as e:  # a loop of links
            raise ModelFileError(
                f"save(): cannot follow the symbolic link {path!r}: {e.strerror or e}",
                path, e.errno,
            ) from e
        if os.path.islink(target):
            raise ModelFileError(
                f"save(): cannot follow the symbolic link {path!r}: it leads to a loop of "
                "links", path, errno_codes.ELOOP,
            )
    else:
        target = path
    _check_regular(target, path)
    return target


def save(obj: Module | Mapping[str, Any], path: PathArg) -> None:
    """Save a model's weights to ``path`` as an ``.npz`` file, atomically.

    Args:
        obj: a :class:`~tinygrad_fish.nn.Module` (its ``state_dict()`` is saved), a state dict
            ``{name: numpy array or Tensor}``, or the book's ``params`` dict.
        path: the file to write, used as given (no ``.npz`` is appended): a ``str``,
            ``bytes`` (decoded by :func:`os.fsdecode`) or ``os.PathLike``. An existing file
            is replaced only once the new one is completely written and synced to disk; its
            permission bits are kept. If ``path`` is a symbolic link, the link is kept and
            the file it (finally) points to is replaced, in the same atomic way, by a
            temporary file written next to it. Temporary files that an earlier save of the
            same file left when killed midway are removed first
            (:func:`remove_stale_temp_files`).

    Raises:
        TypeError: ``obj`` is none of the above, a name is not a non-empty str, or ``path``
            is not a path.
        InvalidArgumentError: (a ``ValueError``) a name that :func:`load` could not give back
            unchanged: one holding a NUL character, one that is not valid Unicode (a lone
            surrogate, not encodable as UTF-8), one longer than a zip member name allows, or
            one the zip format would alter (on Windows, a backslash).
        DTypeError: a value is not a numeric array (e.g. an object or string array).
        ModelFileError: ``path`` (or the target of the link it is) is a directory, a device,
            a FIFO, a socket or anything else that is not a regular file, which is never
            replaced; or the file cannot be written (a missing directory, no permission, a
            full disk). The message names the path. The previous file, if any, is intact.
    """
    arrays = _arrays_to_save(obj)
    given = _as_path(path)
    target = _save_target(given)
    remove_stale_temp_files(target)
    try:
        old_mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        old_mode = None
    try:
        fd, tmp = _open_temp(target)
    except OSError as e:
        raise ModelFileError(
            f"save(): cannot create a file next to {target!r}: {e.strerror or e}", given,
            e.errno,
        ) from e
    # POSIX: rename while the file is still open, so its lock covers the whole write; Windows
    # (no locks) cannot rename an open file.
    hold_lock = _fcntl is not None
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())
            if old_mode is not None:
                os.chmod(tmp, old_mode)
            if hold_lock:
                os.replace(tmp, target)
        if not hold_lock:  # pragma: no cover - Windows
            os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, TinygradFishError):
            raise ModelFileError(
                f"save(): cannot write {target!r}: {e.strerror or e}; the previous file, if "
                "any, is unchanged", given, e.errno
            ) from e
        raise
    _fsync_directory(os.path.dirname(target))


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------
def _read_header(f: IO[bytes]) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """The shape and dtype in the ``.npy`` header at the start of ``f``; checks the header's
    claimed length before numpy reads it (numpy reads a header of any claimed length first
    and checks it after)."""
    version = np.lib.format.read_magic(f)
    if version not in ((1, 0), (2, 0)):  # 3.0: only for structured dtypes, never numeric
        raise ValueError(f"unsupported .npy format version {version}")
    size_format = "<H" if version == (1, 0) else "<I"
    raw = f.read(struct.calcsize(size_format))
    if len(raw) != struct.calcsize(size_format):
        raise ValueError("the header is truncated")
    (header_length,) = struct.unpack(size_format, raw)
    if header_length > _MAX_NPY_HEADER:
        raise ValueError(
            f"its header claims {header_length} bytes, more than the {_MAX_NPY_HEADER} numpy "
            "reads safely"
        )
    f.seek(0)
    np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    return shape, dtype


def _check_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: str) -> int:
    """Check the ``.npy`` header of the entry ``info`` without reading its data: a numeric
    dtype, and an entry that can hold as many data bytes as the shape needs (so a corrupt
    header cannot ask for a huge allocation, and a truncated entry is named as such).

    Returns:
        The bytes of array data the header claims.
    """
    name = info.filename[:-4]
    try:
        with zf.open(info) as f:
            shape, dtype = _read_header(f)
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
    data_bytes = math.prod(shape) * dtype.itemsize
    needed = header_size + data_bytes
    size = info.file_size  # what the entry declares; zipfile never inflates more than this
    if size < needed:
        raise ModelFileError(
            f"load(): {path!r} is truncated or corrupt: {name!r} of shape {shape} and dtype "
            f"{dtype} needs {needed} bytes but its entry holds {size}", path
        )
    if (
        info.compress_type == zipfile.ZIP_DEFLATED
        and needed > info.compress_size * _DEFLATE_MAX_RATIO + 1024
    ):
        raise ModelFileError(
            f"load(): {path!r} is corrupt: {name!r} of shape {shape} and dtype {dtype} needs "
            f"{needed} bytes but its entry holds {info.compress_size} deflated bytes, which "
            f"cannot inflate to more than {_DEFLATE_MAX_RATIO} times as many", path
        )
    return data_bytes


def _too_large(path: str, claimed: int, limit: int, what: str) -> ModelFileError:
    return ModelFileError(
        f"load(): {path!r} claims {_bytes_text(claimed)} of array data{what}, more than the "
        f"limit of {_bytes_text(limit)}; refused before reading any of it. If you trust the "
        "file, raise the limit: load(path, max_bytes=...) (or set "
        "tinygrad_fish.serialization.MAX_LOAD_BYTES)", path
    )


def _check_not_special(path: str) -> None:
    """Refuse a path that is not a regular file (a FIFO would block the read forever)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise ModelFileError(
            f"load(): cannot read the model file {path!r}: {e.strerror or e}", path, e.errno
        ) from e
    if not stat.S_ISREG(mode):
        raise ModelFileError(
            f"load(): {path!r} is {_describe_kind(mode)}, not a model file", path,
            errno_codes.EISDIR if stat.S_ISDIR(mode) else None,
        )


def _read_file(path: str, limit: int) -> dict[str, Array]:
    """Every array in the ``.npz`` file ``path``, checked, in native byte order."""
    _check_not_special(path)
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
            members = zf.infolist()
            names = [m.filename for m in members]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ModelFileError(
                    f"load(): {path!r} is not a valid model file: it has several entries "
                    f"named {', '.join(map(repr, duplicates))} (which one wins is arbitrary); "
                    "save it again with tinygrad_fish.serialization.save", path
                )
            total = 0
            for member in members:  # check everything before reading any data
                if not member.filename.endswith(".npy"):
                    raise ModelFileError(
                        f"load(): {path!r} is not a valid model file: its entry "
                        f"{member.filename!r} is not a .npy array", path
                    )
                claimed = _check_member(zf, member, path)
                if claimed > limit:
                    raise _too_large(path, claimed, limit, f" for {member.filename[:-4]!r}")
                total += claimed
            if total > limit:
                raise _too_large(path, total, limit, f" in {len(members)} entries")
            for member in members:
                with zf.open(member) as f:
                    arr = np.lib.format.read_array(f, allow_pickle=False)
                if not arr.dtype.isnative:
                    arr = arr.astype(arr.dtype.newbyteorder("="))
                out[member.filename[:-4]] = arr
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
    path: PathArg,
    into: Module | Mapping[str, Any] | None = None,
    *,
    strict: bool = True,
    max_bytes: int | None = None,
) -> dict[str, Array]:
    """Read a model file written by :func:`save` (or ``np.savez``), optionally into a model.

    Args:
        path: the ``.npz`` file: a ``str``, ``bytes`` (decoded by :func:`os.fsdecode`) or
            ``os.PathLike``.
        into: None to just read the arrays; or a Module, a state dict or the book's
            ``params`` dict whose arrays receive the saved values, in place, after every
            name, shape and dtype has been checked.
        strict: with ``into``, require exactly the target's names in the file (no missing,
            no unexpected); ``strict=False`` loads the names both have and ignores the rest.
            Shapes and dtypes are checked either way.
        max_bytes: the most bytes of array data to read, all entries together; None means
            :data:`MAX_LOAD_BYTES` (1 GiB unless changed). Checked against what the entries'
            ``.npy`` headers claim, before any data is read.

    A failed load into ``into`` lists every difference found in one error (the first of
    StateDictError, ShapeError, DTypeError that applies) and leaves the target unchanged.

    Returns:
        ``{name: array}`` as saved, in the file's order (native byte order).

    Raises:
        ModelFileError: the file is missing or unreadable, not a regular file (a directory, a
            FIFO...), not an ``.npz`` file, truncated or corrupt, has two entries of the same
            name, holds object (pickled) or other non-numeric arrays, or claims more than
            ``max_bytes`` of data (the message gives the claimed size and how to raise the
            limit); names the path.
        StateDictError: (a ``KeyError``) names missing from or unexpected in the file.
        ShapeError: a saved array's shape differs from the target's, or a target array is
            read-only.
        DTypeError: a saved array's dtype differs from the target's.
        TypeError: ``into`` is not a Module or a mapping, or one of its values is neither a
            numpy array nor a Tensor; ``path`` is not a path; ``max_bytes`` is not an int.
        InvalidArgumentError: (a ``ValueError``) ``max_bytes`` is negative.
    """
    limit = MAX_LOAD_BYTES if max_bytes is None else max_bytes
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"load(): max_bytes must be an int or None, got {limit!r}")
    if limit < 0:
        raise InvalidArgumentError(f"load(): max_bytes must be >= 0, got {limit}")
    p = _as_path(path)
    loaded = _read_file(p, limit)
    if into is not None:
        _copy_into(p, loaded, into, strict)
    return loaded
