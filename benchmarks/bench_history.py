"""Step times and per-op overhead of tinygrad_fish at several commits, side by side, in one run.

Issue 17 asks that the features of issues 10 (no silent wrong gradients), 11 (numpy
functions on Tensors stay in the graph), 13 (CNNs) and 14 (graphs) did not slow the engine
down.  This script measures the same things at the commit before issue 10, after each of
those issues landed, and at main, interleaved in one run on the same machine.

What is measured (per commit; ``bench_history_child.py`` documents each cell)
    * One training step of the book's 784-50-10 ``tinygrad_fish.nn.TwoLayerNet``
      (``weight_init_std=0.01``): ``grads = net.gradient(x, t)`` then
      ``net.params[k] -= lr * grads[k]`` for W1 b1 W2 b2, batch 1 and 100, float64 and
      float32, on MNIST-shaped random float32 data with one-hot labels; µs per step.
    * Per-op overhead on (2, 2) tensors, forward and backward µs per op of add, mul, relu,
      matmul and sum, by ``bench_engine.py``'s method (a chain of ops timed, then
      ``y.sum().backward()`` timed; sum as ``sum(y) * q`` minus the mul row).
    * A check: the weights after one batch-100 float64 step from the same initial weights,
      compared with the first row's (bits identical, or the largest difference).

How it is measured
    Each commit is checked out with ``git worktree add --detach`` into one temporary
    directory (removed at the end, also after an error or Ctrl-C, then ``git worktree
    prune``).  For each commit a fresh child process runs ``bench_history_child.py`` from
    *this* tree with ``PYTHONPATH`` set to the checkout only and ``OPENBLAS_NUM_THREADS``
    (and the other BLAS/OpenMP thread variables) set before numpy loads; the child refuses
    to run if ``tinygrad_fish`` was imported from anywhere else.  The commits run
    round-robin, A B C ... A B C ..., for ``--repeats`` rounds, so slow drifts of the shared
    machine hit every commit alike.  Each round gives one sample per cell (the child's
    median over its blocks or chains).

Reading the output
    Markdown tables ready to paste: each cell is ``median (min) xR``, the median and the
    minimum over the rounds in µs and R = this row's median / the first row's median
    (x1.10 is 10% slower than before issue 10).  "n/a" marks a cell whose API is missing at
    that commit or that failed (the reason is listed under the tables).  ``sum`` is a
    difference of two medians per round, so its minimum is noisier than the other cells'.
    The date, the load average before and after and the CPU count are printed at the top:
    the machine is shared, so compare within one run and rerun before believing a
    difference under ~10%.

Usage::

    python benchmarks/bench_history.py [--repeats 12] [--quick] [--threads 1]
        [--commits LABEL=REV ...]

``--commits`` replaces the default rows (``REV`` alone is its own label), e.g.
``--commits "before issue 10=2aec3f9" "main (HEAD)=main"``.  Run it from any worktree of
the repository; it needs git and the project's virtualenv (numpy; threadpoolctl to report
the BLAS thread count).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
CHILD = HERE / "bench_history_child.py"

# The default rows, oldest first.  How they were chosen (git log --first-parent main):
# issues 10, 11 and 12 interleave on main, and issue 13's first part, 12's trainer, 15 and
# 16 landed between 10's last merge and 13's merge; so besides "before" and "after" each
# issue, the rows split the history where an issue's own commits end:
#   2aec3f9  parent of aca141e "Engine: no silent wrong gradients at the edges (issue 10)",
#            issue 10's first commit (the last commit of the session before; 70db90d, whose
#            docs/benchmarks.md has the issue-5 figures, is 15 commits older).
#   fdfa037  issue 10's engine commits (aca141e, fdfa037) on main; the next commit,
#            f86468b (ops/elementwise split), starts issue 11's numpy dispatch.
#   7dfd268  issue 11's last commit (ea95533 dispatch, 2b7d96b proofs, 7dfd268 docs); the
#            next, 7b602dd "Book-exact numerics", is issue 12's (the book's library).
#   f52df92  "Merge branch 'issue10-cli'", issue 10's last merge (after 21a8021
#            'issue10-files'; both touch files, downloads, optimizer states and the CLI,
#            not the engine), with issue 12's 7b602dd and bec42c6 (book layers) in
#            between; the parent of 92bbeab, issue 13's first commit.
#   cd8736a  "autograd: a backward pass frees a node's arrays but keeps its structure
#            (Ghost records ...)", what issue 14 draws after backward, landed early on main
#            between issue 13's first commits and 12's trainer merge.  Its own row: a
#            bisection with this script (--commits f52df92 efbc090 cd8736a 6a2d7bf b487e3f
#            20005a2 f169372 518d997, 2026-12-04 18:26 UTC) found every per-op backward
#            ~1 µs slower from this commit, and no other step in f52df92..518d997.
#   518d997  the parent of "Merge branch 'i13'": issue 13's first part (conv ops, ReLU in
#            C order), 12's trainer, 15 and 16 (hooks, retain_grad) landed too.
#   9038ae7  "Merge branch 'i13'" (tiled max pool, ReLU's mask from its output).  Issue
#            13's later commits (docs/cnn.md, the cnnspeed max pool) are only in main.
#   7fbdfd4  "Merge branch 'i17b'", issue 17's engine speed-up, merged between 13 and 14:
#            its own row, so 14's row is not credited with 17's change.
#   b523904  "Merge branch 'i14b'", issue 14's merge (viz package, networks keep the
#            previous graph's structure).
#   main     today's main (replay, the cnnspeed max pool, ...).
DEFAULT_COMMITS: list[tuple[str, str]] = [
    ("before issue 10", "2aec3f9"),
    ("after issue 10 engine", "fdfa037"),
    ("after issue 11", "7dfd268"),
    ("after issue 10 merges", "f52df92"),
    ("issue 14's Ghost records", "cd8736a"),
    ("before i13 merge", "518d997"),
    ("after issue 13", "9038ae7"),
    ("after issue 17b", "7fbdfd4"),
    ("after issue 14", "b523904"),
    ("main (HEAD)", "main"),
]

STEP_CELLS = ("step b1 float64", "step b1 float32", "step b100 float64", "step b100 float32")
OPS = ("add", "mul", "relu", "matmul", "sum")
THREAD_VARS = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


@dataclass
class Row:
    label: str
    rev: str
    commit: str = ""
    subject: str = ""
    date: str = ""
    path: Path | None = None
    samples: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    dump: Path | None = None


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout.strip()


def parse_commits(items: list[str] | None) -> list[tuple[str, str]]:
    if not items:
        return list(DEFAULT_COMMITS)
    pairs = []
    for item in items:
        label, sep, rev = item.rpartition("=")
        pairs.append((label, rev) if sep and label else (rev, rev))
    return pairs


def resolve(repo: Path, rows: list[Row]) -> None:
    for row in rows:
        try:
            row.commit = git(repo, "rev-parse", "--verify", "--quiet", f"{row.rev}^{{commit}}")
        except RuntimeError:
            raise RuntimeError(f"{row.label!r}: no commit {row.rev!r} in {repo}") from None
        row.subject = git(repo, "log", "-1", "--format=%s", row.commit)
        row.date = git(repo, "log", "-1", "--format=%cd", "--date=format:%Y-%m-%d %H:%M",
                       row.commit)


def child_env(checkout: Path, threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(checkout)  # this checkout only, whatever the caller had set
    for var in THREAD_VARS:
        env[var] = str(threads)
    env.pop("PYTHONSTARTUP", None)
    return env


def run_child(row: Row, args: argparse.Namespace, tmp: Path, first_round: bool) -> None:
    assert row.path is not None
    cmd = [
        sys.executable, "-P", str(CHILD),
        "--ops-n", str(args.ops_n), "--op-repeats", str(args.op_repeats),
        "--op-dtype", args.op_dtype, "--blocks", str(args.blocks),
        "--block-ms", str(args.block_ms), "--expect-root", str(row.path),
    ]
    if first_round:
        row.dump = tmp / f"weights-{row.commit[:12]}.npz"
        cmd += ["--dump", str(row.dump)]
    proc = subprocess.run(
        cmd, cwd=tmp, env=child_env(row.path, args.threads), capture_output=True,
        text=True, timeout=args.timeout, check=False,
    )
    line = next((s for s in proc.stdout.splitlines() if s.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        row.errors["child"] = f"exit {proc.returncode}: {err}"[:300]
        return
    result = json.loads(line[len("RESULT "):])
    for name, value in result["cells"].items():
        row.samples.setdefault(name, []).append(float(value))
    row.errors.update(result["errors"])
    row.info = result["info"]


# --------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------


def fmt(x: float) -> str:
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def cell(rows: list[Row], row: Row, name: str) -> str:
    s = row.samples.get(name)
    if not s:
        return "n/a"
    med = statistics.median(s)
    base = rows[0].samples.get(name)
    ratio = f" x{med / statistics.median(base):.2f}" if base else ""
    return f"{fmt(med)} ({fmt(min(s))}){ratio}"


def row_name(row: Row) -> str:
    if row.commit.startswith(row.label):
        return row.label
    return f"{row.label} ({row.commit[:7]})"


def table(rows: list[Row], title: str, cols: list[tuple[str, str]]) -> None:
    print(f"\n{title}\n")
    print("| commit | " + " | ".join(head for head, _ in cols) + " |")
    print("| --- |" + " --- |" * len(cols))
    for row in rows:
        print(f"| {row_name(row)} | " + " | ".join(cell(rows, row, n) for _, n in cols) + " |")


def weights_check(rows: list[Row]) -> dict[str, str]:
    """Each row's one-step weights against the first row's: same bits, or max |diff|."""
    out: dict[str, str] = {}
    ref = rows[0].dump
    if ref is None or not ref.exists():
        return out
    with np.load(ref) as z0:
        w0 = {k: z0[k] for k in z0.files}
    for row in rows:
        if row.dump is None or not row.dump.exists():
            out[row.commit] = "n/a"
            continue
        with np.load(row.dump) as z:
            w = {k: z[k] for k in z.files}
        if w.keys() != w0.keys():
            out[row.commit] = "other keys"
        elif all(w[k].tobytes() == w0[k].tobytes() for k in w0):
            out[row.commit] = "same bits"
        else:
            diff = max(float(np.max(np.abs(w[k] - w0[k]))) for k in w0)
            out[row.commit] = f"max abs diff {diff:.1e}"
    return out


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def report(rows: list[Row], args: argparse.Namespace, started: str, load0: str) -> None:
    ended = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    n_rounds = max((len(s) for r in rows for s in r.samples.values()), default=0)
    info = next((r.info for r in rows if r.info), {})
    print(f"\n## bench_history: {started} to {ended}\n")
    print(
        f"Load average (1, 5, 15 min) {load0} at the start, {loadavg()} at the end; "
        f"{os.cpu_count()} CPUs; python {info.get('python', platform.python_version())}, "
        f"numpy {info.get('numpy', np.__version__)}, BLAS threads {info.get('blas', '?')} "
        f"({args.threads} asked); {n_rounds} rounds round-robin; per-op chains of "
        f"{args.ops_n} ops, {args.op_repeats} per round; step cells {args.blocks} blocks "
        f"of ~{args.block_ms:g} ms per round."
    )
    checks = weights_check(rows)
    print("\n| commit | date (UTC) | subject | one step's weights vs row 1 |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        subject = row.subject if len(row.subject) <= 60 else row.subject[:57] + "..."
        subject = subject.replace("|", "/")
        print(
            f"| {row_name(row)} | {row.date} | {subject} | "
            f"{checks.get(row.commit, 'n/a')} |"
        )
    table(
        rows,
        "Training step, 784-50-10 TwoLayerNet, µs per step: median (min) over the rounds, "
        "x = median / row 1's",
        [(n.replace("step b", "batch ").replace(" float", " f"), n) for n in STEP_CELLS],
    )
    for kind, word in (("fwd", "forward"), ("bwd", "backward")):
        table(
            rows,
            f"Per-op {word}, (2, 2) {args.op_dtype}, µs per op: median (min) over the "
            "rounds, x = median / row 1's",
            [(op, f"{kind} {op}") for op in OPS],
        )
    failed = [(row, k, v) for row in rows for k, v in row.errors.items()]
    if failed:
        print("\nn/a and failures:\n")
        for row, k, v in failed:
            print(f"- {row_name(row)} {k}: {v}")


# --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commits", nargs="+", metavar="LABEL=REV",
                    help="rows to measure, oldest first (default: the table in the script)")
    ap.add_argument("--repeats", type=int, default=None, help="round-robin rounds (12)")
    ap.add_argument("--quick", action="store_true",
                    help="3 rounds, shorter chains and blocks (a smoke test, not figures)")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads in the children (1)")
    ap.add_argument("--op-dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--ops-n", type=int, default=None, help="ops per chain (2000)")
    ap.add_argument("--op-repeats", type=int, default=None, help="chains per op per round (7)")
    ap.add_argument("--blocks", type=int, default=None, help="blocks per step cell per round (7)")
    ap.add_argument("--block-ms", type=float, default=None, help="ms per block (20)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per child run")
    args = ap.parse_args(argv)
    q = args.quick
    args.repeats = args.repeats or (3 if q else 12)
    args.ops_n = args.ops_n or (500 if q else 2000)
    args.op_repeats = args.op_repeats or (3 if q else 7)
    args.blocks = args.blocks or (3 if q else 7)
    args.block_ms = args.block_ms or (5.0 if q else 20.0)
    return args


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through main's finally: worktrees removed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    repo = Path(git(HERE, "rev-parse", "--show-toplevel"))
    rows = [Row(label, rev) for label, rev in parse_commits(args.commits)]
    try:
        resolve(repo, rows)
    except RuntimeError as exc:
        print(f"bench_history: {exc}", file=sys.stderr)
        return 2
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load0 = loadavg()
    print(f"== bench_history: {len(rows)} commits x {args.repeats} rounds, "
          f"{args.threads} BLAS thread(s); started {started}, load average {load0} ==")
    signal.signal(signal.SIGTERM, _terminate)
    tmp = Path(tempfile.mkdtemp(prefix="bench_history-"))
    added: list[Path] = []
    try:
        for i, row in enumerate(rows):
            row.path = tmp / f"{i}-{row.commit[:10]}"
            git(repo, "worktree", "add", "--detach", "--quiet", str(row.path), row.commit)
            added.append(row.path)
            print(f"  {row.label:<24} {row.commit[:10]} {row.date}  {row.subject[:60]}")
        t0 = time.perf_counter()
        for r in range(args.repeats):
            for row in rows:
                run_child(row, args, tmp, first_round=(r == 0))
            print(f"  round {r + 1}/{args.repeats} done at {time.perf_counter() - t0:.0f} s, "
                  f"load average {loadavg()}", flush=True)
        report(rows, args, started, load0)
    except KeyboardInterrupt:
        print("bench_history: interrupted; removing the temporary worktrees", file=sys.stderr)
        return 130
    finally:
        for path in added:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(path)],
                           capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["git", "-C", str(repo), "worktree", "prune"], capture_output=True,
                       check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
