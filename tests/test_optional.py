"""Optional dependencies (tinygrad_fish._optional): each missing one, simulated by
``sys.modules[name] = None``, raises MissingDependencyError (an ImportError) naming what
needs it and the pip command of its extra."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from support import assert_one_line_error

from tinygrad_fish.errors import MissingDependencyError, TinygradFishError


def hide(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def test_testing_without_hypothesis(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "hypothesis", "hypothesis.strategies", "hypothesis.extra",
         "hypothesis.extra.numpy")
    monkeypatch.delitem(sys.modules, "tinygrad_fish.testing", raising=False)
    with pytest.raises(MissingDependencyError) as info:
        importlib.import_module("tinygrad_fish.testing")
    assert str(info.value).startswith(
        "tinygrad_fish.testing needs hypothesis, an optional dependency that is not installed")
    assert str(info.value).endswith(
        "pip install 'tinygrad-fish[testing]' (or pip install hypothesis)")
    assert isinstance(info.value, ImportError) and isinstance(info.value, TinygradFishError)


def test_viz_without_the_graphviz_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinygrad_fish import viz
    from tinygrad_fish.viz import render

    hide(monkeypatch, "graphviz")
    with pytest.raises(viz.GraphvizNotFoundError,
                       match=r"pip install 'tinygrad-fish\[viz\]' \(or pip install graphviz\)"
                       ) as info:
        render._import_graphviz()
    assert isinstance(info.value, MissingDependencyError)


def test_trainer_curves_without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinygrad_fish import trainer

    hide(monkeypatch, "matplotlib", "matplotlib.figure", "matplotlib.backends",
         "matplotlib.backends.backend_agg")
    with pytest.raises(trainer.MatplotlibNotFoundError,
                       match=r"drawing curves.png needs matplotlib, an optional dependency "
                       r".*pip install 'tinygrad-fish\[cli\]' .*curves=False") as info:
        trainer._import_matplotlib()
    assert isinstance(info.value, MissingDependencyError)


def test_train_without_threadpoolctl_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinygrad_fish.cli import main

    hide(monkeypatch, "threadpoolctl")
    code = main(["train", "--iters", "1", "--out", str(tmp_path / "o"), "--data",
                 str(tmp_path), "--no-download"])
    _, err = capsys.readouterr()
    assert code == 2
    assert_one_line_error(err, "train (to set its BLAS thread count, --threads) needs "
                          "threadpoolctl", "pip install 'tinygrad-fish[cli]'")


def test_downloads_without_tqdm_show_no_bar_unless_asked(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinygrad_fish.datasets import mnist

    hide(monkeypatch, "tqdm", "tqdm.auto")
    with mnist._progress(10, "x", None) as bar:
        bar.update(5)  # a bar that shows nothing
    with pytest.raises(MissingDependencyError, match=r"progress=True.*tinygrad-fish\[cli\]"), \
            mnist._progress(10, "x", True):
        pass
