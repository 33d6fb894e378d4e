"""Helpers shared by the tests (tests/ is on sys.path: ``from support import mnist_root``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def running_in_ci() -> bool:
    """True under CI (env CI=true or 1), where a missing resource fails instead of skipping."""
    return os.environ.get("CI", "").lower() in ("true", "1")


def mnist_root() -> Path:
    """The real MNIST directory ($TINYGRAD_FISH_DATA; tests/conftest.py defaults it to
    ../shared/mnist). Skips the test when it is missing, but fails it under CI."""
    env = os.environ.get("TINYGRAD_FISH_DATA")
    if not env:
        if running_in_ci():
            pytest.fail("CI is set but TINYGRAD_FISH_DATA is not; it must point at MNIST")
        pytest.skip("needs real MNIST: set TINYGRAD_FISH_DATA to a directory holding the four "
                    "MNIST files (or put them in ../shared/mnist beside the checkout)")
    root = Path(env).expanduser()
    if not root.is_absolute() and not root.is_dir():
        root = REPO / root
    return root.absolute()


def assert_one_line_error(err: str, *needles: str) -> None:
    """A command-line error: one line on stderr, no traceback, holding every needle."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, err)


def book_root() -> Path:
    """The fish book's repository beside the checkout (``../shared/book``, or
    ``$TINYGRAD_FISH_BOOK``). Skips the test with a reason when it is absent."""
    env = os.environ.get("TINYGRAD_FISH_BOOK")
    root = Path(env).expanduser() if env else REPO.parent / "shared" / "book"
    if not (root / "common" / "functions.py").is_file():
        pytest.skip(f"the fish book's repository is not at {root} (set TINYGRAD_FISH_BOOK to "
                    "a checkout of oreilly-japan/deep-learning-from-scratch to run this test)")
    return root
