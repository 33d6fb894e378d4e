"""Tests of training checkpoints (tinygrad_fish.checkpoint, ``train --checkpoint-every`` and
``train --resume``).

Fast (no data): the optimizer state round trip, the file format, corrupt and truncated
checkpoints, atomic replacement under SIGKILL, refused arguments. Slow (real MNIST from
$TINYGRAD_FISH_DATA): a run stopped anywhere (after --iters, by SIGKILL, SIGINT or SIGTERM)
and resumed ends with the weights and metrics of the uninterrupted run, bit for bit.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import assert_one_line_error, mnist_root

from tinygrad_fish import cli
from tinygrad_fish.checkpoint import (
    CHECKPOINT_NAME,
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    remove_stale_temp_files,
    save_checkpoint,
)
from tinygrad_fish.cli import main
from tinygrad_fish.cli import train as cli_train
from tinygrad_fish.optim import OPTIMIZERS, Optimizer
from tinygrad_fish.serialization import save
from tinygrad_fish.trainer import Trainer

REPO = Path(__file__).resolve().parents[1]
SUBPROCESS_ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                  "PYTHONPATH": str(REPO)}


# ------------------------------------------------------------------------- fast: optimizer state


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_optimizer_state_round_trip_continues_bit_for_bit(
    name: str, dtype: type[np.floating[Any]], tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    shapes = {"W1": (4, 3), "b1": (3,)}

    def grads() -> dict[str, np.ndarray]:
        return {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}

    params = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
    opt = OPTIMIZERS[name](lr=0.05)
    for _ in range(3):
        opt.update(params, grads())
    ckpt = Checkpoint(iteration=0, params=params, optimizer=opt.state_dict(),
                      rng_state=rng.bit_generator.state, losses=np.empty(0))
    save_checkpoint(tmp_path / CHECKPOINT_NAME, ckpt)
    back = load_checkpoint(tmp_path / CHECKPOINT_NAME)

    params2 = {k: v.copy() for k, v in back.params.items()}
    opt2: Optimizer = OPTIMIZERS[name](lr=0.05)
    opt2.load_state_dict(back.optimizer)
    rng2 = np.random.default_rng(123)
    rng2.bit_generator.state = back.rng_state
    for _ in range(3):
        g = grads()
        opt.update(params, g)
        g2 = {k: rng2.standard_normal(s).astype(dtype) for k, s in shapes.items()}
        assert all(np.array_equal(g[k], g2[k]) for k in g)
        opt2.update(params2, g2)
    for k in params:
        assert params2[k].dtype == dtype
        assert np.array_equal(params[k], params2[k]), k
    assert vars(opt).keys() == vars(opt2).keys()


def test_optimizer_state_before_the_first_update_and_wrong_class() -> None:
    state = OPTIMIZERS["adam"]().state_dict()
    assert state["slots"] == {"m": None, "v": None}
    assert state["scalars"]["iter"] == 0
    with pytest.raises(ValueError, match="a Adam's, not a Momentum's"):
        OPTIMIZERS["momentum"]().load_state_dict(state)


def test_optimizer_state_refuses_what_it_cannot_save() -> None:
    opt = OPTIMIZERS["sgd"]()
    opt.schedule = [1, 2]  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match=r"cannot save SGD\.schedule of type list"):
        opt.state_dict()


# ------------------------------------------------------------------------- fast: the file


CONFIG = {"optimizer": "adam", "lr": 0.001, "hidden": 8, "batch_size": 10, "iters": 300,
          "seed": 3, "dtype": "float64", "checkpoint_every": 50, "data": None}


def small_checkpoint(iteration: int = 120, fill: float = 0.5) -> Checkpoint:
    rng = np.random.default_rng(1)
    rng.random(5)
    opt = OPTIMIZERS["adam"](lr=0.001)
    params = {"W1": np.full((784, 8), fill), "b1": np.zeros(8), "W2": np.zeros((8, 10)),
              "b2": np.zeros(10)}
    opt.update({k: v.copy() for k, v in params.items()},
               {k: np.ones_like(v) for k, v in params.items()})
    return Checkpoint(
        iteration=iteration, params=params, optimizer=opt.state_dict(),
        rng_state=rng.bit_generator.state, losses=np.linspace(2.3, 0.5, iteration),
        epochs=[{"iteration": 0, "epoch": 0.0, "train_acc": 0.1, "test_acc": 0.125}],
        config=dict(CONFIG), data={"sha256": "x"}, wall_time_s=1.5,
    )


def test_checkpoint_round_trip_without_pickle(tmp_path: Path) -> None:
    ckpt = small_checkpoint()
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, ckpt)
    with np.load(path, allow_pickle=False) as z:  # plain numeric arrays, np.load reads them
        assert z["meta"].dtype == np.uint8
        assert json.loads(z["meta"].tobytes())["iteration"] == 120
        assert {k for k in z.files if k.startswith("optim.")} == {
            f"optim.{a}.{i}" for a in "mv" for i in range(4)
        }
    back = load_checkpoint(path)
    assert back.iteration == 120
    assert back.losses.tobytes() == ckpt.losses.tobytes()
    assert back.epochs == ckpt.epochs and back.config == ckpt.config
    assert back.rng_state == ckpt.rng_state and back.wall_time_s == 1.5
    assert all(np.array_equal(back.params[k], v) for k, v in ckpt.params.items())
    assert back.optimizer["scalars"] == ckpt.optimizer["scalars"]
    for attr in ("m", "v"):
        for k, v in ckpt.optimizer["slots"][attr].items():
            assert np.array_equal(back.optimizer["slots"][attr][k], v)


def corruptions(good: bytes) -> dict[str, tuple[bytes, str]]:
    """Broken versions of a good checkpoint file, and what the error must say."""
    flipped = bytearray(good)
    flipped[len(good) // 3] ^= 0xFF  # inside W1's data: the zip's CRC-32 catches it
    return {
        "truncated": (good[: len(good) // 2], "truncated or corrupt"),
        "truncated-end": (good[:-10], "truncated or corrupt"),
        "bit-flip": (bytes(flipped), "truncated or corrupt"),
        "empty": (b"", "it is empty"),
        "garbage": (b"not a checkpoint", "not a zip file"),
    }


@pytest.mark.parametrize("kind", ["truncated", "truncated-end", "bit-flip", "empty", "garbage"])
def test_corrupt_checkpoint_raises_checkpoint_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, small_checkpoint())
    content, needle = corruptions(path.read_bytes())[kind]
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert needle in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.path == str(path)


def test_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / CHECKPOINT_NAME
    save({"W1": np.zeros(3)}, path)  # a model file
    with pytest.raises(CheckpointError, match="not a valid training checkpoint: it has no 'meta'"):
        load_checkpoint(path)
    meta = np.frombuffer(b'{"format": "tinygrad-fish training checkpoint", "version": 99}',
                         dtype=np.uint8)
    save({"meta": meta}, path)
    with pytest.raises(CheckpointError, match="format version 99"):
        load_checkpoint(path)
    ckpt = small_checkpoint()
    save_checkpoint(path, ckpt)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    del arrays["optim.m.2"]
    save(arrays, path)
    with pytest.raises(CheckpointError, match=r"missing 'optim\.m\.2'"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="no checkpoint to resume from"):
        load_checkpoint(tmp_path / "nope.npz")


def test_checkpoint_meta_is_strict_json(tmp_path: Path) -> None:
    """The metadata was written with allow_nan=True: a NaN would make it invalid JSON."""
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, small_checkpoint())

    def refuse(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")

    with np.load(path, allow_pickle=False) as z:
        assert json.loads(z["meta"].tobytes(), parse_constant=refuse)["iteration"] == 120
    before = path.read_bytes()
    for change, where in [
        (lambda c: c.epochs[0].update(test_acc=float("nan")), "epochs[0].test_acc"),
        (lambda c: c.config.update(lr=float("inf")), "config.lr"),
        (lambda c: setattr(c, "wall_time_s", -float("inf")), "wall_time_s"),
    ]:
        ckpt = small_checkpoint()
        change(ckpt)
        with pytest.raises(ValueError, match=rf"holds a NaN or infinity \(at {re.escape(where)}\)"):
            save_checkpoint(path, ckpt)
        assert path.read_bytes() == before  # nothing written
    # The losses are an array, not JSON: a NaN among them is kept exactly.
    ckpt = small_checkpoint(3)
    ckpt.losses = np.array([2.3, np.nan, np.inf])
    save_checkpoint(path, ckpt)
    assert load_checkpoint(path).losses.tobytes() == ckpt.losses.tobytes()


def test_a_checkpoint_whose_meta_holds_nan_from_an_earlier_version_still_reads(
    tmp_path: Path,
) -> None:
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, small_checkpoint())
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["meta"].tobytes())
    meta["epochs"][0]["test_acc"] = float("nan")
    text = json.dumps(meta, allow_nan=True)  # as version 0.1's save_checkpoint wrote it
    assert "NaN" in text
    arrays["meta"] = np.frombuffer(text.encode(), dtype=np.uint8)
    save(arrays, path)
    back = load_checkpoint(path)
    assert math.isnan(back.epochs[0]["test_acc"]) and back.iteration == 120


def test_a_failed_write_leaves_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, small_checkpoint(120, fill=1.0))
    before = path.read_bytes()
    real = np.lib.format.write_array
    calls = []

    def failing(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 3:  # a few entries in: the temp file is half written
            raise OSError(28, "No space left on device")
        real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(path, small_checkpoint(170, fill=2.0))
    assert path.read_bytes() == before
    assert load_checkpoint(path).iteration == 120
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT_NAME]  # no temp file left


WRITER = """
import sys, numpy as np
from tinygrad_fish.checkpoint import Checkpoint, save_checkpoint
from tinygrad_fish.optim import SGD
path = sys.argv[1]
for k in range(1, 10_000):
    big = np.full(1_500_000, float(k))  # 12 MB: each write takes a while
    save_checkpoint(path, Checkpoint(iteration=k, params={"W": big}, optimizer=SGD().state_dict(),
        rng_state=np.random.default_rng(k).bit_generator.state, losses=np.full(k, float(k))))
    print(k, flush=True)
