"""The book's scripts in examples/ run on tinygrad_fish with only their imports changed.

``examples/train_neuralnet.py`` and ``examples/gradient_check.py`` keep the fish book's code
text; these tests check that (against the loop quoted in /work/shared/seed, the book's
ch05 text) and run the training loop on real MNIST for fewer iterations: the test replaces
the text ``iters_num = 10000`` in the source it executes, and nothing in the script reads
anything but the book's variables.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


@contextlib.contextmanager
def global_numpy_seed(seed: int) -> Iterator[None]:
    """The book's scripts use ``np.random``; seed it and put its state back afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def require_mnist() -> None:
    if not os.environ.get("TINYGRAD_FISH_DATA"):
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail("CI is set but TINYGRAD_FISH_DATA is not; it must point at MNIST")
        pytest.skip("TINYGRAD_FISH_DATA is not set")


def code_lines(source: str) -> list[str]:
    """The lines of a script that are neither imports nor comments nor blank."""
    return [
        ln.rstrip() for ln in source.splitlines()
        if ln.strip() and not ln.lstrip().startswith(("#", "import ", "from ", "sys.path"))
    ]


# The book's ch05/train_neuralnet.py, as quoted in the seed text (tinygrad_fish's
# /work/shared/seed/fishbook-two-layer-net.txt): its code lines, imports left out.
BOOK_TRAIN_NEURALNET = """\
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
iters_num = 10000
train_size = x_train.shape[0]
batch_size = 100
learning_rate = 0.1
train_loss_list = []
train_acc_list = []
test_acc_list = []
iter_per_epoch = max(train_size / batch_size, 1)
for i in range(iters_num):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]
    grad = network.gradient(x_batch, t_batch)
    for key in ('W1', 'b1', 'W2', 'b2'):
        network.params[key] -= learning_rate * grad[key]
    loss = network.loss(x_batch, t_batch)
    train_loss_list.append(loss)
    if i % iter_per_epoch == 0:
        train_acc = network.accuracy(x_train, t_train)
        test_acc = network.accuracy(x_test, t_test)
        train_acc_list.append(train_acc)
        test_acc_list.append(test_acc)
        print(train_acc, test_acc)
"""

# The book's ch05/gradient_check.py: its code lines, imports left out.
BOOK_GRADIENT_CHECK = """\
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
x_batch = x_train[:3]
t_batch = t_train[:3]
grad_numerical = network.numerical_gradient(x_batch, t_batch)
grad_backprop = network.gradient(x_batch, t_batch)
for key in grad_numerical.keys():
    diff = np.average( np.abs(grad_backprop[key] - grad_numerical[key]) )
    print(key + ":" + str(diff))
"""

BOOK_IMPORTS = [
    "import numpy as np",
    "from tinygrad_fish.datasets import load_mnist",
    "from tinygrad_fish.nn import TwoLayerNet",
]


@pytest.mark.parametrize(
    ("name", "book"),
    [("train_neuralnet.py", BOOK_TRAIN_NEURALNET), ("gradient_check.py", BOOK_GRADIENT_CHECK)],
)
def test_examples_are_the_books_code_with_only_the_imports_changed(name: str, book: str) -> None:
    source = (EXAMPLES / name).read_text(encoding="utf-8")
    assert code_lines(source) == book.splitlines()
    imports = [ln for ln in source.splitlines() if ln.startswith(("import ", "from "))]
    assert imports == BOOK_IMPORTS


def test_the_seed_text_quotes_the_same_loop() -> None:
    """Our copy of the book's loop above matches the seed text, where that file is around."""
    seed = REPO.parent / "shared" / "seed" / "fishbook-two-layer-net.txt"
    if not seed.is_file():
        pytest.skip("the seed text is not on this machine")
    text = seed.read_text(encoding="utf-8")
    loop = text[text.index("# 读入数据"):text.index("原文地址")]
    assert code_lines(loop) == BOOK_TRAIN_NEURALNET.splitlines()


