"""Reference implementations of one training step of the fish book's two-layer net.

Three engines that compute the *same* step -- forward (Affine-ReLU-Affine-SoftmaxWithLoss),
backward, and an SGD update -- used by the benchmarks as yardsticks for tinygrad_fish:

``BookTwoLayerNet``
    The book's hand-written layers (``common/layers.py``: ``Affine``, ``Relu``,
    ``SoftmaxWithLoss``) and ``TwoLayerNet`` (``ch05/two_layer_net.py``) copied faithfully,
    including its quirks: float64 weights from ``np.random.randn`` that are fed float32
    images (so every ``np.dot`` with the input upcasts a copy of the batch), the ReLU mask
    applied in place to ``dout``, and the ``+ 1e-7`` inside the cross-entropy log.
    The only addition is an optional ``dtype`` so a float32 variant exists to compare with.

``FloorNet``
    The "numpy floor": the fewest numpy calls that compute the same step with no graph and
    no layer objects (about 25 calls, in place where possible, ``lr / batch`` folded into
    the softmax gradient so every gradient comes out pre-scaled).  It uses ``np.dot`` like the
    book: ``x.T @ dh`` at batch 1 is an outer product that ``np.matmul`` (numpy 2.4) computes
    without BLAS, ~5x slower than ``np.dot``.  In float64 mode the caller must hand it
    float64 data -- the benchmark converts the synthetic batches once, up front, outside the
    timed region; the book instead upcasts inside every step.

``TorchNet``
    PyTorch CPU eager: the same net with ``torch.autograd.grad`` and an in-place SGD update.
    Available only if ``import torch`` works (see ``torch_available``).  Its loss is the exact
    cross-entropy (``F.cross_entropy`` with one-hot probability targets) whose gradient is the
    book's ``(y - t) / batch``; the book's loss value differs by the ``1e-7`` fudge only.

All engines start from the same weights (``init_params(seed)``, float64, cast per engine) so
``check_agreement`` can verify that one step lands every engine on the same weights
(~1e-5 in float32, ~1e-10 in float64) before anything is timed.

Run ``python benchmarks/reference.py`` to execute that correctness guard on its own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

PARAM_KEYS: tuple[str, ...] = ("W1", "b1", "W2", "b2")
INPUT_SIZE, HIDDEN_SIZE, OUTPUT_SIZE = 784, 50, 10

Params = dict[str, NDArray[Any]]

# --------------------------------------------------------------------------------------
# Shared initial weights and synthetic data
# --------------------------------------------------------------------------------------


def init_params(seed: int = 0, weight_init_std: float = 0.01) -> Params:
    """The book's initialisation (``std * randn``, zero biases) from a fixed seed, float64."""
    rs = np.random.RandomState(seed)
    return {
        "W1": weight_init_std * rs.randn(INPUT_SIZE, HIDDEN_SIZE),
        "b1": np.zeros(HIDDEN_SIZE),
        "W2": weight_init_std * rs.randn(HIDDEN_SIZE, OUTPUT_SIZE),
        "b2": np.zeros(OUTPUT_SIZE),
    }


def synthetic_mnist(
    n: int = 60000, seed: int = 1
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """MNIST-shaped random data: ``x`` (n, 784) float32 in [0, 1], one-hot ``t`` (n, 10) float32.

    (The book's own ``load_mnist(one_hot_label=True)`` builds float64 one-hot labels; with
    float64 weights that changes no result dtype, and float32 keeps the float32 engines pure.)
    """
    rng = np.random.default_rng(seed)
    x = rng.random((n, INPUT_SIZE), dtype=np.float32)
    labels = rng.integers(0, OUTPUT_SIZE, size=n)
    t = np.zeros((n, OUTPUT_SIZE), dtype=np.float32)
    t[np.arange(n), labels] = 1.0
    return x, t


# --------------------------------------------------------------------------------------
# (a) The book, faithfully (common/functions.py, common/layers.py, ch05/two_layer_net.py)
# --------------------------------------------------------------------------------------


def softmax(x: NDArray[Any]) -> NDArray[Any]:
    x = x - np.max(x, axis=-1, keepdims=True)  # overflow guard
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y: NDArray[Any], t: NDArray[Any]) -> Any:
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    # one-hot supervision -> index of the correct label
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class Relu:
    def __init__(self) -> None:
        self.mask: NDArray[np.bool_] | None = None

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout: NDArray[Any]) -> NDArray[Any]:
        dout[self.mask] = 0
        dx = dout
        return dx


