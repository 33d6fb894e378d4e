"""Optimizers: the book's six (``common/optimizer.py``), with two ways to use each.

The book's way, on a dict of numpy arrays (updated in place)::

    optimizer = SGD(lr=0.1)                      # or SGD(0.1), Momentum(), Adam(lr=1e-3) ...
    grads = network.gradient(x_batch, t_batch)
    optimizer.update(network.params, grads)

PyTorch's way, on parameter Tensors (their ``.data`` updated in place from their ``.grad``)::

    optimizer = SGD(network.parameters(), lr=0.1)
    optimizer.zero_grad()
    network.loss(x_batch, t_batch).backward()
    optimizer.step()                             # parameters whose .grad is None are skipped

Both apply exactly the book's formulas (for a parameter ``p``, its gradient ``g``):

- SGD: ``p -= lr * g``
- Momentum: ``v = momentum * v - lr * g; p += v``
- Nesterov: ``v = momentum * v - lr * g; p += momentum**2 * v - (1 + momentum) * lr * g``
- AdaGrad: ``h += g * g; p -= lr * g / (sqrt(h) + eps)``
- RMSprop: ``h = decay_rate * h + (1 - decay_rate) * g * g; p -= lr * g / (sqrt(h) + eps)``
- Adam: ``m += (1 - beta1) * (g - m); v += (1 - beta2) * (g**2 - v);``
  ``p -= lr_t * m / (sqrt(v) + eps)`` with ``lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)``
  and ``t`` the number of updates so far (counted per ``update``/``step`` call).

``eps`` is the book's 1e-7 by default; DeZero's AdaGrad and Adam and PyTorch's use 1e-8, and
the choice changes the numbers (most where ``sqrt(h)`` is small): pass ``eps=1e-8`` to get
theirs. One more, not in the book: :class:`AdaDelta` (PyTorch's form and defaults).

Every optimizer also takes ``weight_decay`` (PyTorch's L2 form: the gradient used is
``g + weight_decay * p``; 0 by default, the book's) and hooks (DeZero's ``add_hook``):
functions called with the list of parameter Tensors (each with its ``.grad``) before each
update, such as :class:`WeightDecay` and :class:`ClipGrad`. Hooks run first, then
``weight_decay`` is added, then the rule above.

State (``v``, ``h``, ``m``) is kept per key (book style) or per parameter (PyTorch style), in
the parameter's dtype, created at the first update that sees it. Book-style constructors take
``lr`` first: a number as the first positional argument is the learning rate (``SGD(0.1)``);
pass the other hyperparameters by keyword then.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, MutableMapping
from numbers import Real
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from .errors import DTypeError, GraphError, InvalidArgumentError, ShapeError
from .nn.utils import clip_grad_norm_
from .tensor import Tensor

__all__ = [
    "OPTIMIZERS", "SGD", "AdaDelta", "AdaGrad", "Adam", "ClipGrad", "Hook", "Momentum",
    "Nesterov", "Optimizer", "RMSprop", "WeightDecay",
]

Array = npt.NDArray[Any]
#: What the constructors' first argument may be: parameter Tensors (PyTorch style), the
#: learning rate (book style), or None (book style, default learning rate).
ParamsOrLr = Iterable[Tensor] | float | None
#: A hook: called with the parameter Tensors about to be updated (each has a ``.grad``).
Hook = Callable[[list[Tensor]], None]
#: Attributes that are not state (never in :meth:`Optimizer.state_dict`).
_NOT_STATE = frozenset({"params", "_hooks"})
#: Hyperparameters added after the first checkpoints were written, with the value those
#: versions used: a saved state without one loads if the optimizer has that value.
_ADDED = {"weight_decay": 0.0, "eps": 1e-7}


def _is_number(p: Any) -> bool:
    return isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(
        p, (bool, np.bool_))


def _number(cls: str, name: str, value: Any, lo: float, hi: float, hi_open: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{cls}: {name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < lo or v > hi or (hi_open and v == hi):
        upper = f"{hi})" if hi_open else f"{hi}]"
        raise ValueError(f"{cls}: {name} must be in [{lo}, {upper}, got {value!r}")
    return v


def _slot_name(opt: Optimizer, store: Mapping[Hashable, Array]) -> str:
    """The attribute of ``opt`` that holds ``store`` (``"v"``, ``"h"``, ``"m"``...)."""
    return next((attr for attr, value in vars(opt).items() if value is store), "state")


def _slot_mismatch(
    opt: Optimizer, what: str, slot: Array, p: Array, fix: str
) -> ShapeError | DTypeError:
    """The error for a slot array ``slot`` that does not fit its parameter ``p``."""
    if slot.shape != p.shape:
        return ShapeError(
            f"{what} has shape {slot.shape} but the parameter has shape {p.shape}: the state "
            f"belongs to other parameters; {fix}"
        )
    return DTypeError(
        f"{what} has dtype {slot.dtype} but the parameter has dtype {p.dtype}: the state "
        f"belongs to other parameters (dtypes are never converted silently); {fix}"
    )


def _check_saved_slot(opt: Optimizer, attr: str, key: Any, arr: Array) -> None:
    """Check one saved slot array before :meth:`Optimizer.load_state_dict` sets anything: a
    floating-point array and, with the parameters known (PyTorch style), a parameter index
    as its key and that parameter's shape and dtype."""
    name = type(opt).__name__
    what = f"{name}.{attr}[{key!r}] in the saved state"
    fix = (
        f"load the state saved with these parameters, or start from a fresh {name}"
    )
    if arr.dtype.kind != "f":
        raise DTypeError(
            f"{what} has dtype {arr.dtype}; optimizer state is floating point, as the "
            "parameters are"
        )
    if opt.params is None:
        return  # book style: _slot checks it against the arrays it is used with
    n = len(opt.params)
    if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < n:
        raise InvalidArgumentError(
            f"{name}.{attr}: the saved state has the key {key!r}, which is not the index of "
            f"one of this optimizer's {n} parameters (0 to {n - 1}); was it saved by a "
            "book-style optimizer, or for another model?"
        )
    p = opt.params[key].data
    if arr.shape != p.shape or arr.dtype != p.dtype:
        raise _slot_mismatch(opt, what, arr, p, fix)


