"""The ``tinygrad-fish`` command line (also ``python -m tinygrad_fish``).

Four commands::

    tinygrad-fish train      [--optimizer sgd] [--lr 0.1] [--hidden 50] [--batch-size 100]
                             [--iters 10000] [--seed 0] [--dtype float64] [--out runs/train]
    tinygrad-fish evaluate   MODEL.npz
    tinygrad-fish gradcheck  [--seed 0]
    tinygrad-fish graph      --out FILE.svg|png|pdf|dot [--backward] [--values] [--collapse]

``train`` is the fish book's ch05 ``train_neuralnet.py`` with its hyperparameters as the
defaults, plus a progress bar, seeded (bit-for-bit repeatable) randomness and three output
files: ``curves.png`` (the book's loss and accuracy figures), ``metrics.json`` and
``model.npz`` (the state dict, which ``evaluate`` reads). ``gradcheck`` is the book's ch05
``gradient_check.py``; ``graph`` draws the book's two-layer net with
:func:`tinygrad_fish.viz.render_book_graph`.

MNIST is read from ``--data DIR``, else ``$TINYGRAD_FISH_DATA``, else a cache directory it is
downloaded into (see :func:`tinygrad_fish.datasets.load_mnist`).

Exit codes: 0 success; 1 ``gradcheck`` found a difference above its tolerance; 2 a usage error
or a problem with the data, a model file or an output path (one line on stderr, no traceback);
130 interrupted. tqdm and matplotlib are imported inside the commands that use them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

import numpy as np
import numpy.typing as npt

from .errors import TinygradFishError

if TYPE_CHECKING:
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

#: Samples predicted at a time when evaluating (bounds memory; the result does not depend on
#: how the set is split, only the peak memory does).
EVAL_BATCH = 10_000
#: metrics.json keeps at most about this many loss values (every N-th iteration's).
MAX_LOSS_POINTS = 1000
#: ``gradcheck`` fails when a mean absolute difference exceeds this (float64).
GRADCHECK_TOL = 1e-9
GRAPH_SUFFIXES = (".svg", ".png", ".pdf", ".dot")


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


def _graph_path(text: str) -> Path:
    path = Path(text)
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
        "--data", metavar="DIR", type=Path, default=None,
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
        "OUT/curves.png, OUT/metrics.json and OUT/model.npz.",
    )
    names = sorted(_optimizers())
    p.add_argument(
        "--optimizer", default="sgd", type=str.lower, choices=names, metavar="NAME",
        help=f"one of {', '.join(names)} (default: sgd)",
    )
    p.add_argument(
        "--lr", type=_positive_float, default=None,
        help=f"learning rate (default: the book's {BOOK_LR} for sgd, else the optimizer's "
        "own default, e.g. Adam's 0.001)",
    )
    p.add_argument("--hidden", type=_positive_int, default=BOOK_HIDDEN,
                   help=f"hidden units (default: {BOOK_HIDDEN})")
    p.add_argument("--batch-size", type=_positive_int, default=BOOK_BATCH_SIZE,
                   help=f"mini-batch size (default: {BOOK_BATCH_SIZE})")
    p.add_argument("--iters", type=_positive_int, default=BOOK_ITERS,
                   help=f"iterations (mini-batches) (default: {BOOK_ITERS})")
    p.add_argument("--seed", type=_seed, default=0,
                   help="seed of the weight init and the batch sampling (default: 0)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float64",
                   help="parameter dtype (default: float64, as the book)")
    p.add_argument("--out", metavar="DIR", type=Path, default=Path("runs/train"),
                   help="output directory (default: runs/train)")
    _add_data_args(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "evaluate", help="test accuracy and confusion matrix of a saved model",
        description="Load a model.npz written by 'train' and print its MNIST test accuracy "
        "and a 10x10 confusion matrix (rows: true digit, columns: predicted digit).",
    )
    p.add_argument("model", metavar="MODEL.npz", type=Path, help="the saved state dict")
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


# --------------------------------------------------------------------------- train


def _cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

    from .nn import TwoLayerNet
    from .serialization import save

    optimizers = _optimizers()
    opt_cls = optimizers[args.optimizer]
    lr = args.lr if args.lr is not None else (
        BOOK_LR if args.optimizer == "sgd" else opt_cls.default_lr
    )
    out_dir: Path = args.out
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CLIError(f"cannot create the output directory {out_dir}: {e}") from e

    x_train, t_train, x_test, t_test = _load_mnist(args, one_hot_label=True)
    y_train, y_test = _labels(t_train), _labels(t_test)
    # The images stay float32 (as loaded, 188 MB); the network converts each batch to its
    # dtype, as the book's float64 net does with its float32 images.
    dtype = np.dtype(args.dtype)

    # Seeded: the weights from default_rng(seed) (inside TwoLayerNet), the batches from an
    # independent child stream of the same seed. Same seed -> the same run, bit for bit.
    network = TwoLayerNet(INPUT_SIZE, args.hidden, OUTPUT_SIZE, dtype=dtype, seed=args.seed)
    batch_rng = np.random.default_rng(np.random.SeedSequence(args.seed).spawn(1)[0])
    optimizer = opt_cls(lr=lr)
    named = dict(network.named_parameters())
    names, tensors = list(named), list(named.values())

    iters_num = args.iters
    train_size = x_train.shape[0]
    batch_size = args.batch_size
    iter_per_epoch = max(train_size / batch_size, 1)

    train_loss_list: list[float] = []
    epochs: list[dict[str, float | int]] = []

    def evaluate(i: int) -> dict[str, float | int]:
        return {
            "iteration": i,
            "epoch": i / iter_per_epoch,
            "train_acc": _accuracy(network, x_train, y_train),
            "test_acc": _accuracy(network, x_test, y_test),
        }

    hyper = {
        "network": f"TwoLayerNet({INPUT_SIZE}, {args.hidden}, {OUTPUT_SIZE})",
        "optimizer": args.optimizer,
        "lr": lr,
        "hidden_size": args.hidden,
        "batch_size": batch_size,
        "iters": iters_num,
        "seed": args.seed,
        "dtype": dtype.name,
        "weight_init_std": 0.01,
        "iter_per_epoch": iter_per_epoch,
    }
    tqdm.write(
        f"training {hyper['network']} {dtype.name}, {args.optimizer} lr={lr:g}, "
        f"batch {batch_size}, {iters_num} iterations, seed {args.seed}"
    )
    start = time.perf_counter()
    running, n_running = 0.0, 0
    with tqdm(total=iters_num, desc="train", unit="it", dynamic_ncols=True,
              disable=None) as bar:
        for i in range(iters_num):
            batch_mask = batch_rng.choice(train_size, batch_size)
            x_batch = x_train[batch_mask]
            t_batch = t_train[batch_mask]

            # The loss recorded is the one of this step's own forward pass, before the update;
            # the book calls network.loss(x_batch, t_batch) again after the update (a second
            # forward pass per iteration, ~1/3 of the step's cost) for nearly the same curve.
            loss, grads = _step(network, names, tensors, x_batch, t_batch)
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

    final = (
        epochs[-1] if epochs and epochs[-1]["iteration"] == iters_num - 1
        else evaluate(iters_num - 1)
    )
    wall = time.perf_counter() - start
    tqdm.write(
        f"final ({iters_num} iterations, {wall:.1f} s)  train acc, test acc | "
        f"{final['train_acc']:.4f}, {final['test_acc']:.4f}"
    )

    every = max(1, math.ceil(iters_num / MAX_LOSS_POINTS))
    metrics = {
        "command": "train",
        "hyperparameters": hyper,
        "epochs": epochs,
        "final": {**final, "loss": train_loss_list[-1]},
        "train_acc": final["train_acc"],
        "test_acc": final["test_acc"],
        "wall_time_s": wall,
        "loss": {
            "note": "loss of each step's forward pass (before its update), every "
            f"{every} iterations: values[k] is iteration k*{every}",
            "every": every,
            "values": train_loss_list[::every],
        },
    }
    try:
        save(network, out_dir / "model.npz")  # atomic, no pickle
        with _atomic_write(out_dir / "metrics.json", "w") as f:
            json.dump(metrics, f, indent=1)
            f.write("\n")
        _plot_curves(out_dir / "curves.png", train_loss_list, epochs, final)
    except OSError as e:
        raise CLIError(f"cannot write to {out_dir}: {e}") from e
    tqdm.write(f"wrote {out_dir / 'curves.png'}, {out_dir / 'metrics.json'}, "
               f"{out_dir / 'model.npz'}")
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

    Errors the user can fix (bad arguments, missing or corrupt data or model files,
    unwritable outputs) print one line to stderr and return 2; nothing is raised.
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
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
