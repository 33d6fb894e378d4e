"""The ``tinygrad-fish`` command line (also ``python -m tinygrad_fish``).

Four commands::

    tinygrad-fish train      [--network two-layer-net|simple-convnet]
                             [--optimizer sgd] [--lr 0.1] [--hidden 50] [--batch-size 100]
                             [--iters 10000] [--seed 0] [--dtype float64] [--threads 1]
                             [--out runs/train] [--checkpoint-every N] [--resume DIR]
    tinygrad-fish evaluate   MODEL.npz
    tinygrad-fish gradcheck  [--seed 0]
    tinygrad-fish graph      --out FILE.svg|png|pdf|dot [--backward] [--values] [--collapse]

``train`` is the fish book's ch05 ``train_neuralnet.py`` with its hyperparameters as the
defaults, plus a progress bar, seeded (bit-for-bit repeatable) randomness, a fixed BLAS
thread count and three output files: ``curves.png`` (the book's loss and accuracy figures),
``metrics.json`` and ``model.npz`` (the state dict, which ``evaluate`` reads). Its loop is
the library's :class:`tinygrad_fish.trainer.Trainer` (the checkpoints, signals, divergence
checks and output files below are the Trainer's; a script using it gets the same), which
``train`` runs with a seeded ``Generator`` for the batches, the loss of each step's own
forward pass (``loss_after_update=False``) and evaluation in batches of EVAL_BATCH.
``train --network simple-convnet`` is the book's ch07 ``train_convnet.py`` instead (its
SimpleConvNet, Adam at lr 0.001, 20 epochs of 600 batches, the per-epoch accuracies on the
first 1000 samples of each set); ``evaluate`` tells the two kinds of model apart by their
arrays. ``gradcheck`` is the book's ch05 ``gradient_check.py``; ``graph`` draws the book's
two-layer net with :func:`tinygrad_fish.viz.render_book_graph`.

One module per command: :mod:`~tinygrad_fish.cli.train` (with
:mod:`~tinygrad_fish.cli.memory`, its memory check), :mod:`~tinygrad_fish.cli.evaluate`,
:mod:`~tinygrad_fish.cli.gradcheck` and :mod:`~tinygrad_fish.cli.graph`; the parser in
:mod:`~tinygrad_fish.cli.parser`, what they share in :mod:`~tinygrad_fish.cli.common`.

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
import sys
from collections.abc import Callable

from ..errors import TinygradFishError
from .common import DEFAULT_THREADS, EXIT_DIVERGED, PROG, CLIError, _one_line, _UsageError
from .parser import build_parser

__all__ = ["DEFAULT_THREADS", "EXIT_DIVERGED", "build_parser", "main"]


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
