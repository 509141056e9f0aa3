"""Which learning rates work? The band of η that converges, measured for five optimizers with a sweep.

The setup is ``minigrad sweep``'s default: compare's task (the spiral, 1,500 points,
a 2-64-64-3 MLP, batch 256, 30 epochs — 150 steps), a constant η on a grid from
1e-5 to 10 with two points per decade, seeds 0, 1 and 2. A run "converges" when
its training loss over the last 5 epochs (median over the seeds) is at most 0.3
and no seed diverged; the band is the widest run of neighbouring grid values that
converge, so its width is measured to the grid's half-decade.

What it shows: Adam's band is the widest (3e-3 … 0.1, 1.5 decades); momentum's,
Adagrad's and RMSprop's are half a decade wide, at very different places
(0.1 … 0.3, 0.03 … 0.1, 3e-3 … 0.01); plain SGD reaches 0.3 at no η within
this budget. The adaptive methods also diverge sooner (η ≥ 0.3), because their
step is about η per weight whatever the gradient's size.

Run: python examples/18_adaptive_tolerance.py [--quick] [--plot]
      (--quick: seed 0 and η from 1e-3 to 3; the full sweep takes minutes on two cores)
"""

import os
import sys

from minigrad.cli import build_parser
from minigrad.cli.sweep import base_settings
from minigrad.training.sweep import converging_band, distribute, grid, run_job, table

OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
LRS = tuple(float(f"{10 ** (k / 2):.3g}") for k in range(-10, 3))        # 1e-5 … 10
SEEDS = (0, 1, 2)
TARGET = 0.3


def experiment(lrs=LRS, seeds=SEEDS, workers=2):
    """(the sweep's table rows, {optimizer: (lowest η, highest η, decades) of its converging band})."""
    args = build_parser().parse_args(["sweep"])                # the sweep command's own defaults
    jobs = grid(OPTIMIZERS, lrs, ["constant"], seeds, base_settings(args))
    rows = table(distribute(jobs, run_job, workers), TARGET)
    return rows, {name: converging_band(rows, name, "constant", TARGET) for name in OPTIMIZERS}


def figure_paths(rows, folder):
    from minigrad.viz.plots import plot_sweep_curves, plot_sweep_heatmap

    return (plot_sweep_curves(rows, os.path.join(folder, "claim6_loss_vs_lr.png"), TARGET),
            plot_sweep_heatmap(rows, os.path.join(folder, "claim6_heatmap.png")))


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    rows, bands = experiment(LRS[4:12] if quick else LRS, (0,) if quick else SEEDS, workers=os.cpu_count() or 1)
    print(f"η that reach a training loss of {TARGET} in 30 epochs (no seed diverging):")
    for name, (low, high, decades) in bands.items():
        print(f"  {name:<9}" + ("none" if low is None else f"{low:.3g} … {high:.3g}  ({decades:.1f} decades)"))
    if "--plot" in sys.argv:
        os.makedirs("runs/examples", exist_ok=True)
        print("wrote", *figure_paths(rows, "runs/examples"))
