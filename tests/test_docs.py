"""Every Python code block in docs/ and the README runs (the blocks of one page share a namespace, in order)."""

import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).parent.parent / "docs"
PAGES = sorted(p for p in [*DOCS.glob("*.md"), DOCS.parent / "README.md"] if "```python" in p.read_text(encoding="utf-8"))
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def test_the_guide_has_runnable_code():
    assert len(PAGES) >= 6


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_code_blocks_run(page, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(BLOCK.findall(page.read_text(encoding="utf-8")), start=1):
        try:
            exec(compile(block, f"{page.name}[block {number}]", "exec"), namespace)
        except Exception as exc:  # report which block failed
            pytest.fail(f"{page.name}, code block {number} raised {type(exc).__name__}: {exc}")
    assert capsys.readouterr().out.strip(), "a page's code should print what it shows"