class Optimizer:
    """Base class: argument handling, ``update`` (book) and ``step``/``zero_grad`` (PyTorch).

    Subclasses implement :meth:`_update_array` for one parameter array and its gradient.

    Attributes:
        lr: the learning rate (may be changed between updates, e.g. for a schedule).
        params: the parameter Tensors (PyTorch style), or None (book style).
        weight_decay: the L2 coefficient (PyTorch's: ``g + weight_decay * p`` is used).

    Raises:
        TypeError: ``params`` is a single Tensor, a dict, or not an iterable of Tensors;
            ``lr`` or ``weight_decay`` is not a number, or ``lr`` is given twice (first
            and as ``lr``).
        ValueError: ``lr`` or ``weight_decay`` is negative or not finite; ``params`` is
            empty or holds a tensor twice.
        DTypeError: a parameter is not floating point.
    """

    default_lr: ClassVar[float] = 0.01

    def __init__(
        self, params: ParamsOrLr = None, lr: float | None = None, *, weight_decay: float = 0.0
    ) -> None:
        cls = type(self).__name__
        tensors: list[Tensor] | None = None
        if isinstance(params, Real) and not isinstance(params, bool):
            if lr is not None:
                raise TypeError(
                    f"{cls}({params!r}, {lr!r}, ...): the first positional argument is the "
                    "parameters (PyTorch style) or the learning rate (book style); after a "
                    f"learning rate, pass the other hyperparameters by keyword, e.g. "
                    f"{cls}(lr={params!r}, ...)"
                )
            lr = float(params)
        elif params is not None:
            tensors = self._check_params(params)
        self.lr = _number(cls, "lr", self.default_lr if lr is None else lr, 0.0, math.inf, False)
        self.params = tensors
        self.weight_decay = _number(cls, "weight_decay", weight_decay, 0.0, math.inf, True)
        self._hooks: list[Hook] = []

    # --- hooks (DeZero's) --------------------------------------------------------------------
    def add_hook(self, f: Hook) -> None:
        """Call ``f(params)`` before each update (DeZero's ``Optimizer.add_hook``).

        ``params`` is the list of parameter Tensors about to be updated, each with its
        ``.grad`` (a hook may change ``.grad`` in place or replace it; what it holds after
        the hooks is what the update uses). PyTorch style, these are the optimizer's
        parameters whose ``.grad`` is not None; book style (:meth:`update`), one Tensor per
        key (named by it) sharing the parameter's array, with a copy of its gradient (the
        ``grads`` dict is not changed). Hooks run in the order added; they are not part of
        :meth:`state_dict`.

        Raises:
            TypeError: ``f`` is not callable.
        """
        if not callable(f):
            raise TypeError(
                f"{type(self).__name__}.add_hook: expected a function of the parameter list, "
                f"got {type(f).__name__}"
            )
        self._hooks.append(f)

    @property
    def hooks(self) -> tuple[Hook, ...]:
        """The hooks added by :meth:`add_hook`, in call order."""
        return tuple(self._hooks)

    def _apply(self, key: Hashable, p: Array, g: Array) -> None:
        """Weight decay (if any), then the update rule, for one parameter array."""
        if self.weight_decay:
            g = g + self.weight_decay * p  # a new array: the caller's gradient is not changed
        self._update_array(key, p, g)

    def _check_params(self, params: Any) -> list[Tensor]:
        cls = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{cls}: params must be an iterable of Tensors, got a single Tensor; pass "
                "[tensor] or net.parameters()"
            )
        if isinstance(params, Mapping):
            raise TypeError(
                f"{cls}: got a dict as params; the book's dict of arrays goes to "
                f"update(params, grads) (construct with {cls}(lr=...)), PyTorch style takes "
                "net.parameters()"
            )
        try:
            tensors = list(params)
        except TypeError:
            raise TypeError(
                f"{cls}: params must be an iterable of Tensors (e.g. net.parameters()) or a "
                f"learning rate, got {type(params).__name__}"
            ) from None
        if not tensors:
            raise ValueError(f"{cls}: got an empty parameter list")
        seen: set[int] = set()
        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor):
                raise TypeError(f"{cls}: parameter {i} is a {type(p).__name__}, not a Tensor")
            if p.data.dtype.kind != "f":
                raise DTypeError(
                    f"{cls}: parameter {i} ({p.name or 'unnamed'}) has dtype {p.dtype}; only "
                    "floating-point tensors can be optimized"
                )
            if id(p) in seen:
                raise ValueError(f"{cls}: parameter {i} ({p.name or 'unnamed'}) appears twice")
            seen.add(id(p))
        return tensors

    # --- the book's API ----------------------------------------------------------------------
    def update(
        self, params: MutableMapping[str, Any], grads: Mapping[str, Any]
    ) -> None:
        """Update every array of ``params`` in place from ``grads[key]`` (the book's API).

        Args:
            params: ``{key: float numpy array}`` (Tensors are accepted: their ``.data``), or
                plain numbers, as the book's ch06 ``optimizer_compare_naive.py`` uses: a
                number is replaced by its updated value (a float64 scalar), as the book's
                ``params[key] -= ...`` rebinds it.
            grads: ``{key: array of params[key]'s shape}`` (a Tensor is accepted too).

        Raises:
            KeyError: a key of ``params`` has no gradient.
            ShapeError: a gradient's shape differs from its parameter's.
            DTypeError: a parameter is neither a floating-point numpy array nor a number.
        """
        arrays: dict[str, tuple[Array, Array]] = {}
        for key in params:
            try:
                g = grads[key]
            except KeyError:
                raise KeyError(
                    f"{type(self).__name__}.update: no gradient for parameter {key!r} (grads "
                    f"has {list(grads)})"
                ) from None
            p = params[key]
            # a Python or numpy number: updated as an array, then rebound (as the book)
            arr = np.array(p, dtype=np.float64) if _is_number(p) else self._as_param(key, p)
            arrays[key] = (arr, self._as_grad(key, arr, g))
        if self._hooks:
            tensors = [Tensor._wrap(arr) for arr, _ in arrays.values()]
            for key, t in zip(arrays, tensors, strict=True):
                t.name = str(key)
                t.grad = Tensor(arrays[key][1].copy())
            self._run_hooks(tensors)
            arrays = {key: (arr, self._as_grad(key, arr, t.grad))
                      for (key, (arr, _)), t in zip(arrays.items(), tensors, strict=True)}
        self._begin()
        for key, (arr, g) in arrays.items():
            p = params[key]
            self._apply(key, arr, g)
            if _is_number(p):
                params[key] = arr[()]
                continue
            # The values changed in place: tell the graph (a graph that saved the parameter
            # must not backpropagate with the new values). A Tensor counts it itself; the
            # book networks' params mapping counts the write-back of the same array.
            if isinstance(p, Tensor):
                p._bump_version()
            else:
                params[key] = p

    def _as_param(self, key: Hashable, p: Any) -> Array:
        arr = p.data if isinstance(p, Tensor) else p
        if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
            raise DTypeError(
                f"{type(self).__name__}.update: parameter {key!r} must be a floating-point "
                f"numpy array (updated in place), got {type(arr).__name__} of dtype "
                f"{getattr(arr, 'dtype', None)}"
            )
        return arr

    def _as_grad(self, key: Hashable, p: Any, g: Any) -> Array:
        arr = g.data if isinstance(g, Tensor) else np.asarray(g)
        if arr.shape != np.shape(p.data if isinstance(p, Tensor) else p):
            raise ShapeError(
                f"{type(self).__name__}: the gradient of {key!r} has shape {arr.shape} but the "
                f"parameter has shape {np.shape(p.data if isinstance(p, Tensor) else p)}"
            )
        return arr

    # --- PyTorch's API -----------------------------------------------------------------------
    def _tensors(self, what: str) -> list[Tensor]:
        if self.params is None:
            raise GraphError(
                f"{type(self).__name__}.{what}(): this optimizer was made book style, without "
                f"parameters; call update(params, grads), or construct it with the parameters: "
                f"{type(self).__name__}(net.parameters(), lr=...)"
            )
        return self.params

    def step(self) -> None:
        """Update each parameter Tensor's ``.data`` in place from its ``.grad``.

        Parameters whose ``.grad`` is None (not reached by the last backward) are skipped.

        Raises:
            GraphError: the optimizer was constructed without parameters (book style).
            ShapeError: a parameter's ``.grad`` has another shape than the parameter.
        """
        tensors = self._tensors("step")
        if self._hooks:
            self._run_hooks([p for p in tensors if p.grad is not None])
        self._begin()
        for i, p in enumerate(tensors):
            g = p.grad
            if g is None:
                continue
            self._apply(i, p.data, self._as_grad(p.name or i, p, g))
            p._bump_version()  # in place: a graph that saved p must not use the new values

    def _run_hooks(self, tensors: list[Tensor]) -> None:
        for f in self._hooks:
            f(tensors)
        for i, t in enumerate(tensors):
            if t.grad is None:
                raise GraphError(
                    f"{type(self).__name__}: a hook set the .grad of parameter "
                    f"{t.name or i} to None; hooks may change gradients, not remove them"
                )

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (PyTorch's ``set_to_none`` behaviour).

        Raises:
            GraphError: the optimizer was constructed without parameters (book style).
        """
        for p in self._tensors("zero_grad"):
            p.grad = None

    # --- the update rule ---------------------------------------------------------------------
    def _begin(self) -> None:
        """Called once per update/step, before the arrays are updated."""

    def _update_array(self, key: Hashable, p: Array, g: Array) -> None:
        raise NotImplementedError

    def _slot(self, store: dict[Hashable, Array], key: Hashable, p: Array) -> Array:
        """The state array of ``store`` for ``key``, created as zeros like ``p`` the first
        time; one of another shape or dtype (loaded from a checkpoint of another run, or
        a model rebuilt with other sizes) raises ShapeError / DTypeError."""
        s = store.get(key)
        if s is None:
            s = store[key] = np.zeros_like(p)
        elif s.shape != p.shape or s.dtype != p.dtype:
            name = type(self).__name__
            raise _slot_mismatch(
                self, f"{name}.{_slot_name(self, store)}[{key!r}]", s, p,
                f"load the optimizer state saved with these parameters, or use a fresh {name}",
            )
        return s

    # --- state (checkpoints) ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the optimizer's state: ``{"type", "scalars", "slots"}``.

        ``scalars`` holds its number attributes (``lr``, Adam's ``iter``, ...); ``slots`` its
        dicts of arrays (``{attr: {key: array copy}}``, or ``{attr: None}`` before the first
        update). The parameter list of a PyTorch-style optimizer and the hooks are not
        part of it.

        Raises:
            TypeError: an attribute that is neither (it could not be restored, so it is
                refused rather than silently dropped), or a slot key that is not a str/int.
        """
        name = type(self).__name__
        scalars: dict[str, Any] = {}
        slots: dict[str, dict[str | int, Array] | None] = {}
        for attr, value in vars(self).items():
            if attr in _NOT_STATE:
                continue
            if value is None:
                slots[attr] = None
            elif isinstance(value, dict):
                out: dict[str | int, Array] = {}
                for key, arr in value.items():
                    if isinstance(key, bool) or not isinstance(key, (str, int)):
                        raise TypeError(f"{name}.{attr}: cannot save a state key {key!r} "
                                        "(only str and int)")
                    if not isinstance(arr, np.ndarray):
                        raise TypeError(
                            f"{name}.{attr}[{key!r}] is a {type(arr).__name__}, not an array"
                        )
                    out[key] = arr.copy()
                slots[attr] = out
            elif isinstance(value, (bool, int, float)):
                scalars[attr] = value
            else:
                raise TypeError(
                    f"cannot save {name}.{attr} of type {type(value).__name__}: only numbers "
                    "and dicts of arrays are saved"
                )
        return {"type": name, "scalars": scalars, "slots": slots}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict` snapshot (of the same class). Everything is checked
        before anything is set.

        Every slot array must be floating point. With parameters (PyTorch style), each
        slot key must be the index of a parameter and its array have that parameter's shape
        and dtype. Book style, the arrays are checked against the parameters they are used
        with at the next :meth:`update`, which raises ShapeError / DTypeError for one that
        does not fit (rather than restarting it from zeros). A state saved before
        ``weight_decay`` and ``eps`` existed loads into an optimizer whose values are the
        ones it then had (0 and 1e-7). Hooks are kept as they are.

        Raises:
            ValueError: another optimizer class, or not the same attributes or types.
            KeyError: ``state`` lacks ``"scalars"`` or ``"slots"``.
            DTypeError: a slot array is not floating point, or (PyTorch style) its dtype is
                not its parameter's.
            ShapeError: (PyTorch style) a slot array's shape is not its parameter's.
            InvalidArgumentError: (a ``ValueError``; PyTorch style) a slot key is not the
                index of one of the parameters.
        """
        name = type(self).__name__
        if state.get("type") != name:
            raise ValueError(
                f"the saved optimizer state is a {state.get('type')}'s, not a {name}'s")
        scalars: Mapping[str, Any] = state["scalars"]
        slots: Mapping[str, Any] = state["slots"]
        own = {k for k in vars(self) if k not in _NOT_STATE}
        saved = set(scalars) | set(slots)
        # A state saved before weight_decay / eps existed had their old values: it loads
        # into an optimizer that has those (and is refused by one with others).
        added = {} if isinstance(self, AdaDelta) else _ADDED  # AdaDelta came with both
        saved |= {k for k in own - saved if k in added and getattr(self, k) == added[k]}
        older = sorted(k for k in own - saved if k in added)
        if older and own == saved | set(older):
            fix = ", ".join(f"{k}={_ADDED[k]!r}" for k in older)
            now = ", ".join(f"{k}={getattr(self, k)!r}" for k in older)
            raise ValueError(
                f"the saved {name} state has no {' or '.join(older)}: it was saved before "
                f"they existed, with {fix}, but this optimizer has {now}; construct it with "
                f"{fix} to continue that run"
            )
        if own != saved:
            raise ValueError(
                f"the saved {name} state has the attributes {sorted(saved)}, the optimizer "
                f"{sorted(own)}"
            )
        for attr, value in scalars.items():
            if type(value) is not type(getattr(self, attr)):
                raise ValueError(
                    f"{name}.{attr}: saved a {type(value).__name__}, the optimizer has a "
                    f"{type(getattr(self, attr)).__name__}"
                )
        for attr, value in slots.items():
            if value is not None and not (
                isinstance(value, Mapping)
                and all(isinstance(a, np.ndarray) for a in value.values())
            ):
                raise ValueError(f"{name}.{attr}: the saved slot is not a dict of arrays")
        for attr, value in slots.items():
            for key, arr in (value or {}).items():
                _check_saved_slot(self, attr, key, arr)
        for attr, value in scalars.items():
            setattr(self, attr, value)
        for attr, value in slots.items():
            setattr(self, attr, None if value is None else
                    {k: np.array(a, copy=True) for k, a in value.items()})

    def __repr__(self) -> str:
        shown = self._hyper()
        eps = vars(self).get("eps")
        if eps is not None and (eps != _ADDED["eps"] or isinstance(self, AdaDelta)):
            shown["eps"] = eps
        if self.weight_decay:
            shown["weight_decay"] = self.weight_decay
        hyper = ", ".join(f"{k}={v}" for k, v in shown.items())
        return f"{type(self).__name__}({hyper})"

    def _hyper(self) -> dict[str, float]:
        return {"lr": self.lr}


class SGD(Optimizer):
    """Stochastic gradient descent: ``p -= lr * g``.

    Args:
        params: parameter Tensors (PyTorch style), or the learning rate, or None.
        lr: learning rate (default 0.01, the book's).
        weight_decay: L2 coefficient, ``g + weight_decay * p`` (default 0).

    Raises:
        TypeError: ``params`` is a single Tensor, a dict, or not an iterable of Tensors;
            ``lr`` or ``weight_decay`` is not a number, or ``lr`` is given twice.
        ValueError: ``lr`` or ``weight_decay`` is negative or not finite; ``params`` is
            empty or holds a tensor twice.
        DTypeError: a parameter is not floating point.
    """

    def __init__(
        self, params: ParamsOrLr = None, lr: float | None = None, *, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, lr, weight_decay=weight_decay)

    def _update_array(self, key: Hashable, p: Array, g: Array) -> None:
        p -= self.lr * g


class Momentum(Optimizer):
    """Momentum SGD: ``v = momentum * v - lr * g; p += v``.

    Args:
        params: parameter Tensors (PyTorch style), or the learning rate, or None.
        lr: learning rate (default 0.01).
        momentum: in [0, 1) (default 0.9).
        weight_decay: L2 coefficient, ``g + weight_decay * p`` (default 0).

    Attributes:
        v: the velocities, ``{key: array}`` (the book's ``v``; None before the first update).

    Raises:
        TypeError: as :class:`Optimizer`, or ``momentum`` is not a number.
        ValueError: as :class:`Optimizer`, or ``momentum`` is outside [0, 1).
        DTypeError: a parameter is not floating point.
    """

    def __init__(
        self,
        params: ParamsOrLr = None,
        lr: float | None = None,
        *,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay=weight_decay)
        self.momentum = _number(type(self).__name__, "momentum", momentum, 0.0, 1.0, True)
        self.v: dict[Hashable, Array] | None = None

    def _update_array(self, key: Hashable, p: Array, g: Array) -> None:
        if self.v is None:
            self.v = {}
        v = self._slot(self.v, key, p)
        v *= self.momentum
        v -= self.lr * g
        p += v

    def _hyper(self) -> dict[str, float]:
        return {"lr": self.lr, "momentum": self.momentum}


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, in the book's form:
    ``v = momentum * v - lr * g; p += momentum**2 * v; p -= (1 + momentum) * lr * g``.

    Args:
        params: parameter Tensors (PyTorch style), or the learning rate, or None.
        lr: learning rate (default 0.01).
        momentum: in [0, 1) (default 0.9).
        weight_decay: L2 coefficient, ``g + weight_decay * p`` (default 0).

    Raises:
        TypeError: as :class:`Optimizer`, or ``momentum`` is not a number.
        ValueError: as :class:`Optimizer`, or ``momentum`` is outside [0, 1).
        DTypeError: a parameter is not floating point.
    """

    def _update_array(self, key: Hashable, p: Array, g: Array) -> None:
        if self.v is None:
            self.v = {}
        m = self.momentum
        v = self._slot(self.v, key, p)
        v *= m
        v -= self.lr * g
        p += m * m * v
        p -= (1 + m) * self.lr * g


class AdaGrad(Optimizer):
    """AdaGrad: ``h += g * g; p -= lr * g / (sqrt(h) + eps)``.

    Args:
        params: parameter Tensors (PyTorch style), or the learning rate, or None.
        lr: learning rate (default 0.01, the book's; DeZero's is 0.001, PyTorch's 0.01).
        eps: added to ``sqrt(h)``, >= 0 (default 1e-7, the book's; DeZero and PyTorch use
            1e-8, which gives other numbers: pass ``eps=1e-8`` to match them).
        weight_decay: L2 coefficient, ``g + weight_decay * p`` (default 0).

    Attributes:
        h: the sums of squared gradients (the book's ``h``; None before the first update).

    Raises:
        TypeError: as :class:`Optimizer`, or ``eps`` is not a number.
        ValueError: as :class:`Optimizer`, or ``eps`` is negative or not finite.
        DTypeError: a parameter is not floating point.
    """

    def __init__(
        self,
        params: ParamsOrLr = None,
        lr: float | None = None,
        *,
        eps: float = 1e-7,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay=weight_decay)
        self.eps = _number(type(self).__name__, "eps", eps, 0.0, math.inf, True)
        self.h: dict[Hashable, Array] | None = None

    def _update_array(self, key: Hashable, p: Array, g: Array) -> None:
        if self.h is None:
            self.h = {}
        h = self._slot(self.h, key, p)
        h += g * g
        p -= self.lr * g / (np.sqrt(h) + self.eps)


class RMSprop(Optimizer):
    """RMSprop: ``h = decay_rate * h + (1 - decay_rate) * g * g;``
    ``p -= lr * g / (sqrt(h) + eps)``.

    PyTorch's ``RMSprop(alpha=0.99, eps=1e-8)`` is this with ``decay_rate=alpha``.

    Args:
        params: parameter Tensors (PyTorch style), or the learning rate, or None.
        lr: learning rate (default 0.01).
        decay_rate: in [0, 1] (default 0.99).
        eps: added to ``sqrt(h)``, >= 0 (default 1e-7, the book's; PyTorch's is 1e-8,
            which gives other numbers).
        weight_decay: L2 coefficient, ``g + weight_decay * p`` (default 0).

    Attributes:
        h: the running averages of squared gradients (None before the first update).

    Raises:
        TypeError: as :class:`Optimizer`, or ``decay_rate`` or ``eps`` is not a number.
        ValueError: as :class:`Optimizer`, or ``decay_rate`` is outside [0, 1], or ``eps``
            is negative or not finite.
        DTypeError: a parameter is not floating point.
    """

    def __init__(
        self,
        params: ParamsOrLr = None,
        lr: float | None = None,
        *,
        decay_rate: float = 0.99,
        eps: float = 1e-7,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay=weight_decay)
        self.decay_rate = _number(type(self).__name__, "decay_rate", decay_rate, 0.0, 1.0, False)
        self.eps = _number(type(self).__name__, "eps", eps, 0.0, math.inf, True)
        self.h: dict[Hashable, Array] | None = None

    def _update_array(self, key: Hashable, p: Array, g: Array) -> None:
        if self.h is None:
            self.h = {}
        h = self._slot(self.h, key, p)
        h *= self.decay_rate
        h += (1 - self.decay_rate) * g * g
        p -= self.lr * g / (np.sqrt(h) + self.eps)

    def _hyper(self) -> dict[str, float]:
        return {"lr": self.lr, "decay_rate": self.decay_rate}


#: Elements per slice of Adam's update: the slices of p, g, m, v and two scratch arrays
#: (float64: 6 x 256 KiB) fit a core's L2 cache.
_ADAM_CHUNK = 32768


class Adam(Optimizer):
    """Adam (Kingma & Ba), in the book's form with the bias correction folded into the
    step size: ``lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)``;
    ``m += (1 - beta1) * (g - m); v += (1 - beta2) * (g**2 - v);``
    ``p -= lr_t * m / (sqrt(v) + eps)``.

    PyTorch's Adam adds ``eps`` after the bias correction,
    ``p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``: the same
    update only up to how big ``eps`` is next to ``sqrt(v)``; DeZero's is the book's form.

    Args:
        params: parameter Tensors (PyTorch style), or the learning rate, or None.
        lr: learning rate (default 0.001, the book's).
        beta1, beta2: decay rates of the moment estimates, in [0, 1).
        eps: added to ``sqrt(v)``, >= 0 (default 1e-7, the book's; DeZero and PyTorch use
            1e-8, which gives other numbers).
        weight_decay: L2 coefficient, ``g + weight_decay * p`` (default 0; PyTorch's
            ``Adam(weight_decay=)``, not ``AdamW``'s decoupled form).

    Attributes:
        iter: updates so far (``t``); m, v: the moment estimates (None before the first).

    Raises:
        TypeError: as :class:`Optimizer`, or ``beta1``, ``beta2`` or ``eps`` is not a
            number.
        ValueError: as :class:`Optimizer`, or ``beta1`` or ``beta2`` is outside [0, 1), or
            ``eps`` is negative or not finite.
        DTypeError: a parameter is not floating point.
    """

    default_lr = 0.001

    def __init__(
        self,
        params: ParamsOrLr = None,
        lr: float | None = None,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-7,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay=weight_decay)
        name = type(self).__name__
        self.beta1 = _number(name, "beta1", beta1, 0.0, 1.0, True)
        self.beta2 = _number(name, "beta2", beta2, 0.0, 1.0, True)
        self.eps = _number(name, "eps", eps, 0.0, math.inf, True)
        self.iter = 0
        self.m: dict[Hashable, Array] | None = None
        self.v: dict[Hashable, Array] | None = None
        self._lr_t = 0.0

    def _begin(self) -> None:
        self.iter += 1
        # a Python float, so float32 parameters stay float32 (a numpy float64 would upcast)
        self._lr_t = float(
            self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        )

    def _update_array(self, key: Hashable, p: Array, g: Array) -> None:
        if self.m is None or self.v is None:
            self.m, self.v = {}, {}
        m = self._slot(self.m, key, p)
        v = self._slot(self.v, key, p)
        if g.dtype != p.dtype or not all(a.flags.c_contiguous for a in (p, g, m, v)) or any(
                np.may_share_memory(g, a) for a in (p, m, v)):
            m += (1 - self.beta1) * (g - m)
            v += (1 - self.beta2) * (g**2 - v)
            p -= self._lr_t * m / (np.sqrt(v) + self.eps)
            return
        # The same operations in the same order (``g**2`` is numpy's ``square``), so the
        # same numbers bit for bit, one slice of _ADAM_CHUNK elements at a time, into two
        # scratch arrays: a slice's p, g, m, v and scratch stay in cache through its twelve
        # passes, and the formulas' seven temporaries are not made.
        b1, b2, lr_t, eps = 1 - self.beta1, 1 - self.beta2, self._lr_t, self.eps
        P, G, M, V = (a.reshape(-1) for a in (p, g, m, v))  # views: all C-contiguous
        size = P.size
        t_buf = np.empty(min(size, _ADAM_CHUNK), dtype=p.dtype)
        d_buf = np.empty_like(t_buf)
        for i in range(0, size, _ADAM_CHUNK):
            j = min(i + _ADAM_CHUNK, size)
            pp, gg, mm, vv = P[i:j], G[i:j], M[i:j], V[i:j]
            t, d = t_buf[:j - i], d_buf[:j - i]
            np.subtract(gg, mm, out=t)
            t *= b1
            mm += t  # m += (1 - beta1) * (g - m)
            np.square(gg, out=t)
            t -= vv
            t *= b2
            vv += t  # v += (1 - beta2) * (g**2 - v)
            np.sqrt(vv, out=d)
            d += eps
            np.multiply(lr_t, mm, out=t)
            t /= d
            pp -= t  # p -= lr_t * m / (sqrt(v) + eps)

    def _hyper(self) -> dict[str, float]:
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2}


class AdaDelta(Optimizer):
    """AdaDelta (Zeiler 2012), PyTorch's form and defaults (not in the book):
    ``s = rho * s + (1 - rho) * g * g; d = sqrt(u + eps) / sqrt(s + eps) * g;``
    ``u = rho * u + (1 - rho) * d * d; p -= lr * d``.

    DeZero's ``AdaDelta`` has ``rho=0.95, eps=1e-6`` and no learning rate (``lr=1``), and
    computes ``sqrt((u + eps) / (s + eps))``, which rounds differently in the last bits:
    ``AdaDelta(lr=1.0, rho=0.95)`` is DeZero's up to that rounding.

    Args:
        params: parameter Tensors (PyTorch style), or the learning rate, or None.
        lr: scales the step (default 1.0, PyTorch's).
        rho: decay rate of both running averages, in [0, 1] (default 0.9, PyTorch's).
        eps: added inside both square roots, >= 0 (default 1e-6).
        weight_decay: L2 coefficient, ``g + weight_decay * p`` (default 0).

    Attributes:
        square_avg: the running averages ``s`` of ``g * g`` (DeZero's ``msg``);
        acc_delta: those ``u`` of ``d * d`` (DeZero's ``msdx``); None before the first update.

    Raises:
        TypeError: as :class:`Optimizer`, or ``rho`` or ``eps`` is not a number.
        ValueError: as :class:`Optimizer`, or ``rho`` is outside [0, 1], or ``eps`` is
            negative or not finite.
        DTypeError: a parameter is not floating point.
    """

    default_lr = 1.0

    def __init__(
        self,
        params: ParamsOrLr = None,
        lr: float | None = None,
        *,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay=weight_decay)
        name = type(self).__name__
        self.rho = _number(name, "rho", rho, 0.0, 1.0, False)
        self.eps = _number(name, "eps", eps, 0.0, math.inf, True)
        self.square_avg: dict[Hashable, Array] | None = None
        self.acc_delta: dict[Hashable, Array] | None = None

    def _update_array(self, key: Hashable, p: Array, g: Array) -> None:
        if self.square_avg is None or self.acc_delta is None:
            self.square_avg, self.acc_delta = {}, {}
        s = self._slot(self.square_avg, key, p)
        u = self._slot(self.acc_delta, key, p)
        s *= self.rho
        s += (1 - self.rho) * g * g
        d = np.sqrt(u + self.eps) / np.sqrt(s + self.eps) * g
        u *= self.rho
        u += (1 - self.rho) * d * d
        p -= self.lr * d

    def _hyper(self) -> dict[str, float]:
        return {"lr": self.lr, "rho": self.rho}


# --- hooks (DeZero's dezero.optimizers.WeightDecay / ClipGrad) --------------------------------
class WeightDecay:
    """A hook adding ``rate * p`` to each gradient (DeZero's ``WeightDecay``):
    ``opt.add_hook(WeightDecay(1e-4))``.

    The same update as the optimizers' ``weight_decay=rate``, except that this one changes
    ``.grad`` (it is replaced by a new Tensor holding ``g + rate * p``; DeZero adds in
    place), so hooks added after it and the code after ``step()`` see the decayed gradient.

    Args:
        rate: the L2 coefficient, >= 0.

    Raises:
        TypeError: ``rate`` is not a number.
        ValueError: ``rate`` is negative or not finite.
    """

    def __init__(self, rate: float) -> None:
        self.rate = _number("WeightDecay", "rate", rate, 0.0, math.inf, True)

    def __call__(self, params: list[Tensor]) -> None:
        for p in params:
            if p.grad is not None:
                p.grad = Tensor(p.grad.data + self.rate * p.data)

    def __repr__(self) -> str:
        return f"WeightDecay(rate={self.rate})"


class ClipGrad:
    """A hook scaling the gradients so that their total L2 norm is at most ``max_norm``
    (DeZero's ``ClipGrad``): :func:`tinygrad_fish.nn.utils.clip_grad_norm_` on the
    parameters before each update, ``opt.add_hook(ClipGrad(1.0))``.

    Args:
        max_norm: the largest total norm allowed, >= 0.

    Attributes:
        last_norm: the total norm before clipping at the last update (None before).

    Raises:
        TypeError: ``max_norm`` is not a number.
        ValueError: ``max_norm`` is negative or not finite.
    """

    def __init__(self, max_norm: float) -> None:
        self.max_norm = _number("ClipGrad", "max_norm", max_norm, 0.0, math.inf, True)
        self.last_norm: float | None = None

    def __call__(self, params: list[Tensor]) -> None:
        self.last_norm = float(clip_grad_norm_(params, self.max_norm).data)

    def __repr__(self) -> str:
        return f"ClipGrad(max_norm={self.max_norm})"


#: The optimizers by lower-case name (for command lines): ``OPTIMIZERS["adam"](lr=1e-3)``.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}
