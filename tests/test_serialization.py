"""save/load: round trips, checked loads into models, bad files, atomic writes, special files,
bounded loads, names and stale temporary files."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import struct
import threading
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_fish.serialization as ser
from tinygrad_fish import DTypeError, GraphError, ShapeError, Tensor, TinygradFishError
from tinygrad_fish.errors import InvalidArgumentError
from tinygrad_fish.nn import Module, MultiLayerNet, TwoLayerNet
from tinygrad_fish.serialization import ModelFileError, StateDictError, load, save


def _snapshot(arrays):
    return {k: np.array(v, copy=True) for k, v in arrays.items()}


def _assert_same(a, b):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _leftovers(directory, keep=("model.npz",)):
    return sorted(set(os.listdir(directory)) - set(keep))


# --- round trips -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_layer_net_round_trip_into_fresh_net(tmp_path, dtype):
    src = TwoLayerNet(5, 4, 3, dtype=dtype, seed=1)
    src.params["b1"][...] = np.arange(4)
    path = tmp_path / "model.npz"
    save(src, path)
    dst = TwoLayerNet(5, 4, 3, dtype=dtype, seed=2)
    views = {k: v for k, v in dst.params.items()}  # the arrays the layers use
    loaded = load(path, into=dst)
    _assert_same(loaded, src.state_dict())
    _assert_same(dst.state_dict(), src.state_dict())
    for k, v in views.items():
        assert dst.params[k] is v  # copied in place, not rebound
    x = np.random.default_rng(0).standard_normal((2, 5)).astype(dtype)
    np.testing.assert_array_equal(dst.predict(x).data, src.predict(x).data)


def test_module_with_buffers_round_trip(tmp_path):
    src = MultiLayerNet(4, [3], 2, use_batchnorm=True, seed=0)
    src.layers["BatchNorm1"].running_mean[...] = [1.0, 2.0, 3.0]
    path = tmp_path / "model.npz"
    save(src, path)
    dst = MultiLayerNet(4, [3], 2, use_batchnorm=True, seed=5)
    load(path, into=dst)
    _assert_same(dst.state_dict(), src.state_dict())
    assert "BatchNorm1.running_mean" in load(path)


def test_plain_module_round_trip(tmp_path):
    class Scale(Module):
        def __init__(self, w):
            super().__init__()
            self.w = Tensor(np.asarray(w, dtype=np.float32), requires_grad=True)
            self.register_buffer("count", np.array(7, dtype=np.int64))

    path = tmp_path / "m.npz"
    save(Scale([1.0, 2.0]), path)
    dst = Scale([0.0, 0.0])
    w_array = dst.w.data
    load(path, into=dst)
    np.testing.assert_array_equal(dst.w.data, [1.0, 2.0])
    assert dst.w.data is w_array and dst.w.data.dtype == np.float32
    assert dst.count == 7


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_params_dict_round_trip(tmp_path, dtype):
    rng = np.random.default_rng(3)
    params = {"W1": rng.standard_normal((3, 2)).astype(dtype), "b1": np.zeros(2, dtype)}
    path = tmp_path / "p.npz"
    save(params, path)
    _assert_same(load(path), params)
    target = {"W1": np.zeros((3, 2), dtype), "b1": np.ones(2, dtype)}
    arrays = dict(target)
    load(path, into=target)
    _assert_same(target, params)
    assert all(target[k] is arrays[k] for k in target)


def test_state_dict_of_every_numeric_dtype_and_odd_names_round_trip(tmp_path):
    state = {
        "flag": np.array([True, False]),
        "i8": np.array([-128, 127], dtype=np.int8),
        "u8": np.arange(3, dtype=np.uint8),
        "i64": np.array(2**62, dtype=np.int64),  # 0-d
        "f16": np.array([1.5, np.nan, -np.inf], dtype=np.float16),
        "c64": np.array([1 + 2j], dtype=np.complex64),
        "empty": np.zeros((0, 3)),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "strided": np.arange(10.0)[::3],
        "tensor": Tensor([1.0, 2.0], requires_grad=True),
        # names np.savez(file, **arrays) could not save
        "file": np.ones(1),
        "allow_pickle": np.ones(1),
        "Affine1.W": np.ones((1, 1)),
        "a/b": np.ones(2),
    }
    path = tmp_path / "s.npz"
    save(state, path)
    loaded = load(path)
    expected = {k: (v.data if isinstance(v, Tensor) else v) for k, v in state.items()}
    _assert_same(loaded, expected)
    with np.load(path, allow_pickle=False) as npz:  # a plain numpy .npz
        np.testing.assert_array_equal(npz["u8"], state["u8"])


def test_files_written_by_np_savez_load(tmp_path):
    path = tmp_path / "np.npz"
    np.savez(path, W1=np.ones((2, 2)), b1=np.zeros(2))
    _assert_same(load(path), {"W1": np.ones((2, 2)), "b1": np.zeros(2)})
    np.savez_compressed(tmp_path / "c.npz", W1=np.arange(4.0))
    np.testing.assert_array_equal(load(tmp_path / "c.npz")["W1"], np.arange(4.0))


def test_non_native_byte_order_is_made_native(tmp_path):
    path = tmp_path / "be.npz"
    np.savez(path, w=np.arange(3.0, dtype=">f8"))
    target = {"w": np.zeros(3)}
    load(path, into=target)
    assert load(path)["w"].dtype == np.float64
    np.testing.assert_array_equal(target["w"], [0.0, 1.0, 2.0])


def test_path_is_used_as_given_and_str_paths_work(tmp_path):
    path = str(tmp_path / "weights")
    save({"a": np.ones(2)}, path)
    assert os.path.exists(path) and not os.path.exists(path + ".npz")
    np.testing.assert_array_equal(load(path)["a"], np.ones(2))


def test_overwrite_replaces_contents_and_keeps_permissions(tmp_path):
    path = tmp_path / "model.npz"
    save({"a": np.ones(2)}, path)
    os.chmod(path, 0o640)
    save({"b": np.zeros(3)}, path)
    assert list(load(path)) == ["b"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert _leftovers(tmp_path) == []


def test_new_file_gets_umask_permissions_not_private_temp_ones(tmp_path):
    path = tmp_path / "model.npz"
    save({"a": np.ones(2)}, path)
    (tmp_path / "plain").write_bytes(b"")
    assert stat.S_IMODE(os.stat(path).st_mode) == stat.S_IMODE(
        os.stat(tmp_path / "plain").st_mode
    )


def test_load_into_bumps_the_version_of_parameter_tensors(tmp_path):
    net = TwoLayerNet(3, 2, 2, seed=0)
    path = tmp_path / "model.npz"
    save(net, path)
    loss = net.loss(np.ones((1, 3)), np.array([1]))
    load(path, into=net)  # the weights the graph used are overwritten in place
    with pytest.raises(GraphError, match="modified in place"):
        loss.backward()


# --- save refuses what it cannot represent ---------------------------------------------------
def test_save_refuses_object_and_string_arrays_and_bad_names(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(DTypeError, match=r"'w'.*object"):
        save({"w": np.array([1, None], dtype=object)}, path)
    with pytest.raises(DTypeError, match="'s'"):
        save({"s": np.array(["a"])}, path)
    with pytest.raises(TypeError, match="non-empty str"):
        save({1: np.ones(1)}, path)
    with pytest.raises(TypeError, match="list"):
        save([np.ones(1)], path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_save_into_missing_directory_names_the_path(tmp_path):
    path = tmp_path / "nope" / "model.npz"
    with pytest.raises(ModelFileError, match="nope") as info:
        save({"a": np.ones(1)}, path)
    assert isinstance(info.value, OSError) and info.value.errno is not None
    assert info.value.path == str(path)


# --- load into: every mismatch is reported, nothing is changed -------------------------------
@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.npz"
    save({"W1": np.ones((3, 2)), "b1": np.ones(2), "W2": np.ones((2, 2))}, path)
    return path


def _target():
    return {"W1": np.zeros((3, 2)), "b1": np.zeros(2), "W2": np.zeros((2, 2))}


def _check_unchanged(target, before):
    _assert_same(target, before)


def test_missing_and_unexpected_names_are_listed(saved):
    target = _target()
    del target["W2"]
    target["b2"] = np.zeros(2)
    before = _snapshot(target)
    with pytest.raises(StateDictError) as info:
        load(saved, into=target)
    e = info.value
    assert isinstance(e, KeyError) and isinstance(e, TinygradFishError)
    assert e.missing == ["b2"] and e.unexpected == ["W2"]
    msg = str(e)
    assert "missing from the file: ['b2']" in msg and "unexpected in the file: ['W2']" in msg
    assert str(saved) in msg and not msg.startswith("'")
    _check_unchanged(target, before)


def test_shape_mismatches_are_all_listed(saved):
    target = _target()
    target["W1"] = np.zeros((2, 3))
    target["b1"] = np.zeros(3)
    before = _snapshot(target)
    with pytest.raises(ShapeError) as info:
        load(saved, into=target)
    msg = str(info.value)
    assert "'W1': shape (3, 2) in the file, (2, 3) in the target" in msg
    assert "'b1': shape (2,) in the file, (3,) in the target" in msg
    _check_unchanged(target, before)


def test_dtype_mismatch_is_refused_not_cast(saved):
    target = _target()
    target["W2"] = np.zeros((2, 2), np.float32)
    before = _snapshot(target)
    with pytest.raises(DTypeError, match=r"'W2': dtype float64 in the file, float32") as info:
        load(saved, into=target)
    assert "never converted silently" in str(info.value)
    _check_unchanged(target, before)


def test_every_kind_of_difference_in_one_error(saved):
    target = _target()
    target["W1"] = np.zeros((1, 1))
    target["b1"] = np.zeros(2, np.float32)
    target["extra"] = np.zeros(1)
    before = _snapshot(target)
    with pytest.raises(StateDictError) as info:
        load(saved, into=target)
    msg = str(info.value)
    for part in ("['extra']", "'W1': shape", "'b1': dtype float64"):
        assert part in msg
    _check_unchanged(target, before)


def test_read_only_target_is_refused_before_anything_is_copied(saved):
    target = _target()
    target["W2"].flags.writeable = False
    before = _snapshot(target)
    with pytest.raises(ShapeError, match="'W2': the target array is read-only"):
        load(saved, into=target)
    _check_unchanged(target, before)


def test_module_mismatch_leaves_module_unchanged(tmp_path):
    path = tmp_path / "model.npz"
    save(TwoLayerNet(4, 3, 2, seed=0), path)
    dst = TwoLayerNet(4, 5, 2, seed=1)
    before = dst.state_dict()
    with pytest.raises(ShapeError) as info:
        load(path, into=dst)
    msg = str(info.value)
    assert "'W1'" in msg and "'b1'" in msg and "'W2'" in msg and "'b2'" not in msg
    _assert_same(dst.state_dict(), before)
    with pytest.raises(DTypeError):
        load(path, into=TwoLayerNet(4, 3, 2, dtype=np.float32))


def test_strict_false_loads_the_common_names(saved):
    target = {"W1": np.zeros((3, 2)), "other": np.zeros(4)}
    load(saved, into=target, strict=False)
    np.testing.assert_array_equal(target["W1"], np.ones((3, 2)))
    np.testing.assert_array_equal(target["other"], np.zeros(4))
    target["W1"] = np.zeros(5)
    with pytest.raises(ShapeError):  # shapes are still checked
        load(saved, into=target, strict=False)


def test_into_with_tensor_values_and_bad_targets(saved):
    w1 = Tensor(np.zeros((3, 2)), requires_grad=True)
    target = {"W1": w1, "b1": np.zeros(2), "W2": np.zeros((2, 2))}
    load(saved, into=target)
    np.testing.assert_array_equal(w1.data, np.ones((3, 2)))
    with pytest.raises(TypeError, match=r"into\['W1'\] is a list"):
        load(saved, into={"W1": [[0.0] * 2] * 3, "b1": np.zeros(2), "W2": np.zeros((2, 2))})
    with pytest.raises(TypeError, match="into= must be"):
        load(saved, into=[np.zeros(2)])


# --- bad files -------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    path = tmp_path / "missing.npz"
    with pytest.raises(ModelFileError, match=r"missing\.npz") as info:
        load(path)
    assert isinstance(info.value, OSError) and info.value.errno == 2
    assert info.value.filename == str(path)


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(ModelFileError, match=re.escape(str(tmp_path))):
        load(tmp_path)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "empty"),
        (b"hello, not a model", "not a zip file"),
        (b"\x80\x04K\x01.", "not a zip file"),  # a pickle
        (b"PK\x03\x04garbage", "truncated or corrupt"),
    ],
)
def test_non_npz_files(tmp_path, content, why):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=why) as info:
        load(path)
    assert str(path) in str(info.value)


def test_single_npy_file_is_not_a_model(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.ones(3))
    with pytest.raises(ModelFileError, match=r"single \.npy array"):
        load(path)


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.1])
def test_truncated_files(tmp_path, keep):
    path = tmp_path / "model.npz"
    save({"W1": np.arange(200.0).reshape(20, 10), "b1": np.ones(10)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelFileError, match="truncated or corrupt") as info:
        load(path)
    assert str(path) in str(info.value)


def test_corrupted_bytes_inside_an_entry(tmp_path):
    path = tmp_path / "model.npz"
    save({"W1": np.arange(20.0)}, path)
    data = bytearray(path.read_bytes())
    i = data.index(b"NUMPY")
    data[i + 12 : i + 20] = b"\xff" * 8  # inside the header dict
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=re.escape(str(path))):
        load(path)


def test_header_claiming_more_data_than_the_entry_holds(tmp_path):
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w") as zf, zf.open("W.npy", "w") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
        )
        f.write(b"\0" * 16)
    with pytest.raises(ModelFileError, match=r"'W' of shape \(1000000000000,\).*needs"):
        load(path)


def test_zip_with_a_non_array_entry(tmp_path):
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("W.npy", b"not an array")
    with pytest.raises(ModelFileError, match="'W' is not a numpy array"):
        load(path)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", b"hi")
    with pytest.raises(ModelFileError, match=r"'readme\.txt' is not a \.npy array"):
        load(path)


def test_object_arrays_are_refused_without_unpickling(tmp_path, monkeypatch):
    path = tmp_path / "evil.npz"
    np.savez(path, W1=np.ones(2), evil=np.array([{"a": 1}, None], dtype=object))
    import pickle

    def no_unpickling(*args, **kwargs):
        raise AssertionError("load() must not unpickle anything")

    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    target = {"W1": np.zeros(2), "evil": np.zeros(2)}
    with pytest.raises(ModelFileError, match=r"'evil' with dtype object.*unpickled"):
        load(path, into=target)
    np.testing.assert_array_equal(target["W1"], np.zeros(2))


def test_string_arrays_in_a_file_are_refused(tmp_path):
    path = tmp_path / "s.npz"
    np.savez(path, names=np.array(["a", "b"]))
    with pytest.raises(ModelFileError, match="'names' with dtype <U1"):
        load(path)


# --- atomic writes ---------------------------------------------------------------------------
@pytest.fixture
def old_model(tmp_path):
    path = tmp_path / "model.npz"
    save({"W1": np.ones((2, 2))}, path)
    return path, path.read_bytes()


def _new_state():
    return {"W1": np.zeros((2, 2)), "b1": np.zeros(2), "W2": np.zeros((4, 4))}


def test_crash_in_the_middle_of_writing_arrays(old_model, monkeypatch):
    path, old_bytes = old_model
    real = np.lib.format.write_array
    calls = []

    def crash_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # not even an Exception: the temp file still goes
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        save(_new_state(), path)
    assert len(calls) == 2
    assert path.read_bytes() == old_bytes
    assert _leftovers(path.parent) == []
    monkeypatch.undo()
    _assert_same(load(path), {"W1": np.ones((2, 2))})


@pytest.mark.parametrize("where", ["replace", "fsync"])
def test_os_error_at_the_end_keeps_the_old_file(old_model, monkeypatch, where):
    path, old_bytes = old_model

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ser.os, where, fail)
    with pytest.raises(ModelFileError, match="No space left") as info:
        save(_new_state(), path)
    monkeypatch.undo()
    assert info.value.errno == 28 and str(path) in str(info.value)
    assert path.read_bytes() == old_bytes
    assert _leftovers(path.parent) == []


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(ser.os, "replace", lambda *a: (_ for _ in ()).throw(OSError(5, "EIO")))
    with pytest.raises(ModelFileError):
        save({"a": np.ones(1)}, tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


def test_the_target_is_only_replaced_after_the_data_is_synced(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(ser.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(
        ser.os, "replace", lambda a, b: (events.append(("replace", a, b)), real_replace(a, b))
    )
    path = tmp_path / "model.npz"
    save({"a": np.ones(3)}, path)
    assert events[0] == "fsync"
    kind, tmp, dst = events[1]
    assert kind == "replace" and dst == str(path)
    assert os.path.dirname(tmp) == str(tmp_path)  # same directory: an atomic rename
    np.testing.assert_array_equal(load(path)["a"], np.ones(3))


# --- save replaces model files only; links stay links ----------------------------------------
def _make_fifo(path):
    os.mkfifo(path)


def _make_socket(path):
    import socket

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()  # the socket file stays


def _make_directory(path):
    os.mkdir(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
@pytest.mark.parametrize(
    ("make", "kind", "is_kind"),
    [
        (_make_fifo, "a FIFO (named pipe)", stat.S_ISFIFO),
        (_make_socket, "a socket", stat.S_ISSOCK),
        (_make_directory, "a directory", stat.S_ISDIR),
    ],
    ids=["fifo", "socket", "directory"],
)
def test_save_refuses_special_files_and_leaves_them_as_they_are(tmp_path, make, kind, is_kind):
    path = tmp_path / "model.npz"
    make(path)
    with pytest.raises(ModelFileError) as info:
        save({"W": np.ones(2)}, path)
    msg = str(info.value)
    assert f"{str(path)!r} is {kind}, not a model file; refusing to replace it" in msg
    assert info.value.path == str(path)
    assert is_kind(os.lstat(path).st_mode)
    assert os.listdir(tmp_path) == ["model.npz"]  # no temp file either


def test_save_refuses_dev_null_and_it_stays_a_character_device(monkeypatch):
    if not os.path.exists("/dev/null") or not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        pytest.skip("no /dev/null character device")

    def never(*args, **kwargs):  # should the check ever regress, /dev/null still stays
        raise AssertionError("save() went on to write next to /dev/null")

    monkeypatch.setattr(ser, "_open_temp", never)
    monkeypatch.setattr(ser.os, "replace", never)
    with pytest.raises(ModelFileError, match=r"'/dev/null' is a character device, not a model"):
        save({"W": np.ones(2)}, "/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_save_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path, monkeypatch):
    store, links = tmp_path / "store", tmp_path / "links"
    store.mkdir()
    links.mkdir()
    target = store / "weights-v1.npz"
    save({"W": np.ones(2)}, target)
    os.chmod(target, 0o640)
    link = links / "model.npz"
    os.symlink(target, link)
    hop = links / "latest.npz"  # a link to the link: the final target is written
    os.symlink(link, hop)
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(
        ser.os, "replace", lambda a, b: (replaced.append((a, b)), real_replace(a, b))
    )
    save({"W": np.zeros(3)}, hop)
    assert os.path.islink(link) and os.readlink(link) == str(target)
    assert os.path.islink(hop) and os.readlink(hop) == str(link)
    np.testing.assert_array_equal(load(target)["W"], np.zeros(3))
    np.testing.assert_array_equal(load(hop)["W"], np.zeros(3))
    [(tmp, dst)] = replaced
    assert dst == str(target) and os.path.dirname(tmp) == str(store)  # atomic: same directory
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert sorted(os.listdir(store)) == ["weights-v1.npz"]
    assert sorted(os.listdir(links)) == ["latest.npz", "model.npz"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_save_through_a_dangling_symlink_creates_its_target(tmp_path):
    target, link = tmp_path / "real.npz", tmp_path / "model.npz"
    os.symlink(target, link)
    save({"W": np.ones(2)}, link)
    assert os.path.islink(link) and target.is_file()
    np.testing.assert_array_equal(load(target)["W"], np.ones(2))


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_save_refuses_a_symlink_to_a_directory_or_a_loop(tmp_path):
    (tmp_path / "dir").mkdir()
    link = tmp_path / "model.npz"
    os.symlink(tmp_path / "dir", link)
    with pytest.raises(ModelFileError) as info:
        save({"W": np.ones(2)}, link)
    assert (
        f"{str(tmp_path / 'dir')!r} (the target of the symbolic link {str(link)!r}) is a "
        "directory, not a model file" in str(info.value)
    )
    assert os.path.islink(link) and os.listdir(tmp_path / "dir") == []
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    os.symlink(b, a)
    os.symlink(a, b)
    with pytest.raises(ModelFileError, match=r"cannot follow the symbolic link .*a\.npz"):
        save({"W": np.ones(2)}, a)
    assert os.path.islink(a) and os.path.islink(b)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_load_refuses_a_fifo_instead_of_blocking_on_it(tmp_path):
    path = tmp_path / "model.npz"
    os.mkfifo(path)
    with pytest.raises(ModelFileError, match=r"is a FIFO \(named pipe\), not a model file"):
        load(path)


# --- bytes paths -----------------------------------------------------------------------------
class _BytesPath:
    def __init__(self, path):
        self.path = path

    def __fspath__(self):
        return self.path


def test_bytes_paths_are_accepted(tmp_path):
    path = os.fsencode(tmp_path / "model.npz")
    save({"W": np.arange(3.0)}, path)
    np.testing.assert_array_equal(load(path)["W"], np.arange(3.0))
    np.testing.assert_array_equal(load(_BytesPath(path))["W"], np.arange(3.0))
    save({"b": np.ones(1)}, _BytesPath(path))
    assert list(load(tmp_path / "model.npz")) == ["b"]
    with pytest.raises(ModelFileError, match=re.escape(repr(str(tmp_path / "nope.npz")))) as e:
        load(os.fsencode(tmp_path / "nope.npz"))
    assert e.value.path == str(tmp_path / "nope.npz")


@pytest.mark.skipif(os.name != "posix", reason="POSIX file names are bytes")
def test_bytes_path_that_is_not_utf8(tmp_path):
    path = os.fsencode(tmp_path) + b"/model-\xff.npz"
    try:
        save({"W": np.ones(2)}, path)
    except ModelFileError as e:  # a file system that insists on UTF-8 names
        pytest.skip(str(e))
    assert os.listdir(os.fsencode(tmp_path)) == [b"model-\xff.npz"]
    np.testing.assert_array_equal(load(path)["W"], np.ones(2))


def test_a_path_of_another_type_is_a_type_error():
    with pytest.raises(TypeError, match=r"expected str, bytes or os\.PathLike object, not int"):
        load(3)
    with pytest.raises(TypeError, match=r"expected str, bytes or os\.PathLike object, not list"):
        save({"W": np.ones(1)}, ["model.npz"])


# --- names that load() gives back ------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("W\0evil", "it holds a NUL character"),
        ("W\udcff", r"'\\udcff' is a lone surrogate.*cannot be encoded as UTF-8"),
        ("w" * 70000, "it is 70004 bytes long in UTF-8; a zip member name holds at most 65535"),
    ],
    ids=["nul", "surrogate", "too-long"],
)
def test_save_refuses_names_load_could_not_give_back(tmp_path, name, why):
    path = tmp_path / "model.npz"
    with pytest.raises(InvalidArgumentError, match=why) as info:
        save({"ok": np.ones(1), name: np.ones(1)}, path)
    assert isinstance(info.value, ValueError)
    msg = str(info.value)
    assert msg.startswith(f"save(): cannot save the name {name!r}: ")
    assert "load() could not read it back under the same name; rename it" in msg
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.sep != "\\", reason="only Windows' separator is rewritten by zipfile")
def test_save_refuses_a_backslash_on_windows(tmp_path):  # pragma: no cover - Windows
    with pytest.raises(InvalidArgumentError, match=r"would store it as 'a/b'"):
        save({"a\\b": np.ones(1)}, tmp_path / "model.npz")


ODD_NAMES = [
    "重み", "Ŵ1", "😀", "a b", "a\nb", "tab\t", "x.npy", ".hidden", "/abs", "../up", "a//b",
    "a/", "é" * 30000, "\x7f", "\x01",
] + (["a\\b"] if os.sep == "/" else [])


def test_odd_names_round_trip(tmp_path):
    state = {name: np.full(2, i, dtype=np.int16) for i, name in enumerate(ODD_NAMES)}
    path = tmp_path / "model.npz"
    save(state, path)
    _assert_same(load(path), state)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=()),  # every code point, surrogates included
        st.sampled_from(["\0", "\ud800", "\udcff", "\\", "/", ".", "\n"]),
    ),
    min_size=1, max_size=12,
))
def test_every_name_round_trips_or_is_refused(tmp_path, name):
    path = tmp_path / "model.npz"
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    try:
        save({name: np.arange(2.0)}, path)
    except InvalidArgumentError:
        assert not path.exists()
        assert (
            "\0" in name
            or any(0xD800 <= ord(c) <= 0xDFFF for c in name)
            or (os.sep == "\\" and "\\" in name)
        )
        return
    assert list(load(path)) == [name]
    with np.load(path, allow_pickle=False) as npz:  # numpy reads the same name
        assert npz.files == [name]


# --- load: bounded by what the headers claim --------------------------------------------------
def _no_array_reads(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("load() read array data before checking the claimed size")

    monkeypatch.setattr(np.lib.format, "read_array", never)


def test_a_deflated_bomb_is_refused_before_reading_data(tmp_path, monkeypatch):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, W=np.zeros(4 << 20))  # 32 MiB of zeros in about 32 KiB
    assert path.stat().st_size < 100_000
    _no_array_reads(monkeypatch)
    with pytest.raises(ModelFileError) as info:
        load(path, max_bytes=1 << 20)
    msg = str(info.value)
    assert f"{str(path)!r} claims 33554432 bytes (32.0 MiB) of array data for 'W'" in msg
    assert "more than the limit of 1048576 bytes (1.0 MiB)" in msg
    assert "refused before reading any of it" in msg
    assert "raise the limit: load(path, max_bytes=...)" in msg
    assert "MAX_LOAD_BYTES" in msg
    monkeypatch.undo()
    assert load(path, max_bytes=32 << 20)["W"].shape == (4 << 20,)  # at the limit: fine


def test_the_default_limit_is_max_load_bytes_and_counts_every_entry(tmp_path, monkeypatch):
    assert ser.MAX_LOAD_BYTES == 1 << 30
    path = tmp_path / "model.npz"
    save({"a": np.zeros(100), "b": np.zeros(100)}, path)  # 800 bytes each
    monkeypatch.setattr(ser, "MAX_LOAD_BYTES", 1000)
    with pytest.raises(ModelFileError, match=r"claims 1600 bytes \(1\.6 KiB\) of array data "
                                             r"in 2 entries, more than the limit of 1000 bytes"):
        load(path)
    assert list(load(path, max_bytes=1600)) == ["a", "b"]
    with pytest.raises(ModelFileError, match="claims 800 bytes of array data for 'a'"):
        load(path, max_bytes=799)


def test_max_bytes_must_be_a_non_negative_int(saved):
    with pytest.raises(TypeError, match=r"max_bytes must be an int or None, got 1\.5"):
        load(saved, max_bytes=1.5)
    with pytest.raises(TypeError, match="max_bytes must be an int or None, got True"):
        load(saved, max_bytes=True)
    with pytest.raises(InvalidArgumentError, match="max_bytes must be >= 0, got -1"):
        load(saved, max_bytes=-1)


def _set_declared_size(path, member, size):
    """Rewrite the uncompressed size the zip declares for ``member`` (local header and
    central directory), as a crafted file would."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        i = data.index(signature)
        while not data[i:].startswith(signature) or name not in data[i : i + 64 + len(name)]:
            i = data.index(signature, i + 1)
        data[i + offset : i + offset + 4] = struct.pack("<I", size)
    path.write_bytes(bytes(data))


