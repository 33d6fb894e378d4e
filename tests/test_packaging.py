"""The wheel: numpy its only requirement, the rest behind extras, the MIT LICENSE inside.

Building needs hatchling (the build backend, in the ``dev`` extra): without it in this
interpreter, the test skips unless ``TINYGRAD_FISH_PYPI_TESTS=1`` (which .ci/run sets), when
pip fetches it into an isolated build environment. Installing the wheel without extras into
a fresh venv (from PyPI) runs only with ``TINYGRAD_FISH_PYPI_TESTS=1``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPI = os.environ.get("TINYGRAD_FISH_PYPI_TESTS") == "1"
EXTRAS = {
    "cli": {"matplotlib>=3.7", "tqdm>=4.60", "threadpoolctl>=3"},
    "viz": {"graphviz>=0.20"},
    "testing": {"hypothesis>=6.100"},
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    have_hatchling = importlib.util.find_spec("hatchling") is not None
    if not have_hatchling and not PYPI:
        pytest.skip("building the wheel needs hatchling (pip install -e '.[dev]'), or "
                    "TINYGRAD_FISH_PYPI_TESTS=1 to let pip fetch it from PyPI")
    out = tmp_path_factory.mktemp("wheel")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir",
           str(out), str(REPO)]
    if have_hatchling:
        cmd.insert(5, "--no-build-isolation")
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    (path,) = out.glob("tinygrad_fish-*.whl")
    return path


def in_extra(requires: list[str], extra: str) -> set[str]:
    """The requirements of ``extra`` (``name>=v; extra == "cli"``, either quotes)."""
    tails = (f'extra=="{extra}"', f"extra=='{extra}'")
    return {r.split(";")[0].strip() for r in requires if r.replace(" ", "").endswith(tails)}


@pytest.mark.slow
def test_wheel_metadata_and_license(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(zf.read(meta_name).decode())
        licenses = [n for n in names if n.endswith("LICENSE") and ".dist-info/" in n]
        assert licenses, names
        text = zf.read(licenses[0]).decode()
    assert text.startswith("MIT License") and "tinygrad_fish contributors" in text
    requires = meta.get_all("Requires-Dist")
    core = {r for r in requires if "extra ==" not in r}
    assert core == {"numpy>=2"}
    for extra, deps in EXTRAS.items():
        assert in_extra(requires, extra) == deps, (extra, requires)
    dev = in_extra(requires, "dev")
    assert set().union(*EXTRAS.values()) <= dev
    classifiers = meta.get_all("Classifier")
    assert "License :: OSI Approved :: MIT License" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert meta["License"] == "MIT" or meta["License-Expression"] == "MIT"


@pytest.mark.slow
@pytest.mark.skipif(not PYPI, reason="installs numpy from PyPI into a new venv: set "
                    "TINYGRAD_FISH_PYPI_TESTS=1 to run it")
def test_the_wheel_without_extras_imports_with_numpy_only(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], check=True,
                   capture_output=True, timeout=600)
    freeze = subprocess.run([str(py), "-m", "pip", "freeze"], check=True, text=True,
                            capture_output=True).stdout
    names = sorted(line.split("==")[0].split(" @ ")[0].lower() for line in freeze.splitlines())
    assert names == ["numpy", "tinygrad_fish"], names
    code = (
        "import tinygrad_fish as tf\n"
        "x = tf.Tensor([1.0, 2.0], requires_grad=True)\n"
        "(x * x).sum().backward()\n"
        "print(x.grad.tolist())\n"
        "try:\n"
        "    import tinygrad_fish.testing\n"
        "except tf.errors.MissingDependencyError as e:\n"
        "    print(e)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(py), "-c", code], check=True, text=True, capture_output=True,
                         cwd=tmp_path, env=env).stdout.splitlines()
    assert out[0] == "[2.0, 4.0]"
    assert out[1].endswith("pip install 'tinygrad-fish[testing]' (or pip install hypothesis)")
