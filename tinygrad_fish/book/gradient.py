"""The book's ``common/gradient.py``: the central-difference ``numerical_gradient``.

It is the library's :func:`tinygrad_fish.numerical_gradient` (the book's algorithm: each
element perturbed in place by ``h = 1e-4``, restored afterwards, even on Ctrl-C).
"""

from __future__ import annotations

from ..numerical import numerical_gradient

__all__ = ["numerical_gradient"]
