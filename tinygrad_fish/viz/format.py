"""Text pieces of the labels: numbers, array summaries, shapes, op attributes, escaping."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .style import _MAX_ATTR_CHARS, _MAX_LISTED


# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------
def _num(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (complex, np.complexfloating)):
        return f"{complex(v):.4g}"
    f = float(v)
    return "0" if f == 0 else f"{f:.4g}"  # no "-0" from ReLU's -0.0


def _summary(a: np.ndarray[Any, Any]) -> str:
    """A scalar's value, or an array's min/mean/max (never its elements)."""
    if a.size == 0:
        return "empty"
    if a.size == 1:
        return _num(a.reshape(-1)[0])
    if a.dtype.kind == "b":
        return f"{int(np.count_nonzero(a))}/{a.size} true"
    with np.errstate(all="ignore"):
        if a.dtype.kind == "c":
            return f"mean {_num(a.mean())}"
        return f"min {_num(a.min())} mean {_num(a.mean())} max {_num(a.max())}"


def _shape(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else str(tuple(shape))


def _attr_value(v: Any) -> str:
    """One attribute value, short: arrays by shape and dtype, never their elements."""
    if isinstance(v, np.ndarray):
        return f"array{_shape(v.shape)} {v.dtype}"
    if isinstance(v, Tensor):
        return f"tensor{_shape(v.shape)} {v.dtype}"
    if isinstance(v, slice):
        parts = ["" if x is None else str(x) for x in (v.start, v.stop, v.step)]
        return ":".join(parts[:2] if v.step is None else parts)
    if v is Ellipsis:
        return "..."
    if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        return np.dtype(v).name
    if isinstance(v, (float, np.floating, np.integer, np.bool_)):
        return _num(v)
    r = repr(v)
    return r if len(r) <= _MAX_ATTR_CHARS else r[: _MAX_ATTR_CHARS - 1] + "…"


def _attr_text(v: Any) -> str:
    if isinstance(v, (tuple, list)):
        inner = [_attr_value(x) for x in v[:_MAX_LISTED]]
        if len(v) > _MAX_LISTED:
            inner.append("…")
        text = ", ".join(inner) + ("," if len(v) == 1 and isinstance(v, tuple) else "")
        text = f"({text})" if isinstance(v, tuple) else f"[{text}]"
    else:
        text = _attr_value(v)
    return text if len(text) <= _MAX_ATTR_CHARS else text[: _MAX_ATTR_CHARS - 1] + "…"


def _attr_lines(fn: Function) -> list[str]:
    """``key=value`` for each attribute of the op that says something (None/False skipped)."""
    attrs: dict[str, Any] = getattr(fn, "attrs", None) or {}
    return [f"{k}={_attr_text(v)}" for k, v in attrs.items() if v is not None and v is not False]


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _label(lines: Iterable[str]) -> str:
    """Lines joined with DOT's centred line break, user text escaped."""
    return "\\n".join(_escape(s) for s in lines)