"""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigkill_mid_write_never_corrupts_the_checkpoint(tmp_path: Path, seed: int) -> None:
    """Kill a process that rewrites its checkpoint in a loop at a random moment: the file
    is always one whole checkpoint, never a torn one, and the stale temp file goes."""
    path = tmp_path / CHECKPOINT_NAME
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=SUBPROCESS_ENV,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # one checkpoint is complete
        assert first.strip() == "1", first
        time.sleep(random.Random(seed).uniform(0.0, 0.5))
    finally:
        proc.kill()
        proc.wait(timeout=30)
    ckpt = load_checkpoint(path)
    assert ckpt.iteration >= 1
    assert np.all(ckpt.params["W"] == ckpt.iteration)
    assert np.all(ckpt.losses == ckpt.iteration)
    remove_stale_temp_files(path)
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT_NAME]


# ------------------------------------------------------------------------- fast: the command line


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """An output directory holding a (synthetic) checkpoint, after iteration 120 of 300."""
    d = tmp_path / "run"
    d.mkdir()
    save_checkpoint(d / CHECKPOINT_NAME, small_checkpoint())
    return d


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        (["--hidden", "20"], ["--hidden 20 (the checkpoint's is 8)"]),
        (["--dtype", "float32", "--lr", "0.5"],
         ["--lr 0.5 (the checkpoint's is 0.001)", "--dtype float32 (the checkpoint's is "
          "float64)", "leave these options out"]),
        (["--optimizer", "SGD", "--seed", "0", "--batch-size", "100"],
         ["--optimizer sgd (the checkpoint's is adam)", "--batch-size 100", "--seed 0"]),
        (["--iters", "100"], ["is at iteration 120, past --iters 100"]),
        (["--network", "simple-convnet"],
         ["--network simple-convnet (the checkpoint's is two-layer-net)"]),
        (["--out", "elsewhere"], ["cannot write into --out elsewhere"]),
    ],
    ids=["hidden", "dtype-lr", "optimizer-seed-batch", "iters", "network", "out"],
)
def test_resume_refuses_conflicting_arguments(
    capsys: pytest.CaptureFixture[str], run_dir: Path, extra: list[str], needles: list[str]
) -> None:
    before = (run_dir / CHECKPOINT_NAME).read_bytes()
    code, out, err = run(capsys, "train", "--resume", run_dir, *extra)
    assert code == 2 and out == ""
    assert_one_line_error(err, "tinygrad-fish: error:", *needles)
    assert (run_dir / CHECKPOINT_NAME).read_bytes() == before
    assert [p.name for p in run_dir.iterdir()] == [CHECKPOINT_NAME]


def test_resume_accepts_the_checkpoints_own_values_then_checks_the_data(
    capsys: pytest.CaptureFixture[str], run_dir: Path, tmp_path: Path
) -> None:
    # Same hyperparameters as the checkpoint's: accepted; it stops at the missing data.
    code, _, err = run(capsys, "train", "--resume", run_dir, "--hidden", "8", "--lr", "0.001",
                       "--optimizer", "adam", "--out", run_dir, "--data", tmp_path,
                       "--no-download")
    assert code == 2
    assert_one_line_error(err, "not found in")


@pytest.mark.parametrize("kind", ["truncated", "bit-flip", "empty"])
def test_resume_from_a_corrupt_checkpoint_fails_clearly(
    capsys: pytest.CaptureFixture[str], run_dir: Path, kind: str
) -> None:
    path = run_dir / CHECKPOINT_NAME
    content, needle = corruptions(path.read_bytes())[kind]
    path.write_bytes(content)
    code, out, err = run(capsys, "train", "--resume", run_dir)
    assert code == 2 and out == ""
    assert_one_line_error(err, "tinygrad-fish: error: cannot read the checkpoint", str(path),
                          needle)
    assert path.read_bytes() == content  # never a silent restart from scratch
    assert [p.name for p in run_dir.iterdir()] == [CHECKPOINT_NAME]


def rewrite_meta(path: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    """Rewrite a checkpoint's metadata with ``change(meta)`` (as a hand edit would)."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["meta"].tobytes())
    change(meta)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    save(arrays, path)


