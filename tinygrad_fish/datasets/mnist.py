"""MNIST, loaded the way the fish book's ``dataset/mnist.py`` loads it, without pickle.

:func:`load_mnist` returns ``((x_train, t_train), (x_test, t_test))`` with the book's shapes
and dtypes. The four standard IDX files are read from a data directory (``root=``, else
``$TINYGRAD_FISH_DATA``, else ``$XDG_CACHE_HOME/tinygrad_fish/mnist``, else
``~/.cache/tinygrad_fish/mnist``), each as ``<name>.gz`` or raw ``<name>``. Missing or
corrupted files are fetched from :data:`MIRRORS` in turn (see :func:`download_mnist`).

Every file, cached or freshly downloaded, is checked against the SHA-256 of its decompressed
bytes, and every IDX header is validated, so a truncated download or a wrong file gives a
:class:`~tinygrad_fish.errors.DatasetError` naming the file and the problem rather than a
strange array. Nothing is ever pickled or unpickled, and no second cache is written: parsing
the gzip files takes about a third of a second.

Downloads are bounded: a file may not inflate to more than its known size
(:data:`MNIST_SIZES`), a mirror may not send more than any gzip of it can take, and one mirror
has :data:`DEFAULT_DEADLINE` seconds in all for one file (``deadline=``), however slowly it
drips. Whatever goes wrong with one mirror moves on to the next one, and ends, if every
mirror fails, in one :class:`~tinygrad_fish.errors.DatasetError` listing what each did.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import socket
import struct
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from numbers import Real
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from tinygrad_fish.errors import (
    DataDirectoryError,
    DataNotFoundError,
    DatasetError,
    DownloadError,
    InvalidArgumentError,
)

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_TIMEOUT",
    "MIRRORS",
    "MNIST_FILES",
    "MNIST_SHA256",
    "MNIST_SIZES",
    "default_data_dir",
    "download_mnist",
    "load_mnist",
    "read_idx",
]

#: Public MNIST mirrors, tried in this order. Each is a base URL; ``<name>.gz`` is appended.
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: The four MNIST files, by the keys the book uses.
MNIST_FILES: Mapping[str, str] = {
    "train_img": "train-images-idx3-ubyte",
    "train_label": "train-labels-idx1-ubyte",
    "test_img": "t10k-images-idx3-ubyte",
    "test_label": "t10k-labels-idx1-ubyte",
}

#: SHA-256 of each file's *decompressed* bytes.
MNIST_SHA256: Mapping[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: The size in bytes of each file, decompressed. No file may inflate to more than this (a
#: smaller one then fails its checksum), and no mirror may send more than
#: ``size + size // 8 + 65536`` bytes for it: more than any gzip of it takes, even one that
#: stores it uncompressed, and enough for a mirror that serves it raw.
MNIST_SIZES: Mapping[str, int] = {
    "train-images-idx3-ubyte": 47040016,
    "train-labels-idx1-ubyte": 60008,
    "t10k-images-idx3-ubyte": 7840016,
    "t10k-labels-idx1-ubyte": 10008,
}

#: Seconds a connection or a read may stall before a mirror is given up.
DEFAULT_TIMEOUT = 30.0

#: Seconds one mirror has for one file, all told (connecting, the headers and the whole
#: body), however it trickles: 10 minutes, enough for the 9.9 MB training images at
#: 16 KB/s.
DEFAULT_DEADLINE = 600.0

_ENV_VAR = "TINYGRAD_FISH_DATA"
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16
_IMAGE_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
_LABEL_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
_ROWS = _COLS = 28
_N_CLASSES = 10

# IDX type code -> big-endian numpy dtype.
_IDX_DTYPES: Mapping[int, str] = {
    0x08: "u1",
    0x09: "i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}

MnistSplit = tuple[npt.NDArray[Any], npt.NDArray[Any]]


# --------------------------------------------------------------------------- the data directory


def default_data_dir() -> Path:
    """The directory MNIST is read from when no ``root`` is given.

    ``$TINYGRAD_FISH_DATA`` if set and non-empty, else ``$XDG_CACHE_HOME/tinygrad_fish/mnist``
    (when ``XDG_CACHE_HOME`` is an absolute path), else ``~/.cache/tinygrad_fish/mnist``.
    """
    env = os.environ.get(_ENV_VAR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "tinygrad_fish" / "mnist"


def _resolve_root(root: str | os.PathLike[str] | None) -> Path:
    """The data directory: ``root``, ``$TINYGRAD_FISH_DATA`` or the default cache directory.
    Only the last may be created later; a directory named by the other two must exist.

    Raises:
        DataDirectoryError: ``root`` or ``$TINYGRAD_FISH_DATA`` is not a directory.
    """
    if root is not None:
        path, source = Path(root).expanduser(), "root"
    elif os.environ.get(_ENV_VAR):
        path, source = default_data_dir(), _ENV_VAR
    else:
        return default_data_dir()
    if not path.is_dir():
        what = "does not exist" if not os.path.lexists(path) else "is not a directory"
        named = f"root={str(path)!r}" if source == "root" else f"${_ENV_VAR}={path}"
        err = DataDirectoryError(
            f"the MNIST directory {path} ({named}) {what}; it is not created for you, in "
            f"case it is mistyped: create it, or name the directory holding the four MNIST "
            f"files (unset ${_ENV_VAR} and pass no root to download them into "
            f"~/.cache/tinygrad_fish/mnist)"
        )
        err.path, err.source = str(path), source
        raise err
    return path


# --------------------------------------------------------------------------- IDX parsing


def _decompress(raw: bytes, source: str) -> bytes:
    """The IDX bytes of a file's contents: gunzipped if they start with the gzip magic."""
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DatasetError(f"{source}: not a valid gzip file ({e})") from e


