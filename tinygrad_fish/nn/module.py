"""The :class:`Module` base class: parameters, buffers, submodules, train/eval, state dicts.

A Module is a callable (``module(x)`` runs ``module.forward(x)``) that owns

- **parameters**: Tensors whose gradients ``loss.backward()`` computes and optimizers update
  (weights, biases, BatchNorm's gamma and beta);
- **buffers**: numpy arrays that belong to the model's state but are not trained by gradients
  (BatchNorm's running mean and variance);
- **submodules**: other Modules (an Affine layer inside a network).

Registration
    Assigning an attribute registers it, in assignment order: a :class:`Module` becomes a
    submodule, a leaf :class:`~tinygrad_fish.Tensor` with ``requires_grad=True`` a parameter
    (a tensor computed by ops, such as a cached activation, stays a plain attribute);
    assigning to a name already registered as a buffer replaces the buffer; assigning a
    numpy array to a parameter's name gives the parameter those values (the parameter
    Tensor now wraps the array), as the book's ``load_params`` does with ``layer.W = ...``.
    Everything else is an ordinary attribute. :meth:`Module.register_parameter`,
    :meth:`Module.register_buffer` and :meth:`Module.add_module` register explicitly (a
    frozen tensor as a parameter, an array as a buffer, or a name that is not a Python
    identifier, such as ``"layers.0"``).

Names
    :meth:`Module.named_parameters` gives dotted names (``"Affine1.W"``). A tensor shared by
    several modules is listed once, under the first name found. The book's networks register
    their weights under the book's keys first (``"W1"``, ``"b1"``, ...) so those are the names
    their :meth:`Module.state_dict` uses, the same keys as their ``params`` dict.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple, Self

import numpy as np
import numpy.typing as npt

from ..errors import DTypeError, ShapeError
from ..tensor import Tensor

__all__ = ["IncompatibleKeys", "Module"]

Array = npt.NDArray[Any]


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` returns: keys it expected but did not get, and keys
    it got but does not know (both empty after a strict load)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and networks (PyTorch's ``nn.Module``, minus the hooks).

    Subclasses call ``super().__init__(name)`` first, then assign their parameters and
    submodules as attributes, and define ``forward``.

    Args:
        name: a label (default: the class name). The book's layers use it as their graph
            scope, so drawings box the ops of ``"Affine1"`` together.

    Attributes:
        name: the label.
        training: True in training mode (the default), False after :meth:`eval`. Dropout and
            BatchNormalization behave differently in the two modes.

    >>> import numpy as np
    >>> from tinygrad_fish import Tensor
    >>> class Scale(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = Tensor(np.ones(3), requires_grad=True)
    ...     def forward(self, x):
    ...         return x * self.w
    >>> [name for name, _ in Scale().named_parameters()]
    ['w']
    """

    name: str
    training: bool
    _parameters: dict[str, Tensor]
    _buffers: dict[str, Array]
    _modules: dict[str, Module]

    def __init__(self, name: str | None = None) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "name", type(self).__name__ if name is None else str(name))

    # -----------------------------------------------------------------------------------------
    # Registration
    # -----------------------------------------------------------------------------------------
    def __setattr__(self, key: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Module):
            params.pop(key, None)
            buffers.pop(key, None)
            modules[key] = value
        elif isinstance(value, Tensor) and (
            (value.requires_grad and value.is_leaf) or key in params
        ):
            buffers.pop(key, None)
            modules.pop(key, None)
            params[key] = value
        elif key in params and isinstance(value, np.ndarray):
            # The book's load_params: `layer.W = params["W1"]` gives the parameter new
            # values; the parameter Tensor stays (and now wraps that array).
            if value.dtype.kind != "f":
                raise DTypeError(
                    f"{self.name}.{key} = array: a parameter's values must be floating "
                    f"point, got dtype {value.dtype}"
                )
            p = params[key]
            if p.grad is not None and p.grad.shape != value.shape:
                p.grad = None
            p.data = value
            p._bump_version()
            return
        elif key in buffers:
            buffers[key] = _as_buffer(key, value)
            value = buffers[key]
        else:
            params.pop(key, None)
            modules.pop(key, None)
        object.__setattr__(self, key, value)

    def __delattr__(self, key: str) -> None:
        self._parameters.pop(key, None)
        self._buffers.pop(key, None)
        self._modules.pop(key, None)
        if key in self.__dict__:
            object.__delattr__(self, key)

    def register_parameter(self, name: str, param: Tensor) -> None:
        """Register ``param`` as a parameter called ``name`` (also an attribute if ``name``
        is an identifier), even if it does not require grad.

        Raises:
            TypeError: ``param`` is not a Tensor.
            ValueError: ``name`` is not a non-empty str without ``"."``.
        """
        if not isinstance(param, Tensor):
            raise TypeError(
                f"{self.name}.register_parameter({name!r}): expected a Tensor, got "
                f"{type(param).__name__}"
            )
        self._check_name(name)
        self._buffers.pop(name, None)
        self._modules.pop(name, None)
        self._parameters[name] = param
        if name.isidentifier():
            object.__setattr__(self, name, param)

    def register_buffer(self, name: str, array: Array) -> None:
        """Register a numpy array (or a Tensor's array) as a buffer: saved in the state
        dict, not trained.

        Raises:
            ValueError: ``name`` is not a non-empty str without ``"."``.
            TypeError: ``array`` is not a numpy array or a Tensor.
        """
        self._check_name(name)
        arr = _as_buffer(name, array)
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers[name] = arr
        if name.isidentifier():
            object.__setattr__(self, name, arr)

    def add_module(self, name: str, module: Module) -> None:
        """Register ``module`` as a submodule called ``name``.

        Raises:
            TypeError: ``module`` is not a Module.
            ValueError: ``name`` is not a non-empty str without ``"."``.
        """
        if not isinstance(module, Module):
            raise TypeError(
                f"{self.name}.add_module({name!r}): expected a Module, got "
                f"{type(module).__name__}"
            )
        self._check_name(name)
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules[name] = module
        if name.isidentifier():
            object.__setattr__(self, name, module)

    def _check_name(self, name: str) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(
                f"{self.name}: a parameter, buffer or module name must be a non-empty str "
                f"without '.', got {name!r}"
            )

    # -----------------------------------------------------------------------------------------
    # Traversal
    # -----------------------------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Yield ``(dotted name, module)`` for this module (name ``prefix``) and every
        submodule below it, each module once."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:  # iterative pre-order walk, children in registration order
            name, mod = stack.pop()
            if id(mod) in seen:
                continue
            seen.add(id(mod))
            yield name, mod
            children = [
                (f"{name}.{key}" if name else key, child) for key, child in mod._modules.items()
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """Yield this module and every submodule below it."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for the direct submodules."""
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        """Yield the direct submodules."""
        yield from self._modules.values()

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Yield ``(dotted name, tensor)`` for every parameter, each tensor once.

        Own parameters come first, then each submodule's, in registration order.
        """
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mname, mod in mods:
            for key, p in mod._parameters.items():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mname}.{key}" if mname else key), p

    def parameters(self, recurse: bool = True) -> Iterator[Tensor]:
        """Yield every parameter tensor once (what optimizers take)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Array]]:
        """Yield ``(dotted name, array)`` for every buffer, each array once."""
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mname, mod in mods:
            for key, b in mod._buffers.items():
                if id(b) in seen:
                    continue
                seen.add(id(b))
                yield (f"{mname}.{key}" if mname else key), b

    def buffers(self, recurse: bool = True) -> Iterator[Array]:
        """Yield every buffer array once."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # -----------------------------------------------------------------------------------------
    # Modes and gradients
    # -----------------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        """Set training mode (``mode=True``) or evaluation mode on this module and every
        submodule; returns ``self``."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Self:
        """Set evaluation mode (``train(False)``): Dropout scales instead of dropping,
        BatchNormalization uses its running statistics. Returns ``self``."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (sets ``.grad`` to None)."""
        for p in self.parameters():
            p.grad = None

    # -----------------------------------------------------------------------------------------
    # State
    # -----------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Array]:
        """A snapshot of the parameters and buffers: ``{dotted name: numpy array}``.

        The arrays are copies, so later training does not change a saved state dict.
        Parameters come first (each once, under its first name), then buffers.
        """
        out: dict[str, Array] = {}
        for name, p in self.named_parameters():
            out[name] = p.data.copy()
        for name, b in self.named_buffers():
            out[name] = b.copy()
        return out

    def _state_arrays(self) -> dict[str, Array]:
        out = {name: p.data for name, p in self.named_parameters()}
        out.update(self.named_buffers())
        return out

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into the existing parameter and buffer arrays.

        The copy is in place (``array[...] = value``), so every view of the arrays, such as
        the book networks' ``params`` dict and their layers, sees the new values. Everything
        is checked before anything is copied: an error leaves the module unchanged.

        Args:
            state_dict: ``{dotted name: numpy array or Tensor}``, as :meth:`state_dict` makes.
            strict: require exactly the module's names (no missing, no unexpected).

        Returns:
            :class:`IncompatibleKeys` (missing and unexpected names; empty when strict).

        Raises:
            TypeError: ``state_dict`` is not a mapping.
            KeyError: ``strict`` and a name is missing or unexpected; the message lists them.
            ShapeError: a value's shape differs from the parameter's; the message names it.
            DTypeError: a value's dtype differs from the parameter's (convert it first, or
                build the module with that dtype).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{self.name}.load_state_dict: expected a mapping of names to arrays, got "
                f"{type(state_dict).__name__}"
            )
        own = self._state_arrays()
        tensors = {name: p for name, p in self.named_parameters()}
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise KeyError(
                f"{self.name}.load_state_dict: " + " and ".join(parts)
                + f"; the module's keys are {list(own)} (pass strict=False to load the "
                "keys that match)"
            )
        pending: list[tuple[str, Array, Array]] = []
        for key, dst in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            src = value.data if isinstance(value, Tensor) else np.asarray(value)
            if src.shape != dst.shape:
                raise ShapeError(
                    f"{self.name}.load_state_dict: '{key}' has shape {src.shape} in the state "
                    f"dict but {dst.shape} in the module"
                )
            if src.dtype != dst.dtype:
                raise DTypeError(
                    f"{self.name}.load_state_dict: '{key}' has dtype {src.dtype} in the state "
                    f"dict but {dst.dtype} in the module; convert it (value.astype("
                    f"np.{dst.dtype})) or build the module with dtype={dst.dtype}"
                )
            pending.append((key, dst, src))
        for key, dst, src in pending:
            if dst is not src:
                dst[...] = src
            # In place: a graph that saved the parameter must not use the new values.
            t = tensors.get(key)
            if t is not None:
                t._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # -----------------------------------------------------------------------------------------
    # Calling
    # -----------------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses define it. ``module(...)`` calls it.

        Raises:
            NotImplementedError: the subclass does not define it.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """Extra text shown inside ``repr`` (subclasses override)."""
        return ""

    def __repr__(self) -> str:
        head = type(self).__name__
        label = "" if self.name == head else f"name={self.name!r}"
        extra = ", ".join(s for s in (label, self.extra_repr()) if s)
        if not self._modules:
            return f"{head}({extra})"
        lines = [f"{head}({extra}"]
        for key, m in self._modules.items():
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({key}): {sub}")
        return "\n".join(lines) + "\n)"


def _as_buffer(name: str, value: Any) -> Array:
    if isinstance(value, Tensor):
        value = value.data
    if not isinstance(value, np.ndarray):
        raise TypeError(f"buffer {name!r} must be a numpy array, got {type(value).__name__}")
    return value
