"""Draw the pictures in docs/images/: the book's two-layer net and the derivatives of tanh.

Run from the repository root (needs the Graphviz ``dot`` program, e.g. ``apt-get install
graphviz``)::

    python examples/draw_graphs.py [OUT_DIR] [--train]

It writes:

* ``two_layer_net_forward.{svg,png}``: the loss graph of TwoLayerNet (784-50-10) on a
  mini-batch of 100, each layer boxed as in the book's figures.
* ``two_layer_net_backward.{svg,png}``: the walk ``loss.backward()`` does through it, with the
  shape of every gradient on the edges.
* ``two_layer_net_collapsed.{svg,png}``: the same forward graph, one node per layer.
* ``tanh_0.{svg,png}`` ... ``tanh_3.{svg,png}``: ``y = tanh(x)`` and the graphs that compute its
  first, second and third derivatives. As in DeZero, each derivative is obtained by
  ``backward(create_graph=True)`` on the previous one, so it is a graph itself and can be
  differentiated again; each picture is bigger than the last.
* with ``--train``: ``train_curves.png``, the loss and accuracy curves of
  ``tinygrad-fish train --seed 0`` (the tutorial's full run; reads MNIST).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tinygrad_fish import Tensor
from tinygrad_fish.viz import draw_graph, render_book_graph, render_graph

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"
SUFFIXES = (".svg", ".png")


def draw_two_layer_net(out: Path) -> list[Path]:
    """The book's network: forward, backward and collapsed views."""
    written = []
    for suffix in SUFFIXES:
        written.append(render_book_graph(out / f"two_layer_net_forward{suffix}"))
        written.append(render_book_graph(out / f"two_layer_net_backward{suffix}", view="backward"))
        written.append(render_book_graph(out / f"two_layer_net_collapsed{suffix}", collapse=True))
    return written


def draw_tanh_derivatives(out: Path, orders: int = 3) -> list[Path]:
    """y = tanh(x), then its derivatives by repeated backward(create_graph=True)."""
    x = Tensor(1.0, requires_grad=True, name="x")
    y = x.tanh()
    y.name = "y"
    written = [render_graph(draw_graph(y, rankdir="LR"), out / f"tanh_0{s}") for s in SUFFIXES]
    g = y
    for order in range(1, orders + 1):
        x.grad = None  # DeZero's cleargrad: each derivative starts from scratch
        g.backward(create_graph=True)
        assert x.grad is not None
        g = x.grad
        g.name = "gx" if order == 1 else f"gx{order}"
        dot = draw_graph(g)
        written += [render_graph(dot, out / f"tanh_{order}{s}") for s in SUFFIXES]
    return written


def draw_train_curves(out: Path) -> list[Path]:
    """The tutorial's accuracy curve: ``tinygrad-fish train --seed 0`` (the book's defaults,
    10,000 iterations; needs MNIST) and its ``curves.png``."""
    import shutil
    import tempfile

    from tinygrad_fish.cli import main as cli_main

    with tempfile.TemporaryDirectory() as tmp:
        if cli_main(["train", "--seed", "0", "--out", tmp]) != 0:
            raise SystemExit("training failed: see the message above")
        target = out / "train_curves.png"
        shutil.copyfile(Path(tmp) / "curves.png", target)
    return [target]


def draw_buy_apple(out: Path) -> list[Path]:
    """The book's ch05 buy-apple figure: values above each edge, gradients below."""
    from tinygrad_fish.viz import draw_book_style

    apple = Tensor(100.0, requires_grad=True, name="apple")
    num = Tensor(2.0, requires_grad=True, name="apple_num")
    tax = Tensor(1.1, requires_grad=True, name="tax")
    price = apple * num * tax
    price.name = "price"
    return [render_graph(draw_book_style(price), out / f"buy_apple{s}") for s in SUFFIXES]


def main(argv: list[str] | None = None) -> None:
    """Write every picture into ``OUT_DIR`` (default: docs/images/); with ``--train`` also
    the accuracy curve of a full training run (about 15 s more, reads MNIST)."""
    args = sys.argv[1:] if argv is None else list(argv)
    train = "--train" in args
    args = [a for a in args if a != "--train"]
    out = Path(args[0]) if args else OUT
    paths = [*draw_two_layer_net(out), *draw_tanh_derivatives(out), *draw_buy_apple(out)]
    if train:
        paths += draw_train_curves(out)
    for path in paths:
        print(path)


if __name__ == "__main__":
    main()
