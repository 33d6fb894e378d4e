"""Overheads of the tinygrad_fish autograd engine itself, away from any real arithmetic.

What is measured (float64, or ``--dtype float32`` for [1]; ``--quick`` shrinks every size)
    1. Per-op overhead on tiny (2, 2) tensors.  For each op a chain of N ops is built
       (``y = op(y)``, the other operand a constant Tensor without grad) and timed -- that is
       the forward µs/op -- then ``y.sum().backward()`` is timed -- the backward µs/op.  The
       same chain on raw numpy arrays gives the numpy µs/op the engine is compared with.
       ``exp`` and ``sum`` cannot be chained alone (exp overflows, sum changes shape), so they
       are measured as ``exp(y) * c`` (c = 0.1, bounded) and ``sum(y) * q`` (q = 0.25 * ones,
       a broadcasting mul); their "≈" rows subtract the plain ``mul`` row.  ``bwd/fwd`` is
       each op's backward time over its forward time (issue 17's target: at most 3).
    2. Backward through one long chain of 10k and 100k nodes (``y = y * 1.0001`` and
       ``y = y + 1.0``; then ``y.sum().backward()``): time per node and the 100k/10k per-node
       ratio, which should stay near 1.0 for a linear-time iterative walk.  A recursive walk
       shows up as ``RecursionError``.  The gradient of ``x`` is checked against the closed
       form; the teardown (freeing the graph) is timed too.
    3. Backward through many leaves, 10k and 100k (2, 2) leaves summed pairwise (a balanced
       tree of adds) and with ``functools.reduce(operator.add, ...)`` (a left-deep chain):
       time per add node and the 100k/10k ratio.  Every leaf's grad must be ones.
    4. Memory over 10,000 training steps of ``tinygrad_fish.nn.TwoLayerNet`` (batch 100,
       synthetic MNIST-shaped data, 1,000 samples so the data does not dwarf a leak), in a
       fresh child process: peak RSS (``VmHWM`` from ``/proc/self/status``) after 1,000 and
       after 10,000 steps, their ratio and the growth per step.  The book's reference net
       runs the same loop as a baseline.  A ratio near 1.00 means no per-step leak.

Reading the output
    Everything runs with Python's cyclic GC on, as in real use; ``--gc-off`` turns it off for
    [1]-[3] so its share (large when a graph has ~10^5 live nodes) can be read off.
    µs/op columns are medians over ``--repeats`` chains; the large-graph tables use the best
    of a few runs (the machine is shared; the minimum is the least disturbed run).

Usage::

    python benchmarks/bench_engine.py [--quick] [--sections ops chain tree viz rss]
        [--dtype float32]

Needs ``from tinygrad_fish import Tensor``; exits with a message (status 2) until it imports.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import operator
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SHAPE = (2, 2)
OPS_DTYPE: Any = np.float64  # [1]'s dtype (--dtype)
ALL_SECTIONS = ("ops", "chain", "tree", "viz", "rss")


def now() -> int:
    return time.perf_counter_ns()


def load_tensor() -> Any:
    try:
        from tinygrad_fish import Tensor
    except Exception as exc:  # not written yet, or broken mid-edit
        print(
            "bench_engine: cannot import tinygrad_fish.Tensor "
            f"({type(exc).__name__}: {exc}); nothing to measure yet."
        )
        sys.exit(2)
    return Tensor


def leaf(Tensor: Any, value: float = 0.5) -> Any:
    return Tensor(np.full(SHAPE, value, dtype=OPS_DTYPE), requires_grad=True)


def grad_array(t: Any) -> np.ndarray[Any, Any]:
    g = t.grad
    return np.asarray(g.numpy() if hasattr(g, "numpy") else g)


# --------------------------------------------------------------------------------------
# 1. per-op overhead
# --------------------------------------------------------------------------------------


def op_table(Tensor: Any) -> dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]]:
    """name -> (engine step, numpy step); both map y to the next link of the chain."""
    dt = OPS_DTYPE
    ones = np.ones(SHAPE, dtype=dt)
    eye = np.eye(SHAPE[0], dtype=dt)
    c01 = np.full(SHAPE, 0.1, dtype=dt)
    q = np.full(SHAPE, 0.25, dtype=dt)
    c = np.full(SHAPE, 1e-3, dtype=dt)
    T = {k: Tensor(v) for k, v in {"ones": ones, "eye": eye, "c01": c01, "q": q, "c": c}.items()}
    return {
        "add": (lambda y: y + T["c"], lambda y: y + c),
        "sub": (lambda y: y - T["c"], lambda y: y - c),
        "mul": (lambda y: y * T["ones"], lambda y: y * ones),
        "div": (lambda y: y / T["ones"], lambda y: y / ones),
        "matmul": (lambda y: y @ T["eye"], lambda y: y @ eye),
        "relu": (lambda y: y.relu(), lambda y: np.maximum(y, 0)),
        "exp·mul": (lambda y: y.exp() * T["c01"], lambda y: np.exp(y) * c01),
        "sum·mul": (lambda y: y.sum() * T["q"], lambda y: y.sum() * q),
    }


def time_chain(Tensor: Any, step: Callable[[Any], Any], n: int) -> tuple[float, float]:
    """(forward ns/op, backward ns/op) for one chain of n ops."""
    x = leaf(Tensor)
    gc.collect()
    t0 = now()
    y = x
    for _ in range(n):
        y = step(y)
    t1 = now()
    root = y.sum()
    t2 = now()
    root.backward()
    t3 = now()
    if x.grad is None:
        raise RuntimeError("x.grad is None after backward")
    return (t1 - t0) / n, (t3 - t2) / n


def time_numpy_chain(step: Callable[[Any], Any], n: int) -> float:
    y = np.full(SHAPE, 0.5, dtype=OPS_DTYPE)
    t0 = now()
    for _ in range(n):
        y = step(y)
    return (now() - t0) / n


def section_ops(Tensor: Any, n: int, repeats: int) -> None:
    dt = np.dtype(OPS_DTYPE).name
    print(f"\n[1] per-op overhead, {SHAPE} {dt}, chains of {n} ops, median of {repeats}")
    head = f"{'op':<12}{'fwd µs/op':>11}{'bwd µs/op':>11}{'numpy µs/op':>13}"
    head += f"{'fwd/numpy':>11}{'bwd/numpy':>11}{'bwd/fwd':>9}"
    print(head)
    print("-" * len(head))
    rows: dict[str, tuple[float, float, float]] = {}
    for name, (step, np_step) in op_table(Tensor).items():
        try:
            fwd, bwd = [], []
            for _ in range(repeats):
                f, b = time_chain(Tensor, step, n)
                fwd.append(f)
                bwd.append(b)
        except Exception as exc:
            print(f"{name:<12} FAILED: {type(exc).__name__}: {exc}")
            continue
        npt = statistics.median(time_numpy_chain(np_step, n) for _ in range(repeats))
        rows[name] = (statistics.median(fwd), statistics.median(bwd), npt)
    for name, (f, b, npt) in list(rows.items()):
        print(
            f"{name:<12}{f / 1e3:>11.2f}{b / 1e3:>11.2f}{npt / 1e3:>13.2f}{f / npt:>11.1f}"
            f"{b / npt:>11.1f}{b / f:>9.1f}"
        )
    if "mul" in rows:
        mf, mb, mn = rows["mul"]
        for comp, alone in (("exp·mul", "exp ≈"), ("sum·mul", "sum ≈")):
            if comp in rows:
                f, b, npt = rows[comp]
                fa, ba = f - mf, b - mb
                bf = f"{ba / fa:>9.1f}" if fa > 0 else f"{'-':>9}"
                print(
                    f"{alone:<12}{fa / 1e3:>11.2f}{ba / 1e3:>11.2f}"
                    f"{(npt - mn) / 1e3:>13.2f}{'':>22}{bf}"
                )


# --------------------------------------------------------------------------------------
# 2./3. big graphs
# --------------------------------------------------------------------------------------


def run_big(
    build: Callable[[], tuple[Any, list[Any]]], check: Callable[[list[Any]], str]
) -> dict[str, Any]:
    """Build a graph (timed), backward through it (timed), check grads, free it (timed)."""
    gc.collect()
    t0 = now()
    root, leaves = build()
    t1 = now()
    root = root.sum()
    t2 = now()
    root.backward()
    t3 = now()
    verdict = check(leaves)
    del root, leaves
    t4 = now()
    gc.collect()
    t5 = now()
    return {"build": t1 - t0, "backward": t3 - t2, "free": (t4 - t3) + (t5 - t4), "ok": verdict}


def best_of(
    runs: int, build: Callable[[], tuple[Any, list[Any]]], check: Callable[[list[Any]], str]
) -> dict[str, Any]:
    results = [run_big(build, check) for _ in range(runs)]
    best = min(results, key=lambda r: r["backward"])
    best["ok"] = next((r["ok"] for r in results if r["ok"] != "ok"), "ok")
    return best


def print_big(title: str, unit: str, cases: list[tuple[str, int, int, Any]]) -> None:
    """cases: (label, size n, node count, result dict or error string), n = 10k and 100k."""
    print(f"\n{title}")
    head = f"{'graph':<22}{'nodes':>8}{'build ms':>10}{'backward ms':>13}"
    head += f"{'free ms':>9}{f'ns/{unit}':>12}  grads"
    print(head)
    print("-" * len(head))
    per_node: dict[str, dict[int, float]] = {}
    for label, size, nodes, r in cases:
        if isinstance(r, str):
            print(f"{label:<22}{nodes:>8}  FAILED: {r}")
            continue
        pn = r["backward"] / nodes
        per_node.setdefault(label, {})[size] = pn
        print(
            f"{label:<22}{nodes:>8}{r['build'] / 1e6:>10.1f}{r['backward'] / 1e6:>13.1f}"
            f"{r['free'] / 1e6:>9.1f}{pn:>12.0f}  {r['ok']}"
        )
    for kind, d in per_node.items():
        if len(d) >= 2:
            small, big = min(d), max(d)
            print(
                f"  {kind}: per-node backward {big // 1000}k/{small // 1000}k = "
                f"{d[big] / d[small]:.2f} (1.00 = linear)"
            )


def section_chain(Tensor: Any, sizes: list[int], runs: int) -> None:
    cases: list[tuple[str, int, int, Any]] = []
    for kind in ("mul", "add"):
        for n in sizes:

            def build(n: int = n, kind: str = kind) -> tuple[Any, list[Any]]:
                x = leaf(Tensor, 1.0)
                y = x
                if kind == "mul":
                    for _ in range(n):
                        y = y * 1.0001
                else:
                    for _ in range(n):
                        y = y + 1.0
                return y, [x]

            def check(leaves: list[Any], n: int = n, kind: str = kind) -> str:
                want = 1.0001**n if kind == "mul" else 1.0
                got = grad_array(leaves[0])
                return "ok" if np.allclose(got, want, rtol=1e-9) else f"WRONG {got.ravel()[0]}"

            try:
                r: Any = best_of(runs, build, check)
            except RecursionError as exc:
                r = f"RecursionError ({exc}): the backward walk must be iterative"
            except Exception as exc:
                r = f"{type(exc).__name__}: {exc}"
            cases.append((f"{kind} chain", n, n, r))
    print_big(f"[2] one long chain (y = y * 1.0001 / y = y + 1.0), best of {runs}", "node", cases)


def section_tree(Tensor: Any, sizes: list[int], runs: int) -> None:
    cases: list[tuple[str, int, int, Any]] = []
    for kind in ("pairwise", "reduce"):
        for n in sizes:

            def build(n: int = n, kind: str = kind) -> tuple[Any, list[Any]]:
                leaves = [Tensor(np.ones(SHAPE), requires_grad=True) for _ in range(n)]
                if kind == "reduce":
                    return functools.reduce(operator.add, leaves), leaves
                level = leaves
                while len(level) > 1:
                    nxt = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
                    if len(level) % 2:
                        nxt.append(level[-1])
                    level = nxt
                return level[0], leaves

            def check(leaves: list[Any]) -> str:
                bad = sum(1 for t in leaves if not np.array_equal(grad_array(t), np.ones(SHAPE)))
                return "ok" if not bad else f"WRONG on {bad} leaves"

            try:
                r: Any = best_of(runs, build, check)
            except RecursionError as exc:
                r = f"RecursionError ({exc}): the backward walk must be iterative"
            except Exception as exc:
                r = f"{type(exc).__name__}: {exc}"
            label = "pairwise tree" if kind == "pairwise" else "reduce(add)"
            cases.append((label, n, n - 1, r))
    print_big(f"[3] many leaves summed (n-1 add nodes), best of {runs}", "add", cases)


# --------------------------------------------------------------------------------------
# 4. peak RSS over training (child process)
# --------------------------------------------------------------------------------------


def section_viz(Tensor: Any, sizes: list[int], runs: int) -> None:
    """[5] tinygrad_fish.viz.draw_graph with max_nodes=50 on long chains (forward and
    backward views): the cap must keep it well under a second whatever the graph's size."""
    from tinygrad_fish.viz import draw_graph

    print("\n[5] draw_graph(max_nodes=50) of a chain, best of", runs)
    print(f"{'graph':<14} {'nodes':>8} {'forward ms':>11} {'backward ms':>12} {'drawn':>6}")
    print("-" * 56)
    for n in sizes:
        x = leaf(Tensor)
        y = x
        for _ in range(n):
            y = y * 1.0001
        times: dict[str, float] = {}
        drawn = 0
        for view in ("forward", "backward"):
            best = float("inf")
            for _ in range(runs):
                t0 = now()
                dot = draw_graph(y, view=view, max_nodes=50)
                best = min(best, (now() - t0) / 1e6)
            times[view] = best
            drawn = dot.source.count("->")
        print(f"{'mul chain':<14} {n:>8} {times['forward']:>11.1f} {times['backward']:>12.1f} "
              f"{drawn:>6}")