def set_rng(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change setting meta["rng"][a][b]... (path "a.b") to value, or deleting it (...)."""

    def change(meta: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        d = meta
        for key in ["rng", *parents]:
            d = d[key]
        if value is ...:
            del d[last]
        else:
            d[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (set_rng("bit_generator", "NoSuchGen"), "unknown bit generator 'NoSuchGen'"),
        (set_rng("bit_generator", "SeedSequence"), "unknown bit generator 'SeedSequence'"),
        (set_rng("bit_generator", ...), "no random generator state"),
        (lambda m: m.update(rng="PCG64"), "no random generator state"),
        (set_rng("bit_generator", "MT19937"),
         "numpy refuses its MT19937 random generator state (missing 'key')"),
        (set_rng("state", ...), "numpy refuses its PCG64 random generator state (missing "
         "'state')"),
        (set_rng("state", [1, 2]), "numpy refuses its PCG64 random generator state"),
        (set_rng("state.inc", ...), "(missing 'inc')"),
        (set_rng("state.state", "12"), "state's state.state is '12', not an integer"),
        (set_rng("state.state", 1.5), "state's state.state is 1.5, not an integer"),
        (set_rng("has_uint32", True), "state's has_uint32 is True, not an integer"),
        (set_rng("uinteger", None), "state's uinteger is None, not an integer"),
        (set_rng("has_uint32", 7), "has_uint32 is 7, not 0 or 1"),
        (set_rng("state.state", -1), "numpy refuses its PCG64 random generator state"),
        (set_rng("state.inc", 2**200), "numpy refuses its PCG64 random generator state"),
        (set_rng("uinteger", 2**40), "numpy refuses its PCG64 random generator state"),
        (set_rng("extra", 1), "does not read back the same"),
    ],
    ids=["unknown-name", "not-a-bit-generator", "no-name", "not-an-object", "other-generator",
         "no-state", "state-a-list", "no-inc", "str", "float", "bool", "null", "has-uint32-7",
         "negative", "too-big-128", "too-big-32", "extra-field"],
)
def test_resume_refuses_a_malformed_rng_state(
    capsys: pytest.CaptureFixture[str], run_dir: Path, change: Callable[..., Any], needle: str
) -> None:
    """A hand-edited or damaged "rng" in a checkpoint's metadata gave a raw numpy traceback
    (OverflowError, TypeError), or was silently truncated (a float, a bool); now a
    CheckpointError at load, a one-line exit 2 at --resume, before any data is read."""
    path = run_dir / CHECKPOINT_NAME
    rewrite_meta(path, change)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert f"{path} is not a valid training checkpoint: " in str(info.value)
    assert needle in str(info.value)
    before = path.read_bytes()
    code, out, err = run(capsys, "train", "--resume", run_dir, "--data", run_dir / "none",
                         "--no-download")
    assert code == 2 and out == ""
    assert_one_line_error(err, f"tinygrad-fish: error: {path} is not a valid training "
                          "checkpoint: ", needle)
    assert path.read_bytes() == before
    assert [p.name for p in run_dir.iterdir()] == [CHECKPOINT_NAME]


def test_a_valid_rng_state_of_another_bit_generator_loads(tmp_path: Path) -> None:
    path = tmp_path / CHECKPOINT_NAME
    ckpt = small_checkpoint()
    ckpt.rng_state = np.random.Generator(np.random.PCG64DXSM(4)).bit_generator.state
    save_checkpoint(path, ckpt)
    assert load_checkpoint(path).rng_state == ckpt.rng_state


def test_the_global_random_state_and_an_mt19937_generator_state_round_trip(
    tmp_path: Path,
) -> None:
    """The book's np.random (a legacy MT19937 RandomState, whose state adds has_gauss and the
    float gauss) and a Generator(MT19937) (whose key is an array) were refused at load."""
    path = tmp_path / CHECKPOINT_NAME
    legacy = np.random.RandomState(3)
    legacy.standard_normal()  # an odd number of normal draws: a Box-Muller value is kept
    ckpt = small_checkpoint()
    ckpt.rng_state = legacy.get_state(legacy=False)
    assert ckpt.rng_state["has_gauss"] == 1
    save_checkpoint(path, ckpt)
    back = np.random.RandomState()
    back.set_state(load_checkpoint(path).rng_state)
    assert back.standard_normal(5).tolist() == legacy.standard_normal(5).tolist()

    gen = np.random.Generator(np.random.MT19937(4))
    ckpt.rng_state = gen.bit_generator.state
    save_checkpoint(path, ckpt)
    again = np.random.Generator(np.random.MT19937(0))
    again.bit_generator.state = load_checkpoint(path).rng_state
    assert again.random(3).tolist() == gen.random(3).tolist()


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (set_rng("gauss", "0.5"), "state's gauss is '0.5', not a finite number"),
        (set_rng("gauss", True), "state's gauss is True, not a finite number"),
        (set_rng("has_gauss", 2), "has_gauss is 2, not 0 or 1"),
        (set_rng("has_gauss", 0.0), "state's has_gauss is 0.0, not an integer"),
        (set_rng("state.key", [1, 2]), "numpy refuses its global (legacy MT19937) random "
         "state"),
        (set_rng("state.pos", 2**40), "numpy refuses its global (legacy MT19937) random "
         "state"),
        (set_rng("extra", 1), "its global (legacy MT19937) random state does not read back "
         "the same"),
    ],
    ids=["gauss-str", "gauss-bool", "has-gauss-2", "has-gauss-float", "short-key",
         "pos-too-big", "extra-field"],
)
def test_a_malformed_global_random_state_is_refused(
    tmp_path: Path, change: Callable[..., Any], needle: str
) -> None:
    path = tmp_path / CHECKPOINT_NAME
    ckpt = small_checkpoint()
    ckpt.rng_state = np.random.RandomState(3).get_state(legacy=False)
    save_checkpoint(path, ckpt)
    rewrite_meta(path, change)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(info.value).startswith(f"{path} is not a valid training checkpoint: ")
    assert needle in str(info.value)


def test_resume_without_a_checkpoint(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "train", "--resume", tmp_path)
    assert code == 2
    assert_one_line_error(err, "no checkpoint to resume from", CHECKPOINT_NAME)


def test_a_new_run_refuses_a_directory_holding_a_checkpoint(
    capsys: pytest.CaptureFixture[str], run_dir: Path
) -> None:
    code, _, err = run(capsys, "train", "--out", run_dir, "--iters", "5")
    assert code == 2
    assert_one_line_error(err, "holds the checkpoint of an earlier run",
                          f"--resume {run_dir}")


def test_help_lists_the_checkpoint_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "train", "--help")
    assert code == 0 and "--checkpoint-every" in out and "--resume" in out
    code, _, err = run(capsys, "train", "--checkpoint-every", "0")
    assert code == 2
    assert_one_line_error(err, "--checkpoint-every: must be a positive integer")


# ------------------------------------------------------------------------- slow: real MNIST

ITERS = 300
EVERY = 50


Result = tuple[dict[str, Any], dict[str, np.ndarray]]


def result(out: Path) -> Result:
    """metrics.json without the wall time, and the saved weights."""
    metrics = json.loads((out / "metrics.json").read_text())
    del metrics["wall_time_s"]
    with np.load(out / "model.npz", allow_pickle=False) as z:
        return metrics, {k: z[k] for k in z.files}


def assert_same_run(got: Result, want: Result) -> None:
    assert got[0] == want[0]
    assert got[1].keys() == want[1].keys()
    for k, w in want[1].items():
        assert got[1][k].dtype == w.dtype
        assert np.array_equal(got[1][k], w), k  # bit for bit (no NaN in a trained net)


def quiet_main(*argv: str | Path) -> int:
    with open(os.devnull, "w") as f, contextlib.redirect_stdout(f):
        return main([str(a) for a in argv])


_REFERENCES: dict[tuple[str, ...], Result] = {}


@pytest.fixture
def reference(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Result]:
    """The uninterrupted run (no checkpoint options) with these options, run once."""

    def get(*options: str) -> Result:
        if options not in _REFERENCES:
            out = tmp_path_factory.mktemp("reference")
            code = quiet_main("train", "--iters", str(ITERS), "--out", out, "--data",
                              mnist_root(), "--no-download", *options)
            assert code == 0
            assert CHECKPOINT_NAME not in {p.name for p in out.iterdir()}
            _REFERENCES[options] = result(out)
        return _REFERENCES[options]

    return get


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [("--optimizer", "sgd"), ("--optimizer", "adam"),
     ("--optimizer", "momentum", "--dtype", "float32", "--hidden", "30", "--seed", "5")],
    ids=["sgd", "adam", "momentum-float32"],
)
def test_run_120_then_resume_to_300_is_the_300_run(
    tmp_path: Path, reference: Callable[..., Result], options: tuple[str, ...]
) -> None:
    out = tmp_path / "run"
    assert quiet_main("train", "--iters", "120", "--checkpoint-every", str(EVERY), "--out", out,
                      "--data", mnist_root(), "--no-download", *options) == 0
    ckpt = load_checkpoint(out / CHECKPOINT_NAME)
    assert ckpt.iteration == 120  # written after the last iteration too (120 % 50 != 0)
    assert len(ckpt.losses) == 120 and ckpt.config["data"] == str(mnist_root())
    # The checkpoint's values for everything left out (data included); --iters raised.
    assert quiet_main("train", "--resume", out, "--iters", str(ITERS)) == 0
    assert_same_run(result(out), reference(*options))
    assert load_checkpoint(out / CHECKPOINT_NAME).iteration == ITERS


@pytest.mark.slow
def test_sigint_in_process_saves_then_resume_completes(
    tmp_path: Path, reference: Callable[..., Result], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGINT in the middle of iteration 120's step, without --checkpoint-every: the
    iteration finishes, the checkpoint is written after it, exit 130."""
    real_step = Trainer._loss_and_gradient
    calls = []

    def step(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 120:
            signal.raise_signal(signal.SIGINT)
        return real_step(*args)

    monkeypatch.setattr(Trainer, "_loss_and_gradient", step)
    handler = signal.getsignal(signal.SIGINT)
    out = tmp_path / "run"
    code = main(["train", "--iters", str(ITERS), "--out", str(out), "--data",
                 str(mnist_root()), "--no-download", "--optimizer", "adam"])
    err = capsys.readouterr().err
    assert code == 130
    assert f"interrupted (SIGINT) after iteration 120 of {ITERS}" in err
    assert f"tinygrad-fish train --resume {out}" in err
    assert {p.name for p in out.iterdir()} == {CHECKPOINT_NAME}
    assert load_checkpoint(out / CHECKPOINT_NAME).iteration == 120
    assert signal.getsignal(signal.SIGINT) is handler  # restored
    monkeypatch.undo()

    assert quiet_main("train", "--resume", out) == 0
    assert_same_run(result(out), reference("--optimizer", "adam"))


@pytest.mark.slow
def test_resume_refuses_other_data_and_arrays_that_do_not_fit_the_run(
    capsys: pytest.CaptureFixture[str], run_dir: Path
) -> None:
    """After reading MNIST: a checkpoint of other data is refused (with the --data hint),
    and so is one whose arrays do not fit the network its configuration describes."""
    from tinygrad_fish.datasets import load_mnist
    from tinygrad_fish.trainer import data_fingerprint

    path = run_dir / CHECKPOINT_NAME
    code, out, err = run(capsys, "train", "--resume", run_dir, "--data", mnist_root(),
                         "--no-download")
    assert code == 2 and out == ""
    assert_one_line_error(err, f"tinygrad-fish: error: cannot resume {path}: the MNIST data "
                          "read now differ from the data the run was trained on (give --data "
                          "the same directory)")
    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=True, flatten=True, one_hot_label=True, root=mnist_root(), download=False)
    ckpt = small_checkpoint()
    ckpt.data = data_fingerprint(x_train, t_train, x_test, t_test)  # the real data's
    ckpt.params = {**ckpt.params, "b1": np.zeros(9)}  # --hidden 8's b1 has 8
    save_checkpoint(path, ckpt)
    before = path.read_bytes()
    code, out, err = run(capsys, "train", "--resume", run_dir, "--data", mnist_root(),
                         "--no-download")
    assert code == 2 and out == ""
    assert_one_line_error(err, f"tinygrad-fish: error: {path} does not fit the run it "
                          "describes: TwoLayerNet.load_state_dict: 'b1' has shape (9,) in the "
                          "state dict but (8,) in the module")
    assert path.read_bytes() == before
    assert sorted(p.name for p in run_dir.iterdir()) == [CHECKPOINT_NAME]


