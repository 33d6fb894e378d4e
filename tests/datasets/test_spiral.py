"""The spiral toy set: its geometry from the description, seeded, and as a Dataset."""

from __future__ import annotations

import numpy as np

from tinygrad_fish.datasets import DataLoader, Spiral, get_spiral


def test_shape_classes_and_determinism() -> None:
    x, t = get_spiral(train=True)
    assert x.shape == (300, 2) and x.dtype == np.float32
    assert t.shape == (300,) and t.dtype == np.int64
    assert np.bincount(t).tolist() == [100, 100, 100]
    x2, t2 = get_spiral(train=True)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(t, t2)
    xt, _ = get_spiral(train=False)
    assert not np.array_equal(np.sort(x, axis=0), np.sort(xt, axis=0))
    assert t[:20].tolist() != sorted(t[:20].tolist())  # shuffled


def test_points_lie_on_the_described_arms() -> None:
    """Radius i / 100 for the i-th point of each class (0 to 0.99), and the angle
    4 j + 4 r plus noise of standard deviation 0.2."""
    x, t = get_spiral()
    r = np.hypot(x[:, 0], x[:, 1]).astype(np.float64)
    for j in range(3):
        radii = np.sort(r[t == j])
        np.testing.assert_allclose(radii, np.arange(100) / 100, atol=1e-6)
        keep = r[t == j] > 0.05
        theta = np.arctan2(x[t == j, 0], x[t == j, 1])[keep]
        expected = 4.0 * j + 4.0 * r[t == j][keep]
        noise = np.angle(np.exp(1j * (theta - expected)))  # wrapped to (-pi, pi]
        assert abs(noise.mean()) < 0.06 and 0.15 < noise.std() < 0.25


def test_spiral_dataset_and_loader() -> None:
    ds = Spiral(train=False)
    assert len(ds) == 300 and repr(ds) == "Spiral(train=False)"
    x, t = get_spiral(train=False)
    xi, ti = ds[5]
    np.testing.assert_array_equal(xi, x[5])
    assert ti == t[5]
    batches = list(DataLoader(ds, batch_size=30, generator=0))
    assert len(batches) == 10 and all(b[0].shape == (30, 2) for b in batches)
