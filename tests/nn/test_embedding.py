"""Embedding: lookup, exact accumulated gradients for repeated ids, errors."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_fish.errors import DTypeError, IndexingError
from tinygrad_fish.nn import Embedding
from tinygrad_fish.numerical import gradcheck


def test_embedding_picks_rows() -> None:
    emb = Embedding(5, 3, rng=np.random.default_rng(0))
    ids = np.array([[4, 0], [2, 2]])
    out = emb(ids)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.data, emb.weight.data[ids])
    assert emb.weight.shape == (5, 3)
    assert [n for n, _ in emb.named_parameters()] == ["weight"]


def test_embedding_gradient_adds_up_for_repeated_indices_exactly() -> None:
    emb = Embedding(4, 2, rng=np.random.default_rng(0))
    ids = np.array([1, 3, 1, 1])
    g = np.array([[1.0, 2.0], [3.0, 4.0], [0.5, 0.25], [8.0, 16.0]])
    (emb(ids) * g).sum().backward()
    expected = np.zeros((4, 2))
    expected[1] = [1.0 + 0.5 + 8.0, 2.0 + 0.25 + 16.0]
    expected[3] = [3.0, 4.0]
    assert emb.weight.grad is not None
    np.testing.assert_array_equal(emb.weight.grad, expected)


def test_embedding_gradient_matches_central_differences() -> None:
    emb = Embedding(6, 3, rng=np.random.default_rng(1))
    ids = np.array([[0, 5, 0], [2, 0, 5]])
    assert gradcheck(lambda w: emb(ids) ** 2, [emb.weight])


def test_embedding_refuses_bad_indices() -> None:
    emb = Embedding(3, 2)
    with pytest.raises(IndexingError, match="Embedding: index 3 is out of range for 3 embeddings"):
        emb([0, 3])
    with pytest.raises(IndexingError, match="index -1 is out of range"):
        emb([-1])
    with pytest.raises(DTypeError, match="Embedding: indices must be integers, got dtype float64"):
        emb(np.array([0.0, 1.0]))
