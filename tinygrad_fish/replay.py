"""Capture and replay of a repeated gradient step: the same numpy calls, none of the graph.

A training loop computes the gradient of the same network on batches of the same shape, step
after step, and the engine rebuilds the same graph each time: a :class:`~.autograd.Function`
and a Tensor per op, a heap, version checks and records for drawing per node. At batch 1
that bookkeeping costs more than the numpy work. Replay records one step (the ops of the
forward pass in order, and the order in which the backward walk visits them), writes them
out as one straight-line Python function (:attr:`StepPlan.source`), and runs each later step
as that function: every op's own ``forward`` on the new arrays, then every op's own
``backward`` in the recorded order, summing the gradients that meet in the order the walk
summed them. The numpy calls are the plain engine's, in its order, so the gradients are the
same bits (the first replay of every capture is checked against the plain engine, bit for
bit, before any replayed result is used).

It is used through the book's networks: ``net.replay = True`` (see
:attr:`tinygrad_fish.nn.TwoLayerNet.replay`). What a replay does not run is the Python code
between the ops; so a network replays only when that code has no effect a replay would
miss: its layers are of the kinds listed in :data:`REPLAYABLE_LAYERS` (no Dropout, whose
mask is drawn in Python, no BatchNormalization, whose running statistics are updated in
Python), and the capture refuses any value that entered the step from outside the ops and
is not the batch, a parameter or a Python number. A step replays only while the batch has
the shape and dtype of the captured one, no hook or anomaly detection is active, grad mode
is on and the network's layers, parameters and settings are those it was captured with;
any other step runs on the plain engine (and may be captured in its turn, up to
:data:`MAX_PLANS` shapes per network).
"""

from __future__ import annotations

import operator
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt

from . import autograd as _autograd
from .autograd import Function
from .tensor import Tensor

__all__ = ["MAX_PLANS", "REPLAYABLE_LAYERS", "ReplayState", "Settings", "StepPlan"]

Array = npt.NDArray[Any]

#: Shapes of batch captured per network (the last, smaller batch of an epoch is a second).
MAX_PLANS = 4

#: Names of the layer classes whose ``forward`` is only Tensor ops plus the record of its
#: last input (what :class:`~tinygrad_fish.nn.layers.Affine` and its kind keep for the book's
#: ``backward(dout)``): a replay sets that record as the layer's forward would have.
REPLAYABLE_LAYERS = frozenset({"Affine", "Relu", "Sigmoid", "SoftmaxWithLoss"})


# exact types: a numpy float64 is a float, and a layer's last loss value must not count
_SCALARS = frozenset({int, float, bool, str, type(None)})


class _Recorder:
    """What ``Function.apply`` and the backward walk report while a step is captured."""

    def __init__(self) -> None:
        self.ops: list[tuple[Function, tuple[Tensor, ...], dict[str, Any], Tensor]] = []
        self.visits: list[Function] = []
        self.forward = True
        self.problem: str | None = None

    def op(self, fn: Function, inputs: tuple[Tensor, ...], attrs: dict[str, Any],
           out: Tensor) -> None:
        if self.forward:
            self.ops.append((fn, inputs, attrs, out))

    def visit(self, fn: Function) -> None:
        self.visits.append(fn)

    def refuse(self, why: str) -> None:
        if self.problem is None:
            self.problem = why


@contextmanager
def _recording(rec: _Recorder) -> Iterator[None]:
    state = _autograd._state
    prev = state.recorder
    state.recorder = rec
    try:
        yield
    finally:
        state.recorder = prev


