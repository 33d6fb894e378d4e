"""Tests of the library's training loop, tinygrad_fish.trainer.Trainer, on tiny synthetic data
(200 samples of 784 features, 10 classes; a TwoLayerNet with 20 hidden units).

The book's semantics (its prints, lists and random draws, against a hand-written book loop),
checkpoint and resume (bit for bit, with a seeded Generator and with the global np.random
state), signals, divergence, the outputs (model.npz, strict-JSON metrics.json, curves.png)
and the refusals. The command line's use of it is tested in test_cli.py and
test_checkpoint.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinygrad_fish.checkpoint import CheckpointError, load_checkpoint
from tinygrad_fish.nn import SimpleConvNet, TwoLayerNet
from tinygrad_fish.optim import SGD, Adam
from tinygrad_fish.serialization import load
from tinygrad_fish.trainer import (
    MatplotlibNotFoundError,
    Trainer,
    TrainingDiverged,
    TrainingInterrupted,
    data_fingerprint,
    deferred_signals,
)

N_TRAIN, N_TEST, HIDDEN, BATCH = 200, 60, 20, 50  # iter_per_epoch = 4


def make_data(seed: int = 0) -> tuple[np.ndarray, ...]:
    """Images in [0, 1) (float32, as load_mnist's) whose label is the brightest of ten
    pixel groups, so the net learns; one-hot float32 labels."""
    rng = np.random.default_rng(seed)
    x = rng.random((N_TRAIN + N_TEST, 784), dtype=np.float32)
    labels = x[:, :780].reshape(-1, 10, 78).sum(axis=2).argmax(axis=1)
    t = np.eye(10, dtype=np.float32)[labels]
    return x[:N_TRAIN], t[:N_TRAIN], x[N_TRAIN:], t[N_TRAIN:]


DATA = make_data()


@contextlib.contextmanager
def global_seed(seed: int) -> Iterator[None]:
    """Seed np.random (as the book's scripts do) and put its state back afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def weights(net: TwoLayerNet) -> dict[str, bytes]:
    return {k: v.tobytes() for k, v in net.params.items()}


def seeded_trainer(iters: int, *, seed: int = 0, optimizer: Any = None,
                   cls: type[Trainer] = Trainer, **kw: Any) -> Trainer:
    """The command line's kind of trainer: seeded weights and batches, the loss before the
    update."""
    net = TwoLayerNet(784, HIDDEN, 10, seed=seed)
    return cls(net, *DATA, mini_batch_size=BATCH, iters=iters, verbose=False,
                   optimizer=optimizer if optimizer is not None else Adam(lr=0.01),
                   rng=np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0]),
                   loss_after_update=False, **kw)


# --------------------------------------------------------------------------- the book's loop


def book_loop(epochs: int, lr: float) -> tuple[str, list[float], list[float], list[float]]:
    """The book's common/trainer.py Trainer (SGD), written out: what it prints and lists."""
    x_train, t_train, x_test, t_test = DATA
    net = TwoLayerNet(784, HIDDEN, 10)  # np.random.randn, as the book's
    out = io.StringIO()
    losses: list[float] = []
    train_accs: list[float] = []
    test_accs: list[float] = []
    iter_per_epoch = max(N_TRAIN / BATCH, 1)
    epoch = 0
    with contextlib.redirect_stdout(out):
        for i in range(int(epochs * iter_per_epoch)):
            mask = np.random.choice(N_TRAIN, BATCH)
            grads = net.gradient(x_train[mask], t_train[mask])
            for key in ("W1", "b1", "W2", "b2"):
                net.params[key] -= lr * grads[key]
            loss = net.loss(x_train[mask], t_train[mask])
            losses.append(float(loss))
            print("train loss:" + str(loss))
            if i % iter_per_epoch == 0:
                epoch += 1
                train_acc = net.accuracy(x_train, t_train)
                test_acc = net.accuracy(x_test, t_test)
                train_accs.append(train_acc)
                test_accs.append(test_acc)
                print("=== epoch:" + str(epoch) + ", train acc:" + str(train_acc)
                      + ", test acc:" + str(test_acc) + " ===")
        test_acc = net.accuracy(x_test, t_test)
        print("=============== Final Test Accuracy ===============")
        print("test acc:" + str(test_acc))
    return out.getvalue(), losses, train_accs, test_accs


