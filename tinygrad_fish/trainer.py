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
- ``checkpoint=PATH`` (and ``checkpoint_every=N``): the whole state of the run (weights,
  optimizer, batch sampler, losses, accuracies) is written atomically every N iterations
  and when the run stops; :meth:`Trainer.resume` continues it, and the resumed run ends
  with the weights of the uninterrupted one, bit for bit (at the same BLAS thread count);
- SIGINT and SIGTERM (Ctrl-C) end the current iteration, write the checkpoint and raise
  :class:`TrainingInterrupted`; a second one stops at once;
- a loss or weight that stops being finite raises :class:`TrainingDiverged` naming the
  iteration, before the update that would spread it;
- ``progress=True`` shows a tqdm bar; ``on_epoch`` is called with each evaluation row;
- :meth:`Trainer.save_outputs` writes ``model.npz``, ``metrics.json`` and ``curves.png``.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import TinygradFishError
from .optim import OPTIMIZERS, Optimizer

__all__ = ["Trainer", "TrainingDiverged", "TrainingInterrupted"]

Array = npt.NDArray[Any]
PathLike = str | Path


class TrainingDiverged(TinygradFishError, FloatingPointError):
    """The loss (or, after the last iteration, a weight) is NaN or infinite: training stops
    before the update that would spread it. ``iteration`` is the 0-based iteration."""

    def __init__(self, message: str, iteration: int) -> None:
        super().__init__(message)
        self.iteration = iteration


