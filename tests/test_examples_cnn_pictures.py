"""examples/cnn_pictures.py draws docs/cnn.md's pictures: the graph and the filters."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT.parent / "shared" / "book"


def test_cnn_pictures(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the filter pictures need matplotlib ([cli])")
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz 'dot' program is not installed")
    spec = importlib.util.spec_from_file_location("cnn_pictures",
                                                  ROOT / "examples" / "cnn_pictures.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    written = mod.main(tmp_path, BOOK)
    names = [p.name for p in written]
    expected = ["simple_convnet.svg", "filters_init.png"]
    if (BOOK / "ch07" / "params.pkl").exists():
        expected.append("filters_trained.png")
    assert names == expected
    svg = (tmp_path / "simple_convnet.svg").read_text()
    for layer in ("Conv1", "Relu1", "Pool1", "Affine1", "Affine2", "SoftmaxWithLoss"):
        assert layer in svg
    for name in expected[1:]:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
