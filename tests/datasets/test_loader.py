"""DataLoader, Dataset, ArrayDataset: each sample once per epoch, drop_last, seeds, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tinygrad_fish.datasets import ArrayDataset, DataLoader, Dataset
from tinygrad_fish.errors import IndexingError, InvalidArgumentError, ShapeError


def _data(n: int = 10) -> ArrayDataset:
    return ArrayDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n) * 10)


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 11])
@pytest.mark.parametrize("shuffle", [True, False])
def test_every_sample_once_per_epoch(batch_size: int, shuffle: bool) -> None:
    loader = DataLoader(_data(), batch_size=batch_size, shuffle=shuffle, generator=0)
    assert len(loader) == -(-10 // batch_size)
    for _ in range(3):
        batches = list(loader)
        assert len(batches) == len(loader)
        assert all(len(x) == len(t) == batch_size for x, t in batches[:-1])
        t = np.concatenate([t for _, t in batches])
        x = np.concatenate([x for x, _ in batches])
        assert sorted(t.tolist()) == list(range(0, 100, 10))
        np.testing.assert_array_equal(x[:, 0], t / 5)  # each x stays with its t
        assert x.dtype == np.float32 and x.shape == (10, 2)
        if not shuffle:
            assert t.tolist() == list(range(0, 100, 10))


def test_drop_last() -> None:
    loader = DataLoader(_data(), batch_size=4, drop_last=True, generator=1)
    assert len(loader) == 2
    batches = list(loader)
    assert [len(t) for _, t in batches] == [4, 4]
    assert len(set(np.concatenate([t for _, t in batches]).tolist())) == 8
    assert list(DataLoader(_data(3), batch_size=4, drop_last=True)) == []
    assert len(DataLoader(_data(3), batch_size=4, drop_last=True)) == 0


def test_seeded_order_is_reproducible_and_changes_every_epoch() -> None:
    def epochs(seed: Any) -> list[list[int]]:
        loader = DataLoader(_data(), batch_size=10, generator=seed)
        return [next(iter(loader))[1].tolist() for _ in range(3)]  # type: ignore[union-attr]

    a, b = epochs(7), epochs(np.random.default_rng(7))
    assert a == b == epochs(7)
    assert a[0] != a[1] != a[2]  # a new order each epoch
    assert epochs(8) != a
    # the order is the generator's permutation, epoch after epoch
    rng = np.random.default_rng(7)
    assert a == [(rng.permutation(10) * 10).tolist() for _ in range(3)]


def test_a_generic_dataset_with_transforms_and_no_labels() -> None:
    class Squares(Dataset):
        def prepare(self) -> None:
            self.data = np.arange(5.0)

    ds = Squares(transform=lambda x: np.array([x, x * x]))
    assert len(ds) == 5 and ds.label is None
    np.testing.assert_array_equal(ds[2][0], [2.0, 4.0])
    assert ds[-1][1] is None
    x, t = next(iter(DataLoader(ds, batch_size=5, shuffle=False)))
    assert t is None
    np.testing.assert_array_equal(x, [[0, 0], [1, 1], [2, 4], [3, 9], [4, 16]])


def test_array_dataset_transforms_go_through_getitem() -> None:
    ds = ArrayDataset(np.ones((4, 3)), np.arange(4), transform=lambda x: x * 2,
                      target_transform=lambda t: t + 100)
    x, t = next(iter(DataLoader(ds, batch_size=4, shuffle=False)))
    np.testing.assert_array_equal(x, np.full((4, 3), 2.0))
    assert t is not None and t.tolist() == [100, 101, 102, 103]


def test_pytorch_style_dataset_without_prepare() -> None:
    class Pairs:
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: int) -> tuple[list[int], int]:
            return [i, i], i % 2

    x, t = next(iter(DataLoader(Pairs(), batch_size=3, shuffle=False)))
    assert x.tolist() == [[0, 0], [1, 1], [2, 2]] and t is not None and t.tolist() == [0, 1, 0]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: DataLoader(_data(), batch_size=0), InvalidArgumentError,
         "DataLoader: batch_size must be >= 1, got 0"),
        (lambda: DataLoader(_data(), batch_size=2.5), TypeError,
         "DataLoader: batch_size must be an int, got 2.5"),
        (lambda: DataLoader(np.float64(1.0), batch_size=1), TypeError,
         "DataLoader: the dataset must have __len__ and __getitem__"),
        (lambda: DataLoader(_data(), generator="0"), TypeError,
         "DataLoader: generator must be a seed"),
        (lambda: DataLoader(_data(), generator=-1), InvalidArgumentError,
         "DataLoader: the seed must be >= 0, got -1"),
        (lambda: ArrayDataset(np.zeros((3, 2)), np.zeros(4)), ShapeError,
         r"ArrayDataset: x has 3 samples \(shape \(3, 2\)\) but t has shape \(4,\)"),
        (lambda: ArrayDataset(np.float64(1.0)), ShapeError, "must have a first"),
        (lambda: ArrayDataset(np.zeros(2), transform=3), TypeError,
         "ArrayDataset: transform must be a function or None, got int"),
        (lambda: _data()[10], IndexingError, r"ArrayDataset\[10\]: index out of range for 10"),
        (lambda: _data()[1:3], TypeError, "the index must be an integer"),
        (lambda: len(Dataset()), NotImplementedError, "set self.data in prepare"),
    ],
)
def test_errors(make: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def test_repr() -> None:
    loader = DataLoader(_data(), batch_size=4)
    assert repr(loader) == "DataLoader(ArrayDataset of 10, batch_size=4, shuffle=True, " \
                           "drop_last=False)"


def test_load_mnist_arrays_through_array_dataset() -> None:
    from support import mnist_root

    from tinygrad_fish.datasets import load_mnist

    (_, _), (x_test, t_test) = load_mnist(root=mnist_root(), download=False)
    loader = DataLoader(ArrayDataset(x_test, t_test), batch_size=100, generator=0)
    assert len(loader) == 100
    seen = np.zeros(10, np.int64)
    for x, t in loader:
        assert x.shape == (100, 784) and x.dtype == np.float32 and t.dtype == np.uint8
        seen += np.bincount(t, minlength=10)
    np.testing.assert_array_equal(seen, np.bincount(t_test))
