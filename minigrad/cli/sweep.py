"""Train a grid of runs — optimizers × learning rates × schedules × seeds — on parallel processes.

Each finished run is appended to OUT/results.jsonl at once, so running the same
command again resumes a sweep that was stopped (--force starts it afresh).
Ctrl-C (SIGINT) and SIGTERM stop it with its workers, abandoning the runs in
progress, and exit with 128 + the signal's number. One sweep at a time writes
into a folder: a second is refused while the first runs. Under ``mpiexec -n N``
the other ranks are the workers: rank 0 writes the results file and hands each
run to the next rank that is free (--workers is refused there).
Prints one row per optimizer, schedule and η (medians over the seeds: the mean
training loss over the last 5 epochs, the best loss, steps to --target-loss, how
many seeds diverged and where), the band of η that converges for each optimizer,
and draws the loss against η and a heat map.
"""

import contextlib
import json
import math
import os
import signal
import sys

from minigrad.cli.common import (
    UsageError, add_data_arguments, add_jit_argument, add_output_arguments, at_least, at_least_one, config_from,
    draws_figures, float_list,
    handling, name_list, output_folder, positive_number,
)
from minigrad.cli.compare import DEFAULT_OPTIMIZERS, apply_task_defaults
from minigrad.cli.ranks import current as current_ranks
from minigrad.training.sweep import (
    FolderInUse, ResultsFile, converging_band, distribute, distribute_on_ranks, folder_lock, grid, run_job, serve, table,
)
from minigrad.training.trainer import OPTIMIZERS, SCHEDULES

HELP = "train a grid of optimizers × learning rates × schedules × seeds in parallel (resumable)"
DEFAULT_LRS = ",".join(f"{10 ** (k / 2):.3g}" for k in range(-10, 3))       # 1e-5 … 10, two per decade


def add_arguments(parser):
    add_data_arguments(parser, seed=False, device=False)
    add_jit_argument(parser)
    parser.add_argument("--optimizers", type=name_list(list(OPTIMIZERS)), default=DEFAULT_OPTIMIZERS.split(","),
                        help="comma-separated optimizers")
    parser.add_argument("--lrs", type=float_list, default=float_list(DEFAULT_LRS),
                        help="comma-separated learning rates η (default 1e-5 to 10, two per decade)")
    parser.add_argument("--schedules", type=name_list(list(SCHEDULES)), default=["constant"],
                        help="comma-separated schedules")
    parser.add_argument("--seeds", type=_seed_list, default=[0, 1, 2], help="comma-separated seeds")
    parser.add_argument("--epochs", type=at_least(1, "--epochs"), default=30, help="passes over the training set")
    parser.add_argument("--workers", type=at_least(1, "--workers"), default=None,
                        help="parallel processes (default: one per core; under mpiexec the ranks are the workers)")
    parser.add_argument("--target-loss", type=positive_number, default=0.3,
                        help="the loss whose first step is reported, and below which a run counts as converged")
    add_output_arguments(parser, "runs/sweep")
    parser.add_argument("--no-plots", action="store_true", help="skip the figures")
    apply_task_defaults(parser)


def _seed_list(text):
    try:
        seeds = at_least_one([int(part) for part in text.split(",") if part.strip()], text)
    except ValueError:
        raise UsageError(f"expected comma-separated integers, got {text!r}") from None
    if min(seeds) < 0:
        raise UsageError(f"seeds must be integers >= 0, got {text!r}")
    return seeds


def run(args):
    ranks = current_ranks()                           # one process, or the ranks of an MPI job
    if not ranks.main:
        serve(run_job)                                # the other ranks train the runs rank 0 hands them
        return 0
    base = base_settings(args)
    results_path = os.path.join(args.out, "results.jsonl")
    if os.path.lexists(results_path) and not os.path.isfile(results_path):
        raise UsageError(f"{results_path!r} is not a file; move it away or choose another --out")
    out = output_folder(args, continuing=os.path.exists(results_path))
    try:
        with folder_lock(out):                        # one sweep at a time writes into a folder
            return _sweep(args, base, out, results_path, ranks)
    except FolderInUse as exc:
        raise UsageError(f"{exc}; wait for it to end, stop it, or choose another --out") from None


