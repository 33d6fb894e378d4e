"""The ``tinygrad-fish`` command line (also ``python -m tinygrad_fish``).

Four commands::

    tinygrad-fish train      [--optimizer sgd] [--lr 0.1] [--hidden 50] [--batch-size 100]
                             [--iters 10000] [--seed 0] [--dtype float64] [--threads 1]
                             [--out runs/train] [--checkpoint-every N] [--resume DIR]
    tinygrad-fish evaluate   MODEL.npz
    tinygrad-fish gradcheck  [--seed 0]
    tinygrad-fish graph      --out FILE.svg|png|pdf|dot [--backward] [--values] [--collapse]

``train`` is the fish book's ch05 ``train_neuralnet.py`` with its hyperparameters as the
defaults, plus a progress bar, seeded (bit-for-bit repeatable) randomness, a fixed BLAS
thread count and three output files: ``curves.png`` (the book's loss and accuracy figures),
``metrics.json`` and ``model.npz`` (the state dict, which ``evaluate`` reads). ``gradcheck``
is the book's ch05 ``gradient_check.py``; ``graph`` draws the book's two-layer net with
:func:`tinygrad_fish.viz.render_book_graph`.

Checkpoints: ``train --checkpoint-every N`` also writes ``OUT/checkpoint.npz`` (see
:mod:`tinygrad_fish.checkpoint`: weights, optimizer state, the batch sampler's state, the
losses and accuracies so far, the configuration; one file, replaced atomically) before the
first iteration, every N iterations and after the last. Ctrl-C (SIGINT) or SIGTERM during
training finishes the current iteration, writes the checkpoint (with or without
``--checkpoint-every``) and exits with 130 (143 for SIGTERM); a second one stops at once.
``train --resume DIR`` continues from ``DIR/checkpoint.npz`` into ``DIR``, and ends with the
weights and metrics of the uninterrupted run, bit for bit (only the wall time differs),
wherever the run was killed. Options left out take the checkpoint's values; a
hyperparameter that differs from the checkpoint's is refused (exit 2); ``--iters`` may be
raised to train on. A new run refuses an ``OUT`` that holds a checkpoint.

Threads: float sums come out in another order with another number of BLAS threads, so a
run's last bits depend on it. ``train --threads N`` (default 1, whatever
``OPENBLAS_NUM_THREADS`` says) sets it with threadpoolctl; the checkpoint records it and
``--resume`` applies it (a different ``--threads`` is refused): runs repeat, and resume, bit
for bit at the recorded thread count. A checkpoint of an earlier version records none: it
resumes with ``--threads`` (default 1), with a note.

Memory: before reading any data ``train`` estimates the memory the run needs (parameters,
gradients, optimizer slots, one batch's activations, the evaluation batches, MNIST) and
refuses (exit 2) a run that needs more than is available: ``MemAvailable`` in
``/proc/meminfo``, else the physical memory size, lowered to a cgroup limit's room if one is
set; no check when none of these is known. A ``--batch-size`` larger than the training set
(60000) is refused, not clamped. A MemoryError during the run is one line, exit 2; the
checkpoint on disk is the last one written whole (never the half-updated state).

MNIST is read from ``--data DIR``, else ``$TINYGRAD_FISH_DATA``, else a cache directory it is
downloaded into (see :func:`tinygrad_fish.datasets.load_mnist`).

Exit codes: 0 success; 1 ``gradcheck`` found a difference above its tolerance; 2 a usage error
or a problem with the data, a model file or an output path, a run too big for the memory
available or out of memory (one line on stderr, no traceback); 3 ``train`` diverged: a loss
(or, at the end, a weight) that is NaN or infinite, as a too large ``--lr`` gives; it stops
at once and writes no outputs, and says to try a smaller ``--lr``; 130 interrupted (143 for
``train`` stopped by SIGTERM). ``metrics.json`` and the checkpoint's metadata are strict JSON
(never ``NaN`` or ``Infinity``). tqdm, matplotlib and threadpoolctl are imported inside the
commands that use them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import secrets
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

import numpy as np
import numpy.typing as npt

from .errors import TinygradFishError

if TYPE_CHECKING:
    from .checkpoint import Checkpoint
    from .nn import TwoLayerNet
    from .optim import Optimizer
    from .tensor import Tensor

__all__ = ["build_parser", "main"]

Array = npt.NDArray[Any]

PROG = "tinygrad-fish"

# The book's ch05 train_neuralnet.py.
BOOK_HIDDEN = 50
BOOK_BATCH_SIZE = 100
BOOK_LR = 0.1
BOOK_ITERS = 10_000
INPUT_SIZE, OUTPUT_SIZE = 784, 10
#: MNIST's training and test set sizes (load_mnist's N), for the checks made before loading.
MNIST_TRAIN_SIZE, MNIST_TEST_SIZE = 60_000, 10_000

#: Samples predicted at a time when evaluating (bounds memory; the result does not depend on
#: how the set is split, only the peak memory does).
EVAL_BATCH = 10_000
#: metrics.json keeps at most about this many loss values (every N-th iteration's).
MAX_LOSS_POINTS = 1000
#: BLAS threads ``train`` uses unless ``--threads`` says otherwise. One: at the book's sizes
#: (batch 100 x 784 x 50) a step is too small to split, and on a 2-core machine shared with
#: other work one thread trained several times faster than two (see the changelog); the
#: result also depends on the thread count (float sums in another order), so a fixed default
#: keeps runs repeatable whatever OPENBLAS_NUM_THREADS says.
DEFAULT_THREADS = 1
#: The exit code of a ``train`` run that diverged (its loss or weights stopped being finite).
EXIT_DIVERGED = 3
#: ``gradcheck`` fails when a mean absolute difference exceeds this (float64).
GRADCHECK_TOL = 1e-9
GRAPH_SUFFIXES = (".svg", ".png", ".pdf", ".dot")


#: The interpreter, numpy, matplotlib and tqdm themselves, in the memory estimate of ``train``.
BASE_MEMORY = 100 * 2**20


class CLIError(Exception):
    """A problem the user can fix (bad file, bad argument): printed as one line, exit 2."""


class _UsageError(CLIError):
    """argparse rejected the command line."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and do not call ``sys.exit``."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