class TrainingInterrupted(TinygradFishError, KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: the iteration running was finished and, with a checkpoint
    path, the checkpoint written. ``signum`` is the signal, ``completed`` the iterations
    done."""

    def __init__(self, message: str, signum: int, completed: int) -> None:
        super().__init__(message)
        self.signum = signum
        self.completed = completed


@contextlib.contextmanager
def deferred_signals() -> Iterator[list[int]]:
    """Defer SIGINT and SIGTERM inside the block: the first one is only recorded (in the
    list yielded), for the loop to stop at the end of its iteration with every array
    consistent; a second one raises KeyboardInterrupt at once. Signals ignored before stay
    ignored. Off the main thread (where handlers cannot be set) nothing changes."""
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


def data_fingerprint(*arrays: Array) -> dict[str, Any]:
    """Shapes and a SHA-256 of the labels and every 101st sample: enough to tell data sets
    apart in a few milliseconds (checkpoints record it, so a resume on other data is
    refused)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.asarray(a)
        part = a[::101] if a.ndim > 1 else a
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(np.ascontiguousarray(part).tobytes())
    return {"shapes": [list(np.shape(a)) for a in arrays], "sha256": h.hexdigest()}


class Trainer:
    """The book's training loop, on a network with the book's API.

    Args:
        network: ``gradient(x, t)``, ``loss(x, t)``, ``accuracy(x, t)`` and ``params``, as
            the book's networks (``TwoLayerNet``, ``MultiLayerNet``, ``SimpleConvNet``...).
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
            (so ``np.random.seed`` repeats a run).
        loss_after_update: record the loss of a second forward pass after the update, as the
            book (True), or the loss of the step's own forward pass, before the update
            (False: no second forward pass, about a third of a step's cost).
        eval_batch_size: predict this many samples at a time when evaluating (bounds the
            memory; the accuracies do not depend on it).
        progress: show a tqdm progress bar (``None``: only on a terminal).
        checkpoint: a path: write the run's state there (atomically) every
            ``checkpoint_every`` iterations, before the first and after the last, and when
            a signal stops it.
        checkpoint_every: see ``checkpoint`` (None: only at the start, the end and signals).
        on_epoch: called with each evaluation row (``{"iteration", "epoch", "train_acc",
            "test_acc"}``), after it is recorded.
        metadata: JSON-able data stored in checkpoints and metrics (e.g. hyperparameters).

    Attributes:
        train_loss_list, train_acc_list, test_acc_list: as the book's.
        epochs_log: one row per evaluation, as given to ``on_epoch``.
        current_iter, current_epoch, max_iter, iter_per_epoch: as the book's.

    Raises:
        ValueError: an unknown optimizer name, a non-positive batch size or iteration count,
            or train data and labels of different lengths.
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
        self.checkpoint_every = checkpoint_every
        self.on_epoch = on_epoch
        self.metadata = dict(metadata or {})
        self.wall_time_s = 0.0
        self._saved_at: int | None = None
        self._fingerprint: dict[str, Any] | None = None

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
        """The loss of one forward pass and the gradients from it (no second forward)."""
        from .autograd import grad

        loss = self.network.loss(x, t)
        named = [(k, p) for k, p in self.network.named_parameters()]
        grads = grad(loss, [p for _, p in named], allow_unused=True)
        out: dict[str, Array] = {}
        for (key, p), g in zip(named, grads, strict=True):
            a = np.zeros_like(p.data) if g is None else g.data
            out[key] = a if a.flags.owndata and a.dtype == p.data.dtype else a.astype(
                p.data.dtype)
        return float(loss.data), out

    def _diverged(self, what: str) -> TrainingDiverged:
        return TrainingDiverged(
            f"training diverged: {what} in iteration {self.current_iter + 1} of "
            f"{self.max_iter} (lr {getattr(self.optimizer, 'lr', '?')}); try a smaller "
            "learning rate", self.current_iter,
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

        Raises:
            TrainingDiverged: a loss or, at the end, a weight is not finite.
            TrainingInterrupted: SIGINT or SIGTERM stopped the run (the checkpoint, with a
                checkpoint path, is written).
        """
        start = time.perf_counter()
        wall_before = self.wall_time_s
        bar = self._bar()
        try:
            with deferred_signals() as received, np.errstate(over="ignore", invalid="ignore",
                                                             divide="ignore"):
                if self.checkpoint is not None and self._saved_at is None:
                    self._write_checkpoint(start, wall_before)
                while self.current_iter < self.max_iter:
                    loss = self.train_step()
                    if bar is not None:
                        bar.update(1)
                        if self.current_iter % 50 == 0 or self.current_iter == self.max_iter:
                            recent = self.train_loss_list[-50:]
                            bar.set_postfix(loss=f"{sum(recent) / len(recent):.4f}",
                                            refresh=False)
                    del loss
                    every = self.checkpoint_every
                    if received:
                        if self.checkpoint is not None:
                            self._write_checkpoint(start, wall_before)
                        name = signal.Signals(received[0]).name
                        raise TrainingInterrupted(
                            f"interrupted ({name}) after iteration {self.current_iter} of "
                            f"{self.max_iter}", received[0], self.current_iter)
                    if self.checkpoint is not None and every and \
                            self.current_iter % every == 0:
                        self._write_checkpoint(start, wall_before)
                self._check_finite_weights()
                if self.checkpoint is not None and self._saved_at != self.current_iter:
                    self._write_checkpoint(start, wall_before)
        finally:
            if bar is not None:
                bar.close()
            self.wall_time_s = wall_before + (time.perf_counter() - start)
        test_acc = self._accuracy(self.x_test, self.t_test)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc))
        return test_acc

    def _bar(self) -> Any:
        if self.progress is False:
            return None
        from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]

        return tqdm(total=self.max_iter, initial=self.current_iter, desc="train", unit="it",
                    dynamic_ncols=True, disable=None if self.progress is None else False)

    def _check_finite_weights(self) -> None:
        bad = [k for k, v in self.network.params.items() if not np.isfinite(v).all()]
        if bad:
            raise TrainingDiverged(
                f"training diverged: {', '.join(bad)} {'is' if len(bad) == 1 else 'are'} no "
                f"longer finite after iteration {self.current_iter} (lr "
                f"{getattr(self.optimizer, 'lr', '?')}); try a smaller learning rate",
                self.current_iter)

    # --- checkpoints ----------------------------------------------------------------------
    def _rng_state(self) -> dict[str, Any]:
        if self.rng is not None:
            return dict(self.rng.bit_generator.state)
        state = np.random.get_state(legacy=False)
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in
                state.items()} if isinstance(state, dict) else {}

    def _set_rng_state(self, state: Mapping[str, Any]) -> None:
        if self.rng is not None:
            if state.get("bit_generator") != self.rng.bit_generator.state["bit_generator"]:
                raise ValueError(f"a {state.get('bit_generator')} generator state, the "
                                 f"trainer's is {self.rng.bit_generator.state['bit_generator']}")
            self.rng.bit_generator.state = dict(state)
        else:
            s = dict(state)
            inner = dict(s["state"])
            inner["key"] = np.asarray(inner["key"], dtype=np.uint32)
            s["state"] = inner
            np.random.set_state(s)

    def fingerprint(self) -> dict[str, Any]:
        """The :func:`data_fingerprint` of the trainer's data (computed once)."""
        if self._fingerprint is None:
            self._fingerprint = data_fingerprint(self.x_train, self.t_train, self.x_test,
                                                 self.t_test)
        return self._fingerprint

    def _write_checkpoint(self, start: float, wall_before: float) -> None:
        from .checkpoint import Checkpoint, save_checkpoint

        assert self.checkpoint is not None
        ckpt = Checkpoint(
            iteration=self.current_iter,
            params=self.network.state_dict(),
            optimizer=self.optimizer.state_dict(),
            rng_state=self._rng_state(),
            losses=np.array(self.train_loss_list, dtype=np.float64),
            epochs=[dict(r) for r in self.epochs_log],
            config=self.metadata,
            data=self.fingerprint(),
            wall_time_s=wall_before + (time.perf_counter() - start),
        )
        save_checkpoint(self.checkpoint, ckpt)  # atomic: the previous one survives a failure
        self._saved_at = self.current_iter

    def resume(self, path: PathLike | None = None) -> None:
        """Continue the run saved in the checkpoint ``path`` (default: the trainer's
        ``checkpoint``): weights, optimizer state, batch sampler, losses and accuracies.

        Raises:
            CheckpointError: the file is missing, corrupt, or does not fit this trainer
                (another network or optimizer, other data).
        """
        from .checkpoint import CheckpointError, load_checkpoint

        p = Path(path) if path is not None else self.checkpoint
        if p is None:
            raise ValueError("Trainer.resume: no checkpoint path given")
        ckpt = load_checkpoint(p)
        if ckpt.data and ckpt.data != self.fingerprint():
            raise CheckpointError(
                f"cannot resume {p}: the data now differ from the data the run was trained on",
                p)
        try:
            self.network.load_state_dict(ckpt.params)
            self.optimizer.load_state_dict(ckpt.optimizer)
            self._set_rng_state(ckpt.rng_state)
        except (KeyError, ValueError, TypeError, OverflowError, TinygradFishError) as e:
            raise CheckpointError(f"{p} does not fit the run it describes: {e}", p) from e
        self.current_iter = ckpt.iteration
        self.train_loss_list = ckpt.losses.tolist()
        self.epochs_log = [dict(r) for r in ckpt.epochs]
        self.train_acc_list = [r["train_acc"] for r in self.epochs_log]
        self.test_acc_list = [r["test_acc"] for r in self.epochs_log]
        self.current_epoch = len(self.epochs_log)
        self.wall_time_s = ckpt.wall_time_s
        self._saved_at = ckpt.iteration
        if self.checkpoint is None:
            self.checkpoint = p