def vm_status() -> dict[str, int]:
    """VmHWM / VmRSS in kB from /proc/self/status (empty off Linux)."""
    out: dict[str, int] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(rest.split()[0])
    except OSError:
        pass
    return out


def rss_child(engine: str, steps: int, first: int, batch: int) -> None:
    """Train `steps` steps; print one JSON line with VmHWM after `first` and after `steps`."""
    rng = np.random.default_rng(1)
    n = 1000
    x = rng.random((n, 784), dtype=np.float32)
    t = np.zeros((n, 10), dtype=np.float32)
    t[np.arange(n), rng.integers(0, 10, n)] = 1.0
    if engine == "tinygrad_fish":
        from tinygrad_fish.nn import TwoLayerNet

        net: Any = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import reference

        net = reference.BookTwoLayerNet()
    pick = np.random.RandomState(0)
    marks: dict[str, Any] = {"start": vm_status()}
    t0 = time.perf_counter()
    for i in range(1, steps + 1):
        m = pick.choice(n, batch)
        grads = net.gradient(x[m], t[m])
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.1 * grads[key]
        if i == first:
            marks["first"] = vm_status()
    marks["last"] = vm_status()
    marks["seconds"] = time.perf_counter() - t0
    print("RSS " + json.dumps(marks), flush=True)