class Affine:
    def __init__(self, W: NDArray[Any], b: NDArray[Any]) -> None:
        self.W = W
        self.b = b
        self.x: NDArray[Any] | None = None
        self.original_x_shape: tuple[int, ...] | None = None
        self.dW: NDArray[Any] | None = None
        self.db: NDArray[Any] | None = None

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        out = np.dot(self.x, self.W) + self.b
        return out

    def backward(self, dout: NDArray[Any]) -> NDArray[Any]:
        assert self.x is not None and self.original_x_shape is not None
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        dx = dx.reshape(*self.original_x_shape)
        return dx


class SoftmaxWithLoss:
    def __init__(self) -> None:
        self.loss: Any = None
        self.y: NDArray[Any] | None = None
        self.t: NDArray[Any] | None = None

    def forward(self, x: NDArray[Any], t: NDArray[Any]) -> Any:
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout: Any = 1) -> NDArray[Any]:
        assert self.t is not None and self.y is not None
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:  # one-hot supervision
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx


class BookTwoLayerNet:
    """``ch05/two_layer_net.py`` (without ``numerical_gradient``), plus an optional ``dtype``.

    With the default ``dtype=None`` the weights are exactly the book's float64 arrays; fed the
    book's float32 images, every product with the input is computed in float64.
    """

    def __init__(
        self,
        input_size: int = INPUT_SIZE,
        hidden_size: int = HIDDEN_SIZE,
        output_size: int = OUTPUT_SIZE,
        weight_init_std: float = 0.01,
        dtype: DTypeLike | None = None,
    ) -> None:
        # 初始化权重 (weights as in the book: global np.random)
        self.params: Params = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)
        if dtype is not None:  # the one addition: a float32 variant
            for key in PARAM_KEYS:
                self.params[key] = self.params[key].astype(dtype)

        # 生成层 (the layers hold the very arrays in self.params)
        self.layers: OrderedDict[str, Any] = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])

        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x: NDArray[Any]) -> NDArray[Any]:
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x: NDArray[Any], t: NDArray[Any]) -> Any:
        y = self.predict(x)
        return self.lastLayer.forward(y, t)

    def accuracy(self, x: NDArray[Any], t: NDArray[Any]) -> float:
        y = self.predict(x)
        y = np.argmax(y, axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        accuracy = np.sum(y == t) / float(x.shape[0])
        return float(accuracy)

    def gradient(self, x: NDArray[Any], t: NDArray[Any]) -> Params:
        # forward
        self.loss(x, t)

        # backward
        dout: Any = 1
        dout = self.lastLayer.backward(dout)

        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)

        # 设定
        grads = {}
        grads["W1"], grads["b1"] = self.layers["Affine1"].dW, self.layers["Affine1"].db
        grads["W2"], grads["b2"] = self.layers["Affine2"].dW, self.layers["Affine2"].db
        return grads

    # --- benchmark helpers (not in the book) ---

    def step(self, x: NDArray[Any], t: NDArray[Any], lr: float) -> Any:
        """One iteration of the book's loop: gradient, then ``params[key] -= lr * grad[key]``.

        Returns the mini-batch loss computed by the forward pass inside ``gradient`` (the
        loss *before* the update; the book's loop calls ``loss`` again after it).
        """
        grad = self.gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            self.params[key] -= lr * grad[key]
        return self.lastLayer.loss

    def load_params(self, params: Mapping[str, NDArray[Any]]) -> None:
        """Overwrite the weights in place (the layers keep pointing at the same arrays)."""
        for key in PARAM_KEYS:
            self.params[key][...] = params[key]


# --------------------------------------------------------------------------------------
# (b) The numpy floor
# --------------------------------------------------------------------------------------


