"""The autograd machinery: grad mode, the :class:`Function` node, and the backward walk.

A :class:`Function` is one node of the computational graph. Its ``forward`` works on numpy
arrays; its ``backward`` is written in Tensor ops, so that running it with grad mode on
(``create_graph=True``) records the backward pass as a graph of its own and higher-order
derivatives need no extra code.

The walk (:func:`backward`, :func:`grad`) visits each node once, newest first: a node is
always created after its inputs, so its creation number orders the graph, and a heap of the
nodes that have received a gradient gives the next one to visit. It is iterative (no
recursion limit) and needs no separate sorting pass; the gradients that reach a tensor from
several paths are summed before they are passed on.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import operator
import os
import threading
import traceback
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .errors import (
    AnomalyError,
    DTypeError,
    GraphError,
    IndexingError,
    InvalidArgumentError,
    ShapeError,
    TinygradFishError,
)

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "FreedArray",
    "Function",
    "Ghost",
    "RemovableHandle",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "release_graph",
    "scope",
    "set_grad_enabled",
]

# ---------------------------------------------------------------------------------------------
# Per-thread state: grad mode and the current layer scope
# ---------------------------------------------------------------------------------------------
class _State(threading.local):
    """Per-thread state. Each context manager pushes the value it replaces on a per-thread
    stack and pops it on exit, so one manager object (a decorator, a module-level
    ``no_grad()``) can be entered by several threads, or re-entered, safely."""

    def __init__(self) -> None:
        self.grad_enabled: bool = True
        self.scope: tuple[str, ...] = ()
        self.anomaly: bool = False
        # an optional callback of each node backward visits, (node, output, gradient in,
        # input gradients), before the node is freed; set by tinygrad_fish.viz.animate_backward
        self.backward_trace: Callable[[Any, Any, Any, tuple[Any, ...]], None] | None = None
        self.backward_of: Function | None = None  # the node whose backward is running
        # the capture of a step for replay (tinygrad_fish.replay): told of every op applied
        # and every node the backward walk visits; None (the rule) costs one attribute read
        self.recorder: Any = None
        self.grad_stack: list[bool] = []
        self.anomaly_stack: list[bool] = []
        self.scope_stack: list[tuple[str, ...]] = []


_state = _State()


def is_grad_enabled() -> bool:
    """True when new ops are recorded in the graph (the default, per thread)."""
    return _state.grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn graph recording on or off for this thread, as a context manager or decorator.

    Inside ``set_grad_enabled(False)`` ops compute their values but record nothing, so no
    gradient can flow through them and no memory is kept for a backward pass.
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        state = _state
        state.grad_stack.append(state.grad_enabled)
        state.grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        state = _state
        state.grad_enabled = state.grad_stack.pop()


class no_grad(set_grad_enabled):
    """Context manager and decorator: record no graph inside (evaluation, weight updates).

    Examples:
        >>> from tinygrad_fish import Tensor, no_grad
        >>> w = Tensor([1.0, 2.0], requires_grad=True)
        >>> with no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Context manager and decorator: record the graph again inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)


class detect_anomaly(contextlib.ContextDecorator):
    """Context manager and decorator: stop at the first NaN or inf, forward or backward.

    Inside it, every op checks its output, and every node's backward checks the gradients
    it returns; the first non-finite value raises :class:`~tinygrad_fish.errors.AnomalyError`
    naming the op and the line of *your* code that created it. Each op also remembers where
    it was created, so it is slower: use it to hunt a NaN, not to train.

    Raises:
        AnomalyError: inside it, an op's output or a backward's gradient holds NaN or inf.

    Examples:
        >>> import tinygrad_fish as tf
        >>> x = tf.Tensor([0.0, 1.0], requires_grad=True)
        >>> with tf.detect_anomaly():
        ...     y = x.sqrt().sum()
        ...     y.backward()                       # d sqrt / dx at 0 is inf
        Traceback (most recent call last):
        tinygrad_fish.errors.AnomalyError: sqrt backward produced inf ...
    """

    def __enter__(self) -> None:
        _state.anomaly_stack.append(_state.anomaly)
        _state.anomaly = True

    def __exit__(self, *exc: object) -> None:
        _state.anomaly = _state.anomaly_stack.pop()


#: Creation numbers of graph nodes: a node is always numbered after its inputs.
_next_seq = itertools.count().__next__
_get_data = operator.attrgetter("data")
_get_requires_grad = operator.attrgetter("_requires_grad")


