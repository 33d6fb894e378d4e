"""The restricted unpickler: the book's weight files load; a pickle that would run code is
refused before anything runs."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from support import book_root

from tinygrad_fish.pickles import load_pickle
from tinygrad_fish.serialization import ModelFileError


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # what a hostile pickle does: call os.system at load time
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"W1": np.ones(2), "b1": _RunsCode(marker)}))
    with pytest.raises(ModelFileError, match=r"asks for posix\.system.*refused \(unpickling "
                                             r"it could run arbitrary code\)"):
        load_pickle(path)
    assert not marker.exists()
    pickle.loads(path.read_bytes())  # the control: plain pickle does run it
    assert marker.exists()


@pytest.mark.parametrize(("obj", "message"), [
    ({"W": eval}, r"asks for builtins\.eval"),
    ([np.ones(2)], r"holds a list, not a dict of arrays"),
    ({"W": np.array(["a", "b"])}, r"maps 'W' to a ndarray of dtype <U1; only names to "
                                  r"numeric arrays"),
    ({1: np.ones(2)}, r"maps 1 to a ndarray"),
    ({"W": np.array([1, None], dtype=object)}, r"dtype object|not part of a dict"),
])
def test_pickles_of_anything_but_named_numeric_arrays_are_refused(tmp_path, obj, message):
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(obj))
    with pytest.raises(ModelFileError, match=message):
        load_pickle(path)


def test_a_corrupt_or_missing_file_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps({"W": np.ones(100)})[:50])
    with pytest.raises(ModelFileError, match=r"is not a readable pickle of arrays"):
        load_pickle(path)
    with pytest.raises(ModelFileError, match=r"cannot read"):
        load_pickle(tmp_path / "missing.pkl")


@pytest.mark.parametrize("name", ["ch03/sample_weight.pkl", "ch07/params.pkl",
                                  "ch08/deep_convnet_params.pkl"])
def test_the_books_pickles_load_as_plain_pickle_loads_them(name):
    path = book_root() / name
    got = load_pickle(path)
    with open(path, "rb") as f:
        want = pickle.load(f)  # the book's own files: trusted, for the comparison only
    assert list(got) == list(want)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key])
        assert got[key].dtype == want[key].dtype
