"""Draw each optimizer's path on classic 2-D surfaces: an ill-conditioned quadratic, Rosenbrock and Beale.

One figure per surface, every optimizer side by side from the same start.
"""

import os

from minigrad.cli.common import add_output_arguments, at_least, draws_figures, name_list, output_folder
from minigrad.optim.lr_tools.surfaces import SURFACES, TRAJECTORY_LR, trajectory
from minigrad.training.trainer import OPTIMIZERS

HELP = "draw the optimizers' paths on 2-D test surfaces"


def add_arguments(parser):
    parser.add_argument("--surfaces", type=name_list(list(SURFACES)), default=list(SURFACES),
                        help="comma-separated surfaces")
    parser.add_argument("--optimizers", type=name_list(list(OPTIMIZERS)),
                        default=["sgd", "momentum", "adagrad", "rmsprop", "adam"], help="comma-separated optimizers")
    parser.add_argument("--steps", type=at_least(1, "--steps"), default=500, help="steps of each optimizer")
    add_output_arguments(parser, "runs/trajectories")


def run(args):
    out = output_folder(args)
    plots = draws_figures(args)                        # without matplotlib: a note, and the paths' ends only
    for name in args.surfaces:
        surface = SURFACES[name]
        paths = {}
        for opt in args.optimizers:
            lr = TRAJECTORY_LR[name][opt]
            points = trajectory(surface, lambda params, opt=opt, lr=lr: OPTIMIZERS[opt](params, lr, 0.0), args.steps)
            paths[f"{opt} (η={lr:g})"] = points
            x, y = points[-1]
            print(f"{name:<11}{opt:<10} η={lr:<7g} end ({x:8.3f}, {y:8.3f})  f = {float(surface.numpy(x, y)):.3g}")
        if plots:
            from minigrad.viz.plots import plot_trajectories

            print(f"wrote {plot_trajectories(surface, paths, os.path.join(out, f'{name}.png'))}")
    return 0
