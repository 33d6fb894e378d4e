"""``tinygrad-fish evaluate MODEL.npz``: the test accuracy and confusion matrix of a model
written by ``train``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .common import (
    CONVNET_EVAL_BATCH,
    EVAL_BATCH,
    INPUT_SIZE,
    OUTPUT_SIZE,
    Array,
    CLIError,
    _load_mnist,
)

if TYPE_CHECKING:
    from ..nn import SimpleConvNet, TwoLayerNet


def _read_model(path: Path) -> dict[str, Array]:
    """The arrays of a saved model, checked to be the state dict of a TwoLayerNet(784, H, 10)
    or of a SimpleConvNet on MNIST (30 filters of 5x5, as ``train`` builds it).

    Raises:
        CLIError: the file is missing, or its arrays are not such a state dict.
        ModelFileError: the file is not a readable ``.npz`` of numeric arrays.
    """
    from ..serialization import load

    if not path.is_file():
        raise CLIError(f"model file not found: {path}")
    state = load(path)  # allow_pickle=False; ModelFileError for a corrupt file
    dtypes = {a.dtype for a in state.values()}
    if len(dtypes) > 1 or (dtypes and next(iter(dtypes)) not in (np.float32, np.float64)):
        raise CLIError(f"{path}: the arrays must be all float32 or all float64, got "
                       f"{', '.join(sorted(str(d) for d in dtypes))}")
    if set(state) == {"W1", "b1", "W2", "b2", "W3", "b3"}:  # a SimpleConvNet
        W1, W2 = state["W1"], state["W2"]
        h = W2.shape[1] if W2.ndim == 2 else -1
        expected: dict[str, tuple[int, ...]] = {
            "W1": (30, 1, 5, 5), "b1": (30,), "W2": (4320, h), "b2": (h,),
            "W3": (h, OUTPUT_SIZE), "b3": (OUTPUT_SIZE,)}
        shapes = {k: state[k].shape for k in expected}
        if h < 1 or shapes != expected:
            got = ", ".join(f"{k} {v}" for k, v in shapes.items())
            raise CLIError(f"{path}: shapes do not fit the SimpleConvNet train builds (W1 "
                           f"(30, 1, 5, 5), W2 (4320, H), W3 (H, 10)); got {got}")
        return state
    keys = {"W1", "b1", "W2", "b2"}
    if set(state) != keys:
        raise CLIError(
            f"{path}: expected the arrays W1, b1, W2, b2 of a TwoLayerNet (or W1..b3 of a "
            f"SimpleConvNet), found {', '.join(sorted(state)) or 'none'}"
        )
    W1 = state["W1"]
    h = W1.shape[1] if W1.ndim == 2 else -1
    expected = {"W1": (INPUT_SIZE, h), "b1": (h,), "W2": (h, OUTPUT_SIZE), "b2": (OUTPUT_SIZE,)}
    shapes = {k: state[k].shape for k in expected}
    if h < 1 or shapes != expected:
        got = ", ".join(f"{k} {v}" for k, v in shapes.items())
        raise CLIError(
            f"{path}: shapes do not fit TwoLayerNet({INPUT_SIZE}, H, {OUTPUT_SIZE}) on MNIST "
            f"(W1 (784, H), b1 (H,), W2 (H, 10), b2 (10,)); got {got}"
        )
    return state


def _predict_labels(network: TwoLayerNet | SimpleConvNet, x: Array,
                    batch: int = EVAL_BATCH) -> Array:
    """The predicted class of every sample of ``x`` (under ``no_grad``, ``batch`` at a
    time)."""
    from ..autograd import no_grad

    out = np.empty(len(x), dtype=np.intp)
    with no_grad():
        for i in range(0, len(x), batch):
            out[i : i + batch] = np.argmax(network.predict(x[i : i + batch]).data, axis=1)
    return out


def _format_confusion(matrix: Array) -> str:
    """A 10x10 confusion matrix as aligned text, with each row's accuracy (recall)."""
    width = max(5, len(str(int(matrix.max()))) + 1)
    head = "true\\pred" + "".join(f"{j:>{width}d}" for j in range(matrix.shape[1])) + "    acc"
    lines = [head]
    for i, row in enumerate(matrix):
        total = int(row.sum())
        acc = row[i] / total if total else float("nan")
        cells = "".join(f"{int(v):>{width}d}" for v in row)
        lines.append(f"{i:>9d}{cells}  {acc:.3f}")
    return "\n".join(lines)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    """``evaluate``: load the model, predict the MNIST test set, print the accuracy and the
    confusion matrix.

    Raises:
        CLIError: a missing or mismatched model file, or one that does not load.
    """
    from ..nn import SimpleConvNet, TwoLayerNet

    state = _read_model(args.model)
    W1 = state["W1"]
    conv = W1.ndim == 4
    network: TwoLayerNet | SimpleConvNet
    if conv:
        hidden = state["W2"].shape[1]
        network = SimpleConvNet(hidden_size=hidden, dtype=W1.dtype, seed=0)
        name = f"SimpleConvNet((1, 28, 28), 30 filters of 5x5, {hidden}, {OUTPUT_SIZE})"
    else:
        network = TwoLayerNet(INPUT_SIZE, W1.shape[1], OUTPUT_SIZE, dtype=W1.dtype, seed=0)
        name = f"TwoLayerNet({INPUT_SIZE}, {W1.shape[1]}, {OUTPUT_SIZE})"
    try:
        network.load_state_dict(state)
    except (KeyError, ValueError, TypeError) as e:
        raise CLIError(f"{args.model}: cannot load the state dict: {e}") from e
    _, _, x_test, t_test = _load_mnist(args, one_hot_label=False, flatten=not conv)
    pred = _predict_labels(network, x_test, CONVNET_EVAL_BATCH if conv else EVAL_BATCH)
    labels = t_test.astype(np.intp)
    matrix = np.zeros((OUTPUT_SIZE, OUTPUT_SIZE), dtype=np.int64)
    np.add.at(matrix, (labels, pred), 1)
    correct = int(np.trace(matrix))
    acc = correct / float(len(labels))
    print(f"model: {args.model} ({name}, {W1.dtype})")
    print(f"test accuracy: {acc:.4f} ({correct}/{len(labels)})")
    print("confusion matrix (rows: true digit, columns: predicted digit):")
    print(_format_confusion(matrix))
    return 0
