"""Training checkpoints: everything needed to continue a run bit for bit, in one ``.npz``.

A checkpoint is a single file, written atomically by :func:`tinygrad_fish.serialization.save`
(a temporary file in the same directory, flushed and ``fsync``-ed, then ``os.replace``-d over
the previous checkpoint; a crash or a kill mid-write leaves the previous checkpoint intact,
and the temporary file it leaves is removed by the next save, see
:func:`~tinygrad_fish.serialization.remove_stale_temp_files`, which this module re-exports),
and read back without pickle. It holds numeric arrays only:

- ``meta``: UTF-8 JSON text (strict: no ``NaN`` or ``Infinity``; checkpoints of earlier
  versions that hold them are still read) stored as a ``uint8`` array (numeric, so the
  no-pickle reader accepts it): the format name and version, the number of completed
  iterations, the run's configuration (hyperparameters, BLAS thread count, data location), a
  fingerprint of the data, the batch sampler's ``bit_generator.state`` (a JSON object of
  Python ints; or the global ``np.random.get_state(legacy=False)``, which adds
  ``has_gauss`` and the float ``gauss``), the optimizer's scalar state and slot names, the
  per-epoch accuracies and the wall time so far.
- ``param.NAME``: the model's state dict (``W1``, ``b1``, ...), in its own dtype.
- ``optim.ATTR.K``: the ``K``-th array of the optimizer's slot ``ATTR`` (Momentum's ``v``,
  AdaGrad's and RMSprop's ``h``, Adam's ``m`` and ``v``); the keys are listed in ``meta``.
- ``loss``: the loss of every completed iteration (float64, exact).

Examples:
    >>> import numpy as np, tempfile, os
    >>> from tinygrad_fish.optim import Adam
    >>> from tinygrad_fish.checkpoint import (
    ...     Checkpoint, load_checkpoint, save_checkpoint)
    >>> opt = Adam(lr=0.01)
    >>> params = {"w": np.ones(3)}
    >>> opt.update(params, {"w": np.full(3, 0.5)})
    >>> rng = np.random.default_rng(0)
    >>> ckpt = Checkpoint(iteration=1, params=params, optimizer=opt.state_dict(),
    ...                   rng_state=rng.bit_generator.state, losses=np.array([2.3]))
    >>> path = os.path.join(tempfile.mkdtemp(), "checkpoint.npz")
    >>> save_checkpoint(path, ckpt)
    >>> back = load_checkpoint(path)
    >>> fresh = Adam(lr=0.01)
    >>> fresh.load_state_dict(back.optimizer)
    >>> fresh.iter, bool(np.array_equal(fresh.m["w"], opt.m["w"]))
    (1, True)

The optimizer's state comes from :meth:`tinygrad_fish.optim.Optimizer.state_dict` and goes
back with :meth:`~tinygrad_fish.optim.Optimizer.load_state_dict`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import TinygradFishError
from .serialization import ModelFileError, load, remove_stale_temp_files, save

__all__ = [
    "CHECKPOINT_NAME",
    "Checkpoint",
    "CheckpointError",
    "load_checkpoint",
    "remove_stale_temp_files",
    "save_checkpoint",
]

Array = npt.NDArray[Any]
PathLike = str | os.PathLike[str]

#: The checkpoint's file name in a run's output directory.
CHECKPOINT_NAME = "checkpoint.npz"
FORMAT = "tinygrad-fish training checkpoint"
VERSION = 1


class CheckpointError(TinygradFishError, ValueError):
    """A checkpoint that is missing, truncated, corrupt, of another format, or inconsistent.

    Attributes:
        path: the file.
    """

    def __init__(self, message: str, path: PathLike) -> None:
        super().__init__(message)
        self.path = os.fspath(path)


@dataclass
class Checkpoint:
    """The state of a training run after ``iteration`` completed iterations.

    Attributes:
        iteration: iterations completed (the next one to run has this index).
        params: the model's state dict, ``{name: array}``.
        optimizer: the optimizer's :meth:`~tinygrad_fish.optim.Optimizer.state_dict`.
        rng_state: the batch sampler's ``Generator.bit_generator.state``, or the global
            ``np.random.get_state(legacy=False)`` (an MT19937 state with ``has_gauss`` and
            ``gauss``), JSON-able (lists, not arrays, once read back).
        losses: the loss of each completed iteration (``len(losses) == iteration``).
        epochs: the per-epoch evaluation rows so far.
        config: the run's configuration (hyperparameters and the like), JSON-able.
        data: a fingerprint of the data trained on, JSON-able.
        wall_time_s: training time so far, in seconds.
    """

    iteration: int
    params: Mapping[str, Array]
    optimizer: Mapping[str, Any]
    rng_state: Mapping[str, Any]
    losses: Array
    epochs: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    wall_time_s: float = 0.0


# ------------------------------------------------------------------------------ optimizer state


# ------------------------------------------------------------------------------ save / load


def _non_finite(obj: Any, where: str = "") -> str | None:
    """Where (``config.lr``, ``epochs[3].test_acc``) the first NaN or infinite float in
    ``obj`` is, or None."""
    if isinstance(obj, float):
        return None if math.isfinite(obj) else where.lstrip(".")
    if isinstance(obj, Mapping):
        pairs: Any = ((f"{where}.{k}", v) for k, v in obj.items())
    elif isinstance(obj, list | tuple):
        pairs = ((f"{where}[{i}]", v) for i, v in enumerate(obj))
    else:
        return None
    for sub, value in pairs:
        found = _non_finite(value, sub)
        if found is not None:
            return found
    return None


def _as_json_bytes(obj: Mapping[str, Any]) -> Array:
    """``obj`` as strict JSON (no NaN or Infinity, which JSON has not), UTF-8 bytes."""
    try:
        text = json.dumps(obj, allow_nan=False, sort_keys=False)
    except ValueError as e:
        where = _non_finite(obj)
        raise ValueError(
            f"cannot save a checkpoint whose metadata holds a NaN or infinity (at {where}); "
            "JSON has no such numbers"
        ) from e
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()


def save_checkpoint(path: PathLike, ckpt: Checkpoint) -> None:
    """Write ``ckpt`` to ``path`` atomically (temp file, fsync, ``os.replace``), no pickle.

    The metadata is strict JSON; the losses (an array) may be anything, NaN included.

    Raises:
        ValueError: ``ckpt.losses`` does not hold one loss per iteration; a metadata float
            (in the config, data, epochs, optimizer scalars, wall time) is NaN or infinite.
        TypeError: a metadata value (config, data, epochs, RNG state, optimizer scalars or
            slot keys) that JSON cannot encode.
        DTypeError: a parameter or optimizer slot that is not a numeric array.
        ModelFileError: the file cannot be written; the previous checkpoint is unchanged.
    """
    losses = np.asarray(ckpt.losses, dtype=np.float64)
    if len(losses) != ckpt.iteration:
        raise ValueError(f"{len(losses)} losses for {ckpt.iteration} iterations")
    arrays: dict[str, Array] = {}
    for name, arr in ckpt.params.items():
        arrays[f"param.{name}"] = np.asarray(arr)
    slot_keys: dict[str, list[str | int] | None] = {}
    for attr, slot in ckpt.optimizer["slots"].items():
        if slot is None:
            slot_keys[attr] = None
            continue
        keys = list(slot)
        slot_keys[attr] = keys
        for k, key in enumerate(keys):
            arrays[f"optim.{attr}.{k}"] = slot[key]
    arrays["loss"] = losses
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "iteration": ckpt.iteration,
        "config": ckpt.config,
        "data": ckpt.data,
        "rng": _plain(dict(ckpt.rng_state)),
        "params": list(ckpt.params),
        "optimizer": {
            "type": ckpt.optimizer["type"],
            "scalars": ckpt.optimizer["scalars"],
            "slots": slot_keys,
        },
        "epochs": ckpt.epochs,
        "wall_time_s": ckpt.wall_time_s,
    }
    arrays["meta"] = _as_json_bytes(meta)
    save(arrays, path)


def _plain(obj: Any) -> Any:
    """``obj`` with numpy arrays turned into lists (to compare with a state read from JSON)."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    return obj


