"""``train``'s memory check: the memory a run needs, and the memory available."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    CONVNET_EVAL_BATCH,
    EVAL_BATCH,
    INPUT_SIZE,
    MNIST_TEST_SIZE,
    MNIST_TRAIN_SIZE,
    OUTPUT_SIZE,
    CLIError,
    _optimizers,
)

#: The interpreter, numpy, matplotlib and tqdm themselves, in the memory estimate of ``train``.
BASE_MEMORY = 100 * 2**20


def _estimate_train_memory(
    *,
    hidden: int,
    batch_size: int,
    dtype: np.dtype[Any],
    optimizer_slots: int,
    train_size: int = MNIST_TRAIN_SIZE,
    test_size: int = MNIST_TEST_SIZE,
) -> dict[str, int]:
    """The bytes a ``train`` run holds at its peak, by part, and their ``"total"``.

    A model of what the loop allocates, where ``f`` is the dtype's size (it came within 15%
    of the peak RSS of real runs at hidden sizes 50-20000 and batches 100-60000):

    - ``data``: MNIST as loaded: float32 images, float32 one-hot labels, intp class labels.
    - ``parameters``: W1, b1, W2, b2; ``optimizer``: one copy of them per optimizer slot
      (Momentum's ``v``, Adam's ``m`` and ``v``, ...).
    - ``step``: one iteration's transients: the gradients and the update's temporaries
      (3x the parameters), the batch gathered (float32) and converted (``f``), and about
      five ``batch x hidden`` arrays (the hidden layer forward and backward).
    - ``evaluation``: an EVAL_BATCH slice converted to ``f`` and two ``EVAL_BATCH x hidden``
      arrays, plus the predicted labels.
    - ``checkpoint``: the state dicts copied for a checkpoint (parameters and slots).
    - ``base``: the interpreter and libraries (BASE_MEMORY).

    The total is ``base + data + parameters + optimizer`` plus the largest of ``step``,
    ``evaluation`` and ``checkpoint`` (they never overlap).
    """
    f = dtype.itemsize
    n = train_size + test_size
    n_params = INPUT_SIZE * hidden + hidden + hidden * OUTPUT_SIZE + OUTPUT_SIZE
    params = n_params * f
    rows = min(EVAL_BATCH, max(train_size, test_size))
    parts = {
        "data": n * INPUT_SIZE * 4 + n * OUTPUT_SIZE * 4 + n * 8,
        "parameters": params,
        "optimizer": optimizer_slots * params,
        "step": 3 * params + batch_size * (INPUT_SIZE * (4 + f) + OUTPUT_SIZE * (4 + 4 * f))
        + 5 * batch_size * hidden * f,
        "evaluation": rows * (INPUT_SIZE + 2 * hidden + 2 * OUTPUT_SIZE) * f + train_size * 8,
        "checkpoint": (1 + optimizer_slots) * params,
        "base": BASE_MEMORY,
    }
    parts["total"] = (
        parts["base"] + parts["data"] + parts["parameters"] + parts["optimizer"]
        + max(parts["step"], parts["evaluation"], parts["checkpoint"])
    )
    return parts


def _available_memory(
    meminfo: Path = Path("/proc/meminfo"), cgroup: Path = Path("/sys/fs/cgroup")
) -> tuple[int, str] | None:
    """The memory a new run may use, in bytes, and where the number comes from; None if
    unknown (then ``train`` makes no memory check).

    ``MemAvailable`` from ``/proc/meminfo`` (Linux); else the physical memory size
    (``os.sysconf``; a run larger than that can never fit). Either is lowered to the room
    left under a cgroup memory limit (a container's), when one is set.
    """
    found: tuple[int, str] | None = None
    try:
        for line in meminfo.read_text().splitlines():
            key, _, rest = line.partition(":")
            if key.strip() == "MemAvailable":
                value, unit = rest.split()
                if unit != "kB":
                    raise ValueError(unit)
                found = (int(value) * 1024, f"MemAvailable in {meminfo}")
    except (OSError, ValueError):
        found = None
    if found is None:
        try:
            total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):
            total = -1
        if total > 0:
            found = (total, "the physical memory size")
    # cgroup v2, then v1 (whose "no limit" is a huge number).
    for limit_file, usage_file in (
        ("memory.max", "memory.current"),
        ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"),
    ):
        try:
            limit = int((cgroup / limit_file).read_text().strip())  # "max": ValueError
            usage = int((cgroup / usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit < 2**60:
            room = max(limit - usage, 0)
            if found is None or room < found[0]:
                found = (room, f"the cgroup limit {cgroup / limit_file} less its usage")
        break
    return found


def _format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def _estimate_convnet_memory(
    *,
    hidden: int,
    batch_size: int,
    dtype: np.dtype[Any],
    optimizer_slots: int,
    train_size: int = MNIST_TRAIN_SIZE,
    test_size: int = MNIST_TEST_SIZE,
) -> dict[str, int]:
    """The parts of :func:`_estimate_train_memory` for the book's SimpleConvNet (30 filters
    of 5x5 on 28x28 images, 2x2 pooling, ``hidden`` units): per image, the convolution's
    windows (24 * 24 * 25 values, three copies when evaluating), about six arrays of its
    output and their gradients (24 * 24 * 30), and the pooled activations (12 * 12 * 30) a
    few times."""
    f = dtype.itemsize
    n = train_size + test_size
    params = (30 * 25 + 30 + 4320 * hidden + hidden + hidden * OUTPUT_SIZE + OUTPUT_SIZE) * f
    per_image = (2 * 14400 + 6 * 17280 + 4 * 4320) * f
    parts = {
        "data": n * INPUT_SIZE * 4 + n * OUTPUT_SIZE * 4 + n * 8,
        "parameters": params,
        "optimizer": optimizer_slots * params,
        "step": 3 * params + batch_size * (INPUT_SIZE * (4 + f) + per_image),
        # Measured: 675 MiB peak RSS for the book's run (float64, Adam), at evaluation.
        "evaluation": CONVNET_EVAL_BATCH * (INPUT_SIZE + 3 * 14400 + 3 * 17280 + 2 * 4320) * f
        + train_size * 8,
        "checkpoint": (1 + optimizer_slots) * params,
        "base": BASE_MEMORY,
    }
    parts["total"] = (
        parts["base"] + parts["data"] + parts["parameters"] + parts["optimizer"]
        + max(parts["step"], parts["evaluation"], parts["checkpoint"])
    )
    return parts


def _check_memory(config: Mapping[str, Any]) -> tuple[int, tuple[int, str] | None]:
    """The run's memory estimate and the memory available; refuse a run that cannot fit.

    Raises:
        CLIError: the estimate exceeds the memory available (``_available_memory``).
    """
    opt = _optimizers()[config["optimizer"]](lr=config["lr"])
    estimate = (_estimate_convnet_memory if config.get("network") == "simple-convnet"
                else _estimate_train_memory)
    parts = estimate(
        hidden=config["hidden"], batch_size=config["batch_size"],
        dtype=np.dtype(config["dtype"]), optimizer_slots=len(opt.state_dict()["slots"]),
    )
    available = _available_memory()
    if available is not None and parts["total"] > available[0]:
        fmt = _format_bytes
        raise CLIError(
            f"this run needs about {fmt(parts['total'])} of memory (--hidden "
            f"{config['hidden']}, --batch-size {config['batch_size']}, {config['dtype']}, "
            f"{config['optimizer']}: parameters {fmt(parts['parameters'])}, optimizer state "
            f"{fmt(parts['optimizer'])}, one step {fmt(parts['step'])}, evaluation "
            f"{fmt(parts['evaluation'])}, MNIST {fmt(parts['data'])}) but "
            f"{fmt(available[0])} is available ({available[1]}); use a smaller --hidden or "
            "--batch-size, or --dtype float32"
        )
    return parts["total"], available
