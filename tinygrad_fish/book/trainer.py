"""The book's ``common/trainer.py``: :class:`Trainer`, the library's training loop
(:class:`tinygrad_fish.trainer.Trainer`), with the book's arguments and prints."""

from __future__ import annotations

from ..trainer import Trainer

__all__ = ["Trainer"]
