"""The documentation runs: every ```python block of docs/*.md, README.md, CONTRIBUTING.md.

Each page is one test. Its blocks run in order, in one namespace (a later block may use the
names an earlier one defined), in a fresh temporary working directory. A block fenced as
```text, ```sh, ```pycon... is shown, not run. A ```python block followed directly by a
```text title="Output" block must print exactly that text (trailing spaces aside).

Every line of a code block (python, sh, console...) is at most 80 characters, the width
the site shows without cutting it.

Pages whose code calls ``load_mnist(`` need the real MNIST in ``$TINYGRAD_FISH_DATA``; pages
that render a graph to a picture (``render_graph(`` / ``render_book_graph(``) need Graphviz's
``dot``. Without them the page is skipped locally, and fails when ``CI=true``: CI must run
every page.

A last test builds the site with ``mkdocs build --strict`` (zero warnings), skipped when MkDocs
is not installed, except on CI.
"""

from __future__ import annotations

import contextlib
import io
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
#: The info string of a block showing what the python block before it prints.
_OUTPUT_INFO = 'text title="Output"'
#: Code blocks whose lines must fit the site's code column; ```text output (e.g. the
#: benchmarks' tables, as the programs print them) may be wider and scrolls.
_CODE_LANGUAGES = {"python", "py", "pycon", "sh", "bash", "console", "shell"}
MAX_CODE_WIDTH = 80


@dataclass(frozen=True)
class Block:
    """One runnable code block: its page, the line of its first code line, and its code."""

    page: Path
    line: int
    code: str
    output: str | None = None  # what it prints: the ```text title="Output" block after it


def python_blocks(page: Path) -> list[Block]:
    """The ```python blocks of a Markdown page, in order, dedented."""
    text = page.read_text(encoding="utf-8")
    blocks = []
    fences = list(_FENCE.finditer(text))
    for i, m in enumerate(fences):
        words = m["info"].strip().split()
        if not words or words[0].lower() not in _RUN_LANGUAGES:
            continue
        indent = m["indent"]
        lines = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip()
                 for ln in m["body"].splitlines()]
        line = text.count("\n", 0, m.start("body")) + 1
        output = None
        if i + 1 < len(fences):
            after = fences[i + 1]
            if (not text[m.end():after.start()].strip()
                    and after["info"].strip() == _OUTPUT_INFO):
                output = after["body"]
        blocks.append(Block(page, line, "\n".join(lines) + "\n", output))
    return blocks


def _lines(text: str) -> list[str]:
    return [ln.rstrip() for ln in text.rstrip().splitlines()]


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
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(code, namespace)
        if block.output is not None:
            assert _lines(printed.getvalue()) == _lines(block.output), (
                f"{_page_id(page)}:{block.line}: the block prints\n{printed.getvalue()}"
                f"but the page shows\n{block.output}")


def test_output_blocks_are_found(tmp_path: Path) -> None:
    probe = tmp_path / "probe.md"
    probe.write_text('```python\nprint(1)\n```\n\n```text title="Output"\n1\n```\n\n'
                     '```python\nprint(2)\n```\nprose\n```text title="Output"\n2\n```\n',
                     encoding="utf-8")
    assert [b.output for b in python_blocks(probe)] == ["1\n", None]


@pytest.mark.parametrize("page", [p for p in PAGES if p.exists()], ids=_page_id)
def test_code_lines_fit_the_column(page: Path) -> None:
    """Wider lines are cut on the site (comments hidden): wrap them."""
    text = page.read_text(encoding="utf-8")
    wide = []
    for m in _FENCE.finditer(text):
        words = m["info"].strip().split()
        if not words or words[0].lower() not in _CODE_LANGUAGES:
            continue
        first = text.count("\n", 0, m.start("body")) + 1
        for k, ln in enumerate(m["body"].splitlines()):
            core = ln[len(m["indent"]):] if ln.startswith(m["indent"]) else ln
            if len(core) > MAX_CODE_WIDTH:
                wide.append(f"{_page_id(page)}:{first + k}: {len(core)} characters")
    assert not wide, "\n".join(wide)


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
    # use_directory_urls: false, so that the site opened from disk (file://) works: the
    # navigation links name .html files, not directories.
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'class="md-nav__link[^"]*"[^>]*href="([^"#]+)"|'
                       r'href="([^"#]+)"[^>]*class="md-nav__link', index)
    hrefs = {a or b for a, b in links} - {"."}
    assert "tutorial.html" in hrefs and "dtypes.html" in hrefs, sorted(hrefs)
    assert all(h.endswith(".html") for h in hrefs), sorted(hrefs)
    assert (tmp_path / "site" / "tutorial.html").exists()
