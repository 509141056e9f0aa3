"""Files written by minigrad 0.1 (before the core redesign) still load and train on.

The fixtures in tests/fixtures/v0_1/ were written by minigrad 0.1.0:
``v0_1_objects.safetensors`` holds a 2-8-3 ReLU MLP, its Adam (amsgrad) and
StepLR states after three steps, and the batch; ``v0_1_next_step.json`` what 0.1
computed for one more step after loading them in PyTorch's order (build, then load;
the step runs at the saved rate η = 0.005). ``train_checkpoint.safetensors`` is the checkpoint of
``minigrad train --epochs 2 --samples 200``.
"""

import json
import pathlib

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.training.trainer import Trainer

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "v0_1"


def test_model_optimizer_and_scheduler_state_from_0_1_continue_the_same_run():
    saved = mg.load(FIXTURES / "v0_1_objects.safetensors", map_location=mg.get_default_device())
    expected = json.loads((FIXTURES / "v0_1_next_step.json").read_text())
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    model.load_state_dict(saved["model"])  # PyTorch's order: build everything, then load every state
    opt.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    loss = nn.functional.cross_entropy(model(saved["x"]), saved["y"])
    loss.backward()
    opt.step()
    scheduler.step()
    assert loss.item() == pytest.approx(expected["loss"], rel=1e-6)
    np.testing.assert_allclose(model[0].weight.detach().cpu().numpy(), expected["weight0_after"], rtol=1e-6, atol=1e-7)
    assert opt.param_groups[0]["lr"] == pytest.approx(expected["lr_after"])


def test_a_0_1_training_checkpoint_resumes():
    saved = mg.load(FIXTURES / "train_checkpoint.safetensors")
    trainer = Trainer.resume(FIXTURES / "train_checkpoint.safetensors", epochs=3)
    for name, value in trainer.model.state_dict().items():
        np.testing.assert_array_equal(value.cpu().numpy(), saved["model"][name].cpu().numpy())
    assert mg.random.get_rng_state()["pcg64"] == saved["rng"]   # 0.1 saved the CPU generator alone
    trainer.fit()
    assert trainer.history.epoch == [1, 2, 3]
    assert np.isfinite(trainer.history.train_loss).all() and trainer.history.test_acc[-1] > 0.3