# --------------------------------------------------------------------------- argument types


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _path(text: str) -> Path:
    """A path argument; an empty one (``--out ""``, as an unset shell variable gives) is
    refused rather than taken as the current directory, which ``Path("")`` is."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return Path(text)


def _graph_path(text: str) -> Path:
    path = _path(text)
    if path.suffix.lower() not in GRAPH_SUFFIXES:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the file name must end in {', '.join(GRAPH_SUFFIXES)}"
        )
    return path


# --------------------------------------------------------------------------- the parser


def _optimizers() -> Mapping[str, type[Optimizer]]:
    from .optim import OPTIMIZERS

    return OPTIMIZERS


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data", metavar="DIR", type=_path, default=None,
        help="MNIST directory (default: $TINYGRAD_FISH_DATA, else a cache directory "
        "MNIST is downloaded into)",
    )
    p.add_argument(
        "--no-download", dest="download", action="store_false",
        help="fail rather than download missing MNIST files",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tinygrad-fish`` and its four subcommands."""
    parser = _Parser(
        prog=PROG,
        description="Train, evaluate, gradient-check and draw the fish book's two-layer "
        "MNIST net on the tinygrad_fish autodiff engine.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "train", help="train TwoLayerNet on MNIST (the book's ch05 loop)",
        description="Train the book's TwoLayerNet(784, HIDDEN, 10) on MNIST with mini-batch "
        "gradient descent, as ch05's train_neuralnet.py (whose hyperparameters are the "
        "defaults). Prints the train and test accuracy once per epoch and at the end; writes "
        "OUT/curves.png, OUT/metrics.json and OUT/model.npz. Refuses (exit 2) a run whose "
        "memory estimate exceeds the memory available (MemAvailable in /proc/meminfo). Stops "
        f"with exit code {EXIT_DIVERGED} (and no outputs) if the loss becomes NaN or "
        "infinite: the run diverged, try a smaller --lr.",
    )
    names = sorted(_optimizers())
    # The hyperparameters default to None, "not given": a new run fills in the defaults the
    # help states; a resumed run takes the checkpoint's values instead.
    p.add_argument(
        "--optimizer", default=None, type=str.lower, choices=names, metavar="NAME",
        help=f"one of {', '.join(names)} (default: sgd)",
    )
    p.add_argument(
        "--lr", type=_positive_float, default=None,
        help=f"learning rate (default: the book's {BOOK_LR} for sgd, else the optimizer's "
        "own default, e.g. Adam's 0.001)",
    )
    p.add_argument("--hidden", type=_positive_int, default=None,
                   help=f"hidden units (default: {BOOK_HIDDEN})")
    p.add_argument(
        "--batch-size", type=_positive_int, default=None,
        help=f"mini-batch size, at most the training set's size ({MNIST_TRAIN_SIZE}; a larger "
        "one is refused, not clamped); each batch is drawn with replacement, as the book's "
        f"np.random.choice(train_size, batch_size) does (default: {BOOK_BATCH_SIZE})",
    )
    p.add_argument("--iters", type=_positive_int, default=None,
                   help=f"iterations (mini-batches) (default: {BOOK_ITERS})")
    p.add_argument("--seed", type=_seed, default=None,
                   help="seed of the weight init and the batch sampling (default: 0)")
    p.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help="parameter dtype (default: float64, as the book)")
    p.add_argument(
        "--threads", metavar="N", type=_positive_int, default=None,
        help=f"BLAS threads for the matrix products (default: {DEFAULT_THREADS}, whatever "
        "OPENBLAS_NUM_THREADS says; set with threadpoolctl). The result depends on it: a "
        "run is bit-for-bit repeatable, and resumable, at the same thread count, which the "
        "checkpoint records and --resume applies",
    )
    p.add_argument("--out", metavar="DIR", type=_path, default=None,
                   help="output directory (default: runs/train; with --resume, its DIR)")
    p.add_argument(
        "--checkpoint-every", metavar="N", type=_positive_int, default=None,
        help="write OUT/checkpoint.npz (atomically) before the first iteration, every N "
        "iterations and after the last, to continue with --resume if the run is killed "
        "(default: no periodic checkpoints; Ctrl-C or SIGTERM still writes one)",
    )
    p.add_argument(
        "--resume", metavar="DIR", type=_path, default=None,
        help="continue the run whose checkpoint is DIR/checkpoint.npz, writing into DIR; "
        "the result is bit for bit the uninterrupted run's (at the thread count the "
        "checkpoint records, which it applies). Options left out take the checkpoint's "
        "values; --iters may change (to train longer), the hyperparameters and --threads "
        "may not",
    )
    _add_data_args(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "evaluate", help="test accuracy and confusion matrix of a saved model",
        description="Load a model.npz written by 'train' and print its MNIST test accuracy "
        "and a 10x10 confusion matrix (rows: true digit, columns: predicted digit).",
    )
    p.add_argument("model", metavar="MODEL.npz", type=_path, help="the saved state dict")
    _add_data_args(p)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser(
        "gradcheck", help="backprop vs numerical gradient on 3 MNIST samples (book ch05)",
        description="The book's ch05 gradient_check.py: TwoLayerNet(784, 50, 10) on the "
        "first 3 training samples; prints the mean absolute difference between "
        "numerical_gradient and gradient for W1, b1, W2, b2. Exit code 1 if any exceeds "
        f"{GRADCHECK_TOL:g}.",
    )
    p.add_argument("--seed", type=_seed, default=0, help="seed of the weights (default: 0)")
    _add_data_args(p)
    p.set_defaults(func=_cmd_gradcheck)

    p = sub.add_parser(
        "graph", help="draw the computational graph of the book's net",
        description="Draw the loss graph of TwoLayerNet(784, 50, 10) on one mini-batch with "
        "Graphviz. .dot needs nothing; .svg, .png and .pdf need the 'dot' program.",
    )
    p.add_argument("--out", metavar="FILE", type=_graph_path, required=True,
                   help="output file: .svg, .png, .pdf or .dot")
    p.add_argument("--backward", action="store_true",
                   help="draw the backward graph (gradient functions) instead of the forward")
    p.add_argument("--values", action="store_true", help="show values (and gradients)")
    p.add_argument("--collapse", action="store_true", help="draw each layer as one node")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the batch and weights")
    p.set_defaults(func=_cmd_graph)
    return parser


