"""Regenerate the figures the guide shows (docs/img/*.png) from the examples' own code paths.

Run: python docs/make_figures.py
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import minigrad  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from minigrad.optim import lr_scheduler as S  # noqa: E402
from minigrad.optim.lr_tools.surfaces import SURFACES, TRAJECTORY_LR, trajectory  # noqa: E402
from minigrad.training.trainer import OPTIMIZERS, TrainConfig, Trainer  # noqa: E402
from minigrad.viz import plots  # noqa: E402

IMG = os.path.join(HERE, "img")


def too_low_right_high():
    curves = {}
    for lr in (0.01, 0.5, 1.05):
        minigrad.manual_seed(0)
        x = minigrad.randn(256)
        y = 3 * x - 1 + 0.1 * minigrad.randn(256)
        w = minigrad.zeros((), requires_grad=True)
        b = minigrad.zeros((), requires_grad=True)
        losses = []
        for _ in range(40):
            loss = ((w * x + b - y) ** 2).mean()
            loss.backward()
            with minigrad.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
            w.grad = b.grad = None
            losses.append(loss.item())
        curves[f"η = {lr}"] = losses
    plots.plot_curves(curves, os.path.join(IMG, "lr_too_low_right_high.png"), title="linear regression, plain GD")


def schedules():
    previews = {
        "StepLR": S.StepLR(0.1, step_size=25, gamma=0.5).preview(100),
        "ExponentialLR": S.ExponentialLR(0.1, gamma=0.97).preview(100),
        "InverseTimeLR": S.InverseTimeLR(0.1, decay_rate=0.1).preview(100),
        "CosineAnnealingLR": S.CosineAnnealingLR(0.1, T_max=100).preview(100),
        "WarmRestarts": S.CosineAnnealingWarmRestarts(0.1, T_0=10, T_mult=2).preview(100),
        "CyclicLR": S.CyclicLR(0.1, 0.01, 0.1, step_size_up=10, cycle_momentum=False).preview(100),
        "OneCycleLR": S.OneCycleLR(0.1, max_lr=0.1, total_steps=100, cycle_momentum=False).preview(100),
        "LinearLR warm-up": S.LinearLR(0.1, start_factor=0.1, total_iters=30).preview(100),
    }
    plots.plot_schedules(previews, os.path.join(IMG, "schedules.png"))


def effective_rates():
    x, y = minigrad.datasets.circles(n_samples=400)
    curves = {}
    for name, make in {"Adagrad": lambda p: optim.Adagrad(p, lr=0.05), "RMSprop": lambda p: optim.RMSprop(p, lr=0.001),
                       "Adam": lambda p: optim.Adam(p, lr=0.001)}.items():
        minigrad.manual_seed(1)
        model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
        opt = make(model.parameters())
        rates = []
        for _ in range(400):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            rates.append(opt.effective_lr()[model[0].weight].mean().item())
        curves[name] = rates
    plots.plot_curves(curves, os.path.join(IMG, "effective_lr.png"), ylabel="mean effective η",
                      title="effective learning rate of the first layer")


def training_and_paths():
    trainer = Trainer(TrainConfig(epochs=60))
    trainer.fit()
    plots.plot_history(trainer.history, os.path.join(IMG, "train_curves.png"), title="minigrad train (defaults)")
    plots.plot_decision_boundary(trainer.model, *trainer.data["train"], os.path.join(IMG, "boundary.png"),
                                 test=trainer.data["test"])
    for name in ("quadratic", "rosenbrock"):
        surface = SURFACES[name]
        paths = {f"{o} (η={TRAJECTORY_LR[name][o]:g})": trajectory(
            surface, lambda p, o=o, lr=TRAJECTORY_LR[name][o]: OPTIMIZERS[o](p, lr, 0.0), 500)
            for o in ("sgd", "momentum", "adagrad", "rmsprop", "adam")}
        plots.plot_trajectories(surface, paths, os.path.join(IMG, f"trajectories_{name}.png"))


def range_test():
    minigrad.manual_seed(0)
    x, y = minigrad.datasets.spiral(n_samples=900)
    from minigrad.utils.data import DataLoader, TensorDataset

    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
    result = optim.lr_range_test(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), nn.CrossEntropyLoss(),
                                 DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True), 1e-5, 10.0, 200)
    plots.plot_range_test(result, os.path.join(IMG, "lr_range_test.png"))


def _example(name):
    """An example script as a module: the guide's experiments are the examples' own functions."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(HERE), "examples", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def claims():
    """One figure per claim of docs/learning-rate.md, from examples 13–19."""
    m = _example("13_eta_too_high")
    plots.plot_panels(m.figure_panels(m.experiment()), os.path.join(IMG, "claim1_eta_too_high.png"))
    m = _example("14_eta_too_low_two_basins")
    plots.plot_panels(m.figure_panels(m.experiment()), os.path.join(IMG, "claim2_two_basins.png"))
    m = _example("15_decay_schedules")
    plots.plot_panels(m.figure_panels(m.experiment()), os.path.join(IMG, "claim3_decay.png"))
    m = _example("16_plateau")
    plots.plot_panels(m.figure_panels(*m.experiment()), os.path.join(IMG, "claim4_plateau.png"))
    m = _example("17_adaptive_rates")
    plots.plot_panels(m.figure_panels(m.experiment()), os.path.join(IMG, "claim5_adaptive_rates.png"))
    m = _example("19_linear_scaling")
    plots.plot_panels(m.figure_panels(m.experiment()), os.path.join(IMG, "claim7_linear_scaling.png"))
    m = _example("18_adaptive_tolerance")                      # the full sweep: minutes on two cores
    m.figure_paths(m.experiment(workers=os.cpu_count() or 1)[0], IMG)


if __name__ == "__main__":
    os.makedirs(IMG, exist_ok=True)
    for make in (too_low_right_high, schedules, effective_rates, training_and_paths, range_test, claims):
        make()
        print("made", make.__name__)
