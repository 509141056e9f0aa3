"""The minigrad command, run in-process with small settings (and once through python -m)."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.cli import main

QUICK = ["--samples", "300", "--hidden", "16,16"]


def _png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_with_defaults_writes_everything_and_reaches_97_percent(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out)]) == 0      # the defaults: spiral, 2-64-64-3, Adam, cosine
    text = capsys.readouterr().out
    test_line = [line for line in text.splitlines() if line.strip().startswith("test:")][0]
    assert float(test_line.split("accuracy")[1].strip(" %")) >= 97.0
    for name in ("history.json", "history.csv", "model.safetensors", "checkpoint.safetensors"):
        assert (out / name).exists(), name
    assert _png(out / "curves.png") and _png(out / "boundary.png")
    history = json.loads((out / "history.json").read_text())
    assert len(history["epoch"]) == 150 and history["config"]["optimizer"] == "adam"
    weights = mg.load(out / "model.safetensors")
    assert set(weights) == {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}


def test_resume_continues_exactly(tmp_path):
    """3 epochs, then --resume to 6, gives the weights of 6 straight epochs (a constant schedule plans nothing)."""
    straight, split = tmp_path / "straight", tmp_path / "split"
    common = [*QUICK, "--no-plots", "--optimizer", "momentum", "--schedule", "constant"]
    assert main(["train", "--epochs", "6", "--out", str(straight), *common]) == 0
    assert main(["train", "--epochs", "3", "--out", str(split), *common]) == 0
    assert main(["train", "--epochs", "6", "--out", str(split), *common, "--resume"]) == 0
    a, b = mg.load(straight / "model.safetensors"), mg.load(split / "model.safetensors")
    assert all(np.array_equal(a[k].cpu().numpy(), b[k].cpu().numpy()) for k in a)
    assert json.loads((split / "history.json").read_text())["epoch"] == [1, 2, 3, 4, 5, 6]


def test_interrupted_training_saves_a_checkpoint(tmp_path, monkeypatch, capsys):
    from minigrad.training.trainer import Trainer

    original = Trainer._record

    def interrupt_after_two(self, epoch, lr):
        original(self, epoch, lr)
        if epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "_record", interrupt_after_two)
    assert main(["train", "--epochs", "5", *QUICK, "--no-plots", "--out", str(tmp_path)]) == 130
    assert "--resume" in capsys.readouterr().out
    assert len(mg.load(tmp_path / "checkpoint.safetensors")["history"]["epoch"]) == 2


def test_resume_from_the_middle_matches_a_straight_run(tmp_path):
    from minigrad.training.trainer import TrainConfig, Trainer

    config = dict(n_samples=300, hidden=(16,), epochs=6, schedule="cosine", optimizer="adam")
    straight = Trainer(TrainConfig(**config))
    straight.fit()
    first = Trainer(TrainConfig(**config))
    first.config.epochs = 3
    first.fit()
    first.save_checkpoint(tmp_path / "ck.safetensors")
    resumed = Trainer.resume(tmp_path / "ck.safetensors", epochs=6)
    resumed.fit()
    for (k, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items()):
        assert np.array_equal(a.cpu().numpy(), b.cpu().numpy()), k
    assert resumed.history.epoch == list(range(1, 7))


def test_compare_learning_rates_shows_divergence_and_crawl(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "--lrs", "1e-4,1e-3,1e-2,1e-1,1", "--epochs", "8", *QUICK, "--out", str(out)]) == 0
    results = json.loads((out / "compare.json").read_text())
    largest, smallest = results["adam η=1"], results["adam η=0.0001"]
    assert largest["diverged_at"] is not None
    assert smallest["reached_target_at"] is None and smallest["diverged_at"] is None
    assert "diverged at step" in capsys.readouterr().out
    assert _png(out / "compare.png")


def test_compare_figure_gives_each_run_its_eta_and_marks_the_diverged_one(tmp_path, monkeypatch):
    plots = pytest.importorskip("minigrad.viz.plots")
    import matplotlib.pyplot as plt

    drawn = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: drawn.append(fig) or path)
    assert main(["compare", "--lrs", "1e-2,10", "--epochs", "2", *QUICK, "--out", str(tmp_path / "lrs")]) == 0
    assert main(["compare", "--optimizers", "sgd,adam", "--epochs", "1", *QUICK, "--out", str(tmp_path / "opt")]) == 0
    by_lr, by_optimizer = ([[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.axes] for fig in drawn)
    epochs, steps = by_lr                                             # the two panels
    assert epochs[0] == steps[0] == "adam η=0.01"
    assert epochs[1].startswith("adam η=10: diverged (epoch ") and steps[1].startswith("adam η=10: diverged (step ")
    crosses = [line for ax in drawn[0].axes for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 2                                          # one in each panel
    assert all(legend == ["sgd η=0.3", "adam η=0.01"] for legend in by_optimizer)
    for fig in drawn:
        plt.close(fig)


def test_compare_optimizers_from_the_same_start(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "--optimizers", "sgd,adam", "--epochs", "2", *QUICK, "--out", str(out), "--no-plots"]) == 0
    results = json.loads((out / "compare.json").read_text())
    assert set(results) == {"sgd", "adam"}
    # same initial weights and data order: the very first loss is identical
    assert results["sgd"]["step_losses"][0] == results["adam"]["step_losses"][0]


def test_lr_find_trajectories_and_graph(tmp_path, capsys):
    assert main(["lr-find", "--steps", "40", *QUICK, "--out", str(tmp_path / "lr")]) == 0
    assert "suggested learning rate" in capsys.readouterr().out and _png(tmp_path / "lr" / "lr_find.png")
    assert main(["trajectories", "--steps", "30", "--surfaces", "quadratic,beale", "--out", str(tmp_path / "t")]) == 0
    assert _png(tmp_path / "t" / "quadratic.png") and _png(tmp_path / "t" / "beale.png")
    assert main(["graph", *QUICK, "--out", str(tmp_path / "g")]) == 0
    assert "Linear" in (tmp_path / "g" / "graph.dot").read_text()


@pytest.mark.parametrize("argv,message", [
    (["train", "--optimizer", "sgdd"], "invalid choice: 'sgdd'"),
    (["train", "--schedule", "linear"], "invalid choice: 'linear'"),
    (["train", "--lr", "0"], "learning rate must be a finite number > 0"),
    (["train", "--lr", "-0.1"], "learning rate must be a finite number > 0"),
    (["compare", "--lrs", "1e-3,abc"], "expected a number"),
    (["compare", "--optimizers", "sgd,lion"], "unknown choice 'lion'"),
    (["train", "--out", "/proc/minigrad-cannot-write-here"], "cannot write to the output folder"),
    (["train", "--resume", "--out", "{tmp}/empty"], "no checkpoint"),
    (["nonsense"], "invalid choice"),
])
def test_misuse_prints_one_line_and_exits_2(argv, message, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("minigrad: error:") and message in err


@pytest.mark.skipif(mg.cuda.is_available(), reason="checks the message shown when no GPU is usable")
def test_cuda_without_cupy_is_a_usage_error(capsys):
    assert main(["train", "--device", "cuda", "--epochs", "1"]) == 2
    assert "CuPy" in capsys.readouterr().err


def test_python_dash_m_runs_the_command(tmp_path):
    result = subprocess.run([sys.executable, "-m", "minigrad", "train", "--epochs", "1", *QUICK, "--no-plots",
                             "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "test: loss" in result.stdout


@pytest.mark.parametrize("argv,message", [
    (["train", "--samples", "0"], "--samples must be at least 8"),
    (["train", "--samples", "-5"], "--samples must be at least 8"),
    (["train", "--weight-decay", "-1"], "finite number >= 0"),
    (["train", "--weight-decay", "nan"], "finite number >= 0"),
    (["train", "--lr", "inf"], "learning rate must be a finite number > 0"),
    (["train", "--lr", "nan"], "learning rate must be a finite number > 0"),
    (["train", "--lr", "0"], "learning rate must be a finite number > 0"),
    (["train", "--seed", "-1"], "--seed must be at least 0"),
    (["train", "--epochs", "0"], "--epochs must be at least 1"),
    (["train", "--batch-size", "0"], "--batch-size must be at least 1"),
    (["train", "--hidden", "0,4"], "hidden layer sizes must be positive"),
    (["train", "--hidden", "300000,300000"], "GiB for parameters"),
    (["lr-find", "--start-lr", "1", "--end-lr", "0.1"], "must be below --end-lr"),
    (["lr-find", "--steps", "1"], "--steps must be at least 2"),
    (["trajectories", "--steps", "0"], "--steps must be at least 1"),
    (["compare", "--target-loss", "0"], "finite number > 0"),
    (["compare", "--target-loss", "-1"], "finite number > 0"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_every_misuse_is_one_line_and_exit_2_before_any_work(argv, message, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path / "out")] if argv[0] != "trajectories" else argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minigrad: error:") and message in err[0]
    assert not (tmp_path / "out").exists()                     # refused before anything was written


def test_digits_without_scikit_learn_names_the_extra(capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError(name))
                        if name.startswith("sklearn") else real_import(name, *a, **k))
    assert main(["train", "--dataset", "digits"]) == 2
    assert 'pip install "minigrad-eta[digits]"' in capsys.readouterr().err


def test_samples_for_a_fixed_size_dataset_is_said_to_be_ignored(capsys, tmp_path):
    assert main(["train", "--dataset", "iris", "--samples", "50", "--epochs", "1", "--no-plots",
                 "--out", str(tmp_path)]) == 0
    assert "--samples is ignored for iris" in capsys.readouterr().err


def test_resume_refuses_flags_that_contradict_the_checkpoint(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--samples", "120", "--hidden", "8", "--no-plots", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", "--out", str(tmp_path), "--dataset", "moons", "--optimizer", "sgd",
                 "--epochs", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--dataset moons (the checkpoint has spiral)" in err[0] and "--optimizer sgd" in err[0]
    assert main(["train", "--resume", "--out", str(tmp_path), "--hidden", "8", "--epochs", "2", "--no-plots"]) == 0


def test_resume_from_a_file_that_is_not_a_training_checkpoint(tmp_path, capsys):
    mg.save({"w": mg.ones(2)}, tmp_path / "checkpoint.safetensors")
    assert main(["train", "--resume", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a training checkpoint" in err[0] and "config" in err[0]


def test_clip_grad_bounds_every_step_and_is_saved_in_the_checkpoint(tmp_path):
    from minigrad.training.trainer import TrainConfig, Trainer

    trainer = Trainer(TrainConfig(dataset="moons", n_samples=120, hidden=(8,), epochs=1, optimizer="sgd", lr=0.5,
                                  clip_grad=0.01))
    seen = []
    trainer.fit(on_step=lambda t: seen.append(math.sqrt(sum(float((p.grad ** 2).sum()) for p in t.model.parameters()))))
    assert seen and max(seen) <= 0.01 * (1 + 1e-5)
    assert main(["train", "--epochs", "1", "--samples", "120", "--hidden", "8", "--clip-grad", "0.5", "--no-plots",
                 "--out", str(tmp_path)]) == 0
    assert mg.load(tmp_path / "checkpoint.safetensors")["config"]["clip_grad"] == 0.5
    assert main(["train", "--clip-grad", "0", "--out", str(tmp_path / "x")]) == 2


@pytest.mark.parametrize("argv", [
    ["train", "--epochs", "1", *QUICK, "--no-plots"],
    ["compare", "--optimizers", "sgd", "--epochs", "1", *QUICK, "--no-plots"],
    ["lr-find", "--steps", "5", *QUICK],
    ["trajectories", "--steps", "3", "--surfaces", "quadratic", "--optimizers", "sgd"],
    ["graph", *QUICK],
], ids=lambda v: v[0])
def test_a_run_never_silently_overwrites_another(argv, tmp_path, capsys):
    """A second run into a folder holding a run's outputs needs --force (or --resume for train)."""
    out = tmp_path / "run"
    assert main([*argv, "--out", str(out)]) == 0
    written = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    capsys.readouterr()
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already holds a run's outputs" in err[0] and "--force" in err[0]
    assert ("--resume" in err[0]) == (argv[0] == "train")
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == written        # nothing was touched
    assert main([*argv, "--out", str(out), "--force"]) == 0


