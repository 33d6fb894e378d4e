"""The argument parser of ``tinygrad-fish`` and its four subcommands."""

from __future__ import annotations

import argparse

from .common import (
    BOOK_BATCH_SIZE,
    BOOK_HIDDEN,
    BOOK_ITERS,
    BOOK_LR,
    CONVNET_HIDDEN,
    CONVNET_ITERS,
    CONVNET_LR,
    CONVNET_OPTIMIZER,
    DEFAULT_THREADS,
    EXIT_DIVERGED,
    GRADCHECK_TOL,
    GRAPH_SUFFIXES,
    MNIST_TRAIN_SIZE,
    NETWORKS,
    PROG,
    _add_data_args,
    _graph_path,
    _optimizers,
    _Parser,
    _path,
    _positive_float,
    _positive_int,
    _seed,
)
from .evaluate import _cmd_evaluate
from .gradcheck import _cmd_gradcheck
from .graph import _cmd_graph
from .train import _cmd_train


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tinygrad-fish`` and its four subcommands; each sets
    ``func``, the function that runs it (``func(args)`` returns the exit code). Its errors
    raise instead of exiting (``main`` prints them as one line, exit code 2)."""
    parser = _Parser(
        prog=PROG,
        description="Train, evaluate, gradient-check and draw the fish book's two-layer "
        "MNIST net on the tinygrad_fish autodiff engine.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "train", help="train TwoLayerNet (ch05) or SimpleConvNet (ch07) on MNIST",
        description="Train the book's TwoLayerNet(784, HIDDEN, 10) on MNIST with mini-batch "
        "gradient descent, as ch05's train_neuralnet.py (whose hyperparameters are the "
        "defaults), or with --network simple-convnet the book's ch07 SimpleConvNet as "
        f"train_convnet.py ({CONVNET_OPTIMIZER}, lr {CONVNET_LR}, batch 100, 20 epochs: "
        f"{CONVNET_ITERS} iterations), with the library's Trainer. Prints the train and "
        "test accuracy once per epoch and at the end; writes OUT/curves.png, "
        "OUT/metrics.json and OUT/model.npz. "
        "Refuses (exit 2) a run whose memory estimate exceeds the memory available "
        f"(MemAvailable in /proc/meminfo). Stops with exit code {EXIT_DIVERGED} (and no "
        "outputs) if the loss becomes NaN or infinite: the run diverged, try a smaller --lr.",
    )
    p.add_argument(
        "--network", default=None, choices=NETWORKS,
        help="the network: the book's ch05 two-layer net or its ch07 convolutional net "
        "(default: two-layer-net); the other defaults follow it",
    )
    names = sorted(_optimizers())
    # The hyperparameters default to None, "not given": a new run fills in the defaults the
    # help states; a resumed run takes the checkpoint's values instead.
    p.add_argument(
        "--optimizer", default=None, type=str.lower, choices=names, metavar="NAME",
        help=f"one of {', '.join(names)} (default: sgd; {CONVNET_OPTIMIZER} for "
        "simple-convnet)",
    )
    p.add_argument(
        "--lr", type=_positive_float, default=None,
        help=f"learning rate (default: the book's {BOOK_LR} for sgd, {CONVNET_LR} for "
        "simple-convnet, else the optimizer's own default, e.g. Adam's 0.001)",
    )
    p.add_argument("--hidden", type=_positive_int, default=None,
                   help=f"hidden units (default: {BOOK_HIDDEN}; {CONVNET_HIDDEN} for "
                   "simple-convnet)")
    p.add_argument(
        "--batch-size", type=_positive_int, default=None,
        help=f"mini-batch size, at most the training set's size ({MNIST_TRAIN_SIZE}; a larger "
        "one is refused, not clamped); each batch is drawn with replacement, as the book's "
        f"np.random.choice(train_size, batch_size) does (default: {BOOK_BATCH_SIZE})",
    )
    p.add_argument("--iters", type=_positive_int, default=None,
                   help=f"iterations (mini-batches) (default: {BOOK_ITERS}; {CONVNET_ITERS} "
                   "for simple-convnet)")
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
                   help="output directory (default: runs/train; with --resume, its DIR); "
                   "one holding a finished run (DIR/model.npz) is refused unless --overwrite")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the outputs of a finished run in --out DIR (a checkpoint "
                   "there is still refused: resume it or delete it)")
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
        description="Load a model.npz written by 'train' (a TwoLayerNet or a SimpleConvNet, "
        "told apart by its arrays) and print its MNIST test accuracy and a 10x10 confusion "
        "matrix (rows: true digit, columns: predicted digit).",
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
    p.add_argument("--out", metavar="FILE", type=_graph_path, default=None,
                   help="output file: " + ", ".join(GRAPH_SUFFIXES) + " (missing directories "
                   "are created)")
    p.add_argument("--view", choices=("forward", "backward"), default=None,
                   help="forward (tensors and ops) or backward (gradient functions); "
                   "default: forward")
    p.add_argument("--values", action="store_true",
                   help="show values (and, in the backward view, gradients)")
    p.add_argument("--legend", action="store_true", help="add the legend of colours/shapes")
    p.add_argument("--backward", action="store_true",
                   help="deprecated: use --view backward")
    p.add_argument("--animate", metavar="HTML", type=_path, default=None,
                   help="also write the backward pass step by step as an HTML page")
    p.add_argument("--collapse", action="store_true", help="draw each layer as one node")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the batch and weights")
    p.set_defaults(func=_cmd_graph)
    return parser
