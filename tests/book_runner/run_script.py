"""Run one of the fish book's scripts as ``__main__``, for tests/test_book_scripts.py.

``python run_script.py SCRIPT [SEED]``: seeds ``np.random`` (the book's scripts draw their
weights and batches from it), makes matplotlib draw nowhere and print a digest of every
array it is asked to plot (so that figures are compared as numbers too), keeps PIL from
opening a viewer, and runs the script from its own directory as the book's instructions do.
"""

from __future__ import annotations

import hashlib
import os
import runpy
import sys

import numpy as np


def _digest(value: object) -> str:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return type(value).__name__
    return f"{arr.shape}:{hashlib.sha1(np.ascontiguousarray(arr).tobytes()).hexdigest()[:16]}"


def _patch_plotting() -> None:
    os.environ["MPLBACKEND"] = "Agg"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def recorder(name: str, original: object) -> object:
        def record(*args: object, **kwargs: object) -> object:
            arrays = [_digest(a) for a in args if not isinstance(a, str)]
            print(f"[plot] {name} {' '.join(arrays)}", flush=True)
            return original(*args, **kwargs)  # type: ignore[operator]

        return record

    from matplotlib.axes import Axes

    # pyplot's functions call these Axes methods: one record per drawing either way
    for name in ("plot", "scatter", "hist", "imshow", "bar", "contour", "quiver"):
        setattr(Axes, name, recorder(name, getattr(Axes, name)))
    plt.show = lambda *a, **k: None
    try:
        from PIL import Image

        Image.Image.show = lambda *a, **k: None  # type: ignore[method-assign]
    except ImportError:
        pass


def main() -> None:
    script = os.path.abspath(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    _patch_plotting()
    np.random.seed(seed)
    os.chdir(os.path.dirname(script))
    sys.path.insert(0, os.path.dirname(script))
    sys.argv = [script]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
