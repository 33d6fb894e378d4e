"""Names for the tensors drawn: ``params=`` (a Module or ``net.params``), ``tensor.name``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import numpy as np

from ..tensor import Tensor


class _NamedParameters(Protocol):
    def named_parameters(self) -> Iterable[tuple[str, Any]]: ...


#: What ``params=`` accepts: a Module (anything with ``named_parameters()``), or a mapping from
#: name to Tensor or numpy array (the book's ``net.params``; arrays are matched by identity
#: with ``tensor.data``).
Params = _NamedParameters | Mapping[str, Any]

# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------
class _Names:
    def __init__(self, params: Params | None) -> None:
        self.by_tensor: dict[int, str] = {}
        self.by_array: dict[int, str] = {}
        if params is None:
            return
        named = getattr(params, "named_parameters", None)
        if callable(named):
            pairs: Iterable[tuple[str, Any]] = named()
        elif isinstance(params, Mapping):
            pairs = params.items()
        else:
            raise TypeError(
                "draw_graph(params=...): expected a Module (with named_parameters()) or a "
                f"dict of name -> Tensor or numpy array, got {type(params).__name__}"
            )
        for name, p in pairs:
            if isinstance(p, Tensor):
                self.by_tensor[id(p)] = str(name)
            elif isinstance(p, np.ndarray):
                self.by_array[id(p)] = str(name)
            else:
                raise TypeError(
                    f"draw_graph(params=...): {name!r} is a {type(p).__name__}, expected a "
                    "Tensor or a numpy array"
                )

    def of(self, t: Tensor) -> str | None:
        name = self.by_tensor.get(id(t))
        if name is None:
            name = self.by_array.get(id(t.data))
        return name if name is not None else t.name
