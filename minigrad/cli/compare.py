"""Train one model from the same initial weights with several optimizers or several learning rates.

Prints a table that agrees with the figure: the full training-set loss over the
last 5 epochs (mean ± half its range, so an η that makes the loss jump shows as a
wide range and "oscillating", where a final value would pick one point of the
jumps), the best epoch, test accuracy, the step at which the training loss first
reached --target-loss, or where the divergence guard stopped the run; and draws
the overlaid loss curves. Too high an η oscillates or diverges, too low crawls,
adaptive methods adapt.
"""

import json
import math
import os

from minigrad.cli.common import (
    UsageError, add_data_arguments, add_jit_argument, add_optimizer_arguments, add_output_arguments, add_tensorboard_argument,
    add_training_arguments, check_tensorboard, config_from, draws_figures, float_list, name_list, output_folder, pct,
    positive_number, tensorboard_writer,
)
from minigrad.training.summary import summarize
from minigrad.training.trainer import OPTIMIZERS, Trainer
from minigrad.utils.tensorboard import watch

HELP = "compare optimizers (default) or learning rates (--lrs) from the same initial weights"
DEFAULT_OPTIMIZERS = "sgd,momentum,adagrad,rmsprop,adam"
TASK_DEFAULTS = {"batch_size": 256}     # where the optimizers differ visibly: see docs/learning-rate.md, claim 6


def apply_task_defaults(parser):
    """compare's and sweep's default task, in place of train's."""
    parser.set_defaults(**TASK_DEFAULTS)


def add_arguments(parser):
    add_data_arguments(parser)
    add_optimizer_arguments(parser, default=None, help="with --lrs: the optimizer whose learning rates are compared "
                                                       "(default adam)")
    add_training_arguments(parser, epochs=30)
    add_jit_argument(parser)
    parser.set_defaults(schedule="constant")
    parser.add_argument("--optimizers", type=name_list(list(OPTIMIZERS)), default=None,
                        help=f"comma-separated optimizers (default {DEFAULT_OPTIMIZERS})")
    parser.add_argument("--lrs", type=float_list, default=None,
                        help="compare these learning rates for --optimizer instead, e.g. 1e-4,1e-3,1e-2,1e-1,1 "
                             "(default: compare optimizers)")
    parser.add_argument("--target-loss", type=positive_number, default=0.3, help="the loss whose first step is reported")
    add_output_arguments(parser, "runs/compare")
    parser.add_argument("--no-plots", action="store_true", help="skip the figure")
    add_tensorboard_argument(parser)
    apply_task_defaults(parser)


def run(args):
    if args.lrs and args.optimizers:
        raise UsageError("--lrs compares learning rates of one --optimizer, --optimizers compares optimizers: "
                         "give one or the other")
    if not args.lrs and args.optimizer is not None:
        raise UsageError("--optimizer names the optimizer whose --lrs are compared; to compare optimizers, use "
                         "--optimizers")
    optimizer = args.optimizer or "adam"
    config_from(args, optimizer=optimizer)             # every check before anything is written
    check_tensorboard(args)
    out = output_folder(args)
    draws_figures(args)                                # without matplotlib: a note, and no figure
    if args.lrs:
        runs = {f"{optimizer} η={lr:g}": {"optimizer": optimizer, "lr": lr} for lr in args.lrs}
    else:
        names = args.optimizers or DEFAULT_OPTIMIZERS.split(",")
        runs = {name: {"optimizer": name, "lr": args.lr} for name in names}
    first = None
    results = {}
    steps_per_epoch = None
    for label, overrides in runs.items():
        config = config_from(args, target_loss=args.target_loss, **overrides)
        trainer = Trainer(config, initial_state=first)
        steps_per_epoch = len(trainer.loader)
        if first is None:
            first = {k: v.clone() for k, v in trainer.model.state_dict().items()}
        writer = tensorboard_writer(args, run_name=label.replace(" ", "_"))
        on_step, on_epoch = watch(trainer, writer) if writer is not None else (None, None)
        history = trainer.fit(progress=on_epoch, on_step=on_step)
        if writer is not None:
            writer.close()
        results[label] = {"lr": config.lr, **summarize(history), "train_loss": history.train_loss,
                          "step_losses": history.step_losses}
    print_table(results, args.target_loss)
    with open(os.path.join(out, "compare.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, default=lambda v: None if isinstance(v, float) and not math.isfinite(v) else v)
    if not args.no_plots:
        plot(results, steps_per_epoch, os.path.join(out, "compare.png"), one_optimizer=bool(args.lrs))
    print(f"wrote {out}/compare.json" + ("" if args.no_plots else " and compare.png"))
    return 0


def plot(results, steps_per_epoch, path, one_optimizer):
    """The loss after each epoch and the smoothed batch loss, one curve per run; each legend entry carries its run's
    η, and a run the guard stopped has an × at the top where it diverged (its epoch, and its step)."""
    from minigrad.viz.plots import plot_panels

    names = {label: label if one_optimizer else f"{label} η={r['lr']:g}" for label, r in results.items()}
    stopped = {label: r["diverged_at"] for label, r in results.items() if r["diverged_at"] is not None}
    plot_panels([dict(curves={names[label]: r["train_loss"] for label, r in results.items()}, xlabel="epoch", start=1,
                      diverged={names[label]: step // steps_per_epoch + 1 for label, step in stopped.items()},
                      title="full training-set loss after each epoch (the table's numbers)"),
                 dict(curves={names[label]: _smooth(r["step_losses"]) for label, r in results.items()},
                      diverged={names[label]: step for label, step in stopped.items()},
                      title="batch loss per step, smoothed" + (" (× at the top: diverged)" if stopped else ""))],
                path)


def print_table(results, target):
    """One row per run: the training loss over the last 5 epochs (mean ± half its range), the best epoch's,
    the test accuracy over the last 5 epochs, steps to the target, and whether the run oscillated or diverged."""
    print(f"{'run':<22}{'η':>9}{'loss, last 5 epochs':>22}{'best (epoch)':>17}{'test acc':>10}"
          f"{'steps to ' + format(target, 'g'):>15}  status\n{'':<31}{'(mean ± half range)':>22}{'':>27}(last 5)")
    for label, r in results.items():
        if r["diverged_at"] is not None:
            summary, status = "-", f"diverged at step {r['diverged_at']}"
        else:
            summary = f"{r['summary_loss']:.4f} ± {r['spread'] / 2:.4f}"
            status = "oscillating" if r["oscillating"] else "ok"
        best = "-" if r["best_epoch"] is None else f"{r['best_loss']:.4f} ({r['best_epoch']})"
        reached = "-" if r["reached_target_at"] is None else str(r["reached_target_at"])
        print(f"{label:<22}{r['lr']:>9.2g}{summary:>22}{best:>17}{pct(r['test_accuracy']):>10}{reached:>15}  {status}")


def _smooth(values, weight=0.9):
    out, average = [], None
    for v in values:
        average = v if average is None else weight * average + (1 - weight) * v
        out.append(average)
    return out
