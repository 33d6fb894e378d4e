"""Run the fish book's scripts twice, the book's code and ours, and compare what they print.

The book's repository (``../shared/book``, MIT) is copied twice into a temporary directory:

- *the book's*: unchanged, with a ``dataset/mnist.pkl`` written from the real MNIST in the
  book's own cache format (the book's loader downloads it otherwise, and the machines here
  have no internet);
- *ours*: the same, with every ``import`` line of the chapter scripts rewritten by the import
  map of ``docs/book-api.md`` and the book's ``common/`` and ``dataset/*.py`` deleted, so a
  name the library lacks fails instead of falling back to the book's code.

Each run executes one script through ``book_runner/run_script.py`` (np.random seeded,
plotting recorded as digests of the plotted arrays). Scaled-down runs replace a literal of
the script, in both copies alike (``substitutions``); nothing else changes.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from support import REPO

RUNNER = Path(__file__).resolve().parent / "book_runner" / "run_script.py"
_IMPORT = re.compile(r"^(\s*)(from|import)\s+([\w.]+)(.*)$")


def import_map() -> dict[str, str]:
    """The book's module -> ours, from the table of docs/book-api.md."""
    text = (REPO / "docs" / "book-api.md").read_text(encoding="utf-8")
    section = text.split("## The import map", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w.]+)` \| `([\w.]+)` \|", section, re.MULTILINE)
    return dict(rows)


def rewrite_imports(source: str, mapping: dict[str, str]) -> str:
    """``source`` with the modules of its import lines mapped; every other line as it is."""
    out = []
    for line in source.splitlines(keepends=True):
        m = _IMPORT.match(line.rstrip("\n"))
        if m and m.group(3) in mapping:
            line = f"{m.group(1)}{m.group(2)} {mapping[m.group(3)]}{m.group(4)}\n"
        out.append(line)
    return "".join(out)


def _mnist_pickle(dest: Path) -> None:
    """The real MNIST as the book's ``mnist.pkl``: uint8 images (N, 784), uint8 labels."""
    from tinygrad_fish.datasets import load_mnist

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False, flatten=True,
                                                      download=False)
    data = {"train_img": x_train, "train_label": t_train, "test_img": x_test,
            "test_label": t_test}
    with open(dest, "wb") as f:
        pickle.dump(data, f, -1)


def make_copies(book: Path, tmp: Path) -> tuple[Path, Path]:
    """The book's copy (with its MNIST cache) and ours (imports rewritten)."""
    theirs, ours = tmp / "book", tmp / "ours"
    shutil.copytree(book, theirs)
    for p in theirs.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    _mnist_pickle(theirs / "dataset" / "mnist.pkl")
    shutil.copytree(theirs, ours)
    shutil.rmtree(ours / "common")
    for p in (ours / "dataset").glob("*.py"):
        p.unlink()
    (ours / "dataset" / "mnist.pkl").unlink()
    mapping = import_map()
    for script in ours.glob("ch0*/*.py"):
        text = script.read_text(encoding="utf-8")
        new = rewrite_imports(text, mapping)
        changed = [(a, b) for a, b in zip(text.splitlines(), new.splitlines(), strict=True)
                   if a != b]
        assert all(_IMPORT.match(a) for a, _ in changed), changed  # only imports change
        script.write_text(new, encoding="utf-8")
    return theirs, ours


def substitute(root: Path, script: str, substitutions: list[tuple[str, str]]) -> None:
    path = root / script
    text = path.read_text(encoding="utf-8")
    for old, new in substitutions:
        assert text.count(old) == 1, (script, old)
        text = text.replace(old, new) + f"\n# scaled down by the test: {old!r} -> {new!r}\n"
    path.write_text(text, encoding="utf-8")


def run(root: Path, script: str, timeout: float = 600) -> str:
    """What the script prints (stdout), run from its directory; raises on failure."""
    env = {**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    proc = subprocess.run([sys.executable, str(RUNNER), str(root / script)],
                          capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise AssertionError(f"{root.name}/{script} failed:\n{proc.stdout[-2000:]}\n"
                             f"{proc.stderr[-4000:]}")
    return proc.stdout


__all__ = ["import_map", "make_copies", "np", "rewrite_imports", "run", "substitute"]
