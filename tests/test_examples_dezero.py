"""The DeZero examples (step 34's sin derivatives, Newton's method) run and are right."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sin_derivatives_match_the_closed_form(capsys: pytest.CaptureFixture[str]) -> None:
    ds = _load("step34_sin_derivatives").main()
    assert ds.shape == (4, 200)
    x = np.linspace(-7, 7, 200)
    for k in range(4):  # sin, cos, -sin, -cos
        np.testing.assert_allclose(ds[k], np.sin(x + k * np.pi / 2), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(ds[0], np.sin(x))
    out = capsys.readouterr().out
    assert out.count("order ") == 4 and "order 3: max |autograd - sin(x + 3 pi/2)|" in out


def test_higher_orders_too() -> None:
    ds = _load("step34_sin_derivatives").sin_derivatives(np.array([0.0, 1.0, 2.5]), 6)
    x = np.array([0.0, 1.0, 2.5])
    expected = np.stack([np.sin(x + k * np.pi / 2) for k in range(7)])
    np.testing.assert_allclose(ds, expected, rtol=0, atol=1e-14)


def test_newton_iterates_are_newtons_and_converge_to_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    xs = _load("newton_method").main()
    assert len(xs) == 11 and xs[0] == 2.0
    x = 2.0
    for got in xs[1:]:  # by hand: f' = 4x^3 - 4x, f'' = 12x^2 - 4
        x = x - (4 * x**3 - 4 * x) / (12 * x**2 - 4)
        assert got == pytest.approx(x, rel=1e-15, abs=0)
    assert xs[1] == pytest.approx(16 / 11, rel=1e-15)  # 2 - 24 / 44
    assert xs[7:] == [1.0, 1.0, 1.0, 1.0]
    errors = [abs(v - 1) for v in xs[1:7]]
    assert all(b < a**2 * 2 for a, b in itertools.pairwise(errors))  # quadratic
    assert capsys.readouterr().out.splitlines()[1] == "1 1.4545454545454546"


def test_newton_from_the_other_side_finds_minus_1() -> None:
    xs = _load("newton_method").newton(-2.0, 8)
    assert xs[-1] == -1.0
