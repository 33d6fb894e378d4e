"""What the ``tinygrad-fish`` commands share: the constants, the one-line errors, the
argument types and the loading of MNIST."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy.typing as npt

if TYPE_CHECKING:
    from ..optim import Optimizer

Array = npt.NDArray[Any]

PROG = "tinygrad-fish"

# The book's ch05 train_neuralnet.py.
BOOK_HIDDEN = 50
BOOK_BATCH_SIZE = 100
BOOK_LR = 0.1
BOOK_ITERS = 10_000
#: The networks ``train`` builds: the book's ch05 TwoLayerNet and ch07 SimpleConvNet.
NETWORKS = ("two-layer-net", "simple-convnet")
#: The book's ch07 train_convnet.py: Adam, lr 0.001, batch 100, 20 epochs of 600 batches,
#: hidden size 100.
CONVNET_OPTIMIZER, CONVNET_LR, CONVNET_HIDDEN, CONVNET_ITERS = "adam", 0.001, 100, 12_000
#: Images predicted at a time by a convolutional net when evaluating (its activations take
#: ~0.5 MB an image).
CONVNET_EVAL_BATCH = 500
#: The samples of each set the book's train_convnet.py evaluates once per epoch
#: (``evaluate_sample_num_per_epoch``); the final accuracies use the whole sets.
CONVNET_EVAL_SAMPLES = 1000
INPUT_SIZE, OUTPUT_SIZE = 784, 10
#: MNIST's training and test set sizes (load_mnist's N), for the checks made before loading.
MNIST_TRAIN_SIZE, MNIST_TEST_SIZE = 60_000, 10_000

#: Samples predicted at a time when evaluating (bounds memory; the result does not depend on
#: how the set is split, only the peak memory does).
EVAL_BATCH = 10_000
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
# every format render_graph() supports (tinygrad_fish.viz.render._FORMATS)
GRAPH_SUFFIXES = (".svg", ".png", ".pdf", ".jpg", ".jpeg", ".dot", ".gv")


class CLIError(Exception):
    """A problem the user can fix (bad file, bad argument): printed as one line, exit 2."""


class _UsageError(CLIError):
    """argparse rejected the command line."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and do not call ``sys.exit``."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _one_line(e: BaseException) -> str:
    """An exception's message on one line (its lines joined), else its type's name."""
    text = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
    return text or type(e).__name__


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


# --------------------------------------------------------------------------- shared helpers


def _optimizers() -> Mapping[str, type[Optimizer]]:
    from ..optim import OPTIMIZERS

    return OPTIMIZERS


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data", metavar="DIR", type=_path, default=None,
        help="MNIST directory, which must exist (default: $TINYGRAD_FISH_DATA, else "
        "~/.cache/tinygrad_fish/mnist, created and downloaded into, 11 MB)",
    )
    p.add_argument(
        "--no-download", dest="download", action="store_false",
        help="fail rather than download missing MNIST files (give --data instead)",
    )


def _load_mnist(args: argparse.Namespace, *, one_hot_label: bool,
                flatten: bool = True) -> tuple[Array, ...]:
    """``x_train, t_train, x_test, t_test``, normalized, and flattened (or (N, 1, 28, 28)
    images for a convolutional net) as the book loads them."""
    from ..datasets import load_mnist
    from ..errors import DataDirectoryError, DataNotFoundError, DownloadError

    # The library's errors name its arguments (root=, download=True); these name the
    # command line's ways out.
    where = ("give --data DIR (or set TINYGRAD_FISH_DATA) to the directory holding the four "
             "MNIST files")
    try:
        (x_train, t_train), (x_test, t_test) = load_mnist(
            normalize=True, flatten=flatten, one_hot_label=one_hot_label,
            root=args.data, download=args.download,
        )
    except DataDirectoryError as e:
        named = (f"--data {e.path}" if e.source == "root"
                 else f"TINYGRAD_FISH_DATA={e.path}")
        raise CLIError(
            f"{named}: not a directory (an MNIST directory is not created for you, in "
            f"case it is mistyped): create it, or {where}"
        ) from e
    except DataNotFoundError as e:
        raise CLIError(
            f"{e.problem}: {where}, or leave out --no-download to download them (11 MB)"
        ) from e
    except DownloadError as e:
        raise CLIError(f"{_one_line(e)}; offline? {where}") from e
    return x_train, t_train, x_test, t_test
