"""The book's scripts (ch03-ch08), imports changed only, print what the book's own code
prints.

Each test runs one script of the book's repository (``../shared/book``; skipped with a
reason when it is absent) twice under the same seed: the book's code, and the same script
with its imports rewritten by docs/book-api.md's map (``tests/book_scripts.py``). The two
outputs, printed numbers and digests of every plotted array, must be identical. Long runs
are scaled down by replacing one literal in both copies alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from book_scripts import make_copies, run, substitute
from support import book_root, mnist_root

_LOAD_IMAGES = "(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)"
_SUBSET = ("; x_train, t_train = x_train[:500], t_train[:500]"
           "; x_test, t_test = x_test[:500], t_test[:500]")

#: script -> the literals replaced in both copies to scale the run down
SCRIPTS: dict[str, list[tuple[str, str]]] = {
    "ch03/mnist_show.py": [],
    "ch03/neuralnet_mnist.py": [],
    "ch03/neuralnet_mnist_batch.py": [],
    "ch04/gradient_simplenet.py": [],
    "ch04/train_neuralnet.py": [("iters_num = 10000", "iters_num = 601")],
    "ch05/gradient_check.py": [],
    "ch05/train_neuralnet.py": [("iters_num = 10000", "iters_num = 601")],
    "ch06/batch_norm_gradient_check.py": [("hidden_size_list=[100, 100]",
                                           "hidden_size_list=[10, 10]")],
    "ch06/batch_norm_test.py": [("max_epochs = 20", "max_epochs = 2"),
                                ("np.logspace(0, -4, num=16)", "np.logspace(0, -4, num=3)")],
    "ch06/hyperparameter_optimization.py": [("optimization_trial = 100",
                                             "optimization_trial = 3"),
                                            ("epocs=50", "epocs=2")],
    "ch06/optimizer_compare_mnist.py": [("max_iterations = 2000", "max_iterations = 201")],
    "ch06/optimizer_compare_naive.py": [],
    "ch06/overfit_dropout.py": [("epochs=301", "epochs=3")],
    "ch06/overfit_weight_decay.py": [("max_epochs = 201", "max_epochs = 3")],
    "ch06/weight_init_compare.py": [("max_iterations = 2000", "max_iterations = 201")],
    "ch07/apply_filter.py": [],
    "ch07/gradient_check.py": [],
    "ch07/visualize_filter.py": [],
    "ch07/train_convnet.py": [(_LOAD_IMAGES, _LOAD_IMAGES + _SUBSET),
                              ("max_epochs = 20", "max_epochs = 2")],
    "ch08/half_float_network.py": [("sampled = 10000", "sampled = 300")],
    "ch08/misclassified_mnist.py": [("#sampled = 1000", "sampled = 500"),
                                    ("#x_test = x_test[:sampled]", "x_test = x_test[:sampled]"),
                                    ("#t_test = t_test[:sampled]", "t_test = t_test[:sampled]")],
    # last: it overwrites deep_convnet_params.pkl, which the two before load
    "ch08/train_deepnet.py": [(_LOAD_IMAGES, _LOAD_IMAGES + _SUBSET),
                              ("epochs=20", "epochs=2")],
}


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    book = book_root()
    mnist_root()  # skips (or fails on CI) without the real MNIST
    return make_copies(book, tmp_path_factory.mktemp("book_scripts"))


@pytest.mark.slow
@pytest.mark.parametrize("script", list(SCRIPTS))
def test_book_script_prints_the_books_numbers(script: str, copies: tuple[Path, Path]) -> None:
    theirs, ours = copies
    for root in copies:
        substitute(root, script, SCRIPTS[script])
    want = run(theirs, script)
    got = run(ours, script)
    assert want.strip(), f"the book's {script} printed nothing"
    assert got == want