def test_the_books_arguments_print_and_list_what_the_books_loop_does() -> None:
    with global_seed(3):
        want = book_loop(epochs=3, lr=0.1)
        after_book = np.random.get_state(legacy=False)
    with global_seed(3):
        net = TwoLayerNet(784, HIDDEN, 10)
        trainer = Trainer(net, *DATA, epochs=3, mini_batch_size=BATCH, optimizer="sgd",
                          optimizer_param={"lr": 0.1})
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            final = trainer.train()
        after_trainer = np.random.get_state(legacy=False)
    stdout, losses, train_accs, test_accs = want
    assert out.getvalue() == stdout
    assert stdout.count("=== epoch:") == 3 and "test acc:" in stdout.splitlines()[-1]
    assert trainer.train_loss_list == losses and len(losses) == 12
    assert trainer.train_acc_list == train_accs
    assert trainer.test_acc_list == test_accs
    assert final == float(stdout.splitlines()[-1].removeprefix("test acc:"))
    # The same random draws: the global state ends where the book's loop leaves it.
    assert after_trainer["state"]["pos"] == after_book["state"]["pos"]
    assert np.array_equal(after_trainer["state"]["key"], after_book["state"]["key"])
    assert [r["iteration"] for r in trainer.epochs_log] == [0, 4, 8]
    assert trainer.current_epoch == 3 and trainer.current_iter == trainer.max_iter == 12


def test_evaluate_sample_num_per_epoch_evaluates_the_first_samples() -> None:
    net = TwoLayerNet(784, HIDDEN, 10, seed=1)
    trainer = Trainer(net, *DATA, mini_batch_size=BATCH, iters=1, verbose=False,
                      evaluate_sample_num_per_epoch=30, rng=np.random.default_rng(0))
    trainer.train()
    x_train, t_train, x_test, t_test = DATA
    assert trainer.train_acc_list == [net.accuracy(x_train[:30], t_train[:30])]
    assert trainer.test_acc_list == [net.accuracy(x_test[:30], t_test[:30])]
    # The final measurement is on the whole sets.
    final = trainer.final_metrics()
    assert final["train_acc"] == net.accuracy(x_train, t_train)
    assert final["test_acc"] == net.accuracy(x_test, t_test)


@pytest.mark.parametrize(
    ("kwargs", "error", "needle"),
    [
        ({"optimizer": "lbfgs"}, ValueError, "Trainer: unknown optimizer 'lbfgs'; one of "
         "['adagrad', 'adam', 'momentum', 'nesterov', 'rmsprop', 'sgd']"),
        ({"mini_batch_size": 0}, ValueError, "Trainer: mini_batch_size must be >= 1, got 0"),
        ({"checkpoint_every": 0}, ValueError,
         "Trainer: checkpoint_every must be >= 1 or None, got 0"),
        ({"iters": -1}, ValueError, "Trainer: the number of iterations must be >= 0, got -1"),
    ],
    ids=["optimizer", "batch", "checkpoint-every", "iters"],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception], needle: str) -> None:
    with pytest.raises(error) as info:
        Trainer(TwoLayerNet(784, HIDDEN, 10, seed=0), *DATA, **kwargs)
    assert str(info.value) == needle


def test_optimizer_names_are_case_insensitive() -> None:
    trainer = Trainer(TwoLayerNet(784, HIDDEN, 10, seed=0), *DATA, optimizer="AdaM",
                      optimizer_param={"lr": 0.5})
    assert isinstance(trainer.optimizer, Adam) and trainer.optimizer.lr == 0.5


def test_labels_of_another_length_are_refused() -> None:
    x_train, t_train, x_test, t_test = DATA
    with pytest.raises(ValueError, match=r"^Trainer: 200 training samples but 199 labels, 60 "
                       r"test samples but 60 labels$"):
        Trainer(TwoLayerNet(784, HIDDEN, 10, seed=0), x_train, t_train[:-1], x_test, t_test)


def test_loss_after_update_false_needs_an_engine_network() -> None:
    class NumpyNet:  # the book's own numpy networks have no graph to take gradients from
        def __init__(self) -> None:
            self.params: dict[str, np.ndarray] = {}

    with pytest.raises(TypeError, match=r"loss_after_update=False takes the gradients from the "
                       r"loss's graph.*NumpyNet has none: use loss_after_update=True"):
        Trainer(NumpyNet(), *DATA, loss_after_update=False)