class StepPlan:
    """One captured step: the ops to run forward, the nodes to visit backward.

    Built by :meth:`capture`; :meth:`run` replays it on a new batch and returns the
    gradient of every parameter, as new arrays (shared with nothing the network keeps).
    ``verified`` turns True once a replay has given the plain engine's bits.
    """

    def __init__(self) -> None:
        self.tensors: list[Tensor] = []  # one per value of the step, reused by every replay
        self.requires: list[bool] = []
        # (node, input tensors, output tensor, attrs): the tensors are the slots'
        self.forward_ops: list[tuple[Function, tuple[Tensor, ...], Tensor, dict[str, Any]]] = []
        self.backward_ops: list[tuple[Function, tuple[int, ...], int]] = []
        self.input_slots: tuple[int, ...] = ()
        self.param_slots: list[int | None] = []
        self.params: list[Tensor] = []
        self.keys: list[str] = []  # the gradients' keys, one per parameter
        self.own_ids: tuple[int, ...] = ()  # a replay needs these very parameters (ids)
        self.loss_slot = -1
        self.layer_state: list[tuple[dict[str, Any], str, int]] = []
        self.loss_op_slot: int | None = None  # the cross-entropy's output
        self.classes: int | None = None  # the cross-entropy's number of classes
        self.verified = False
        self.source = ""  # the replay as Python source (written by _compile)
        self._replay: Callable[..., dict[str, Array]] | None = None

    @classmethod
    def capture(
        cls,
        step: Callable[[], Tensor],
        inputs: tuple[Tensor, ...],
        params: list[Tensor],
        grad_of: Callable[[Tensor], Any],
        layers: list[Any],
        keys: list[str],
    ) -> tuple[StepPlan | None, str | None, Any]:
        """Run ``step`` (the forward pass, returning the loss) and ``grad_of(loss)`` (the
        plain engine's backward) while recording them; ``keys`` name the gradients of
        ``params`` (in their order).

        Returns ``(plan, None, result)``, or ``(None, why, result)`` when the step cannot be
        replayed; ``result`` is what ``grad_of`` returned, computed by the plain engine.
        """
        rec = _Recorder()
        with _recording(rec):
            loss = step()
            rec.forward = False
            result = grad_of(loss)
        if rec.problem is not None:
            return None, rec.problem, result
        plan = cls()
        plan.keys = list(keys)
        why = plan._build(rec, inputs, params, loss, layers)
        return (None, why, result) if why else (plan, None, result)

    def _build(self, rec: _Recorder, inputs: tuple[Tensor, ...], params: list[Tensor],
               loss: Tensor, layers: list[Any]) -> str | None:
        slots: dict[int, int] = {}
        input_ids = {id(t): i for i, t in enumerate(inputs)}
        input_slots: list[int] = [-1] * len(inputs)
        param_ids = {id(p) for p in params}
        tensors, requires = self.tensors, self.requires

        def new_slot(t: Tensor, keep: Tensor) -> int:
            slots[id(t)] = len(tensors)
            tensors.append(keep)
            requires.append(t._requires_grad)
            return len(tensors) - 1

        op_slots: list[tuple[tuple[int, ...], int]] = []
        for fn, ins, attrs, out in rec.ops:
            if any(isinstance(v, np.ndarray) for v in attrs.values()):
                return f"{fn.name} takes an array attribute, which a replay would not renew"
            in_slots = []
            for t in ins:
                s = slots.get(id(t))
                if s is None:
                    if id(t) in input_ids:
                        s = new_slot(t, Tensor._wrap(t.data))
                        input_slots[input_ids[id(t)]] = s
                    elif id(t) in param_ids:
                        s = new_slot(t, t)  # the parameter itself: its current values
                    elif t._requires_grad:
                        return (f"{fn.name} uses a tensor that requires grad and is not a "
                                "parameter of the network")
                    elif t.data.ndim == 0:
                        s = new_slot(t, Tensor._wrap(t.data))  # a Python number
                    else:
                        return (f"{fn.name} uses an array of shape {t.shape} made outside "
                                "the ops (a replay would reuse it as it is)")
                in_slots.append(s)
            if id(out) in slots:
                return f"{fn.name} returned a tensor already in the step"
            keep = Tensor._wrap(out.data)
            keep._requires_grad = out._requires_grad
            out_slot = new_slot(out, keep)
            node = type(fn).__new__(type(fn))
            node.inputs = tuple(tensors[s] for s in in_slots)
            node.needs_input_grad = tuple(t._requires_grad for t in ins)
            node.attrs = attrs
            node.scope = getattr(fn, "scope", ())
            node.seq = 0
            node.versions = None
            node.ghosts = None
            node._out = weakref.ref(keep) if fn.save_output else None
            node.out_version = 0
            self.forward_ops.append((node, node.inputs, keep, attrs))
            op_slots.append((tuple(in_slots), out_slot))
            if fn.name == "cross_entropy" and self.loss_op_slot is None:
                self.loss_op_slot = out_slot
                self.classes = ins[0].data.shape[-1]
        if -1 in input_slots:
            return "an input of the step is not used by any op"
        node_of = {id(fn): i for i, (fn, *_) in enumerate(rec.ops)}
        for fn in rec.visits:
            i = node_of.get(id(fn))
            if i is None:
                return f"the backward pass visits {fn.name}, an op made outside the step"
            self.backward_ops.append((self.forward_ops[i][0], *op_slots[i]))
        if id(loss) not in slots:
            return "the loss is not made by an op of the step"
        self.loss_slot = slots[id(loss)]
        self.input_slots = tuple(input_slots)
        self.params = list(params)
        self.param_slots = [slots.get(id(p)) for p in params]
        # what each layer's forward records of its tensors (its last input), to set again
        for layer in layers:
            d = layer.__dict__
            for key, value in d.items():
                if isinstance(value, Tensor) and id(value) in slots:
                    self.layer_state.append((d, key, slots[id(value)]))
        self._compile(op_slots)
        return None

    def _compile(self, op_slots: list[tuple[tuple[int, ...], int]]) -> None:
        """Write the step as one straight-line Python function (``self.source``): each
        op's ``forward`` on the arrays of its slots, then each visited op's ``backward``,
        its gradients summed in the walk's order, without the interpreter loop, dict
        look-ups and branches a generic replay pays per op (torch.fx and tinygrad's JIT
        generate code the same way). Shapes and the ops' attributes are its constants."""
        ns: dict[str, Any] = {"_nd": np.ndarray, "_asarray": np.asarray, "_wrap": Tensor._wrap,
                              "_ones": np.ones, "_zeros_like": np.zeros_like}
        lines = [f"def _replay({', '.join(f'x{i}' for i in range(len(self.input_slots)))}):"]
        value: dict[int, str] = {}  # slot -> the local holding its array
        for i, s in enumerate(self.input_slots):
            ns[f"T{s}"] = self.tensors[s]
            lines.append(f"    T{s}.data = x{i}")
            value[s] = f"x{i}"
        for ps in self.param_slots:
            if ps is not None and ps not in value:
                ns[f"T{ps}"] = self.tensors[ps]
                lines.append(f"    v{ps} = T{ps}.data  # a parameter: its values now")
                value[ps] = f"v{ps}"
        for k, ((node, _, _, attrs), (ins, out)) in enumerate(
                zip(self.forward_ops, op_slots, strict=True)):
            args = []
            for s in ins:
                if s not in value:  # a Python number captured with the step
                    ns[f"K{s}"] = self.tensors[s].data
                    value[s] = f"K{s}"
                args.append(value[s])
            for key, v in attrs.items():
                ns[f"A{k}_{key}"] = v
                args.append(f"{key}=A{k}_{key}")
            ns[f"F{k}"] = node.forward
            ns[f"T{out}"] = self.tensors[out]
            lines.append(f"    v{out} = F{k}({', '.join(args)})  # {node.name}")
            lines.append(f"    if type(v{out}) is not _nd: v{out} = _asarray(v{out})")
            lines.append(f"    T{out}.data = v{out}")
            value[out] = f"v{out}"
        loss = self.tensors[self.loss_slot].data
        ns["_loss_shape"], ns["_loss_dtype"] = loss.shape, loss.dtype
        lines.append(f"    g{self.loss_slot} = seed = _ones(_loss_shape, _loss_dtype)")
        pending = {self.loss_slot}  # slots holding a gradient
        for k, (node, ins, out) in enumerate(self.backward_ops):
            ns[f"B{k}"] = node.backward
            lines.append(f"    r = B{k}(_wrap(g{out}))  # {node.name}")
            lines.append(f"    g{out} = None")
            for i, s in enumerate(ins):
                if not self.requires[s]:
                    continue
                lines.append(f"    ig = r[{i}]")
                if s in pending:
                    lines.append(f"    if ig is not None: g{s} = ig.data if g{s} is None "
                                 f"else g{s} + ig.data")
                else:
                    lines.append(f"    g{s} = None if ig is None else ig.data")
                    pending.add(s)
        # the gradients as backward() hands them out: each in an array of its own (not
        # the seed, not one handed out already, not a view), of its parameter's dtype
        lines.append("    h = {id(seed)}")
        for i, ps in enumerate(self.param_slots):
            ns[f"P{i}"] = self.params[i]
            got = f"g{ps}" if ps is not None and ps in pending else "None"
            lines += [f"    a{i} = {got}",
                      f"    p = P{i}.data",
                      f"    if a{i} is None: a{i} = _zeros_like(p)",
                      f"    elif a{i}.dtype != p.dtype: a{i} = a{i}.astype(p.dtype)",
                      f"    elif not a{i}.flags.owndata or id(a{i}) in h: a{i} = a{i}.copy()",
                      f"    h.add(id(a{i}))"]
        # what the layers' forward passes record (their last input), as a plain step sets it
        for j, (d, key, s) in enumerate(self.layer_state):
            ns[f"D{j}"], ns[f"T{s}"] = d, self.tensors[s]
            lines.append(f"    D{j}[{key!r}] = T{s}")
        items = ", ".join(f"{k!r}: a{i}" for i, k in enumerate(self.keys))
        lines.append(f"    return {{{items}}}")
        self.source = "\n".join(lines) + "\n"
        exec(compile(self.source, "<tinygrad_fish replay>", "exec"), ns)
        self._replay = ns["_replay"]

    def run(self, arrays: tuple[Array, ...]) -> dict[str, Array]:
        """Replay the step on new input arrays (the captured shapes and dtypes); returns
        ``{key: gradient}`` for every parameter, fresh arrays, in the captured order."""
        replay = self._replay
        assert replay is not None, "run() of a plan that was not built"
        state = _autograd._state
        was = state.grad_enabled
        state.grad_enabled = False  # the backward methods take their plain numpy paths
        try:
            return replay(*arrays)
        finally:
            state.grad_enabled = was