class VersionCounter:
    """How many times a tensor's values were changed in place.

    Tensors that share memory share one counter: a view made by an op (``reshape``,
    ``transpose``, basic indexing, ``broadcast_to``), ``detach()`` and ``Tensor(t)`` all
    count the edits of their base, as PyTorch's views do. Every in-place writer of the
    package bumps it (``+=`` and friends, optimizers' ``step``/``update``,
    ``load_state_dict``, ``serialization.load(into=)``, the book networks' ``params``);
    ``backward()`` compares it with the value each graph node saw. A tensor gets its counter
    the first time one is needed (most never do), so ``None`` means "never changed".
    """

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


def _version_of(t: Tensor) -> int:
    c = t._vc
    return 0 if c is None else c.value


def _shared_counter(t: Tensor) -> VersionCounter:
    """``t``'s counter, created now if it has none yet (to share it with a view)."""
    c = t._vc
    if c is None:
        c = t._vc = VersionCounter()
    return c

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_frame() -> str:
    """'file:line in function' of the innermost caller outside tinygrad_fish."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return "<unknown>"


def _non_finite(a: np.ndarray[Any, Any]) -> str | None:
    if a.dtype.kind not in "fc" or np.isfinite(a).all():
        return None
    return "nan" if np.isnan(a).any() else "inf"


class scope:
    """Label every op created inside with a layer scope (nested scopes stack).

    The book's layers use it, so graph drawings can box "Affine1", "Relu1", ... as the
    book's figures do; use it for your own blocks the same way::

        with tinygrad_fish.scope("attention"):
            y = (q @ k.T).softmax()

    Raises:
        TypeError: the name is not a non-empty str.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"scope() needs a non-empty str name, got {name!r}")
        self.name = name

    def __enter__(self) -> None:
        state = _state
        prev = state.scope
        state.scope_stack.append(prev)
        state.scope = (*prev, self.name)

    def __exit__(self, *exc: object) -> None:
        state = _state
        state.scope = state.scope_stack.pop()


# ---------------------------------------------------------------------------------------------
# What a freed node keeps, for drawing
# ---------------------------------------------------------------------------------------------
class Ghost:
    """What a node freed by a backward pass remembers of one input: enough to draw it.

    Attributes:
        shape, dtype, name: the input's.
        grad_fn: the node that made it (None for a leaf), itself freed or not.
        requires_grad: whether it required grad.
        ref: a weak reference to the Tensor: ``ref()`` is the tensor while someone still
            holds it (a parameter, a tensor you kept), else None (its values are gone).
    """

    __slots__ = ("dtype", "grad_fn", "name", "ref", "requires_grad", "shape")

    def __init__(self, t: Tensor) -> None:
        self.shape = t.data.shape
        self.dtype = t.data.dtype
        self.name = t.name
        self.grad_fn = t._ctx
        self.requires_grad = t._requires_grad
        self.ref = weakref.ref(t)

    def __repr__(self) -> str:
        return f"<Ghost {self.name or ''}{self.shape} {self.dtype}>"


class FreedArray:
    """An array attribute of a freed node (a mask, an index): its shape and dtype only."""

    __slots__ = ("dtype", "shape")

    def __init__(self, a: np.ndarray[Any, Any]) -> None:
        self.shape = a.shape
        self.dtype = a.dtype

    def __repr__(self) -> str:
        return f"<freed array {self.shape} {self.dtype}>"


