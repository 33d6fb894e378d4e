"""A notebook that displays a graph and a backward animation inline, executed by nbconvert
(the Jupyter kernel runs it as a person would)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CELL = """\
import os, sys
sys.path.insert(0, {repo!r})
from IPython.display import display
from tinygrad_fish import Tensor
from tinygrad_fish.viz import animate_backward, draw_graph
a = Tensor([1.0, 2.0], requires_grad=True, name="a")
b = Tensor([3.0, 4.0], requires_grad=True, name="b")
loss = (a * b + a).sum()
display(draw_graph(loss))
anim = animate_backward(loss)
anim
"""


def test_notebook_shows_a_graph_and_an_animation_inline() -> None:
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed")
    nbclient = pytest.importorskip("nbconvert.preprocessors",
                                   reason="nbconvert is not installed")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed")
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz 'dot' program is not installed")
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(CELL.format(repo=str(REPO))))
    ep = nbclient.ExecutePreprocessor(timeout=120, kernel_name="python3")
    env_before = dict(os.environ)
    try:
        ep.preprocess(nb, {"metadata": {"path": str(REPO)}})
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data", "execute_result"]
    assert "<svg" in outputs[0].data["image/svg+xml"] and "mul" in outputs[0].data[
        "image/svg+xml"]
    page = outputs[1].data["text/html"]
    assert page.count('class="tf-frame"') == 3 and "MulBackward" in page