# --------------------------------------------------------------------------- helpers


def _load_mnist(args: argparse.Namespace, *, one_hot_label: bool) -> tuple[Array, ...]:
    """``x_train, t_train, x_test, t_test``, normalized and flattened as the book loads them."""
    from .datasets import load_mnist

    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=True, flatten=True, one_hot_label=one_hot_label,
        root=args.data, download=args.download,
    )
    return x_train, t_train, x_test, t_test


def _labels(t: Array) -> Array:
    """Class indices from labels that may be one-hot."""
    return np.argmax(t, axis=1) if t.ndim != 1 else t


def _predict_labels(network: TwoLayerNet, x: Array) -> Array:
    """The predicted class of every row of ``x`` (under ``no_grad``, EVAL_BATCH at a time)."""
    from .autograd import no_grad

    out = np.empty(len(x), dtype=np.intp)
    with no_grad():
        for i in range(0, len(x), EVAL_BATCH):
            out[i : i + EVAL_BATCH] = np.argmax(network.predict(x[i : i + EVAL_BATCH]).data, axis=1)
    return out


def _accuracy(network: TwoLayerNet, x: Array, labels: Array) -> float:
    """The book's ``accuracy``: the fraction of rows whose highest score is the label."""
    return int(np.sum(_predict_labels(network, x) == labels)) / float(len(x))