# ---------------------------------------------------------------------------------------------
# The graph node
# ---------------------------------------------------------------------------------------------
class Function:
    """One op in the graph: ``forward`` on arrays, ``backward`` in Tensor ops, side by side.

    Subclass it to add an op that the engine treats exactly like a built-in one::

        class Cube(Function):
            def forward(self, x):            # arrays in, array out
                return x ** 3
            def backward(self, gy):           # Tensor in, one Tensor (or None) per input out
                (x,) = self.inputs            # the input Tensors
                return (gy * 3 * x * x,)

        y = Cube.apply(x)

    ``forward(*arrays, **attrs)`` receives the inputs' arrays and the keyword attributes given
    to :meth:`apply` and returns the output array; it may keep on ``self`` whatever backward
    needs (plain arrays that are constants with respect to the inputs, such as a ReLU mask).
    ``backward(gy)`` receives the gradient of the output as a Tensor and returns a tuple with
    one gradient per input, each a Tensor of that input's shape, or None. It must use Tensor
    ops (never ``.data``) on anything that depends on the inputs, so that differentiating
    the backward pass (``create_graph=True``) is correct. ``self.needs_input_grad[i]`` says
    whether input ``i`` wants a gradient at all; skip the work when it does not.
    ``self.output()`` returns the output Tensor, for ops whose derivative is best written
    in terms of their result (``exp``, ``tanh``, ``sigmoid``); set ``save_output = True``.

    Several outputs: a ``forward`` that returns a tuple of arrays makes ``apply`` return a
    tuple of Tensors, and ``backward(*gys)`` then receives one gradient per output (None
    for an output no gradient reached); see :mod:`tinygrad_fish.multi_output`.

    Saved tensors: ``backward()`` refuses to run a node whose saved tensors were changed in
    place since the forward pass (their gradient would be wrong). The saved tensors are the
    inputs, unless the op sets ``saves_inputs = False`` (its backward reads only the inputs'
    shapes and arrays that forward kept, as ``add`` or ``relu``), and the output when
    ``save_output`` is set. Set ``is_view = True`` when the output array may be a view of
    the first input's (reshape-like ops): the output then shares its version counter.

    Attributes (read by tools such as :func:`tinygrad_fish.viz.draw_graph`):
        inputs: the input Tensors (None once the graph has been freed).
        ghosts: after a backward pass freed the node, what remains of its inputs for
            drawing (:class:`Ghost`: shape, dtype, name, the node that made each, and a weak
            reference to the tensor, alive while you hold it); None before, and after
            :func:`release_graph`, which frees the structure too.
        attrs: the keyword attributes given to :meth:`apply` (axis, keepdims, exponent...);
            once freed, its arrays are replaced by :class:`FreedArray` descriptions.
        scope: the layer scopes active when the op was created, outermost first.
    """

    __slots__ = (
        "__dict__", "_out", "attrs", "created_at", "ghosts", "inputs", "needs_input_grad",
        "out_version", "scope", "seq", "versions",
    )

    #: Keep a weak reference to the output so ``backward`` can use it via ``self.output()``.
    save_output: ClassVar[bool] = False
    #: ``backward`` reads the inputs' values (the safe default): check their versions.
    saves_inputs: ClassVar[bool] = True
    #: The output may be a view of the first input's array: it shares the version counter.
    is_view: ClassVar[bool] = False
    #: The op name shown in errors and graph drawings (defaults to the class name in lower case).
    name: ClassVar[str] = ""

    inputs: tuple[Tensor, ...] | None
    ghosts: tuple[Ghost, ...] | None
    needs_input_grad: tuple[bool, ...]
    attrs: dict[str, Any]
    scope: tuple[str, ...]
    versions: tuple[int, ...] | None
    out_version: int
    seq: int
    created_at: str
    _out: weakref.ref[Tensor] | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("name"):
            cls.name = cls.__name__.lower()

    def forward(self, *arrays: Any, **attrs: Any) -> np.ndarray[Any, Any]:
        """Compute the output array from the input arrays.

        Raises:
            NotImplementedError: the subclass does not define it.
        """
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined")

    def backward(self, gy: Tensor) -> tuple[Tensor | None, ...]:
        """Return the gradient of each input, in Tensor ops, given the output's gradient.

        ``gy`` has the output's shape; each gradient returned has its input's shape (or is
        None).

        Raises:
            NotImplementedError: the subclass does not define it.
        """
        raise NotImplementedError(f"{type(self).__name__}.backward is not defined")

    def output(self) -> Tensor:
        """The output Tensor of this node (only for ops with ``save_output = True``).

        Raises:
            GraphError: the output is gone (``save_output`` is False, the graph was freed,
                or no reference to the output is left).
        """
        out = self._out() if self._out is not None else None
        if out is None:
            raise GraphError(
                f"{self.name}: its output tensor is gone, so its backward cannot run; "
                "keep a reference to the output or set save_output = True on the op"
            )
        return out

    @classmethod
    def apply(cls, *inputs: Tensor, **attrs: Any) -> Tensor:
        """Run the op on Tensors, recording a graph node when any input requires grad.

        Returns:
            The output Tensor, of the shape ``forward`` gives.

        Raises:
            ShapeError: ``forward`` failed on an axis or shapes (numpy's ``AxisError``, or a
                ValueError about shapes, broadcasting or sizes).
            IndexingError: ``forward`` raised an IndexError.
            DTypeError: ``forward`` raised a TypeError or OverflowError and an input is not
                floating point (with only float inputs the error is raised as it is).
            InvalidArgumentError: ``forward`` raised any other ValueError.
            AnomalyError: inside :class:`detect_anomaly`, the output holds NaN or inf.
        """
        fn = cls.__new__(cls)
        try:
            data = fn.forward(*map(_get_data, inputs), **attrs)
        except (ValueError, TypeError, OverflowError, IndexError) as e:
            # numpy's complaints, made to name the op and its inputs' shapes and dtypes
            raise _forward_error(cls.name, e, inputs) from e
        if type(data) is tuple:  # type: ignore[comparison-overlap]  # multi-output op
            from .multi_output import apply_multi

            if _state.recorder is not None:
                _state.recorder.refuse(f"{cls.name} has several outputs")

            return apply_multi(cls, fn, data, inputs, attrs)
        # Tensor._wrap, inlined: this is the hottest path of the engine.
        out = _new_tensor(_Tensor)
        out.data = data if type(data) is np.ndarray else np.asarray(data)
        out.grad = None
        out.name = None
        out._ctx = None
        out._requires_grad = False
        out._vc = None
        if cls.is_view:
            d, x = out.data, inputs[0].data
            if d.base is not None and np.may_share_memory(d, x):
                out._vc = _shared_counter(inputs[0])
        state = _state  # one thread-local lookup (this is the engine's hottest path)
        if state.anomaly:
            bad = _non_finite(out.data)
            if bad is not None:
                node = state.backward_of
                if node is not None:
                    where = getattr(node, "created_at", None) or "outside detect_anomaly()"
                    raise AnomalyError(
                        f"{node.name} backward produced {bad} (in its {cls.name}, shape "
                        f"{out.shape}); the {node.name} op was created at {where}"
                    )
                raise AnomalyError(
                    f"{cls.name} produced {bad} in its forward output (shape {out.shape}), "
                    f"at {_user_frame()}"
                )
        if state.grad_enabled:
            needs = tuple(map(_get_requires_grad, inputs))
            if True in needs:
                fn.inputs = inputs
                fn.ghosts = None
                fn.seq = _next_seq()
                fn.needs_input_grad = needs
                fn.versions = tuple(map(_version_of, inputs)) if cls.saves_inputs else None
                fn.attrs = attrs
                fn.scope = state.scope
                if cls.save_output:
                    fn._out = weakref.ref(out)
                    fn.out_version = _version_of(out)
                else:
                    fn._out = None
                if state.anomaly:
                    fn.created_at = _user_frame()
                out._requires_grad = True
                out._ctx = fn
        if state.recorder is not None:
            state.recorder.op(fn, inputs, attrs, out)
        return out

    def _release(self, keep_structure: bool = False) -> None:
        """Drop the inputs and everything forward saved: the graph behind is freed. With
        ``keep_structure`` (a backward pass) the node keeps :class:`Ghost` records of its
        inputs, so the graph can still be drawn; its arrays are gone either way."""
        inputs = self.inputs
        if keep_structure and inputs is not None:
            self.ghosts = tuple(map(Ghost, inputs))
            attrs = self.attrs
            if attrs and any(isinstance(v, np.ndarray) for v in attrs.values()):
                self.attrs = {k: FreedArray(v) if isinstance(v, np.ndarray) else v
                              for k, v in attrs.items()}
        else:
            self.ghosts = None
        self.inputs = None
        self._out = None
        self.__dict__.clear()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} node>"


