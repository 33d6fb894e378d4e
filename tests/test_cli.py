"""Tests of the ``tinygrad-fish`` command line (the tinygrad_fish.cli package, one module per
command, and tinygrad_fish.__main__).

The fast tests need no data: argument errors, missing data, corrupt model files, the graph
command's DOT output. The slow ones train, evaluate and gradient-check on the real MNIST from
$TINYGRAD_FISH_DATA (skipped when it is unset, failed when CI=true).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import assert_one_line_error, mnist_root

from tinygrad_fish import cli
from tinygrad_fish.cli import evaluate as cli_evaluate
from tinygrad_fish.cli import main
from tinygrad_fish.cli import memory as cli_memory
from tinygrad_fish.trainer import Trainer, _json_safe

REPO = Path(__file__).resolve().parents[1]


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """``main(argv)``: its exit code, stdout and stderr."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- fast: arguments


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("train", "evaluate", "gradcheck", "graph"):
        assert command in out
    code, out, _ = run(capsys, "train", "--help")
    assert code == 0 and "--optimizer" in out and "--dtype" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("tinygrad-fish ")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        ([], "required: COMMAND"),
        (["fit"], "invalid choice: 'fit'"),
        (["train", "--iters", "0"], "--iters: must be a positive integer"),
        (["train", "--lr", "abc"], "--lr: not a number"),
        (["train", "--lr", "nan"], "--lr: must be a positive finite number"),
        (["train", "--optimizer", "lbfgs"], "--optimizer: invalid choice: 'lbfgs'"),
        (["train", "--dtype", "float16"], "--dtype: invalid choice: 'float16'"),
        (["train", "--seed", "-1"], "--seed: must be >= 0"),
        (["evaluate"], "required: MODEL.npz"),
        (["graph", "--out", "graph.bmp"], "must end in .svg, .png, .pdf, .jpg, .jpeg, .dot, .gv"),
        (["graph"], "give --out FILE (a drawing) or --animate FILE.html (or both)"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, needle, "tinygrad-fish")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--out", ""], "tinygrad-fish train: argument --out: must not be empty"),
        (["train", "--out", "  "], "tinygrad-fish train: argument --out: must not be empty"),
        (["graph", "--out", ""], "tinygrad-fish graph: argument --out: must not be empty"),
        (["train", "--resume", ""], "argument --resume: must not be empty"),
        (["train", "--data", ""], "argument --data: must not be empty"),
        (["evaluate", ""], "argument MODEL.npz: must not be empty"),
    ],
)
def test_out_empty_string_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    argv: list[str], needle: str
) -> None:
    """``--out ""`` (an unset shell variable) was Path(""), the current directory: train
    wrote its outputs there. Refused, and nothing is written."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv, "--iters", "1") if argv[0] == "train" else run(
        capsys, *argv)
    assert code == 2 and out == ""
    assert_one_line_error(err, needle)
    assert list(tmp_path.iterdir()) == []


def test_optimizer_names_are_case_insensitive(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Parsed fine (ADAM -> adam); it then stops at the missing data.
    code, _, err = run(capsys, "train", "--optimizer", "ADAM", "--data", tmp_path,
                       "--no-download", "--out", tmp_path / "out")
    assert code == 2
    assert_one_line_error(err, "not found in")


# --------------------------------------------------------------------------- fast: data errors


def test_missing_data_without_download(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "gradcheck", "--data", tmp_path, "--no-download")
    assert code == 2 and out == ""
    # The ways out in the command line's words, not the library's (download=True).
    assert_one_line_error(
        err, f"tinygrad-fish: error: train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) "
        f"not found in {tmp_path}: give --data DIR (or set TINYGRAD_FISH_DATA) to the "
        "directory holding the four MNIST files, or leave out --no-download to download them")
    assert "download=True" not in err


@pytest.mark.parametrize("via", ["--data", "TINYGRAD_FISH_DATA"])
def test_a_data_directory_that_does_not_exist_is_not_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    via: str
) -> None:
    typo = tmp_path / "mnsit" / "deeper"
    if via == "--data":
        argv: tuple[str | Path, ...] = ("evaluate", tmp_path / "m.npz", "--data", typo)
        named = f"--data {typo}"
    else:
        monkeypatch.setenv("TINYGRAD_FISH_DATA", str(typo))
        argv, named = ("gradcheck",), f"TINYGRAD_FISH_DATA={typo}"
    if via == "--data":  # evaluate reads the model first: give it one
        from tinygrad_fish.nn import TwoLayerNet
        from tinygrad_fish.serialization import save

        save(TwoLayerNet(784, 5, 10), tmp_path / "m.npz")
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert_one_line_error(
        err, f"tinygrad-fish: error: {named}: not a directory (an MNIST directory is not "
        "created for you, in case it is mistyped): create it, or give --data DIR (or set "
        "TINYGRAD_FISH_DATA) to the directory holding the four MNIST files")
    assert not (tmp_path / "mnsit").exists()


def test_missing_data_without_network(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(*args: Any, **kwargs: Any) -> Any:
        raise OSError("Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", offline)  # below urllib and http.client
    (tmp_path / "mnist").mkdir()
    code, _, err = run(capsys, "train", "--iters", "1", "--data", tmp_path / "mnist",
                       "--out", tmp_path / "out")
    assert code == 2
    # The loader's several-line report (one line per mirror) is folded into one line, and
    # ends with the ways out.
    assert_one_line_error(err, "could not download", "every mirror failed",
                          "Network is unreachable", "; offline? give --data DIR (or set "
                          "TINYGRAD_FISH_DATA) to the directory holding the four MNIST files")


# --------------------------------------------------------------------------- fast: memory

GiB = 2**30


def test_train_refuses_a_run_too_big_for_memory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--hidden 3000000`` used to die in a raw MemoryError traceback (exit 1); it is
    refused up front, before any data is read or directory made, naming the estimate and the
    memory available."""
    monkeypatch.setattr(cli_memory, "_available_memory", lambda: (8 * GiB, "MemAvailable in X"))
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "train", "--hidden", "3000000", "--out", out,
                            "--data", tmp_path / "none", "--no-download")
    assert code == 2 and stdout == ""
    assert_one_line_error(
        err, "tinygrad-fish: error: this run needs about 465.2 GiB of memory (--hidden 3000000",
        "parameters 17.8 GiB", "but 8.0 GiB is available (MemAvailable in X)",
        "use a smaller --hidden or --batch-size",
    )
    assert not out.exists()
    # A big batch that is within the training set, with too little memory for it.
    monkeypatch.setattr(cli_memory, "_available_memory", lambda: (512 * 2**20, "MemAvailable in X"))
    code, _, err = run(capsys, "train", "--batch-size", "60000", "--out", out)
    assert code == 2
    assert_one_line_error(err, "this run needs about 987.1 MiB", "--batch-size 60000",
                          "but 512.0 MiB is available")
    # No figure for the memory available: no check (the run then stops at the data).
    monkeypatch.setattr(cli_memory, "_available_memory", lambda: None)
    code, _, err = run(capsys, "train", "--batch-size", "60000", "--out", out,
                       "--data", tmp_path, "--no-download")
    assert code == 2
    assert_one_line_error(err, "not found in")