class Settings:
    """The identity of a network and its layers, and their public settings (numbers,
    strings, flags, dtypes: not the private state a forward pass updates), as they were
    when steps were captured: a replay is valid only while they are unchanged."""

    def __init__(self, objects: list[Any]) -> None:
        self.ids = tuple(map(id, objects))
        self.getters: list[tuple[dict[str, Any], Callable[[dict[str, Any]], Any] | None]] = []
        for o in objects:
            keys = [k for k, v in o.__dict__.items() if k[0] != "_"
                    and (type(v) in _SCALARS or isinstance(v, np.dtype))]
            self.getters.append((o.__dict__, operator.itemgetter(*keys) if keys else None))
        self.values = self._read()

    def _read(self) -> tuple[Any, ...]:
        return tuple(g(d) if g is not None else None for d, g in self.getters)

    def unchanged(self, objects: list[Any]) -> bool:
        """True when ``objects`` are the same objects with the same settings."""
        if tuple(map(id, objects)) != self.ids:
            return False
        try:
            return bool(self._read() == self.values)
        except Exception:  # a setting deleted, or one that no longer compares as a scalar
            return False


class ReplayState:
    """A network's captured steps, keyed by the shapes and dtypes of ``(x, t)``.

    ``plans[key]`` is a :class:`StepPlan`, or a str saying why that step does not replay.
    """

    def __init__(self) -> None:
        self.plans: dict[tuple[Any, ...], StepPlan | str] = {}
        self.settings: Settings | None = None
        self.lock = threading.Lock()

    def status(self) -> dict[str, str]:
        """``{"x (1, 784) float32, t (1, 10) float32": "replaying" | "captured, ..."
        | "not replayed: why"}``."""
        out = {}
        for key, plan in self.plans.items():
            (xs, xd), (ts, td) = key[0], key[1]
            name = f"x {xs} {xd}, t {ts} {td}"
            if isinstance(plan, str):
                out[name] = f"not replayed: {plan}"
            else:
                out[name] = "replaying" if plan.verified else "captured, not yet replayed"
        return out

    def mismatch(self, key: tuple[Any, ...], plain: list[Array], replayed: list[Array]
                 ) -> bool:
        """Compare a first replay with the plain engine bit for bit; on any difference the
        step is never replayed again (with a warning: a difference is a bug to report)."""
        for i, (a, b) in enumerate(zip(plain, replayed, strict=True)):
            if a.shape != b.shape or a.dtype != b.dtype or a.tobytes() != b.tobytes():
                why = (f"its first replay differed from the plain engine in gradient {i}; "
                       "the plain engine is used for it from now on")
                self.plans[key] = why
                warnings.warn(f"tinygrad_fish replay: a step {why} (please report this)",
                              RuntimeWarning, stacklevel=4)
                return True
        return False