# ---------------------------------------------------------------------------------------------
# The backward walk
# ---------------------------------------------------------------------------------------------
def _freed_error(t: Tensor) -> GraphError:
    name = t._ctx.name if t._ctx is not None else "?"
    return GraphError(
        f"Trying to backward through a graph that has been freed (at '{name}'): a first "
        "backward() frees the values the graph saved, unless it is given retain_graph=True "
        "(and a book-style network frees the graph of its previous forward pass when it runs "
        "a new one). Compute the forward pass again, or pass retain_graph=True."
    )


def _forward_error(name: str, e: Exception, inputs: Sequence[Tensor]) -> Exception:
    """The tinygrad_fish error for an exception raised inside an op's forward."""
    if isinstance(e, TinygradFishError):
        return e
    shapes = " and ".join(str(t.data.shape) for t in inputs)
    dtypes = " and ".join(str(t.data.dtype) for t in inputs)
    if isinstance(e, np.exceptions.AxisError):
        return ShapeError(f"{name}: {e} (input shapes {shapes})")
    if isinstance(e, IndexError):
        return IndexingError(f"{name}: {e} (input shape {shapes})")
    if isinstance(e, (TypeError, OverflowError)):
        if all(t.data.dtype.kind == "f" for t in inputs):
            return e  # not about dtypes: a bug in the op itself, shown as it is
        return DTypeError(f"{name}: {e} (input dtypes {dtypes})")
    text = str(e)
    if any(w in text for w in ("shape", "broadcast", "align", "size", "dimension")):
        return ShapeError(f"{name}: {text} (input shapes {shapes})")
    return InvalidArgumentError(f"{name}: {text} (input shapes {shapes}, dtypes {dtypes})")


