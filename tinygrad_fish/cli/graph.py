"""``tinygrad-fish graph``: draw the book's two-layer net with
:func:`tinygrad_fish.viz.render_book_graph`."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import CLIError


def _cmd_graph(args: argparse.Namespace) -> int:
    """``graph``: render the graph to ``--out``.

    Raises:
        CLIError: the output's directory does not exist.
    """
    from ..viz import render_book_graph

    out: Path = args.out
    if not out.parent.is_dir():
        raise CLIError(f"cannot write {out}: the directory {out.parent} does not exist")
    path = render_book_graph(
        out, backward=args.backward, values=args.values, collapse=args.collapse,
        seed=args.seed,
    )
    print(f"wrote {path}")
    return 0
