"""Per-step time of one training step of the fish book's two-layer net, engine by engine.

What is measured
    One step = forward + backward + SGD update of the 784-50-10 Affine-ReLU-Affine-
    SoftmaxWithLoss net (lr 0.1), as the book's training loop does it, for:

    * ``tinygrad_fish float64/float32`` -- ``tinygrad_fish.nn.TwoLayerNet``: ``net.gradient``
      then ``net.params[key] -= lr * grads[key]`` (skipped with a message if not importable);
    * ``tinygrad_fish replay float64/float32`` -- the same with ``net.replay = True``
      (``tinygrad_fish.replay``: each step a replay of the captured one);
    * ``book float64/float32`` -- the book's layers (``reference.BookTwoLayerNet``);
    * ``floor float64/float32`` -- the fewest numpy calls for one step (``reference.FloorNet``);
    * ``torch float32`` -- PyTorch CPU eager (skipped if ``import torch`` fails), with torch's
      thread count set to numpy's BLAS thread count.

    Data: a fixed synthetic MNIST-shaped float32 array (60000 x 784 in [0, 1], one-hot float32
    labels); for each batch size a pool of mini-batches is drawn once with the book's
    ``np.random.choice`` and every engine cycles through the same pool.  tinygrad_fish and the
    book are fed the float32 batches as the book's loop feeds them (the float64 book upcasts
    inside each step); the floor and torch get batches converted once, up front and outside
    the timed region, to their own dtype.  Weights are reset to the shared initial weights
    (untimed) before every timed block so no engine drifts into a different numeric regime.

How it is measured
    Before timing, a correctness guard runs one step of every engine from the same weights and
    batch and requires the updated weights to match the book's to 1e-5 (float32) / 1e-10
    (float64), and six replayed steps to give the plain engine's weights bit for bit.
    Then each engine is warmed up and its block size chosen so one timed block of
    consecutive steps lasts about ``--block-ms`` (default 20 ms).  Timing is interleaved
    round-robin -- A B C D A B C D ... -- so slow drifts of a shared, noisy machine hit every
    engine alike; each sample is ``time.perf_counter_ns`` over one block divided by its steps.

Reading the output
    One table per batch size: median µs per step, min-max over the samples, steps per block,
    and the median's ratio to the book (same dtype), to the numpy floor (same dtype) and to
    torch float32.  ``x2.0`` in the "vs floor" column means twice the time of the floor.
    Medians are what to compare; a wide min-max means the machine was busy.

Usage::

    python benchmarks/bench_train_step.py [--repeats N] [--batch-sizes 1 100 1000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import reference as ref
from numpy.typing import NDArray

LR = 0.1
POOL = 8  # mini-batches per batch size, cycled through by every engine


@dataclass
class Engine:
    """One timed contender at one batch size."""

    name: str  # e.g. "book float64"
    kind: str  # tinygrad_fish | book | floor | torch
    dtype: str  # float32 | float64
    step: Callable[[Any, Any, float], Any]
    xs: list[Any]
    ts: list[Any]
    reset: Callable[[], None]
    steps_per_block: int = 1
    samples_ns: list[float] = field(default_factory=list)  # per-step, one per block
    _i: int = 0

    def run(self, n: int) -> None:
        step, xs, ts, k = self.step, self.xs, self.ts, len(self.xs)
        i = self._i
        for _ in range(n):
            step(xs[i], ts[i], LR)
            i = (i + 1) % k
        self._i = i

    def timed_block(self) -> float:
        """Reset the weights (untimed), run one block; return ns per step."""
        self.reset()
        n = self.steps_per_block
        t0 = time.perf_counter_ns()
        self.run(n)
        return (time.perf_counter_ns() - t0) / n


# --------------------------------------------------------------------------------------
# Environment report
# --------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(Path(__file__).resolve().parent), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def thread_report() -> list[str]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError as exc:
        return [f"threadpoolctl unavailable ({exc}); BLAS vendor and threads unknown"]
    lines = []
    for p in threadpool_info():
        lines.append(
            f"{p.get('user_api')}: {p.get('internal_api')} {p.get('version') or ''}"
            f" threads={p.get('num_threads')} arch={p.get('architecture', '-')}"
            f" ({Path(str(p.get('filepath', ''))).name})"
        )
    return lines or ["threadpoolctl found no thread pools"]


def print_header(torch_info: str, tgf_info: str) -> None:
    print("== bench_train_step: one SGD step of the book's 784-50-10 two-layer net ==")
    print(f"python {platform.python_version()} ({platform.python_implementation()})")
    print(f"numpy {np.__version__}, torch {torch_info}")
    print(f"tinygrad_fish: {tgf_info} (tree {git_revision()})")
    print(f"cpu: {cpu_model()}; os.cpu_count()={os.cpu_count()}; loadavg {os.getloadavg()}")
    for line in thread_report():
        print(f"threads: {line}")


# --------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------


def load_tinygrad_fish() -> tuple[Any, str]:
    """(TwoLayerNet class, "") or (None, reason)."""
    try:
        from tinygrad_fish.nn import TwoLayerNet
    except Exception as exc:  # not written yet, or broken mid-edit
        return None, f"{type(exc).__name__}: {exc}"
    return TwoLayerNet, ""


def make_tgf_net(cls: Any, dtype: Any, p0: ref.Params, replay: bool = False) -> Any:
    net = cls(input_size=784, hidden_size=50, output_size=10, weight_init_std=0.01, dtype=dtype)
    for k in ref.PARAM_KEYS:
        net.params[k][...] = p0[k]
    net.replay = replay
    return net


def tgf_step(net: Any) -> Callable[[Any, Any, float], None]:
    def step(x: Any, t: Any, lr: float) -> None:
        grads = net.gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= lr * grads[key]

    return step


def as_float(v: Any) -> float:
    """A loss from any engine (numpy scalar, 0-d array, or a Tensor) as a Python float."""
    for attr in ("item", "numpy"):
        if hasattr(v, attr) and not isinstance(v, (float, int)):
            try:
                return float(np.asarray(getattr(v, attr)()))
            except Exception:
                continue
    return float(v)


def tgf_stepper(cls: Any, dtype: Any) -> ref.Stepper:
    def run(p: ref.Params, x: Any, t: Any, lr: float) -> tuple[ref.Params, float]:
        net = make_tgf_net(cls, dtype, p)
        loss = as_float(net.loss(x, t))  # same weights: the loss the step's forward sees
        tgf_step(net)(x, t, lr)
        return {k: np.array(net.params[k]) for k in ref.PARAM_KEYS}, loss

    return run


def params_resetter(params: ref.Params, p0: ref.Params) -> Callable[[], None]:
    def reset() -> None:
        for k in ref.PARAM_KEYS:
            params[k][...] = p0[k]

    return reset


def build_engines(
    batch_size: int,
    x_train: NDArray[np.float32],
    t_train: NDArray[np.float32],
    p0: ref.Params,
    tgf_cls: Any,
    with_torch: bool,
    rng: np.random.RandomState,
) -> list[Engine]:
    masks = [rng.choice(x_train.shape[0], batch_size) for _ in range(POOL)]
    x32 = [x_train[m] for m in masks]
    t32 = [t_train[m] for m in masks]
    x64 = [x.astype(np.float64) for x in x32]  # converted once, outside timing
    t64 = [t.astype(np.float64) for t in t32]
    engines: list[Engine] = []
    if tgf_cls is not None:
        for dt, replay in ((np.float64, False), (np.float32, False), (np.float64, True),
                           (np.float32, True)):
            net = make_tgf_net(tgf_cls, dt, p0, replay)
            engines.append(
                Engine(
                    f"tinygrad_fish{' replay' if replay else ''} {np.dtype(dt).name}",
                    "tinygrad_fish",
                    np.dtype(dt).name,
                    tgf_step(net),
                    x32,
                    t32,
                    params_resetter(net.params, p0),
                )
            )
    for dt in (np.float64, np.float32):
        book = ref.BookTwoLayerNet(dtype=None if dt is np.float64 else dt)
        book.load_params(p0)
        engines.append(
            Engine(
                f"book {np.dtype(dt).name}",
                "book",
                np.dtype(dt).name,
                book.step,
                x32,
                t32,
                params_resetter(book.params, p0),
            )
        )
    for dt, xs, ts in ((np.float64, x64, t64), (np.float32, x32, t32)):
        floor = ref.FloorNet(p0, dt)
        engines.append(
            Engine(
                f"floor {np.dtype(dt).name}",
                "floor",
                np.dtype(dt).name,
                floor.step,
                xs,
                ts,
                params_resetter(floor.params, p0),
            )
        )
    if with_torch:
        tnet = ref.TorchNet(p0, np.float32)
        engines.append(
            Engine(
                "torch float32",
                "torch",
                "float32",
                tnet.step,
                [tnet.to_input(x) for x in x32],
                [tnet.to_input(t) for t in t32],
                lambda: tnet.load_params(p0),
            )
        )
    return engines


# --------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------


def calibrate(engine: Engine, block_ns: float, warmup_ns: float) -> None:
    """Warm up (at least 3 steps and ~warmup_ns) and pick steps_per_block for ~block_ns."""
    engine.reset()
    engine.run(3)
    steps, t0 = 0, time.perf_counter_ns()
    while True:
        engine.run(1)
        steps += 1
        elapsed = time.perf_counter_ns() - t0
        if elapsed >= warmup_ns and steps >= 3:
            break
    per_step = elapsed / steps
    engine.steps_per_block = max(1, round(block_ns / per_step))


def guard(batch_size: int, tgf_cls: Any, with_torch: bool) -> tuple[bool, str]:
    """Correctness guard. References must agree (else abort); returns tinygrad_fish status."""
    print(f"correctness guard, batch {batch_size}:")
    ref.check_agreement(ref.reference_steppers(with_torch), batch_size=batch_size, lr=LR)
    if tgf_cls is None:
        return False, "unavailable"
    for dt in (np.float64, np.float32):
        name = np.dtype(dt).name
        try:
            ref.check_agreement(
                {
                    f"book {name}": (name, ref.book_one_step(None if dt is np.float64 else dt)),
                    f"tinygrad_fish {name}": (name, tgf_stepper(tgf_cls, dt)),
                },
                batch_size=batch_size,
                lr=LR,
            )
        except Exception as exc:
            return False, f"FAILED the correctness guard ({type(exc).__name__}: {exc})"
        why = replay_guard(tgf_cls, dt, batch_size)
        if why:
            return False, why
    return True, ""


def replay_guard(tgf_cls: Any, dtype: Any, batch_size: int, steps: int = 6) -> str:
    """Six steps with ``net.replay = True`` against six plain ones from the same weights
    and batches: the weights must be the same bits. Returns "" or what went wrong."""
    x_all, t_all = ref.synthetic_mnist(batch_size * steps, seed=7)
    p0 = ref.init_params(3)
    nets = [make_tgf_net(tgf_cls, dtype, p0, replay) for replay in (False, True)]
    for i in range(steps):
        x = x_all[i * batch_size:(i + 1) * batch_size]
        t = t_all[i * batch_size:(i + 1) * batch_size]
        for net in nets:
            tgf_step(net)(x, t, LR)
    name = np.dtype(dtype).name
    for k in ref.PARAM_KEYS:
        if nets[0].params[k].tobytes() != nets[1].params[k].tobytes():
            return f"FAILED the replay guard: {name} {k} differs from the plain engine's"
    status = nets[1].replay_status()
    print(f"  guard tinygrad_fish replay {name}: {steps} steps bit-identical to the plain "
          f"engine ({'; '.join(status.values())})")
    return ""


def ratio(a: float, b: float | None) -> str:
    return f"x{a / b:.2f}" if b else "-"


def report(batch_size: int, engines: list[Engine]) -> None:
    med = {e.name: statistics.median(e.samples_ns) for e in engines}
    torch_med = med.get("torch float32")
    print(f"\nbatch size {batch_size}  (µs per step; {len(engines[0].samples_ns)} samples each)")
    head = f"{'engine':<29}{'median':>10}{'min - max':>22}{'steps/blk':>10}"
    head += f"{'vs book':>9}{'vs floor':>10}{'vs torch32':>12}"
    print(head)
    print("-" * len(head))
    for e in engines:
        m = med[e.name]
        lo, hi = min(e.samples_ns), max(e.samples_ns)
        print(
            f"{e.name:<29}{m / 1e3:>10.1f}{f'{lo / 1e3:.1f} - {hi / 1e3:.1f}':>22}"
            f"{e.steps_per_block:>10}"
            f"{ratio(m, med.get(f'book {e.dtype}')):>9}"
            f"{ratio(m, med.get(f'floor {e.dtype}')):>10}"
            f"{ratio(m, torch_med):>12}"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=None, help="timed blocks per engine (50)")
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 100, 1000])
    ap.add_argument("--block-ms", type=float, default=None, help="target ms per block (20)")
    ap.add_argument("--quick", action="store_true", help="10 repeats of 5 ms blocks")
    ap.add_argument("--no-torch", action="store_true", help="leave torch out")
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit BLAS (and torch) to N threads via threadpoolctl; default: leave as is",
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.repeats is None:
        args.repeats = 10 if args.quick else 50
    if args.block_ms is None:
        args.block_ms = 5.0 if args.quick else 20.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is None:
        return run(args)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("--threads needs threadpoolctl (pip install threadpoolctl)")
        return 2
    with threadpool_limits(limits=args.threads):
        return run(args)


def run(args: argparse.Namespace) -> int:
    torch_ok, torch_info = ref.torch_available()
    with_torch = torch_ok and not args.no_torch
    if with_torch:
        import torch

        threads = ref.numpy_blas_threads()
        if threads:
            torch.set_num_threads(threads)
        torch_info += f" (intra-op threads {torch.get_num_threads()})"
    elif not torch_ok:
        torch_info = f"unavailable ({torch_info})"
    else:
        torch_info += " (left out: --no-torch)"
    tgf_cls, why = load_tinygrad_fish()
    print_header(torch_info, "available" if tgf_cls is not None else f"unavailable ({why})")
    if tgf_cls is None:
        print(f"tinygrad_fish: unavailable ({why}); timing the references only")
    print(f"repeats {args.repeats}, blocks of ~{args.block_ms:g} ms, pool of {POOL} batches")

    x_train, t_train = ref.synthetic_mnist(60000, seed=args.seed + 1)
    p0 = ref.init_params(args.seed)
    rng = np.random.RandomState(args.seed)
    status = 0
    t_start = time.perf_counter()
    for bs in args.batch_sizes:
        ok, why = guard(bs, tgf_cls, with_torch)
        use_tgf = tgf_cls if ok else None
        if tgf_cls is not None and not ok:
            print(f"tinygrad_fish: {why}; not timed")
            status = 1
        engines = build_engines(bs, x_train, t_train, p0, use_tgf, with_torch, rng)
        for e in engines:
            calibrate(e, args.block_ms * 1e6, warmup_ns=max(2 * args.block_ms, 10) * 1e6)
        for _ in range(args.repeats):  # round-robin: A B C D A B C D ...
            for e in engines:
                e.samples_ns.append(e.timed_block())
        report(bs, engines)
        print()
    print(f"total {time.perf_counter() - t_start:.1f} s; loadavg now {os.getloadavg()}")
    return status


if __name__ == "__main__":
    sys.exit(main())