def _modified_error(fn: Function, inputs: tuple[Tensor, ...], out: Tensor) -> GraphError:
    versions = fn.versions or (0,) * len(inputs)
    changed = [i for i, (t, v) in enumerate(zip(inputs, versions, strict=True))
               if fn.versions is not None and _version_of(t) != v]
    if changed:
        t = inputs[changed[0]]
        what = f"input {changed[0]} ({t.name + ', ' if t.name else ''}shape {t.shape})"
    else:
        what = f"its output (shape {out.shape})"
    return GraphError(
        f"{fn.name}: {what} was modified in place after the op used it, so its gradient "
        "would be wrong. Do the in-place change after backward(), or on a copy "
        "(x = x + y instead of x += y)."
    )


def _released_meanwhile_error(fn: Function) -> GraphError:
    return GraphError(
        f"{fn.name}: the graph was freed while backward() was running through it: another "
        "thread freed it (a book-style network frees the graph of its previous forward pass "
        "when a new one starts). One network cannot run forward and backward in several "
        "threads at once: give each thread its own network, or use a lock."
    )


def _not_a_tensor_error(fn: Function, i: int, g: object) -> GraphError:
    return GraphError(
        f"{fn.name}.backward returned a {type(g).__name__} as the gradient of input {i}; "
        "backward must return Tensors built with Tensor ops (so higher-order gradients "
        "work), or None: wrap a constant array as Tensor(array)"
    )


def _as_gradient_tuple(fn: Function, grads: Any, n: int) -> tuple[Tensor | None, ...]:
    """A custom backward's return value as a tuple: a bare Tensor (or None) is accepted
    for a one-input op, a list as a tuple; anything else is refused clearly."""
    if isinstance(grads, list):
        return tuple(grads)
    if n == 1 and (grads is None or isinstance(grads, _Tensor)):
        return (grads,)
    raise GraphError(
        f"{fn.name}.backward returned a {type(grads).__name__}; it must return a tuple with "
        f"one Tensor (or None) per input ({n} here), e.g. `return (gx,)`"
    )


def _check_gradients(fn: Function, grads: tuple[Tensor | None, ...]) -> None:
    for i, g in enumerate(grads):
        if g is None:
            continue
        if not isinstance(g, _Tensor):
            raise _not_a_tensor_error(fn, i, g)
        bad = _non_finite(g.data)
        if bad is not None:
            where = getattr(fn, "created_at", None) or "an op created outside detect_anomaly()"
            raise AnomalyError(
                f"{fn.name} backward produced {bad} in the gradient of input {i} "
                f"(shape {g.shape}); the op was created at {where}"
            )


def release_graph(*tensors: Tensor) -> None:
    """Free the graph behind ``tensors`` now, as a backward pass without retain_graph would.

    The tensors keep their values but can no longer be backpropagated through (that raises
    a :class:`GraphError`). The book's networks call it on their previous forward pass, so
    that keeping old losses in a list (as the book's training loop does) keeps numbers,
    not whole graphs with their mini-batches.
    """
    stack: list[Function | None] = [t._ctx for t in tensors]
    while stack:
        fn = stack.pop()
        if fn is None:
            continue
        if fn.inputs is not None:  # not yet freed (nor visited)
            stack.extend(t._ctx for t in fn.inputs)
            fn._release()
        elif fn.ghosts is not None:  # freed by a backward pass: drop the structure too
            stack.extend(g.grad_fn for g in fn.ghosts)
            fn.ghosts = None