def _inflate(raw: bytes, source: str, limit: int) -> bytes:
    """The IDX bytes of a file's contents, as :func:`_decompress`, but never more than
    ``limit`` bytes: inflated incrementally, it stops (and fails) at the first byte over, so
    a gzip bomb costs ``limit`` bytes of memory, not what it would inflate to."""
    if not raw.startswith(_GZIP_MAGIC):
        if len(raw) > limit:
            raise DatasetError(
                f"{source}: {len(raw)} bytes, more than the {limit} bytes the file has"
            )
        return raw
    out = bytearray()
    data = raw
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip: header, CRC-32 and size checked
    try:
        while True:
            chunk = d.decompress(data, limit + 1 - len(out))
            out += chunk
            if len(out) > limit:
                raise DatasetError(
                    f"{source}: inflates to more than the {limit} bytes the file has "
                    "(a gzip bomb or another file); stopped there"
                )
            data = d.unconsumed_tail
            if d.eof:
                data = d.unused_data
                if not data:
                    return bytes(out)
                if not data.startswith(_GZIP_MAGIC):
                    raise DatasetError(
                        f"{source}: not a valid gzip file ({len(data)} bytes of garbage after "
                        "the compressed data)"
                    )
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # another gzip member follows
            elif not data and not chunk:
                raise DatasetError(
                    f"{source}: not a valid gzip file (truncated: the compressed data end "
                    "before the end of the stream)"
                )
    except zlib.error as e:
        raise DatasetError(f"{source}: not a valid gzip file ({e})") from e


