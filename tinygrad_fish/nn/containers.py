"""Containers: PyTorch's ``nn.Sequential`` and DeZero's ``MLP`` builder."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

import numpy as np

from ..ops import relu
from ..tensor import Tensor
from .linear import Linear
from .module import Module

__all__ = ["MLP", "Sequential"]


class Sequential(Module):
    """Modules applied one after another, PyTorch's ``nn.Sequential``.

    The modules are registered as ``"0"``, ``"1"``, ..., so the state dict names are
    ``"0.weight"``, ``"0.bias"``, ``"2.weight"``, ... as PyTorch's.

    Args:
        modules: the layers, in order.

    Shapes: whatever the first module takes -> whatever the last one gives.

    Raises:
        TypeError: an argument is not a Module.

    >>> import numpy as np
    >>> from tinygrad_fish.nn import Linear, Relu
    >>> net = Sequential(Linear(3, 4), Relu(), Linear(4, 2))
    >>> len(net), net(np.ones((5, 3))).shape, list(net.state_dict())[:2]
    (3, (5, 2), ['0.weight', '0.bias'])
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(
                    f"Sequential: argument {i} is not a Module, got {type(m).__name__}")
            self.add_module(str(i), m)

    def forward(self, x: Any) -> Any:
        """Each module's output is the next one's input."""
        for m in self._modules.values():
            x = m(x)
        return x

    @overload
    def __getitem__(self, index: int) -> Module: ...
    @overload
    def __getitem__(self, index: slice) -> Sequential: ...

    def __getitem__(self, index: int | slice) -> Module | Sequential:
        """``net[i]``: the i-th module (negative counts from the end); ``net[a:b]``: a
        Sequential of those modules (the same objects).

        Raises:
            IndexError: ``i`` out of range.
        """
        mods = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*mods[index])
        n = len(mods)
        if not -n <= index < n:
            raise IndexError(f"Sequential: index {index} out of range for {n} modules")
        return mods[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end (named by its position); returns ``self``."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: expected a Module, got {type(module).__name__}")
        self.add_module(str(len(self._modules)), module)
        return self


class MLP(Module):
    """DeZero's ``MLP``: lazy :class:`Linear` layers of the given output sizes, with
    ``activation`` between them (not after the last).

    ``MLP((10, 1))`` is ``Linear(10) -> activation -> Linear(1)``; the input size is taken
    from the first call. The layers are registered as ``l0``, ``l1``, ... (DeZero's names),
    so the state dict has ``"l0.weight"``, ``"l0.bias"``, ...

    Differences from DeZero that change numbers: the default activation is ReLU here
    (DeZero's is sigmoid: pass ``activation=tinygrad_fish.ops.sigmoid``), and the layers
    are initialized as PyTorch's Linear (see :class:`Linear`).

    Args:
        fc_output_sizes: the output size of each layer (at least one).
        activation: a function of a Tensor (default ``relu``).
        rng: a numpy Generator for the initial values.

    Shapes: (N, D) -> (N, fc_output_sizes[-1]).

    Raises:
        ValueError: no sizes, or a size is not a positive int.
    """

    def __init__(
        self,
        fc_output_sizes: Sequence[int],
        activation: Callable[[Tensor], Tensor] = relu,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        sizes = list(fc_output_sizes)
        if not sizes:
            raise ValueError("MLP: fc_output_sizes must name at least one layer, got none")
        self.activation = activation
        self.layers = [Linear(s, rng=rng) for s in sizes]
        for i, layer in enumerate(self.layers):
            self.add_module(f"l{i}", layer)

    def forward(self, x: Any) -> Tensor:
        """The layers with the activation between them: (N, D) -> (N, last size)."""
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        out: Tensor = self.layers[-1](x)
        return out
