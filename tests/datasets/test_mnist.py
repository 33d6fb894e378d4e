"""Tests of tinygrad_fish.datasets: IDX parsing, load_mnist and downloads from a local server.

The fast tests write their own tiny IDX files (7 train and 5 test images) and pass their own
checksum table; downloads go to an http.server on 127.0.0.1 only. The one slow test reads the
real MNIST from $TINYGRAD_FISH_DATA.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import struct
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import mnist_root

import tinygrad_fish.datasets.mnist as mnist_module
from tinygrad_fish.datasets import (
    DEFAULT_DEADLINE,
    MIRRORS,
    MNIST_FILES,
    MNIST_SHA256,
    MNIST_SIZES,
    default_data_dir,
    download_mnist,
    load_mnist,
    read_idx,
)
from tinygrad_fish.errors import (
    DataDirectoryError,
    DataNotFoundError,
    DatasetError,
    DownloadError,
    InvalidArgumentError,
)

REPO = Path(__file__).resolve().parents[2]
N_TRAIN, N_TEST = 7, 5
NAMES = list(MNIST_FILES.values())
TRAIN_IMG, TRAIN_LBL, TEST_IMG, TEST_LBL = NAMES
NO_CHECKSUMS: dict[str, str | None] = dict.fromkeys(NAMES)


# --------------------------------------------------------------------------- helpers


def idx_bytes(arr: np.ndarray, magic: int | None = None) -> bytes:
    """Encode ``arr`` as IDX (big-endian); ``magic`` overrides the computed magic number."""
    codes = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
    code = codes[arr.dtype.kind + str(arr.dtype.itemsize)]
    if magic is None:
        magic = (code << 8) | arr.ndim
    header = struct.pack(f">I{arr.ndim}I", magic, *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fake_mnist() -> dict[str, bytes]:
    """Raw (uncompressed) IDX bytes of a tiny MNIST look-alike, by file name."""
    rng = np.random.default_rng(0)
    return {
        TRAIN_IMG: idx_bytes(rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8)),
        TRAIN_LBL: idx_bytes(np.array([0, 1, 2, 3, 9, 9, 5], dtype=np.uint8)),
        TEST_IMG: idx_bytes(rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8)),
        TEST_LBL: idx_bytes(np.array([7, 0, 4, 4, 8], dtype=np.uint8)),
    }


FILES = fake_mnist()
CHECKSUMS: dict[str, str | None] = {name: sha(data) for name, data in FILES.items()}


def write_files(root: Path, files: Mapping[str, bytes], gz: bool) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if gz:
            (root / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (root / name).write_bytes(data)


@pytest.fixture(params=["gz", "raw"])
def data_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    write_files(tmp_path, FILES, gz=request.param == "gz")
    return tmp_path


# --------------------------------------------------------------------------- local HTTP server


Responder = Callable[[BaseHTTPRequestHandler, threading.Event], None]


class Server:
    """A ThreadingHTTPServer on 127.0.0.1 serving ``routes``; ``stall`` paths hang;
    ``special`` paths are answered by their function (given the handler and the event set
    when the server closes)."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.stall: set[str] = set()
        self.special: dict[str, Responder] = {}
        self.requests: list[str] = []
        self.release = threading.Event()
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                state.requests.append(self.path)
                if self.path in state.special:
                    with contextlib.suppress(OSError):  # the client hung up, as it should
                        state.special[self.path](self, state.release)
                    return
                if self.path in state.stall:
                    state.release.wait(10)
                body = state.routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        class Quiet(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that timed out closes its socket; that is expected

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def mirror(self, prefix: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{prefix}/"

    def serve(self, prefix: str, files: Mapping[str, bytes], gz: bool = True) -> str:
        for name, data in files.items():
            self.routes[f"/{prefix}/{name}.gz"] = gzip.compress(data) if gz else data
        return self.mirror(prefix)

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def corrupt(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


# --------------------------------------------------------------------------- read_idx


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize(
    "arr",
    [
        np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
        np.array([5, 0, 9], dtype=np.uint8),
        np.array([-3, 7], dtype=np.int8),
        np.array([[-300, 2], [1, 32000]], dtype=np.int16),
        np.array([1, -70000], dtype=np.int32),
        np.array([[1.5, -2.25]], dtype=np.float32),
        np.array([np.pi], dtype=np.float64),
    ],
    ids=lambda a: str(a.dtype) + "x" + "x".join(map(str, a.shape)),
)
def test_read_idx_roundtrip(tmp_path: Path, arr: np.ndarray, gz: bool) -> None:
    data = idx_bytes(arr)
    path = tmp_path / ("f.idx.gz" if gz else "f.idx")
    path.write_bytes(gzip.compress(data) if gz else data)
    out = read_idx(path)
    assert out.dtype == arr.dtype and out.dtype.isnative
    assert out.shape == arr.shape
    np.testing.assert_array_equal(out, arr)
    assert out.flags.writeable


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x00", "too short for an IDX header"),
        (b"\x12\x34\x08\x01" + b"\x00" * 8, "bad magic number 0x12340801, not an IDX file"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "unknown IDX data type 0x07"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated header"),
        (idx_bytes(np.zeros((3, 4), np.uint8))[:-1], "truncated"),
        (idx_bytes(np.zeros((3, 4), np.uint8)) + b"\x00\x00", "2 unexpected trailing bytes"),
    ],
    ids=["short", "magic", "type", "header", "data", "trailing"],
)
def test_read_idx_bad_header(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad-idx"
    path.write_bytes(data)
    with pytest.raises(DatasetError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_truncated_data_message(tmp_path: Path) -> None:
    path = tmp_path / "short-idx"
    path.write_bytes(idx_bytes(np.zeros((3, 4), np.uint8))[:-2])
    with pytest.raises(DatasetError) as info:
        read_idx(path)
    assert "shape (3, 4) of uint8, which needs 24 bytes, but the file has 22" in str(info.value)


def test_read_idx_bad_gzip_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(10, np.uint8)))[:-6])
    with pytest.raises(DatasetError, match="not a valid gzip file"):
        read_idx(path)
    with pytest.raises(DatasetError, match="cannot read IDX file") as info:
        read_idx(tmp_path / "nope")
    assert isinstance(info.value, OSError)


# --------------------------------------------------------------------------- load_mnist


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("one_hot", [True, False])
def test_load_shapes_dtypes(data_dir: Path, normalize: bool, flatten: bool, one_hot: bool) -> None:
    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize, flatten, one_hot, root=data_dir, download=False, checksums=CHECKSUMS
    )
    raw_train = read_idx(data_dir / (TRAIN_IMG + ".gz")) if (
        data_dir / (TRAIN_IMG + ".gz")
    ).exists() else read_idx(data_dir / TRAIN_IMG)
    labels_train = np.array([0, 1, 2, 3, 9, 9, 5], np.uint8)
    for x, t, n in [(x_train, t_train, N_TRAIN), (x_test, t_test, N_TEST)]:
        assert x.shape == ((n, 784) if flatten else (n, 1, 28, 28))
        assert x.dtype == (np.float32 if normalize else np.uint8)
        assert t.shape == ((n, 10) if one_hot else (n,))
        assert t.dtype == (np.float32 if one_hot else np.uint8)
        assert x.flags.writeable and t.flags.writeable
        if normalize:
            assert x.min() >= 0.0 and x.max() <= 1.0
        if one_hot:
            np.testing.assert_array_equal(t.sum(axis=1), np.ones(n))
    expected = raw_train.reshape(x_train.shape)
    if normalize:
        np.testing.assert_array_equal(x_train, expected.astype(np.float32) / np.float32(255))
    else:
        np.testing.assert_array_equal(x_train, expected)
    got_labels = t_train.argmax(axis=1) if one_hot else t_train
    np.testing.assert_array_equal(got_labels, labels_train)