def test_train_refuses_a_batch_larger_than_the_training_set(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for size in ("100000000", "60001"):
        code, out, err = run(capsys, "train", "--batch-size", size, "--out", tmp_path / "o")
        assert code == 2 and out == ""
        assert_one_line_error(
            err, f"tinygrad-fish: error: --batch-size {size} is larger than the training set "
            "(60000 images): use at most 60000"
        )
    code, out, _ = run(capsys, "train", "--help")
    assert "at most the training set's size (60000; a larger one is refused, not clamped)" \
        in " ".join(out.split())


def test_memory_estimate_of_the_books_run_and_its_parts() -> None:
    book = cli_memory._estimate_train_memory(hidden=50, batch_size=100, dtype=np.dtype("float64"),
                                      optimizer_slots=0)
    assert book["parameters"] == (784 * 50 + 50 + 50 * 10 + 10) * 8
    assert book["data"] == 70000 * (784 * 4 + 10 * 4 + 8)
    # Measured: 332 MiB peak RSS for the book's run.
    assert 300 * 2**20 < book["total"] < 450 * 2**20
    adam = cli_memory._estimate_train_memory(hidden=4000, batch_size=100, dtype=np.dtype("float64"),
                                      optimizer_slots=2)
    assert adam["optimizer"] == 2 * adam["parameters"]
    f32 = cli_memory._estimate_train_memory(hidden=4000, batch_size=100, dtype=np.dtype("float32"),
                                     optimizer_slots=2)
    assert 2 * f32["parameters"] == adam["parameters"]
    assert adam["total"] == (
        adam["base"] + adam["data"] + adam["parameters"] + adam["optimizer"]
        + max(adam["step"], adam["evaluation"], adam["checkpoint"])
    )


def test_memory_estimate_of_the_books_convnet_run() -> None:
    est = cli_memory._estimate_convnet_memory(hidden=100, batch_size=100,
                                              dtype=np.dtype("float64"), optimizer_slots=2)
    assert est["parameters"] == (30 * 25 + 30 + 4320 * 100 + 100 + 100 * 10 + 10) * 8
    assert est["optimizer"] == 2 * est["parameters"]  # Adam's m and v
    # Measured: 675 MiB peak RSS for train --network simple-convnet (at its evaluation).
    assert 675 * 2**20 < est["total"] < 900 * 2**20
    assert est["evaluation"] > est["step"]
    small = cli_memory._estimate_convnet_memory(hidden=100, batch_size=10,
                                                dtype=np.dtype("float32"), optimizer_slots=0)
    assert small["total"] < est["total"] and small["optimizer"] == 0


def test_available_memory_from_meminfo_and_cgroup_limits(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24683584 kB\nMemFree:  1 kB\n"
                       "MemAvailable:   23643272 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    assert cli_memory._available_memory(meminfo, cgroup) == (
        23643272 * 1024, f"MemAvailable in {meminfo}"
    )
    (cgroup / "memory.max").write_text("max\n")  # no limit
    (cgroup / "memory.current").write_text("1000\n")
    assert cli_memory._available_memory(meminfo, cgroup) == (
        23643272 * 1024, f"MemAvailable in {meminfo}"
    )
    (cgroup / "memory.max").write_text(f"{4 * GiB}\n")
    (cgroup / "memory.current").write_text(f"{GiB}\n")
    assert cli_memory._available_memory(meminfo, cgroup) == (
        3 * GiB, f"the cgroup limit {cgroup / 'memory.max'} less its usage"
    )
    # cgroup v1's "no limit" is a huge number.
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (v1 / "memory" / "memory.usage_in_bytes").write_text("5\n")
    assert cli_memory._available_memory(meminfo, v1)[0] == 23643272 * 1024  # type: ignore[index]
    # No /proc/meminfo (not Linux): the physical memory size, where os.sysconf knows it.
    got = cli_memory._available_memory(tmp_path / "none", tmp_path / "none")
    if hasattr(os, "sysconf"):
        assert got is not None and got[0] > 0 and got[1] == "the physical memory size"
    meminfo.write_text("MemAvailable: lots\n")  # unreadable: as if missing
    assert cli_memory._available_memory(meminfo, tmp_path / "none") == got


def test_memory_error_outside_training_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_memory(path: Path) -> Any:
        raise MemoryError

    monkeypatch.setattr(cli_evaluate, "_read_model", no_memory)
    code, out, err = run(capsys, "evaluate", tmp_path / "model.npz")
    assert code == 2 and out == ""
    assert_one_line_error(err, "tinygrad-fish: error: out of memory")


# --------------------------------------------------------------------------- fast: model files


def test_evaluate_missing_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "evaluate", tmp_path / "nope.npz")
    assert code == 2
    assert_one_line_error(err, "model file not found", "nope.npz")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "is not an .npz model file (it is empty)"),
        (b"not a zip file at all", "is not an .npz model file (it is not a zip file)"),
        (b"PK\x03\x04truncated", "is truncated or corrupt"),
    ],
    ids=["empty", "garbage", "truncated-zip"],
)
def test_evaluate_corrupt_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, needle: str
) -> None:
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    code, out, err = run(capsys, "evaluate", path)  # no data needed: the model is read first
    assert code == 2 and out == ""
    assert_one_line_error(err, "tinygrad-fish: error:", str(path), needle)