def _parse_idx(data: bytes, source: str, expect_magic: int | None = None) -> npt.NDArray[Any]:
    """Parse IDX bytes into a native-endian, writable array; ``source`` names it in errors."""
    if len(data) < 4:
        raise DatasetError(f"{source}: too short for an IDX header ({len(data)} bytes)")
    (magic,) = struct.unpack(">I", data[:4])
    if expect_magic is not None and magic != expect_magic:
        raise DatasetError(
            f"{source}: bad magic number 0x{magic:08X}, expected 0x{expect_magic:08X}"
        )
    if data[:2] != b"\x00\x00":
        raise DatasetError(f"{source}: bad magic number 0x{magic:08X}, not an IDX file")
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_DTYPES:
        raise DatasetError(
            f"{source}: bad magic number 0x{magic:08X}, unknown IDX data type 0x{type_code:02X}"
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DatasetError(
            f"{source}: truncated header: {ndim} dimensions need {header_len} bytes, "
            f"the file has {len(data)}"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = header_len + math.prod(dims) * dtype.itemsize
    if len(data) < expected:
        raise DatasetError(
            f"{source}: truncated: the header says shape {tuple(dims)} of {dtype.name}, "
            f"which needs {expected} bytes, but the file has {len(data)}"
        )
    if len(data) > expected:
        raise DatasetError(
            f"{source}: {len(data) - expected} unexpected trailing bytes after the "
            f"shape {tuple(dims)} the header describes"
        )
    flat = np.frombuffer(data, dtype=dtype, offset=header_len)
    return flat.astype(dtype.newbyteorder("="), copy=True).reshape(dims)


def read_idx(path: str | os.PathLike[str]) -> npt.NDArray[Any]:
    """Read any IDX file, gzipped or raw, into a numpy array.

    The shape is the one in the header (``(N, 28, 28)`` for MNIST images, ``(N,)`` for
    labels); the dtype follows the IDX type code (``uint8``, ``int8``, ``int16``, ``int32``,
    ``float32``, ``float64``), converted to native byte order. The array is a writable copy.
    Gzip is detected from the file's first bytes, not its name.

    Raises:
        DatasetError: the file cannot be read, is not valid gzip, or its header is bad or
            does not match its length. The message names the file.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise DatasetError(f"cannot read IDX file {p}: {e}") from e
    return _parse_idx(_decompress(raw, str(p)), str(p))


# --------------------------------------------------------------------------- downloading


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _expected_sha(checksums: Mapping[str, str | None], name: str) -> str | None:
    try:
        return checksums[name]
    except KeyError:
        raise ValueError(f"checksums has no entry for {name!r} (use None to skip)") from None


def _expected_size(sizes: Mapping[str, int], name: str) -> int:
    try:
        size = sizes[name]
    except KeyError:
        raise ValueError(f"sizes has no entry for {name!r} (its size decompressed)") from None
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidArgumentError(
            f"sizes[{name!r}] must be the file's size in bytes (an int >= 0), got {size!r}"
        )
    return size


def _download_cap(size: int) -> int:
    """The most bytes a mirror may send for a file of ``size`` bytes decompressed: more than
    any gzip of it needs (deflate stores incompressible data with 5 bytes per 64 KiB; even
    fixed Huffman codes add at most 1/8), and room for a mirror that serves it raw."""
    return size + size // 8 + 65536


def _check_deadline(deadline: Any) -> float:
    if isinstance(deadline, bool) or not isinstance(deadline, Real):
        raise TypeError(f"deadline must be a number of seconds, got {deadline!r}")
    value = float(deadline)
    if not value > 0:  # also refuses NaN; math.inf means no deadline
        raise InvalidArgumentError(f"deadline must be > 0 seconds, got {deadline!r}")
    return value


@contextmanager
def _progress(total: int | None, desc: str, progress: bool | None) -> Iterator[Any]:
    """A tqdm bar; without tqdm (an optional dependency) none, unless ``progress=True``
    asked for one (MissingDependencyError)."""
    disable = (not sys.stderr.isatty()) if progress is None else not progress
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        if progress:
            from tinygrad_fish._optional import import_optional

            import_optional("tqdm.auto", "a download progress bar (progress=True)")
        yield _NoBar()
        return
    bar = tqdm(
        total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
        disable=disable, leave=False,
    )
    try:
        yield bar
    finally:
        bar.close()


class _NoBar:
    """What :func:`_progress` gives without tqdm: a bar that shows nothing."""

    def update(self, n: int) -> None:
        pass


class _Watchdog:
    """Enforces one download's deadline: when it passes, the download's sockets are shut
    down, which wakes any read blocked on them (the per-read ``timeout`` alone lets a mirror
    that sends one byte at a time go on for ever)."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.expired = False
        self._timer: threading.Timer | None = None
        if math.isfinite(seconds):
            self._timer = threading.Timer(seconds, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def register(self, sock: socket.socket) -> None:
        # A duplicate descriptor of the same connection: shutting it down ends the
        # connection even after ssl has wrapped (and detached) the original socket object.
        dup = sock.dup()
        with self._lock:
            self._sockets.append(dup)
            if self.expired:
                self._shutdown(dup)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                self._shutdown(sock)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def connection_class(self, http_class: Any) -> Callable[..., http.client.HTTPConnection]:
        """``http_class`` (HTTPConnection or HTTPSConnection) with its sockets watched."""

        def make(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
            conn: http.client.HTTPConnection = http_class(*args, **kwargs)
            create = getattr(conn, "_create_connection", None)
            if create is not None:  # CPython: every socket the connection opens
                def create_watched(*a: Any, **kw: Any) -> socket.socket:
                    sock: socket.socket = create(*a, **kw)
                    self.register(sock)
                    return sock

                conn._create_connection = create_watched  # type: ignore[attr-defined]
            return conn

        return make


def _opener(watchdog: _Watchdog) -> urllib.request.OpenerDirector:
    """urllib's default opener, with the sockets of its HTTP(S) connections watched."""

    class WatchedHTTP(urllib.request.HTTPHandler):
        def do_open(self, http_class: Any, req: Any, **kw: Any) -> http.client.HTTPResponse:
            return super().do_open(watchdog.connection_class(http_class), req, **kw)

    class WatchedHTTPS(urllib.request.HTTPSHandler):
        def do_open(self, http_class: Any, req: Any, **kw: Any) -> http.client.HTTPResponse:
            return super().do_open(watchdog.connection_class(http_class), req, **kw)

    return urllib.request.build_opener(WatchedHTTP(), WatchedHTTPS())


def _fetch_to(
    url: str,
    out: IO[bytes],
    *,
    timeout: float,
    deadline: float,
    cap: int,
    desc: str,
    progress: bool | None,
) -> None:
    """Stream ``url`` into ``out``: at most ``cap`` bytes, within ``deadline`` seconds in
    all. Raises DatasetError for those two, else OSError / HTTPException / ValueError."""
    too_late = DatasetError(
        f"gave up after the deadline of {deadline:g} s for one file from one mirror "
        "(pass deadline= to allow more)"
    )
    too_much = DatasetError(
        f"sent more than {cap} bytes, more than any copy of {desc} can take; gave up"
    )
    end = time.monotonic() + deadline
    watchdog = _Watchdog(deadline)
    try:
        with _opener(watchdog).open(url, timeout=min(timeout, deadline)) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > cap:
                raise DatasetError(
                    f"announces {total} bytes, more than any copy of {desc} can take "
                    f"({cap}); not downloaded"
                )
            read = getattr(resp, "read1", resp.read)  # read1: whatever has arrived
            with _progress(total, desc, progress) as bar:
                got = 0
                while chunk := read(_CHUNK):
                    got += len(chunk)
                    if got > cap:
                        raise too_much
                    if time.monotonic() > end:
                        raise too_late
                    out.write(chunk)
                    bar.update(len(chunk))
            if watchdog.expired:
                raise too_late
            if total is not None and got != total:
                raise http.client.IncompleteRead(b"", total - got)
    except DatasetError:
        raise
    except (OSError, http.client.HTTPException) as e:
        if watchdog.expired:  # the shutdown made the read fail
            raise too_late from e
        raise
    finally:
        watchdog.close()


def _mkdir(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DatasetError(
            f"cannot create the MNIST data directory {root}: {e}; pass root= or set "
            f"${_ENV_VAR} to a writable directory"
        ) from e


def _in_the_way(path: Path) -> DatasetError:
    what = "a directory" if path.is_dir() else "not a regular file"
    return DatasetError(
        f"{path} is {what}, not an MNIST file: remove it (it is not removed for you) or "
        f"pass another root=, so that {path.name} can be stored there"
    )


def _download_one(
    root: Path,
    name: str,
    *,
    mirrors: Sequence[str],
    expected_sha: str | None,
    size: int,
    timeout: float,
    deadline: float,
    progress: bool | None,
) -> tuple[Path, bytes]:
    """Fetch ``name`` from the first good mirror into ``root``; return its path and IDX bytes.

    Each attempt streams into a temp file in ``root`` that is removed unless it passes the
    checksum, in which case it is atomically renamed into place. Whatever fails with one
    mirror (an HTTP or network error, the size caps, the deadline, bad gzip, a checksum
    mismatch, even a MemoryError) is noted and the next mirror is tried.
    """
    _mkdir(root)
    failures: list[str] = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name + ".gz"
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=root)
        except OSError as e:
            raise DatasetError(
                f"cannot write to the MNIST data directory {root}: {e}; pass root= or set "
                f"${_ENV_VAR} to a writable directory"
            ) from e
        tmp = Path(tmp_name)
        try:
            try:
                with os.fdopen(fd, "wb") as out:
                    _fetch_to(url, out, timeout=timeout, deadline=deadline,
                              cap=_download_cap(size), desc=name + ".gz", progress=progress)
                raw = tmp.read_bytes()
                data = _inflate(raw, url, size)
            except DatasetError as e:
                failures.append(str(e) if str(e).startswith(url) else f"{url}: {e}")
                continue
            except Exception as e:  # one mirror's failure, whatever it is (MemoryError too)
                failures.append(f"{url}: {type(e).__name__}: {e}")
                continue
            if expected_sha is not None and (got := _sha256(data)) != expected_sha:
                failures.append(
                    f"{url}: checksum mismatch (sha256 {got}, expected {expected_sha})"
                )
                continue
            dest = root / (name + ".gz" if raw.startswith(_GZIP_MAGIC) else name)
            if os.path.lexists(dest) and not dest.is_file():
                raise _in_the_way(dest)
            try:
                os.replace(tmp, dest)
            except OSError as e:
                raise DatasetError(
                    f"cannot store the downloaded {name} as {dest}: {e}; pass root= or set "
                    f"${_ENV_VAR} to a writable directory"
                ) from e
            return dest, data
        finally:
            tmp.unlink(missing_ok=True)
    tried = "\n  ".join(failures) if failures else "(no mirrors given)"
    raise DownloadError(f"could not download {name} into {root}; every mirror failed:\n  {tried}")


def _get_file(
    root: Path,
    name: str,
    *,
    download: bool,
    mirrors: Sequence[str],
    checksums: Mapping[str, str | None],
    sizes: Mapping[str, int],
    timeout: float,
    deadline: float,
    progress: bool | None,
    force: bool = False,
) -> tuple[Path, bytes]:
    """Path and verified IDX bytes of ``name`` in ``root``, downloading it if need be."""
    expected_sha = _expected_sha(checksums, name)
    size = _expected_size(sizes, name)
    candidates = (root / name, root / (name + ".gz"))
    found = None if force else next((p for p in candidates if p.is_file()), None)
    problem = f"{name} (or {name}.gz) not found in {root}"
    if found is not None:
        try:
            on_disk = found.stat().st_size
            if on_disk > _download_cap(size):
                raise DatasetError(f"{on_disk} bytes, more than any copy of it can take")
            data = _inflate(found.read_bytes(), str(found), size)
        except OSError as e:  # includes DatasetError for bad gzip or a wrong size
            problem = f"{found} is unreadable or corrupted: {e}"
        else:
            if expected_sha is None or (got := _sha256(data)) == expected_sha:
                return found, data
            problem = f"{found} is corrupted: sha256 {got}, expected {expected_sha}"
    for p in candidates:  # a directory (or FIFO...) where the file belongs: never removed
        if p.exists() and not p.is_file():
            raise _in_the_way(p)
    if not download:
        missing = DataNotFoundError(
            f"{problem}; call with download=True to fetch it, or set ${_ENV_VAR} (or "
            "root=) to the directory holding the MNIST files"
        )
        missing.problem = problem
        raise missing
    dest, data = _download_one(
        root, name, mirrors=mirrors, expected_sha=expected_sha, size=size, timeout=timeout,
        deadline=deadline, progress=progress,
    )
    if found is not None and found != dest:
        found.unlink(missing_ok=True)  # a corrupted raw file would shadow the new .gz
    return dest, data


def download_mnist(
    root: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] = MIRRORS,
    checksums: Mapping[str, str | None] = MNIST_SHA256,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
    force: bool = False,
    deadline: float = DEFAULT_DEADLINE,
    sizes: Mapping[str, int] = MNIST_SIZES,
) -> dict[str, Path]:
    """Make sure the four MNIST files are in ``root`` and intact; fetch those that are not.

    Files already present (``<name>`` or ``<name>.gz``) are verified against ``checksums``
    (SHA-256 of the decompressed bytes) and re-fetched if they do not match. Each missing
    file is downloaded as ``<mirror>/<name>.gz`` from ``mirrors`` in turn: an HTTP error, a
    stall longer than ``timeout`` seconds, a download taking longer than ``deadline``
    seconds, a body larger than any copy of the file can be, a file that inflates to more
    than its size in ``sizes`` (a gzip bomb: inflated incrementally, it fails at the first
    byte over), bad gzip or a checksum mismatch moves on to the next mirror. Downloads
    stream into a temp file in ``root`` that is renamed into place only once verified, so a
    failed download leaves nothing behind.

    Args:
        root: the data directory; ``None`` means :func:`default_data_dir`. Only the default
            cache directory (no ``root``, no ``$TINYGRAD_FISH_DATA``) is created if need be;
            a directory named by either must exist.
        mirrors: base URLs to try, in order.
        checksums: file name -> expected SHA-256 hex digest (``None`` skips the check).
        timeout: seconds a connection or read may stall before that mirror is given up.
        progress: show a tqdm progress bar; ``None`` shows it only when stderr is a terminal.
        force: download even files that are present and intact.
        deadline: seconds one mirror has for one file, all told (connecting, headers and
            body), however slowly it sends; ``math.inf`` for none. Default
            :data:`DEFAULT_DEADLINE` (600).
        sizes: file name -> its size in bytes decompressed (default :data:`MNIST_SIZES`);
            a file may not inflate to more, and a mirror may not send more than
            ``size + size // 8 + 65536`` bytes for it. Give your own with your own
            ``checksums`` for other data under the same names.

    Returns:
        File name (e.g. ``"train-images-idx3-ubyte"``) -> path of the verified file.

    Raises:
        DataDirectoryError: (a DatasetError) ``root`` or ``$TINYGRAD_FISH_DATA`` is not a
            directory.
        DownloadError: (a DatasetError) every mirror failed for some file (the message
            lists each mirror and why).
        DatasetError: the directory cannot be created or written, or a directory (or
            another non-regular file) is where a file belongs (remove it: it is never
            removed for you).
        ValueError: ``checksums`` or ``sizes`` has no entry for one of the files.
        InvalidArgumentError: (a ``ValueError``) ``deadline`` is not > 0, or a size is not
            an int >= 0.
        TypeError: ``deadline`` is not a number.
    """
    base = _resolve_root(root)
    limit = _check_deadline(deadline)
    return {
        name: _get_file(
            base, name, download=True, mirrors=mirrors, checksums=checksums, sizes=sizes,
            timeout=timeout, deadline=limit, progress=progress, force=force,
        )[0]
        for name in MNIST_FILES.values()
    }


# --------------------------------------------------------------------------- loading


def _one_hot(labels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    out = np.zeros((labels.size, _N_CLASSES), dtype=np.float32)
    out[np.arange(labels.size), labels] = 1.0
    return out


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    *,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    mirrors: Sequence[str] = MIRRORS,
    checksums: Mapping[str, str | None] = MNIST_SHA256,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
    deadline: float = DEFAULT_DEADLINE,
    sizes: Mapping[str, int] = MNIST_SIZES,
) -> tuple[MnistSplit, MnistSplit]:
    """Load MNIST as ``((x_train, t_train), (x_test, t_test))``, like the fish book.

    Shapes and dtypes (``N`` is 60000 for train, 10000 for test):

    * images: ``(N, 784)`` if ``flatten`` else ``(N, 1, 28, 28)``; ``float32`` in
      ``[0, 1]`` (pixel / 255) if ``normalize`` else ``uint8`` in ``[0, 255]``.
    * labels: ``uint8`` of shape ``(N,)`` with values 0-9, or, if ``one_hot_label``,
      ``float32`` of shape ``(N, 10)`` with a single 1 per row. (The book's one-hot labels
      are ``float64``; ``float32`` matches the normalized images, halves the memory and
      gives the same results with the book's loss functions.)

    All arrays are writable and own their memory.

    Args:
        normalize: scale pixels to ``float32`` in ``[0, 1]``.
        flatten: give each image as a 784-vector rather than a ``1x28x28`` array.
        one_hot_label: give labels as one-hot rows.
        root: the data directory; ``None`` means :func:`default_data_dir`. A directory
            named by ``root`` or ``$TINYGRAD_FISH_DATA`` must exist (only the default cache
            directory is created).
        download: fetch missing or corrupted files (see :func:`download_mnist`); if False,
            such a file raises :class:`~tinygrad_fish.errors.DataNotFoundError`.
        mirrors, checksums, timeout, progress, deadline, sizes: as for
            :func:`download_mnist`.

    Raises:
        DataNotFoundError: (a DatasetError) a file is missing or corrupted and
            ``download=False``.
        DataDirectoryError: (a DatasetError) ``root`` or ``$TINYGRAD_FISH_DATA`` is not a
            directory.
        DownloadError: (a DatasetError) every mirror failed for a file.
        DatasetError: a file is missing (with ``download=False``), corrupted, malformed or
            cannot be fetched, a directory is where a file belongs, or the data directory
            cannot be written. The message names the file and the problem.
        ValueError: ``checksums`` or ``sizes`` has no entry for one of the files.
        InvalidArgumentError: (a ``ValueError``) ``deadline`` is not > 0, or a size is not
            an int >= 0.
        TypeError: ``deadline`` is not a number.
    """
    base = _resolve_root(root)
    limit = _check_deadline(deadline)
    arrays: dict[str, npt.NDArray[Any]] = {}
    for key, name in MNIST_FILES.items():
        path, data = _get_file(
            base, name, download=download, mirrors=mirrors, checksums=checksums, sizes=sizes,
            timeout=timeout, deadline=limit, progress=progress,
        )
        is_img = key.endswith("_img")
        arr = _parse_idx(data, str(path), _IMAGE_MAGIC if is_img else _LABEL_MAGIC)
        if is_img and arr.shape[1:] != (_ROWS, _COLS):
            raise DatasetError(
                f"{path}: images are {arr.shape[1]}x{arr.shape[2]}, expected "
                f"{_ROWS}x{_COLS}"
            )
        if not is_img and arr.size and int(arr.max()) >= _N_CLASSES:
            raise DatasetError(f"{path}: label {int(arr.max())} is out of range 0-9")
        arrays[key] = arr

    def split(prefix: str) -> MnistSplit:
        x, t = arrays[prefix + "_img"], arrays[prefix + "_label"]
        if len(x) != len(t):
            raise DatasetError(
                f"{MNIST_FILES[prefix + '_img']} has {len(x)} images but "
                f"{MNIST_FILES[prefix + '_label']} has {len(t)} labels in {base}"
            )
        x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, _ROWS, _COLS)
        if normalize:
            x = x.astype(np.float32)
            x /= 255.0
        return x, (_one_hot(t) if one_hot_label else t)

    return split("train"), split("test")
