"""The book's networks: ``TwoLayerNet`` (ch04/ch05) and ``MultiLayerNet`` (ch06,
``multi_layer_net.py`` and ``multi_layer_net_extend.py``), with the book's API.

The book's training loop runs unchanged::

    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    for i in range(iters_num):
        grad = network.gradient(x_batch, t_batch)          # engine backprop
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * grad[key]  # updates the layers' weights
        train_loss_list.append(network.loss(x_batch, t_batch))

``params`` (a :class:`~tinygrad_fish.nn.params.ParamDict`) holds the very numpy arrays the
layers' parameter Tensors wrap, so in-place updates (``-=``, an optimizer's ``update``,
``numerical_gradient``'s perturbations, ``load_state_dict``) reach the layers; assigning to
a key (``params["W1"] = params["W1"] - lr * g``, the book's other idiom) writes into the
same array, so it trains too. Every such write is recorded in the parameter's version
counter: a graph built before it refuses to backpropagate with the new values.

Memory: each network remembers (weakly) the output of its last forward pass that recorded a
graph, and frees that graph's arrays when a new recorded forward pass starts, as the book's
layers only remember their last forward. The previous graph keeps its structure (ops, shapes,
names, scopes: what a backward pass keeps), so ``draw_graph(loss)`` still draws it after
``net.gradient()``; the graph before that is released whole
(:func:`tinygrad_fish.autograd.release_graph`). So the
losses the book's loop keeps in ``train_loss_list`` hold their values, not whole graphs with
their mini-batches (about 0.5 MB each, 4 GB over 10,000 iterations). The consequence: the
loss of an earlier forward pass can no longer be backpropagated once a later one ran
(``loss.backward()`` then raises a :class:`~tinygrad_fish.GraphError`); call ``backward``
first, or set ``network.release_previous_graph = False``. Forward passes under ``no_grad``
(``accuracy``, ``numerical_gradient``) record nothing and leave the previous graph alone. Only
the network's own graph is released: a forward pass whose input ``x`` (or Tensor target ``t``)
comes out of another graph, say an encoder's, is not remembered, so that graph stays intact.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from .. import autograd as _autograd
from ..autograd import grad, is_grad_enabled, no_grad, release_graph, scope
from ..errors import DTypeError, GraphError, InvalidArgumentError
from ..numerical import numerical_gradient as _numerical_gradient
from ..replay import MAX_PLANS, REPLAYABLE_LAYERS, ReplayState, Settings, StepPlan
from ..tensor import ArrayLike, Tensor
from .layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid, SoftmaxWithLoss
from .module import Module
from .params import ParamDict

__all__ = ["MultiLayerNet", "TwoLayerNet"]

Array = npt.NDArray[Any]


#: The modules whose layers of the names in REPLAYABLE_LAYERS are the package's own.
_REPLAY_MODULES = frozenset({"tinygrad_fish.nn.layers", "tinygrad_fish.book.layers"})


def _float_dtype(dtype: npt.DTypeLike, what: str) -> np.dtype[Any]:
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise DTypeError(f"{what}: dtype must be a floating-point type, got {dt}")
    return dt


def _check_size(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return int(value)


class _BookNetwork(Module):
    """What the book's networks share: ``params`` linked to parameter Tensors, input casts,
    the release of the previous forward's graph, accuracy and both gradients."""

    layers: OrderedDict[str, Module]
    dtype: np.dtype[Any]
    #: Free the previous forward pass's graph when a new one starts (see the module doc).
    release_previous_graph: bool = True
    #: The class of the last layer (the book's networks in :mod:`tinygrad_fish.book` use
    #: the book's, which reports the book's loss value).
    loss_layer_class: ClassVar[type[SoftmaxWithLoss]] = SoftmaxWithLoss

    def __init__(self, dtype: np.dtype[Any], seed: int | None) -> None:
        super().__init__()
        self.dtype = dtype
        object.__setattr__(self, "_params", ParamDict(type(self).__name__))
        self.layers = OrderedDict()
        object.__setattr__(self, "_last_thread", None)
        object.__setattr__(self, "_last_output", None)
        object.__setattr__(self, "_older_output", None)
        object.__setattr__(
            self, "_rng", None if seed is None else np.random.default_rng(seed)
        )

    # --- construction helpers ----------------------------------------------------------------
    def _randn(self, shape: tuple[int, ...]) -> Array:
        """Standard normal samples: the book's ``np.random.randn``, or the seeded Generator."""
        rng: np.random.Generator | None = self.__dict__["_rng"]
        return np.random.randn(*shape) if rng is None else rng.standard_normal(shape)

    def _add_param(self, key: str, value: Array) -> Tensor:
        """Put ``value`` (cast to the network's dtype) in ``params`` and register a Tensor
        wrapping that same array as the parameter ``key``."""
        arr = np.asarray(value, dtype=self.dtype)
        t = Tensor(arr, requires_grad=True, name=key)
        self.__dict__["_params"]._add(key, t)
        self.register_parameter(key, t)
        return t

    @property
    def params(self) -> ParamDict:
        """The book's ``params``: ``{key: numpy array}``, the very arrays the layers use.

        Assigning to a key writes into that array (see :class:`ParamDict`), so both the
        book's ``params[key] -= lr * g`` and ``params[key] = params[key] - lr * g`` train
        the network. Assigning a whole mapping (``net.params = saved``) writes every array
        the same way; it must have exactly the network's keys.

        Raises:
            KeyError: (on assignment of a mapping) its keys differ from the network's.
            ShapeError, DTypeError: as :meth:`ParamDict.__setitem__`.
        """
        return self.__dict__["_params"]  # type: ignore[no-any-return]

    @params.setter
    def params(self, values: Mapping[str, Any]) -> None:
        own: ParamDict = self.__dict__["_params"]
        if values is own:
            return
        if set(values) != set(own):
            raise KeyError(
                f"{type(self).__name__}.params = ...: the keys {sorted(values)} differ from "
                f"the network's {list(own)}"
            )
        for key in own:
            own[key] = values[key]

    def _add_layer(self, key: str, layer: Module) -> None:
        layer.name = key
        self.layers[key] = layer
        self.add_module(key, layer)

    # --- the forward pass --------------------------------------------------------------------
    def _input(self, x: ArrayLike) -> Tensor:
        """``x`` in the network's dtype (no copy when it already is)."""
        if isinstance(x, Tensor):
            return x if x.data.dtype == self.dtype else x.astype(self.dtype)
        return Tensor(np.asarray(x, dtype=self.dtype))

    def _start_forward(self) -> None:
        """Free the graph of the previous recorded forward pass (if it still exists)."""
        if not self.release_previous_graph or not is_grad_enabled():
            return
        ref: weakref.ref[Tensor] | None = self.__dict__["_last_output"]
        if ref is not None:
            prev = ref()
            if prev is not None and prev._ctx is not None:
                owner = self.__dict__["_last_thread"]
                if prev._ctx.inputs is not None and owner != threading.get_ident():
                    raise GraphError(
                        f"{type(self).__name__}: its last forward pass ran in another thread, "
                        "whose graph has not been backpropagated yet; a new forward pass "
                        "would free it under that thread. One network cannot train in "
                        "several threads at once: give each thread its own network (or set "
                        "release_previous_graph = False and free graphs yourself)."
                    )
                _free_arrays(prev)
            object.__setattr__(self, "_last_output", None)
            # the graph before it: drop its structure too (so only one graph's structure,
            # arrays freed, is ever kept: memory stays flat)
            older: weakref.ref[Tensor] | None = self.__dict__.get("_older_output")
            old = older() if older is not None else None
            if old is not None:
                release_graph(old)
            object.__setattr__(self, "_older_output", ref if prev is not None else None)

    def _remember(self, out: Tensor, own_graph: bool) -> None:
        """Remember ``out`` to release its graph at the next forward pass, if the graph is
        the network's own (its inputs came from outside any graph)."""
        if out._ctx is None:  # nothing recorded (no_grad): keep what is remembered
            return
        object.__setattr__(self, "_last_output", weakref.ref(out) if own_graph else None)
        object.__setattr__(self, "_last_thread", threading.get_ident())

    def _run_layers(self, x: Tensor, train_flg: bool) -> Tensor:
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def _forward(self, x: ArrayLike, train_flg: bool) -> tuple[Tensor, bool]:
        """The scores, and whether the graph recorded is the network's own: True unless
        ``x`` is the output of some other graph, which must not be released with it."""
        self._start_forward()
        own = not isinstance(x, Tensor) or x._ctx is None
        return self._run_layers(self._input(x), train_flg), own

    def _predict(self, x: ArrayLike, train_flg: bool) -> Tensor:
        y, own = self._forward(x, train_flg)
        self._remember(y, own)
        return y

    def _loss(self, x: ArrayLike, t: ArrayLike, train_flg: bool) -> Tensor:
        y, own = self._forward(x, train_flg)
        loss = self._last_layer().forward(y, t)
        loss = self._add_regularization(loss)
        self._remember(loss, own and not (isinstance(t, Tensor) and t._ctx is not None))
        return loss

    def _last_layer(self) -> SoftmaxWithLoss:
        raise NotImplementedError

    def _add_regularization(self, loss: Tensor) -> Tensor:
        return loss

    # --- the book's API ----------------------------------------------------------------------
    def _accuracy(self, x: ArrayLike, t: ArrayLike, batch_size: int | None) -> float:
        n = len(x)
        if n == 0:
            raise ValueError("accuracy: x is empty")
        step = n if batch_size is None else _check_size(batch_size, "accuracy: batch_size")
        tt = np.asarray(t.data if isinstance(t, Tensor) else t)
        if tt.ndim != 1:
            tt = np.argmax(tt, axis=1)
        correct = 0
        with no_grad():
            for i in range(0, n, step):
                y = self._predict(x[i : i + step], False).data
                correct += int(np.sum(np.argmax(y, axis=1) == tt[i : i + step]))
        return correct / float(n)

    def save_params(self, file_name: str | os.PathLike[str] = "params.npz") -> None:
        """Save ``params`` to ``file_name`` as the project's ``.npz`` (atomic, no pickle;
        the book's ``save_params`` pickles, which a reader could not load safely).

        Raises:
            ModelFileError: the file cannot be written.
        """
        from ..serialization import save

        save(dict(self.params.items()), file_name)

    def load_params(self, file_name: str | os.PathLike[str] = "params.npz") -> None:
        """Load weights into ``params`` (and so into the layers), from a ``.npz`` written by
        :meth:`save_params` or from one of the book's pickles (``params.pkl``,
        ``deep_convnet_params.pkl``), read by :func:`tinygrad_fish.pickles.load_pickle`,
        which runs no code. Values are cast to the network's dtype.

        Raises:
            ModelFileError: the file cannot be read, is neither format, or (a pickle) holds
                anything but named numeric arrays.
            KeyError: the file's names differ from ``params``'.
            ShapeError: an array's shape differs from its parameter's.
        """
        from ..pickles import load_pickle
        from ..serialization import load

        with open(file_name, "rb") as f:
            zip_file = f.read(2) == b"PK"
        values = load(file_name) if zip_file else load_pickle(file_name)
        self.params = values

    def numerical_gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, Array]:
        """The book's gradient by central differences, for every key of ``params``.

        Each element of each parameter array is perturbed in place and the loss recomputed
        (under ``no_grad``): slow, but independent of backprop; the oracle ``gradient`` is
        checked against. Networks with Dropout or BatchNormalization use training mode, as
        the book's ``multi_layer_net_extend.py`` does.

        Args:
            x: inputs, (N, input_size).
            t: labels, (N,) class indices or (N, output_size) one-hot.

        Returns:
            ``{key: array of params[key]'s shape}``.

        Raises:
            ShapeError: ``x`` does not have input_size features, or ``t``'s shape fits
                neither label form.
            DTypeError: class indices that are not integers.
            IndexingError: a class index outside [0, output_size).
        """
        xt = self._input(x)

        def loss_W(_: Any) -> float:
            with no_grad():
                return float(self._loss(xt, t, True).data)

        return {key: _numerical_gradient(loss_W, self.params[key]) for key in self._grad_order()}

    def _grad_order(self) -> list[str]:
        """The keys of the gradient dicts, in the book's order: layer by layer, ``W``, ``b``,
        then ``gamma``, ``beta`` (``params`` holds every weight before the first gamma).
        Cached (``gradient`` asks every step) until the keys of ``params`` change."""
        keys = tuple(self.params)
        cached = self.__dict__.get("_grad_order_cache")
        if cached is not None and cached[0] == keys:
            return list(cached[1])
        kinds = {"W": 0, "b": 1, "gamma": 2, "beta": 3}

        def rank(key: str) -> tuple[int, int]:
            name = key.rstrip("0123456789")
            return int(key[len(name):] or 0), kinds.get(name, 4)

        order = sorted(keys, key=rank)
        self.__dict__["_grad_order_cache"] = (keys, tuple(order))
        return order

    def gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, Array]:
        """The gradient of the loss for every key of ``params``, by the engine's backprop.

        One forward pass, then one backward pass over the recorded graph (which is freed).
        No gradient is computed for ``x``. The parameters' ``.grad`` are left untouched.

        Args:
            x: inputs, (N, input_size).
            t: labels, (N,) class indices or (N, output_size) one-hot.

        Returns:
            ``{key: array of params[key]'s shape and dtype}``: fresh arrays, shared with
            nothing the network keeps, so updating them in place is safe.

        Raises:
            ShapeError: ``x`` does not have input_size features, or ``t``'s shape fits
                neither label form.
            DTypeError: class indices that are not integers.
            IndexingError: a class index outside [0, output_size).
        """
        rs: ReplayState | None = self.__dict__.get("_replay")
        if rs is not None:
            replayed = self._replay_gradient(rs, x, t)
            if replayed is not None:
                return replayed
        return self._gradient_of(self._loss(x, t, True))

    def _gradient_of(self, loss: Tensor) -> dict[str, Array]:
        """The plain engine's backward from ``loss`` to every parameter, as fresh arrays."""
        own: dict[str, Tensor] = self.__dict__["_params"]._tensors
        tensors = {key: own[key] for key in self._grad_order()}
        grads = grad(loss, list(tensors.values()), allow_unused=True)
        out: dict[str, Array] = {}
        seen: set[int] = set()
        for (key, p), g in zip(tensors.items(), grads, strict=True):
            if g is None:
                a = np.zeros_like(p.data)
            else:
                a = g.data
                if a.dtype != p.data.dtype:
                    a = a.astype(p.data.dtype)
                elif not a.flags.owndata or id(a) in seen:
                    a = a.copy()
            seen.add(id(a))
            out[key] = a
        return out

    # --- replay ------------------------------------------------------------------------------
    def _replay_layers(self) -> list[Module]:
        return [*self.layers.values(), self._last_layer()]

    @property
    def replay(self) -> bool:
        """Replay ``gradient`` steps instead of rebuilding their graph (default False).

        With ``replay = True``, the first ``gradient(x, t)`` on a batch of a new shape runs
        the plain engine and records its ops (:mod:`tinygrad_fish.replay`); the next one
        also runs the plain engine and checks a replay against it bit for bit; from then
        on steps of that shape run as a replay: the same numpy calls in the same order, so
        the same gradients, without building Tensors, nodes or the backward heap (at batch
        1 a step takes less than half the time). Anything the capture cannot prove it
        replays exactly (an unusual layer, a value computed in Python from the batch, a
        hook, ``detect_anomaly``, changed settings or layers) runs the plain engine.
        ``replay_status()`` says what each captured shape does, ``replay_source()`` shows
        the code a replay runs.

        ``gradient`` builds no graph while it replays, so ``draw_graph`` shows the last
        plain step's; ``loss``, ``predict`` and ``accuracy`` always run the plain engine.

        Raises:
            InvalidArgumentError: (on setting True) a layer is not of a kind whose forward
                a replay reproduces: see :data:`tinygrad_fish.replay.REPLAYABLE_LAYERS`.
        """
        return self.__dict__.get("_replay") is not None

    @replay.setter
    def replay(self, on: bool) -> None:
        if not on:
            object.__setattr__(self, "_replay", None)
            return
        bad = [
            f"{layer.name or '?'} ({type(layer).__name__})" for layer in self._replay_layers()
            if type(layer).__module__ not in _REPLAY_MODULES
            or type(layer).__name__ not in REPLAYABLE_LAYERS
        ]
        if bad:
            raise InvalidArgumentError(
                f"{type(self).__name__}.replay: the layers {', '.join(bad)} do work in "
                "Python that a replay would skip (a random mask, running statistics, code of "
                f"your own); replay supports networks of {', '.join(sorted(REPLAYABLE_LAYERS))}"
            )
        if self.__dict__.get("_replay") is None:
            object.__setattr__(self, "_replay", ReplayState())

    def replay_status(self) -> dict[str, str]:
        """What ``gradient`` does for each batch shape seen since ``replay`` was set:
        ``{"x (100, 784) float32, t (100, 10) float32": "replaying"}``, or "not replayed:"
        and why; empty when replay is off."""
        rs: ReplayState | None = self.__dict__.get("_replay")
        return {} if rs is None else rs.status()

    def replay_source(self) -> dict[str, str]:
        """The Python source of each captured step (``replay_status``'s keys): the
        straight-line function a replay runs, each op's ``forward`` in the order of the
        forward pass, then each op's ``backward`` in the order the walk visited them, with
        the gradients that meet added up. Empty when replay is off or nothing was captured.
        """
        rs: ReplayState | None = self.__dict__.get("_replay")
        if rs is None:
            return {}
        names = list(rs.status())
        return {name: plan.source for name, plan in zip(names, rs.plans.values(), strict=True)
                if isinstance(plan, StepPlan)}

    def _replay_gradient(self, rs: ReplayState, x: ArrayLike, t: ArrayLike
                         ) -> dict[str, Array] | None:
        """``gradient`` by replay, or None to run the plain engine instead."""
        state = _autograd._state
        if (type(x) is not np.ndarray or type(t) is not np.ndarray or not state.grad_enabled
                or state.anomaly or state.backward_trace is not None or _autograd._hooks
                or _autograd._retained):
            return None
        layers = self._replay_layers()
        objects = [self, *layers]
        if rs.settings is None or not rs.settings.unchanged(objects):
            rs.plans.clear()  # other layers or settings: capture anew
            rs.settings = Settings(objects)
        key = ((x.shape, x.dtype), (t.shape, t.dtype))
        plan = rs.plans.get(key)
        if isinstance(plan, str):
            return None
        if plan is not None and t.dtype.kind != "f":  # class indices: checked as the plain
            c = plan.classes                            # engine checks them, else it raises
            if c is None or not t.size or t.min() < 0 or t.max() >= c:
                return None
        if not rs.lock.acquire(blocking=False):  # another thread is replaying it
            return None
        try:
            own: dict[str, Tensor] = self.__dict__["_params"]._tensors
            if plan is not None and plan.own_ids != tuple(map(id, own.values())):
                rs.plans.clear()  # parameters added or replaced: capture anew
                plan = None
            if plan is None:
                if len(rs.plans) >= MAX_PLANS:
                    return None
                return self._capture(rs, key, np.asarray(x, dtype=self.dtype), t,
                                     self._grad_order(), layers)
            self._start_forward()
            grads = plan.run((np.asarray(x, dtype=self.dtype), t))
            last = layers[-1]
            if plan.loss_op_slot is not None and "loss" in last.__dict__:
                last.__dict__["loss"] = plan.tensors[plan.loss_op_slot].data[()]
            if not plan.verified:
                keys = plan.keys
                plain = self._gradient_of(self._loss(x, t, True))
                if rs.mismatch(key, [plain[k] for k in keys], [grads[k] for k in keys]):
                    return plain
                plan.verified = True
            return grads
        finally:
            rs.lock.release()

    def _capture(self, rs: ReplayState, key: tuple[Any, ...], xa: Array, t: Array,
                 keys: list[str], layers: list[Module]) -> dict[str, Array]:
        xt, tt = Tensor._wrap(xa), Tensor._wrap(t)
        own: dict[str, Tensor] = self.__dict__["_params"]._tensors
        plan, why, grads = StepPlan.capture(
            lambda: self._loss(xt, tt, True), (xt, tt), [own[k] for k in keys],
            self._gradient_of, layers, keys,
        )
        if plan is not None:  # the parameters in the order of params (checked each step)
            plan.own_ids = tuple(map(id, own.values()))
        rs.plans[key] = plan if plan is not None else (why or "?")
        return grads  # type: ignore[no-any-return]


