"""Hypothesis profiles: "ci" (deterministic, enough examples to matter) and "dev" (quick).

CI (env CI=true) uses "ci"; pick one by hand with HYPOTHESIS_PROFILE=ci|dev.
Real MNIST comes from $TINYGRAD_FISH_DATA, defaulting to ../shared/mnist when present.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

# Tests read real MNIST from the shared folder beside the checkout (CI sets the variable too);
# no test may reach for the internet mirrors.
_shared = Path(__file__).resolve().parents[2] / "shared" / "mnist"
if "TINYGRAD_FISH_DATA" not in os.environ and _shared.is_dir():
    os.environ["TINYGRAD_FISH_DATA"] = str(_shared)

# One BLAS thread: the tests' products are small, and two xdist workers on two cores, each
# spinning several OpenBLAS threads, make them many times slower (and float32 sums differ
# with the thread count, which the bit-for-bit tests compare).
try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl comes with the dev extra
    pass
else:
    threadpool_limits(limits=1, user_api="blas")

settings.register_profile(
    "ci",
    max_examples=150,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "dev")
)
