"""The training loop: the book's ``Trainer`` (``common/trainer.py``), with checkpoints.

A :class:`Trainer` runs the book's loop on any network with the book's API (``gradient``,
``loss``, ``accuracy``, ``params``): each iteration draws a mini-batch, computes the
gradients, updates the weights with the optimizer, and records the loss; at every epoch it
measures the accuracy on the training and test sets. With the book's arguments it does what
the book's ``Trainer`` does, in the same order and with the same random draws
(``np.random.choice``), so a script of the book prints the book's numbers::

    trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=20,
                      mini_batch_size=100, optimizer="adam", optimizer_param={"lr": 0.001})
    trainer.train()
    trainer.train_loss_list, trainer.train_acc_list, trainer.test_acc_list

Beyond the book, for long runs (the ``tinygrad-fish train`` command line is this loop):

- ``rng=`` a seeded ``np.random.Generator`` for the batches, instead of the global state;
- ``checkpoint=PATH``: the whole state of the run (weights, optimizer, batch sampler,
  losses, accuracies, ``metadata``) is written there atomically when a signal stops the
  run, and with ``checkpoint_every=N`` also before the first iteration, every N iterations
  and after the last; :meth:`Trainer.resume` continues it, and the resumed run ends with
  the weights of the uninterrupted one, bit for bit (at the same BLAS thread count);
- SIGINT and SIGTERM (Ctrl-C) end the current iteration, write the checkpoint and raise
  :class:`TrainingInterrupted`; a second one stops at once;
- a loss or weight that stops being finite raises :class:`TrainingDiverged` naming the
  iteration (with ``loss_after_update=False``, before the update that would spread it);
- ``progress=True`` shows a tqdm bar; ``on_epoch`` is called with each evaluation row;
- :meth:`Trainer.final_metrics` measures the trained network on the whole training and
  test sets, and :meth:`Trainer.save_outputs` writes ``model.npz`` (the weights),
  ``metrics.json`` (strict JSON) and ``curves.png`` (the book's loss and accuracy figures).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ._optional import import_optional, install_hint
from .errors import MissingDependencyError, TinygradFishError
from .optim import OPTIMIZERS, Optimizer

if TYPE_CHECKING:
    from .checkpoint import Checkpoint

__all__ = [
    "MAX_LOSS_POINTS",
    "MatplotlibNotFoundError",
    "Trainer",
    "TrainingDiverged",
    "TrainingInterrupted",
    "data_fingerprint",
    "deferred_signals",
]

Array = npt.NDArray[Any]
PathLike = str | os.PathLike[str]

#: ``metrics.json`` keeps at most about this many loss values (every N-th iteration's).
MAX_LOSS_POINTS = 1000


class TrainingDiverged(TinygradFishError, FloatingPointError):
    """The loss (or, after the last iteration, a weight) is NaN or infinite: training stops.

    Attributes:
        iteration: the 0-based iteration it stopped in (for a weight: the iterations done).
        what: what is not finite, and where, e.g. ``"the loss is nan in iteration 2 of
            10"``; the message adds the learning rate and the advice.
    """

    def __init__(self, message: str, iteration: int, what: str | None = None) -> None:
        super().__init__(message)
        self.iteration = iteration
        self.what = message if what is None else what


class TrainingInterrupted(TinygradFishError, KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: the iteration running was finished and, with a checkpoint
    path, the checkpoint written.

    Attributes:
        signum: the signal's number.
        completed: the iterations done.
        checkpoint: the checkpoint written (None when the trainer has no checkpoint path).
    """

    def __init__(self, message: str, signum: int, completed: int,
                 checkpoint: Path | None = None) -> None:
        super().__init__(message)
        self.signum = signum
        self.completed = completed
        self.checkpoint = checkpoint


class MatplotlibNotFoundError(MissingDependencyError):
    """:meth:`Trainer.save_outputs` draws ``curves.png`` with matplotlib, which is missing."""


# The list of the outermost deferred_signals block running (on the main thread), if any.
_ACTIVE: list[list[int]] = []


@contextlib.contextmanager
def deferred_signals() -> Iterator[list[int]]:
    """Defer SIGINT and SIGTERM inside the block.

    The first signal is only recorded (in the list yielded), for a loop to stop at the end
    of its iteration with every array consistent; a second one raises KeyboardInterrupt at
    once. Signals ignored before stay ignored; the previous handlers are restored at the
    end. A block nested in another shares the outer one's list (and handlers), so a caller
    can cover more than :meth:`Trainer.train` (writing the outputs, say) and see a signal
    that arrives at any point. Off the main thread (where handlers cannot be set) nothing
    changes and the list stays empty.
    """
    if threading.current_thread() is not threading.main_thread():
        yield []
        return
    if _ACTIVE:
        yield _ACTIVE[-1]
        return
    received: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(signum)

    previous: dict[int, Any] = {}
    _ACTIVE.append(received)
    try:
        for sig in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
            if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
                previous[sig] = signal.signal(sig, handler)
        yield received
    finally:
        _ACTIVE.pop()
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)


