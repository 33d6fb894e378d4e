"""``tinygrad-fish train``: the run's configuration (new or resumed), the memory check, the
BLAS threads, MNIST and the book's TwoLayerNet, around a :class:`~tinygrad_fish.trainer.Trainer`
run, which does the loop, the checkpoints, the signals, the divergence checks and the
outputs."""

from __future__ import annotations

import argparse
import math
import shlex
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .common import (
    BOOK_BATCH_SIZE,
    BOOK_HIDDEN,
    BOOK_ITERS,
    BOOK_LR,
    CONVNET_EVAL_BATCH,
    CONVNET_EVAL_SAMPLES,
    CONVNET_HIDDEN,
    CONVNET_ITERS,
    CONVNET_LR,
    CONVNET_OPTIMIZER,
    DEFAULT_THREADS,
    EVAL_BATCH,
    EXIT_DIVERGED,
    INPUT_SIZE,
    MNIST_TRAIN_SIZE,
    NETWORKS,
    OUTPUT_SIZE,
    PROG,
    CLIError,
    _load_mnist,
    _one_line,
    _optimizers,
)
from .memory import _check_memory, _format_bytes

if TYPE_CHECKING:
    from ..checkpoint import Checkpoint
    from ..nn import SimpleConvNet, TwoLayerNet
    from ..trainer import Trainer

#: The options a resumed run may not change (they would make another run): option -> flag.
_RESUME_FIXED = {
    "network": "--network", "optimizer": "--optimizer", "lr": "--lr", "hidden": "--hidden",
    "batch_size": "--batch-size", "seed": "--seed", "dtype": "--dtype", "threads": "--threads",
}
DEFAULT_OUT = Path("runs/train")
#: The trained weights ``train`` writes into its output directory.
MODEL_NAME = "model.npz"


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


