"""Data sets for the fish book: MNIST, read from IDX files without pickle; DeZero's
:class:`Dataset`, :class:`ArrayDataset`, :class:`Spiral` and :class:`DataLoader`.

The files are read from ``$TINYGRAD_FISH_DATA`` if set, else downloaded once (11 MB,
checksummed) into ``~/.cache/tinygrad_fish/mnist``; this example is not run by the
doctests, which must not touch the network:

>>> from tinygrad_fish.datasets import load_mnist
>>> (x_train, t_train), (x_test, t_test) = load_mnist(  # doctest: +SKIP
...     normalize=True, one_hot_label=True)
>>> x_train.shape, t_train.shape  # doctest: +SKIP
((60000, 784), (60000, 10))
"""

from tinygrad_fish.datasets.base import ArrayDataset, Dataset
from tinygrad_fish.datasets.loader import DataLoader
from tinygrad_fish.datasets.mnist import (
    DEFAULT_DEADLINE,
    DEFAULT_TIMEOUT,
    MIRRORS,
    MNIST_FILES,
    MNIST_SHA256,
    MNIST_SIZES,
    default_data_dir,
    download_mnist,
    load_mnist,
    read_idx,
)
from tinygrad_fish.datasets.spiral import Spiral, get_spiral

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_TIMEOUT",
    "MIRRORS",
    "MNIST_FILES",
    "MNIST_SHA256",
    "MNIST_SIZES",
    "ArrayDataset",
    "DataLoader",
    "Dataset",
    "Spiral",
    "default_data_dir",
    "download_mnist",
    "get_spiral",
    "load_mnist",
    "read_idx",
]