def _run_backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    wanted: Sequence[Tensor] | None,
) -> dict[int, Tensor]:
    """The walk shared by :func:`backward` and :func:`grad`.

    Nodes are visited newest first: every node is created after its inputs, so its creation
    number orders the graph topologically, and a heap of the nodes that have received a
    gradient (the frontier) gives the next one. Each node is visited once, after all the
    gradients flowing into its output have been summed.

    Returns gradients keyed by ``id`` for the ``wanted`` tensors (for ``grad``); when
    ``wanted`` is None it accumulates into the ``.grad`` of every leaf reached instead.
    """
    grads: dict[int, Tensor] = {}
    leaves: list[Tensor] = []
    frontier: list[tuple[int, int, Tensor]] = []
    wanted_ids = None if wanted is None else {id(w) for w in wanted}
    result: dict[int, Tensor] = {}

    def receive(t: Tensor, g: Tensor) -> None:
        k = id(t)
        prev = grads.get(k)
        if prev is not None:
            grads[k] = prev + g
            return
        grads[k] = g
        fn = t._ctx
        if fn is None:
            leaves.append(t)
        else:
            heapq.heappush(frontier, (-fn.seq, k, t))

    with set_grad_enabled(create_graph):
        for out, g in zip(outputs, grad_outputs, strict=True):
            receive(out, g)
        anomaly = _state.anomaly
        hooked = bool(_hooks) or bool(_retained)  # register_hook / retain_grad in use
        recorder = _state.recorder
        while frontier:
            t = heapq.heappop(frontier)[2]
            g = grads.pop(id(t))
            if hooked:
                g = _run_hooks(t, g, wanted_ids is None, create_graph)
            if wanted_ids is not None and id(t) in wanted_ids:
                result[id(t)] = g
            fn = t._ctx
            assert fn is not None
            inputs = fn.inputs
            if inputs is None:
                raise _freed_error(t)
            if recorder is not None:
                recorder.visit(fn)
            versions = fn.versions
            if (versions is not None and versions != tuple(map(_version_of, inputs))) or (
                fn.save_output and _version_of(t) != fn.out_version
            ):
                raise _modified_error(fn, inputs, t)
            try:
                if anomaly:
                    _state.backward_of = fn
                    try:
                        in_grads = fn.backward(g)
                    finally:
                        _state.backward_of = None
                else:
                    in_grads = fn.backward(g)
            except Exception as e:
                if fn.inputs is None:  # released while its backward ran
                    raise _released_meanwhile_error(fn) from e
                raise
            if fn.inputs is None:
                raise _released_meanwhile_error(fn)
            if type(in_grads) is not tuple:
                in_grads = _as_gradient_tuple(fn, in_grads, len(inputs))
            if len(in_grads) != len(inputs):
                raise GraphError(
                    f"{fn.name}.backward returned {len(in_grads)} gradients for "
                    f"{len(inputs)} inputs; it must return a tuple with one Tensor (or None) "
                    "per input"
                )
            if anomaly:
                _check_gradients(fn, in_grads)
            if _state.backward_trace is not None:
                _state.backward_trace(fn, t, g, in_grads)
            for i, (inp, ig) in enumerate(zip(inputs, in_grads, strict=True)):
                if ig is None or not inp._requires_grad:
                    continue
                if type(ig) is not _Tensor and not isinstance(ig, _Tensor):
                    raise _not_a_tensor_error(fn, i, ig)
                if ig.data.shape != inp.data.shape:
                    raise ShapeError(
                        f"{fn.name}.backward returned a gradient of shape {ig.shape} for an "
                        f"input of shape {inp.shape}"
                    )
                receive(inp, ig)
            if not retain_graph:
                fn._release(keep_structure=True)
        # Arrays a leaf's .grad must not take as they are: the seeds (the caller's arrays),
        # and those already handed to a leaf (both inputs of `a + b` get the same one).
        handed_out: set[int] = {id(g.data) for g in grad_outputs}
        for leaf in leaves:
            g = grads.pop(id(leaf))
            if hooked:
                g = _run_hooks(leaf, g, False, create_graph)
            if wanted_ids is None:
                _accumulate(leaf, g, create_graph, handed_out)
            elif id(leaf) in wanted_ids:
                result[id(leaf)] = g
    return result


#: Tensor hooks (``Tensor.register_hook``) and the non-leaf tensors that keep their
#: gradient (``Tensor.retain_grad``), keyed by ``id`` (Tensors compare elementwise); a
#: finalizer drops a tensor's entry when the tensor goes.
_hooks: dict[int, dict[int, Any]] = {}
_retained: set[int] = set()
_next_hook_id = itertools.count().__next__