@pytest.mark.slow
def test_book_training_loop_learns_mnist() -> None:
    """The book's loop, imports changed only, run for 1,000 iterations instead of 10,000."""
    require_mnist()
    source = (EXAMPLES / "train_neuralnet.py").read_text(encoding="utf-8")
    assert source.count("iters_num = 10000\n") == 1
    source = source.replace("iters_num = 10000\n", "iters_num = 1000\n")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    stdout = io.StringIO()
    with global_numpy_seed(0), contextlib.redirect_stdout(stdout):
        exec(compile(source, str(EXAMPLES / "train_neuralnet.py"), "exec"), namespace)

    # The book prints train and test accuracy at i = 0 and i = 600.
    printed = [tuple(map(float, ln.split())) for ln in stdout.getvalue().splitlines()]
    assert len(printed) == 2
    assert printed[0][0] < 0.3 and printed[1][0] > 0.85 and printed[1][1] > 0.85
    assert namespace["train_acc_list"] == [p[0] for p in printed]
    assert namespace["test_acc_list"] == [p[1] for p in printed]

    losses = namespace["train_loss_list"]
    assert len(losses) == 1000
    assert float(losses[0]) > 2.0 and np.mean([float(v) for v in losses[-100:]]) < 0.5

    network, x_test, t_test = namespace["network"], namespace["x_test"], namespace["t_test"]
    assert network.accuracy(x_test, t_test) > 0.90
    assert network.accuracy(namespace["x_train"], namespace["t_train"]) > 0.90


def test_gradient_check_prints_the_books_lines() -> None:
    """gradient_check.py on a tiny stand-in for MNIST (the real one is the CLI's slow test):
    four ``key:diff`` lines, each difference tiny."""
    rng = np.random.default_rng(0)
    x = rng.random((3, 784)).astype(np.float32)
    t = np.eye(10, dtype=np.float32)[[3, 1, 4]]

    def fake_load_mnist(**kwargs: Any) -> Any:
        assert kwargs == {"normalize": True, "one_hot_label": True}
        return (x, t), (x, t)

    source = (EXAMPLES / "gradient_check.py").read_text(encoding="utf-8")
    # Run the book's code with a smaller hidden layer and the stand-in data: the import of
    # load_mnist is the one line that differs from the book's anyway.
    source = source.replace("from tinygrad_fish.datasets import load_mnist\n", "")
    source = source.replace("hidden_size=50", "hidden_size=5")
    namespace: dict[str, Any] = {"load_mnist": fake_load_mnist}
    stdout = io.StringIO()
    with global_numpy_seed(0), contextlib.redirect_stdout(stdout):
        exec(compile(source, str(EXAMPLES / "gradient_check.py"), "exec"), namespace)
    lines = stdout.getvalue().splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["W1", "b1", "W2", "b2"]
    for ln in lines:
        assert re.fullmatch(r"\w+:[0-9.e+-]+", ln)
        assert float(ln.split(":")[1]) < 1e-8


@pytest.mark.slow
def test_optimizer_compare_draws_four_curves(tmp_path: Path) -> None:
    """examples/optimizer_compare_mnist.py for 30 iterations: the four optimizers' losses
    (all falling below the starting ~2.3) and the PNG."""
    require_mnist()
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "optimizer_compare_mnist", EXAMPLES / "optimizer_compare_mnist.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "compare.png"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert module.main([str(out), "--iters", "30"]) == 0
    assert out.read_bytes().startswith(b"\x89PNG")
    text = stdout.getvalue()
    assert "===========iteration:0===========" in text
    losses = module.compare(5, 0, None)
    assert list(losses) == ["SGD", "Momentum", "AdaGrad", "Adam"]
    assert all(len(v) == 5 for v in losses.values())
    assert len(module.smooth_curve(losses["Adam"])) == 5