# --------------------------------------------------------------------------- checkpoints


def assert_same_run(got: Trainer, want: Trainer) -> None:
    assert weights(got.network) == weights(want.network)
    assert got.train_loss_list == want.train_loss_list
    assert got.epochs_log == want.epochs_log
    assert got.train_acc_list == want.train_acc_list
    assert got.test_acc_list == want.test_acc_list
    assert got.current_iter == want.current_iter and got.current_epoch == want.current_epoch
    so, sw = got.optimizer.state_dict(), want.optimizer.state_dict()
    assert so["scalars"] == sw["scalars"]
    for attr, slot in sw["slots"].items():
        assert (slot is None) == (so["slots"][attr] is None)
        for key, a in (slot or {}).items():
            assert so["slots"][attr][key].tobytes() == a.tobytes(), (attr, key)


def test_checkpoint_and_resume_with_a_generator_is_the_uninterrupted_run(
    tmp_path: Path,
) -> None:
    want = seeded_trainer(11)
    want.train()
    path = tmp_path / "ckpt.npz"
    first = seeded_trainer(6, checkpoint=path, checkpoint_every=4)
    first.train()
    ckpt = load_checkpoint(path)
    assert ckpt.iteration == 6 and first.saved_iteration == 6  # written after the last too
    assert ckpt.data == data_fingerprint(*DATA)
    assert ckpt.rng_state == first.rng.bit_generator.state  # type: ignore[union-attr]

    # Another seed for the new network and sampler: the checkpoint's state replaces both.
    resumed = seeded_trainer(11, seed=9, checkpoint=path, checkpoint_every=4)
    resumed.resume()
    assert resumed.current_iter == 6 and resumed.saved_iteration == 6
    resumed.train()
    assert_same_run(resumed, want)
    assert load_checkpoint(path).iteration == 11


def test_a_convnet_checkpoint_resumes_bit_for_bit(tmp_path: Path) -> None:
    """SimpleConvNet (as ``train --network simple-convnet``, on 12x12 crops): image-shaped
    data, four weight arrays more, Adam's slots for all of them; the per-epoch evaluation on
    the first samples only, as the book's train_convnet.py."""
    x_train, t_train, x_test, t_test = DATA
    images = [x.reshape(-1, 1, 28, 28)[:, :, 8:20, 8:20] for x in (x_train, x_test)]

    def trainer(iters: int, **kw: Any) -> Trainer:
        net = SimpleConvNet((1, 12, 12), {"filter_num": 4, "filter_size": 5, "pad": 0,
                                          "stride": 1}, hidden_size=8, seed=3)
        return Trainer(net, images[0], t_train, images[1], t_test, mini_batch_size=BATCH,
                       iters=iters, verbose=False, optimizer=Adam(lr=0.01),
                       rng=np.random.default_rng(5), loss_after_update=False,
                       evaluate_sample_num_per_epoch=30, **kw)

    want = trainer(9)
    want.train()
    path = tmp_path / "ckpt.npz"
    trainer(5, checkpoint=path, checkpoint_every=2).train()
    assert sorted(load_checkpoint(path).params) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    resumed = trainer(9, checkpoint=path)
    resumed.resume()
    resumed.train()
    assert_same_run(resumed, want)
    assert [len(r) for r in (want.train_acc_list, want.test_acc_list)] == [3, 3]  # 0, 4, 8


def test_checkpoint_and_resume_with_the_global_random_state(tmp_path: Path) -> None:
    """The book's way (rng=None, np.random.seed, the loss after the update): the checkpoint
    holds the global np.random state, and resume puts it back."""

    def book_trainer(iters: int, seed: int, **kw: Any) -> Trainer:
        net = TwoLayerNet(784, HIDDEN, 10)  # np.random.randn
        return Trainer(net, *DATA, mini_batch_size=BATCH, iters=iters, optimizer="momentum",
                       verbose=False, **kw)

    with global_seed(5):
        want = book_trainer(10, 5)
        want.train()
        want_state = np.random.get_state(legacy=False)
    path = tmp_path / "ckpt.npz"
    with global_seed(5):
        book_trainer(7, 5, checkpoint=path, checkpoint_every=3).train()
    ckpt = load_checkpoint(path)
    assert ckpt.iteration == 7
    assert ckpt.rng_state["bit_generator"] == "MT19937" and "has_gauss" in ckpt.rng_state
    with global_seed(1234):  # another state: resume must restore the checkpoint's
        resumed = book_trainer(10, 1234, checkpoint=path)
        resumed.resume()
        resumed.train()
        state = np.random.get_state(legacy=False)
    assert_same_run(resumed, want)
    assert state["state"]["pos"] == want_state["state"]["pos"]
    assert np.array_equal(state["state"]["key"], want_state["state"]["key"])