def _hooks_of(t: Tensor) -> dict[int, Any]:
    hooks = _hooks.get(id(t))
    if hooks is None:
        hooks = _hooks[id(t)] = {}
        weakref.finalize(t, _hooks.pop, id(t), None)
    return hooks


def _retain(t: Tensor) -> None:
    if id(t) not in _retained:
        _retained.add(id(t))
        weakref.finalize(t, _retained.discard, id(t))


class RemovableHandle:
    """What :meth:`Tensor.register_hook` returns: ``handle.remove()`` unregisters the
    hook (removing it twice is harmless)."""

    __slots__ = ("id", "ref")

    def __init__(self, t: Tensor, hook_id: int) -> None:
        self.ref = weakref.ref(t)
        self.id = hook_id

    def remove(self) -> None:
        t = self.ref()
        hooks = _hooks.get(id(t)) if t is not None else None
        if hooks is not None:
            hooks.pop(self.id, None)
            if not hooks:  # none left: the engine's fast paths (replay) apply again
                _hooks.pop(id(t), None)


def _run_hooks(t: Tensor, g: Tensor, retain: bool, create_graph: bool) -> Tensor:
    """Pass the gradient of ``t`` through its hooks (each may return a replacement), then
    keep it in ``t.grad`` when ``t`` retains its gradient (``backward()`` only)."""
    hooks = _hooks.get(id(t))
    if hooks:
        for hook in list(hooks.values()):
            new = hook(g)
            if new is None:
                continue
            if not isinstance(new, _Tensor):
                raise GraphError(
                    f"a hook returned a {type(new).__name__}; it must return a Tensor of "
                    f"the gradient's shape {g.shape} (or None to keep the gradient)"
                )
            if new.shape != g.shape:
                raise ShapeError(
                    f"a hook returned a gradient of shape {new.shape} for a tensor of shape "
                    f"{g.shape}"
                )
            g = new
    if retain and t._ctx is not None and id(t) in _retained:
        # an array of its own: g itself goes on to the inputs (add passes it unchanged)
        own = _own_gradient(g, t.data.dtype, create_graph, {id(g.data)})
        t.grad = own if t.grad is None else t.grad + own
    return g


def _own_gradient(g: Tensor, dtype: np.dtype[Any], create_graph: bool,
                  handed_out: set[int]) -> Tensor:
    """``g`` as a gradient to hand to the user: in ``dtype`` (the tensor's own), and in an
    array of its own: never a view of another array (an input, the seed gradient the caller
    passed, a broadcast) nor an array already handed out. With ``create_graph`` the copy is
    made by an op, so the result stays in the graph."""
    data = g.data
    if data.dtype != dtype:
        g = g.astype(dtype)  # a new array
    elif not data.flags.owndata or id(data) in handed_out:
        g = g * 1 if create_graph else _Tensor._wrap(data.copy())
    elif not create_graph and g._ctx is not None:
        g = _Tensor._wrap(data)
    handed_out.add(id(g.data))
    return g


def _accumulate(leaf: Tensor, g: Tensor, create_graph: bool, handed_out: set[int]) -> None:
    g = _own_gradient(g, leaf.data.dtype, create_graph, handed_out)
    leaf.grad = g if leaf.grad is None else leaf.grad + g


