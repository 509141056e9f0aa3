"""The learning-rate range test: sweep η exponentially on a model and data set, print the suggested η.

Writes the loss-against-η curve. The model and optimizer are restored afterwards.
"""

import math
import os

from minigrad.cli.common import (
    UsageError, add_data_arguments, add_optimizer_arguments, add_output_arguments, at_least, config_from, draws_figures,
    output_folder, positive_float,
)
from minigrad.optim.lr_tools.lr_finder import lr_range_test
from minigrad.training.trainer import Trainer

HELP = "run the learning-rate range test and suggest η"


def add_arguments(parser):
    add_data_arguments(parser)
    add_optimizer_arguments(parser)
    parser.add_argument("--start-lr", type=positive_float, default=1e-6, help="the first η tried")
    parser.add_argument("--end-lr", type=positive_float, default=10.0, help="the last η tried")
    parser.add_argument("--steps", type=at_least(2, "--steps"), default=150, help="steps between them (η grows "
                        "exponentially)")
    add_output_arguments(parser, "runs/lr-find")
    parser.add_argument("--no-plots", action="store_true", help="skip the figure")


def run(args):
    if not args.start_lr < args.end_lr:
        raise UsageError(f"--start-lr ({args.start_lr}) must be below --end-lr ({args.end_lr})")
    if not math.isfinite(args.end_lr / args.start_lr):
        raise UsageError(f"--start-lr {args.start_lr:g} to --end-lr {args.end_lr:g} is a ratio too large for a float; "
                         "narrow the range")
    config = config_from(args)
    out = output_folder(args)
    draws_figures(args)                                # without matplotlib: a note, and no figure
    trainer = Trainer(config)
    result = lr_range_test(trainer.model, trainer.optimizer, trainer.loss_fn, trainer.loader,
                           start_lr=args.start_lr, end_lr=args.end_lr, num_steps=args.steps)
    stop = f", stopped at step {result.diverged_at} (η = {result.lrs[-1]:.3g})" if result.diverged_at is not None else ""
    print(f"{args.optimizer}: swept η from {args.start_lr:g} to {result.lrs[-1]:.3g} in {len(result.lrs)} steps{stop}")
    print(f"suggested learning rate: {result.suggested_lr:.3g}")
    if not args.no_plots and result.lrs:
        from minigrad.viz.plots import plot_range_test

        path = plot_range_test(result, os.path.join(out, "lr_find.png"))
        print(f"wrote {path}")
    return 0