def test_evaluate_refuses_pickled_arrays(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "model.npz"
    objects = np.empty(1, dtype=object)
    objects[0] = {"W1": 1}
    np.savez(path, W1=objects)
    code, _, err = run(capsys, "evaluate", path)
    assert code == 2
    assert_one_line_error(err, str(path), "dtype object; refused")


def good_state(h: int = 8) -> dict[str, np.ndarray]:
    return {"W1": np.zeros((784, h)), "b1": np.zeros(h), "W2": np.zeros((h, 10)),
            "b2": np.zeros(10)}


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"W2": np.zeros((9, 10))}, "shapes do not fit TwoLayerNet(784, H, 10)"),
        ({"W1": np.zeros((100, 8))}, "shapes do not fit"),
        ({"b2": np.zeros(3)}, "shapes do not fit"),
        ({"W3": np.zeros(3)}, "expected the arrays W1, b1, W2, b2 of a TwoLayerNet"),
        ({"b1": np.zeros(8, dtype=np.float32)}, "all float32 or all float64"),
        ({"W1": np.zeros((784, 8), dtype=np.int64)}, "all float32 or all float64"),
    ],
)
def test_evaluate_mismatched_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, change: dict[str, Any], needle: str
) -> None:
    path = tmp_path / "model.npz"
    np.savez(path, **{**good_state(), **change})
    code, _, err = run(capsys, "evaluate", path)
    assert code == 2
    assert_one_line_error(err, needle)


