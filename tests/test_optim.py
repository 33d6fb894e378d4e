"""Optimizers: the book's formulas exactly, both APIs, argument errors, and training."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_fish as tf
from tinygrad_fish.errors import DTypeError, GraphError, InvalidArgumentError, ShapeError
from tinygrad_fish.nn import MultiLayerNet, TwoLayerNet
from tinygrad_fish.optim import (
    OPTIMIZERS,
    SGD,
    AdaDelta,
    AdaGrad,
    Adam,
    ClipGrad,
    Momentum,
    Nesterov,
    Optimizer,
    RMSprop,
    WeightDecay,
)


# --- the book's common/optimizer.py, verbatim in substance: the oracle ------------------------
class BookSGD:
    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr

    def update(self, params: Any, grads: Any) -> None:
        for key in params:
            params[key] -= self.lr * grads[key]


class BookMomentum:
    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params: Any, grads: Any) -> None:
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class BookNesterov:
    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params: Any, grads: Any) -> None:
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]


class BookAdaGrad:
    def __init__(self, lr: float = 0.01) -> None:
        self.lr, self.h = lr, None

    def update(self, params: Any, grads: Any) -> None:
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class BookRMSprop:
    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99) -> None:
        self.lr, self.decay_rate, self.h = lr, decay_rate, None

    def update(self, params: Any, grads: Any) -> None:
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class BookAdam:
    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999) -> None:
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter, self.m, self.v = 0, None, None

    def update(self, params: Any, grads: Any) -> None:
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params:
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


CASES: list[tuple[type[Optimizer], type, dict[str, float]]] = [
    (SGD, BookSGD, {"lr": 0.1}),
    (Momentum, BookMomentum, {"lr": 0.1, "momentum": 0.8}),
    (Nesterov, BookNesterov, {"lr": 0.1, "momentum": 0.8}),
    (AdaGrad, BookAdaGrad, {"lr": 0.1}),
    (RMSprop, BookRMSprop, {"lr": 0.1, "decay_rate": 0.9}),
    (Adam, BookAdam, {"lr": 0.1, "beta1": 0.8, "beta2": 0.99}),
]
IDS = [c[0].__name__ for c in CASES]

P0 = np.array([1.0, -2.0])
G0 = np.array([0.5, 0.25])
#: One update of P0 with gradient G0, worked out by hand from each formula.
HAND = {
    "SGD": P0 - 0.1 * G0,
    "Momentum": P0 - 0.1 * G0,  # v = -lr g
    "Nesterov": P0 + 0.64 * (-0.1 * G0) - 1.8 * 0.1 * G0,
    "AdaGrad": P0 - 0.1 * G0 / (np.abs(G0) + 1e-7),  # h = g^2
    "RMSprop": P0 - 0.1 * G0 / (np.sqrt(0.1) * np.abs(G0) + 1e-7),  # h = 0.1 g^2
    # m = 0.2 g, v = 0.01 g^2, lr_t = 0.1 sqrt(0.01) / 0.2 = 0.05
    "Adam": P0 - 0.05 * (0.2 * G0) / (0.1 * np.abs(G0) + 1e-7),
}


def grads_sequence(n: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [{"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)} for _ in range(n)]


# --- one update against a hand-computed value ------------------------------------------------
@pytest.mark.parametrize(("cls", "book", "hyper"), CASES, ids=IDS)
def test_one_update_by_hand_book_api(cls: type[Optimizer], book: type,
                                     hyper: dict[str, float]) -> None:
    params = {"p": P0.copy()}
    arr = params["p"]
    cls(**hyper).update(params, {"p": G0.copy()})  # type: ignore[arg-type]
    assert params["p"] is arr  # in place
    np.testing.assert_allclose(arr, HAND[cls.__name__], rtol=1e-12)


@pytest.mark.parametrize(("cls", "book", "hyper"), CASES, ids=IDS)
def test_one_update_by_hand_pytorch_api(cls: type[Optimizer], book: type,
                                        hyper: dict[str, float]) -> None:
    p = tf.Tensor(P0.copy(), requires_grad=True)
    data = p.data
    opt = cls([p], **hyper)  # type: ignore[arg-type]
    p.grad = tf.Tensor(G0.copy())
    opt.step()
    assert p.data is data
    np.testing.assert_allclose(p.data, HAND[cls.__name__], rtol=1e-12)


# --- many updates: bit for bit the book's -----------------------------------------------------
@pytest.mark.parametrize(("cls", "book", "hyper"), CASES, ids=IDS)
def test_updates_equal_the_books_exactly(cls: type[Optimizer], book: type,
                                         hyper: dict[str, float]) -> None:
    rng = np.random.default_rng(1)
    start = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    ours, theirs = {k: v.copy() for k, v in start.items()}, {k: v.copy() for k, v in start.items()}
    tensors = {k: tf.Tensor(v.copy(), requires_grad=True) for k, v in start.items()}
    opt, ref = cls(**hyper), book(**hyper)  # type: ignore[arg-type]
    torch_style = cls(list(tensors.values()), **hyper)  # type: ignore[arg-type]
    for g in grads_sequence(5):
        opt.update(ours, g)
        ref.update(theirs, g)
        for k, t in tensors.items():
            t.grad = tf.Tensor(g[k])
        torch_style.step()
    for k in start:
        np.testing.assert_array_equal(ours[k], theirs[k])
        np.testing.assert_array_equal(tensors[k].data, theirs[k])


@pytest.mark.parametrize(("cls", "book", "hyper"), CASES, ids=IDS)
def test_float32_parameters_stay_float32(cls: type[Optimizer], book: type,
                                         hyper: dict[str, float]) -> None:
    params = {"W": np.ones((2, 2), dtype=np.float32)}
    opt = cls(**hyper)  # type: ignore[arg-type]
    for _ in range(3):
        opt.update(params, {"W": np.full((2, 2), 0.5, dtype=np.float32)})
    assert params["W"].dtype == np.float32
    for state in ("v", "h", "m"):
        for arr in (getattr(opt, state, None) or {}).values():
            assert arr.dtype == np.float32


# --- constructors --------------------------------------------------------------------------
def test_book_style_constructors() -> None:
    assert SGD().lr == 0.01 and SGD(0.1).lr == 0.1 and SGD(lr=0.2).lr == 0.2
    assert Momentum().momentum == 0.9 and Momentum(lr=0.05, momentum=0.5).momentum == 0.5
    assert Adam().lr == 0.001 and Adam(lr=0.3, beta1=0.5).beta1 == 0.5
    assert AdaGrad(1.5).lr == 1.5 and RMSprop(decay_rate=0.5).decay_rate == 0.5
    assert Nesterov(0.1, momentum=0.5).momentum == 0.5
    assert SGD(1).lr == 1.0
    assert repr(Adam()) == "Adam(lr=0.001, beta1=0.9, beta2=0.999)"


def test_optimizers_table() -> None:
    assert list(OPTIMIZERS) == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
    assert OPTIMIZERS["adam"] is Adam
    assert all(issubclass(c, Optimizer) for c in OPTIMIZERS.values())


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: SGD(lr=-0.1), ValueError, r"lr must be in \[0.0, inf\]"),
        (lambda: SGD(lr=float("nan")), ValueError, "lr"),
        (lambda: SGD(lr="0.1"), TypeError, "lr must be a number"),
        (lambda: SGD(lr=True), TypeError, "lr must be a number"),
        (lambda: Momentum(0.01, 0.9), TypeError, r"by keyword, e\.g\. Momentum\(lr=0\.01"),
        (lambda: Momentum(momentum=1.0), ValueError, "momentum"),
        (lambda: Adam(beta2=1.5), ValueError, "beta2"),
        (lambda: RMSprop(decay_rate=-1), ValueError, "decay_rate"),
        (lambda: SGD([]), ValueError, "empty parameter list"),
        (lambda: SGD({"W1": np.zeros(2)}), TypeError, r"update\(params, grads\)"),
        (lambda: SGD(tf.Tensor([1.0], requires_grad=True)), TypeError, "single Tensor"),
        (lambda: SGD([np.zeros(2)]), TypeError, "parameter 0 is a ndarray"),
        (lambda: SGD([tf.Tensor([1, 2])]), DTypeError, "floating-point"),
        (lambda: SGD(object()), TypeError, "iterable of Tensors"),
    ],
)
def test_bad_arguments(make: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def test_duplicate_parameter_rejected() -> None:
    p = tf.Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="appears twice"):
        SGD([p, p])


def test_update_errors() -> None:
    opt = SGD(0.1)
    with pytest.raises(KeyError, match="no gradient for parameter 'b'"):
        opt.update({"W": np.zeros(2), "b": np.zeros(2)}, {"W": np.zeros(2)})
    with pytest.raises(ShapeError, match=r"'W' has shape \(3,\).*\(2,\)"):
        opt.update({"W": np.zeros(2)}, {"W": np.zeros(3)})
    with pytest.raises(DTypeError, match="'W' must be a floating-point numpy array"):
        opt.update({"W": np.zeros(2, dtype=np.int64)}, {"W": np.zeros(2)})
    with pytest.raises(GraphError, match="book style"):
        opt.step()
    with pytest.raises(GraphError, match="book style"):
        opt.zero_grad()


def test_update_accepts_tensors_in_the_dicts() -> None:
    p = tf.Tensor(np.ones(2), requires_grad=True)
    SGD(0.5).update({"p": p}, {"p": tf.Tensor(np.ones(2))})
    np.testing.assert_array_equal(p.data, [0.5, 0.5])


def test_step_skips_parameters_without_grad_and_zero_grad_clears() -> None:
    a = tf.Tensor(np.ones(2), requires_grad=True)
    b = tf.Tensor(np.ones(2), requires_grad=True)
    opt = Momentum([a, b], lr=0.5)
    a.grad = tf.Tensor(np.ones(2))
    opt.step()
    np.testing.assert_array_equal(a.data, [0.5, 0.5])
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    opt.step()  # nothing to do
    np.testing.assert_array_equal(a.data, [0.5, 0.5])


def test_lr_can_change_between_updates() -> None:
    params = {"p": np.zeros(1)}
    opt = SGD(1.0)
    opt.update(params, {"p": np.ones(1)})
    opt.lr = 0.5
    opt.update(params, {"p": np.ones(1)})
    np.testing.assert_array_equal(params["p"], [-1.5])


# --- training --------------------------------------------------------------------------------
def toy_data() -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated Gaussian blobs in 4-D."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 60)
    centers = np.array([[2.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 2.0, 0]])
    return centers[labels] + 0.5 * rng.normal(size=(60, 4)), labels


LRS = {"sgd": 0.5, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.3, "rmsprop": 0.01,
       "adam": 0.01}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_optimizer_lowers_the_loss_book_api(name: str) -> None:
    x, t = toy_data()
    net = TwoLayerNet(4, 8, 3, weight_init_std=0.5, seed=0)
    opt = OPTIMIZERS[name](lr=LRS[name])
    first = float(net.loss(x, t).data)
    for _ in range(30):
        opt.update(net.params, net.gradient(x, t))
    last = float(net.loss(x, t).data)
    assert last < 0.5 * first, (first, last)
    assert net.accuracy(x, t) > 0.9


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_optimizer_lowers_the_loss_pytorch_api(name: str) -> None:
    x, t = toy_data()
    net = MultiLayerNet(4, [8], 3, seed=0)
    opt = OPTIMIZERS[name](net.parameters(), lr=LRS[name])
    first = float(net.loss(x, t).data)
    for _ in range(30):
        opt.zero_grad()
        net.loss(x, t).backward()
        opt.step()
    last = float(net.loss(x, t).data)
    assert last < 0.5 * first, (first, last)


def test_load_state_dict_checks_every_slot_before_setting_anything():
    opt = Adam(lr=0.01)
    opt.update({"w": np.ones(2)}, {"w": np.ones(2)})
    state = opt.state_dict()
    state["scalars"]["lr"] = 0.5
    state["slots"]["m"] = {"w": [1.0, 2.0]}  # not an array
    fresh = Adam(lr=0.01)
    with pytest.raises(ValueError, match=r"Adam\.m: the saved slot is not a dict of arrays"):
        fresh.load_state_dict(state)
    assert fresh.lr == 0.01 and fresh.m is None


# --- load_state_dict checks the slots against the parameters ---------------------------------
def _trained(make: Any, params: list[tf.Tensor]) -> Optimizer:
    opt = make(params)
    for p in params:
        p.grad = tf.Tensor(np.full(p.shape, 0.5, dtype=p.dtype))
    opt.step()
    return opt


def _pytorch_params(dtype: Any = np.float64) -> list[tf.Tensor]:
    return [tf.Tensor(np.ones((2, 3), dtype), requires_grad=True),
            tf.Tensor(np.zeros(3, dtype), requires_grad=True)]


@pytest.mark.parametrize("name", ["momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_pytorch_style_state_dict_round_trip_continues_bit_for_bit(name: str) -> None:
    def make(params: list[tf.Tensor]) -> Optimizer:
        return OPTIMIZERS[name](params, lr=0.1)

    a_params, b_params = _pytorch_params(np.float32), _pytorch_params(np.float32)
    a = _trained(make, a_params)
    for pa, pb in zip(a_params, b_params, strict=True):
        pb.data[...] = pa.data
        pb.grad = pa.grad
    b = make(b_params)
    b.load_state_dict(a.state_dict())
    a.step()
    b.step()
    for pa, pb in zip(a_params, b_params, strict=True):
        np.testing.assert_array_equal(pa.data, pb.data)
        assert pb.data.dtype == np.float32


def _adam_state_with(attr: str, key: Any, arr: np.ndarray) -> dict[str, Any]:
    state = _trained(lambda ps: Adam(ps, lr=0.01), _pytorch_params()).state_dict()
    if isinstance(key, bool):  # True == 1: it would merge with key 1
        state["slots"][attr] = {key: arr}
    else:
        state["slots"][attr] = {**state["slots"][attr], key: arr}
    return state


@pytest.mark.parametrize(
    ("attr", "key", "arr", "error", "message"),
    [
        ("m", 0, np.zeros((3, 2)), ShapeError,
         r"Adam\.m\[0\] in the saved state has shape \(3, 2\) but the parameter has shape "
         r"\(2, 3\): the state belongs to other parameters; load the state saved with these "
         r"parameters, or start from a fresh Adam"),
        ("v", 1, np.zeros(3, np.float32), DTypeError,
         r"Adam\.v\[1\] in the saved state has dtype float32 but the parameter has dtype "
         r"float64: .*never converted silently"),
        ("m", 1, np.zeros(3, np.int64), DTypeError,
         r"Adam\.m\[1\] in the saved state has dtype int64; optimizer state is floating point"),
        ("m", 2, np.zeros(3), InvalidArgumentError,
         r"Adam\.m: the saved state has the key 2, which is not the index of one of this "
         r"optimizer's 2 parameters \(0 to 1\)"),
        ("v", "W1", np.zeros((2, 3)), InvalidArgumentError,
         r"the saved state has the key 'W1'.*book-style optimizer"),
        ("v", True, np.zeros((2, 3)), InvalidArgumentError, "the saved state has the key True"),
    ],
    ids=["shape", "dtype", "int-dtype", "index", "book-key", "bool-key"],
)
def test_load_state_dict_refuses_slots_that_do_not_fit_the_parameters(
    attr: str, key: Any, arr: np.ndarray, error: type[Exception], message: str
) -> None:
    state = _adam_state_with(attr, key, arr)
    state["scalars"]["lr"] = 0.5
    params = _pytorch_params()
    fresh = Adam(params, lr=0.01)
    with pytest.raises(error, match=message):
        fresh.load_state_dict(state)
    assert fresh.lr == 0.01 and fresh.iter == 0 and fresh.m is None and fresh.v is None


def test_book_style_load_refuses_non_float_slots() -> None:
    opt = Momentum(lr=0.1)
    opt.update({"W": np.ones(2)}, {"W": np.ones(2)})
    state = opt.state_dict()
    state["slots"]["v"] = {"W": np.zeros(2, np.int32)}
    fresh = Momentum(lr=0.1)
    with pytest.raises(DTypeError, match=r"Momentum\.v\['W'\] in the saved state has dtype "
                                         "int32; optimizer state is floating point"):
        fresh.load_state_dict(state)
    assert fresh.v is None


@pytest.mark.parametrize(
    ("slot", "error", "message"),
    [
        (np.full(3, 7.0), ShapeError,
         r"RMSprop\.h\['W'\] has shape \(3,\) but the parameter has shape \(2,\): the state "
         r"belongs to other parameters; load the optimizer state saved with these parameters, "
         r"or use a fresh RMSprop"),
        (np.full(2, 7.0, np.float32), DTypeError,
         r"RMSprop\.h\['W'\] has dtype float32 but the parameter has dtype float64"),
    ],
    ids=["shape", "dtype"],
)
def test_book_style_slot_of_another_shape_or_dtype_raises_instead_of_restarting(
    slot: np.ndarray, error: type[Exception], message: str
) -> None:
    opt = RMSprop(lr=0.1)
    opt.update({"W": np.ones(2)}, {"W": np.ones(2)})
    state = opt.state_dict()
    state["slots"]["h"] = {"W": slot}
    fresh = RMSprop(lr=0.1)
    fresh.load_state_dict(state)  # book style: the parameters are not known yet
    params = {"W": np.ones(2)}
    with pytest.raises(error, match=message):
        fresh.update(params, {"W": np.ones(2)})
    np.testing.assert_array_equal(params["W"], np.ones(2))
    assert fresh.h is not None and fresh.h["W"] is not slot  # a copy, kept, not zeroed
    np.testing.assert_array_equal(fresh.h["W"], slot)
    assert fresh.h["W"].dtype == slot.dtype


def test_a_parameter_that_changes_shape_under_the_same_key_raises() -> None:
    opt = Momentum(lr=0.1)
    opt.update({"W": np.ones(2)}, {"W": np.ones(2)})
    with pytest.raises(ShapeError, match=r"Momentum\.v\['W'\] has shape \(2,\) but the "
                                         r"parameter has shape \(3,\)"):
        opt.update({"W": np.ones(3)}, {"W": np.ones(3)})


# --- eps, weight_decay, AdaDelta, hooks (issue 16: DeZero and PyTorch) -----------------------
def _steps(opt: Optimizer, p: np.ndarray, grads: list[np.ndarray]) -> np.ndarray:
    params = {"p": p.copy()}
    for g in grads:
        opt.update(params, {"p": g.copy()})
    return params["p"]


G3 = [np.array([0.5, 1e-7]), np.array([-0.25, 2e-7]), np.array([1.0, -1e-7])]


@pytest.mark.parametrize("eps", [1e-7, 1e-8, 0.5])
def test_adagrad_eps_three_steps_by_hand(eps: float) -> None:
    p, h = P0.copy(), np.zeros(2)
    for g in G3:
        h = h + g * g
        p = p - 0.1 * g / (np.sqrt(h) + eps)
    np.testing.assert_array_equal(_steps(AdaGrad(lr=0.1, eps=eps), P0, G3), p)


@pytest.mark.parametrize("eps", [1e-7, 1e-8])
def test_rmsprop_eps_three_steps_by_hand(eps: float) -> None:
    p, h = P0.copy(), np.zeros(2)
    for g in G3:
        h = 0.9 * h
        h += (1 - 0.9) * g * g
        p = p - 0.1 * g / (np.sqrt(h) + eps)
    opt = RMSprop(lr=0.1, decay_rate=0.9, eps=eps)
    np.testing.assert_array_equal(_steps(opt, P0, G3), p)


@pytest.mark.parametrize("eps", [1e-7, 1e-8])
def test_adam_eps_three_steps_by_hand(eps: float) -> None:
    p, m, v = P0.copy(), np.zeros(2), np.zeros(2)
    for t, g in enumerate(G3, start=1):
        lr_t = 0.1 * np.sqrt(1.0 - 0.99**t) / (1.0 - 0.8**t)
        m = m + (1 - 0.8) * (g - m)
        v = v + (1 - 0.99) * (g**2 - v)
        p = p - lr_t * m / (np.sqrt(v) + eps)
    opt = Adam(lr=0.1, beta1=0.8, beta2=0.99, eps=eps)
    np.testing.assert_array_equal(_steps(opt, P0, G3), p)


def test_eps_default_is_the_books_and_1e8_changes_the_numbers() -> None:
    assert AdaGrad().eps == RMSprop().eps == Adam().eps == 1e-7
    # g = 1e-7 next to eps: one AdaGrad step is lr * g / (|g| + eps)
    book = _steps(AdaGrad(lr=1.0), np.zeros(1), [np.array([1e-7])])
    dezero = _steps(AdaGrad(lr=1.0, eps=1e-8), np.zeros(1), [np.array([1e-7])])
    np.testing.assert_allclose(book, [-0.5], rtol=1e-12)
    np.testing.assert_allclose(dezero, [-1e-7 / 1.1e-7], rtol=1e-12)
    assert repr(Adam(eps=1e-8)) == "Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08)"


WD_CASES = [(c, h) for c, _, h in CASES] + [(AdaDelta, {"lr": 1.0, "rho": 0.9})]


@pytest.mark.parametrize(("cls", "hyper"), WD_CASES, ids=[c.__name__ for c, _ in WD_CASES])
def test_weight_decay_is_the_gradient_plus_wd_times_p(cls: type[Optimizer],
                                                      hyper: dict[str, float]) -> None:
    """Three steps with weight_decay=0.3 equal, bit for bit, the same optimizer without it
    fed g + 0.3 * p (PyTorch's L2 form), both APIs; .grad itself is not changed."""
    plain = cls(**hyper)  # type: ignore[arg-type]
    ref = {"p": P0.copy()}
    t = tf.Tensor(P0.copy(), requires_grad=True)
    decayed = cls([t], weight_decay=0.3, **hyper)  # type: ignore[arg-type]
    book = cls(weight_decay=0.3, **hyper)  # type: ignore[arg-type]
    ours = {"p": P0.copy()}
    for g in G3:
        plain.update(ref, {"p": g + 0.3 * ref["p"]})
        book.update(ours, {"p": g})
        t.grad = tf.Tensor(g.copy())
        decayed.step()
        np.testing.assert_array_equal(t.grad.data, g)
    np.testing.assert_array_equal(ours["p"], ref["p"])
    np.testing.assert_array_equal(t.data, ref["p"])
    assert not np.array_equal(ref["p"], _steps(cls(**hyper), P0, G3))  # type: ignore[arg-type]


def test_sgd_weight_decay_one_step_by_hand() -> None:
    out = _steps(SGD(lr=0.1, weight_decay=0.5), P0, [G0])
    np.testing.assert_allclose(out, P0 - 0.1 * (G0 + 0.5 * P0), rtol=1e-15)
    assert repr(SGD(weight_decay=0.5)) == "SGD(lr=0.01, weight_decay=0.5)"


def test_adadelta_three_steps_by_hand_pytorch_defaults() -> None:
    opt = AdaDelta()
    assert (opt.lr, opt.rho, opt.eps, opt.weight_decay) == (1.0, 0.9, 1e-6, 0.0)
    assert repr(opt) == "AdaDelta(lr=1.0, rho=0.9, eps=1e-06)"
    p, s, u = P0.copy(), np.zeros(2), np.zeros(2)
    for g in G3:
        s = 0.9 * s
        s += (1 - 0.9) * g * g
        d = np.sqrt(u + 1e-6) / np.sqrt(s + 1e-6) * g
        u = 0.9 * u
        u += (1 - 0.9) * d * d
        p = p - 1.0 * d
    np.testing.assert_array_equal(_steps(opt, P0, G3), p)
    # the first step in closed form: s = 0.1 g^2, u = 0
    first = _steps(AdaDelta(lr=0.5), P0, [G0])
    np.testing.assert_allclose(
        first, P0 - 0.5 * np.sqrt(1e-6) / np.sqrt(0.1 * G0**2 + 1e-6) * G0, rtol=1e-14)


def test_adadelta_with_rho_095_is_dezeros_up_to_rounding() -> None:
    p, msg, msdx = P0.copy(), np.zeros(2), np.zeros(2)
    for g in G3:  # DeZero's AdaDelta.update_one, in substance
        msg = 0.95 * msg + 0.05 * g * g
        dx = np.sqrt((msdx + 1e-6) / (msg + 1e-6)) * g
        msdx = 0.95 * msdx + 0.05 * dx * dx
        p = p - dx
    np.testing.assert_allclose(_steps(AdaDelta(rho=0.95), P0, G3), p, rtol=1e-14)


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "adam"])
def test_state_dict_round_trip_keeps_eps_and_weight_decay(name: str) -> None:
    def make(params: list[tf.Tensor]) -> Optimizer:
        return OPTIMIZERS[name](params, lr=0.1, eps=1e-8, weight_decay=0.01)  # type: ignore

    a_params, b_params = _pytorch_params(), _pytorch_params()
    a = _trained(make, a_params)
    state = a.state_dict()
    assert state["scalars"]["eps"] == 1e-8 and state["scalars"]["weight_decay"] == 0.01
    b = make(b_params)
    b.load_state_dict(state)
    for pa, pb in zip(a_params, b_params, strict=True):
        pb.data[...] = pa.data
        pb.grad = pa.grad
    a.step()
    b.step()
    for pa, pb in zip(a_params, b_params, strict=True):
        np.testing.assert_array_equal(pa.data, pb.data)
    wrong = OPTIMIZERS[name](_pytorch_params(), lr=0.1)  # eps 1e-7: the state's is kept
    wrong.load_state_dict(state)
    assert wrong.eps == 1e-8  # type: ignore[attr-defined]


