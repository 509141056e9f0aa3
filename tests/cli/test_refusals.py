"""Misuse found by probing: one line on stderr, exit status 2, and nothing written.

--tensorboard into a file or an unwritable place (checked before training),
--resume from a checkpoint whose run cannot be rebuilt, a --samples that cannot
fit in memory (refused before allocating), and an lr-find range whose ratio
overflows.
"""

import os

import pytest

import minigrad as mg
from minigrad.cli import main

QUICK = ["--samples", "120", "--hidden", "8", "--epochs", "1", "--no-plots"]


def _one_line(capsys, *words):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minigrad: error:"), err
    for word in words:
        assert word in err[0], err[0]
    return err[0]


@pytest.mark.parametrize("where", ["a file", "below a file", "not writable"])
@pytest.mark.parametrize("command", ["train", "compare"])
def test_tensorboard_into_a_place_that_cannot_hold_a_folder_is_refused_before_training(where, command, tmp_path,
                                                                                     capsys):
    pytest.importorskip("tensorboardX")
    blocker = tmp_path / "file"
    blocker.write_text("")
    folder = {"a file": blocker, "below a file": blocker / "tb", "not writable": "/proc/minigrad-tb"}[where]
    extra = ["--optimizers", "sgd"] if command == "compare" else []
    out = tmp_path / "out"
    assert main([command, *QUICK, *extra, "--tensorboard", str(folder), "--out", str(out)]) == 2
    _one_line(capsys, "--tensorboard", str(folder))
    assert not out.exists() and blocker.read_text() == ""


@pytest.fixture
def checkpoint(tmp_path):
    assert main(["train", *QUICK, "--out", str(tmp_path)]) == 0
    return tmp_path / "checkpoint.safetensors"


@pytest.mark.parametrize("change", ["unknown optimizer", "other hidden size", "config not a dict"])
def test_resume_from_a_checkpoint_whose_run_cannot_be_rebuilt(change, checkpoint, capsys):
    state = mg.load(checkpoint)
    if change == "unknown optimizer":
        state["config"]["optimizer"] = "lion"
    elif change == "other hidden size":
        state["config"]["hidden"] = [16]
    else:
        state["config"] = [1, 2]
    mg.save(state, checkpoint)
    before = sorted(os.listdir(checkpoint.parent))
    capsys.readouterr()
    assert main(["train", "--resume", "--epochs", "2", "--no-plots", "--out", str(checkpoint.parent)]) == 2
    _one_line(capsys, "--resume", "checkpoint.safetensors")
    assert sorted(os.listdir(checkpoint.parent)) == before


def test_resume_from_a_checkpoint_with_a_65_dimensional_tensor(checkpoint, capsys):
    raw = bytearray(checkpoint.read_bytes())
    size = int.from_bytes(raw[:8], "little")
    header = raw[8:8 + size].decode()
    shape = '"shape":[8]'                                     # the first layer's bias
    assert shape in header
    header = header.replace(shape, '"shape":[' + ",".join(["8"] + ["1"] * 64) + "]", 1)
    header += " " * (-len(header) % 8)
    checkpoint.write_bytes(len(header).to_bytes(8, "little") + header.encode() + raw[8 + size:])
    capsys.readouterr()
    assert main(["train", "--resume", "--epochs", "2", "--no-plots", "--out", str(checkpoint.parent)]) == 2
    _one_line(capsys, "--resume", "65 dimensions")


@pytest.mark.parametrize("command", ["train", "compare", "lr-find", "sweep"])
def test_samples_that_cannot_fit_in_memory_are_refused_before_allocating(command, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([command, "--samples", "10000000000", "--out", str(out)]) == 2
    _one_line(capsys, "--samples 10000000000", "GiB")
    assert not out.exists()


def test_lr_find_over_a_range_whose_ratio_overflows_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["lr-find", "--start-lr", "1e-300", "--end-lr", "1e300", "--out", str(out)]) == 2
    _one_line(capsys, "--start-lr", "--end-lr")
    assert not out.exists()
