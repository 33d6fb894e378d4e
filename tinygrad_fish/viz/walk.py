"""The graph walk: breadth-first from the outputs, iterative, nodes keyed by ``id()``."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import Ghost
from ..tensor import Tensor
from .format import _shape

# ---------------------------------------------------------------------------------------------
# The walk: breadth-first from the outputs, iterative, nodes keyed by id()
# ---------------------------------------------------------------------------------------------
_FWD_TENSOR, _FN, _SEED, _ACC, _LEAF = "tensor", "fn", "seed", "acc", "leaf"


class _FreedTensor:
    """Stands in for a tensor a backward pass freed: what its consumer's :class:`Ghost`
    remembers (shape, dtype, name, the node that made it). Its values are gone."""

    __slots__ = ("_ctx", "dtype", "name", "ndim", "requires_grad", "shape", "size")

    data = None
    grad = None

    def __init__(self, g: Ghost) -> None:
        self.shape, self.dtype, self.name = g.shape, g.dtype, g.name
        self._ctx = g.grad_fn
        self.requires_grad = g.requires_grad
        self.ndim = len(g.shape)
        self.size = int(np.prod(g.shape))


# id(ghost.ref) -> (ref, stand-in): ghosts of one tensor share its weak reference (CPython
# reuses a callback-less weakref), so a freed tensor used twice is one node. Filled during a
# walk and emptied after it (the walk's items keep the stand-ins they need).
_FREED: dict[int, tuple[Any, _FreedTensor]] = {}


def _inputs(fn: Any) -> tuple[Any, ...] | None:
    """The inputs of ``fn``: its tensors; after a backward pass freed it, the tensors still
    alive (parameters, tensors you kept) and :class:`_FreedTensor` stand-ins for the rest;
    None when even the structure is gone (:func:`~tinygrad_fish.autograd.release_graph`)."""
    if fn.inputs is not None:
        return tuple(fn.inputs)
    ghosts = getattr(fn, "ghosts", None)
    if ghosts is None:
        return None
    out: list[Any] = []
    for g in ghosts:
        t = g.ref()
        if t is not None:
            out.append(t)
            continue
        hit = _FREED.get(id(g.ref))
        if hit is None:
            hit = _FREED[id(g.ref)] = (g.ref, _FreedTensor(g))
        out.append(hit[1])
    return tuple(out)


@dataclass
class _Walk:
    """What the walk found. Items are ``(what, obj)`` in BFS order; the first ``kept`` are
    drawn, the rest only counted."""

    items: list[tuple[str, Any]] = field(default_factory=list)
    kept: int = 0
    edges: list[tuple[int, int, str]] = field(default_factory=list)  # (tail, head, label)
    cut: list[int] = field(default_factory=list)  # drawn items with neighbours not drawn
    consumers: dict[int, list[int]] = field(default_factory=dict)  # id(tensor) -> fn items
    freed: set[int] = field(default_factory=set)
    fn_ids: dict[int, int] = field(default_factory=dict)  # id(op) -> item, drawn ops only
    uncounted: int = 0  # nodes past the cap found by the light count (not in items)

    def finish(self, cap: int) -> _Walk:
        self.kept = min(cap, len(self.items))
        self.fn_ids = {id(obj): i for i, (what, obj) in enumerate(self.items[: self.kept])
                       if what == _FN}
        return self


def _walk_forward(outputs: list[Tensor], cap: int) -> _Walk:
    try:
        return _walk_forward_(outputs, cap)
    finally:
        _FREED.clear()


def _walk_forward_(outputs: list[Tensor], cap: int) -> _Walk:
    w = _Walk()
    items, edges, consumers = w.items, w.edges, w.consumers
    index: dict[int, int] = {}
    for t in outputs:
        if id(t) not in index:
            index[id(t)] = len(items)
            items.append((_FWD_TENSOR, t))
    queue = deque(range(len(items)))
    while queue:
        i = queue.popleft()
        what, obj = items[i]
        drawn = i < cap
        if i >= cap + 1:  # past the cap: only count what is left, by id, as cheaply as we can
            w.uncounted = _count_rest([obj] + [items[k][1] for k in queue], set(index))
            break
        if what == _FWD_TENSOR:
            fn = obj._ctx
            preds: tuple[Any, ...] = () if fn is None else (fn,)
            pred_what = _FN
        else:
            ins = _inputs(obj)
            if ins is None or obj.inputs is None:
                w.freed.add(i)
            if ins is None:
                continue
            preds = ins
            pred_what = _FWD_TENSOR
        was_cut = False
        for p in preds:
            j = index.get(id(p))
            if j is None:
                j = index[id(p)] = len(items)
                items.append((pred_what, p))
                queue.append(j)
            if drawn:
                if j < cap:
                    edges.append((j, i, ""))
                    if pred_what == _FWD_TENSOR:
                        consumers.setdefault(id(p), []).append(i)
                elif not was_cut:
                    w.cut.append(i)
                    was_cut = True
    return w.finish(cap)


def _count_rest(pending: list[Any], seen: set[int]) -> int:
    """How many tensors and ops not in ``seen`` are reachable from ``pending`` (tensors and
    ops), walking towards the inputs; ``seen`` holds the ids already counted."""
    found = 0
    stack = pending
    while stack:
        obj = stack.pop()
        if isinstance(obj, (Tensor, _FreedTensor)):
            nxt: tuple[Any, ...] = () if obj._ctx is None else (obj._ctx,)
        else:
            nxt = _inputs(obj) or ()
        for p in nxt:
            k = id(p)
            if k not in seen:
                seen.add(k)
                found += 1
                stack.append(p)
    return found


def _count_rest_backward(
    pending: list[tuple[str, Any]], seen: set[tuple[str, int]], contrib: dict[int, int]
) -> int:
    """The backward view's :func:`_count_rest`: nodes (gradient functions, accumulation
    points, leaves) not in ``seen`` reachable from the ``pending`` items."""
    found = 0
    stack = list(pending)

    def push(what: str, obj: Any) -> None:
        nonlocal found
        key = (what, id(obj))
        if key not in seen:
            seen.add(key)
            found += 1
            stack.append((what, obj))

    def push_target(t: Tensor) -> None:
        if contrib.get(id(t), 0) > 1:
            push(_ACC, t)
        elif t._ctx is not None:
            push(_FN, t._ctx)
        else:
            push(_LEAF, t)

    while stack:
        what, obj = stack.pop()
        if what == _SEED:
            push_target(obj)
        elif what == _ACC:
            if obj._ctx is not None:
                push(_FN, obj._ctx)
            else:
                push(_LEAF, obj)
        elif what == _FN:
            for inp in _inputs(obj) or ():
                if inp.requires_grad:
                    push_target(inp)
    return found


def _contributions(outputs: list[Tensor]) -> dict[int, int]:
    """How many gradients reach each tensor in a backward pass (id -> count): one per use by
    an op, plus one for each output. More than one means backward() sums them."""
    count: dict[int, int] = {}
    seen: set[int] = set()
    stack: list[Tensor] = []
    for t in outputs:
        count[id(t)] = count.get(id(t), 0) + 1
        if id(t) not in seen:
            seen.add(id(t))
            stack.append(t)
    while stack:
        fn = stack.pop()._ctx
        ins = None if fn is None else _inputs(fn)
        if ins is None:
            continue
        for inp in ins:
            if inp.requires_grad:
                k = id(inp)
                count[k] = count.get(k, 0) + 1
                if k not in seen:
                    seen.add(k)
                    stack.append(inp)
    return count


def _walk_backward(outputs: list[Tensor], cap: int) -> _Walk:
    try:
        return _walk_backward_(outputs, cap)
    finally:
        _FREED.clear()


def _walk_backward_(outputs: list[Tensor], cap: int) -> _Walk:
    w = _Walk()
    items, edges, consumers = w.items, w.edges, w.consumers
    contrib = _contributions(outputs)
    index: dict[tuple[str, int], int] = {}
    queue: deque[int] = deque()

    def visit(what: str, obj: Any) -> int:
        key = (what, id(obj))
        j = index.get(key)
        if j is None:
            j = index[key] = len(items)
            items.append((what, obj))
            queue.append(j)
        return j

    def target(t: Tensor) -> int:
        """The node a gradient for ``t`` flows into."""
        if contrib.get(id(t), 0) > 1:
            return visit(_ACC, t)
        return visit(_FN, t._ctx) if t._ctx is not None else visit(_LEAF, t)

    for t in outputs:
        visit(_SEED, t)
    while queue:
        i = queue.popleft()
        what, obj = items[i]
        drawn = i < cap
        if i >= cap + 1:  # past the cap: only count what is left, as cheaply as we can
            pending = [items[i], *(items[k] for k in queue)]
            w.uncounted = _count_rest_backward(pending, set(index), contrib)
            break
        heads: list[tuple[int, str]] = []
        if what == _SEED:
            heads.append((target(obj), _shape(obj.shape)))
        elif what == _ACC:
            base = visit(_FN, obj._ctx) if obj._ctx is not None else visit(_LEAF, obj)
            heads.append((base, _shape(obj.shape)))
        elif what == _FN:
            ins = _inputs(obj)
            if ins is None or obj.inputs is None:
                w.freed.add(i)
            if ins is None:
                continue
            for inp in ins:
                if inp.requires_grad:
                    j = target(inp)
                    heads.append((j, _shape(inp.shape)))
                    if drawn and j < cap:
                        consumers.setdefault(id(inp), []).append(i)
        if drawn:
            was_cut = False
            for j, lab in heads:
                if j < cap:
                    edges.append((i, j, lab))
                elif not was_cut:
                    w.cut.append(i)
                    was_cut = True
    return w.finish(cap)
