"""Layer scopes: clusters (``tinygrad_fish.scope``) and collapsed scope nodes."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .format import _shape
from .names import _Names
from .nodes import ClusterKey, _Node, _Options
from .style import _MAX_LISTED
from .walk import _ACC, _FN, _FWD_TENSOR, _LEAF, _Walk


class _UnionFind:
    """Iterative union-find over hashable keys (no recursion)."""

    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, k: Any) -> Any:
        root = k
        while (p := self.parent.get(root, root)) != root:
            root = p
        while k != root:
            self.parent[k], k = root, self.parent[k]
        return root

    def union(self, a: Any, b: Any) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _fn_chains(w: _Walk) -> dict[int, tuple[ClusterKey, ...]]:
    """For each drawn op item, its boxes, outermost first.

    A box is a scope path plus a component: ops of one scope are boxed together only when
    connected through tensors made inside that scope, so a layer applied to two separate
    inputs (shared weights, a Siamese net) gives two boxes. A layer applied twice in a row,
    the second call on the first call's output, looks like one call in the recorded scopes
    and gets one box.
    """
    fn_index = w.fn_ids
    uf = _UnionFind()
    for fid, i in fn_index.items():
        fn = w.items[i][1]
        # a node a backward pass freed still has its inputs' Ghost records (grad_fn)
        ins = fn.inputs if fn.inputs is not None else getattr(fn, "ghosts", None) or ()
        for inp in ins:
            producer = inp._ctx if isinstance(inp, Tensor) else inp.grad_fn
            if producer is None or id(producer) not in fn_index or id(producer) == fid:
                continue
            a, b = fn.scope, producer.scope
            depth = 0
            while depth < min(len(a), len(b)) and a[depth] == b[depth]:
                depth += 1
            for level in range(depth):
                uf.union((level, i), (level, fn_index[id(producer)]))
    chains: dict[int, tuple[ClusterKey, ...]] = {}
    for i in fn_index.values():
        scope = getattr(w.items[i][1], "scope", ())
        chains[i] = tuple((scope[: k + 1], uf.find((k, i))[1]) for k in range(len(scope)))
    return chains


def _common_prefix(chains: list[tuple[ClusterKey, ...]]) -> tuple[ClusterKey, ...]:
    if not chains:
        return ()
    first = chains[0]
    n = len(first)
    for c in chains[1:]:
        m = 0
        while m < min(n, len(c)) and c[m] == first[m]:
            m += 1
        n = m
    return first[:n]


def _is_absorbable_leaf(t: Tensor, names: _Names) -> bool:
    """Leaves kept inside their layer's box: parameters and unnamed scalar constants.
    Other constants (the data, the labels) stay outside, as the book draws them."""
    return t.requires_grad or (t.ndim == 0 and names.of(t) is None)

def _collapse(
    w: _Walk,
    nodes: dict[int, _Node],
    chains: dict[int, tuple[ClusterKey, ...]],
    o: _Options,
    level: int,
) -> tuple[dict[int, str], list[_Node]]:
    """Merge every scope at depth ``level`` into one node. Returns item -> DOT id of the
    node it was merged into, and the new scope nodes."""
    group_of: dict[int, ClusterKey] = {}
    for i, chain in chains.items():
        if len(chain) >= level:
            group_of[i] = chain[level - 1]
    members: dict[ClusterKey, list[int]] = {}
    absorbed_leaves: dict[ClusterKey, dict[int, Tensor]] = {}
    for i in range(w.kept):
        what, obj = w.items[i]
        g: ClusterKey | None = group_of.get(i)
        if g is None and what in (_FWD_TENSOR, _ACC, _LEAF) and id(obj) not in o.outputs:
            cons = [group_of.get(c) for c in w.consumers.get(id(obj), [])]
            inside = bool(cons) and all(c is not None and c == cons[0] for c in cons)
            producer = w.fn_ids.get(id(obj._ctx)) if obj._ctx is not None else None
            if producer is not None:
                pg = group_of.get(producer)
                if pg is not None and (not cons or (inside and cons[0] == pg)):
                    g = pg
            elif inside and (what == _LEAF or _is_absorbable_leaf(obj, o.names)):
                g = cons[0]
                if g is not None and obj.requires_grad:  # parameters are listed in the label
                    absorbed_leaves.setdefault(g, {})[id(obj)] = obj
        if g is not None:
            group_of[i] = g
            members.setdefault(g, []).append(i)
    merged: dict[int, str] = {}
    scope_nodes: list[_Node] = []
    for n, (g, idx) in enumerate(members.items()):
        dot_id = f"s{n}"
        for i in idx:
            merged[i] = dot_id
        if o.view == "forward":  # list in the order they ran (the walk goes outputs first)
            idx = idx[::-1]
        ops = [w.items[i][1] for i in idx if w.items[i][0] == _FN]
        op_names = list(dict.fromkeys(
            f.name if o.view == "forward" else type(f).__name__ + "Backward" for f in ops))
        shown = ", ".join(op_names[:_MAX_LISTED]) + (", …" if len(op_names) > _MAX_LISTED else "")
        noun = "op" if o.view == "forward" else "grad fn"
        lines = [g[0][-1], f"{len(ops)} {noun}{'s' if len(ops) != 1 else ''}: {shown}"]
        params = list(absorbed_leaves.get(g, {}).values())
        if o.view == "forward":
            params.reverse()
        for t in params[:_MAX_LISTED]:
            name = o.names.of(t)
            label = name if name is not None else "param"
            if o.view == "backward":
                label += ".grad"
            lines.append(f"{label} {_shape(t.shape)}")
        if len(params) > _MAX_LISTED:
            lines.append(f"+{len(params) - _MAX_LISTED} more")
        first_op = next(i for i in idx if w.items[i][0] == _FN)
        scope_nodes.append(_Node(dot_id, "scope", lines, chains[first_op][: level - 1]))
    for node in nodes.values():
        node.chain = node.chain[: level - 1]
    return merged, scope_nodes
