"""The fish book's CNNs (ch07, ch08), engine by engine, side by side in one run.

What is measured
    1. One ``SimpleConvNet`` training step (the book's ch07 net: conv 30x5x5 - relu - 2x2
       max pool - affine 100 - relu - affine 10 - softmax cross-entropy): forward +
       backward + Adam (lr 0.001), batch 100 of MNIST-shaped images, float64 and float32,
       for

       * ``tinygrad_fish`` -- ``tinygrad_fish.nn.SimpleConvNet``: ``net.gradient`` then
         ``tinygrad_fish.optim.Adam().update(net.params, grads)``;
       * ``book`` -- the book's own numpy code (``ch07/simple_convnet.py`` and
         ``common/optimizer.py``), imported at run time from ``../shared/book`` (or
         ``$TINYGRAD_FISH_BOOK``) through ``sys.path``; skipped with a message when absent;
       * ``torch`` -- the same net built from ``torch.nn`` (PyTorch CPU eager) with
         ``torch.optim.Adam``, when ``import torch`` works.

       Each engine starts from the same weights and cycles through the same pool of
       batches. Both thread settings are measured: 1 BLAS thread and the default
       (numpy's BLAS through threadpoolctl, torch through ``torch.set_num_threads``).

    2. ``DeepConvNet`` inference (the book's ch08 net) over the MNIST test images with the
       book's shipped weights (``ch08/deep_convnet_params.pkl``): our time against the book's
       code, whether the predictions are identical, and both accuracies (the book: 0.9797).
       Ours runs as inference runs in PyTorch, with no graph recorded (``no_grad``, as
       ``net.accuracy`` does); a second row times ``predict`` recording the graph.
       Needs the real MNIST (``$TINYGRAD_FISH_DATA``); skipped with a message without it.

How it is measured
    ``time.perf_counter`` over ``--steps`` consecutive steps, per engine in turn, repeated
    ``--repeats`` times round-robin (A B C A B C ...) so drifts of a shared machine hit
    every engine alike; the median of the repeats is reported, with min-max. Inference is
    timed the same way (batches of 100, as the book's ``accuracy``), ``--infer-repeats``
    times.

Usage::

    python benchmarks/bench_cnn.py [--repeats 5] [--steps 5] [--images 10000]
        [--infer-repeats 3] [--threads 1 default] [--sections step infer]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tinygrad_fish import no_grad, optim  # noqa: E402
from tinygrad_fish.nn import DeepConvNet, SimpleConvNet  # noqa: E402

BATCH = 100
POOL = 4  # batches cycled through by every engine


def book_root() -> Path | None:
    """The book's repository, or None (with a message) when it is absent."""
    env = os.environ.get("TINYGRAD_FISH_BOOK")
    root = Path(env).expanduser() if env else REPO.parent / "shared" / "book"
    if not (root / "common" / "layers.py").is_file():
        print(f"[skip] the book's code: not found at {root} (set TINYGRAD_FISH_BOOK)")
        return None
    return root


def import_book(root: Path, rel: str, name: str) -> ModuleType:
    """Import the book's module ``rel`` (e.g. ``ch07/simple_convnet.py``), its ``common``
    package found through ``sys.path``."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    spec = importlib.util.spec_from_file_location(name, root / rel)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def try_torch() -> Any:
    try:
        import torch
    except ImportError:
        print("[skip] torch: not importable")
        return None
    return torch


@contextlib.contextmanager
def threads(n: int | None, torch: Any) -> Iterator[None]:
    """numpy's BLAS (and torch) limited to ``n`` threads; None: the defaults."""
    from threadpoolctl import threadpool_limits

    old = torch.get_num_threads() if torch is not None else 0
    if torch is not None:
        torch.set_num_threads(n if n is not None else os.cpu_count() or 1)
    try:
        if n is None:
            with threadpool_limits(limits=os.cpu_count() or 1, user_api="blas"):
                yield
        else:
            with threadpool_limits(limits=n, user_api="blas"):
                yield
    finally:
        if torch is not None:
            torch.set_num_threads(old)


def fmt_ms(samples: list[float]) -> str:
    return (f"{statistics.median(samples) * 1e3:9.1f} ms  "
            f"({min(samples) * 1e3:.1f}-{max(samples) * 1e3:.1f})")


