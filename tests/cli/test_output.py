"""What the commands print and draw where the viz extra is missing, and into logs.

Without matplotlib (a plain ``pip install .``) every command that draws says so
in one note before any work and does everything else; with stderr redirected
to a file the progress is the plain per-epoch lines, never a bar's updates.
"""

import os
import subprocess
import sys

import pytest

from minigrad.cli import main

QUICK = ["--samples", "120", "--hidden", "8"]
COMMANDS = {
    "train": ["train", "--epochs", "2", *QUICK],
    "compare": ["compare", "--optimizers", "sgd", "--epochs", "1", *QUICK],
    "lr-find": ["lr-find", "--steps", "5", *QUICK],
    "sweep": ["sweep", "--optimizers", "sgd", "--lrs", "0.1", "--seeds", "0", "--epochs", "1", "--workers", "1", *QUICK],
    "trajectories": ["trajectories", "--steps", "3", "--surfaces", "quadratic", "--optimizers", "sgd"],
}
# A plain install: the viz extra's packages cannot be imported.
WITHOUT_VIZ = ("import sys\n"
               "for name in ('matplotlib', 'tqdm', 'graphviz'):\n"
               "    sys.modules[name] = None\n"
               "from minigrad.cli import main\n"
               "sys.exit(main(sys.argv[1:]))\n")


@pytest.mark.parametrize("command", COMMANDS)
def test_without_matplotlib_a_command_says_so_first_and_does_the_rest(command, tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-c", WITHOUT_VIZ, *COMMANDS[command], "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    err = done.stderr.strip().splitlines()
    assert err and err[0].startswith("minigrad: note:") and "matplotlib" in err[0] and "[viz]" in err[0], err
    assert sum("matplotlib" in line for line in err) == 1 and "Traceback" not in done.stderr
    assert not [p for p in out.rglob("*.png")]


def test_progress_into_a_file_is_plain_lines_not_a_bar(tmp_path, capsys):
    pytest.importorskip("tqdm")
    assert main(["train", "--epochs", "20", *QUICK, "--no-plots", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "\x1b" not in err
    lines = [line for line in err.splitlines() if line.startswith("train: epoch")]
    assert 2 <= len(lines) <= 11 and lines[-1].startswith("train: epoch 20/20")