def test_without_checkpoint_every_a_checkpoint_is_written_only_at_a_signal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ckpt.npz"
    trainer = seeded_trainer(5, checkpoint=path)
    trainer.train()
    assert not path.exists() and trainer.saved_iteration is None


class SignalAt(Trainer):
    """A trainer that raises ``signals`` to itself in iteration ``at`` (0-based)."""

    at = 4
    signals: tuple[int, ...] = (signal.SIGINT,)

    def _sample(self) -> np.ndarray:
        if self.current_iter == self.at:
            for sig in self.signals:
                signal.raise_signal(sig)
        return super()._sample()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_ends_the_iteration_saves_and_raises_then_resume_completes(
    tmp_path: Path, sig: signal.Signals
) -> None:
    want = seeded_trainer(9)
    want.train()
    path = tmp_path / "ckpt.npz"
    stopped = seeded_trainer(9, checkpoint=path,
                             cls=type("SignalHere", (SignalAt,), {"signals": (sig,)}))
    handler = signal.getsignal(sig)
    with pytest.raises(TrainingInterrupted) as info:
        stopped.train()
    e = info.value
    assert str(e) == f"interrupted ({sig.name}) after iteration 5 of 9; saved {path}"
    assert (e.signum, e.completed, e.checkpoint) == (sig, 5, path)
    assert isinstance(e, KeyboardInterrupt)
    assert signal.getsignal(sig) is handler  # restored
    assert load_checkpoint(path).iteration == 5 == stopped.current_iter

    resumed = seeded_trainer(9, seed=4, checkpoint=path)
    resumed.resume()
    resumed.train()
    assert_same_run(resumed, want)


