"""Run one of the fish book's scripts in full, with only its imports changed, and time it.

The test suite runs the book's scripts scaled down (``tests/test_book_scripts.py``); this runs
one unscaled, e.g. ch07's 20-epoch ``train_convnet.py``, which takes too long for a test. The
book's repository (``../shared/book`` or ``--book DIR``) is copied into a temporary directory,
its ``import`` lines rewritten by the import map of ``docs/book-api.md`` and its ``common/``
deleted (exactly as the tests do, with ``tests/book_scripts.py``), and the script is run from
its own directory with ``np.random`` seeded and matplotlib drawing nowhere. Its output goes to
the terminal as it comes and, with ``--log FILE``, to a file; the last line is the wall time.
With ``--theirs`` the book's own code runs instead (unchanged), for a side-by-side time.

Usage::

    python benchmarks/run_book_script.py ch07/train_convnet.py [--seed 0] [--log FILE] [--theirs]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("script", help="path inside the book's repository, e.g. ch07/train_convnet.py")
    ap.add_argument("--book", default=str(ROOT.parent / "shared" / "book"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log", default=None, help="also write the script's output here")
    ap.add_argument("--theirs", action="store_true", help="run the book's own code instead")
    args = ap.parse_args(argv)

    book = Path(args.book)
    if not (book / args.script).is_file():
        print(f"run_book_script: {book / args.script} not found (pass --book DIR)",
              file=sys.stderr)
        return 2
    from book_scripts import RUNNER, make_copies

    log = open(args.log, "w", encoding="utf-8") if args.log else None  # noqa: SIM115
    with tempfile.TemporaryDirectory() as tmp:
        theirs, ours = make_copies(book, Path(tmp))
        root = theirs if args.theirs else ours
        env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(RUNNER), str(root / args.script), str(args.seed)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            if log:
                log.write(line)
                log.flush()
        rc = proc.wait()
        wall = time.perf_counter() - start
    who = "the book's code" if args.theirs else "tinygrad_fish (imports changed)"
    summary = f"WALL {wall:.1f} s  {args.script}  {who}  exit {rc}\n"
    sys.stdout.write(summary)
    if log:
        log.write(summary)
        log.close()
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
