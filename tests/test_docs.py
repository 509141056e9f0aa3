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


# ---------------------------------------------------------------- install hints name the distribution

ROOT = DOCS.parent
BARE_NAME = "minigrad" + "["          # the package index's "minigrad" is another project
TEXT_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".yml", ".sh", ".txt"}


def _project_text_files():
    for folder in ("minigrad", "docs", "examples", "benchmarks", "tests"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in TEXT_SUFFIXES and "site" not in path.parts and "__pycache__" not in path.parts:
                yield path
    yield from (ROOT / name for name in ("README.md", "pyproject.toml", "setup.cfg", "mkdocs.yml"))


def test_the_distribution_is_not_the_other_projects_minigrad():
    import tomllib

    from minigrad._extras import DISTRIBUTION, install_hint

    name = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]
    assert name == DISTRIBUTION != "minigrad"
    assert install_hint("viz") == f'pip install "{DISTRIBUTION}[viz]" (in a checkout: pip install ".[viz]")'


def test_every_install_hint_names_the_distribution_or_a_checkout():
    offenders = []
    for path in _project_text_files():
        relative = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if BARE_NAME in line:
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "these would install another project's package:\n" + "\n".join(offenders)


# ---------------------------------------------------------------- the design page, and nothing a user reads points inside

READING_PATH = ["minigrad/tensor.py", "minigrad/autograd/engine.py", "minigrad/autograd/function.py",
                "minigrad/ops/primitives.py", "minigrad/nn/", "minigrad/optim/"]
INTERNAL = re.compile(r"(?i:\bissues?\s*#?\d+)|(?<![\w/])#\d+(?![-\w])|\bDESIGN\.md")   # "issue 10", "#10", DESIGN.md
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def _read_by_users():
    """README, the guide's pages and the site's configuration."""
    return [ROOT / "README.md", ROOT / "mkdocs.yml", *sorted(DOCS.glob("*.md"))]


def test_the_design_page_walks_the_layers_in_reading_order_and_is_in_the_guide():
    text = (DOCS / "design.md").read_text(encoding="utf-8")
    path = text.split("## The reading path", 1)[1]
    positions = [path.index(f"**`{name}`**") for name in READING_PATH]
    assert positions == sorted(positions), "the reading path is tensor → engine → function → primitives → nn → optim"
    for heading in ("## The layers", "## Where the speed lives", "## What is planned"):
        assert heading in text
    for subject in ("minigrad/accel/", "tracing JIT", "MPI", "minigrad/backend/"):
        assert subject in text, subject
    assert "design.md" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", _read_by_users(), ids=lambda p: p.name)
def test_no_internal_references_where_users_read(page):
    found = [f"{page.name}:{number}: {line.strip()}"
             for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1)
             if INTERNAL.search(line)]
    assert not found, "a reader cannot follow these:\n" + "\n".join(found)


@pytest.mark.parametrize("page", _read_by_users(), ids=lambda p: p.name)
def test_every_relative_link_reaches_a_file(page):
    targets = [t for t in LINK.findall(page.read_text(encoding="utf-8")) if "://" not in t]
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert not missing, f"{page.name} links to files that do not exist: {missing}"


# ---------------------------------------------------------------- the README's test command is CI's, and says what it skipped

def test_the_readme_test_command_installs_pytorch_as_ci_does():
    quick_start = (ROOT / "README.md").read_text(encoding="utf-8").split("```bash\n", 1)[1].split("```", 1)[0]
    command = [line for line in quick_start.splitlines() if "pytest" in line]
    assert command == ['pip install ".[dev,compare,mpi]" && python -m pytest -q']
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install --quiet -e ".[dev,compare,mpi]"' in ci
    assert ci.rstrip().splitlines()[-1] == "python -m pytest -q"


def test_a_run_without_pytorch_says_how_many_tests_it_skipped_for_that():
    import subprocess
    import sys

    hide_torch = ("import sys; sys.modules['torch'] = None; import pytest; "
                  "raise SystemExit(pytest.main(['-q', '-p', 'no:cacheprovider', "
                  "'tests/nn/test_losses.py::test_losses_match_torch_when_available', 'tests/ops/test_against_torch.py']))")
    run = subprocess.run([sys.executable, "-c", hide_torch], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert '2 skipped because PyTorch is not installed: pip install ".[compare]"' in run.stdout
