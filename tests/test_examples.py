"""Every example runs to the end (in its quick mode where it has one), so none can rot."""

import os
import pathlib
import subprocess
import sys

import pytest

from tests.conftest import DEFAULT_DEVICE

pytestmark = pytest.mark.skipif(DEFAULT_DEVICE != "cpu",
                                reason="examples run on the CPU in a subprocess: the plain pass runs them")

EXAMPLES = sorted((pathlib.Path(__file__).parent.parent / "examples").glob("[0-9][0-9]_*.py"))
# Fast enough to run in full, where their own assertions check the outcome
# (02: η too high diverges; 03: the MLP fits the spiral to >= 95%; 09: Newton converges).
FULL = {"02_linear_regression_lr", "03_mlp_spiral", "09_newton_hvp"}


def test_the_examples_are_numbered_and_documented():
    assert len(EXAMPLES) >= 11
    for path in EXAMPLES:
        text = path.read_text(encoding="utf-8")
        assert text.startswith('"""') and "Run: python examples/" in text, path.name


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(path, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), MPLBACKEND="Agg")
    flags = [] if path.stem in FULL else ["--quick", "--plot"]
    result = subprocess.run([sys.executable, str(path), *flags], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout.strip(), "an example should say what it did"
    stray = [p.name for p in tmp_path.iterdir() if p.name != "runs"]
    assert not stray, f"{path.name} wrote outside runs/ (which .gitignore covers): {stray}"
