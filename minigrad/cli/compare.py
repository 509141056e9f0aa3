"""Train one model from the same initial weights with several optimizers or several learning rates.

Prints a table (final loss, accuracy, the step at which the training loss first
reached --target-loss, or where the divergence guard stopped the run) and
writes the overlaid loss curves. Too high an η diverges, too low crawls,
adaptive methods adapt.
"""

import json
import math
import os

from minigrad.cli.common import (
    add_data_arguments, add_optimizer_arguments, add_output_arguments, add_training_arguments, config_from, float_list,
    name_list, output_folder, pct, positive_number,
)
from minigrad.trainer import OPTIMIZERS, Trainer

HELP = "compare optimizers (default) or learning rates (--lrs) from the same initial weights"
DEFAULT_OPTIMIZERS = "sgd,momentum,adagrad,rmsprop,adam"
TASK_DEFAULTS = {}       # the task on which the optimizers differ visibly (see docs/learning-rate.md)


def apply_task_defaults(parser):
    """compare's and sweep's default task, in place of train's."""
    parser.set_defaults(**TASK_DEFAULTS)


def add_arguments(parser):
    add_data_arguments(parser)
    add_optimizer_arguments(parser)
    add_training_arguments(parser, epochs=30)
    parser.set_defaults(schedule="constant")
    parser.add_argument("--optimizers", type=name_list(list(OPTIMIZERS)), default=None,
                        help=f"comma-separated optimizers (default {DEFAULT_OPTIMIZERS})")
    parser.add_argument("--lrs", type=float_list, default=None,
                        help="compare these learning rates for --optimizer instead, e.g. 1e-4,1e-3,1e-2,1e-1,1 "
                             "(default: compare optimizers)")
    parser.add_argument("--target-loss", type=positive_number, default=0.3, help="the loss whose first step is reported")
    add_output_arguments(parser, "runs/compare")
    parser.add_argument("--no-plots", action="store_true", help="skip the figure")


def run(args):
    config_from(args)                                  # every check before anything is written
    out = output_folder(args)
    if args.lrs:
        runs = {f"{args.optimizer} η={lr:g}": {"optimizer": args.optimizer, "lr": lr} for lr in args.lrs}
    else:
        names = args.optimizers or DEFAULT_OPTIMIZERS.split(",")
        runs = {name: {"optimizer": name, "lr": args.lr} for name in names}
    first = None
    results = {}
    for label, overrides in runs.items():
        config = config_from(args, target_loss=args.target_loss, **overrides)
        trainer = Trainer(config, initial_state=first)
        if first is None:
            first = {k: v.clone() for k, v in trainer.model.state_dict().items()}
        history = trainer.fit()
        loss, acc = trainer.evaluate("train")
        results[label] = {"lr": config.lr, "final_loss": loss, "test_accuracy": trainer.evaluate("test")[1],
                          "train_accuracy": acc, "reached_target_at": history.reached_target_at,
                          "diverged_at": history.diverged_at, "step_losses": history.step_losses}
    print_table(results, args.target_loss)
    with open(os.path.join(out, "compare.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, default=lambda v: None if isinstance(v, float) and not math.isfinite(v) else v)
    if not args.no_plots:
        from minigrad.viz.plots import plot_curves

        curves = {label: _smooth(r["step_losses"]) for label, r in results.items()}
        marks = {label: r["diverged_at"] for label, r in results.items()}
        plot_curves(curves, os.path.join(out, "compare.png"), title="training loss (dotted: diverged)", marks=marks)
    print(f"wrote {out}/compare.json" + ("" if args.no_plots else " and compare.png"))
    return 0


def print_table(results, target):
    print(f"{'run':<22}{'η':>9}{'final loss':>12}{'test acc':>10}{'steps to ' + format(target, 'g'):>16}  status")
    for label, r in results.items():
        reached = "-" if r["reached_target_at"] is None else str(r["reached_target_at"])
        status = "ok" if r["diverged_at"] is None else f"diverged at step {r['diverged_at']}"
        final = "-" if r["diverged_at"] is not None else f"{r['final_loss']:.4f}"
        print(f"{label:<22}{r['lr']:>9.2g}{final:>12}{pct(r['test_accuracy']):>10}{reached:>16}  {status}")


def _smooth(values, weight=0.9):
    out, average = [], None
    for v in values:
        average = v if average is None else weight * average + (1 - weight) * v
        out.append(average)
    return out
