"""The book's ``common/optimizer.py``: its six optimizers, as the library's
(:mod:`tinygrad_fish.optim`), with the book's ``update(params, grads)``."""

from __future__ import annotations

from ..optim import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop

__all__ = ["SGD", "AdaGrad", "Adam", "Momentum", "Nesterov", "RMSprop"]
