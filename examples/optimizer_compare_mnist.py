"""SGD, Momentum, AdaGrad and Adam on MNIST: the fish book's ch06 optimizer_compare_mnist.py.

Four copies of the book's MultiLayerNet (784 -> 100 x 4 -> 10, ReLU, He init), started from
the same weights, see the same mini-batches of 128; each is trained by one optimizer with the
book's default hyperparameters (SGD lr 0.01, Momentum lr 0.01 / 0.9, AdaGrad lr 0.01, Adam
lr 0.001). Every 100 iterations the losses are printed as the book prints them; at the end
the four loss curves (smoothed with the book's ``smooth_curve``) are drawn in one figure.

Usage::

    python examples/optimizer_compare_mnist.py [OUT.png] [--iters 2000] [--seed 0] [--data DIR]

MNIST comes from ``--data``, else ``$TINYGRAD_FISH_DATA``, else the download cache.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tinygrad_fish.datasets import load_mnist
from tinygrad_fish.nn import MultiLayerNet
from tinygrad_fish.optim import SGD, AdaGrad, Adam, Momentum, Optimizer


def smooth_curve(x: Sequence[float]) -> npt.NDArray[np.float64]:
    """The book's ``common/util.smooth_curve``: a Kaiser-window moving average, same length.

    (Series shorter than the window are returned as they are.)
    """
    window_len = 11
    xs = np.asarray(x, dtype=np.float64)
    if len(xs) < window_len:
        return xs
    s = np.r_[xs[window_len - 1 : 0 : -1], xs, xs[-1:-window_len:-1]]
    w = np.kaiser(window_len, 2)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[5 : len(y) - 5]


def compare(
    iters: int, seed: int, data: Path | None
) -> dict[str, list[float]]:
    """Train the four networks for ``iters`` iterations; their losses per iteration, by name."""
    # 0: read MNIST
    (x_train, t_train), _ = load_mnist(normalize=True, root=data)
    train_size = x_train.shape[0]
    batch_size = 128

    # 1: the experiment
    optimizers: dict[str, Optimizer] = {
        "SGD": SGD(), "Momentum": Momentum(), "AdaGrad": AdaGrad(), "Adam": Adam(),
    }
    networks = {
        key: MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100],
                           output_size=10, seed=seed)
        for key in optimizers
    }
    train_loss: dict[str, list[float]] = {key: [] for key in optimizers}
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])

    # 2: training
    for i in range(iters):
        batch_mask = rng.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        for key in optimizers:
            grads = networks[key].gradient(x_batch, t_batch)
            optimizers[key].update(networks[key].params, grads)

            loss = networks[key].loss(x_batch, t_batch)
            train_loss[key].append(float(loss.item()))

        if i % 100 == 0:
            print("===========" + "iteration:" + str(i) + "===========")
            for key in optimizers:
                print(key + ":" + str(train_loss[key][-1]))
    return train_loss


def plot(train_loss: dict[str, list[float]], out: Path) -> None:
    """3: the book's figure: the smoothed loss curves, one marker per optimizer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    markers = {"SGD": "o", "Momentum": "x", "AdaGrad": "s", "Adam": "D"}
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for key, losses in train_loss.items():
        x = np.arange(len(losses))
        ax.plot(x, smooth_curve(losses), marker=markers[key], markevery=100, label=key)
    ax.set_xlabel("iterations")
    ax.set_ylabel("loss")
    ax.set_ylim(0, 1)
    ax.set_title("MultiLayerNet 784-100x4-10 on MNIST, batch 128")
    ax.legend()
    fig.savefig(out, dpi=100)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out", nargs="?", type=Path,
                        default=Path("optimizer_compare_mnist.png"),
                        help="the PNG to write (default: optimizer_compare_mnist.png)")
    parser.add_argument("--iters", type=int, default=2000, help="iterations (default: 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and batches")
    parser.add_argument("--data", type=Path, default=None, help="MNIST directory")
    args = parser.parse_args(argv)
    if args.iters < 1:
        parser.error("--iters must be positive")
    train_loss = compare(args.iters, args.seed, args.data)
    plot(train_loss, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