def test_adadelta_state_dict_round_trip() -> None:
    a_params, b_params = _pytorch_params(np.float32), _pytorch_params(np.float32)
    a = _trained(lambda ps: AdaDelta(ps, rho=0.8), a_params)
    assert set(a.state_dict()["slots"]) == {"square_avg", "acc_delta"}
    b = AdaDelta(b_params)
    b.load_state_dict(a.state_dict())
    assert b.rho == 0.8
    for pa, pb in zip(a_params, b_params, strict=True):
        pb.data[...] = pa.data
        pb.grad = pa.grad
    a.step()
    b.step()
    for pa, pb in zip(a_params, b_params, strict=True):
        np.testing.assert_array_equal(pa.data, pb.data)
        assert pb.data.dtype == np.float32


def test_a_state_saved_before_eps_and_weight_decay_existed_loads_with_their_old_values():
    opt = Adam(lr=0.01)
    opt.update({"w": np.ones(2)}, {"w": np.ones(2)})
    old = opt.state_dict()
    del old["scalars"]["eps"], old["scalars"]["weight_decay"]
    fresh = Adam(lr=0.01)
    fresh.load_state_dict(old)
    assert fresh.iter == 1 and fresh.eps == 1e-7 and fresh.weight_decay == 0.0
    with pytest.raises(ValueError, match=r"the saved Adam state has no eps: it was saved "
                                         r"before they existed, with eps=1e-07, but this "
                                         r"optimizer has eps=1e-08; construct it with "
                                         r"eps=1e-07 to continue that run"):
        Adam(lr=0.01, eps=1e-8).load_state_dict(old)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: AdaGrad(eps=-1e-8), ValueError, r"AdaGrad: eps must be in \[0.0, inf\)"),
        (lambda: Adam(eps=float("inf")), ValueError, r"Adam: eps must be in \[0.0, inf\)"),
        (lambda: RMSprop(eps="1e-8"), TypeError, "RMSprop: eps must be a number"),
        (lambda: SGD(weight_decay=-0.1), ValueError,
         r"SGD: weight_decay must be in \[0.0, inf\), got -0.1"),
        (lambda: Momentum(weight_decay=None), TypeError,
         "Momentum: weight_decay must be a number, got None"),
        (lambda: AdaDelta(rho=1.5), ValueError, r"AdaDelta: rho must be in \[0.0, 1.0\]"),
        (lambda: AdaDelta(eps=-1), ValueError, r"AdaDelta: eps must be in \[0.0, inf\)"),
        (lambda: AdaDelta(lr=-1), ValueError, r"AdaDelta: lr must be in \[0.0, inf\]"),
        (lambda: SGD().add_hook(0.5), TypeError,  # type: ignore[arg-type]
         "SGD.add_hook: expected a function of the parameter list, got float"),
        (lambda: WeightDecay(-1.0), ValueError, r"WeightDecay: rate must be in \[0.0, inf\)"),
        (lambda: ClipGrad("1"), TypeError, "ClipGrad: max_norm must be a number"),
    ],
)
def test_bad_new_arguments(make: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def test_hooks_are_called_with_the_parameters_before_each_step() -> None:
    a = tf.Tensor(np.ones(2), requires_grad=True, name="a")
    b = tf.Tensor(np.ones(2), requires_grad=True, name="b")
    opt = SGD([a, b], lr=0.5)
    seen: list[tuple[list[str | None], list[float]]] = []

    def record(params: list[tf.Tensor]) -> None:
        seen.append(([p.name for p in params], [float(p.data[0]) for p in params]))

    def double(params: list[tf.Tensor]) -> None:
        for p in params:
            assert p.grad is not None
            p.grad = p.grad * 2

    opt.add_hook(record)
    opt.add_hook(double)
    assert opt.hooks == (record, double)
    a.grad = tf.Tensor(np.ones(2))  # b has no grad: not handed to the hooks, not updated
    opt.step()
    assert seen == [(["a"], [1.0])]  # before the update
    np.testing.assert_array_equal(a.data, [0.0, 0.0])  # 1 - 0.5 * (2 * 1)
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    opt.step()
    assert seen[1] == (["a"], [0.0])
    np.testing.assert_array_equal(a.data, [-2.0, -2.0])  # the hook doubled the grad again
    state = opt.state_dict()
    assert "_hooks" not in state["scalars"] and "_hooks" not in state["slots"]
    fresh = SGD([a, b], lr=0.1)
    fresh.load_state_dict(state)
    assert fresh.lr == 0.5 and fresh.hooks == ()


def test_book_style_hooks_see_named_tensors_and_leave_grads_alone() -> None:
    opt = Momentum(lr=0.1, momentum=0.5)
    names: list[str | None] = []

    def hook(params: list[tf.Tensor]) -> None:
        names.extend(p.name for p in params)
        for p in params:
            assert p.grad is not None
            p.grad.data *= 10  # in place on the copy the hook gets

    opt.add_hook(hook)
    params = {"W": np.ones(2), "b": 1.0}
    grads = {"W": np.full(2, 0.5), "b": np.float64(0.5)}
    opt.update(params, grads)
    assert names == ["W", "b"]
    np.testing.assert_array_equal(grads["W"], [0.5, 0.5])
    np.testing.assert_array_equal(params["W"], [0.5, 0.5])  # 1 - 0.1 * 5
    assert params["b"] == 0.5 and isinstance(params["b"], np.float64)


def test_weight_decay_hook_equals_the_weight_decay_argument() -> None:
    t1 = tf.Tensor(P0.copy(), requires_grad=True)
    t2 = tf.Tensor(P0.copy(), requires_grad=True)
    with_arg = Adam([t1], lr=0.1, weight_decay=0.2)
    with_hook = Adam([t2], lr=0.1)
    with_hook.add_hook(WeightDecay(0.2))
    for g in G3:
        t1.grad, t2.grad = tf.Tensor(g.copy()), tf.Tensor(g.copy())
        with_arg.step()
        with_hook.step()
        np.testing.assert_array_equal(t1.data, t2.data)
    assert t1.grad is not None and t2.grad is not None
    np.testing.assert_array_equal(t1.grad.data, G3[-1])  # the argument leaves .grad alone
    assert not np.array_equal(t2.grad.data, G3[-1])  # the hook replaced it: g + 0.2 p
    assert repr(WeightDecay(0.2)) == "WeightDecay(rate=0.2)"


def test_clip_grad_hook_clips_before_the_update() -> None:
    w = tf.Tensor(np.zeros(2), requires_grad=True)
    opt = SGD([w], lr=1.0)
    clip = ClipGrad(1.0)
    opt.add_hook(clip)
    w.grad = tf.Tensor(np.array([3.0, 4.0]))
    opt.step()
    np.testing.assert_array_equal(w.data, -np.array([3.0, 4.0]) * (1.0 / (5.0 + 1e-6)))
    assert clip.last_norm == 5.0
    w.grad = tf.Tensor(np.array([0.3, 0.4]))  # norm 0.5 < 1: unchanged
    opt.step()
    np.testing.assert_array_equal(w.grad.data, [0.3, 0.4])
    assert clip.last_norm == pytest.approx(0.5, rel=1e-15)


def test_a_hook_that_removes_a_gradient_is_refused() -> None:
    w = tf.Tensor(np.ones(2), requires_grad=True, name="w")
    opt = SGD([w], lr=1.0)

    def drop(params: list[tf.Tensor]) -> None:
        params[0].grad = None

    opt.add_hook(drop)
    w.grad = tf.Tensor(np.ones(2))
    with pytest.raises(GraphError, match=r"SGD: a hook set the \.grad of parameter w to None; "
                                         "hooks may change gradients, not remove them"):
        opt.step()
    np.testing.assert_array_equal(w.data, [1.0, 1.0])


def test_an_adadelta_state_without_eps_is_refused() -> None:
    opt = AdaDelta(lr=1.0)
    opt.update({"w": np.ones(2)}, {"w": np.ones(2)})
    state = opt.state_dict()
    del state["scalars"]["eps"]
    with pytest.raises(ValueError, match=r"the saved AdaDelta state has the attributes "
                                         r"\['acc_delta', 'lr', 'rho', 'square_avg', "
                                         r"'weight_decay'\], the optimizer \['acc_delta', "
                                         r"'eps', 'lr'"):
        AdaDelta(lr=1.0).load_state_dict(state)


def test_a_hook_that_removes_an_unnamed_gradient_is_refused_by_index() -> None:
    a = tf.Tensor(np.ones(2), requires_grad=True)
    b = tf.Tensor(np.ones(2), requires_grad=True)
    opt = SGD([a, b], lr=1.0)

    def drop(params: list[tf.Tensor]) -> None:
        params[1].grad = None

    opt.add_hook(drop)
    a.grad, b.grad = tf.Tensor(np.ones(2)), tf.Tensor(np.ones(2))
    with pytest.raises(GraphError, match=r"SGD: a hook set the \.grad of parameter 1 to None"):
        opt.step()


def _adam_by_the_formulas(p: np.ndarray, grads: list[np.ndarray], lr: float = 0.001,
                          beta1: float = 0.9, beta2: float = 0.999,
                          eps: float = 1e-7) -> tuple[np.ndarray, ...]:
    """The book's Adam, written out: the numbers the sliced in-place update must give."""
    p, m, v = p.copy(), np.zeros_like(p), np.zeros_like(p)
    with np.errstate(all="ignore"):  # the overflows and nans are the point
        for it, g in enumerate(grads, start=1):
            lr_t = float(lr * np.sqrt(1.0 - beta2**it) / (1.0 - beta1**it))
            m += (1 - beta1) * (g - m)
            v += (1 - beta2) * (g**2 - v)
            p -= lr_t * m / (np.sqrt(v) + eps)
    return p, m, v


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).reshape(-1).view(f"u{a.itemsize}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (1,), (7,), (8,), (9,), (3, 5), (4, 6, 2)])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_adam_in_slices_is_the_formulas_bit_for_bit(monkeypatch, dtype: type,
                                                    shape: tuple[int, ...],
                                                    layout: str) -> None:
    # slices of 8 elements: sizes below, at, just above and at several slices; C-ordered
    # arrays take the sliced path, others the formulas; -0.0, inf, nan, tiny and huge
    # gradients (their squares overflow and underflow) on the way
    import tinygrad_fish.optim as optim_module

    monkeypatch.setattr(optim_module, "_ADAM_CHUNK", 8)
    rng = np.random.default_rng(len(shape) * 10 + int(np.prod(shape)))
    p0 = rng.standard_normal(shape).astype(dtype)
    grads = []
    for i in range(6):
        g = (rng.standard_normal(shape) * 10.0 ** rng.integers(-25, 25, shape)).astype(dtype)
        flat = g.reshape(-1)
        if flat.size >= 3:
            flat[:3] = [-0.0, 0.0, np.inf if i == 2 else -np.inf if i == 4 else 1.0]
        if flat.size >= 5 and i == 3:
            flat[4] = np.nan
        grads.append(g)
    want = _adam_by_the_formulas(p0, grads)
    p = p0.copy()
    if layout == "F":
        p = np.asfortranarray(p)
    elif layout == "strided":
        p = np.repeat(p[..., None], 2, axis=-1)[..., 0]
    opt = Adam()
    params = {"W": p}
    with np.errstate(all="ignore"):
        for g in grads:
            gg = np.asfortranarray(g) if layout == "F" else g
            opt.update(params, {"W": gg})
    assert params["W"] is p or shape == ()
    got = (np.asarray(params["W"]), opt.m["W"], opt.v["W"])
    for a, b in zip(got, want, strict=True):
        assert a.dtype == dtype
        np.testing.assert_array_equal(_bits(a), _bits(b))


