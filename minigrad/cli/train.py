"""Train an MLP on built-in data and write its history, figures, weights and a checkpoint.

Writes into --out: history.json and history.csv, curves.png (loss, accuracy, η per
epoch), boundary.png (2-D data), model.safetensors (the weights, readable by
PyTorch's safetensors loader) and checkpoint.safetensors, from which --resume
continues exactly — at the very step where the run stopped.

The checkpoint is also written after every epoch and every --checkpoint-every
seconds during one, atomically, so a killed run (kill -9, a lost machine) loses
at most that much work. Ctrl-C (SIGINT) and SIGTERM (what job schedulers and
container stops send) only ask the run to stop: it finishes the step in
progress, writes the checkpoint and exits with 128 + the signal's number.
"""

import contextlib
import csv
import json
import os
import signal
from dataclasses import asdict

from minigrad.cli.common import (
    UsageError, add_data_arguments, add_jit_argument, add_optimizer_arguments, add_output_arguments, add_tensorboard_argument,
    add_training_arguments, check_tensorboard, config_from, draws_figures, handling, non_negative_float, output_folder,
    pct,
    progress_bar, tensorboard_writer,
)
from minigrad.utils.tensorboard import watch
from minigrad.serialization import CheckpointError, save
from minigrad.cli.ranks import current as current_ranks
from minigrad.training.trainer import TrainingInterrupted

HELP = "train an MLP end to end (default: the spiral, 2-64-64-3, Adam, cosine schedule)"


def add_arguments(parser):
    add_data_arguments(parser)
    add_optimizer_arguments(parser)
    add_training_arguments(parser)
    add_jit_argument(parser)
    add_output_arguments(parser, "runs/train", resume=True)
    parser.add_argument("--no-plots", action="store_true", help="skip the figures")
    add_tensorboard_argument(parser)
    parser.add_argument("--checkpoint-every", type=non_negative_float, default=60.0, metavar="SECONDS",
                        help="also write the checkpoint this often during an epoch (default 60; 0: after every step)")


def run(args):
    ranks = current_ranks()                                      # one process, or the ranks of an MPI job
    config, out = ranks.first(lambda: _check(args))              # rank 0 checks and makes the output folder
    checkpoint = os.path.join(out, "checkpoint.safetensors")
    if args.resume:
        try:
            trainer = ranks.trainer_class.resume(checkpoint, epochs=args.epochs)
        except CheckpointError as exc:
            raise UsageError(f"--resume: {exc}") from None
        except (ValueError, TypeError, KeyError, RuntimeError) as exc:   # a config or weights that do not fit
            detail = " ".join(str(exc).split())
            raise UsageError(f"--resume: {checkpoint!r} holds a run that cannot be rebuilt "
                             f"({type(exc).__name__}: {detail if len(detail) <= 300 else detail[:300] + ' …'})") from None
        _refuse_conflicting_flags(args, trainer.config)
        print(f"resuming from epoch {len(trainer.history.epoch)} of {trainer.config.epochs}")
        if trainer.scheduler_total_epochs() != args.epochs:
            print(f"note: the learning-rate schedule was planned for {trainer.scheduler_total_epochs()} epochs "
                  "and keeps that plan")
    else:
        trainer = ranks.trainer_class(config)
    c = trainer.config
    print(f"{c.dataset}: MLP {'-'.join(map(str, trainer_sizes(trainer)))} ({c.activation}), {c.optimizer} η={c.lr:g}, "
          f"{c.schedule} schedule, {c.epochs} epochs of batch {c.batch_size} on {c.device}"
          + (f", split over {ranks.size} ranks" if ranks.size > 1 else ""))
    bar = progress_bar(c.epochs - len(trainer.history.epoch), "train")
    done = len(trainer.history.epoch)
    trainer.checkpoint_periodically(checkpoint, args.checkpoint_every)
    writer = tensorboard_writer(args) if ranks.main else None
    on_step, on_epoch = watch(trainer, writer) if writer is not None else (None, None)

    def progress(epoch, total, record):
        bar(epoch - done, total - done, record)
        if on_epoch is not None:
            on_epoch(epoch, total, record)

    received = []
    try:
        with _stop_on((signal.SIGINT, signal.SIGTERM), trainer, received):
            history = trainer.fit(progress=progress, on_step=on_step)
    except (TrainingInterrupted, KeyboardInterrupt):
        bar.close()
        if writer is not None:
            writer.close()
        trainer.read_losses()                                    # (on every rank: the losses are averaged)
        if ranks.main:
            write_outputs(trainer, out, plots=False)
        print(f"interrupted at step {trainer.step_count} (epoch {len(trainer.history.epoch) + 1}): saved {checkpoint}; "
              f"run the same command with --resume to continue")
        return 128 + (received[0] if received else signal.SIGINT)
    bar.close()
    if writer is not None:
        writer.close()
    if history.diverged_at is not None:
        print(f"stopped: training diverged at step {history.diverged_at} (η = {trainer.optimizer.param_groups[0]['lr']:g})")
    for split in ("train", "test"):
        loss, acc = trainer.evaluate(split)
        print(f"{split:>5}: loss {loss:.4f}  accuracy {pct(acc)}")
    if ranks.main:
        write_outputs(trainer, out, plots=not args.no_plots)
    weights = ", model.safetensors, checkpoint.safetensors" if history.diverged_at is None else ""
    print(f"wrote {out}/: history.json, history.csv{weights}"
          + ("" if args.no_plots else ", curves.png" + (", boundary.png" if is_2d(trainer) else "")))
    if history.diverged_at is not None:
        print("the diverged weights are not saved; the checkpoint of the last epoch before it stays")
    return 0