class FloorNet:
    """The same step in the fewest numpy calls: no graph, no layers, no dict of gradients.

    ``x`` and ``t`` must already have this net's dtype (convert once, outside any timing).
    """

    def __init__(self, params: Mapping[str, NDArray[Any]], dtype: DTypeLike = np.float64):
        self.dtype = np.dtype(dtype)
        self.params: Params = {k: np.array(params[k], dtype=self.dtype) for k in PARAM_KEYS}
        self.W1, self.b1 = self.params["W1"], self.params["b1"]
        self.W2, self.b2 = self.params["W2"], self.params["b2"]

    def step(self, x: NDArray[Any], t: NDArray[Any], lr: float) -> Any:
        W1, b1, W2, b2 = self.W1, self.b1, self.W2, self.b2
        # forward
        h = np.dot(x, W1)
        h += b1
        np.maximum(h, 0, out=h)  # relu (h > 0 is also its backward mask)
        y = np.dot(h, W2)
        y += b2
        y -= y.max(axis=1, keepdims=True)
        np.exp(y, out=y)
        y /= y.sum(axis=1, keepdims=True)  # softmax
        loss = -np.vdot(np.log(y + 1e-7), t) / x.shape[0]  # t one-hot: picks log y[label]
        # backward, every gradient pre-scaled by lr: d = lr * (y - t) / batch
        y -= t
        y *= lr / x.shape[0]
        dh = np.dot(y, W2.T)  # before W2 is updated
        dh *= h > 0
        # SGD update
        W2 -= np.dot(h.T, y)
        b2 -= y.sum(axis=0)
        W1 -= np.dot(x.T, dh)
        b1 -= dh.sum(axis=0)
        return loss

    def load_params(self, params: Mapping[str, NDArray[Any]]) -> None:
        for key in PARAM_KEYS:
            self.params[key][...] = params[key]


# --------------------------------------------------------------------------------------
# (c) PyTorch CPU eager
# --------------------------------------------------------------------------------------


def torch_available() -> tuple[bool, str]:
    """``(True, version)`` if ``import torch`` works, else ``(False, reason)``."""
    try:
        import torch
    except Exception as exc:  # ImportError, or a broken install
        return False, f"{type(exc).__name__}: {exc}"
    return True, str(torch.__version__)