def test_adam_in_slices_gradient_sharing_memory_with_the_state() -> None:
    # a gradient that is (a view of) the parameter: the formulas, which read all of it
    # before the parameter changes (the slices would read a half-updated one)
    p0 = np.linspace(-1.0, 1.0, 40)
    p = p0.copy()
    opt = Adam()
    for _ in range(3):
        opt.update({"W": p}, {"W": p})
    q, m, v = p0.copy(), np.zeros(40), np.zeros(40)
    for it in range(1, 4):
        lr_t = float(0.001 * np.sqrt(1.0 - 0.999**it) / (1.0 - 0.9**it))
        m += (1 - 0.9) * (q - m)
        v += (1 - 0.999) * (q**2 - v)
        q -= lr_t * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_array_equal(_bits(p), _bits(q))


def test_adam_gradient_of_another_dtype_promotes_as_the_formulas() -> None:
    p32 = np.linspace(-1.0, 1.0, 12, dtype=np.float32)
    g64 = np.linspace(0.5, -0.25, 12)
    want = _adam_by_the_formulas(p32, [g64, g64 * 3])
    p = p32.copy()
    opt = Adam()
    for g in (g64, g64 * 3):
        opt.update({"W": p}, {"W": g})
    np.testing.assert_array_equal(_bits(p), _bits(want[0]))
    assert p.dtype == np.float32
