"""``tinygrad-fish graph``: draw the book's two-layer net with
:func:`tinygrad_fish.viz.render_book_graph`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import CLIError


def _cmd_graph(args: argparse.Namespace) -> int:
    """``graph``: render the graph to ``--out`` (its directory created when missing, as
    ``train --out`` does). ``--backward`` is a deprecated alias of ``--view backward``."""
    from ..viz import render_book_graph

    out: Path | None = args.out
    anim: Path | None = args.animate
    if out is None and anim is None:
        raise CLIError("graph: give --out FILE (a drawing) or --animate FILE.html (or both)")
    view = args.view
    if args.backward:
        print("tinygrad-fish graph: --backward is deprecated, use --view backward",
              file=sys.stderr)
        if view == "forward":
            raise CLIError("--backward and --view forward contradict each other")
        view = "backward"
    if out is not None:
        path = render_book_graph(
            out, view=view or "forward", show_values=args.values, legend=args.legend,
            collapse=args.collapse, seed=args.seed,
        )
        print(f"wrote {path}")
    if anim is not None:
        from ..viz import animate_backward
        from ..viz.book import _book_loss

        loss, _ = _book_loss(args.seed)
        loss.name = "loss"
        print(f"wrote {animate_backward(loss).save(anim)}")
    return 0