def _check(args):
    """Every check before anything is written, then the output folder: (the config, or None to resume; the folder)."""
    config = None if args.resume else config_from(args)
    check_tensorboard(args)
    out = output_folder(args)
    draws_figures(args)                                          # without matplotlib: a note, and no figures
    checkpoint = os.path.join(out, "checkpoint.safetensors")
    if args.resume and not os.path.exists(checkpoint):
        raise UsageError(f"--resume: no checkpoint at {checkpoint!r}")
    return config, out


# option -> (TrainConfig field, parser default): flags a resumed run cannot change
_FIXED_BY_CHECKPOINT = {"--dataset": ("dataset", "spiral"), "--samples": ("n_samples", None),
                        "--hidden": ("hidden", (64, 64)), "--activation": ("activation", "relu"),
                        "--optimizer": ("optimizer", "adam"), "--lr": ("lr", None), "--schedule": ("schedule", "cosine"),
                        "--batch-size": ("batch_size", 32), "--weight-decay": ("weight_decay", 0.0),
                        "--seed": ("seed", 0), "--clip-grad": ("clip_grad", None)}


def _refuse_conflicting_flags(args, config):
    """A flag given with --resume that contradicts the checkpoint: one line naming them (exit 2)."""
    conflicts = []
    for flag, (field_name, default) in _FIXED_BY_CHECKPOINT.items():
        given = getattr(args, flag[2:].replace("-", "_"))
        saved = getattr(config, field_name)
        if given is None or given == default:
            continue                                     # not set (or set to its default): the checkpoint's stands
        if (tuple(given) if isinstance(given, (list, tuple)) else given) != \
                (tuple(saved) if isinstance(saved, (list, tuple)) else saved):
            conflicts.append(f"{flag} {given} (the checkpoint has {saved})")
    if conflicts:
        raise UsageError("--resume continues the checkpoint's run; these flags contradict it: " + "; ".join(conflicts))


@contextlib.contextmanager
def _stop_on(signals, trainer, received):
    """While training, these signals only ask the trainer to stop before its next step."""
    def handler(signum, frame):
        received.append(signum)
        trainer.request_stop()

    with handling(signals, handler):
        yield


def trainer_sizes(trainer):
    linears = [m for m in trainer.model.modules() if hasattr(m, "in_features")]
    return [linears[0].in_features] + [m.out_features for m in linears]


def is_2d(trainer):
    return trainer.data["train"][0].shape[1] == 2 and not trainer.regression


def write_outputs(trainer, out, plots=True):
    history = asdict(trainer.history)
    with open(os.path.join(out, "history.json"), "w", encoding="utf-8") as f:
        json.dump({"config": trainer.checkpoint()["config"], **history}, f, indent=1)
    columns = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr"]
    with open(os.path.join(out, "history.csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(zip(*(history[k] for k in columns)))
    if trainer.history.diverged_at is None:              # diverged weights are never saved as a result
        save(trainer.model.state_dict(), os.path.join(out, "model.safetensors"))
        trainer.save_checkpoint(os.path.join(out, "checkpoint.safetensors"))
    if plots and trainer.history.epoch:
        from minigrad.viz import plots as P

        P.plot_history(trainer.history, os.path.join(out, "curves.png"), title=f"{trainer.config.optimizer}, "
                       f"η = {trainer.config.lr:g}, {trainer.config.schedule}")
        if is_2d(trainer):
            P.plot_decision_boundary(trainer.model, *trainer.data["train"], os.path.join(out, "boundary.png"),
                                     test=trainer.data["test"])