def _sweep(args, base, out, results_path, ranks):
    if args.force and os.path.exists(results_path):
        os.remove(results_path)
    try:
        results = ResultsFile(results_path, base)
    except ValueError as exc:
        raise UsageError(f"{exc}; pass --force to start the sweep afresh, or choose another --out") from None
    if results.skipped:
        lines = ", ".join(map(str, results.skipped))
        print(f"minigrad: warning: {results_path}: skipped line{'s' * (len(results.skipped) > 1)} {lines}, which "
              "hold no sweep result", file=sys.stderr)
    draws_figures(args)                               # without matplotlib: a note, and no figures
    jobs = grid(args.optimizers, args.lrs, args.schedules, args.seeds, base)
    pending = results.pending(jobs)
    done = len(jobs) - len(pending)
    workers = args.workers or os.cpu_count() or 1
    where = f"on {ranks.size - 1} ranks (rank 0 hands out the runs)" if ranks.size > 1 else f"on {workers} workers"
    print(f"sweep: {len(jobs)} runs ({len(args.optimizers)} optimizers × {len(args.lrs)} η × {len(args.schedules)} "
          f"schedules × {len(args.seeds)} seeds) {where}"
          + (f"; resuming, {done} already in {results_path}" if done else ""))
    stop = _Stop()

    def record(result):
        nonlocal done
        with stop.writing():
            results.append(result)
            done += 1
            status = "diverged" if result["diverged_at"] is not None else f"loss {result['summary_loss']:.4g}"
            print(f"  [{done}/{len(jobs)}] {result['key']}: {status}", flush=True)

    try:
        with stop.on(signal.SIGINT, signal.SIGTERM):
            if ranks.size > 1:
                distribute_on_ranks(pending, on_result=record)
            else:
                distribute(pending, run_job, workers, on_result=record)
    except _Interrupted:
        print(f"interrupted: {done} of {len(jobs)} runs are saved in {results_path}, the runs in progress were "
              "abandoned; run the same command again to resume", flush=True)
        return ranks.end(128 + stop.signal, "the sweep was interrupted")
    write_outputs(args, out, [results.results[job["key"]] for job in jobs])
    return 0


def write_outputs(args, out, finished):
    """Print the table and the converging bands; write table.json and the figures."""
    rows = table(finished, args.target_loss)
    print_table(rows, args)
    with open(os.path.join(out, "table.json"), "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=1)
    if not args.no_plots:
        from minigrad.viz.plots import plot_sweep_curves, plot_sweep_heatmap

        plot_sweep_curves(rows, os.path.join(out, "loss_vs_lr.png"), args.target_loss)
        plot_sweep_heatmap(rows, os.path.join(out, "heatmap.png"))
    print(f"wrote {out}/: results.jsonl, table.json" + ("" if args.no_plots else ", loss_vs_lr.png, heatmap.png"))


class _Interrupted(Exception):
    """SIGINT or SIGTERM arrived: the sweep stops, abandoning the runs in progress."""


class _Stop:
    """SIGINT and SIGTERM stop the sweep as ``train`` stops: at once while it waits for results, but only after
    the result being written (so that no line of the results file is torn by a signal). The pool's workers end
    with it; the results already written are what the same command resumes from."""

    def __init__(self):
        self.signal, self._writing = None, False

    def _handle(self, signum, frame):
        if self.signal is None:                      # a second signal changes nothing: the sweep is stopping
            self.signal = signum
            if not self._writing:
                raise _Interrupted

    def on(self, *signals):
        return handling(signals, self._handle)

    @contextlib.contextmanager
    def writing(self):
        self._writing = True
        try:
            yield
        finally:
            self._writing = False
        if self.signal is not None:
            raise _Interrupted


def base_settings(args):
    """The TrainConfig fields every run of the sweep shares (checked by config_from first)."""
    config = config_from(args, optimizer=args.optimizers[0], lr=args.lrs[0], schedule=args.schedules[0],
                         epochs=args.epochs, target_loss=args.target_loss)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(config).items()
            if k not in ("optimizer", "lr", "schedule", "seed")}


def print_table(rows, args):
    print(f"{'optimizer':<10}{'schedule':<13}{'η':>11}{'loss (last 5)':>15}{'best':>9}"
          f"{'steps to ' + format(args.target_loss, 'g'):>15}  diverged")
    for r in rows:
        loss = "-" if not math.isfinite(r["summary_loss"]) else f"{r['summary_loss']:.4g}"
        best = "-" if not math.isfinite(r["best_loss"]) else f"{r['best_loss']:.4g}"
        steps = "-" if r["steps_to_target"] is None else f"{r['steps_to_target']:g}"
        diverged = "-" if not r["diverged"] else f"{r['diverged']}/{r['seeds']} (step {r['diverged_at']})"
        lr = f"{r['lr']:.3g}" if float(f"{r['lr']:.3g}") == r["lr"] else repr(float(r["lr"]))   # exact when 3 digits are not
        print(f"{r['optimizer']:<10}{r['schedule']:<13}{lr:>11}{loss:>15}{best:>9}{steps:>15}  {diverged}")
    print(f"η that converge (median loss ≤ {args.target_loss:g}, no seed diverged):")
    for optimizer in args.optimizers:
        for schedule in args.schedules:
            low, high, decades = converging_band(rows, optimizer, schedule, args.target_loss)
            band = ("none" if low is None else f"{low:.3g} only (one grid point)" if low == high
                    else f"{low:.3g} … {high:.3g}  ({decades:.1f} decades)")
            print(f"  {optimizer:<10}{schedule:<13}{band}")