class TwoLayerNet(_BookNetwork):
    """The book's two-layer net: Affine1 -> Relu1 -> Affine2 -> SoftmaxWithLoss.

    Args:
        input_size: D, features per sample (784 for MNIST).
        hidden_size: H, units of the hidden layer.
        output_size: C, classes.
        weight_init_std: the weights are ``weight_init_std * randn``; biases start at 0.
        dtype: float64 (the book's) or float32: the dtype of the parameters; inputs are
            converted to it once, at the start of ``predict``.
        seed: None to draw the weights with ``np.random.randn`` as the book does (so
            ``np.random.seed`` controls them), or a seed for a private
            ``np.random.default_rng``.

    Attributes:
        params: ``{"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}`` numpy arrays, the
            same arrays the layers use (update them in place).
        layers: ``OrderedDict`` of ``"Affine1"``, ``"Relu1"``, ``"Affine2"``.
        lastLayer: the ``SoftmaxWithLoss`` (also ``last_layer``).

    As a :class:`Module`, its parameters are the Tensors ``net.W1``, ``net.b1``, ``net.W2``,
    ``net.b2`` wrapping ``params``, and ``net(x)`` is ``net.predict(x)``. See the module doc
    for the memory rule: a new recorded forward pass frees the previous one's graph.

    Raises:
        DTypeError: ``dtype`` is not a floating-point type.
        ValueError: a size is not a positive int.
    """

    lastLayer: SoftmaxWithLoss
    W1: Tensor
    b1: Tensor
    W2: Tensor
    b2: Tensor

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float = 0.01,
        *,
        dtype: npt.DTypeLike = np.float64,
        seed: int | None = None,
    ) -> None:
        super().__init__(_float_dtype(dtype, "TwoLayerNet"), seed)
        d = _check_size(input_size, "TwoLayerNet: input_size")
        h = _check_size(hidden_size, "TwoLayerNet: hidden_size")
        c = _check_size(output_size, "TwoLayerNet: output_size")
        W1 = self._add_param("W1", weight_init_std * self._randn((d, h)))
        b1 = self._add_param("b1", np.zeros(h))
        W2 = self._add_param("W2", weight_init_std * self._randn((h, c)))
        b2 = self._add_param("b2", np.zeros(c))
        self._add_layer("Affine1", Affine(W1, b1))
        self._add_layer("Relu1", Relu())
        self._add_layer("Affine2", Affine(W2, b2))
        self.lastLayer = self.loss_layer_class()

    @property
    def last_layer(self) -> SoftmaxWithLoss:
        """The ``SoftmaxWithLoss`` (the book's ``lastLayer``)."""
        return self.lastLayer

    def _last_layer(self) -> SoftmaxWithLoss:
        return self.lastLayer

    def _run_layers(self, x: Tensor, train_flg: bool) -> Tensor:
        layers = self.layers
        x = layers["Affine1"].forward(x)
        x = layers["Relu1"].forward(x)
        return layers["Affine2"].forward(x)  # type: ignore[no-any-return]

    def predict(self, x: ArrayLike) -> Tensor:
        """The scores (before softmax): (N, input_size) -> (N, output_size) Tensor.

        Raises:
            ShapeError: ``x`` does not have input_size features per sample.
        """
        return self._predict(x, False)

    def forward(self, x: ArrayLike) -> Tensor:
        """``predict(x)``: (N, input_size) -> (N, output_size).

        Raises:
            ShapeError: ``x`` does not have input_size features per sample.
        """
        return self._predict(x, False)

    def loss(self, x: ArrayLike, t: ArrayLike) -> Tensor:
        """Mean cross-entropy of the batch: a 0-d Tensor in the graph (``.backward()`` it).

        Args:
            x: inputs, (N, input_size).
            t: labels, (N,) class indices or (N, output_size) one-hot.

        Raises:
            ShapeError: ``x`` does not have input_size features, or ``t``'s shape fits
                neither label form.
            DTypeError: class indices that are not integers.
            IndexingError: a class index outside [0, output_size).
        """
        return self._loss(x, t, False)

    def accuracy(self, x: ArrayLike, t: ArrayLike, batch_size: int | None = None) -> float:
        """Fraction of samples whose highest score is the label (computed under no_grad).

        Args:
            x: inputs, (N, input_size).
            t: labels, (N,) class indices or (N, output_size) one-hot.
            batch_size: predict this many samples at a time (bounds memory on big sets);
                None, as the book, for all at once.

        Raises:
            ValueError: ``x`` is empty, or ``batch_size`` is not a positive int.
            ShapeError: ``x`` does not have input_size features per sample.
        """
        return self._accuracy(x, t, batch_size)

    def extra_repr(self) -> str:
        w1, w2 = self.params["W1"].shape, self.params["W2"].shape
        return f"{w1[0]}-{w1[1]}-{w2[1]}, dtype={self.dtype}"


