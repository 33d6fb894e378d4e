"""Hypothesis profiles: "ci" (deterministic, enough examples to matter) and "dev" (quick).

CI (env CI=true) uses "ci"; pick one by hand with HYPOTHESIS_PROFILE=ci|dev.
Real MNIST comes from $TINYGRAD_FISH_DATA, defaulting to ../shared/mnist when present.
"""

from __future__ import annotations

import os
from pathlib import Path

import network_guard
import numpy  # noqa: F401  (loads the BLAS library that threadpoolctl limits below)
import pytest
from hypothesis import HealthCheck, settings

# No test may touch the network (see tests/network_guard.py): other hosts are refused.
network_guard.install()


@pytest.fixture(autouse=True)
def _no_network():
    """Fail a test that tried to reach another machine, even if the code caught the error."""
    network_guard.ATTEMPTS.clear()
    yield
    tried, network_guard.ATTEMPTS[:] = list(network_guard.ATTEMPTS), []
    if tried:
        pytest.fail(f"the test tried to use the network: {'; '.join(tried)}", pytrace=False)


# Tests read real MNIST from the shared folder beside the checkout (CI sets the variable too);
# no test may reach for the internet mirrors.
_shared = Path(__file__).resolve().parents[2] / "shared" / "mnist"
if "TINYGRAD_FISH_DATA" not in os.environ and _shared.is_dir():
    os.environ["TINYGRAD_FISH_DATA"] = str(_shared)

# One BLAS thread: the tests' products are small, and two xdist workers on two cores, each
# spinning several OpenBLAS threads, make them many times slower. (`train` sets its own
# thread count, --threads, so its results do not depend on this.) threadpoolctl limits only
# the libraries already loaded: numpy, which loads OpenBLAS, must be imported first, or the
# limit is silently a no-op.
try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl is a dependency of the package
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