# --- 1. one SimpleConvNet training step ------------------------------------------------------
def step_engines(dtype: type, book: Path | None, torch: Any, seed: int = 0
                 ) -> dict[str, Callable[[int], None]]:
    """``{name: run(k)}``: ``run(k)`` does training step ``k`` (batch ``k % POOL``)."""
    rng = np.random.default_rng(seed)
    xs = [rng.random((BATCH, 1, 28, 28)).astype(dtype) for _ in range(POOL)]
    ts = [rng.integers(0, 10, BATCH) for _ in range(POOL)]
    ours = SimpleConvNet(dtype=dtype, seed=seed)
    init = {k: np.array(v, dtype=dtype) for k, v in ours.params.items()}
    adam = optim.Adam()
    engines: dict[str, Callable[[int], None]] = {}

    def run_ours(k: int) -> None:
        grads = ours.gradient(xs[k % POOL], ts[k % POOL])
        adam.update(ours.params, grads)

    engines["tinygrad_fish"] = run_ours
    if book is not None:
        bmod = import_book(book, "ch07/simple_convnet.py", "book_simple_convnet")
        bopt = import_book(book, "common/optimizer.py", "book_optimizer")
        bnet = bmod.SimpleConvNet()
        for key, v in init.items():  # the same weights (the layers share these arrays)
            bnet.params[key][...] = v
            if dtype is np.float32:
                bnet.params[key] = bnet.params[key].astype(np.float32)
        if dtype is np.float32:  # re-point the layers at the float32 arrays
            for i, name in ((1, "Conv1"), (2, "Affine1"), (3, "Affine2")):
                bnet.layers[name].W = bnet.params[f"W{i}"]
                bnet.layers[name].b = bnet.params[f"b{i}"]
        badam = bopt.Adam()

        def run_book(k: int) -> None:
            grads = bnet.gradient(xs[k % POOL], ts[k % POOL])
            badam.update(bnet.params, grads)

        engines["book"] = run_book
    if torch is not None:
        tdt = torch.float64 if dtype is np.float64 else torch.float32
        conv = torch.nn.Conv2d(1, 30, 5)
        fc1, fc2 = torch.nn.Linear(4320, 100), torch.nn.Linear(100, 10)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(init["W1"]))
            conv.bias.copy_(torch.from_numpy(init["b1"]))
            fc1.weight.copy_(torch.from_numpy(init["W2"].T.copy()))
            fc1.bias.copy_(torch.from_numpy(init["b2"]))
            fc2.weight.copy_(torch.from_numpy(init["W3"].T.copy()))
            fc2.bias.copy_(torch.from_numpy(init["b3"]))
        net = torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.MaxPool2d(2, 2),
                                  torch.nn.Flatten(), fc1, torch.nn.ReLU(), fc2).to(tdt)
        topt = torch.optim.Adam(net.parameters(), lr=0.001, eps=1e-7)
        txs = [torch.from_numpy(x) for x in xs]
        tts = [torch.from_numpy(t) for t in ts]

        def run_torch(k: int) -> None:
            topt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(txs[k % POOL]), tts[k % POOL])
            loss.backward()
            topt.step()

        engines["torch"] = run_torch
    return engines


def bench_step(args: argparse.Namespace, book: Path | None, torch: Any) -> None:
    for dtype in (np.float64, np.float32):
        for n in args.threads:
            nthreads = None if n == "default" else int(n)
            label = "default threads" if nthreads is None else f"{nthreads} BLAS thread(s)"
            print(f"\n## SimpleConvNet step, batch {BATCH}, {np.dtype(dtype).name}, {label}")
            engines = step_engines(dtype, book, torch)
            samples: dict[str, list[float]] = {k: [] for k in engines}
            with threads(nthreads, torch):
                for run in engines.values():  # warm-up
                    run(0)
                    run(1)
                for _ in range(args.repeats):
                    for name, run in engines.items():
                        t0 = time.perf_counter()
                        for k in range(args.steps):
                            run(k)
                        samples[name].append((time.perf_counter() - t0) / args.steps)
            med = {k: statistics.median(v) for k, v in samples.items()}
            for name, s in samples.items():
                ratios = "  ".join(f"x{med[name] / med[o]:.2f} vs {o}"
                                   for o in ("book", "torch") if o in med and o != name)
                print(f"  {name:14s} {fmt_ms(s)}  {ratios}")