def test_a_second_signal_stops_at_once(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.npz"
    stopped = seeded_trainer(9, checkpoint=path, cls=type("TwoSignals", (SignalAt,),
                                                          {"signals": (signal.SIGINT,) * 2}))
    with pytest.raises(KeyboardInterrupt) as info:
        stopped.train()
    assert type(info.value) is KeyboardInterrupt  # not TrainingInterrupted: no checkpoint
    assert not path.exists()


def test_nested_deferred_signals_share_the_outer_list() -> None:
    handler = signal.getsignal(signal.SIGINT)
    with deferred_signals() as outer:
        signal.raise_signal(signal.SIGINT)
        with deferred_signals() as inner:
            assert inner is outer and outer == [signal.SIGINT]
        assert signal.getsignal(signal.SIGINT) is not handler  # still the outer block's
    assert signal.getsignal(signal.SIGINT) is handler


# --------------------------------------------------------------------------- divergence


def test_a_loss_that_is_not_finite_raises_before_the_update(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.npz"
    trainer = seeded_trainer(10, optimizer=SGD(lr=1e308), checkpoint=path, checkpoint_every=1)
    seen: list[dict[str, bytes]] = []
    real = trainer._loss_and_gradient

    def step(x: np.ndarray, t: np.ndarray) -> Any:
        seen.append(weights(trainer.network))
        return real(x, t)

    trainer._loss_and_gradient = step  # type: ignore[method-assign]
    with pytest.raises(TrainingDiverged) as info:
        trainer.train()
    e = info.value
    assert str(e) == ("training diverged: the loss is nan in iteration 2 of 10 (lr 1e+308); "
                      "try a smaller learning rate")
    assert e.what == "the loss is nan in iteration 2 of 10" and e.iteration == 1
    assert isinstance(e, FloatingPointError)
    assert weights(trainer.network) == seen[-1]  # the diverged step did not update
    assert trainer.train_loss_list == [trainer.train_loss_list[0]]
    assert load_checkpoint(path).iteration == 1  # the last finite state, not the NaN one


def test_weights_that_stop_being_finite_raise_at_the_end() -> None:
    trainer = seeded_trainer(5)

    def poison(row: dict[str, Any]) -> None:  # the loss of the last iteration stays finite
        if row["iteration"] == 4:
            trainer.network.params["b2"][0] = np.inf

    trainer.on_epoch = poison
    with pytest.raises(TrainingDiverged) as info:
        trainer.train()
    assert str(info.value) == ("training diverged: b2 is no longer finite after iteration 5 "
                               "(lr 0.01); try a smaller learning rate")
    assert info.value.iteration == 5


# --------------------------------------------------------------------------- outputs


def strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_save_outputs_writes_the_model_strict_json_metrics_and_curves(tmp_path: Path) -> None:
    trainer = seeded_trainer(6, metadata={"run": "test"})
    trainer.train()
    out = tmp_path / "new" / "run"  # made
    paths = trainer.save_outputs(out, extra={"command": "script", "odd": float("nan")})
    assert paths == {"model": out / "model.npz", "metrics": out / "metrics.json",
                     "curves": out / "curves.png"}
    assert sorted(p.name for p in out.iterdir()) == ["curves.png", "metrics.json", "model.npz"]
    assert (out / "curves.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    m = strict_json((out / "metrics.json").read_text())
    assert list(m)[:2] == ["command", "odd"] and m["odd"] is None  # NaN: null, not NaN
    assert m["hyperparameters"] == {
        "network": "TwoLayerNet", "optimizer": "Adam", "lr": 0.01, "batch_size": BATCH,
        "iters": 6, "iter_per_epoch": 4.0, "loss_after_update": False, "run": "test",
    }
    assert m["epochs"] == trainer.epochs_log and [r["iteration"] for r in m["epochs"]] == [0, 4]
    x_train, t_train, x_test, t_test = DATA
    net = trainer.network
    assert m["final"] == {"iteration": 5, "epoch": 1.25,
                          "train_acc": net.accuracy(x_train, t_train),
                          "test_acc": net.accuracy(x_test, t_test),
                          "loss": trainer.train_loss_list[-1]}
    assert (m["train_acc"], m["test_acc"]) == (m["final"]["train_acc"], m["final"]["test_acc"])
    assert m["loss"]["every"] == 1 and m["loss"]["values"] == trainer.train_loss_list
    assert "before its update" in m["loss"]["note"]
    assert m["wall_time_s"] == trainer.wall_time_s > 0

    fresh = TwoLayerNet(784, HIDDEN, 10, seed=7)
    load(out / "model.npz", into=fresh)
    assert weights(fresh) == weights(net)


def test_metrics_thin_the_losses_and_refuse_their_own_entries_in_extra() -> None:
    trainer = seeded_trainer(9)
    trainer.train()
    m = trainer.metrics(max_loss_points=4)
    assert m["loss"]["every"] == 3 and m["loss"]["values"] == trainer.train_loss_list[::3]
    assert m["loss"]["note"].endswith("every 3 iterations: values[k] is iteration k*3")
    with pytest.raises(ValueError, match=r"^Trainer\.metrics: extra may not set epochs, final$"):
        trainer.metrics(extra={"final": 1, "epochs": 2})


def test_final_metrics_reuse_the_last_epochs_row_when_measured_there() -> None:
    trainer = seeded_trainer(5)  # iteration 4 is an epoch's
    trainer.train()
    calls: list[int] = []
    real = trainer._accuracy

    def counted(x: np.ndarray, t: np.ndarray) -> float:
        calls.append(len(x))
        return real(x, t)

    trainer._accuracy = counted  # type: ignore[method-assign]
    final = trainer.final_metrics()
    assert calls == []
    assert {k: final[k] for k in ("iteration", "epoch", "train_acc", "test_acc")} == \
        trainer.epochs_log[-1]


def test_save_outputs_removes_what_a_killed_write_of_its_files_left(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    left = [out / ".metrics.json.0123456789ab.tmp", out / ".curves.png.ba9876543210.tmp",
            out / ".model.npz.00000000ffff.tmp"]
    for p in left:  # what a SIGKILL between the temp file's creation and its rename leaves
        p.write_bytes(b"half a file")
    mine = out / "notes.tmp"  # not a temp file of ours: kept
    mine.write_text("keep")
    trainer = seeded_trainer(2)
    trainer.train()
    trainer.save_outputs(out)
    assert sorted(p.name for p in out.iterdir()) == [
        "curves.png", "metrics.json", "model.npz", "notes.tmp"]


def test_save_outputs_without_matplotlib_says_so_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trainer = seeded_trainer(2)
    trainer.train()
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    with pytest.raises(MatplotlibNotFoundError) as info:
        trainer.save_outputs(tmp_path / "out")
    assert str(info.value).startswith(
        "drawing curves.png needs matplotlib, an optional dependency that is not installed (")
    assert "pip install 'tinygrad-fish[cli]'" in str(info.value)
    assert str(info.value).endswith("(or pip install matplotlib), or save_outputs(..., "
                                    "curves=False)")
    assert isinstance(info.value, ImportError)
    assert not (tmp_path / "out").exists()
    paths = trainer.save_outputs(tmp_path / "out", curves=False)
    assert sorted(paths) == ["metrics", "model"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["metrics.json", "model.npz"]


def test_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    seeded_trainer(3, progress=True).train()
    err = capsys.readouterr().err
    assert "train: 100%" in err and "3/3" in err


# --------------------------------------------------------------------------- refusals


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A checkpoint of seeded_trainer(6) (Adam) after iteration 6."""
    path = tmp_path / "ckpt.npz"
    seeded_trainer(6, checkpoint=path, checkpoint_every=6).train()
    return path


def assert_refused(trainer: Trainer, path: Path, needle: str) -> None:
    before = weights(trainer.network), trainer.optimizer.state_dict()["scalars"]
    with pytest.raises(CheckpointError) as info:
        trainer.resume(path)
    assert str(info.value) == needle
    assert info.value.path == str(path)
    assert (weights(trainer.network), trainer.optimizer.state_dict()["scalars"]) == before
    assert trainer.current_iter == 0 and trainer.train_loss_list == []


def test_resume_refuses_other_data(saved: Path) -> None:
    x_train, t_train, x_test, t_test = DATA
    other = x_train.copy()
    other[0, 0] += 0.5  # sample 0 is one of the fingerprint's (every 101st)
    trainer = Trainer(TwoLayerNet(784, HIDDEN, 10, seed=0), other, t_train, x_test, t_test,
                      mini_batch_size=BATCH, iters=6, optimizer=Adam(lr=0.01),
                      rng=np.random.default_rng(0), verbose=False)
    assert_refused(trainer, saved, f"cannot resume {saved}: the data now differ from the data "
                   "the run was trained on")


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: seeded_trainer(6, optimizer=SGD(lr=0.01)),
         "does not fit this trainer: the saved optimizer state is a Adam's, not a SGD's"),
        (lambda: Trainer(TwoLayerNet(784, 30, 10, seed=0), *DATA, iters=6, verbose=False,
                         optimizer=Adam(lr=0.01), rng=np.random.default_rng(0)),
         "does not fit this trainer: TwoLayerNet.load_state_dict: 'W1' has shape (784, 20) "
         "in the state dict but (784, 30) in the module"),
        (lambda: Trainer(TwoLayerNet(784, HIDDEN, 10, seed=0), *DATA, iters=6, verbose=False,
                         optimizer=Adam(lr=0.01)),
         "does not fit this trainer: a PCG64 Generator's state, the trainer samples with "
         "the global np.random (pass that Generator as rng=)"),
        (lambda: seeded_trainer(5), "it is at iteration 6, past the 5 iterations of this "
         "trainer"),
    ],
    ids=["optimizer", "network", "global-rng", "past-iters"],
)
def test_resume_refuses_a_checkpoint_that_does_not_fit(
    saved: Path, make: Callable[[], Trainer], needle: str
) -> None:
    trainer = make()
    with pytest.raises(CheckpointError) as info:
        trainer.resume(saved)
    assert str(info.value).startswith(f"{saved} " if "fit" in needle else
                                      f"cannot resume {saved}: ")
    assert needle in str(info.value)
    assert_refused(make(), saved, str(info.value))


def test_resume_without_a_path() -> None:
    with pytest.raises(ValueError, match=r"^Trainer\.resume: no checkpoint path given$"):
        seeded_trainer(3).resume()