def test_evaluate_a_single_npy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "model.npy"
    np.save(path, np.zeros(3))
    code, _, err = run(capsys, "evaluate", path)
    assert code == 2
    assert_one_line_error(err, "holds a single .npy array")


# --------------------------------------------------------------------------- fast: graph


def test_graph_writes_dot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "book.dot"
    code, out, err = run(capsys, "graph", "--out", path, "--view", "backward", "--values")
    assert code == 0 and err == ""
    assert out.strip() == f"wrote {path}"
    text = path.read_text()
    assert text.lstrip().startswith("digraph")
    assert "W1" in text and "MatMul" in text
    assert "cluster_legend" not in text  # the legend is off unless --legend


def test_graph_legend_and_forward_view(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "f.gv"  # .gv is DOT source too
    code, _, _ = run(capsys, "graph", "--out", path, "--view", "forward", "--legend")
    assert code == 0
    text = path.read_text()
    assert "cluster_legend" in text and "matmul" in text and "Backward" not in text


def test_graph_backward_flag_is_a_deprecated_alias(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "graph", "--out", tmp_path / "old.dot", "--backward")
    assert code == 0
    assert "--backward is deprecated, use --view backward" in err
    run(capsys, "graph", "--out", tmp_path / "new.dot", "--view", "backward")
    assert (tmp_path / "old.dot").read_text() == (tmp_path / "new.dot").read_text()
    code, _, err = run(capsys, "graph", "--out", tmp_path / "x.dot", "--backward",
                       "--view", "forward")
    assert code == 2
    assert "--backward and --view forward contradict each other" in err


def test_graph_accepts_every_render_format(capsys: pytest.CaptureFixture[str]) -> None:
    from tinygrad_fish.cli.common import GRAPH_SUFFIXES
    from tinygrad_fish.viz.render import _FORMATS

    assert set(GRAPH_SUFFIXES) == set(_FORMATS)
    code, _, err = run(capsys, "graph", "--out", "g.bmp")
    assert code == 2
    assert "the file name must end in .svg, .png, .pdf, .jpg, .jpeg, .dot, .gv" in err


def test_graph_into_a_missing_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "no" / "such" / "g.dot"
    code, out, _ = run(capsys, "graph", "--out", path)
    assert code == 0  # created, as train --out does
    assert out.strip() == f"wrote {path}" and path.read_text().lstrip().startswith("digraph")


# --------------------------------------------------------------------------- fast: entry points


def test_python_dash_m_and_lazy_imports() -> None:
    """``python -m tinygrad_fish`` works, and importing the CLI loads neither tqdm nor
    matplotlib nor graphviz (the commands import them when they run)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "tinygrad_fish", "train", "--iters", "-3"],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert_one_line_error(proc.stderr, "--iters")
    code = (
        "import sys, tinygrad_fish.cli as c; c.build_parser(); "
        "print(sorted(m for m in ('tqdm', 'matplotlib', 'graphviz') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True, timeout=60)
    assert proc.stdout.strip() == "[]"


# --------------------------------------------------------------------------- slow: real MNIST

TRAIN_ITERS = 300


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One short training run on real MNIST: its output directory and stdout."""
    root = mnist_root()
    out = tmp_path_factory.mktemp("train")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        code = main(["train", "--iters", str(TRAIN_ITERS), "--out", str(out),
                     "--data", str(root), "--no-download"])
    assert code == 0
    return out, buf.getvalue()


@pytest.mark.slow
def test_train_writes_outputs(trained: tuple[Path, str]) -> None:
    out, stdout = trained
    assert {p.name for p in out.iterdir()} == {"curves.png", "metrics.json", "model.npz"}
    assert (out / "curves.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    m = json.loads((out / "metrics.json").read_text())
    assert m["hyperparameters"] == {
        "network": "TwoLayerNet(784, 50, 10)", "optimizer": "sgd", "lr": 0.1,
        "hidden_size": 50, "batch_size": 100, "iters": TRAIN_ITERS, "seed": 0,
        "network_kind": "two-layer-net",
        "dtype": "float64", "weight_init_std": 0.01, "iter_per_epoch": 600.0,
    }
    # The book evaluates at i % iter_per_epoch == 0: only i = 0 in 300 iterations; then the
    # final evaluation after the last one.
    assert [e["iteration"] for e in m["epochs"]] == [0]
    assert m["final"]["iteration"] == TRAIN_ITERS - 1
    assert m["test_acc"] == m["final"]["test_acc"] > 0.85
    assert m["train_acc"] == m["final"]["train_acc"] > 0.85
    assert m["wall_time_s"] > 0
    losses = m["loss"]["values"]
    assert m["loss"]["every"] == 1 and len(losses) == TRAIN_ITERS
    assert losses[0] == pytest.approx(np.log(10), abs=0.01)  # ~uniform softmax at the start
    assert np.mean(losses[-50:]) < 0.6
    assert m["final"]["loss"] == losses[-1]

    lines = stdout.splitlines()
    assert any(re.search(r"train acc, test acc \| 0\.\d{4}, 0\.\d{4}$", ln) for ln in lines)
    assert f"{m['test_acc']:.4f}" in lines[-2]  # the final line, then "wrote ..."


@pytest.mark.slow
def test_model_loads_without_pickle_and_evaluate_reproduces_accuracy(
    capsys: pytest.CaptureFixture[str], trained: tuple[Path, str]
) -> None:
    out, _ = trained
    with np.load(out / "model.npz", allow_pickle=False) as z:
        state = {k: z[k] for k in z.files}
    assert {k: (v.shape, v.dtype) for k, v in state.items()} == {
        "W1": ((784, 50), np.float64), "b1": ((50,), np.float64),
        "W2": ((50, 10), np.float64), "b2": ((10,), np.float64),
    }
    recorded = json.loads((out / "metrics.json").read_text())["test_acc"]

    code, stdout, _ = run(capsys, "evaluate", out / "model.npz", "--data", mnist_root(),
                          "--no-download")
    assert code == 0
    match = re.search(r"test accuracy: (0\.\d+) \((\d+)/10000\)", stdout)
    assert match, stdout
    assert int(match[2]) / 10000 == recorded
    # The confusion matrix: a header and ten rows of ten counts summing to 10,000 (the
    # MNIST test set's class sizes), the diagonal summing to the correct count.
    rows = [ln.split() for ln in stdout.splitlines() if re.match(r"\s+\d\s+\d", ln)]
    assert [int(r[0]) for r in rows] == list(range(10))
    matrix = np.array([[int(v) for v in r[1:11]] for r in rows])
    assert matrix.sum(axis=1).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert int(np.trace(matrix)) == int(match[2])


@pytest.mark.slow
def test_same_seed_same_run(tmp_path: Path) -> None:
    root = mnist_root()

    def train(out: Path, seed: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        argv = ["train", "--iters", "60", "--dtype", "float32", "--optimizer", "adam",
                "--seed", str(seed), "--out", str(out), "--data", str(root), "--no-download"]
        assert main(argv) == 0
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["hyperparameters"]["lr"] == 0.001  # Adam's own default
        del metrics["wall_time_s"]
        with np.load(out / "model.npz", allow_pickle=False) as z:
            return metrics, {k: z[k] for k in z.files}

    m1, w1 = train(tmp_path / "a", 7)
    m2, w2 = train(tmp_path / "b", 7)
    assert m1 == m2
    assert w1.keys() == w2.keys()
    for k in w1:
        assert w1[k].dtype == np.float32
        assert w1[k].tobytes() == w2[k].tobytes(), k
    m3, w3 = train(tmp_path / "c", 8)
    assert m3["loss"] != m1["loss"]
    assert w3["W1"].tobytes() != w1["W1"].tobytes()


def reference_run(
    optimizer: str, lr: float, hidden: int, batch_size: int, iters: int, seed: int, dtype: str
) -> tuple[dict[str, np.ndarray], list[float], list[dict[str, Any]], dict[str, Any]]:
    """What ``train`` computes, written out as the loop the command line had before it ran
    the library's Trainer: the weights, the losses, the epoch rows and the final row."""
    from tinygrad_fish.autograd import grad, no_grad
    from tinygrad_fish.datasets import load_mnist
    from tinygrad_fish.nn import TwoLayerNet
    from tinygrad_fish.optim import OPTIMIZERS

    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=True, flatten=True, one_hot_label=True, root=mnist_root(), download=False)
    y_train, y_test = np.argmax(t_train, axis=1), np.argmax(t_test, axis=1)
    network = TwoLayerNet(784, hidden, 10, dtype=np.dtype(dtype), seed=seed)
    batch_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    opt = OPTIMIZERS[optimizer](lr=lr)
    named = dict(network.named_parameters())
    iter_per_epoch = max(len(x_train) / batch_size, 1)

    def accuracy(x: np.ndarray, y: np.ndarray) -> float:
        with no_grad():
            pred = np.concatenate([np.argmax(network.predict(x[i : i + 10_000]).data, axis=1)
                                   for i in range(0, len(x), 10_000)])
        return int(np.sum(pred == y)) / float(len(x))

    def evaluate(i: int) -> dict[str, Any]:
        return {"iteration": i, "epoch": i / iter_per_epoch,
                "train_acc": accuracy(x_train, y_train), "test_acc": accuracy(x_test, y_test)}

    losses: list[float] = []
    epochs: list[dict[str, Any]] = []
    for i in range(iters):
        mask = batch_rng.choice(len(x_train), batch_size)
        loss = network.loss(x_train[mask], t_train[mask])
        grads = grad(loss, list(named.values()))
        opt.update(network.params, {k: g.data.astype(named[k].data.dtype)  # type: ignore[union-attr]
                                    for k, g in zip(named, grads, strict=True)})
        losses.append(float(loss.data))
        if i % iter_per_epoch == 0:
            epochs.append(evaluate(i))
    final = epochs[-1] if epochs[-1]["iteration"] == iters - 1 else evaluate(iters - 1)
    return network.state_dict(), losses, epochs, final


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [("--optimizer", "sgd", "--iters", "30", "--seed", "0"),
     ("--optimizer", "adam", "--iters", "25", "--seed", "3", "--dtype", "float32",
      "--batch-size", "6000", "--hidden", "20", "--checkpoint-every", "10")],
    ids=["sgd-float64", "adam-float32-epochs-checkpoints"],
)
def test_train_is_bit_for_bit_the_books_loop_written_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, options: tuple[str, ...]
) -> None:
    """train runs the library's Trainer; its weights, losses and accuracies are, bit for bit,
    those of the loop the command line had before (seeded net and batch Generator, the loss
    of the step's own forward pass, the update, an evaluation each epoch), written out here
    without the Trainer."""
    code, stdout, _ = run(capsys, "train", *options, "--out", tmp_path, "--data", mnist_root(),
                          "--no-download")
    assert code == 0
    opts = dict(zip(options[::2], options[1::2], strict=True))
    params, losses, epochs, final = reference_run(
        opts["--optimizer"], 0.1 if opts["--optimizer"] == "sgd" else 0.001,
        int(opts.get("--hidden", 50)), int(opts.get("--batch-size", 100)),
        int(opts["--iters"]), int(opts["--seed"]), opts.get("--dtype", "float64"),
    )
    with np.load(tmp_path / "model.npz", allow_pickle=False) as z:
        assert sorted(z.files) == sorted(params)
        for k, w in params.items():
            assert z[k].dtype == w.dtype and z[k].tobytes() == w.tobytes(), k
    m = strict_json((tmp_path / "metrics.json").read_text())
    assert m["loss"]["values"] == losses
    assert m["epochs"] == epochs
    assert m["final"] == {**final, "loss": losses[-1]}
    assert f"{final['train_acc']:.4f}, {final['test_acc']:.4f}" in stdout
    assert stdout.count(" train acc, test acc | ") == len(epochs) + 1


