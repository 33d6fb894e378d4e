"""Issue 15: the test suite passes on a fresh clone, offline, with no data.

The repository's committed HEAD is cloned into a temporary directory outside the checkout's
parent (so there is no ``../shared`` beside it), and a subset of its tests runs there with
this venv's interpreter (nothing reinstalled), with ``TINYGRAD_FISH_DATA``, ``CI`` and
``XDG_CACHE_HOME`` unset and ``HOME`` an empty directory (no cached MNIST), under the network
guard of tests/network_guard.py. The subset is the one that touched data or the network
before: the docstring examples (the datasets example used to download MNIST), the data set
tests, the docs pages and the command line's data errors, plus the guard's own tests; the
rest of the suite (~5 minutes) does not read MNIST except through ``support.mnist_root``,
which skips. Uncommitted changes are not in the clone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SUBSET = [
    "tests/test_network_guard.py",
    "tests/test_doctests.py",
    "tests/datasets",
    "tests/test_docs.py",
    "tests/test_cli.py::test_missing_data_without_download",
    "tests/test_cli.py::test_missing_data_without_network",
]


@pytest.mark.slow
def test_a_fresh_offline_clone_without_data_passes(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)],
                   check=True, capture_output=True, timeout=120)
    assert not (clone.parent / "shared").exists()
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("TINYGRAD_FISH_DATA", "CI", "XDG_CACHE_HOME", "PYTEST_ADDOPTS")
           and not k.startswith("PYTEST_XDIST")}
    env.update(HOME=str(home), PYTHONPATH=str(clone), OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow",
         "-rs", *SUBSET],
        cwd=clone, env=env, capture_output=True, text=True, timeout=900,
    )
    tail = proc.stdout[-3000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, tail
    assert " passed" in proc.stdout and " failed" not in proc.stdout, tail
    # The tests that need MNIST say how to enable them.
    assert "TINYGRAD_FISH_DATA" in proc.stdout, tail
    assert not (home / ".cache" / "tinygrad_fish").exists(), "a test wrote into the cache"
