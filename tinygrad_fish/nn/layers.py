"""The book's layers (``common/layers.py``), built from Tensor ops: no hand-written backward.

Each layer keeps the book's constructor and its ``forward`` method; the engine records the
ops of the forward pass and ``loss.backward()`` computes every gradient from them.

The book's networks call each layer's ``backward(dout)`` by hand and read ``dW``/``db`` after
it (``ch05/two_layer_net.py``). That works too, and the engine computes it: ``backward(dout)``
takes the layer's last forward pass again on its remembered input (the same ops on the same
values, the same Dropout mask, no running statistics updated), backpropagates ``dout``
through it, sets the parameters' gradients (``dW``, ``db``, ``dgamma``, ``dbeta``) as numpy
arrays and returns the input's (``dx``, of the input's shape). The numbers are those of the
engine's backward pass over the whole network, bit for bit.

Each layer runs its forward inside ``tinygrad_fish.scope(layer.name)``, so a graph drawing
boxes the ops of "Affine1", "Relu1", ... as the book's figures do.

Shapes: N is the batch size, D the input features, M the output features.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..autograd import enable_grad, grad, scope
from ..errors import DTypeError, GraphError, ShapeError
from ..ops import cross_entropy, relu, sigmoid
from ..ops.arithmetic import Add
from ..ops.linalg import MatMul
from ..ops.nn import Normalize
from ..tensor import ArrayLike, Tensor, as_tensor
from .module import Module

__all__ = [
    "Affine",
    "BatchNormalization",
    "Dropout",
    "Relu",
    "Sigmoid",
    "SoftmaxWithLoss",
]

Array = npt.NDArray[Any]


def _as_parameter(value: ArrayLike, name: str, what: str) -> Tensor:
    """A Tensor parameter: a Tensor is used as it is; a numpy float array is wrapped without
    copying (so in-place edits of the array reach the layer) and made to require grad."""
    if isinstance(value, Tensor):
        return value
    if not isinstance(value, np.ndarray):
        value = np.asarray(value, dtype=np.float64)
    if value.dtype.kind != "f":
        raise DTypeError(
            f"{what}: the parameter {name} must be a floating-point array, got dtype "
            f"{value.dtype}"
        )
    return Tensor(value, requires_grad=True, name=name)


class _BookLayer(Module):
    """A layer of the book: forward in Tensor ops, ``backward(dout)`` by the engine.

    Subclasses remember their last forward's input (``_remember``) and define ``_run(x)``,
    the forward computation on a Tensor, free of side effects, so that ``backward`` can run
    it again; ``_grads`` maps each parameter to the book's name of its gradient.
    """

    _grads: ClassVar[dict[str, str]] = {}

    def _remember(self, x: Tensor, **state: Any) -> None:
        d = self.__dict__
        d["_last_x"] = x
        d.update(state)

    def _run(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def backward(self, dout: Any = 1) -> Any:
        """The book's ``backward``: the gradient of the last forward output, given
        ``dout`` (its gradient, of the output's shape; 1 for a loss), with respect to the
        layer's input and parameters, computed by the engine.

        Sets the parameters' gradients as numpy arrays under the book's names (``dW``,
        ``db``, ``dgamma``, ``dbeta``) and returns the input's gradient ``dx`` (a numpy
        array of the input's shape).

        Raises:
            GraphError: no forward pass has run yet.
            ShapeError: ``dout`` does not have the output's shape.
        """
        last = self.__dict__.get("_last_x")
        if last is None:
            raise GraphError(
                f"{self.name}.backward(): no forward pass to differentiate yet; call "
                f"{self.name}.forward(x) first"
            )
        x = Tensor(last.data, requires_grad=last.data.dtype.kind == "f")
        params = [self._parameters[p] for p in self._grads]
        with enable_grad():
            out = self._run(x)
        wanted = [t for t in (x, *params) if t.requires_grad]
        found = dict(zip(map(id, wanted), grad(out, wanted, grad_outputs=dout,
                                               allow_unused=True), strict=True))
        for p, t in zip(self._grads.values(), params, strict=True):
            g = found.get(id(t))
            self.__dict__[p] = np.zeros_like(t.data) if g is None else g.data
        gx = found.get(id(x))
        return None if gx is None else gx.data


class Affine(_BookLayer):
    """Fully connected layer: ``out = x @ W + b``.

    Args:
        W: weights, shape (D, M): a numpy array (wrapped without copying, so the caller's
            array and the layer stay linked) or a Tensor.
        b: bias, shape (M,), likewise.
        name: the layer's name (its graph scope), e.g. ``"Affine1"``.

    Forward: ``x`` of shape (N, D), or (N, d1, d2, ...) with d1*d2*... = D (reshaped to
    (N, D) first, as the book's Affine does) -> (N, M); a single sample (D,) -> (M,).

    Attributes:
        W, b: the parameter Tensors (``W.data`` is the array given).

    Raises:
        DTypeError: ``W`` or ``b`` given as an array is not floating point.
        ShapeError: ``W`` is not 2-D, or ``b`` is not of shape (M,).
    """

    W: Tensor
    b: Tensor

    def __init__(self, W: ArrayLike, b: ArrayLike, name: str | None = None) -> None:
        super().__init__(name)
        w = _as_parameter(W, "W", "Affine")
        bias = _as_parameter(b, "b", "Affine")
        if w.ndim != 2 or bias.ndim != 1 or bias.shape[0] != w.shape[1]:
            raise ShapeError(
                f"Affine: W must have shape (D, M) and b shape (M,); got W {w.shape} and "
                f"b {bias.shape}"
            )
        self.register_parameter("W", w)
        self.register_parameter("b", bias)

    def forward(self, x: ArrayLike) -> Tensor:
        """``x @ W + b``; ``x`` (N, d1, d2, ...) is flattened to (N, D) first. Returns (N, M).

        Raises:
            ShapeError: ``x`` does not have D features per sample, or is 0-d.
            DTypeError: ``x`` is not numeric data.
        """
        h = as_tensor(x)
        self._remember(h)
        return self._run(h)

    _grads: ClassVar[dict[str, str]] = {"W": "dW", "b": "db"}

    def _run(self, h: Tensor) -> Tensor:
        with scope(self.name):
            W = self.W
            d = h.data
            if d.ndim == 2 and d.shape[1] == W.data.shape[0]:
                # what `h @ W + b` records (a matmul node, then an add), minus the operator
                # dispatch: the ops' apply directly
                return Add.apply(MatMul.apply(h, W), self.b)
            if h.ndim > 2:
                h = h.reshape(h.shape[0], -1)
            return h @ W + self.b

    def extra_repr(self) -> str:
        return f"in_features={self.W.shape[0]}, out_features={self.W.shape[1]}"


class Relu(_BookLayer):
    """``max(x, 0)`` elementwise; any shape in, the same shape out."""

    def forward(self, x: ArrayLike) -> Tensor:
        """ReLU of ``x`` (same shape).

        Raises:
            DTypeError: ``x`` is not numeric data.
        """
        h = as_tensor(x)
        self._remember(h)
        return self._run(h)

    def _run(self, h: Tensor) -> Tensor:
        with scope(self.name):
            return relu(h)


class Sigmoid(_BookLayer):
    """``1 / (1 + exp(-x))`` elementwise; any shape in, the same shape out."""

    def forward(self, x: ArrayLike) -> Tensor:
        """Sigmoid of ``x`` (same shape).

        Raises:
            DTypeError: ``x`` is not numeric data.
        """
        h = as_tensor(x)
        self._remember(h)
        return self._run(h)

    def _run(self, h: Tensor) -> Tensor:
        with scope(self.name):
            return sigmoid(h)


class SoftmaxWithLoss(_BookLayer):
    """Softmax then cross-entropy, averaged over the batch (fused and stable).

    ``forward(x, t)``: scores ``x`` (N, C) and labels ``t``: class indices (N,) or one-hot
    rows (N, C) (the book's ``one_hot_label=True``). Returns the loss, a 0-d Tensor in the
    graph: call ``.backward()`` on it.
    """

    def forward(self, x: ArrayLike, t: ArrayLike) -> Tensor:
        """The mean cross-entropy of ``softmax(x)`` against ``t`` (a 0-d Tensor).

        Args:
            x: scores, (N, C).
            t: labels, (N,) class indices or (N, C) one-hot rows.

        Raises:
            ShapeError: ``x`` is not (N, C) or (C,), or ``t``'s shape fits neither form.
            DTypeError: ``x`` is not floating point, or class indices are not integers.
            IndexingError: a class index is outside [0, C).
        """
        h = as_tensor(x)
        self._remember(h, _last_t=t)
        out = self._run(h)
        self.__dict__["loss"] = out.data[()]
        return out

    def _run(self, h: Tensor) -> Tensor:
        with scope(self.name):
            return cross_entropy(h, self.__dict__["_last_t"])


def _train_flag(layer: Module, train_flg: bool | None) -> bool:
    return layer.training if train_flg is None else bool(train_flg)


class Dropout(_BookLayer):
    """The book's Dropout: zero each input with probability ``dropout_ratio`` in training;
    scale by ``1 - dropout_ratio`` in evaluation (so expected values match).

    With ``inverted=True`` it is PyTorch's ``nn.Dropout`` instead (inverted dropout): in
    training the kept inputs are scaled by ``1 / (1 - dropout_ratio)``, and evaluation is the
    identity. Same expected values, different numbers in both modes.

    Args:
        dropout_ratio: the probability of dropping, in [0, 1).
        rng: a numpy Generator for the masks; by default the global ``np.random.rand``, as
            the book (so ``np.random.seed`` makes runs repeatable).
        inverted: scale in training instead of evaluation (default False: the book's).
        name: the layer's name.

    Forward: any shape in, the same shape out. ``train_flg`` (the book's argument) overrides
    the module's mode: None (the default) means ``self.training``.

    Raises:
        ValueError: ``dropout_ratio`` outside [0, 1).
    """

    def __init__(
        self,
        dropout_ratio: float = 0.5,
        *,
        rng: np.random.Generator | None = None,
        inverted: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        if not 0.0 <= float(dropout_ratio) < 1.0:
            raise ValueError(f"Dropout: dropout_ratio must be in [0, 1), got {dropout_ratio}")
        self.dropout_ratio = float(dropout_ratio)
        self.rng = rng
        self.inverted = bool(inverted)

    def forward(self, x: ArrayLike, train_flg: bool | None = None) -> Tensor:
        """Training: ``x * mask`` for a fresh random 0/1 mask; evaluation:
        ``x * (1 - dropout_ratio)``. Inverted: ``x * mask / (1 - dropout_ratio)`` in
        training, ``x`` in evaluation. Same shape.

        Raises:
            DTypeError: ``x`` is not numeric data.
        """
        h = as_tensor(x)
        mask = None
        if _train_flag(self, train_flg):
            u = np.random.rand(*h.shape) if self.rng is None else self.rng.random(h.shape)
            mask = u > self.dropout_ratio
        self._remember(h, mask=mask)
        return self._run(h)

    def _run(self, h: Tensor) -> Tensor:
        mask = self.__dict__["mask"]
        with scope(self.name):
            if self.inverted:
                if mask is None:
                    return h
                dt = h.data.dtype if h.data.dtype.kind == "f" else np.dtype(np.float64)
                scaled: Array = mask.astype(dt) / dt.type(1.0 - self.dropout_ratio)
                return h * scaled
            return h * (1.0 - self.dropout_ratio) if mask is None else h * mask

    def extra_repr(self) -> str:
        inv = ", inverted=True" if self.inverted else ""
        return f"dropout_ratio={self.dropout_ratio}{inv}"


class BatchNormalization(_BookLayer):
    """The book's batch normalization, over the batch axis.

    Training: ``xn = (x - mean) / sqrt(var + 1e-6)`` with the batch's mean and (biased)
    variance per feature, then ``gamma * xn + beta``; the running statistics are updated as
    ``running = momentum * running + (1 - momentum) * batch_stat`` in place, outside the
    graph. Evaluation: the same with the running statistics.

    Args:
        gamma: scale, shape (D,): numpy array (wrapped without copying) or Tensor.
        beta: shift, shape (D,), likewise.
        momentum: weight of the old running statistics.
        running_mean, running_var: initial running statistics, shape (D,) (default zeros,
            as the book's first forward makes them); kept as buffers, updated in place.
        name: the layer's name.

    Forward: ``x`` of shape (N, D), or (N, C, H, W) with C*H*W = D (flattened per sample
    and reshaped back, as the book does). ``train_flg`` overrides the module's mode: None
    (the default) means ``self.training``.

    Raises:
        DTypeError: ``gamma`` or ``beta`` given as an array is not floating point.
        ShapeError: ``gamma`` is not 1-D, ``beta``'s shape differs from it, or a running
            statistic is not a numpy array of that shape.
    """

    gamma: Tensor
    beta: Tensor
    running_mean: Array
    running_var: Array

    eps = 10e-7  # the book's constant (1e-6)

    def __init__(
        self,
        gamma: ArrayLike,
        beta: ArrayLike,
        momentum: float = 0.9,
        running_mean: Array | None = None,
        running_var: Array | None = None,
        *,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        g = _as_parameter(gamma, "gamma", "BatchNormalization")
        b = _as_parameter(beta, "beta", "BatchNormalization")
        if g.ndim != 1 or b.shape != g.shape:
            raise ShapeError(
                f"BatchNormalization: gamma and beta must both have shape (D,); got "
                f"{g.shape} and {b.shape}"
            )
        self.register_parameter("gamma", g)
        self.register_parameter("beta", b)
        self.momentum = float(momentum)
        for key, arr in (("running_mean", running_mean), ("running_var", running_var)):
            if arr is None:
                arr = np.zeros(g.shape, dtype=g.dtype)
            elif not isinstance(arr, np.ndarray) or arr.shape != g.shape:
                raise ShapeError(
                    f"BatchNormalization: {key} must be a numpy array of shape {g.shape}, "
                    f"got {getattr(arr, 'shape', type(arr).__name__)}"
                )
            self.register_buffer(key, arr)

    def forward(self, x: ArrayLike, train_flg: bool | None = None) -> Tensor:
        """Normalize ``x`` per feature, then scale by gamma and shift by beta (x's shape).

        Raises:
            ShapeError: ``x`` does not have D features per sample (nothing is updated).
            DTypeError: ``x`` is not numeric data.
        """
        h = as_tensor(x)
        flat = h.data.reshape(h.shape[0], -1) if h.ndim != 2 else h.data
        if flat.shape[1:] != self.gamma.shape:
            raise ShapeError(
                f"{self.name}: expected {self.gamma.shape[0]} features per sample, got "
                f"input of shape {h.shape}"
            )
        if _train_flag(self, train_flg):
            mu = flat.mean(axis=0)
            var = np.mean((flat - mu) ** 2, axis=0)
            m = self.momentum
            rm, rv = self.running_mean, self.running_var
            rm *= m
            rm += (1 - m) * mu
            rv *= m
            rv += (1 - m) * var
            self._remember(h, _bn_train=True, _bn_stats=(mu, var))
        else:  # the running statistics as they are now (backward replays with these)
            stats = (self.running_mean.copy(), self.running_var.copy())
            self._remember(h, _bn_train=False, _bn_stats=stats)
        return self._run(h)

    _grads: ClassVar[dict[str, str]] = {"gamma": "dgamma", "beta": "dbeta"}

    def _run(self, h: Tensor) -> Tensor:
        input_shape = h.shape
        mean, var = self.__dict__["_bn_stats"]
        with scope(self.name):
            if h.ndim != 2:
                h = h.reshape(h.shape[0], -1)
            if self.__dict__["_bn_train"]:
                # one node: the standardization, whose backward is the book's derivation
                xn = Normalize.apply(h, axis=(0,), eps=self.eps, mean=mean, var=var)
            else:
                xn = (h - mean) / np.sqrt(var + self.eps)  # a fresh array: a constant
            out = self.gamma * xn + self.beta
            return out.reshape(input_shape) if out.shape != input_shape else out

    def extra_repr(self) -> str:
        return f"num_features={self.gamma.shape[0]}, momentum={self.momentum}"