def _options(command):
    from minigrad.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return sub, [a for a in sub._actions if a.option_strings and a.dest != "help"]


@pytest.mark.parametrize("command", ["train", "compare", "lr-find", "trajectories", "graph", "sweep"])
def test_every_option_has_help_and_shows_its_default(command):
    sub, options = _options(command)
    text = sub.format_help()
    for action in options:
        assert action.help, f"{command} {action.option_strings[0]} has no help"
        if action.nargs != 0:                                  # flags (store_true) have no default to show
            formatted = sub._get_formatter()._get_help_string(action)
            assert "default" in formatted, f"{command} {action.option_strings[0]}: {formatted!r}"
    assert "--out" in text


@pytest.mark.parametrize("command,absent", [
    ("graph", ["--lr", "--schedule", "--epochs", "--optimizer", "--weight-decay", "--clip-grad", "--resume"]),
    ("lr-find", ["--lr", "--schedule", "--epochs", "--clip-grad", "--resume"]),
    ("compare", ["--resume", "--checkpoint-every"]),
    ("trajectories", ["--dataset", "--lr", "--epochs", "--resume"]),
    ("sweep", ["--seed", "--device", "--lr", "--optimizer", "--schedule", "--resume"]),
])
def test_options_a_command_does_not_use_are_not_offered(command, absent):
    _, options = _options(command)
    offered = {s for a in options for s in a.option_strings}
    assert not offered & set(absent)


@pytest.mark.parametrize("argv,message", [
    (["compare", "--lrs", "0.01,0.1", "--optimizers", "sgd"], "give one or the other"),
    (["compare", "--optimizer", "sgd"], "to compare optimizers, use --optimizers"),
])
def test_compare_refuses_flags_it_would_ignore(argv, message, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and not (tmp_path / "c").exists()
