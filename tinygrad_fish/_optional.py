"""Importing the optional dependencies, each behind an extra of the package.

``import tinygrad_fish`` needs numpy only. The rest is imported where it is used, through
:func:`import_optional`, so that a missing one says how to install it:

========================  ===========  ==================================================
module                    extra        used by
========================  ===========  ==================================================
``hypothesis``            ``testing``  :mod:`tinygrad_fish.testing`
``matplotlib``            ``cli``      ``curves.png`` (``train``, ``Trainer.save_outputs``)
``tqdm``                  ``cli``      progress bars (``train``, downloads, ``Trainer``)
``threadpoolctl``         ``cli``      ``train --threads``
``graphviz``              ``viz``      :mod:`tinygrad_fish.viz`
========================  ===========  ==================================================
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError

#: module -> (the pip distribution, the extra of tinygrad-fish that installs it)
OPTIONAL = {
    "hypothesis": ("hypothesis", "testing"),
    "matplotlib": ("matplotlib", "cli"),
    "tqdm": ("tqdm", "cli"),
    "threadpoolctl": ("threadpoolctl", "cli"),
    "graphviz": ("graphviz", "viz"),
}


def install_hint(module: str) -> str:
    """``pip install 'tinygrad-fish[EXTRA]'`` (or ``pip install DIST``) for ``module``."""
    dist, extra = OPTIONAL[module.partition(".")[0]]
    return f"pip install 'tinygrad-fish[{extra}]' (or pip install {dist})"


def import_optional(module: str, needed_for: str) -> ModuleType:
    """Import ``module`` (e.g. ``"tqdm.auto"``), an optional dependency.

    Raises:
        MissingDependencyError: (an ImportError) it is not installed; the message says what
            needs it and how to install it.
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingDependencyError(
            f"{needed_for} needs {module.partition('.')[0]}, an optional dependency that is "
            f"not installed ({e}): {install_hint(module)}"
        ) from e
