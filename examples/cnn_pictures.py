"""Regenerate the pictures of docs/cnn.md: the SimpleConvNet loss graph (layers as boxes)
and its 30 first-layer filters, at initialization and with the book's trained weights.

Usage: ``python examples/cnn_pictures.py [OUT_DIR] [BOOK_DIR]`` (defaults: docs/images and
../shared/book). The trained filters come from the book's ``ch07/params.pkl``, read by the
restricted unpickler; without it only the graph and the initial filters are drawn.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tinygrad_fish.nn import SimpleConvNet
from tinygrad_fish.viz import draw_graph, render_graph

ROOT = Path(__file__).resolve().parent.parent


def filter_grid(W: np.ndarray, path: Path, title: str) -> None:
    """Save the filters ``W`` (FN, C, FH, FW), first channel, as a grid of grey images
    (black is the smallest weight of each filter, white the largest)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fn = W.shape[0]
    cols = 10
    rows = -(-fn // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.8, rows * 0.8 + 0.4))
    for k, ax in enumerate(np.ravel(axes)):
        ax.set_xticks([])
        ax.set_yticks([])
        if k < fn:
            ax.imshow(W[k, 0], cmap="gray", interpolation="nearest")
        else:
            ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def main(out: Path = ROOT / "docs" / "images",
         book: Path = ROOT.parent / "shared" / "book") -> list[Path]:
    """Write the pictures into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    net = SimpleConvNet(seed=0)
    x = np.random.default_rng(0).random((2, 1, 28, 28))
    loss = net.loss(x, np.array([3, 7]))
    written = [render_graph(draw_graph(loss, params=net.params, rankdir="TB",
                                       collapse=True), out / "simple_convnet.svg")]
    filter_grid(net.params["W1"], out / "filters_init.png", "W1 at initialization")
    written.append(out / "filters_init.png")
    pkl = book / "ch07" / "params.pkl"
    if pkl.exists():
        net.load_params(pkl)
        filter_grid(net.params["W1"], out / "filters_trained.png",
                    "W1 trained (the book's ch07/params.pkl)")
        written.append(out / "filters_trained.png")
    return written


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:3]]
    for p in main(*args):
        print(f"wrote {p}")