def test_load_is_book_compatible_positional(data_dir: Path) -> None:
    (x, t), _ = load_mnist(False, False, True, root=data_dir, download=False,
                           checksums=CHECKSUMS)
    assert x.shape == (N_TRAIN, 1, 28, 28) and x.dtype == np.uint8
    assert t.shape == (N_TRAIN, 10) and t[4, 9] == 1.0


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (TRAIN_IMG, FILES[TRAIN_LBL], "bad magic number 0x00000801, expected 0x00000803"),
        (TEST_LBL, FILES[TEST_IMG], "bad magic number 0x00000803, expected 0x00000801"),
        (TRAIN_IMG, idx_bytes(np.zeros((N_TRAIN, 27, 28), np.uint8)), "27x28, expected 28x28"),
        (TRAIN_IMG, idx_bytes(np.zeros((N_TRAIN, 28, 28), np.int32)), "expected 0x00000803"),
        (TRAIN_IMG, FILES[TRAIN_IMG][:-100], "truncated"),
        (TEST_LBL, idx_bytes(np.array([1, 2, 3], np.uint8)), "has 5 images but"),
        (TEST_LBL, idx_bytes(np.array([1, 2, 3, 10, 4], np.uint8)), "label 10 is out of range"),
    ],
    ids=["img-magic", "label-magic", "dims", "dtype", "truncated", "counts", "label-range"],
)
def test_load_validates_files(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    write_files(tmp_path, {**FILES, name: data}, gz=False)
    with pytest.raises(DatasetError, match=message) as info:
        load_mnist(root=tmp_path, download=False, checksums=NO_CHECKSUMS)
    assert name in str(info.value)


def test_missing_file_without_download(tmp_path: Path) -> None:
    files = dict(FILES)
    del files[TEST_IMG]
    write_files(tmp_path, files, gz=True)
    with pytest.raises(DatasetError) as info:
        load_mnist(root=tmp_path, download=False, checksums=CHECKSUMS)
    msg = str(info.value)
    assert f"{TEST_IMG} (or {TEST_IMG}.gz) not found in {tmp_path}" in msg
    assert "download=True" in msg and "set $TINYGRAD_FISH_DATA (or root=)" in msg
    assert isinstance(info.value, DataNotFoundError)
    assert info.value.problem == f"{TEST_IMG} (or {TEST_IMG}.gz) not found in {tmp_path}"


@pytest.mark.parametrize("gz", [True, False])
def test_corrupted_cache_without_download(tmp_path: Path, gz: bool) -> None:
    write_files(tmp_path, {**FILES, TRAIN_LBL: corrupt(FILES[TRAIN_LBL])}, gz=gz)
    with pytest.raises(DatasetError) as info:
        load_mnist(root=tmp_path, download=False, checksums=CHECKSUMS)
    msg = str(info.value)
    assert TRAIN_LBL in msg and "is corrupted: sha256" in msg
    assert f"expected {CHECKSUMS[TRAIN_LBL]}" in msg


def test_real_checksums_reject_fake_files(data_dir: Path) -> None:
    with pytest.raises(DatasetError, match="is corrupted"):
        load_mnist(root=data_dir, download=False)


def test_checksum_table_must_name_every_file(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="checksums has no entry for"):
        load_mnist(root=data_dir, download=False, checksums={TRAIN_IMG: None})


def test_default_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TINYGRAD_FISH_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "env"
    monkeypatch.setenv("TINYGRAD_FISH_DATA", "")
    assert default_data_dir() == tmp_path / "xdg" / "tinygrad_fish" / "mnist"
    monkeypatch.delenv("TINYGRAD_FISH_DATA")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home" / ".cache" / "tinygrad_fish" / "mnist"


def test_load_reads_env_dir(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("TINYGRAD_FISH_DATA", str(data_dir))
    (x, _), _ = load_mnist(download=False, checksums=CHECKSUMS)
    assert x.shape == (N_TRAIN, 784)


def test_mirrors_constant() -> None:
    assert len(MIRRORS) >= 2 and all(m.startswith(("https://", "http://")) for m in MIRRORS)
    assert set(MNIST_SHA256) == set(NAMES)


# --------------------------------------------------------------------------- downloads


def listing(root: Path) -> list[str]:
    return sorted(os.listdir(root))


def test_download_success(server: Server, tmp_path: Path) -> None:
    root = tmp_path / "a" / "b"
    root.mkdir(parents=True)  # a directory named by root= is never created (see below)
    mirror = server.serve("m1", FILES)
    paths = download_mnist(root, mirrors=[mirror], checksums=CHECKSUMS, progress=True)
    assert listing(root) == sorted(n + ".gz" for n in NAMES)
    assert paths == {n: root / (n + ".gz") for n in NAMES}
    for name in NAMES:
        assert gzip.decompress((root / (name + ".gz")).read_bytes()) == FILES[name]
    # present and intact: nothing more is fetched
    n_requests = len(server.requests)
    (x, _t), _ = load_mnist(root=root, mirrors=[mirror], checksums=CHECKSUMS)
    assert x.shape == (N_TRAIN, 784) and len(server.requests) == n_requests
    download_mnist(root, mirrors=[mirror], checksums=CHECKSUMS, force=True, progress=False)
    assert len(server.requests) == n_requests + 4
    assert listing(root) == sorted(n + ".gz" for n in NAMES)


def test_load_downloads_missing_files(server: Server, tmp_path: Path) -> None:
    write_files(tmp_path, {TRAIN_IMG: FILES[TRAIN_IMG]}, gz=False)
    mirror = server.serve("m1", FILES)
    (x, _t), (_xt, tt) = load_mnist(root=tmp_path, mirrors=[mirror], checksums=CHECKSUMS,
                                  progress=False)
    assert x.shape == (N_TRAIN, 784) and tt.shape == (N_TEST,)
    assert server.requests == [f"/m1/{n}.gz" for n in (TRAIN_LBL, TEST_IMG, TEST_LBL)]
    assert listing(tmp_path) == sorted([TRAIN_IMG, TRAIN_LBL + ".gz", TEST_IMG + ".gz",
                                        TEST_LBL + ".gz"])


def test_download_raw_served_file_is_kept_raw(server: Server, tmp_path: Path) -> None:
    mirror = server.serve("raw", FILES, gz=False)
    paths = download_mnist(tmp_path, mirrors=[mirror], checksums=CHECKSUMS, progress=False)
    assert paths[TEST_LBL] == tmp_path / TEST_LBL
    assert (tmp_path / TEST_LBL).read_bytes() == FILES[TEST_LBL]


def test_404_falls_through_to_next_mirror(server: Server, tmp_path: Path) -> None:
    good = server.serve("good", FILES)
    download_mnist(tmp_path, mirrors=[server.mirror("missing"), good], checksums=CHECKSUMS,
                   progress=False)
    assert listing(tmp_path) == sorted(n + ".gz" for n in NAMES)
    assert server.requests[:2] == [f"/missing/{TRAIN_IMG}.gz", f"/good/{TRAIN_IMG}.gz"]


def test_bad_checksum_everywhere_leaves_nothing(server: Server, tmp_path: Path) -> None:
    bad = {n: corrupt(d) for n, d in FILES.items()}
    m1, m2 = server.serve("bad1", bad), server.serve("bad2", bad)
    with pytest.raises(DatasetError) as info:
        download_mnist(tmp_path, mirrors=[m1, m2], checksums=CHECKSUMS, progress=False)
    msg = str(info.value)
    assert f"could not download {TRAIN_IMG} into {tmp_path}" in msg
    assert f"{m1}{TRAIN_IMG}.gz: checksum mismatch" in msg
    assert f"{m2}{TRAIN_IMG}.gz: checksum mismatch" in msg
    assert listing(tmp_path) == []


def test_bad_checksum_then_good_mirror(server: Server, tmp_path: Path) -> None:
    bad = server.serve("bad", {n: corrupt(d) for n, d in FILES.items()})
    good = server.serve("good", FILES)
    download_mnist(tmp_path, mirrors=[bad, good], checksums=CHECKSUMS, progress=False)
    assert listing(tmp_path) == sorted(n + ".gz" for n in NAMES)


def test_every_mirror_failing_lists_each_reason(server: Server, tmp_path: Path) -> None:
    server.routes[f"/badgz/{TRAIN_IMG}.gz"] = gzip.compress(FILES[TRAIN_IMG])[:-10]
    mirrors = [server.mirror("missing"), server.mirror("badgz"), "notaurl"]
    with pytest.raises(DatasetError) as info:
        load_mnist(root=tmp_path, mirrors=mirrors, checksums=CHECKSUMS, progress=False)
    msg = str(info.value)
    assert "every mirror failed" in msg
    assert f"{mirrors[0]}{TRAIN_IMG}.gz: HTTPError: HTTP Error 404" in msg
    assert f"{mirrors[1]}{TRAIN_IMG}.gz: not a valid gzip file" in msg
    assert f"notaurl/{TRAIN_IMG}.gz: ValueError" in msg
    assert listing(tmp_path) == []
    with pytest.raises(DatasetError, match="no mirrors given"):
        download_mnist(tmp_path, mirrors=[], checksums=CHECKSUMS)


def test_timeout_falls_through(server: Server, tmp_path: Path) -> None:
    slow = server.serve("slow", FILES)
    server.stall.update(f"/slow/{n}.gz" for n in NAMES)
    good = server.serve("good", {TRAIN_IMG: FILES[TRAIN_IMG]})
    with pytest.raises(DatasetError) as info:
        download_mnist(tmp_path, mirrors=[slow, good], checksums=CHECKSUMS, timeout=0.3,
                       progress=False)
    # train images came from the second mirror; train labels timed out on the first and
    # are missing on the second
    msg = str(info.value)
    assert f"could not download {TRAIN_LBL}" in msg
    assert f"{slow}{TRAIN_LBL}.gz: " in msg and "timed out" in msg
    assert f"{good}{TRAIN_LBL}.gz: HTTPError: HTTP Error 404" in msg
    assert listing(tmp_path) == [TRAIN_IMG + ".gz"]


@pytest.mark.parametrize("gz", [True, False])
def test_corrupted_cache_is_refetched(server: Server, tmp_path: Path, gz: bool) -> None:
    write_files(tmp_path, {**FILES, TEST_IMG: corrupt(FILES[TEST_IMG])}, gz=gz)
    mirror = server.serve("m1", FILES)
    _, (x_test, _) = load_mnist(False, root=tmp_path, mirrors=[mirror], checksums=CHECKSUMS,
                                progress=False)
    assert server.requests == [f"/m1/{TEST_IMG}.gz"]
    np.testing.assert_array_equal(x_test.reshape(-1), np.frombuffer(FILES[TEST_IMG], np.uint8,
                                                                    offset=16))
    assert gzip.decompress((tmp_path / (TEST_IMG + ".gz")).read_bytes()) == FILES[TEST_IMG]
    assert not (tmp_path / TEST_IMG).exists()  # a corrupt raw file would shadow the .gz


def test_bad_gzip_cache_is_refetched(server: Server, tmp_path: Path) -> None:
    write_files(tmp_path, FILES, gz=True)
    (tmp_path / (TRAIN_LBL + ".gz")).write_bytes(b"\x1f\x8bgarbage")
    mirror = server.serve("m1", FILES)
    download_mnist(tmp_path, mirrors=[mirror], checksums=CHECKSUMS, progress=False)
    assert server.requests == [f"/m1/{TRAIN_LBL}.gz"]
    assert read_idx(tmp_path / (TRAIN_LBL + ".gz")).shape == (N_TRAIN,)


def test_unwritable_default_dir(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.delenv("TINYGRAD_FISH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    root = blocker / "tinygrad_fish" / "mnist"
    mirror = server.serve("m1", FILES)
    with pytest.raises(DatasetError) as info:
        load_mnist(mirrors=[mirror], checksums=CHECKSUMS, progress=False)
    msg = str(info.value)
    assert f"cannot create the MNIST data directory {root}" in msg
    assert "TINYGRAD_FISH_DATA" in msg
    assert server.requests == []


def test_the_default_cache_dir_is_created(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TINYGRAD_FISH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    mirror = server.serve("m1", FILES)
    load_mnist(mirrors=[mirror], checksums=CHECKSUMS, progress=False)
    assert listing(tmp_path / "cache" / "tinygrad_fish" / "mnist") == sorted(
        n + ".gz" for n in NAMES)


@pytest.mark.parametrize("download", [True, False])
@pytest.mark.parametrize("via", ["root", "env"])
def test_a_named_data_dir_that_does_not_exist_is_not_created(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via: str, download: bool
) -> None:
    """``TINYGRAD_FISH_DATA=/nonexistent`` used to create /nonexistent, then download into
    it; a mistyped directory is refused, naming how it was given, and nothing fetched."""
    typo = tmp_path / "mnsit"
    mirror = server.serve("m1", FILES)
    kwargs: dict[str, Any] = dict(mirrors=[mirror], checksums=CHECKSUMS, progress=False)
    if via == "root":
        kwargs["root"] = typo
        named = f"root='{typo}'"
    else:
        monkeypatch.setenv("TINYGRAD_FISH_DATA", str(typo))
        named = f"$TINYGRAD_FISH_DATA={typo}"
    with pytest.raises(DataDirectoryError) as info:
        load_mnist(download=download, **kwargs)
    assert str(info.value).startswith(
        f"the MNIST directory {typo} ({named}) does not exist; it is not created for you, "
        "in case it is mistyped: create it, or name the directory holding the four MNIST "
        "files (unset $TINYGRAD_FISH_DATA and pass no root to download them into "
        "~/.cache/tinygrad_fish/mnist)")
    assert isinstance(info.value, DatasetError)
    assert info.value.path == str(typo)
    assert info.value.source == ("root" if via == "root" else "TINYGRAD_FISH_DATA")
    assert not typo.exists() and server.requests == []
    with pytest.raises(DataDirectoryError, match="is not a directory; it is not created"):
        (tmp_path / "file").write_text("x")
        download_mnist(tmp_path / "file", mirrors=[mirror], checksums=CHECKSUMS)


def test_every_mirror_failing_is_a_download_error(server: Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="every mirror failed"):
        download_mnist(tmp_path, mirrors=[server.mirror("missing")], checksums=CHECKSUMS,
                       progress=False)


# --------------------------------------------------------------------------- real MNIST


@pytest.mark.slow
def test_real_mnist() -> None:
    root = mnist_root()
    (x_train, t_train), (x_test, t_test) = load_mnist(root=root, download=False)
    assert x_train.shape == (60000, 784) and x_train.dtype == np.float32
    assert x_test.shape == (10000, 784) and x_test.dtype == np.float32
    assert t_train.shape == (60000,) and t_train.dtype == np.uint8
    assert t_test.shape == (10000,) and t_test.dtype == np.uint8
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert np.bincount(t_train).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949
    ]
    assert np.bincount(t_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

    _, (x_img, t_hot) = load_mnist(False, False, True, root=root, download=False)
    assert x_img.shape == (10000, 1, 28, 28) and x_img.dtype == np.uint8
    assert t_hot.shape == (10000, 10) and t_hot.dtype == np.float32
    np.testing.assert_array_equal(t_hot.argmax(axis=1), t_test)
    np.testing.assert_array_equal(x_img.reshape(10000, 784).astype(np.float32) / 255, x_test)


# --------------------------------------------------------------------------- bounded downloads


def endless(handler: BaseHTTPRequestHandler, closed: threading.Event) -> None:
    """200 and zeros without end (no Content-Length), until the client hangs up."""
    handler.send_response(200)
    handler.end_headers()
    chunk = b"\x1f\x8b" + bytes(1 << 16)
    for _ in range(4000):  # 256 MB at most, should the client never stop
        if closed.is_set():
            return
        handler.wfile.write(chunk)


def announces_a_terabyte(handler: BaseHTTPRequestHandler, closed: threading.Event) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", str(10**12))
    handler.end_headers()
    handler.wfile.write(bytes(1 << 16))
    closed.wait(10)


def drip_body(handler: BaseHTTPRequestHandler, closed: threading.Event) -> None:
    """Headers at once, then one byte every 50 ms: no read ever stalls for long."""
    handler.send_response(200)
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    while not closed.wait(0.05):
        handler.wfile.write(b"\x1f")


def drip_headers(handler: BaseHTTPRequestHandler, closed: threading.Event) -> None:
    """The status line, then a header line that never ends, one byte every 50 ms."""
    handler.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
    while not closed.wait(0.05):
        handler.wfile.write(b"z")


LABEL_CAP = MNIST_SIZES[TEST_LBL] + MNIST_SIZES[TEST_LBL] // 8 + 65536


@pytest.mark.parametrize(
    ("respond", "message"),
    [
        (endless, f"sent more than {LABEL_CAP} bytes, more than any copy of {TEST_LBL}.gz "
                  "can take; gave up"),
        (announces_a_terabyte, f"announces {10**12} bytes, more than any copy of "
                               f"{TEST_LBL}.gz can take ({LABEL_CAP}); not downloaded"),
    ],
    ids=["endless", "huge-length"],
)
def test_an_endless_body_is_cut_at_the_cap_then_the_next_mirror_is_tried(
    server: Server, tmp_path: Path, respond: Responder, message: str
) -> None:
    bad = server.serve("bad", {n: d for n, d in FILES.items() if n != TEST_LBL})
    server.special[f"/bad/{TEST_LBL}.gz"] = respond
    good = server.serve("good", FILES)
    with pytest.raises(DatasetError) as info:
        download_mnist(tmp_path, mirrors=[bad], checksums=CHECKSUMS, progress=False)
    msg = str(info.value)
    assert f"could not download {TEST_LBL} into {tmp_path}; every mirror failed" in msg
    assert f"{bad}{TEST_LBL}.gz: {message}" in msg
    assert listing(tmp_path) == sorted(n + ".gz" for n in NAMES if n != TEST_LBL)
    server.requests.clear()
    download_mnist(tmp_path, mirrors=[bad, good], checksums=CHECKSUMS, progress=False)
    assert server.requests == [f"/bad/{TEST_LBL}.gz", f"/good/{TEST_LBL}.gz"]
    assert listing(tmp_path) == sorted(n + ".gz" for n in NAMES)


@pytest.mark.parametrize("respond", [drip_body, drip_headers], ids=["body", "headers"])
def test_a_slow_drip_is_given_up_at_the_deadline(
    server: Server, tmp_path: Path, respond: Responder
) -> None:
    server.special[f"/drip/{TRAIN_IMG}.gz"] = respond
    drip = server.mirror("drip")
    start = time.monotonic()
    with pytest.raises(DatasetError) as info:
        download_mnist(tmp_path, mirrors=[drip], checksums=CHECKSUMS, timeout=0.5,
                       deadline=1.0, progress=False)
    elapsed = time.monotonic() - start
    assert 0.9 < elapsed < 3.0, elapsed
    msg = str(info.value)
    assert f"could not download {TRAIN_IMG} into {tmp_path}" in msg
    assert (f"{drip}{TRAIN_IMG}.gz: gave up after the deadline of 1 s for one file from one "
            "mirror (pass deadline= to allow more)") in msg
    assert listing(tmp_path) == []


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """20 MB of zeros in a 20 KB gzip file."""
    return gzip.compress(bytes(20_000_000), compresslevel=9)


def test_a_gzip_bomb_fails_fast_and_the_next_mirror_succeeds(
    server: Server, tmp_path: Path, bomb: bytes
) -> None:
    assert len(bomb) < 50_000
    server.routes[f"/bomb/{TEST_LBL}.gz"] = bomb
    bad = server.serve("bomb", {n: d for n, d in FILES.items() if n != TEST_LBL})
    good = server.serve("good", FILES)
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError) as info:
            download_mnist(tmp_path, mirrors=[bad], checksums=CHECKSUMS, progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3_000_000, peak  # never inflated to its 20 MB
    msg = str(info.value)
    assert (f"{bad}{TEST_LBL}.gz: inflates to more than the {MNIST_SIZES[TEST_LBL]} bytes the "
            "file has (a gzip bomb or another file); stopped there") in msg
    server.requests.clear()
    _, (_, t_test) = load_mnist(root=tmp_path, mirrors=[bad, good], checksums=CHECKSUMS,
                                progress=False)
    assert server.requests == [f"/bomb/{TEST_LBL}.gz", f"/good/{TEST_LBL}.gz"]
    np.testing.assert_array_equal(t_test, [7, 0, 4, 4, 8])
    assert listing(tmp_path) == sorted(n + ".gz" for n in NAMES)


def test_own_sizes_cap_inflation_exactly(server: Server, tmp_path: Path) -> None:
    sizes = {n: len(d) for n, d in FILES.items()}
    big = {**FILES, TRAIN_LBL: FILES[TRAIN_LBL] + b"\0"}  # one byte over
    mirror = server.serve("m", big)
    raw = server.serve("raw", big, gz=False)
    with pytest.raises(DatasetError) as info:
        download_mnist(tmp_path, mirrors=[mirror, raw], checksums=NO_CHECKSUMS, sizes=sizes,
                       progress=False)
    msg = str(info.value)
    assert f"inflates to more than the {sizes[TRAIN_LBL]} bytes the file has" in msg
    assert f"{raw}{TRAIN_LBL}.gz: {sizes[TRAIN_LBL] + 1} bytes, more than the " in msg
    mirror = server.serve("exact", FILES)
    download_mnist(tmp_path, mirrors=[mirror], checksums=CHECKSUMS, sizes=sizes, progress=False)
    assert listing(tmp_path) == sorted(n + ".gz" for n in NAMES)


def test_a_cached_bomb_is_refused_and_refetched(
    server: Server, tmp_path: Path, bomb: bytes
) -> None:
    write_files(tmp_path, FILES, gz=True)
    (tmp_path / (TEST_LBL + ".gz")).write_bytes(bomb)
    with pytest.raises(DatasetError) as info:
        load_mnist(root=tmp_path, download=False, checksums=CHECKSUMS)
    assert (f"{tmp_path / (TEST_LBL + '.gz')} is unreadable or corrupted: "
            f"{tmp_path / (TEST_LBL + '.gz')}: inflates to more than the 10008 bytes") in str(
        info.value)
    mirror = server.serve("m1", FILES)
    load_mnist(root=tmp_path, mirrors=[mirror], checksums=CHECKSUMS, progress=False)
    assert server.requests == [f"/m1/{TEST_LBL}.gz"]


def test_any_failure_of_a_mirror_becomes_a_dataset_error(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = mnist_module._inflate
    calls: list[str] = []

    def out_of_memory_once(raw: bytes, source: str, limit: int) -> bytes:
        calls.append(source)
        if len(calls) == 1:
            raise MemoryError("inflating")
        return real(raw, source, limit)

    monkeypatch.setattr(mnist_module, "_inflate", out_of_memory_once)
    first, second = server.serve("first", FILES), server.serve("second", FILES)
    with pytest.raises(DatasetError) as info:
        download_mnist(tmp_path, mirrors=[first], checksums=CHECKSUMS, progress=False)
    assert f"{first}{TRAIN_IMG}.gz: MemoryError: inflating" in str(info.value)
    download_mnist(tmp_path, mirrors=[first, second], checksums=CHECKSUMS, progress=False)
    assert listing(tmp_path) == sorted(n + ".gz" for n in NAMES)


@pytest.mark.parametrize("entry", [TRAIN_IMG + ".gz", TRAIN_IMG])
@pytest.mark.parametrize("download", [True, False])
def test_a_directory_where_a_file_belongs_is_refused_not_removed(
    server: Server, tmp_path: Path, entry: str, download: bool
) -> None:
    write_files(tmp_path, {n: d for n, d in FILES.items() if n != TRAIN_IMG}, gz=True)
    (tmp_path / entry).mkdir()
    (tmp_path / entry / "mine.txt").write_text("keep me")
    mirror = server.serve("m1", FILES)
    with pytest.raises(DatasetError) as info:
        load_mnist(root=tmp_path, download=download, mirrors=[mirror], checksums=CHECKSUMS,
                   progress=False)
    assert str(info.value) == (
        f"{tmp_path / entry} is a directory, not an MNIST file: remove it (it is not removed "
        f"for you) or pass another root=, so that {entry} can be stored there"
    )
    assert (tmp_path / entry / "mine.txt").read_text() == "keep me"
    assert server.requests == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_a_fifo_where_a_file_belongs_is_refused_without_blocking(tmp_path: Path) -> None:
    write_files(tmp_path, {n: d for n, d in FILES.items() if n != TEST_IMG}, gz=True)
    os.mkfifo(tmp_path / (TEST_IMG + ".gz"))
    with pytest.raises(DatasetError, match=r"\.gz is not a regular file, not an MNIST file"):
        load_mnist(root=tmp_path, download=False, checksums=CHECKSUMS)


def test_a_directory_where_the_download_goes_is_refused(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should a directory appear while the file downloads, it is refused, not raw
    IsADirectoryError."""
    mirror = server.serve("m1", FILES)
    real = mnist_module._fetch_to

    def fetch_then_block(url: str, out: Any, **kwargs: Any) -> None:
        real(url, out, **kwargs)
        (tmp_path / (TRAIN_IMG + ".gz")).mkdir(exist_ok=True)

    monkeypatch.setattr(mnist_module, "_fetch_to", fetch_then_block)
    with pytest.raises(DatasetError, match=r"is a directory, not an MNIST file: remove it"):
        download_mnist(tmp_path, mirrors=[mirror], checksums=CHECKSUMS, progress=False)
    assert listing(tmp_path) == [TRAIN_IMG + ".gz"]  # the directory, and no temp file


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"deadline": 0}, InvalidArgumentError, "deadline must be > 0 seconds, got 0"),
        ({"deadline": float("nan")}, InvalidArgumentError, "deadline must be > 0 seconds"),
        ({"deadline": "60"}, TypeError, "deadline must be a number of seconds, got '60'"),
        ({"sizes": {n: MNIST_SIZES[n] for n in NAMES if n != TEST_LBL}}, ValueError,
         "sizes has no entry for 't10k-labels-idx1-ubyte'"),
        ({"sizes": dict.fromkeys(NAMES, -1)}, InvalidArgumentError,
         r"sizes\['train-images-idx3-ubyte'\] must be the file's size in bytes"),
    ],
    ids=["zero", "nan", "str", "missing-size", "negative-size"],
)
def test_bad_deadline_and_sizes(
    data_dir: Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        load_mnist(root=data_dir, download=False, checksums=CHECKSUMS, **kwargs)


def test_default_deadline_and_sizes() -> None:
    assert DEFAULT_DEADLINE == 600.0
    assert MNIST_SIZES == {
        TRAIN_IMG: 47040016, TRAIN_LBL: 60008, TEST_IMG: 7840016, TEST_LBL: 10008,
    }


@pytest.mark.slow
def test_sizes_are_those_of_the_real_files() -> None:
    root = mnist_root()
    for name, size in MNIST_SIZES.items():
        data = gzip.decompress((root / (name + ".gz")).read_bytes())
        assert len(data) == size, name
        assert len((root / (name + ".gz")).read_bytes()) < size + size // 8 + 65536