def test_an_entry_declaring_more_than_deflate_can_inflate_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("W.npy", "w") as f,
    ):
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f8", "fortran_order": False, "shape": (50_000_000,)}
        )
        f.write(b"\0" * 64)
    _set_declared_size(path, "W.npy", 400_000_128)  # the header's claim, "backed" by the zip
    _no_array_reads(monkeypatch)
    with pytest.raises(ModelFileError) as info:
        load(path, max_bytes=1 << 40)
    msg = str(info.value)
    assert "'W' of shape (50000000,) and dtype float64 needs 400000128 bytes" in msg
    assert "deflated bytes, which cannot inflate to more than 1032 times as many" in msg


def test_a_header_claiming_a_huge_length_is_refused_unread(tmp_path):
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("W.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", 1 << 31) + b" " * 4096)
    with pytest.raises(ModelFileError, match=r"'W' is not a numpy array \(ValueError: its header "
                                             r"claims 2147483648 bytes, more than the 10000"):
        load(path)


def test_duplicate_entries_are_refused(tmp_path):
    path = tmp_path / "model.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile: "Duplicate name"
        with zipfile.ZipFile(path, "w") as zf:
            for value in (1.0, 2.0):
                with zf.open("W.npy", "w") as f:
                    np.lib.format.write_array(f, np.full(2, value))
            with zf.open("b.npy", "w") as f:
                np.lib.format.write_array(f, np.zeros(1))
    target = {"W": np.zeros(2), "b": np.ones(1)}
    with pytest.raises(ModelFileError) as info:
        load(path, into=target)
    msg = str(info.value)
    assert f"{str(path)!r} is not a valid model file: it has several entries named 'W.npy'" in msg
    assert "which one wins is arbitrary" in msg
    np.testing.assert_array_equal(target["W"], np.zeros(2))