def section_rss(steps: int, first: int, batch: int) -> None:
    print(f"\n[4] peak RSS (VmHWM) over {steps} training steps, batch {batch}, child process")
    head = f"{'engine':<15}{'start MB':>10}{f'@{first} MB':>11}{f'@{steps} MB':>12}"
    head += f"{'ratio':>8}{'bytes/step':>12}{'s':>7}"
    print(head)
    print("-" * len(head))
    for engine in ("tinygrad_fish", "book"):
        argv = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--rss-child",
            engine,
            "--rss-steps",
            str(steps),
            "--rss-first",
            str(first),
            "--rss-batch",
            str(batch),
        ]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        line = next((s for s in proc.stdout.splitlines() if s.startswith("RSS ")), None)
        if proc.returncode != 0 or line is None:
            err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"{engine:<15} FAILED (exit {proc.returncode}): {err}")
            continue
        m = json.loads(line[4:])
        s, f, last = (m[k].get("VmHWM", 0) / 1024 for k in ("start", "first", "last"))
        if not f:
            print(f"{engine:<15} VmHWM not available on this system")
            continue
        growth = (last - f) * 1024 * 1024 / max(1, steps - first)
        print(
            f"{engine:<15}{s:>10.1f}{f:>11.1f}{last:>12.1f}{last / f:>8.3f}{growth:>12.0f}"
            f"{m['seconds']:>7.1f}"
        )