def strict_json(text: str) -> Any:
    """``json.loads`` that refuses NaN, Infinity and -Infinity (not JSON; Python's json
    reads them by default)."""

    def refuse(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_strict_json_refuses_nan() -> None:
    with pytest.raises(ValueError, match="not JSON: NaN"):
        strict_json('{"loss": NaN}')


def test_json_safe_turns_non_finite_floats_into_null() -> None:
    data = {"a": [1.5, float("nan"), (float("inf"), 2)], "b": {"c": -float("inf")}, "d": "x",
            "e": 3, "f": None, "g": True}
    assert _json_safe(data) == {"a": [1.5, None, [None, 2]], "b": {"c": None}, "d": "x",
                                    "e": 3, "f": None, "g": True}
    assert strict_json(json.dumps(_json_safe(data), allow_nan=False))["b"] == {"c": None}


@pytest.mark.slow
def test_metrics_json_is_strict_json(trained: tuple[Path, str]) -> None:
    out, _ = trained
    assert strict_json((out / "metrics.json").read_text())["threads"] == cli.DEFAULT_THREADS


@pytest.mark.slow
def test_lr_that_diverges_stops_with_a_clear_message_and_valid_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--lr 1e308 used to run on with a NaN loss, exit 0 and write ``NaN`` into metrics.json
    (not JSON). It stops at the first non-finite loss, before that iteration's update, with
    one line and exit code 3, writes no outputs, and leaves the checkpoints strict JSON."""
    out = tmp_path / "out"
    code, _, err = run(capsys, "train", "--lr", "1e308", "--iters", "10", "--checkpoint-every",
                       "1", "--out", out, "--data", mnist_root(), "--no-download")
    assert code == cli.EXIT_DIVERGED == 3
    assert_one_line_error(
        err, "tinygrad-fish: error: training diverged: the loss is nan in iteration 2 of 10 "
        "(--lr 1e+308); try a smaller --lr; no outputs written; "
        f"{out / 'checkpoint.npz'} (after iteration 1) is left as it was",
    )
    assert [p.name for p in out.iterdir()] == ["checkpoint.npz"]  # no metrics.json, no model
    with np.load(out / "checkpoint.npz", allow_pickle=False) as z:
        meta = strict_json(z["meta"].tobytes().decode())
    assert meta["iteration"] == 1 and meta["config"]["lr"] == 1e308
    code, stdout, _ = run(capsys, "train", "--help")
    assert code == 0
    assert "Stops with exit code 3 (and no outputs) if the loss becomes NaN or infinite" in \
        " ".join(stdout.split())


@pytest.mark.slow
def test_weights_that_stop_being_finite_are_a_divergence_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NaN weight the loss does not show (here: the loss is faked) is caught at the end:
    no model.npz holding NaN is written."""
    real_step = Trainer._loss_and_gradient
    calls = []

    def step(self: Trainer, x: Any, t: Any) -> Any:
        calls.append(1)
        loss, grads = real_step(self, x, t)
        if len(calls) == 3:
            self.network.params["b2"][0] = np.nan
        return (1.0 if len(calls) >= 3 else loss), grads

    monkeypatch.setattr(Trainer, "_loss_and_gradient", step)
    out = tmp_path / "out"
    code, _, err = run(capsys, "train", "--iters", "5", "--out", out, "--data", mnist_root(),
                       "--no-download")
    assert code == 3
    assert_one_line_error(err, "training diverged: W1, b1, W2, b2 are no longer finite after "
                          "iteration 5 (--lr 0.1); try a smaller --lr; no outputs written")
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.slow
def test_gradcheck_on_real_mnist(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "gradcheck", "--data", mnist_root(), "--no-download")
    assert code == 0, out
    diffs = dict(re.findall(r"^(W1|b1|W2|b2):(\S+)$", out, re.MULTILINE))
    assert sorted(diffs) == ["W1", "W2", "b1", "b2"]
    for key, value in diffs.items():
        assert 0 <= float(value) <= 1e-9, (key, value)
    assert out.splitlines()[-1].startswith("OK: ")


@pytest.fixture(scope="module")
def trained_convnet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``train --network simple-convnet`` for 20 iterations: its output directory and
    stdout."""
    out = tmp_path_factory.mktemp("train-convnet")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        code = main(["train", "--network", "simple-convnet", "--iters", "20", "--out",
                     str(out), "--data", str(mnist_root()), "--no-download"])
    assert code == 0
    return out, buf.getvalue()


@pytest.mark.slow
def test_train_simple_convnet_takes_the_books_ch07_settings(
    capsys: pytest.CaptureFixture[str], trained_convnet: tuple[Path, str]
) -> None:
    out, stdout = trained_convnet
    m = json.loads((out / "metrics.json").read_text())
    hyper = m["hyperparameters"]
    assert {k: hyper[k] for k in ("network", "network_kind", "optimizer", "lr", "hidden_size",
                                  "batch_size", "iters", "dtype")} == {
        "network": "SimpleConvNet((1, 28, 28), 30 filters of 5x5, 100, 10)",
        "network_kind": "simple-convnet", "optimizer": "adam", "lr": 0.001,
        "hidden_size": 100, "batch_size": 100, "iters": 20, "dtype": "float64",
    }
    assert "epoch  0.0  train acc, test acc (first 1000 samples) |" in stdout
    assert m["final"]["iteration"] == 19 and m["test_acc"] > 0.3  # 20 Adam steps
    with np.load(out / "model.npz", allow_pickle=False) as z:
        shapes = {k: z[k].shape for k in z.files}
    assert shapes == {"W1": (30, 1, 5, 5), "b1": (30,), "W2": (4320, 100), "b2": (100,),
                      "W3": (100, 10), "b3": (10,)}

    code, text, _ = run(capsys, "evaluate", out / "model.npz", "--data", mnist_root(),
                        "--no-download")
    assert code == 0
    assert "SimpleConvNet((1, 28, 28), 30 filters of 5x5, 100, 10), float64" in text
    match = re.search(r"test accuracy: (0\.\d+) \((\d+)/10000\)", text)
    assert match, text
    assert int(match[2]) / 10000 == m["test_acc"]


def test_evaluate_refuses_a_convnet_of_another_shape(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tinygrad_fish.nn import SimpleConvNet
    from tinygrad_fish.serialization import save

    net = SimpleConvNet(conv_param={"filter_num": 8, "filter_size": 5, "pad": 0, "stride": 1},
                        hidden_size=10, seed=0)
    save(net.state_dict(), tmp_path / "m.npz")
    code, out, err = run(capsys, "evaluate", tmp_path / "m.npz", "--no-download")
    assert code == 2 and out == ""
    assert_one_line_error(err, "shapes do not fit the SimpleConvNet train builds",
                          "W1 (8, 1, 5, 5)")


# --------------------------------------------------------------------------- slow: finished runs


@pytest.mark.slow
def test_train_over_a_finished_run_refuses_unless_overwrite(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    data = ("--data", mnist_root(), "--no-download")
    assert run(capsys, "train", "--iters", "10", "--out", out, *data)[0] == 0
    model = (out / "model.npz").read_bytes()
    code, stdout, err = run(capsys, "train", "--iters", "5", "--out", out, *data)
    assert code == 2 and stdout == ""
    assert_one_line_error(err, f"tinygrad-fish: error: {out} holds a finished run "
                          f"({out / 'model.npz'}): pass --overwrite to replace it")
    assert (out / "model.npz").read_bytes() == model
    assert run(capsys, "train", "--iters", "5", "--out", out, "--overwrite", *data)[0] == 0
    assert (out / "model.npz").read_bytes() != model
    assert json.loads((out / "metrics.json").read_text())["hyperparameters"]["iters"] == 5


@pytest.mark.slow
def test_a_finished_resumed_run_leaves_no_stale_checkpoint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted after iteration 3 of 10 (no --checkpoint-every), resumed to the end: the
    checkpoint is brought to iteration 10, and a second --resume says the run is complete
    and rewrites nothing (it used to train iterations 4-10 again from the stale one)."""
    import signal

    from tinygrad_fish.checkpoint import CHECKPOINT_NAME, load_checkpoint

    real_step = Trainer._loss_and_gradient
    calls: list[int] = []

    def step(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)
        return real_step(*args)

    monkeypatch.setattr(Trainer, "_loss_and_gradient", step)
    out = tmp_path / "run"
    code, _, _ = run(capsys, "train", "--iters", "10", "--out", out, "--data", mnist_root(),
                     "--no-download")
    assert code == 130 and load_checkpoint(out / CHECKPOINT_NAME).iteration == 3
    monkeypatch.undo()

    assert run(capsys, "train", "--resume", out)[0] == 0
    assert load_checkpoint(out / CHECKPOINT_NAME).iteration == 10
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, stdout, err = run(capsys, "train", "--resume", out)
    assert code == 0 and stdout == ""
    assert_one_line_error(err, f"the run in {out} is complete (10 of 10 iterations",
                          "pass --iters N (N > 10) to train it longer")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_train_help_names_threads_overwrite_and_data(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "train", "--help")
    text = " ".join(out.split())
    assert code == 0
    assert "bit-for-bit repeatable, and resumable, at the same thread count, which the " \
        "checkpoint records and --resume applies" in text
    assert "one holding a finished run (DIR/model.npz) is refused unless --overwrite" in text
    assert "MNIST directory, which must exist (default: $TINYGRAD_FISH_DATA" in text


def test_graph_animate_writes_a_page(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz 'dot' program is not installed")
    path = tmp_path / "new" / "anim.html"
    code, out, _ = run(capsys, "graph", "--animate", path)
    assert code == 0 and out.strip() == f"wrote {path}"
    page = path.read_text()
    assert page.count('class="tf-frame"') >= 5 and 'data-node="MatMulBackward"' in page
    code, _, err = run(capsys, "graph")
    assert code == 2
    assert "give --out FILE (a drawing) or --animate FILE.html" in err
