"""The book's demo graph: :func:`render_book_graph` draws TwoLayerNet's loss."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..tensor import Tensor
from .draw import draw_graph
from .render import render_graph


def _book_loss(seed: int) -> tuple[Tensor, Any]:
    """The book's TwoLayerNet (784-50-10) and its loss on one mini-batch of 100."""
    from ..nn import TwoLayerNet

    rng = np.random.default_rng(seed)
    x: np.ndarray[Any, Any]
    t: np.ndarray[Any, Any]
    if os.environ.get("TINYGRAD_FISH_DATA"):
        from ..datasets import load_mnist

        (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True, download=False)
        mask = rng.choice(len(x_train), 100, replace=False)
        x, t = x_train[mask].astype(np.float64), t_train[mask].astype(np.float64)
    else:
        x = rng.random((100, 784))
        t = np.eye(10)[rng.integers(0, 10, size=100)]
    net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, seed=seed)
    loss = net.loss(Tensor(x, name="x"), Tensor(t, name="t"))
    if not isinstance(loss, Tensor):  # pragma: no cover - depends on nn's API
        raise TypeError(f"TwoLayerNet.loss returned {type(loss).__name__}, expected a Tensor")
    return loss, net


def render_book_graph(
    out: str | os.PathLike[str],
    *,
    view: Literal["forward", "backward"] = "forward",
    show_values: bool = False,
    legend: bool = False,
    collapse: bool = False,
    seed: int = 0,
    backward: bool | None = None,
    values: bool | None = None,
) -> Path:
    """Render the loss graph of the book's TwoLayerNet (784-50-10) on one mini-batch of 100.

    The batch is random (seeded), or drawn from MNIST when ``$TINYGRAD_FISH_DATA`` is set.

    Args:
        out: the file to write; the format is taken from its suffix (see :func:`render_graph`).
        view: ``"forward"`` or ``"backward"`` (gradient functions, gradient shapes on
            edges), as in :func:`draw_graph`.
        show_values: show values (and, in the backward view, the gradients after one
            backward pass).
        legend: add the legend (off by default, as in :func:`draw_graph`).
        collapse: draw each layer as one node.
        seed: seed of the random batch and weights.
        backward: deprecated alias: ``backward=True`` is ``view="backward"``.
        values: deprecated alias of ``show_values``.

    Returns:
        The path written.

    Raises:
        ValueError: ``out`` has an unknown suffix.
        GraphvizNotFoundError: the format needs the ``dot`` program and it is not
            installed.
        DatasetError: ``$TINYGRAD_FISH_DATA`` is set but does not hold an intact MNIST
            (nothing is downloaded).
    """
    if backward is not None:
        warnings.warn(
            "render_book_graph(backward=...) is deprecated: use view='backward' "
            "(or view='forward')",
            DeprecationWarning,
            stacklevel=2,
        )
        view = "backward" if backward else "forward"
    if values is not None:
        warnings.warn(
            "render_book_graph(values=...) is deprecated: use show_values=...",
            DeprecationWarning,
            stacklevel=2,
        )
        show_values = values
    if view not in ("forward", "backward"):
        raise ValueError(f"render_book_graph(): view must be 'forward' or 'backward', got {view!r}")
    back = view == "backward"
    loss, net = _book_loss(seed)
    if loss.name is None:
        loss.name = "loss"
    if back and show_values:
        loss.backward(retain_graph=True)
    has_named = callable(getattr(net, "named_parameters", None))
    params = net if has_named else getattr(net, "params", None)
    dot = draw_graph(
        loss,
        view=view,
        params=params,
        show_values=show_values,
        show_grads=show_values and back,
        collapse=collapse,
        legend=legend,
        rankdir="TB",
    )
    return render_graph(dot, out)