# --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    ap.add_argument("--sections", nargs="+", choices=ALL_SECTIONS, default=list(ALL_SECTIONS))
    ap.add_argument("--ops-n", type=int, default=None, help="ops per chain in [1] (2000)")
    ap.add_argument("--repeats", type=int, default=None, help="chains per op in [1] (15)")
    ap.add_argument("--rss-steps", type=int, default=None, help="training steps in [4] (10000)")
    ap.add_argument("--rss-first", type=int, default=None, help="first RSS mark (1000)")
    ap.add_argument("--rss-batch", type=int, default=100)
    ap.add_argument(
        "--gc-off",
        action="store_true",
        help="disable the cyclic GC while timing [1]-[3] (tells GC cost from the walk's)",
    )
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                    help="dtype of the per-op overhead section [1]")
    ap.add_argument("--rss-child", choices=("tinygrad_fish", "book"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    q = args.quick
    args.ops_n = args.ops_n or (500 if q else 2000)
    args.repeats = args.repeats or (5 if q else 15)
    args.rss_steps = args.rss_steps or (2000 if q else 10000)
    args.rss_first = args.rss_first or min(1000, args.rss_steps // 2) or 1
    args.big_sizes = [1000, 10000] if q else [10000, 100000]
    args.big_runs = 2 if q else 3
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rss_child:
        rss_child(args.rss_child, args.rss_steps, args.rss_first, args.rss_batch)
        return 0
    Tensor = load_tensor()
    import platform

    print("== bench_engine: autograd overheads of tinygrad_fish ==")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"recursion limit {sys.getrecursionlimit()}, cyclic GC {'off' if args.gc_off else 'on'}"
    )
    if args.gc_off:
        gc.disable()
    if "ops" in args.sections:
        global OPS_DTYPE
        OPS_DTYPE = np.dtype(args.dtype).type
        section_ops(Tensor, args.ops_n, args.repeats)
    if "chain" in args.sections:
        section_chain(Tensor, args.big_sizes, args.big_runs)
    if "tree" in args.sections:
        section_tree(Tensor, args.big_sizes, args.big_runs)
    if "viz" in args.sections:
        section_viz(Tensor, args.big_sizes, args.big_runs)
    gc.enable()
    if "rss" in args.sections:
        section_rss(args.rss_steps, args.rss_first, args.rss_batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