def _checked_config(saved: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The run configuration stored in a checkpoint, checked to be one ``train`` can run.

    Raises:
        CheckpointError: a setting is missing or invalid.
    """
    from ..checkpoint import CheckpointError

    def ok_int(v: Any, lo: int) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= lo

    checks: dict[str, Callable[[Any], bool]] = {
        # Checkpoints written before --network existed are the two-layer net's: None.
        "network": lambda v: v is None or v in NETWORKS,
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
    optional = {"threads", "network"}
    for key, check in checks.items():
        if (key not in saved and key not in optional) or not check(saved.get(key)):
            raise CheckpointError(
                f"{path} is not a valid training checkpoint: its configuration has "
                f"{key}={saved.get(key)!r}", path
            )
    config = {key: saved.get(key) for key in checks}
    if config["network"] is None:
        config["network"] = "two-layer-net"
    return config


def _train_config(args: argparse.Namespace) -> tuple[dict[str, Any], Path, Checkpoint | None]:
    """The run's configuration, its output directory and the checkpoint it resumes (if any).

    A new run takes the defaults for the options not given. A resumed run takes the
    checkpoint's; a given option that differs from the checkpoint's is refused, except
    ``--iters``, ``--checkpoint-every`` and ``--data``, which do not change the run.

    Raises:
        CLIError: a new run's ``OUT`` holds a checkpoint, or a finished run's model
            without ``--overwrite``; a resumed run with another
            ``--out``, other hyperparameters, or fewer ``--iters`` than it has done.
        CheckpointError: the checkpoint to resume is missing, corrupt or invalid.
    """
    from ..checkpoint import CHECKPOINT_NAME, load_checkpoint

    data = None if args.data is None else str(args.data.absolute())
    if args.resume is None:
        out_dir: Path = args.out if args.out is not None else DEFAULT_OUT
        path = out_dir / CHECKPOINT_NAME
        if path.exists():
            raise CLIError(
                f"{out_dir} holds the checkpoint of an earlier run: continue it with "
                f"'--resume {out_dir}', or delete {path} to start over there"
            )
        model = out_dir / MODEL_NAME
        if model.exists() and not getattr(args, "overwrite", False):
            raise CLIError(
                f"{out_dir} holds a finished run ({model}): pass --overwrite to replace it, "
                "or choose another --out"
            )
        network = args.network if args.network is not None else "two-layer-net"
        conv = network == "simple-convnet"
        optimizer = args.optimizer if args.optimizer is not None else (
            CONVNET_OPTIMIZER if conv else "sgd")
        lr = args.lr if args.lr is not None else (
            CONVNET_LR if conv and optimizer == CONVNET_OPTIMIZER
            else BOOK_LR if optimizer == "sgd" else _optimizers()[optimizer].default_lr
        )
        config = {
            "network": network,
            "optimizer": optimizer,
            "lr": float(lr),
            "hidden": args.hidden if args.hidden is not None else (
                CONVNET_HIDDEN if conv else BOOK_HIDDEN),
            "batch_size": args.batch_size if args.batch_size is not None else BOOK_BATCH_SIZE,
            "iters": args.iters if args.iters is not None else (
                CONVNET_ITERS if conv else BOOK_ITERS),
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


@contextmanager
def _blas_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` BLAS threads (threadpoolctl), restoring the count after.

    Raises:
        MissingDependencyError: threadpoolctl (the ``cli`` extra) is not installed.
    """
    from .._optional import import_optional

    threadpool_limits = import_optional(
        "threadpoolctl", "train (to set its BLAS thread count, --threads)").threadpool_limits
    # numpy is imported (at the top of this module), so its BLAS library is loaded and
    # threadpoolctl finds it; it limits only libraries already loaded.
    with threadpool_limits(limits=n, user_api="blas"):
        yield


class _Progress:
    """Where a training run is, for the message of a MemoryError (see ``_cmd_train``):
    the set-up phase, then the Trainer's own :attr:`~tinygrad_fish.trainer.Trainer.status`
    once it runs."""

    def __init__(self) -> None:
        self.phase = "setting up"
        self.trainer: Trainer | None = None  # set when its run starts
        self.resumed: int | None = None  # the iteration of the checkpoint resumed, if any

    @property
    def saved(self) -> int | None:
        """The iteration of the checkpoint on disk, if any."""
        return self.trainer.saved_iteration if self.trainer is not None else self.resumed

    def where(self) -> str:
        return self.trainer.status if self.trainer is not None else f"while {self.phase}"


def _cmd_train(args: argparse.Namespace) -> int:
    """``train``: check the run fits, set the BLAS threads, train.

    Raises:
        CLIError: a bad configuration or checkpoint, a run too big for the memory
            available, or a MemoryError during the run (the checkpoint on disk, if any, is
            the last one written whole).
    """
    config, out_dir, resumed = _train_config(args)
    if (resumed is not None and resumed.iteration == config["iters"]
            and (out_dir / MODEL_NAME).exists()):
        print(
            f"{PROG}: the run in {out_dir} is complete ({resumed.iteration} of "
            f"{config['iters']} iterations; its outputs are there): nothing to do; pass "
            f"--iters N (N > {config['iters']}) to train it longer",
            file=sys.stderr,
        )
        return 0
    _check_batch_size(config["batch_size"], MNIST_TRAIN_SIZE)
    need, available = _check_memory(config)
    progress = _Progress()
    try:
        with _blas_threads(config["threads"]):
            return _train(args, config, out_dir, resumed, progress)
    except MemoryError as e:
        from ..checkpoint import CHECKPOINT_NAME

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
    """The training run of ``train`` (``_cmd_train`` has set the BLAS threads): MNIST, the
    network, then a Trainer run with the command line's options and messages. Keeps
    ``progress`` up to date.

    Raises:
        CLIError: the output directory cannot be made or written, the data differ from a
            resumed run's, or a batch is larger than the training set.
        CheckpointError: the checkpoint resumed does not fit, or one cannot be written.
    """
    from .._optional import import_optional

    tqdm = import_optional("tqdm", "train").tqdm
    import_optional("matplotlib", "train (for OUT/curves.png)")

    from ..checkpoint import CHECKPOINT_NAME, CheckpointError, remove_stale_temp_files
    from ..nn import SimpleConvNet, TwoLayerNet
    from ..trainer import Trainer, TrainingDiverged, TrainingInterrupted, deferred_signals

    lr: float = config["lr"]
    ckpt_path = out_dir / CHECKPOINT_NAME
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CLIError(f"cannot create the output directory {out_dir}: {e}") from e
    remove_stale_temp_files(ckpt_path)  # left by a checkpoint write that was killed midway

    if resumed is not None:
        progress.resumed = resumed.iteration
    progress.phase = "loading MNIST"
    data_args = argparse.Namespace(
        data=None if config["data"] is None else Path(config["data"]), download=args.download
    )
    conv = config["network"] == "simple-convnet"
    x_train, t_train, x_test, t_test = _load_mnist(data_args, one_hot_label=True,
                                                   flatten=not conv)
    _check_batch_size(config["batch_size"], x_train.shape[0])  # MNIST from elsewhere
    # The images stay float32 (as loaded, 188 MB); the network converts each batch to its
    # dtype, as the book's float64 net does with its float32 images.
    dtype = np.dtype(config["dtype"])

    # Seeded: the weights from default_rng(seed) (inside TwoLayerNet), the batches from an
    # independent child stream of the same seed. Same seed -> the same run, bit for bit.
    seed: int = config["seed"]
    hidden: int = config["hidden"]
    iters: int = config["iters"]
    progress.phase = "building the network"
    network: TwoLayerNet | SimpleConvNet = (
        SimpleConvNet(hidden_size=hidden, output_size=OUTPUT_SIZE, dtype=dtype, seed=seed)
        if conv else TwoLayerNet(INPUT_SIZE, hidden, OUTPUT_SIZE, dtype=dtype, seed=seed))
    batch_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])

    # As the book's train_convnet.py, the convolutional net is evaluated once per epoch on
    # the first 1000 samples of each set (the whole sets take ~35 s at one thread).
    eval_samples = CONVNET_EVAL_SAMPLES if conv else None
    on_the = f" (first {eval_samples} samples)" if eval_samples else ""

    def on_epoch(row: dict[str, Any]) -> None:
        tqdm.write(f"epoch {row['epoch']:4.1f}  train acc, test acc{on_the} | "
                   f"{row['train_acc']:.4f}, {row['test_acc']:.4f}")

    # The loss recorded is the one of each step's own forward pass, before the update
    # (loss_after_update=False); the book calls network.loss(x_batch, t_batch) again after
    # the update (a second forward pass per iteration, ~1/3 of the step's cost) for nearly
    # the same curve.
    trainer = Trainer(
        network, x_train, t_train, x_test, t_test,
        mini_batch_size=config["batch_size"], optimizer=_optimizers()[config["optimizer"]](lr=lr),
        verbose=False, iters=iters, rng=batch_rng, loss_after_update=False,
        eval_batch_size=CONVNET_EVAL_BATCH if conv else EVAL_BATCH, progress=None,
        checkpoint=ckpt_path, evaluate_sample_num_per_epoch=eval_samples,
        checkpoint_every=config["checkpoint_every"], on_epoch=on_epoch, metadata=config,
    )
    if resumed is not None:
        if resumed.data != trainer.fingerprint():
            raise CLIError(
                f"cannot resume {ckpt_path}: the MNIST data read now differ from the data "
                "the run was trained on (give --data the same directory)"
            )
        try:
            trainer.resume(ckpt_path, checkpoint=resumed)
        except CheckpointError as e:
            cause = e.__cause__ if e.__cause__ is not None else e
            raise CheckpointError(
                f"{ckpt_path} does not fit the run it describes: {_one_line(cause)}", ckpt_path
            ) from e

    hyper = {
        "network": (f"SimpleConvNet((1, 28, 28), 30 filters of 5x5, {hidden}, {OUTPUT_SIZE})"
                    if conv else f"TwoLayerNet({INPUT_SIZE}, {hidden}, {OUTPUT_SIZE})"),
        "optimizer": config["optimizer"],
        "lr": lr,
        "hidden_size": hidden,
        "batch_size": config["batch_size"],
        "iters": iters,
        "seed": seed,
        "dtype": dtype.name,
        "weight_init_std": 0.01,
        "network_kind": config["network"],
        "iter_per_epoch": trainer.iter_per_epoch,
    }
    threads: int = config["threads"]
    tqdm.write(
        f"training {hyper['network']} {dtype.name}, {config['optimizer']} lr={lr:g}, "
        f"batch {config['batch_size']}, {iters} iterations, seed {seed}, {threads} BLAS "
        f"thread{'s' if threads > 1 else ''}"
    )
    if resumed is not None:
        tqdm.write(f"resuming {ckpt_path} after iteration {resumed.iteration}")
        if resumed.config.get("threads") is None:
            tqdm.write(
                f"note: {ckpt_path} does not record the BLAS thread count it was trained "
                f"with; resuming with {threads} (--threads): bit for bit the uninterrupted "
                "run's only if that run used as many"
            )

    # One deferred-signal block around the run and its outputs: the Trainer's (nested)
    # shares it, so a signal after the last iteration is seen here, once the outputs are
    # written.
    with deferred_signals() as received:
        progress.trainer = trainer
        try:
            trainer.train()
        except TrainingDiverged as e:
            kept = (
                f"; {ckpt_path} (after iteration {trainer.saved_iteration}) is left as it was"
                if trainer.saved_iteration is not None else ""
            )
            print(
                f"{PROG}: error: training diverged: {e.what} (--lr {lr:g}); try a smaller "
                f"--lr; no outputs written{kept}",
                file=sys.stderr,
            )
            return EXIT_DIVERGED
        except TrainingInterrupted as e:
            name = signal.Signals(e.signum).name
            print(
                f"{PROG}: interrupted ({name}) after iteration {e.completed} of {iters}; "
                f"saved {ckpt_path}; continue with: {PROG} train --resume "
                f"{shlex.quote(str(out_dir))}",
                file=sys.stderr,
            )
            return 128 + e.signum

        final = trainer.final_metrics()
        tqdm.write(
            f"final ({iters} iterations, {trainer.wall_time_s:.1f} s)  train acc, test acc | "
            f"{final['train_acc']:.4f}, {final['test_acc']:.4f}"
        )
        try:
            paths = trainer.save_outputs(out_dir, hyperparameters=hyper,
                                         extra={"command": "train", "threads": threads})
        except OSError as e:
            raise CLIError(f"cannot write to {out_dir}: {e}") from e
        tqdm.write(f"wrote {paths['curves']}, {paths['metrics']}, {paths['model']}")
        if received:  # arrived after the last iteration: the outputs are complete
            name = signal.Signals(received[0]).name
            print(f"{PROG}: interrupted ({name}) after the run had finished; its outputs "
                  "are complete", file=sys.stderr)
            return 128 + received[0]
    return 0
