"""The exceptions tinygrad_fish raises.

Every error the library raises on purpose derives from :class:`TinygradFishError`, and also
from the built-in exception a Python or numpy user would expect (``ValueError`` for a bad
shape, ``TypeError`` for a bad dtype, ``RuntimeError`` for a misuse of the graph), so both
``except TinygradFishError`` and ``except ValueError`` work.
"""

from __future__ import annotations

__all__ = [
    "AnomalyError",
    "DTypeError",
    "DataDirectoryError",
    "DataNotFoundError",
    "DatasetError",
    "DownloadError",
    "GradcheckError",
    "GraphError",
    "IndexingError",
    "InvalidArgumentError",
    "MissingDependencyError",
    "NotDifferentiableError",
    "ShapeError",
    "TinygradFishError",
]


class TinygradFishError(Exception):
    """Base class of every error tinygrad_fish raises on purpose."""


class ShapeError(TinygradFishError, ValueError):
    """Shapes that do not fit an op; the message names the op and the shapes."""


class DTypeError(TinygradFishError, TypeError):
    """A dtype an op or autograd cannot use; the message names the dtype and what is allowed."""


class GraphError(TinygradFishError, RuntimeError):
    """A misuse of the computational graph: backward through a freed graph, backward of a
    non-scalar without a gradient, and the like. The message says how to fix it."""


class DatasetError(TinygradFishError, OSError):
    """A data set file that is missing, malformed, fails its checksum, or cannot be fetched."""


class DataNotFoundError(DatasetError):
    """A data set file is missing (or corrupted) and downloading is off (``download=False``,
    the command line's ``--no-download``).

    Attributes:
        problem: what is wrong, without the advice (e.g. ``"t10k-images-idx3-ubyte (or
            t10k-images-idx3-ubyte.gz) not found in /data"``).
    """

    problem: str = ""


class DataDirectoryError(DatasetError):
    """The data directory named by ``$TINYGRAD_FISH_DATA`` or ``root=`` is not a directory.
    Only the default cache directory is ever created, never one that may be mistyped.

    Attributes:
        path: the directory named.
        source: ``"TINYGRAD_FISH_DATA"`` (the environment variable) or ``"root"`` (the
            argument; the command line's ``--data``).
    """

    path: str = ""
    source: str = ""


class DownloadError(DatasetError):
    """A data set file could not be downloaded: every mirror failed (the message lists
    each and why); offline, point ``$TINYGRAD_FISH_DATA`` at a copy instead."""


class GradcheckError(TinygradFishError, AssertionError):
    """Backprop and central differences disagree.

    Attributes:
        input_index: which input (its position, and name if it has one).
        index: the element where they differ most.
        analytic: the gradient backprop computed there.
        numerical: the central-difference gradient there.
    """

    def __init__(
        self,
        message: str,
        *,
        input_index: str = "",
        index: tuple[int, ...] = (),
        analytic: float = float("nan"),
        numerical: float = float("nan"),
    ) -> None:
        super().__init__(message)
        self.input_index = input_index
        self.index = index
        self.analytic = analytic
        self.numerical = numerical


class AnomalyError(TinygradFishError, FloatingPointError):
    """Inside :func:`~tinygrad_fish.detect_anomaly`: an op produced NaN or inf, forward or
    backward; the message names the op and where in your code it was created."""


class IndexingError(TinygradFishError, IndexError):
    """An index that does not fit the tensor (out of range, too many, not an integer)."""


class InvalidArgumentError(TinygradFishError, ValueError):
    """An argument value an op cannot use (other than a shape or a dtype); the message says
    which and why."""


class NotDifferentiableError(TinygradFishError, TypeError):
    """A numpy function (or a ufunc option such as ``out=``) that tinygrad_fish cannot
    differentiate, called with a Tensor that requires grad: its result would silently leave
    the graph, so it is refused. The message names the function and the ways out."""


class MissingDependencyError(TinygradFishError, ImportError):
    """An optional dependency is not installed (the core needs numpy only); the message
    names what needs it and the pip command that installs it, e.g.
    ``pip install 'tinygrad-fish[testing]'``."""