def start_training(out: Path, *options: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "tinygrad_fish", "train", "--iters", str(ITERS),
            "--checkpoint-every", str(EVERY), "--out", str(out), "--data", str(mnist_root()),
            "--no-download", *options]
    return subprocess.Popen(argv, env=SUBPROCESS_ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def wait_for_checkpoint(proc: subprocess.Popen[str], path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.005)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigkill_at_a_random_moment_then_resume(
    tmp_path: Path, reference: Callable[..., Result], seed: int
) -> None:
    """SIGKILL anywhere (mid-iteration, mid-checkpoint, mid-output): the resumed run is the
    uninterrupted one, bit for bit."""
    out = tmp_path / "run"
    proc = start_training(out, "--optimizer", "adam")
    try:
        wait_for_checkpoint(proc, out / CHECKPOINT_NAME)  # iteration 0's: the loop starts
        time.sleep(random.Random(seed).uniform(0.0, 1.2))
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    at = load_checkpoint(out / CHECKPOINT_NAME).iteration
    assert at % EVERY == 0 or at == ITERS
    assert quiet_main("train", "--resume", out) == 0
    assert_same_run(result(out), reference("--optimizer", "adam"))
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_saves_a_checkpoint_and_exits_then_resume(
    tmp_path: Path, reference: Callable[..., Result], sig: signal.Signals
) -> None:
    out = tmp_path / "run"
    proc = start_training(out, "--optimizer", "momentum")
    try:
        wait_for_checkpoint(proc, out / CHECKPOINT_NAME)
        time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    if proc.returncode == 0:  # this machine trained all 300 iterations in 50 ms
        pytest.skip("the run finished before the signal")
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert f"interrupted ({sig.name}) after iteration" in last
    assert f"saved {out / CHECKPOINT_NAME}; continue with: tinygrad-fish train --resume {out}" \
        in last
    at = load_checkpoint(out / CHECKPOINT_NAME).iteration
    assert 0 < at <= ITERS  # whatever iteration it stopped after, not only multiples of 50
    assert quiet_main("train", "--resume", out) == 0
    assert_same_run(result(out), reference("--optimizer", "momentum"))


# ------------------------------------------------------------------------- BLAS threads


def test_conftest_limits_blas_to_one_thread() -> None:
    """tests/conftest.py's limit is real: it once ran before numpy had loaded OpenBLAS, when
    threadpoolctl finds nothing to limit, and the in-process runs used every core."""
    from threadpoolctl import threadpool_info

    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    if not blas:
        pytest.skip("threadpoolctl finds no BLAS library in this numpy")
    assert [lib["num_threads"] for lib in blas] == [1] * len(blas)


def test_train_applies_threads_and_restores_the_callers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from threadpoolctl import threadpool_info

    def blas_threads() -> list[int]:
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    if not blas_threads():
        pytest.skip("threadpoolctl finds no BLAS library in this numpy")
    seen: list[list[int]] = []

    def train(*args: Any) -> int:
        seen.append(blas_threads())
        return 0

    monkeypatch.setattr(cli_train, "_train", train)
    before = blas_threads()
    assert main(["train", "--threads", "2", "--out", str(tmp_path / "a")]) == 0
    assert main(["train", "--out", str(tmp_path / "b")]) == 0
    assert seen == [[2] * len(before), [cli.DEFAULT_THREADS] * len(before)]
    assert blas_threads() == before


def test_resume_refuses_other_threads_than_the_checkpoints(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    d = tmp_path / "run"
    d.mkdir()
    ckpt = small_checkpoint()
    ckpt.config["threads"] = 2
    save_checkpoint(d / CHECKPOINT_NAME, ckpt)
    code, out, err = run(capsys, "train", "--resume", d, "--threads", "1")
    assert code == 2 and out == ""
    assert_one_line_error(err, "tinygrad-fish: error: cannot resume",
                          "--threads 1 (the checkpoint's is 2)")
    # The checkpoint's own value is accepted; it then stops at the missing data.
    code, _, err = run(capsys, "train", "--resume", d, "--threads", "2", "--data",
                       tmp_path, "--no-download")
    assert code == 2
    assert_one_line_error(err, "not found in")


def test_resume_refuses_a_checkpoint_with_an_invalid_thread_count(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    d = tmp_path / "run"
    d.mkdir()
    ckpt = small_checkpoint()
    ckpt.config["threads"] = 0
    save_checkpoint(d / CHECKPOINT_NAME, ckpt)
    code, _, err = run(capsys, "train", "--resume", d)
    assert code == 2
    assert_one_line_error(err, "not a valid training checkpoint", "threads=0")


def test_help_says_resume_is_bit_identical_at_the_recorded_thread_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "train", "--help")
    text = " ".join(out.split())
    assert code == 0
    assert f"--threads N BLAS threads for the matrix products (default: {cli.DEFAULT_THREADS}" \
        in text
    assert "resumable, at the same thread count, which the checkpoint records and --resume " \
        "applies" in text


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env_threads", "options"), [("2", ()), ("1", ("--threads", "2"))],
    ids=["default-threads-env-2", "threads-2-env-1"],
)
def test_resume_is_bit_identical_whatever_the_environment_threads(
    tmp_path: Path, env_threads: str, options: tuple[str, ...]
) -> None:
    """A run started in a process whose environment asks for another BLAS thread count than
    the resuming one (the tests' 1, from conftest) resumes into the uninterrupted run, bit for
    bit: train sets the count itself (--threads, default 1) and --resume applies the
    checkpoint's. (Once the subprocess ran with the environment's count: a 2-thread run
    resumed with 1 thread differed in the 16th digit.)"""
    root = mnist_root()
    common = ("--optimizer", "adam", "--data", str(root), "--no-download", *options)
    want_out = tmp_path / "reference"
    assert quiet_main("train", "--iters", "40", "--out", want_out, *common) == 0

    out = tmp_path / "run"
    env = {k: v for k, v in SUBPROCESS_ENV.items() if k not in ("OMP_NUM_THREADS",)}
    env["OPENBLAS_NUM_THREADS"] = env_threads
    proc = subprocess.run(
        [sys.executable, "-m", "tinygrad_fish", "train", "--iters", "20", "--checkpoint-every",
         "10", "--out", str(out), *common],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    threads = int(options[1]) if options else cli.DEFAULT_THREADS
    assert f"seed 0, {threads} BLAS thread" in proc.stdout
    assert load_checkpoint(out / CHECKPOINT_NAME).config["threads"] == threads
    assert quiet_main("train", "--resume", out, "--iters", "40") == 0
    got, want = result(out), result(want_out)
    assert got[0]["threads"] == want[0]["threads"] == threads
    assert_same_run(got, want)


@pytest.mark.slow
def test_resume_of_a_checkpoint_without_a_thread_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Checkpoints written before --threads existed still resume: with --threads (default
    1), and a note that the result is the uninterrupted run's only at its thread count."""
    root = mnist_root()
    common = ("--data", str(root), "--no-download")
    want_out = tmp_path / "reference"
    assert quiet_main("train", "--iters", "30", "--out", want_out, *common) == 0
    out = tmp_path / "run"
    assert quiet_main("train", "--iters", "15", "--checkpoint-every", "5", "--out", out,
                      *common) == 0
    path = out / CHECKPOINT_NAME
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["meta"].tobytes())
    del meta["config"]["threads"]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    save(arrays, path)
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--iters", "30"]) == 0
    stdout = capsys.readouterr().out
    assert "does not record the BLAS thread count" in stdout
    assert f"resuming with {cli.DEFAULT_THREADS} (--threads)" in stdout
    assert_same_run(result(out), result(want_out))
    assert load_checkpoint(path).config["threads"] == cli.DEFAULT_THREADS


# ------------------------------------------------------------------------- out of memory


@pytest.mark.slow
def test_memory_error_during_training_exits_2_and_keeps_the_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A MemoryError in iteration 5 (after the checkpoint of iteration 3): one line, exit 2,
    no outputs, no checkpoint of the half-updated state; the one on disk resumes into the
    uninterrupted run, bit for bit."""
    common = ("--data", str(mnist_root()), "--no-download", "--optimizer", "momentum")
    want_out = tmp_path / "reference"
    assert quiet_main("train", "--iters", "10", "--out", want_out, *common) == 0

    real_step = Trainer._loss_and_gradient
    calls = []

    def step(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 5:
            raise MemoryError
        return real_step(*args)

    monkeypatch.setattr(Trainer, "_loss_and_gradient", step)
    out = tmp_path / "run"
    capsys.readouterr()
    code = main(["train", "--iters", "10", "--checkpoint-every", "3", "--out", str(out),
                 *common])
    err = capsys.readouterr().err
    assert code == 2
    assert_one_line_error(
        err, "tinygrad-fish: error: out of memory in iteration 5 of 10 (estimated need ",
        f"{out / CHECKPOINT_NAME} (after iteration 3) is intact: continue with "
        f"'tinygrad-fish train --resume {out}'", "use a smaller --hidden or --batch-size",
    )
    assert [p.name for p in out.iterdir()] == [CHECKPOINT_NAME]
    assert load_checkpoint(out / CHECKPOINT_NAME).iteration == 3
    monkeypatch.undo()
    assert quiet_main("train", "--resume", out) == 0
    assert_same_run(result(out), result(want_out))


def test_memory_error_before_any_checkpoint_says_none_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_memory(*args: Any, **kwargs: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr(cli_train, "_load_mnist", no_memory)
    code, out, err = run(capsys, "train", "--out", tmp_path / "o")
    assert code == 2 and out == ""
    assert_one_line_error(err, "tinygrad-fish: error: out of memory while loading MNIST",
                          "no checkpoint was written")
