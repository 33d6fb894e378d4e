"""tf.save and tf.load: PyTorch's names for tinygrad_fish.serialization."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_fish as tf
from tinygrad_fish.nn import TwoLayerNet
from tinygrad_fish.serialization import ModelFileError


def test_save_load_a_state_dict_of_tensors_and_arrays(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    state = {"W": tf.randn(3, 2, generator=np.random.default_rng(0)), "b": np.zeros(2)}
    tf.save(state, path)
    back = tf.load(path)
    assert sorted(back) == ["W", "b"]
    np.testing.assert_array_equal(back["W"], state["W"].data)
    assert isinstance(back["W"], np.ndarray) and back["W"].dtype == np.float64


def test_load_into_a_module(tmp_path: Path) -> None:
    net = TwoLayerNet(4, 3, 2, seed=0)
    tf.save(net, tmp_path / "net.npz")
    other = TwoLayerNet(4, 3, 2, seed=1)
    tf.load(tmp_path / "net.npz", into=other)
    for (name, p), (_, q) in zip(net.named_parameters(), other.named_parameters(),
                                 strict=True):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)


def test_load_refuses_what_is_not_a_model_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match=r"junk\.npz"):
        tf.load(path)


def test_import_tinygrad_fish_does_not_import_serialization() -> None:
    code = "import sys, tinygrad_fish; print('tinygrad_fish.serialization' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