def _seed_gradients(
    outputs: Sequence[Tensor], grad_outputs: Sequence[Any] | None, what: str
) -> list[Tensor]:
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"{what}: got {len(grad_outputs)} gradients for {len(outputs)} outputs"
        )
    seeds: list[Tensor] = []
    for out, g in zip(outputs, grad_outputs, strict=True):
        if not out._requires_grad:
            raise GraphError(
                f"{what}: the output (shape {out.shape}) does not require grad and has no "
                "graph: no input it depends on has requires_grad=True, or it was computed "
                "under no_grad()"
            )
        if out.data.dtype.kind != "f":
            raise DTypeError(
                f"{what}: the output has dtype {out.data.dtype}; only floating-point outputs "
                "can be differentiated"
            )
        if g is None:
            if out.data.size != 1:
                raise GraphError(
                    f"{what}: the gradient can be created implicitly only for a scalar "
                    f"output, but the output has shape {out.shape}; pass gradient= (an array "
                    "of the output's shape, e.g. ones) or reduce the output first (.sum())"
                )
            seeds.append(_Tensor._wrap(np.ones(out.shape, dtype=out.data.dtype)))
        else:
            gt = g if isinstance(g, _Tensor) else _Tensor(g, dtype=out.data.dtype)
            if gt.shape != out.shape:
                raise ShapeError(
                    f"{what}: gradient has shape {gt.shape} but the output has shape "
                    f"{out.shape}; they must match"
                )
            seeds.append(gt)
    return seeds


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Any | Sequence[Any] | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of every leaf they depend on.

    Args:
        tensors: the output(s) to differentiate.
        grad_tensors: the gradient of each output (same shape as it); may be omitted for
            a scalar output, which gets 1.
        retain_graph: keep the graph's saved values so backward can run through it again.
        create_graph: record the backward pass itself as a graph, so the resulting ``.grad``
            can be differentiated again (higher-order derivatives). Implies retain_graph.

    Raises:
        GraphError: a non-scalar output without a gradient, an output that does not require
            grad, a graph already freed by an earlier backward, a tensor the graph used that
            was modified in place since, or an op's backward that returned a number of
            gradients other than its number of inputs.
        ShapeError: a gradient whose shape differs from its output's, or an op's backward
            that returned a gradient of the wrong shape.
        DTypeError: an output that is not floating point, or a gradient that is not
            numeric data.
        ValueError: ``grad_tensors`` has not one gradient per output.
        AnomalyError: inside :class:`detect_anomaly`, a backward produced NaN or inf.
    """
    outs = [tensors] if isinstance(tensors, _Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, (_Tensor, np.ndarray, int, float)):
        gts: Sequence[Any] | None = None if grad_tensors is None else [grad_tensors]
    else:
        gts = list(grad_tensors)
    seeds = _seed_gradients(outs, gts, "backward()")
    _run_backward(outs, seeds, retain_graph or create_graph, create_graph, None)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any | Sequence[Any] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return the gradients of ``outputs`` with respect to ``inputs``, leaving ``.grad`` alone.

    The functional form of :meth:`Tensor.backward` (PyTorch's ``torch.autograd.grad``).
    With ``create_graph=True`` the returned gradients are themselves in the graph, so
    ``grad`` can be applied to them again (second derivatives, Hessian-vector products).

    Args:
        outputs: the tensor(s) to differentiate.
        inputs: the tensor(s) to differentiate with respect to (any tensors in the graph,
            leaves or not).
        grad_outputs: the gradient of each output; may be omitted for scalar outputs.
        retain_graph: keep the graph after the call (default: the value of create_graph).
        create_graph: record the backward pass as a graph (for higher-order derivatives).
        allow_unused: return None for an input the outputs do not depend on, instead of
            raising.

    Returns:
        One gradient per input, each of that input's shape (None only with allow_unused).

    Raises:
        GraphError: as :func:`backward`; an input that is not a Tensor requiring grad; an
            unused input without allow_unused.
        ShapeError: as :func:`backward`.
        DTypeError: as :func:`backward`.
        ValueError: ``grad_outputs`` has not one gradient per output.
        AnomalyError: as :func:`backward`.
    """
    outs = [outputs] if isinstance(outputs, _Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, _Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (_Tensor, np.ndarray, int, float)):
        gos: Sequence[Any] | None = None if grad_outputs is None else [grad_outputs]
    else:
        gos = list(grad_outputs)
    for i, x in enumerate(ins):
        if not isinstance(x, _Tensor) or not x._requires_grad:
            raise GraphError(f"grad(): input {i} does not require grad")
    seeds = _seed_gradients(outs, gos, "grad()")
    keep = create_graph if retain_graph is None else retain_graph
    found = _run_backward(outs, seeds, keep, create_graph, ins)
    result: list[Tensor | None] = []
    # No two results share an array, nor one with a seed (the caller's gradient); each is in
    # its input's dtype, as backward() gives it.
    seen = {id(s.data) for s in seeds}
    for i, x in enumerate(ins):
        g = found.get(id(x))
        if g is None:
            if not allow_unused:
                raise GraphError(
                    f"grad(): input {i} (shape {x.shape}) is not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
        else:
            with set_grad_enabled(create_graph):
                g = _own_gradient(g, x.data.dtype, create_graph, seen)
        result.append(g)
    return tuple(result)


def _check_differentiable_dtype(dtype: np.dtype[Any]) -> None:
    if dtype.kind != "f":
        raise DTypeError(
            f"only floating-point tensors can require gradients, got dtype {dtype}; "
            "convert first, e.g. Tensor(data, dtype=np.float64, requires_grad=True)"
        )


from .tensor import Tensor as _Tensor  # noqa: E402  (tensor.py imports this module)

_new_tensor = object.__new__
