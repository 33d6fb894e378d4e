"""The documentation runs: every ```python block of docs/*.md, README.md, CONTRIBUTING.md.

Each page is one test. Its blocks run in order, in one namespace (a later block may use the
names an earlier one defined), in a fresh temporary working directory. A block fenced as
```text, ```sh, ```pycon... is shown, not run.

Pages whose code calls ``load_mnist(`` need the real MNIST in ``$TINYGRAD_FISH_DATA``; pages
that render a graph to a picture (``render_graph(`` / ``render_book_graph(``) need Graphviz's
``dot``. Without them the page is skipped locally, and fails when ``CI=true``: CI must run
every page.

A last test builds the site with ``mkdocs build --strict`` (zero warnings), skipped when MkDocs
is not installed, except on CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [*sorted(DOCS.glob("*.md")), ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
ON_CI = os.environ.get("CI") == "true"

# An opening fence (``` or ~~~, optionally indented, as inside an admonition), its info string
# ("python", "python title=...", "sh"), the body, and the same fence closing it.
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)\n"
    r"(?P<body>.*?)"
    r"^(?P=indent)(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_RUN_LANGUAGES = {"python", "py"}


@dataclass(frozen=True)
class Block:
    """One runnable code block: its page, the line of its first code line, and its code."""

    page: Path
    line: int
    code: str


def python_blocks(page: Path) -> list[Block]:
    """The ```python blocks of a Markdown page, in order, dedented."""
    text = page.read_text(encoding="utf-8")
    blocks = []
    for m in _FENCE.finditer(text):
        words = m["info"].strip().split()
        if not words or words[0].lower() not in _RUN_LANGUAGES:
            continue
        indent = m["indent"]
        lines = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip()
                 for ln in m["body"].splitlines()]
        line = text.count("\n", 0, m.start("body")) + 1
        blocks.append(Block(page, line, "\n".join(lines) + "\n"))
    return blocks


def _needs(blocks: list[Block]) -> list[str]:
    code = "".join(b.code for b in blocks)
    missing = []
    if "load_mnist(" in code and not os.environ.get("TINYGRAD_FISH_DATA"):
        missing.append("MNIST ($TINYGRAD_FISH_DATA is not set: point it at a directory "
                       "holding the four MNIST files to run this page)")
    if re.search(r"render_(book_)?graph\(", code) and shutil.which("dot") is None:
        missing.append("Graphviz's dot program")
    return missing


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


RUNNABLE = [p for p in PAGES if p.exists() and python_blocks(p)]


def test_pages_are_found() -> None:
    """The collection itself works: the pages exist and most of them have code to run."""
    assert (DOCS / "index.md").exists()
    assert len(RUNNABLE) >= 5, [_page_id(p) for p in RUNNABLE]


def test_fence_parser(tmp_path: Path) -> None:
    page_text = (
        "# t\n\n```python\na = 1\n```\n\n```sh\nmake test\n```\n\n"
        "!!! note\n    ```python\n    b = a + 1\n    ```\n\n~~~text\nnot run\n~~~\n"
    )
    probe = tmp_path / "probe.md"
    probe.write_text(page_text, encoding="utf-8")
    blocks = python_blocks(probe)
    assert [b.code for b in blocks] == ["a = 1\n", "b = a + 1\n"]
    assert [b.line for b in blocks] == [4, 13]


@pytest.mark.parametrize("page", RUNNABLE, ids=_page_id)
def test_page_code_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(page)
    missing = _needs(blocks)
    if missing:
        if ON_CI:
            pytest.fail(f"{_page_id(page)} needs {' and '.join(missing)}, and CI must run it")
        pytest.skip(f"needs {' and '.join(missing)}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for block in blocks:
        # The file name and line numbers point a traceback at the page's own lines.
        source = "\n" * (block.line - 1) + block.code
        code = compile(source, f"{_page_id(page)}", "exec")
        exec(code, namespace)


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    """The site builds with zero warnings (broken links, bad docstrings, missing pages)."""
    try:
        import mkdocs  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError:
        if ON_CI:
            pytest.fail("mkdocs/mkdocstrings are not installed; CI must build the docs "
                        "(pip install -e '.[docs]')")
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
         str(tmp_path / "site"), "--config-file", str(ROOT / "mkdocs.yml")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    assert "WARNING" not in proc.stderr, proc.stderr
    assert (tmp_path / "site" / "index.html").exists()