def numpy_blas_threads() -> int | None:
    """Threads of numpy's BLAS according to threadpoolctl, or None if it can't tell."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    return int(blas[0]["num_threads"]) if blas else None


class TorchNet:
    """The same net and step in PyTorch eager mode on CPU.

    Takes ``torch`` tensors (``torch.from_numpy`` of data already in this net's dtype).
    Sets torch's intra-op threads to numpy's BLAS thread count unless ``threads`` is given.
    """

    def __init__(
        self,
        params: Mapping[str, NDArray[Any]],
        dtype: DTypeLike = np.float32,
        threads: int | None = None,
    ) -> None:
        import torch
        import torch.nn.functional as F

        self.torch = torch
        self.F = F
        n = threads if threads is not None else numpy_blas_threads()
        if n is not None and n > 0:
            torch.set_num_threads(n)
        self.dtype = np.dtype(dtype)
        self.params = {
            k: torch.tensor(np.asarray(params[k], dtype=self.dtype), requires_grad=True)
            for k in PARAM_KEYS
        }
        self.plist = [self.params[k] for k in PARAM_KEYS]

    def step(self, x: Any, t: Any, lr: float) -> Any:
        torch = self.torch
        W1, b1, W2, b2 = self.plist
        h = torch.relu(x @ W1 + b1)
        y = h @ W2 + b2
        loss = self.F.cross_entropy(y, t)  # t: one-hot probabilities
        grads = torch.autograd.grad(loss, self.plist)
        with torch.no_grad():
            for p, g in zip(self.plist, grads, strict=True):
                p.sub_(g, alpha=lr)
        return loss

    def to_input(self, a: NDArray[Any]) -> Any:
        return self.torch.from_numpy(np.ascontiguousarray(a, dtype=self.dtype))

    def numpy_params(self) -> Params:
        return {k: v.detach().numpy().copy() for k, v in self.params.items()}

    def load_params(self, params: Mapping[str, NDArray[Any]]) -> None:
        with self.torch.no_grad():
            for k in PARAM_KEYS:
                self.params[k].copy_(self.torch.from_numpy(np.asarray(params[k], self.dtype)))


# --------------------------------------------------------------------------------------
# Correctness guard
# --------------------------------------------------------------------------------------

TOLERANCE: dict[str, float] = {"float32": 1e-5, "float64": 1e-10}


def max_param_diff(a: Mapping[str, NDArray[Any]], b: Mapping[str, NDArray[Any]]) -> float:
    """Largest absolute difference over all four parameters (compared in float64)."""
    return max(
        float(np.max(np.abs(np.asarray(a[k], np.float64) - np.asarray(b[k], np.float64))))
        for k in PARAM_KEYS
    )


# A stepper takes (init params, x float32, t float32, lr) and returns (params after one
# step, loss): each engine converts the data and weights to its dtype itself.
Stepper = Callable[[Params, NDArray[np.float32], NDArray[np.float32], float], tuple[Params, float]]


def book_one_step(dtype: DTypeLike | None) -> Stepper:
    def run(p: Params, x: NDArray[Any], t: NDArray[Any], lr: float) -> tuple[Params, float]:
        net = BookTwoLayerNet(dtype=dtype)
        net.load_params(p)
        loss = net.step(x, t, lr)
        return {k: v.copy() for k, v in net.params.items()}, float(loss)

    return run


def floor_one_step(dtype: DTypeLike) -> Stepper:
    def run(p: Params, x: NDArray[Any], t: NDArray[Any], lr: float) -> tuple[Params, float]:
        net = FloorNet(p, dtype)
        loss = net.step(x.astype(dtype), t.astype(dtype), lr)
        return {k: v.copy() for k, v in net.params.items()}, float(loss)

    return run


def torch_one_step(dtype: DTypeLike) -> Stepper:
    def run(p: Params, x: NDArray[Any], t: NDArray[Any], lr: float) -> tuple[Params, float]:
        net = TorchNet(p, dtype)
        loss = net.step(net.to_input(x), net.to_input(t), lr)
        return net.numpy_params(), float(loss.detach())

    return run


def check_agreement(
    steppers: Mapping[str, tuple[str, Stepper]],
    *,
    batch_size: int = 100,
    lr: float = 0.1,
    seed: int = 0,
    verbose: bool = True,
) -> dict[str, float]:
    """Run one step of every engine from the same weights and batch; compare to the book.

    ``steppers`` maps engine name -> (dtype name, stepper); the engine named ``book <dtype>``
    is the reference for its dtype.  Returns {engine: max |param diff| vs the book}; raises
    ``AssertionError`` listing every engine beyond ``TOLERANCE[dtype]``.
    """
    p0 = init_params(seed)
    x_all, t_all = synthetic_mnist(n=max(batch_size, 1000), seed=seed + 1)
    x, t = x_all[:batch_size], t_all[:batch_size]
    results = {name: (dt, fn(p0, x, t, lr)) for name, (dt, fn) in steppers.items()}
    diffs: dict[str, float] = {}
    failures = []
    for name, (dt, (params, loss)) in results.items():
        ref_params, ref_loss = results[f"book {dt}"][1]
        d = max_param_diff(params, ref_params)
        # the weight change itself, to show the comparison is not vacuous
        moved = max_param_diff(ref_params, p0)
        diffs[name] = d
        ok = d <= TOLERANCE[dt] and abs(loss - ref_loss) <= 1e-5 * max(1.0, abs(ref_loss))
        if verbose:
            print(
                f"  guard {name:<22} loss {loss:.10f}  max|Δparam| vs book {d:.2e}"
                f" (tol {TOLERANCE[dt]:.0e}, step moved weights by {moved:.2e})"
                f"  {'ok' if ok else 'MISMATCH'}"
            )
        if not ok:
            failures.append(f"{name}: max|Δparam|={d:.3e}, loss {loss} vs book {ref_loss}")
    if failures:
        raise AssertionError("engines disagree after one step:\n  " + "\n  ".join(failures))
    return diffs


def reference_steppers(with_torch: bool = True) -> dict[str, tuple[str, Stepper]]:
    """Book, floor (and torch if importable) steppers for both dtypes."""
    s: dict[str, tuple[str, Stepper]] = {
        "book float64": ("float64", book_one_step(None)),
        "book float32": ("float32", book_one_step(np.float32)),
        "floor float64": ("float64", floor_one_step(np.float64)),
        "floor float32": ("float32", floor_one_step(np.float32)),
    }
    if with_torch and torch_available()[0]:
        s["torch float64"] = ("float64", torch_one_step(np.float64))
        s["torch float32"] = ("float32", torch_one_step(np.float32))
    return s


if __name__ == "__main__":
    ok, info = torch_available()
    print(f"torch: {info if ok else 'unavailable (' + info + ')'}")
    for bs in (1, 100, 1000):
        print(f"batch {bs}:")
        check_agreement(reference_steppers(), batch_size=bs)
    print("all reference engines agree")
