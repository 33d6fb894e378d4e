"""``python -m tinygrad_fish``: runs the ``tinygrad-fish`` command line (:mod:`.cli`)."""

from __future__ import annotations

from tinygrad_fish.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