# --- stale temporary files -------------------------------------------------------------------
def _stale(directory, base="model.npz", tag="0123456789ab"):
    p = directory / f".{base}.{tag}.tmp"
    p.write_bytes(b"PK half a model")
    return p


def test_save_removes_the_temp_files_a_killed_save_left(tmp_path):
    path = tmp_path / "model.npz"
    stale = [_stale(tmp_path), _stale(tmp_path, tag="ffffffffffff")]
    others = [
        _stale(tmp_path, base="other.npz"),                     # another file's
        tmp_path / ".model.npz.backup.tmp",                    # not save()'s pattern
        tmp_path / ".model.npz.0123456789ab.tmp.keep",
    ]
    for p in others[1:]:
        p.write_bytes(b"mine")
    save({"W": np.ones(2)}, path)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in others)
    assert sorted(os.listdir(tmp_path)) == sorted(["model.npz"] + [p.name for p in others])


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_save_through_a_symlink_cleans_next_to_the_target(tmp_path):
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "w.npz"
    link = tmp_path / "model.npz"
    os.symlink(target, link)
    stale = _stale(tmp_path / "store", base="w.npz")
    save({"W": np.ones(2)}, link)
    assert not stale.exists() and os.listdir(tmp_path / "store") == ["w.npz"]


