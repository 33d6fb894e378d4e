"""The custom-op example works as documented, and its op passes the property checks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from hypothesis import given

from tinygrad_fish.testing import arrays, assert_grad_matches, assert_gradgrad_matches

_spec = importlib.util.spec_from_file_location(
    "custom_op", Path(__file__).parents[1] / "examples" / "custom_op.py"
)
assert _spec is not None and _spec.loader is not None
custom_op = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(custom_op)


@given(arrays(min_value=-10, max_value=10))
def test_softplus_gradient(x):
    assert_grad_matches(custom_op.softplus, x)


@given(arrays())
def test_softplus_second_derivative(x):
    assert_gradgrad_matches(custom_op.softplus, x)


def test_softplus_values_and_main_runs(capsys):
    from tinygrad_fish import Tensor

    np.testing.assert_allclose(custom_op.softplus(Tensor([0.0, 1000.0])).data,
                               [np.log(2.0), 1000.0])
    custom_op.main()
    out = capsys.readouterr().out
    assert "gradcheck: True" in out and "gradgradcheck: True" in out