_ACTIVATIONS: dict[str, type[Module]] = {"relu": Relu, "sigmoid": Sigmoid}


def _init_scale(weight_init_std: float | str, fan_in: int) -> float:
    """The book's ``__init_weight`` scale: He for 'relu'/'he', Xavier for
    'sigmoid'/'xavier', else the number itself."""
    if isinstance(weight_init_std, str):
        key = weight_init_std.lower()
        if key in ("relu", "he"):
            return float(np.sqrt(2.0 / fan_in))
        if key in ("sigmoid", "xavier"):
            return float(np.sqrt(1.0 / fan_in))
        raise ValueError(
            f"MultiLayerNet: weight_init_std must be 'relu', 'he', 'sigmoid', 'xavier' or a "
            f"number, got {weight_init_std!r}"
        )
    return float(weight_init_std)


class MultiLayerNet(_BookNetwork):
    """The book's fully connected net of any depth (``multi_layer_net.py``), with the
    options of ``multi_layer_net_extend.py`` (Dropout, BatchNormalization).

    Layers, for each hidden layer i = 1..L: ``Affine{i}``, [``BatchNorm{i}``],
    ``Activation_function{i}``, [``Dropout{i}``]; then ``Affine{L+1}`` and the
    ``SoftmaxWithLoss`` ``last_layer``.

    Args:
        input_size: D, features per sample.
        hidden_size_list: units of each hidden layer, e.g. ``[100, 100, 100]``.
        output_size: C, classes.
        activation: ``'relu'`` or ``'sigmoid'``.
        weight_init_std: ``'relu'``/``'he'`` (std sqrt(2/fan_in)), ``'sigmoid'``/
            ``'xavier'`` (sqrt(1/fan_in)), or a number.
        weight_decay_lambda: L2 strength λ: the loss adds ``0.5 * λ * sum(W**2)`` for every
            weight matrix (not the biases), so the gradient includes ``λ * W``.
        use_dropout: add a Dropout after each activation.
        dropout_ration: the Dropout ratio (the book's spelling).
        use_batchnorm: add a BatchNormalization after each hidden Affine, with parameters
            ``gamma{i}`` (ones) and ``beta{i}`` (zeros) in ``params``.
        dtype: float64 or float32, as for :class:`TwoLayerNet`.
        seed: as for :class:`TwoLayerNet`.

    Attributes:
        params: ``W1..W{L+1}``, ``b1..b{L+1}`` (and ``gamma{i}``, ``beta{i}``), the arrays
            the layers use.
        layers: the ``OrderedDict`` above; ``last_layer`` (also ``lastLayer``).

    ``predict``/``loss`` take the book's ``train_flg`` (default False: Dropout scales,
    BatchNorm uses running statistics); ``gradient`` and ``numerical_gradient`` use
    training mode, ``accuracy`` evaluation mode. ``net(x)`` uses the module's mode
    (``net.train()`` / ``net.eval()``).

    Raises:
        DTypeError: ``dtype`` is not a floating-point type.
        ValueError: a size is not a positive int, or ``activation`` or a string
            ``weight_init_std`` is not one of the names above.
    """

    last_layer: SoftmaxWithLoss

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: float | str = "relu",
        weight_decay_lambda: float = 0,
        *,
        use_dropout: bool = False,
        dropout_ration: float = 0.5,
        use_batchnorm: bool = False,
        dtype: npt.DTypeLike = np.float64,
        seed: int | None = None,
    ) -> None:
        super().__init__(_float_dtype(dtype, "MultiLayerNet"), seed)
        self.input_size = _check_size(input_size, "MultiLayerNet: input_size")
        self.hidden_size_list = [
            _check_size(h, "MultiLayerNet: each hidden size") for h in hidden_size_list
        ]
        self.output_size = _check_size(output_size, "MultiLayerNet: output_size")
        self.hidden_layer_num = len(self.hidden_size_list)
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"MultiLayerNet: activation must be 'relu' or 'sigmoid', got {activation!r}"
            )
        self.activation = activation
        self.weight_decay_lambda = float(weight_decay_lambda)
        self.use_dropout = bool(use_dropout)
        self.use_batchnorm = bool(use_batchnorm)

        sizes = [self.input_size, *self.hidden_size_list, self.output_size]
        weights: list[tuple[Tensor, Tensor]] = []
        for idx in range(1, len(sizes)):
            scale = _init_scale(weight_init_std, sizes[idx - 1])
            W = self._add_param(f"W{idx}", scale * self._randn((sizes[idx - 1], sizes[idx])))
            b = self._add_param(f"b{idx}", np.zeros(sizes[idx]))
            weights.append((W, b))
        self._weight_tensors = [W for W, _ in weights]

        for idx in range(1, self.hidden_layer_num + 1):
            W, b = weights[idx - 1]
            self._add_layer(f"Affine{idx}", Affine(W, b))
            if self.use_batchnorm:
                h = self.hidden_size_list[idx - 1]
                gamma = self._add_param(f"gamma{idx}", np.ones(h))
                beta = self._add_param(f"beta{idx}", np.zeros(h))
                self._add_layer(f"BatchNorm{idx}", BatchNormalization(gamma, beta))
            self._add_layer(f"Activation_function{idx}", _ACTIVATIONS[activation]())
            if self.use_dropout:
                self._add_layer(f"Dropout{idx}", Dropout(dropout_ration))
        W, b = weights[-1]
        self._add_layer(f"Affine{self.hidden_layer_num + 1}", Affine(W, b))
        self.last_layer = self.loss_layer_class()

    @property
    def lastLayer(self) -> SoftmaxWithLoss:
        """The ``SoftmaxWithLoss`` (``last_layer``; TwoLayerNet's spelling)."""
        return self.last_layer

    def _last_layer(self) -> SoftmaxWithLoss:
        return self.last_layer

    def _run_layers(self, x: Tensor, train_flg: bool) -> Tensor:
        for layer in self.layers.values():
            if isinstance(layer, (Dropout, BatchNormalization)):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def _add_regularization(self, loss: Tensor) -> Tensor:
        lam = self.weight_decay_lambda
        if not lam:
            return loss
        with scope("WeightDecay"):
            decay: Tensor | None = None
            for W in self._weight_tensors:
                term = 0.5 * lam * (W**2).sum()
                decay = term if decay is None else decay + term
            assert decay is not None
            return loss + decay

    def predict(self, x: ArrayLike, train_flg: bool = False) -> Tensor:
        """The scores (before softmax): (N, input_size) -> (N, output_size) Tensor.

        ``train_flg``: Dropout drops and BatchNorm uses (and updates) batch statistics.

        Raises:
            ShapeError: ``x`` does not have input_size features per sample.
        """
        return self._predict(x, train_flg)

    def forward(self, x: ArrayLike) -> Tensor:
        """``predict(x, train_flg=self.training)``: (N, input_size) -> (N, output_size).

        Raises:
            ShapeError: ``x`` does not have input_size features per sample.
        """
        return self._predict(x, self.training)

    def loss(self, x: ArrayLike, t: ArrayLike, train_flg: bool = False) -> Tensor:
        """Mean cross-entropy of the batch plus the weight decay: a 0-d Tensor in the graph.

        Args:
            x: inputs, (N, input_size).
            t: labels, (N,) class indices or (N, output_size) one-hot.
            train_flg: as for :meth:`predict`.

        Raises:
            ShapeError: ``x`` does not have input_size features, or ``t``'s shape fits
                neither label form.
            DTypeError: class indices that are not integers.
            IndexingError: a class index outside [0, output_size).
        """
        return self._loss(x, t, train_flg)

    def accuracy(self, x: ArrayLike, t: ArrayLike, batch_size: int | None = None) -> float:
        """Fraction of samples whose highest score is the label (evaluation mode, no_grad).

        Args:
            x: inputs, (N, input_size).
            t: labels, (N,) class indices or (N, output_size) one-hot.
            batch_size: predict this many samples at a time; None for all at once.

        Raises:
            ValueError: ``x`` is empty, or ``batch_size`` is not a positive int.
            ShapeError: ``x`` does not have input_size features per sample.
        """
        return self._accuracy(x, t, batch_size)

    def extra_repr(self) -> str:
        sizes = "-".join(str(s) for s in (self.input_size, *self.hidden_size_list,
                                          self.output_size))
        return f"{sizes}, activation={self.activation!r}, dtype={self.dtype}"


def _free_arrays(out: Tensor) -> None:
    """Free the arrays of the graph behind ``out`` as a backward pass does, keeping its
    structure (Ghost records: ops, shapes, names, scopes) so it can still be drawn;
    backpropagating through it raises the freed-graph :class:`GraphError`."""
    stack = [out._ctx]
    while stack:
        fn = stack.pop()
        if fn is None or fn.inputs is None:
            continue
        stack.extend(t._ctx for t in fn.inputs)
        fn._release(keep_structure=True)