def _check_rng_state(rng: Any) -> None:
    """Check that ``rng`` is a ``bit_generator.state`` numpy takes back exactly, or the
    global ``np.random.get_state(legacy=False)`` (``bit_generator`` MT19937 with the legacy
    ``has_gauss`` and ``gauss``, the Box-Muller value kept for the next normal draw).

    Raises:
        ValueError: it is not a JSON object naming one of numpy's bit generators; a value
            is not an integer (a float or a bool, which numpy would truncate silently; only
            the legacy ``gauss`` is a float, and a finite one); ``has_uint32`` or
            ``has_gauss`` is not 0 or 1; numpy refuses the state (a missing or ill-typed
            field, an integer out of range), or it does not read back the same.
    """
    if not isinstance(rng, dict) or not isinstance(rng.get("bit_generator"), str):
        raise ValueError("no random generator state")
    name = rng["bit_generator"]
    cls = getattr(np.random, name, None)
    if not (isinstance(cls, type) and issubclass(cls, np.random.BitGenerator)):
        raise ValueError(f"the random generator state is of an unknown bit generator {name!r}")
    legacy = name == "MT19937" and "has_gauss" in rng

    def integers(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                integers(v, f"{where}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                integers(v, f"{where}[{i}]")
        elif isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"the random generator state's {where} is {value!r}, not an "
                             "integer")

    for key, value in rng.items():
        if key != "bit_generator" and not (legacy and key == "gauss"):
            integers(value, key)
    for flag in ("has_uint32", "has_gauss"):
        if rng.get(flag, 0) not in (0, 1):
            raise ValueError(f"the random generator state's {flag} is {rng[flag]!r}, not 0 "
                             "or 1")
    if legacy:
        gauss = rng.get("gauss")
        if isinstance(gauss, bool) or not isinstance(gauss, int | float) or \
                not math.isfinite(gauss):
            raise ValueError(f"the random generator state's gauss is {gauss!r}, not a finite "
                             "number")
        legacy_state = np.random.RandomState()
        try:
            legacy_state.set_state(rng)
        except (KeyError, TypeError, ValueError, OverflowError, IndexError,
                AttributeError) as e:
            what = f"missing {e}" if isinstance(e, KeyError) else str(e)
            raise ValueError(f"numpy refuses its global (legacy MT19937) random state "
                             f"({what})") from e
        back = legacy_state.get_state(legacy=False)
        if _plain(back) != {**rng, "gauss": float(gauss)}:
            raise ValueError("its global (legacy MT19937) random state does not read back "
                             "the same (an unexpected field, or a value out of range)")
        return
    gen = cls()
    try:
        gen.state = rng
    except (KeyError, TypeError, ValueError, OverflowError, IndexError, AttributeError) as e:
        what = f"missing {e}" if isinstance(e, KeyError) else str(e)
        raise ValueError(f"numpy refuses its {name} random generator state ({what})") from e
    if _plain(gen.state) != rng:
        raise ValueError(f"its {name} random generator state does not read back the same "
                         "(an unexpected field, or a value out of range)")


def _invalid(path: str, why: str) -> CheckpointError:
    return CheckpointError(f"{path} is not a valid training checkpoint: {why}", path)


def load_checkpoint(path: PathLike) -> Checkpoint:
    """Read and check a checkpoint written by :func:`save_checkpoint` (never unpickles).

    Raises:
        CheckpointError: the file is missing, unreadable, truncated or corrupt, of another
            format or version, or inconsistent (its random generator state included: numpy
            must take it back exactly); the message says which and names the path.
    """
    p = os.fspath(path)
    if not os.path.exists(p):
        raise CheckpointError(f"no checkpoint to resume from: {p} does not exist", p)
    try:
        arrays = load(p)
    except ModelFileError as e:
        text = str(e).removeprefix("load(): ").replace("model file", "checkpoint")
        raise CheckpointError(f"cannot read the checkpoint: {text}", p) from e
    if "meta" not in arrays:
        raise _invalid(p, "it has no 'meta' entry (is it a model file?)")
    raw = arrays["meta"]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _invalid(p, f"its 'meta' entry is {raw.dtype} {raw.shape}, not UTF-8 bytes")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _invalid(p, f"its metadata is not JSON ({e})") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _invalid(p, "its metadata does not name the checkpoint format")
    if meta.get("version") != VERSION:
        raise _invalid(p, f"format version {meta.get('version')!r}, this version reads "
                          f"{VERSION}")
    try:
        iteration = meta["iteration"]
        if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
            raise ValueError(f"bad iteration {iteration!r}")
        losses = arrays["loss"]
        if losses.dtype != np.float64 or losses.shape != (iteration,):
            raise ValueError(f"'loss' is {losses.dtype} {losses.shape} for {iteration} "
                             "iterations")
        params = {name: arrays[f"param.{name}"] for name in meta["params"]}
        opt = meta["optimizer"]
        slots: dict[str, dict[str | int, Array] | None] = {}
        for attr, keys in opt["slots"].items():
            slots[attr] = None if keys is None else {
                key: arrays[f"optim.{attr}.{k}"] for k, key in enumerate(keys)
            }
        expected = {"meta", "loss"} | {f"param.{n}" for n in params} | {
            f"optim.{a}.{k}" for a, s in slots.items() if s is not None for k in range(len(s))
        }
        if set(arrays) != expected:
            raise ValueError(f"unexpected entries {sorted(set(arrays) - expected)}")
        rng = meta["rng"]
        _check_rng_state(rng)
        wall = float(meta["wall_time_s"])
        if not math.isfinite(wall):
            raise ValueError(f"bad wall time {wall}")
        ckpt = Checkpoint(
            iteration=iteration,
            params=params,
            optimizer={"type": opt["type"], "scalars": dict(opt["scalars"]), "slots": slots},
            rng_state=rng,
            losses=losses,
            epochs=list(meta["epochs"]),
            config=dict(meta["config"]),
            data=dict(meta["data"]),
            wall_time_s=wall,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        what = f"missing {e}" if isinstance(e, KeyError) else str(e)
        raise _invalid(p, what) from e
    return ckpt
