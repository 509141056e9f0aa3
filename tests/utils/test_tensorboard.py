"""TensorBoard logging: the event files read back with TensorBoard's own reader hold what was logged."""

import json

import numpy as np
import pytest

import minigrad as mg
from minigrad.cli import main

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
pytest.importorskip("tensorboardX")


def _read(folder):
    events = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    return events


def test_summary_writer_takes_minigrad_tensors_with_pytorchs_names(tmp_path):
    from minigrad.utils.tensorboard import SummaryWriter

    values = mg.tensor([0.5, -1.0, 2.0, 3.5])
    with SummaryWriter(str(tmp_path / "run")) as writer:
        for step in range(3):
            writer.add_scalar("loss", mg.tensor(1.0 / (step + 1)), step)
        writer.add_scalars("pair", {"a": 1.0, "b": mg.tensor(2.0)}, 7)
        writer.add_histogram("weights", values, 4)
        writer.flush()
    events = _read(tmp_path / "run")
    assert [(e.step, round(e.value, 6)) for e in events.Scalars("loss")] == [(0, 1.0), (1, 0.5), (2, 0.333333)]
    histogram = events.Histograms("weights")[0]
    assert histogram.step == 4 and histogram.histogram_value.num == 4
    assert (histogram.histogram_value.min, histogram.histogram_value.max) == (-1.0, 3.5)
    assert histogram.histogram_value.sum == pytest.approx(5.0)
    pair = _read(tmp_path / "run" / "pair" / "b")            # add_scalars: one run folder per curve
    assert [(e.step, e.value) for e in pair.Scalars("pair")] == [(7, 2.0)]


def test_train_with_tensorboard_logs_loss_accuracy_lr_grad_norms_and_effective_lr(tmp_path):
    out, logs = tmp_path / "run", tmp_path / "tb"
    assert main(["train", "--epochs", "3", "--samples", "200", "--hidden", "8", "--no-plots", "--out", str(out),
                 "--tensorboard", str(logs)]) == 0
    history = json.loads((out / "history.json").read_text())
    events = _read(logs)
    tags = events.Tags()
    np.testing.assert_allclose([e.value for e in events.Scalars("loss/train")], history["train_loss"], rtol=1e-6)
    np.testing.assert_allclose([e.value for e in events.Scalars("accuracy/test")], history["test_acc"], rtol=1e-6)
    np.testing.assert_allclose([e.value for e in events.Scalars("lr/group0")], history["lr"], rtol=1e-6)  # its η
    assert {"grad_norm/0.weight", "grad_norm/2.bias"} <= set(tags["scalars"])
    assert all(e.value > 0 for e in events.Scalars("grad_norm/0.weight"))
    effective = events.Histograms("effective_lr/0.weight")
    assert len(effective) == 3 and effective[-1].histogram_value.num == 8 * 2     # one value per element
    assert effective[0].histogram_value.min > 0       # (the next step's: the last one is 0, where the cosine ends)


def test_compare_with_tensorboard_writes_one_run_per_optimizer(tmp_path):
    logs = tmp_path / "tb"
    assert main(["compare", "--optimizers", "sgd,adam", "--epochs", "2", "--samples", "200", "--hidden", "8",
                 "--no-plots", "--out", str(tmp_path / "c"), "--tensorboard", str(logs)]) == 0
    for name in ("sgd", "adam"):
        assert len(_read(logs / name).Scalars("loss/train")) == 2


def test_tensorboard_without_the_package_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError(name))
                        if name.startswith("tensorboardX") else real_import(name, *a, **k))
    assert main(["train", "--epochs", "1", "--out", str(tmp_path / "x"), "--tensorboard", str(tmp_path / "tb")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "minigrad-eta[tensorboard]" in err[0]
    assert not (tmp_path / "x").exists()