# --- 2. DeepConvNet inference with the book's weights ---------------------------------------
def bench_infer(args: argparse.Namespace, book: Path | None) -> None:
    print(f"\n## DeepConvNet inference, {args.images} MNIST test images, batches of 100, "
          "1 BLAS thread")
    if book is None:
        return
    try:
        from tinygrad_fish.datasets import load_mnist

        (_, _), (x_test, t_test) = load_mnist(flatten=False)
    except Exception as e:  # no data: say so, measure nothing
        print(f"[skip] MNIST: {type(e).__name__}: {e}")
        return
    x, t = x_test[: args.images], t_test[: args.images]
    weights = book / "ch08" / "deep_convnet_params.pkl"
    ours = DeepConvNet()
    ours.load_params(weights)
    bmod = import_book(book, "ch08/deep_convnet.py", "book_deep_convnet")
    bnet = bmod.DeepConvNet()
    bnet.load_params(str(weights))  # the book's own loader (its own file: pickle)

    def batches(predict: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        return np.concatenate([np.argmax(predict(x[i:i + 100]), axis=1)
                               for i in range(0, len(x), 100)])

    def pred_ours() -> np.ndarray:  # inference as PyTorch runs it: no graph recorded
        with no_grad():
            return batches(lambda xb: ours.predict(xb).data)

    def pred_ours_graph() -> np.ndarray:  # predict with the graph recorded (params
        return batches(lambda xb: ours.predict(xb).data)  # require grad): for comparison

    def pred_book() -> np.ndarray:
        return batches(lambda xb: bnet.predict(xb, train_flg=False))

    engines = {"tinygrad_fish": pred_ours, "ours, graph": pred_ours_graph, "book": pred_book}
    samples: dict[str, list[float]] = {k: [] for k in engines}
    preds: dict[str, np.ndarray] = {}
    with threads(1, None):
        for _ in range(args.infer_repeats):
            for name, run in engines.items():
                t0 = time.perf_counter()
                preds[name] = run()
                samples[name].append(time.perf_counter() - t0)
    # ``net.accuracy`` (the book's scripts' call) runs ``predict`` under ``no_grad``: the
    # first row's time. The second row records the graph a backward would need.
    for name, s in samples.items():
        med = statistics.median(s)
        acc = float(np.mean(preds[name] == t))
        print(f"  {name:14s} {med:8.2f} s  ({min(s):.2f}-{max(s):.2f})  accuracy {acc:.4f}"
              + (f"  x{med / statistics.median(samples['book']):.2f} vs book"
                 if name != "book" else ""))
    for name in ("tinygrad_fish", "ours, graph"):
        same = np.array_equal(preds[name], preds["book"])
        print(f"  {name}: identical predictions to the book's: {same}"
              + ("" if same else f" ({int(np.sum(preds[name] != preds['book']))} differ)"))
    acc_ours = ours.accuracy(x, t)
    acc_book = bnet.accuracy(x, t)
    print(f"  accuracy(): tinygrad_fish {acc_ours:.4f}, book {acc_book:.4f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="timed blocks per engine")
    p.add_argument("--steps", type=int, default=5, help="training steps per timed block")
    p.add_argument("--images", type=int, default=10000, help="test images to classify")
    p.add_argument("--infer-repeats", type=int, default=3, help="timed inference passes")
    p.add_argument("--threads", nargs="+", default=["1", "default"],
                   help="BLAS thread settings: numbers and/or 'default'")
    p.add_argument("--sections", nargs="+", default=["step", "infer"],
                   choices=["step", "infer"])
    args = p.parse_args()
    print(f"# bench_cnn: python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    book = book_root()
    torch = try_torch() if "step" in args.sections else None
    if torch is not None:
        print(f"# torch {torch.__version__}")
    if "step" in args.sections:
        bench_step(args, book, torch)
    if "infer" in args.sections:
        bench_infer(args, book)


if __name__ == "__main__":
    main()