def test_checkpoint_uses_the_same_helper():
    import tinygrad_fish.checkpoint as ckpt

    assert ckpt.remove_stale_temp_files is ser.remove_stale_temp_files


@pytest.mark.skipif(ser._fcntl is None, reason="needs POSIX file locks")
def test_a_temp_file_a_live_save_holds_is_left_alone(tmp_path):
    import fcntl

    path = tmp_path / "model.npz"
    live = _stale(tmp_path)
    dead = _stale(tmp_path, tag="abcdefabcdef")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as save() holds its temp file
        assert ser.remove_stale_temp_files(path) == [str(dead)]
        assert live.exists() and not dead.exists()
    finally:
        os.close(fd)
    assert ser.remove_stale_temp_files(os.fsencode(path)) == [os.fsdecode(os.fsencode(live))]


@pytest.mark.skipif(ser._fcntl is None, reason="needs POSIX file locks")
def test_concurrent_cleaning_never_breaks_a_save(tmp_path):
    path = tmp_path / "model.npz"
    stop = threading.Event()

    def clean():
        while not stop.is_set():
            ser.remove_stale_temp_files(path)

    cleaner = threading.Thread(target=clean)
    cleaner.start()
    try:
        for i in range(60):
            save({"W": np.full(1000, float(i))}, path)
    finally:
        stop.set()
        cleaner.join()
    np.testing.assert_array_equal(load(path)["W"], np.full(1000, 59.0))
    assert os.listdir(tmp_path) == ["model.npz"]
