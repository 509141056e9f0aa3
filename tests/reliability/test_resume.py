"""Interrupted training resumes at the exact step: final weights equal an uninterrupted run's, bit for bit.

Through the Trainer (several interrupt points, optimizers and schedules) and
through the real command with real signals: SIGTERM and SIGINT stop between
steps and save; after kill -9 the periodic checkpoint loses at most the work
since it was written, and resuming from it still ends bit for bit where an
uninterrupted run ends.
"""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import minigrad as mg
from minigrad.training.trainer import TrainConfig, Trainer, TrainingInterrupted

COMMON = dict(dataset="moons", n_samples=200, hidden=(8,), batch_size=16, seed=3)   # 10 steps an epoch


def _weights(trainer):
    return {k: v.cpu().numpy().copy() for k, v in trainer.model.state_dict().items()}


def _straight(**config):
    trainer = Trainer(TrainConfig(**COMMON, **config))
    trainer.fit()
    return trainer


@pytest.mark.parametrize("optimizer,schedule", [
    ("sgd", "constant"), ("momentum", "step"), ("adam", "cosine"), ("rmsprop", "onecycle"),
    ("adagrad", "plateau"), ("adamw", "exponential"), ("nesterov", "inverse-time"),
])
@pytest.mark.parametrize("stop_at", [1, 10, 17, 30])      # first step, an epoch's end, mid-epoch, later
def test_interrupted_and_resumed_equals_uninterrupted(optimizer, schedule, stop_at, tmp_path):
    config = dict(epochs=4, optimizer=optimizer, schedule=schedule)
    straight = _straight(**config)
    first = Trainer(TrainConfig(**COMMON, **config))
    with pytest.raises(TrainingInterrupted):
        first.fit(on_step=lambda t: t.request_stop() if t.step_count == stop_at else None)
    assert first.step_count == stop_at
    first.save_checkpoint(tmp_path / "ck.safetensors")
    resumed = Trainer.resume(tmp_path / "ck.safetensors")
    resumed.fit()
    for name, value in _weights(straight).items():
        np.testing.assert_array_equal(_weights(resumed)[name], value, err_msg=name)
    assert resumed.history.step_losses == straight.history.step_losses     # no step repeated or missing
    assert resumed.history.lr == straight.history.lr and resumed.step_count == straight.step_count


def _command(out, *extra, epochs=30):
    return [sys.executable, "-m", "minigrad", "train", "--dataset", "moons", "--samples", "400", "--hidden", "16",
            "--epochs", str(epochs), "--batch-size", "8", "--schedule", "cosine", "--no-plots", "--out", str(out),
            *extra]


def _env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))


def _final_weights(out):
    return {k: v.cpu().numpy() for k, v in mg.load(out / "model.safetensors").items()}


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    subprocess.run(_command(out), check=True, env=_env(), capture_output=True, timeout=600)
    return _final_weights(out)


def _wait_for(path, timeout=60):
    start = time.monotonic()
    while not path.exists():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.02)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_between_steps_saves_and_resume_finishes_exactly(signum, straight_run, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(_command(out, "--checkpoint-every", "0"), env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    _wait_for(out / "checkpoint.safetensors")
    time.sleep(0.3)
    proc.send_signal(signum)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, stdout
    assert b"interrupted at step" in stdout
    saved = mg.load(out / "checkpoint.safetensors")
    assert 0 < saved["step_count"] < 30 * 50
    subprocess.run(_command(out, "--resume"), check=True, env=_env(), capture_output=True, timeout=600)
    for name, value in straight_run.items():
        np.testing.assert_array_equal(_final_weights(out)[name], value, err_msg=name)


def test_after_kill_9_the_periodic_checkpoint_resumes_exactly(straight_run, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(_command(out, "--checkpoint-every", "0.05"), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _wait_for(out / "checkpoint.safetensors")
    time.sleep(0.5)
    proc.kill()                                                  # SIGKILL: no chance to save anything
    proc.wait()
    saved = mg.load(out / "checkpoint.safetensors")              # complete, whatever moment the kill hit
    assert saved["step_count"] > 0
    strays = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert len(strays) <= 1
    subprocess.run(_command(out, "--resume"), check=True, env=_env(), capture_output=True, timeout=600)
    for name, value in straight_run.items():
        np.testing.assert_array_equal(_final_weights(out)[name], value, err_msg=name)
