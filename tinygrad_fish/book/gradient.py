"""The book's ``common/gradient.py``: the central-difference ``numerical_gradient``.

It is the library's :func:`tinygrad_fish.numerical_gradient` (the book's algorithm: each
element perturbed in place by ``h = 1e-4``, restored afterwards, even on Ctrl-C).
"""

from __future__ import annotations

import numpy as np

from ..numerical import numerical_gradient

# As the book's module, whose `import *` also gives numpy as `np` (ch06 scripts use it).
__all__ = ["np", "numerical_gradient"]
