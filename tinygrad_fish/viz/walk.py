"""The graph walk: breadth-first from the outputs, iterative, nodes keyed by ``id()``."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..tensor import Tensor
from .format import _shape

# ---------------------------------------------------------------------------------------------
# The walk: breadth-first from the outputs, iterative, nodes keyed by id()
# ---------------------------------------------------------------------------------------------
_FWD_TENSOR, _FN, _SEED, _ACC, _LEAF = "tensor", "fn", "seed", "acc", "leaf"


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
            if obj.inputs is None:
                w.freed.add(i)
                continue
            preds = obj.inputs
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
        if isinstance(obj, Tensor):
            nxt: tuple[Any, ...] = () if obj._ctx is None else (obj._ctx,)
        else:
            nxt = () if obj.inputs is None else obj.inputs
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
        elif what == _FN and obj.inputs is not None:
            for inp in obj.inputs:
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
        if fn is None or fn.inputs is None:
            continue
        for inp in fn.inputs:
            if inp.requires_grad:
                k = id(inp)
                count[k] = count.get(k, 0) + 1
                if k not in seen:
                    seen.add(k)
                    stack.append(inp)
    return count


def _walk_backward(outputs: list[Tensor], cap: int) -> _Walk:
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
            if obj.inputs is None:
                w.freed.add(i)
                continue
            for inp in obj.inputs:
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
