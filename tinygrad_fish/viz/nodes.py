"""The drawable node: what a walked item becomes (its id, kind, label lines, scope chain)."""

from __future__ import annotations

from dataclasses import dataclass

from .names import _Names

ClusterKey = tuple[tuple[str, ...], int]  # (scope path, component id)

# ---------------------------------------------------------------------------------------------
# From the walk to drawable nodes
# ---------------------------------------------------------------------------------------------
@dataclass
class _Node:
    dot_id: str
    kind: str  # a key of _STYLES
    lines: list[str]
    chain: tuple[ClusterKey, ...] = ()


@dataclass
class _Options:
    view: str
    show_values: bool
    show_grads: bool
    names: _Names
    outputs: set[int]
