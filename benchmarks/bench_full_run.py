"""Whole-process wall time of a full MNIST training run: tinygrad_fish's CLI vs the book.

What is measured
    (a) ``python -m tinygrad_fish train --iters 10000 --out <tmpdir>`` -- the project's CLI;
    (b) ``python benchmarks/book_train.py --iters 10000`` -- the book's script
        (``reference.BookTwoLayerNet``, 10,000 iterations of batch 100 at lr 0.1, per-epoch
        train/test accuracy, the second forward for the loss curve).
    Each is one fresh process, timed from spawn to exit with ``time.perf_counter`` -- so the
    interpreter start, imports and MNIST loading are included, as a user would feel them.
    Both read MNIST from ``--data-dir`` (default: ``$TINYGRAD_FISH_DATA``, else the
    repository's ``../shared/mnist`` if present), passed to both as ``$TINYGRAD_FISH_DATA``.
    With ``--repeats N`` the two alternate (a b, b a, a b, ...) so machine drift hits both.

Reading the output
    One line per run (wall seconds, exit status), then the median wall time of each, the
    ratio CLI / book (below 1.00: the CLI is faster), and the final accuracies each reported:
    the book's are its last per-epoch ``train_acc test_acc`` line; the CLI's are parsed from
    a ``*.json`` file in its ``--out`` directory or from its output (``train acc`` /
    ``test acc`` in any common spelling), else shown as ``?``.  A failing run prints the
    tail of its stderr.

Usage::

    python benchmarks/bench_full_run.py [--repeats N] [--iters 10000] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


@dataclass
class Run:
    name: str
    seconds: float
    returncode: int
    train_acc: float | None
    test_acc: float | None
    tail: str


ACC_RE = {
    key: re.compile(rf"{key}[\s_-]*acc(?:uracy)?\W{{0,3}}\s*(\d*\.?\d+)\s*(%?)", re.I)
    for key in ("train", "test")
}


def find_acc_in_json(obj: Any, key: str) -> float | None:
    """Last number under a key like 'train_acc' / 'test_accuracy' anywhere in parsed JSON."""
    found: float | None = None
    if isinstance(obj, dict):
        for k, v in obj.items():
            kl = str(k).lower()
            if key in kl and "acc" in kl:
                if isinstance(v, (int, float)):
                    found = float(v)
                elif isinstance(v, list) and v and isinstance(v[-1], (int, float)):
                    found = float(v[-1])
            else:
                sub = find_acc_in_json(v, key)
                found = sub if sub is not None else found
    elif isinstance(obj, list):
        for v in obj:
            sub = find_acc_in_json(v, key)
            found = sub if sub is not None else found
    return found


def cli_accuracies(out_dir: Path, text: str) -> tuple[float | None, float | None]:
    accs: dict[str, float | None] = {"train": None, "test": None}
    for path in sorted(out_dir.rglob("*.json")):
        try:
            obj = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for key in accs:
            v = find_acc_in_json(obj, key)
            accs[key] = v if v is not None else accs[key]
    for key, rx in ACC_RE.items():
        if accs[key] is None:
            hits = rx.findall(text)
            if hits:
                num, pct = hits[-1]
                v = float(num)
                accs[key] = v / 100 if pct or v > 1 else v
    return accs["train"], accs["test"]


def book_accuracies(text: str) -> tuple[float | None, float | None]:
    for line in reversed(text.splitlines()):
        if line.startswith("RESULT "):
            r = json.loads(line[7:])
            return r.get("train_acc"), r.get("test_acc")
    return None, None


def run_one(name: str, iters: int, env: dict[str, str], timeout: float) -> Run:
    with tempfile.TemporaryDirectory(prefix="bench_full_run_") as tmp:
        if name == "tinygrad_fish":
            argv = [sys.executable, "-m", "tinygrad_fish", "train", "--iters", str(iters)]
            argv += ["--out", tmp]
        else:
            argv = [sys.executable, str(HERE / "book_train.py"), "--iters", str(iters)]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                argv, capture_output=True, text=True, env=env, cwd=tmp, timeout=timeout
            )
            rc, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            rc, out, err = -1, str(exc.stdout or ""), f"timed out after {timeout:.0f} s"
        seconds = time.perf_counter() - t0
        if name == "tinygrad_fish":
            tr, te = cli_accuracies(Path(tmp), out + "\n" + err)
        else:
            tr, te = book_accuracies(out)
    tail = " | ".join(err.strip().splitlines()[-3:]) if rc != 0 else ""
    return Run(name, seconds, rc, tr, te, tail)


def fmt_acc(v: float | None) -> str:
    return f"{v:.4f}" if v is not None else "?"


def default_data_dir() -> str | None:
    env = os.environ.get("TINYGRAD_FISH_DATA")
    if env:
        return env
    shared = REPO.parent / "shared" / "mnist"
    return str(shared) if shared.is_dir() else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--iters", type=int, default=10000)
    ap.add_argument("--data-dir", default=default_data_dir())
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    args = ap.parse_args(argv)

    env = dict(os.environ)
    if args.data_dir:
        env["TINYGRAD_FISH_DATA"] = str(Path(args.data_dir).resolve())
    # make `-m tinygrad_fish` resolve to this checkout even without an editable install
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    print("== bench_full_run: whole training process, tinygrad_fish CLI vs the book ==")
    print(f"python {sys.executable}; iters {args.iters}; MNIST from {args.data_dir or '?'}")
    print(f"cpu count {os.cpu_count()}; loadavg {os.getloadavg()}")

    runs: list[Run] = []
    order = ["tinygrad_fish", "book"]
    for r in range(args.repeats):
        for name in order if r % 2 == 0 else order[::-1]:
            run = run_one(name, args.iters, env, args.timeout)
            runs.append(run)
            status = "ok" if run.returncode == 0 else f"FAILED (exit {run.returncode})"
            print(
                f"  run {r + 1} {name:<14}{run.seconds:>9.2f} s  {status}"
                f"  train {fmt_acc(run.train_acc)}  test {fmt_acc(run.test_acc)}"
                + (f"\n      {run.tail}" if run.tail else ""),
                flush=True,
            )

    print()
    med: dict[str, float] = {}
    for name in order:
        ok = [r for r in runs if r.name == name and r.returncode == 0]
        if not ok:
            print(f"{name:<14} no successful run")
            continue
        med[name] = statistics.median(r.seconds for r in ok)
        last = ok[-1]
        print(
            f"{name:<14} median {med[name]:8.2f} s over {len(ok)} run(s);"
            f" final train acc {fmt_acc(last.train_acc)}, test acc {fmt_acc(last.test_acc)}"
        )
    if len(med) == 2:
        print(f"ratio tinygrad_fish / book: {med['tinygrad_fish'] / med['book']:.2f}")
    return 0 if len(med) == 2 else 1


if __name__ == "__main__":
    sys.exit(main())
