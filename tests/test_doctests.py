"""The examples in the docstrings run and print what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import tinygrad_fish

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(tinygrad_fish.__path__, "tinygrad_fish.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with np.errstate(all="ignore"):
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
        )
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
