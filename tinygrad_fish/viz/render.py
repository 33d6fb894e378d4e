"""Writing a drawing to a file: :func:`render_graph`, the format from the suffix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._optional import install_hint
from ..errors import MissingDependencyError, TinygradFishError

if TYPE_CHECKING:
    import graphviz  # type: ignore[import-untyped]


class GraphvizNotFoundError(TinygradFishError, RuntimeError):
    """The Graphviz ``dot`` program (or the ``graphviz`` Python package) is not installed."""


class GraphvizPackageNotFoundError(GraphvizNotFoundError, MissingDependencyError):
    """The ``graphviz`` Python package (the ``viz`` extra) is not installed."""


def _import_graphviz() -> Any:
    try:
        import graphviz
    except ImportError as e:
        raise GraphvizPackageNotFoundError(
            "drawing graphs needs the graphviz Python package, an optional dependency that "
            f"is not installed: {install_hint('graphviz')} "
            "(and the Graphviz programs to render them: apt-get install graphviz / "
            "brew install graphviz / conda install graphviz)"
        ) from e
    return graphviz

# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------
_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".jpg": "jpg", ".jpeg": "jpeg",
            ".dot": "dot", ".gv": "dot"}

_INSTALL_HINT = (
    "the Graphviz 'dot' program is not installed (or not on PATH), so the graph cannot be "
    "rendered to {fmt}. Install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install graphviz`; or write the DOT source "
    "with a .dot suffix, which needs no Graphviz program."
)


def render_graph(dot: graphviz.Digraph, path: str | os.PathLike[str]) -> Path:
    """Write a drawing to ``path``, the format taken from its suffix.

    ``.svg``, ``.png``, ``.pdf`` (and ``.jpg``) are rendered by Graphviz's ``dot`` program;
    ``.dot`` / ``.gv`` write the DOT source, which needs no Graphviz program.
    Missing parent directories are created.

    Returns:
        The path written.

    Raises:
        ValueError: an unknown suffix.
        GraphvizNotFoundError: rendering needs the ``dot`` program and it is not installed
            (the message says how to install it).
    """
    out = Path(path)
    fmt = _FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"render_graph(): cannot tell the format from {str(out)!r}; use one of the "
            f"suffixes {', '.join(sorted(_FORMATS))}"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        out.write_text(dot.source, encoding="utf-8")
        return out
    gv = _import_graphviz()
    try:
        data = dot.pipe(format=fmt)
    except gv.ExecutableNotFound as e:
        raise GraphvizNotFoundError(_INSTALL_HINT.format(fmt=fmt.upper())) from e
    out.write_bytes(data)
    return out