@contextmanager
def _atomic_write(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Write ``path`` through a temp file in its directory, renamed over it only on success.

    The temp file is created like any other (permissions from the umask), never half-written
    over an existing ``path``.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, mode.replace("w", "x")) as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _json_safe(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by None (JSON's null), so that
    ``json.dumps(..., allow_nan=False)`` writes strict JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    return obj


def _step(
    network: TwoLayerNet, names: Sequence[str], tensors: Sequence[Tensor], x: Array, t: Array
) -> tuple[float, dict[str, Array]]:
    """One forward and backward pass: the batch loss and the gradient of every parameter.

    Like ``network.gradient(x, t)``, but it also returns the loss of that same forward pass,
    so the loss curve costs no second forward (the book recomputes ``network.loss`` after the
    update; see ``_cmd_train``).
    """
    from .autograd import grad

    loss = network.loss(x, t)
    grads = grad(loss, list(tensors))  # frees the graph
    out: dict[str, Array] = {}
    for name, p, g in zip(names, tensors, grads, strict=True):
        assert g is not None
        a = g.data
        # Fresh arrays in the parameter's dtype, shared with nothing (as network.gradient
        # returns them), so an optimizer may keep or modify them.
        out[name] = a.astype(p.data.dtype) if a.dtype != p.data.dtype or not a.flags.owndata \
            else a
    return float(loss.data), out


# --------------------------------------------------------------------------- memory


def _estimate_train_memory(
    *,
    hidden: int,
    batch_size: int,
    dtype: np.dtype[Any],
    optimizer_slots: int,
    train_size: int = MNIST_TRAIN_SIZE,
    test_size: int = MNIST_TEST_SIZE,
) -> dict[str, int]:
    """The bytes a ``train`` run holds at its peak, by part, and their ``"total"``.

    A model of what the loop allocates, where ``f`` is the dtype's size (it came within 15%
    of the peak RSS of real runs at hidden sizes 50-20000 and batches 100-60000):

    - ``data``: MNIST as loaded: float32 images, float32 one-hot labels, intp class labels.
    - ``parameters``: W1, b1, W2, b2; ``optimizer``: one copy of them per optimizer slot
      (Momentum's ``v``, Adam's ``m`` and ``v``, ...).
    - ``step``: one iteration's transients: the gradients and the update's temporaries
      (3x the parameters), the batch gathered (float32) and converted (``f``), and about
      five ``batch x hidden`` arrays (the hidden layer forward and backward).
    - ``evaluation``: an EVAL_BATCH slice converted to ``f`` and two ``EVAL_BATCH x hidden``
      arrays, plus the predicted labels.
    - ``checkpoint``: the state dicts copied for a checkpoint (parameters and slots).
    - ``base``: the interpreter and libraries (BASE_MEMORY).

    The total is ``base + data + parameters + optimizer`` plus the largest of ``step``,
    ``evaluation`` and ``checkpoint`` (they never overlap).
    """
    f = dtype.itemsize
    n = train_size + test_size
    n_params = INPUT_SIZE * hidden + hidden + hidden * OUTPUT_SIZE + OUTPUT_SIZE
    params = n_params * f
    rows = min(EVAL_BATCH, max(train_size, test_size))
    parts = {
        "data": n * INPUT_SIZE * 4 + n * OUTPUT_SIZE * 4 + n * 8,
        "parameters": params,
        "optimizer": optimizer_slots * params,
        "step": 3 * params + batch_size * (INPUT_SIZE * (4 + f) + OUTPUT_SIZE * (4 + 4 * f))
        + 5 * batch_size * hidden * f,
        "evaluation": rows * (INPUT_SIZE + 2 * hidden + 2 * OUTPUT_SIZE) * f + train_size * 8,
        "checkpoint": (1 + optimizer_slots) * params,
        "base": BASE_MEMORY,
    }
    parts["total"] = (
        parts["base"] + parts["data"] + parts["parameters"] + parts["optimizer"]
        + max(parts["step"], parts["evaluation"], parts["checkpoint"])
    )
    return parts


def _available_memory(
    meminfo: Path = Path("/proc/meminfo"), cgroup: Path = Path("/sys/fs/cgroup")
) -> tuple[int, str] | None:
    """The memory a new run may use, in bytes, and where the number comes from; None if
    unknown (then ``train`` makes no memory check).

    ``MemAvailable`` from ``/proc/meminfo`` (Linux); else the physical memory size
    (``os.sysconf``; a run larger than that can never fit). Either is lowered to the room
    left under a cgroup memory limit (a container's), when one is set.
    """
    found: tuple[int, str] | None = None
    try:
        for line in meminfo.read_text().splitlines():
            key, _, rest = line.partition(":")
            if key.strip() == "MemAvailable":
                value, unit = rest.split()
                if unit != "kB":
                    raise ValueError(unit)
                found = (int(value) * 1024, f"MemAvailable in {meminfo}")
    except (OSError, ValueError):
        found = None
    if found is None:
        try:
            total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):
            total = -1
        if total > 0:
            found = (total, "the physical memory size")
    # cgroup v2, then v1 (whose "no limit" is a huge number).
    for limit_file, usage_file in (
        ("memory.max", "memory.current"),
        ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"),
    ):
        try:
            limit = int((cgroup / limit_file).read_text().strip())  # "max": ValueError
            usage = int((cgroup / usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit < 2**60:
            room = max(limit - usage, 0)
            if found is None or room < found[0]:
                found = (room, f"the cgroup limit {cgroup / limit_file} less its usage")
        break
    return found


def _format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def _check_batch_size(batch_size: int, train_size: int) -> None:
    """Refuse a batch larger than the training set.

    Raises:
        CLIError: ``batch_size > train_size``.
    """
    if batch_size > train_size:
        raise CLIError(
            f"--batch-size {batch_size} is larger than the training set ({train_size} "
            f"images): use at most {train_size}"
        )


def _check_memory(config: Mapping[str, Any]) -> tuple[int, tuple[int, str] | None]:
    """The run's memory estimate and the memory available; refuse a run that cannot fit.

    Raises:
        CLIError: the estimate exceeds the memory available (``_available_memory``).
    """
    opt = _optimizers()[config["optimizer"]](lr=config["lr"])
    parts = _estimate_train_memory(
        hidden=config["hidden"], batch_size=config["batch_size"],
        dtype=np.dtype(config["dtype"]), optimizer_slots=len(opt.state_dict()["slots"]),
    )
    available = _available_memory()
    if available is not None and parts["total"] > available[0]:
        fmt = _format_bytes
        raise CLIError(
            f"this run needs about {fmt(parts['total'])} of memory (--hidden "
            f"{config['hidden']}, --batch-size {config['batch_size']}, {config['dtype']}, "
            f"{config['optimizer']}: parameters {fmt(parts['parameters'])}, optimizer state "
            f"{fmt(parts['optimizer'])}, one step {fmt(parts['step'])}, evaluation "
            f"{fmt(parts['evaluation'])}, MNIST {fmt(parts['data'])}) but "
            f"{fmt(available[0])} is available ({available[1]}); use a smaller --hidden or "
            "--batch-size, or --dtype float32"
        )
    return parts["total"], available


class _Progress:
    """Where a training run is, for the message of a MemoryError (see ``_cmd_train``)."""

    def __init__(self) -> None:
        self.phase = "setting up"
        self.iteration: int | None = None  # the iteration running (0-based), if in the loop
        self.iters = 0
        self.saved: int | None = None  # the iteration of the checkpoint on disk, if any

    def where(self) -> str:
        if self.iteration is not None:
            return f"in iteration {self.iteration + 1} of {self.iters}"
        return f"while {self.phase}"


# --------------------------------------------------------------------------- train

#: The options a resumed run may not change (they would make another run): option -> flag.
_RESUME_FIXED = {
    "optimizer": "--optimizer", "lr": "--lr", "hidden": "--hidden",
    "batch_size": "--batch-size", "seed": "--seed", "dtype": "--dtype", "threads": "--threads",
}
DEFAULT_OUT = Path("runs/train")


def _checked_config(saved: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The run configuration stored in a checkpoint, checked to be one ``train`` can run."""
    from .checkpoint import CheckpointError

    def ok_int(v: Any, lo: int) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= lo

    checks: dict[str, Callable[[Any], bool]] = {
        "optimizer": lambda v: v in _optimizers(),
        "lr": lambda v: isinstance(v, float) and math.isfinite(v) and v > 0,
        "hidden": lambda v: ok_int(v, 1),
        "batch_size": lambda v: ok_int(v, 1),
        "iters": lambda v: ok_int(v, 1),
        "seed": lambda v: ok_int(v, 0),
        "dtype": lambda v: v in ("float32", "float64"),
        "checkpoint_every": lambda v: v is None or ok_int(v, 1),
        "data": lambda v: v is None or isinstance(v, str),
        # Checkpoints written before --threads existed do not record it: None.
        "threads": lambda v: v is None or ok_int(v, 1),
    }
    optional = {"threads"}
    for key, check in checks.items():
        if (key not in saved and key not in optional) or not check(saved.get(key)):
            raise CheckpointError(
                f"{path} is not a valid training checkpoint: its configuration has "
                f"{key}={saved.get(key)!r}", path
            )
    return {key: saved.get(key) for key in checks}


def _train_config(args: argparse.Namespace) -> tuple[dict[str, Any], Path, Checkpoint | None]:
    """The run's configuration, its output directory and the checkpoint it resumes (if any).

    A new run takes the defaults for the options not given. A resumed run takes the
    checkpoint's; a given option that differs from the checkpoint's is refused (CLIError),
    except ``--iters``, ``--checkpoint-every`` and ``--data``, which do not change the run.
    """
    from .checkpoint import CHECKPOINT_NAME, load_checkpoint

    data = None if args.data is None else str(args.data.absolute())
    if args.resume is None:
        out_dir: Path = args.out if args.out is not None else DEFAULT_OUT
        path = out_dir / CHECKPOINT_NAME
        if path.exists():
            raise CLIError(
                f"{out_dir} holds the checkpoint of an earlier run: continue it with "
                f"'--resume {out_dir}', or delete {path} to start over there"
            )
        optimizer = args.optimizer if args.optimizer is not None else "sgd"
        lr = args.lr if args.lr is not None else (
            BOOK_LR if optimizer == "sgd" else _optimizers()[optimizer].default_lr
        )
        config = {
            "optimizer": optimizer,
            "lr": float(lr),
            "hidden": args.hidden if args.hidden is not None else BOOK_HIDDEN,
            "batch_size": args.batch_size if args.batch_size is not None else BOOK_BATCH_SIZE,
            "iters": args.iters if args.iters is not None else BOOK_ITERS,
            "seed": args.seed if args.seed is not None else 0,
            "dtype": args.dtype if args.dtype is not None else "float64",
            "checkpoint_every": args.checkpoint_every,
            "data": data,
            "threads": args.threads if args.threads is not None else DEFAULT_THREADS,
        }
        return config, out_dir, None

    out_dir = args.resume
    if args.out is not None and args.out.resolve() != out_dir.resolve():
        raise CLIError(
            f"--resume {out_dir} continues the run in {out_dir}; it cannot write into "
            f"--out {args.out} (leave --out out)"
        )
    path = out_dir / CHECKPOINT_NAME
    ckpt = load_checkpoint(path)  # CheckpointError (exit 2): missing, corrupt, truncated
    config = _checked_config(ckpt.config, path)
    conflicts = [
        f"{flag} {getattr(args, key)} (the checkpoint's is {config[key]})"
        for key, flag in _RESUME_FIXED.items()
        if getattr(args, key) is not None and config[key] is not None
        and getattr(args, key) != config[key]
    ]
    if conflicts:
        raise CLIError(
            f"cannot resume {path} with other hyperparameters: {', '.join(conflicts)}; leave "
            "these options out to use the checkpoint's values"
        )
    for key in ("iters", "checkpoint_every"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    if data is not None:
        config["data"] = data
    if config["threads"] is None:  # an older checkpoint: --threads, else the default
        config["threads"] = args.threads if args.threads is not None else DEFAULT_THREADS
    if ckpt.iteration > config["iters"]:
        raise CLIError(
            f"{path} is at iteration {ckpt.iteration}, past --iters {config['iters']}"
        )
    return config, out_dir, ckpt


def _data_fingerprint(x_train: Array, t_train: Array, x_test: Array, t_test: Array) -> dict[
    str, Any
]:
    """Shapes and a hash of the labels and of every 101st image: enough to tell data sets
    apart, for a few milliseconds (hashing every image would take a second)."""
    h = hashlib.sha256()
    for a in (x_train[::101], t_train, x_test[::101], t_test):
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return {"train": list(x_train.shape), "test": list(x_test.shape), "sha256": h.hexdigest()}


@contextmanager
def _deferred_signals() -> Iterator[list[int]]:
    """Defer SIGINT and SIGTERM: the first one is only recorded (in the list yielded), for
    the training loop to stop at the end of its iteration, with every array consistent; a
    second one raises KeyboardInterrupt at once. Signals ignored before stay ignored. Off
    the main thread (where handlers cannot be set) nothing changes."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: Any) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(signum)

    previous: dict[int, Any] = {}
    try:
        for sig in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
            if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
                previous[sig] = signal.signal(sig, handler)
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)


@contextmanager
def _blas_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` BLAS threads (threadpoolctl), restoring the count after.

    Raises:
        CLIError: threadpoolctl (a dependency of the package) is not installed.
    """
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError as e:
        raise CLIError(
            f"train needs threadpoolctl to set its BLAS thread count ({e}); install it with "
            "'pip install threadpoolctl'"
        ) from e
    # numpy is imported (at the top of this module), so its BLAS library is loaded and
    # threadpoolctl finds it; it limits only libraries already loaded.
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def _cmd_train(args: argparse.Namespace) -> int:
    """``train``: check the run fits, set the BLAS threads, train.

    Raises:
        CLIError: a bad configuration or checkpoint, a run too big for the memory
            available, or a MemoryError during the run (the checkpoint on disk, if any, is
            the last one written whole).
    """
    config, out_dir, resumed = _train_config(args)
    _check_batch_size(config["batch_size"], MNIST_TRAIN_SIZE)
    need, available = _check_memory(config)
    progress = _Progress()
    try:
        with _blas_threads(config["threads"]):
            return _train(args, config, out_dir, resumed, progress)
    except MemoryError as e:
        from .checkpoint import CHECKPOINT_NAME

        saved = (
            f"{out_dir / CHECKPOINT_NAME} (after iteration {progress.saved}) is intact: "
            f"continue with '{PROG} train --resume {shlex.quote(str(out_dir))}'"
            if progress.saved is not None else "no checkpoint was written"
        )
        room = "" if available is None else f", {_format_bytes(available[0])} available"
        raise CLIError(
            f"out of memory {progress.where()} (estimated need {_format_bytes(need)}{room}); "
            f"{saved}; use a smaller --hidden or --batch-size, or --dtype float32"
        ) from e


def _train(
    args: argparse.Namespace,
    config: dict[str, Any],
    out_dir: Path,
    resumed: Checkpoint | None,
    progress: _Progress,
) -> int:
    """The training run of ``train`` (``_cmd_train`` has set the BLAS threads); it keeps
    ``progress`` up to date."""
    from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

    from .checkpoint import (
        CHECKPOINT_NAME,
        Checkpoint,
        CheckpointError,
        remove_stale_temp_files,
        save_checkpoint,
    )
    from .nn import TwoLayerNet
    from .serialization import save

    opt_cls = _optimizers()[config["optimizer"]]
    lr: float = config["lr"]
    ckpt_path = out_dir / CHECKPOINT_NAME
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CLIError(f"cannot create the output directory {out_dir}: {e}") from e
    remove_stale_temp_files(ckpt_path)  # left by a checkpoint write that was killed midway

    if resumed is not None:
        progress.saved = resumed.iteration
    progress.phase = "loading MNIST"
    data_args = argparse.Namespace(
        data=None if config["data"] is None else Path(config["data"]), download=args.download
    )
    x_train, t_train, x_test, t_test = _load_mnist(data_args, one_hot_label=True)
    y_train, y_test = _labels(t_train), _labels(t_test)
    _check_batch_size(config["batch_size"], x_train.shape[0])  # MNIST from elsewhere
    # The images stay float32 (as loaded, 188 MB); the network converts each batch to its
    # dtype, as the book's float64 net does with its float32 images.
    dtype = np.dtype(config["dtype"])

    # Seeded: the weights from default_rng(seed) (inside TwoLayerNet), the batches from an
    # independent child stream of the same seed. Same seed -> the same run, bit for bit.
    seed: int = config["seed"]
    hidden: int = config["hidden"]
    progress.phase = "building the network"
    network = TwoLayerNet(INPUT_SIZE, hidden, OUTPUT_SIZE, dtype=dtype, seed=seed)
    batch_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    optimizer = opt_cls(lr=lr)
    named = dict(network.named_parameters())
    names, tensors = list(named), list(named.values())

    iters_num: int = config["iters"]
    train_size = x_train.shape[0]
    batch_size: int = config["batch_size"]
    iter_per_epoch = max(train_size / batch_size, 1)
    every: int | None = config["checkpoint_every"]

    train_loss_list: list[float] = []
    epochs: list[dict[str, float | int]] = []
    start_iter, wall_before = 0, 0.0
    fingerprint: dict[str, Any] = {}

    def data_fingerprint() -> dict[str, Any]:
        if not fingerprint:
            fingerprint.update(_data_fingerprint(x_train, t_train, x_test, t_test))
        return fingerprint

    if resumed is not None:
        if resumed.data != data_fingerprint():
            raise CLIError(
                f"cannot resume {ckpt_path}: the MNIST data read now differ from the data "
                "the run was trained on (give --data the same directory)"
            )
        try:
            network.load_state_dict(resumed.params)
            optimizer.load_state_dict(resumed.optimizer)
            if resumed.rng_state["bit_generator"] != batch_rng.bit_generator.state[
                "bit_generator"
            ]:
                raise ValueError(f"a {resumed.rng_state['bit_generator']} generator state")
            batch_rng.bit_generator.state = dict(resumed.rng_state)
        except (KeyError, ValueError, TypeError, OverflowError) as e:
            raise CheckpointError(
                f"{ckpt_path} does not fit the run it describes: {_one_line(e)}", ckpt_path
            ) from e
        train_loss_list = resumed.losses.tolist()
        epochs = list(resumed.epochs)
        start_iter, wall_before = resumed.iteration, resumed.wall_time_s

    def evaluate(i: int) -> dict[str, float | int]:
        return {
            "iteration": i,
            "epoch": i / iter_per_epoch,
            "train_acc": _accuracy(network, x_train, y_train),
            "test_acc": _accuracy(network, x_test, y_test),
        }

    hyper = {
        "network": f"TwoLayerNet({INPUT_SIZE}, {hidden}, {OUTPUT_SIZE})",
        "optimizer": config["optimizer"],
        "lr": lr,
        "hidden_size": hidden,
        "batch_size": batch_size,
        "iters": iters_num,
        "seed": seed,
        "dtype": dtype.name,
        "weight_init_std": 0.01,
        "iter_per_epoch": iter_per_epoch,
    }
    start = time.perf_counter()
    saved_at = start_iter if resumed is not None else -1

    def write_checkpoint(completed: int) -> None:
        """Everything the loop carries from one iteration to the next, after ``completed``."""
        nonlocal saved_at
        ckpt = Checkpoint(
            iteration=completed,
            params=network.state_dict(),
            optimizer=optimizer.state_dict(),
            rng_state=batch_rng.bit_generator.state,
            losses=np.array(train_loss_list, dtype=np.float64),
            epochs=epochs,
            config=config,
            data=data_fingerprint(),
            wall_time_s=wall_before + (time.perf_counter() - start),
        )
        try:
            save_checkpoint(ckpt_path, ckpt)  # atomic: the previous one survives any failure
        except OSError as e:
            raise CLIError(f"cannot write the checkpoint {ckpt_path}: {e}") from e
        saved_at = progress.saved = completed

    threads: int = config["threads"]
    tqdm.write(
        f"training {hyper['network']} {dtype.name}, {config['optimizer']} lr={lr:g}, "
        f"batch {batch_size}, {iters_num} iterations, seed {seed}, {threads} BLAS "
        f"thread{'s' if threads > 1 else ''}"
    )
    if resumed is not None:
        tqdm.write(f"resuming {ckpt_path} after iteration {start_iter}")
        if resumed.config.get("threads") is None:
            tqdm.write(
                f"note: {ckpt_path} does not record the BLAS thread count it was trained "
                f"with; resuming with {threads} (--threads): bit for bit the uninterrupted "
                "run's only if that run used as many"
            )
    completed = start_iter
    progress.iters = iters_num
    progress.phase = "writing the first checkpoint"
    diverged = ""
    # NaN and infinities are caught by the checks on the loss and weights below, which stop
    # the run with one line; numpy's RuntimeWarnings about them would only precede it.
    with _deferred_signals() as received, np.errstate(over="ignore", invalid="ignore",
                                                      divide="ignore"):
        if every and saved_at < 0:
            write_checkpoint(0)
        running, n_running = 0.0, 0
        with tqdm(total=iters_num, initial=start_iter, desc="train", unit="it",
                  dynamic_ncols=True, disable=None) as bar:
            for i in range(start_iter, iters_num):
                progress.iteration = i
                batch_mask = batch_rng.choice(train_size, batch_size)
                x_batch = x_train[batch_mask]
                t_batch = t_train[batch_mask]

                # The loss recorded is the one of this step's own forward pass, before the
                # update; the book calls network.loss(x_batch, t_batch) again after the update
                # (a second forward pass per iteration, ~1/3 of the step's cost) for nearly
                # the same curve.
                loss, grads = _step(network, names, tensors, x_batch, t_batch)
                if not math.isfinite(loss):  # diverged: stop before the update
                    diverged = f"the loss is {loss} in iteration {i + 1} of {iters_num}"
                    break
                optimizer.update(network.params, grads)
                train_loss_list.append(loss)

                if i % iter_per_epoch == 0:
                    row = evaluate(i)
                    epochs.append(row)
                    tqdm.write(
                        f"epoch {row['epoch']:4.1f}  train acc, test acc | "
                        f"{row['train_acc']:.4f}, {row['test_acc']:.4f}"
                    )
                running += loss
                n_running += 1
                if n_running == 50 or i == iters_num - 1:
                    bar.set_postfix(loss=f"{running / n_running:.4f}", refresh=False)
                    running, n_running = 0.0, 0
                bar.update(1)
                completed = i + 1
                if received:
                    break
                if every and completed % every == 0:
                    write_checkpoint(completed)
        progress.iteration = None
        progress.phase = "writing the last checkpoint"
        if not diverged:
            bad = [n for n, t in zip(names, tensors, strict=True)
                   if not np.isfinite(t.data).all()]
            if bad:
                diverged = (f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} no longer "
                            f"finite after iteration {completed}")
        if diverged:
            kept = (
                f"; {ckpt_path} (after iteration {saved_at}) is left as it was"
                if saved_at >= 0 else ""
            )
            print(
                f"{PROG}: error: training diverged: {diverged} (--lr {lr:g}); try a smaller "
                f"--lr; no outputs written{kept}",
                file=sys.stderr,
            )
            return EXIT_DIVERGED

        if received or (every and saved_at != completed):
            if saved_at != completed:
                write_checkpoint(completed)
            if received:
                name = signal.Signals(received[0]).name
                print(
                    f"{PROG}: interrupted ({name}) after iteration {completed} of "
                    f"{iters_num}; saved {ckpt_path}; continue with: {PROG} train --resume "
                    f"{shlex.quote(str(out_dir))}",
                    file=sys.stderr,
                )
                return 128 + received[0]

        progress.phase = "evaluating the trained network"
        final = (
            epochs[-1] if epochs and epochs[-1]["iteration"] == iters_num - 1
            else evaluate(iters_num - 1)
        )
        wall = wall_before + (time.perf_counter() - start)
        tqdm.write(
            f"final ({iters_num} iterations, {wall:.1f} s)  train acc, test acc | "
            f"{final['train_acc']:.4f}, {final['test_acc']:.4f}"
        )

        every_loss = max(1, math.ceil(iters_num / MAX_LOSS_POINTS))
        metrics = {
            "command": "train",
            "hyperparameters": hyper,
            "epochs": epochs,
            "final": {**final, "loss": train_loss_list[-1]},
            "train_acc": final["train_acc"],
            "test_acc": final["test_acc"],
            "wall_time_s": wall,
            "threads": threads,
            "loss": {
                "note": "loss of each step's forward pass (before its update), every "
                f"{every_loss} iterations: values[k] is iteration k*{every_loss}",
                "every": every_loss,
                "values": train_loss_list[::every_loss],
            },
        }
        progress.phase = "writing the outputs"
        try:
            save(network, out_dir / "model.npz")  # atomic, no pickle
            with _atomic_write(out_dir / "metrics.json", "w") as f:
                # Strict JSON (the run stops at a non-finite loss; no NaN can be left, but a
                # stray one would be null, never the invalid NaN).
                json.dump(_json_safe(metrics), f, indent=1, allow_nan=False)
                f.write("\n")
            _plot_curves(out_dir / "curves.png", train_loss_list, epochs, final)
        except OSError as e:
            raise CLIError(f"cannot write to {out_dir}: {e}") from e
        tqdm.write(f"wrote {out_dir / 'curves.png'}, {out_dir / 'metrics.json'}, "
                   f"{out_dir / 'model.npz'}")
        if received:  # arrived while the outputs were written: they are complete
            name = signal.Signals(received[0]).name
            print(f"{PROG}: interrupted ({name}) after the run had finished; its outputs "
                  "are complete", file=sys.stderr)
            return 128 + received[0]
    return 0


def _plot_curves(
    path: Path,
    losses: Sequence[float],
    epochs: Sequence[Mapping[str, float | int]],
    final: Mapping[str, float | int],
) -> None:
    """The book's two figures side by side: the loss per iteration (Fig. 4-11) and the train
    and test accuracy per epoch (Fig. 4-12). Drawn with the Agg canvas, no pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(np.arange(len(losses)), losses, linewidth=0.5)
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("training loss (mini-batch)")
    ax_loss.set_ylim(bottom=0)

    rows = list(epochs)
    if not rows or rows[-1]["iteration"] != final["iteration"]:
        rows.append(final)
    x = [float(r["epoch"]) for r in rows]
    ax_acc.plot(x, [r["train_acc"] for r in rows], marker="o", label="train acc")
    ax_acc.plot(x, [r["test_acc"] for r in rows], marker="s", linestyle="--", label="test acc")
    ax_acc.set_xlabel("epochs")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0, 1.0)
    ax_acc.set_title("accuracy")
    ax_acc.legend(loc="lower right")
    with _atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=100)


# --------------------------------------------------------------------------- evaluate


def _read_model(path: Path) -> dict[str, Array]:
    """The arrays of a saved model, checked to be a TwoLayerNet(784, H, 10) state dict."""
    from .serialization import load

    if not path.is_file():
        raise CLIError(f"model file not found: {path}")
    state = load(path)  # allow_pickle=False; ModelFileError for a corrupt file
    keys = {"W1", "b1", "W2", "b2"}
    if set(state) != keys:
        raise CLIError(
            f"{path}: expected the arrays W1, b1, W2, b2 of a TwoLayerNet, found "
            f"{', '.join(sorted(state)) or 'none'}"
        )
    W1 = state["W1"]
    dtypes = {a.dtype for a in state.values()}
    if len(dtypes) != 1 or next(iter(dtypes)) not in (np.float32, np.float64):
        raise CLIError(f"{path}: the arrays must be all float32 or all float64, got "
                       f"{', '.join(sorted(str(d) for d in dtypes))}")
    h = W1.shape[1] if W1.ndim == 2 else -1
    expected = {"W1": (INPUT_SIZE, h), "b1": (h,), "W2": (h, OUTPUT_SIZE), "b2": (OUTPUT_SIZE,)}
    shapes = {k: state[k].shape for k in expected}
    if h < 1 or shapes != expected:
        got = ", ".join(f"{k} {v}" for k, v in shapes.items())
        raise CLIError(
            f"{path}: shapes do not fit TwoLayerNet({INPUT_SIZE}, H, {OUTPUT_SIZE}) on MNIST "
            f"(W1 (784, H), b1 (H,), W2 (H, 10), b2 (10,)); got {got}"
        )
    return state


def _format_confusion(matrix: Array) -> str:
    """A 10x10 confusion matrix as aligned text, with each row's accuracy (recall)."""
    width = max(5, len(str(int(matrix.max()))) + 1)
    head = "true\\pred" + "".join(f"{j:>{width}d}" for j in range(matrix.shape[1])) + "    acc"
    lines = [head]
    for i, row in enumerate(matrix):
        total = int(row.sum())
        acc = row[i] / total if total else float("nan")
        cells = "".join(f"{int(v):>{width}d}" for v in row)
        lines.append(f"{i:>9d}{cells}  {acc:.3f}")
    return "\n".join(lines)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .nn import TwoLayerNet

    state = _read_model(args.model)
    W1 = state["W1"]
    network = TwoLayerNet(INPUT_SIZE, W1.shape[1], OUTPUT_SIZE, dtype=W1.dtype, seed=0)
    try:
        network.load_state_dict(state)
    except (KeyError, ValueError, TypeError) as e:
        raise CLIError(f"{args.model}: cannot load the state dict: {e}") from e
    _, _, x_test, t_test = _load_mnist(args, one_hot_label=False)
    pred = _predict_labels(network, x_test)
    labels = t_test.astype(np.intp)
    matrix = np.zeros((OUTPUT_SIZE, OUTPUT_SIZE), dtype=np.int64)
    np.add.at(matrix, (labels, pred), 1)
    correct = int(np.trace(matrix))
    acc = correct / float(len(labels))
    print(f"model: {args.model} (TwoLayerNet({INPUT_SIZE}, {W1.shape[1]}, {OUTPUT_SIZE}), "
          f"{W1.dtype})")
    print(f"test accuracy: {acc:.4f} ({correct}/{len(labels)})")
    print("confusion matrix (rows: true digit, columns: predicted digit):")
    print(_format_confusion(matrix))
    return 0


# --------------------------------------------------------------------------- gradcheck


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    from .nn import TwoLayerNet

    x_train, t_train, _, _ = _load_mnist(args, one_hot_label=True)
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, seed=args.seed)

    x_batch = x_train[:3]
    t_batch = t_train[:3]

    grad_numerical = network.numerical_gradient(x_batch, t_batch)
    grad_backprop = network.gradient(x_batch, t_batch)

    worst = 0.0
    for key in grad_numerical:
        diff = float(np.average(np.abs(grad_backprop[key] - grad_numerical[key])))
        worst = max(worst, diff)
        print(key + ":" + str(diff))
    ok = worst <= GRADCHECK_TOL
    print(f"{'OK' if ok else 'FAIL'}: largest mean absolute difference {worst:.3g} "
          f"({'<=' if ok else '>'} {GRADCHECK_TOL:g})")
    return 0 if ok else 1


# --------------------------------------------------------------------------- graph


def _cmd_graph(args: argparse.Namespace) -> int:
    from .viz import render_book_graph

    out: Path = args.out
    if not out.parent.is_dir():
        raise CLIError(f"cannot write {out}: the directory {out.parent} does not exist")
    path = render_book_graph(
        out, backward=args.backward, values=args.values, collapse=args.collapse,
        seed=args.seed,
    )
    print(f"wrote {path}")
    return 0


# --------------------------------------------------------------------------- main


def _one_line(e: BaseException) -> str:
    text = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
    return text or type(e).__name__


def main(argv: list[str] | None = None) -> int:
    """Run ``tinygrad-fish`` with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Errors the user can fix (bad arguments, missing or corrupt data, model files or
    checkpoints, unwritable outputs, a run too big for the memory, a MemoryError) print one
    line to stderr and return 2; a training run that diverged returns 3 (EXIT_DIVERGED);
    nothing is raised.
    """
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help and --version
            return e.code if isinstance(e.code, int) else 0
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except _UsageError as e:
        print(str(e), file=sys.stderr)
        return 2
    except (CLIError, TinygradFishError, OSError) as e:
        print(f"{PROG}: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except MemoryError:  # train reports its own (with the checkpoint's state); the rest
        print(f"{PROG}: error: out of memory", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