def data_fingerprint(x_train: Array, t_train: Array, x_test: Array, t_test: Array) -> dict[
    str, Any
]:
    """The shapes of the two sets and a SHA-256 of the labels and of every 101st sample:
    enough to tell data sets apart in a few milliseconds (hashing every MNIST image would
    take a second). Checkpoints record it, so that a resume on other data is refused.

    Returns:
        ``{"train": shape of x_train, "test": shape of x_test, "sha256": hex digest}``.
    """
    h = hashlib.sha256()
    x_tr, x_te = np.asarray(x_train), np.asarray(x_test)
    for a in (x_tr[::101], np.asarray(t_train), x_te[::101], np.asarray(t_test)):
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return {"train": list(x_tr.shape), "test": list(x_te.shape), "sha256": h.hexdigest()}


def _plain(obj: Any) -> Any:
    """``obj`` with numpy arrays and scalars turned into lists and Python numbers (JSON)."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def _plain_dict(obj: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`_plain` of a mapping, with NaN and infinities as None (:func:`_json_safe`)."""
    out = _json_safe(_plain(obj))
    assert isinstance(out, dict)
    return out


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


@contextlib.contextmanager
def _atomic_write(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Write ``path`` through a temp file in its directory, renamed over it only on success.

    The temp file is :func:`tinygrad_fish.serialization.save`'s (created like any other,
    permissions from the umask, and locked while it is written), so the leftovers of a
    write killed midway are removed by the next write of ``path``, as checkpoints' are.
    """
    from .serialization import _fcntl, _open_temp, remove_stale_temp_files

    remove_stale_temp_files(path)
    fd, tmp = _open_temp(str(path))
    try:
        f: IO[Any]
        with (os.fdopen(fd, "wb") if "b" in mode else os.fdopen(fd, "w", encoding="utf-8")
              ) as f:
            yield f
            f.flush()
            if _fcntl is not None:  # POSIX: rename while open, so the lock covers the write
                os.replace(tmp, path)
        if _fcntl is None:  # pragma: no cover - Windows cannot rename an open file
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _import_matplotlib() -> tuple[Any, Any]:
    """matplotlib's ``Figure`` and Agg canvas (no pyplot, no display needed).

    Raises:
        MatplotlibNotFoundError: matplotlib is not installed.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise MatplotlibNotFoundError(
            f"drawing curves.png needs matplotlib, an optional dependency that is not "
            f"installed ({e}): {install_hint('matplotlib')}, or save_outputs(..., "
            "curves=False)"
        ) from e
    return Figure, FigureCanvasAgg


def _plot_curves(
    path: Path,
    losses: Sequence[float],
    epochs: Sequence[Mapping[str, Any]],
    final: Mapping[str, Any],
) -> None:
    """The book's two figures side by side: the loss per iteration (Fig. 4-11) and the train
    and test accuracy per epoch (Fig. 4-12). Drawn with the Agg canvas, no pyplot."""
    Figure, FigureCanvasAgg = _import_matplotlib()
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


#: The entries of :meth:`Trainer.metrics` (``extra`` may not use them).
_METRICS_KEYS = ("hyperparameters", "epochs", "final", "train_acc", "test_acc", "wall_time_s",
                 "loss")


