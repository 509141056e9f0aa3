"""``minigrad train|compare|sweep --jit``: the trainer's step replayed gives the run eager gives, bit for bit."""

import json

import numpy as np
import pytest

from minigrad.cli import main
from minigrad.training.trainer import TrainConfig, Trainer


def _params(trainer):
    return [p.detach().cpu().numpy() for p in trainer.model.parameters()]


@pytest.mark.parametrize("optimizer, schedule, clip", [
    ("adam", "onecycle", None),          # a per-batch schedule: stepped inside the replayed step
    ("momentum", "cosine", 1.0),         # per epoch, outside; gradient clipping inside
    ("rmsprop", "plateau", None),        # ReduceLROnPlateau on the epoch's loss, read outside the step
])
def test_a_jitted_trainer_trains_exactly_as_eager(optimizer, schedule, clip):
    config = dict(n_samples=300, epochs=4, batch_size=32, optimizer=optimizer, schedule=schedule, clip_grad=clip)
    eager = Trainer(TrainConfig(**config))
    eager.fit()
    jitted = Trainer(TrainConfig(**config, jit=True))
    jitted.fit()
    assert jitted._step.replays > 15 and not jitted._step.fallbacks, jitted._step.explain()
    assert jitted.history.train_loss == eager.history.train_loss
    for a, b in zip(_params(eager), _params(jitted)):
        assert np.array_equal(a, b)


def test_the_command_takes_jit_and_writes_what_eager_writes(tmp_path):
    for name, extra in (("eager", []), ("jit", ["--jit"])):
        assert main(["train", "--epochs", "2", "--samples", "300", "--out", str(tmp_path / name), "--no-plots",
                     *extra]) == 0
    histories = [json.loads((tmp_path / name / "history.json").read_text()) for name in ("eager", "jit")]
    assert histories[0]["train_loss"] == histories[1]["train_loss"]
    assert (tmp_path / "eager" / "model.safetensors").read_bytes() == (tmp_path / "jit" / "model.safetensors").read_bytes()


@pytest.mark.parametrize("command", [
    ["compare", "--lrs", "1e-2,1e-1", "--epochs", "2", "--samples", "300", "--no-plots"],
    ["sweep", "--lrs", "1e-2,1e-1", "--optimizers", "sgd", "--seeds", "0", "--epochs", "2", "--samples", "300",
     "--no-plots", "--workers", "1"],
])
def test_compare_and_sweep_take_jit_and_give_eagers_results(tmp_path, command):
    outputs = []
    for name, extra in (("eager", []), ("jit", ["--jit"])):
        assert main([*command, "--out", str(tmp_path / name), *extra]) == 0
        result = "compare.json" if command[0] == "compare" else "table.json"
        outputs.append(json.loads((tmp_path / name / result).read_text()))
    assert outputs[0] == outputs[1]
