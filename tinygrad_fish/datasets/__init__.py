"""Data sets for the fish book: MNIST, read from IDX files without pickle.

>>> from tinygrad_fish.datasets import load_mnist
>>> (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
"""

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

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_TIMEOUT",
    "MIRRORS",
    "MNIST_FILES",
    "MNIST_SHA256",
    "MNIST_SIZES",
    "default_data_dir",
    "download_mnist",
    "load_mnist",
    "read_idx",
]