class Trainer:
    """The book's training loop, on a network with the book's API.

    Args:
        network: ``gradient(x, t)``, ``loss(x, t)``, ``accuracy(x, t)`` and ``params``, as
            the book's networks (``TwoLayerNet``, ``MultiLayerNet``, ``SimpleConvNet``...).
            Checkpoints and :meth:`save_outputs` use its ``state_dict`` (else ``params``).
        x_train, t_train, x_test, t_test: the data; labels as indices or one-hot rows.
        epochs: how many passes over the training set (``max_iter = int(epochs *
            iter_per_epoch)`` iterations, ``iter_per_epoch = max(N / mini_batch_size, 1)``).
        mini_batch_size: samples per iteration, drawn with replacement.
        optimizer: a name (``'sgd'``, ``'momentum'``, ``'nesterov'``, ``'adagrad'``,
            ``'rmsprop'``, ``'adam'``, any case) built with ``optimizer_param``, or an
            :class:`~tinygrad_fish.optim.Optimizer`.
        optimizer_param: the optimizer's keyword arguments (default ``{'lr': 0.01}``).
        evaluate_sample_num_per_epoch: evaluate on the first this-many samples of each set
            (None: all), as the book.
        verbose: print the book's lines (the loss of every iteration, each epoch's
            accuracies, the final test accuracy).
        iters: the number of iterations, instead of ``epochs`` (the command line's
            ``--iters``).
        rng: a ``np.random.Generator`` for the batches; None uses ``np.random`` as the book
            (so ``np.random.seed`` repeats a run; checkpoints then save and restore the
            global state).
        loss_after_update: record the loss of a second forward pass after the update, as the
            book (True), or the loss of the step's own forward pass, before the update
            (False: no second forward pass, about a third of a step's cost; needs a network
            of the engine, with ``named_parameters``).
        eval_batch_size: predict this many samples at a time when evaluating (bounds the
            memory; the accuracies do not depend on it).
        progress: show a tqdm progress bar (``None``: only on a terminal).
        checkpoint: a path: when SIGINT or SIGTERM stops the run, write its state there
            (atomically) before raising :class:`TrainingInterrupted`.
        checkpoint_every: with ``checkpoint``, also write it before the first iteration,
            every this-many iterations and after the last (None: only when a signal stops
            the run, and after the last iteration of a run that has one on disk, e.g. one
            resumed, so that no checkpoint is left behind the run's end).
        on_epoch: called with each evaluation row (``{"iteration", "epoch", "train_acc",
            "test_acc"}``), after it is recorded.
        metadata: JSON-able data stored in checkpoints (as their ``config``) and in the
            default ``hyperparameters`` of :meth:`metrics` (e.g. the run's settings).

    Attributes:
        train_loss_list, train_acc_list, test_acc_list: as the book's.
        epochs_log: one row per evaluation, as given to ``on_epoch``.
        current_iter, current_epoch, max_iter, iter_per_epoch: as the book's.
        wall_time_s: the time spent in :meth:`train`, resumed runs included, in seconds.

    Raises:
        ValueError: an unknown optimizer name, a non-positive batch size or
            ``checkpoint_every``, a negative iteration count, or data and labels of
            different lengths.
        TypeError: ``loss_after_update=False`` with a network without ``named_parameters``.
    """

    def __init__(
        self,
        network: Any,
        x_train: Array,
        t_train: Array,
        x_test: Array,
        t_test: Array,
        epochs: float = 20,
        mini_batch_size: int = 100,
        optimizer: str | Optimizer = "SGD",
        optimizer_param: Mapping[str, Any] | None = None,
        evaluate_sample_num_per_epoch: int | None = None,
        verbose: bool = True,
        *,
        iters: int | None = None,
        rng: np.random.Generator | None = None,
        loss_after_update: bool = True,
        eval_batch_size: int | None = None,
        progress: bool | None = False,
        checkpoint: PathLike | None = None,
        checkpoint_every: int | None = None,
        on_epoch: Callable[[dict[str, Any]], None] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.network = network
        self.verbose = verbose
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        if len(x_train) != len(t_train) or len(x_test) != len(t_test):
            raise ValueError(
                f"Trainer: {len(x_train)} training samples but {len(t_train)} labels, "
                f"{len(x_test)} test samples but {len(t_test)} labels"
            )
        if isinstance(mini_batch_size, bool) or int(mini_batch_size) < 1:
            raise ValueError(f"Trainer: mini_batch_size must be >= 1, got {mini_batch_size}")
        if checkpoint_every is not None and (
            isinstance(checkpoint_every, bool) or int(checkpoint_every) < 1
        ):
            raise ValueError(f"Trainer: checkpoint_every must be >= 1 or None, got "
                             f"{checkpoint_every}")
        if not loss_after_update and not hasattr(network, "named_parameters"):
            raise TypeError(
                f"Trainer: loss_after_update=False takes the gradients from the loss's graph, "
                f"which needs a network of the engine (with named_parameters); "
                f"{type(network).__name__} has none: use loss_after_update=True"
            )
        self.epochs = epochs
        self.batch_size = int(mini_batch_size)
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        if isinstance(optimizer, Optimizer):
            self.optimizer = optimizer
        else:
            cls = OPTIMIZERS.get(str(optimizer).lower())
            if cls is None:
                raise ValueError(
                    f"Trainer: unknown optimizer {optimizer!r}; one of {sorted(OPTIMIZERS)}"
                )
            params = {"lr": 0.01} if optimizer_param is None else dict(optimizer_param)
            self.optimizer = cls(**params)
        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / self.batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch) if iters is None else int(iters)
        if self.max_iter < 0:
            raise ValueError(f"Trainer: the number of iterations must be >= 0, got "
                             f"{self.max_iter}")
        self.current_iter = 0
        self.current_epoch = 0
        self.train_loss_list: list[Any] = []
        self.train_acc_list: list[float] = []
        self.test_acc_list: list[float] = []
        self.epochs_log: list[dict[str, Any]] = []
        self.rng = rng
        self.loss_after_update = loss_after_update
        self.eval_batch_size = eval_batch_size
        self.progress = progress
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.checkpoint_every = None if checkpoint_every is None else int(checkpoint_every)
        self.on_epoch = on_epoch
        self.metadata = dict(metadata or {})
        self.wall_time_s = 0.0
        self._saved_at: int | None = None
        self._fingerprint: dict[str, Any] | None = None
        self._phase: str | None = "setting up"
        self._running: int | None = None
        # The final evaluation: {"iteration", "test_acc"} after train(), with "epoch" and
        # "train_acc" once final_metrics() has measured it.
        self._final: dict[str, Any] | None = None

    # --- one step, the book's -------------------------------------------------------------
    def _sample(self) -> Array:
        if self.rng is None:
            return np.random.choice(self.train_size, self.batch_size)
        return self.rng.choice(self.train_size, self.batch_size)

    def train_step(self) -> Any:
        """One iteration: a mini-batch, its gradients, the update, the loss; and, at the
        start of each epoch, the accuracies. Returns the loss recorded.

        Raises:
            TrainingDiverged: the loss is not finite (with ``loss_after_update=False`` the
                weights are not updated; with the book's order they already are).
        """
        batch_mask = self._sample()
        x_batch = self.x_train[batch_mask]
        t_batch = self.t_train[batch_mask]
        if self.loss_after_update:
            grads = self.network.gradient(x_batch, t_batch)
            self.optimizer.update(self.network.params, grads)
            loss = self.network.loss(x_batch, t_batch)
        else:
            loss, grads = self._loss_and_gradient(x_batch, t_batch)
            if not math.isfinite(float(loss)):
                raise self._diverged(f"the loss is {float(loss)}")
            self.optimizer.update(self.network.params, grads)
        value = float(loss)
        if not math.isfinite(value):
            raise self._diverged(f"the loss is {value}")
        self.train_loss_list.append(value)
        if self.verbose:
            print("train loss:" + str(loss))
        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            self._evaluate()
        self.current_iter += 1
        return value

    def _loss_and_gradient(self, x: Array, t: Array) -> tuple[float, dict[str, Array]]:
        """The loss of one forward pass and the gradients from it (no second forward).

        Like ``network.gradient(x, t)``, but it also returns the loss of that same forward
        pass; the gradients are fresh arrays in the parameters' dtypes, shared with nothing,
        so an optimizer may keep or modify them.
        """
        from .autograd import grad

        loss = self.network.loss(x, t)
        named = list(self.network.named_parameters())
        grads = grad(loss, [p for _, p in named], allow_unused=True)  # frees the graph
        out: dict[str, Array] = {}
        for (key, p), g in zip(named, grads, strict=True):
            a = np.zeros_like(p.data) if g is None else g.data
            out[key] = a if a.flags.owndata and a.dtype == p.data.dtype else a.astype(
                p.data.dtype)
        return float(loss.data), out

    def _lr(self) -> Any:
        return getattr(self.optimizer, "lr", "?")

    def _diverged(self, what: str) -> TrainingDiverged:
        what = f"{what} in iteration {self.current_iter + 1} of {self.max_iter}"
        return TrainingDiverged(
            f"training diverged: {what} (lr {self._lr()}); try a smaller learning rate",
            self.current_iter, what,
        )

    def _accuracy(self, x: Array, t: Array) -> float:
        if self.eval_batch_size is None:
            return float(self.network.accuracy(x, t))
        return float(self.network.accuracy(x, t, batch_size=self.eval_batch_size))

    def _evaluate(self) -> None:
        x_tr, t_tr, x_te, t_te = self.x_train, self.t_train, self.x_test, self.t_test
        n = self.evaluate_sample_num_per_epoch
        if n is not None:
            x_tr, t_tr, x_te, t_te = x_tr[:n], t_tr[:n], x_te[:n], t_te[:n]
        train_acc = self._accuracy(x_tr, t_tr)
        test_acc = self._accuracy(x_te, t_te)
        self.train_acc_list.append(train_acc)
        self.test_acc_list.append(test_acc)
        row = {"iteration": self.current_iter, "epoch": self.current_iter / self.iter_per_epoch,
               "train_acc": train_acc, "test_acc": test_acc}
        self.epochs_log.append(row)
        if self.verbose:
            print("=== epoch:" + str(self.current_epoch) + ", train acc:" + str(train_acc)
                  + ", test acc:" + str(test_acc) + " ===")
        if self.on_epoch is not None:
            self.on_epoch(row)

    # --- the loop -------------------------------------------------------------------------
    def train(self) -> float:
        """Run the iterations left (all of them, or those after a :meth:`resume`), then
        measure and return the final test accuracy (printed when ``verbose``, as the book).

        SIGINT and SIGTERM are deferred while the iterations run (see
        :func:`deferred_signals`): the first ends the iteration running, writes the
        checkpoint (with a checkpoint path) and raises TrainingInterrupted.

        Raises:
            TrainingDiverged: a loss or, at the end (or at a signal), a weight is not
                finite; no checkpoint of that state is written.
            TrainingInterrupted: SIGINT or SIGTERM stopped the run (the checkpoint, with a
                checkpoint path, is written).
            CheckpointError: a checkpoint cannot be written (the previous one is intact).
        """
        start = time.perf_counter()
        wall_before = self.wall_time_s
        self._running = None
        self._final = None
        every = self.checkpoint_every if self.checkpoint is not None else None
        bar = self._bar()
        try:
            # NaN and infinities are caught by the checks on the loss and the weights, which
            # stop the run with one exception; numpy's RuntimeWarnings would only precede it.
            with deferred_signals() as received, np.errstate(over="ignore", invalid="ignore",
                                                             divide="ignore"):
                if every and self._saved_at is None:
                    self._phase = "writing the first checkpoint"
                    self._write_checkpoint(start, wall_before)
                self._phase = None
                while self.current_iter < self.max_iter:
                    self._running = self.current_iter
                    self.train_step()
                    if bar is not None:
                        bar.update(1)
                        if self.current_iter % 50 == 0 or self.current_iter == self.max_iter:
                            recent = self.train_loss_list[-50:]
                            bar.set_postfix(loss=f"{sum(recent) / len(recent):.4f}",
                                            refresh=False)
                    if received:
                        self._stop(received[0], start, wall_before)
                    if every and self.current_iter % every == 0:
                        self._write_checkpoint(start, wall_before)
                self._running = None
                self._phase = "writing the last checkpoint"
                self._check_finite_weights()
                # A checkpoint on disk (written, or resumed from) is brought up to the end:
                # one left behind would make a second resume train its last part again.
                on_disk = every or self._saved_at is not None
                if on_disk and self._saved_at != self.current_iter:
                    self._write_checkpoint(start, wall_before)
                if received:  # arrived after the last iteration's check
                    self._stop(received[0], start, wall_before)
            if bar is not None:
                bar.close()
                bar = None
            self._phase = "evaluating the trained network"
            test_acc = self._final_test_accuracy()
            self._phase = None
        finally:
            if bar is not None:
                bar.close()
            self.wall_time_s = wall_before + (time.perf_counter() - start)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc))
        return test_acc

    def _stop(self, signum: int, start: float, wall_before: float) -> None:
        """A signal arrived: write the checkpoint (of finite weights) and raise."""
        self._running = None
        self._phase = "writing the last checkpoint"
        self._check_finite_weights()
        if self.checkpoint is not None and self._saved_at != self.current_iter:
            self._write_checkpoint(start, wall_before)
        name = signal.Signals(signum).name
        saved = f"; saved {self.checkpoint}" if self.checkpoint is not None else ""
        self._phase = None
        raise TrainingInterrupted(
            f"interrupted ({name}) after iteration {self.current_iter} of {self.max_iter}"
            f"{saved}", signum, self.current_iter, self.checkpoint)

    def _bar(self) -> Any:
        if self.progress is False:
            return None
        tqdm = import_optional("tqdm.auto", "the Trainer's progress bar").tqdm
        return tqdm(total=self.max_iter, initial=self.current_iter, desc="train", unit="it",
                    dynamic_ncols=True, disable=None if self.progress is None else False)

    def _check_finite_weights(self) -> None:
        bad = [k for k, v in self.network.params.items() if not np.isfinite(v).all()]
        if bad:
            what = (f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} no longer finite "
                    f"after iteration {self.current_iter}")
            raise TrainingDiverged(
                f"training diverged: {what} (lr {self._lr()}); try a smaller learning rate",
                self.current_iter, what)

    @property
    def status(self) -> str:
        """Where the run is, for a message about an error that stopped it: ``"in iteration
        5 of 10"``, ``"while writing the first checkpoint"`` (or the last one), ``"while
        evaluating the trained network"``, ``"while writing the outputs"``, or ``"after
        iteration 10 of 10"``."""
        if self._running is not None:
            return f"in iteration {self._running + 1} of {self.max_iter}"
        if self._phase is not None:
            return f"while {self._phase}"
        return f"after iteration {self.current_iter} of {self.max_iter}"

    @property
    def saved_iteration(self) -> int | None:
        """The iteration of the checkpoint on disk (written or resumed by this trainer), or
        None if there is none."""
        return self._saved_at

    # --- the final evaluation and the outputs ----------------------------------------------
    def _evaluates_whole_sets(self) -> bool:
        n = self.evaluate_sample_num_per_epoch
        return n is None or (n >= len(self.x_train) and n >= len(self.x_test))

    def _last_row_at(self, iteration: int) -> dict[str, Any] | None:
        """The epoch row measured after ``iteration`` on the whole sets, if there is one."""
        if self.epochs_log and self.epochs_log[-1]["iteration"] == iteration and \
                self._evaluates_whole_sets():
            return dict(self.epochs_log[-1])
        return None

    def _final_test_accuracy(self) -> float:
        """The book's final ``network.accuracy(x_test, t_test)``: the last epoch row's, when
        it was measured on the same weights and the whole test set (the same number)."""
        it = self.current_iter - 1
        row = self._last_row_at(it)
        test_acc = row["test_acc"] if row is not None else self._accuracy(self.x_test,
                                                                          self.t_test)
        self._final = row if row is not None else {"iteration": it, "test_acc": test_acc}
        return float(test_acc)

    def final_metrics(self) -> dict[str, Any]:
        """The trained network's accuracies on the whole training and test sets, and the
        last loss: ``{"iteration", "epoch", "train_acc", "test_acc", "loss"}``, where
        ``iteration`` is the 0-based index of the last iteration run (-1 if none).

        Measured once per state (the last epoch's row when it was measured there on the
        whole sets, as the command line's ``final`` line and ``metrics.json`` report).
        """
        it = self.current_iter - 1
        if self._final is None or self._final["iteration"] != it or \
                "train_acc" not in self._final:
            phase, self._phase = self._phase, "evaluating the trained network"
            row = self._last_row_at(it)
            if row is None:
                known = self._final if self._final and self._final["iteration"] == it else {}
                train_acc = self._accuracy(self.x_train, self.t_train)
                test_acc = known.get("test_acc")
                if test_acc is None:
                    test_acc = self._accuracy(self.x_test, self.t_test)
                row = {"iteration": it, "epoch": it / self.iter_per_epoch,
                       "train_acc": train_acc, "test_acc": test_acc}
            self._final = row
            self._phase = phase
        loss = self.train_loss_list[-1] if self.train_loss_list else None
        return {**self._final, "loss": None if loss is None else float(loss)}

    def hyperparameters(self) -> dict[str, Any]:
        """The run's settings, as :meth:`metrics` reports them by default: the network and
        optimizer classes, ``lr``, ``batch_size``, ``iters``, ``iter_per_epoch``,
        ``loss_after_update``, updated with ``metadata``."""
        lr = getattr(self.optimizer, "lr", None)
        return _plain_dict({
            "network": type(self.network).__name__,
            "optimizer": type(self.optimizer).__name__,
            "lr": lr if isinstance(lr, int | float | np.number) else None,
            "batch_size": self.batch_size,
            "iters": self.max_iter,
            "iter_per_epoch": self.iter_per_epoch,
            "loss_after_update": self.loss_after_update,
            **self.metadata,
        })

    def metrics(
        self,
        *,
        hyperparameters: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        max_loss_points: int = MAX_LOSS_POINTS,
    ) -> dict[str, Any]:
        """The run's record, as ``metrics.json`` holds it (JSON-able; NaN and infinities
        become None).

        Entries: ``extra``'s first, then ``hyperparameters`` (default
        :meth:`hyperparameters`), ``epochs`` (the evaluation rows), ``final`` and its
        ``train_acc`` and ``test_acc`` (:meth:`final_metrics`), ``wall_time_s``, and
        ``loss``: ``{"note", "every", "values"}``, the loss of every ``every``-th iteration
        (at most about ``max_loss_points`` values).

        Raises:
            ValueError: ``extra`` uses one of the entries above, or ``max_loss_points < 1``.
        """
        clash = sorted(set(extra or {}) & set(_METRICS_KEYS))
        if clash:
            raise ValueError(f"Trainer.metrics: extra may not set {', '.join(clash)}")
        if isinstance(max_loss_points, bool) or max_loss_points < 1:
            raise ValueError(f"Trainer.metrics: max_loss_points must be >= 1, got "
                             f"{max_loss_points}")
        final = self.final_metrics()
        every = max(1, math.ceil(self.max_iter / max_loss_points))
        which = ("loss after each iteration's update (a second forward pass, as the book)"
                 if self.loss_after_update else
                 "loss of each step's forward pass (before its update)")
        doc: dict[str, Any] = dict(extra or {})
        doc.update({
            "hyperparameters": dict(hyperparameters) if hyperparameters is not None
            else self.hyperparameters(),
            "epochs": [dict(r) for r in self.epochs_log],
            "final": final,
            "train_acc": final["train_acc"],
            "test_acc": final["test_acc"],
            "wall_time_s": self.wall_time_s,
            "loss": {
                "note": f"{which}, every {every} iterations: values[k] is iteration "
                f"k*{every}",
                "every": every,
                "values": [float(v) for v in self.train_loss_list[::every]],
            },
        })
        return _plain_dict(doc)

    def save_outputs(
        self,
        out_dir: PathLike,
        *,
        hyperparameters: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        curves: bool = True,
    ) -> dict[str, Path]:
        """Write the run's outputs into ``out_dir`` (created if needed), each atomically (a
        temporary file renamed over the old one): ``model.npz``, the network's weights
        (:func:`tinygrad_fish.serialization.save`, no pickle); ``metrics.json``, the
        :meth:`metrics` (``hyperparameters`` and ``extra`` go there), strict JSON (never
        ``NaN`` or ``Infinity``); and, with ``curves``, ``curves.png``, the book's loss and
        accuracy figures (matplotlib, imported here).

        Returns:
            ``{"model": path, "metrics": path, "curves": path}`` (no ``"curves"`` without
            ``curves``).

        Raises:
            MatplotlibNotFoundError: ``curves`` and matplotlib is missing (nothing is
                written).
            ValueError: ``extra`` uses an entry of :meth:`metrics`.
            OSError: a file cannot be written (ModelFileError for ``model.npz``).
        """
        from .serialization import save

        out = Path(out_dir)
        if curves:
            _import_matplotlib()
        doc = self.metrics(hyperparameters=hyperparameters, extra=extra)
        final = self.final_metrics()
        phase, self._phase = self._phase, "writing the outputs"
        paths = {"model": out / "model.npz", "metrics": out / "metrics.json"}
        out.mkdir(parents=True, exist_ok=True)
        # A Module saves its state dict (parameters and buffers); else the book's params.
        has_state = callable(getattr(self.network, "state_dict", None))
        save(self.network if has_state else self.network.params, paths["model"])
        with _atomic_write(paths["metrics"], "w") as f:
            json.dump(doc, f, indent=1, allow_nan=False)
            f.write("\n")
        if curves:
            paths["curves"] = out / "curves.png"
            _plot_curves(paths["curves"], self.train_loss_list, self.epochs_log, final)
        self._phase = phase
        return paths

    # --- checkpoints ----------------------------------------------------------------------
    def _network_state(self) -> dict[str, Array]:
        """A copy of the network's state dict (its parameters and buffers), else of its
        ``params``."""
        if callable(getattr(self.network, "state_dict", None)):
            return dict(self.network.state_dict())
        return {k: np.array(v, copy=True) for k, v in self.network.params.items()}

    def _load_network_state(self, state: Mapping[str, Array]) -> None:
        if callable(getattr(self.network, "load_state_dict", None)):
            self.network.load_state_dict(state)
            return
        params = self.network.params
        if set(state) != set(params):
            raise KeyError(f"the arrays {sorted(state)}, the network's are {sorted(params)}")
        for k, v in state.items():
            if np.shape(params[k]) != v.shape or np.asarray(params[k]).dtype != v.dtype:
                raise ValueError(f"{k} is {v.dtype} {v.shape}, the network's "
                                 f"{np.asarray(params[k]).dtype} {np.shape(params[k])}")
        for k, v in state.items():
            params[k][...] = v

    def _rng_state(self) -> dict[str, Any]:
        """The batch sampler's state, JSON-able: the Generator's ``bit_generator.state``,
        or the global ``np.random.get_state(legacy=False)``."""
        if self.rng is not None:
            return _plain_dict(self.rng.bit_generator.state)
        state = np.random.get_state(legacy=False)
        assert isinstance(state, dict)
        return _plain_dict(state)

    def _set_rng_state(self, state: Mapping[str, Any]) -> None:
        name = state.get("bit_generator")
        if self.rng is not None:
            own = self.rng.bit_generator.state["bit_generator"]
            if name != own or "has_gauss" in state:
                what = "the global np.random's" if "has_gauss" in state else f"a {name}"
                raise ValueError(f"{what} generator state, the trainer's rng is a {own}")
            self.rng.bit_generator.state = dict(state)
        else:
            if name != "MT19937" or "has_gauss" not in state:
                raise ValueError(f"a {name} Generator's state, the trainer samples with the "
                                 "global np.random (pass that Generator as rng=)")
            np.random.set_state(dict(state))

    def fingerprint(self) -> dict[str, Any]:
        """The :func:`data_fingerprint` of the trainer's data (computed once)."""
        if self._fingerprint is None:
            self._fingerprint = data_fingerprint(self.x_train, self.t_train, self.x_test,
                                                 self.t_test)
        return self._fingerprint

    def _write_checkpoint(self, start: float, wall_before: float) -> None:
        from .checkpoint import Checkpoint, CheckpointError, save_checkpoint

        assert self.checkpoint is not None
        ckpt = Checkpoint(
            iteration=self.current_iter,
            params=self._network_state(),
            optimizer=self.optimizer.state_dict(),
            rng_state=self._rng_state(),
            losses=np.array(self.train_loss_list, dtype=np.float64),
            epochs=[dict(r) for r in self.epochs_log],
            config=self.metadata,
            data=self.fingerprint(),
            wall_time_s=wall_before + (time.perf_counter() - start),
        )
        try:
            save_checkpoint(self.checkpoint, ckpt)  # atomic: the previous one survives
        except OSError as e:
            raise CheckpointError(f"cannot write the checkpoint {self.checkpoint}: {e}",
                                  self.checkpoint) from e
        self._saved_at = self.current_iter

    def resume(self, path: PathLike | None = None, *,
               checkpoint: Checkpoint | None = None) -> None:
        """Continue the run saved in the checkpoint ``path`` (default: the trainer's
        ``checkpoint``): weights, optimizer state, batch sampler (the Generator's, or the
        global ``np.random`` state), losses, accuracies and wall time. :meth:`train` then
        runs the iterations left, and ends with the weights of the uninterrupted run, bit
        for bit. A trainer without a checkpoint path takes ``path`` as its own.

        Args:
            path: the checkpoint file.
            checkpoint: the checkpoint already read from ``path`` (by
                :func:`~tinygrad_fish.checkpoint.load_checkpoint`), not read again.

        Raises:
            ValueError: no ``path`` and no checkpoint path in the trainer.
            CheckpointError: the file is missing, corrupt, or does not fit this trainer:
                other data (by :func:`data_fingerprint`), more iterations done than
                ``max_iter``, another network, optimizer or kind of batch sampler. The
                trainer is then left as it was.
        """
        from .checkpoint import CheckpointError, load_checkpoint

        p = Path(path) if path is not None else self.checkpoint
        if p is None:
            raise ValueError("Trainer.resume: no checkpoint path given")
        ckpt = checkpoint if checkpoint is not None else load_checkpoint(p)
        if ckpt.data != self.fingerprint():
            raise CheckpointError(
                f"cannot resume {p}: the data now differ from the data the run was trained on",
                p)
        if ckpt.iteration > self.max_iter:
            raise CheckpointError(
                f"cannot resume {p}: it is at iteration {ckpt.iteration}, past the "
                f"{self.max_iter} iterations of this trainer", p)
        before = (self._network_state(), copy.deepcopy(self.optimizer.state_dict()),
                  self._rng_state())
        try:
            self._load_network_state(ckpt.params)
            self.optimizer.load_state_dict(ckpt.optimizer)
            self._set_rng_state(ckpt.rng_state)
        except (KeyError, ValueError, TypeError, OverflowError, TinygradFishError) as e:
            self._load_network_state(before[0])
            self.optimizer.load_state_dict(before[1])
            self._set_rng_state(before[2])
            text = " ".join(str(e).split()) or type(e).__name__
            raise CheckpointError(f"{p} does not fit this trainer: {text}", p) from e
        self.current_iter = ckpt.iteration
        self.train_loss_list = ckpt.losses.tolist()
        self.epochs_log = [dict(r) for r in ckpt.epochs]
        self.train_acc_list = [r["train_acc"] for r in self.epochs_log]
        self.test_acc_list = [r["test_acc"] for r in self.epochs_log]
        self.current_epoch = len(self.epochs_log)
        self.wall_time_s = ckpt.wall_time_s
        self._saved_at = ckpt.iteration
        self._final = None
        if self.checkpoint is None:
            self.checkpoint = p
