"""The book's ``common/optimizer.py``: its six optimizers, as the library's
(:mod:`tinygrad_fish.optim`), with the book's ``update(params, grads)``."""

from __future__ import annotations

import numpy as np

from ..optim import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop

# As the book's module, whose `import *` also gives numpy as `np` (ch06 scripts use it).
__all__ = ["SGD", "AdaGrad", "Adam", "Momentum", "Nesterov", "RMSprop", "np"]
