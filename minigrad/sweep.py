"""A grid of training runs — optimizers × learning rates × schedules × seeds — and a small work distributor.

The grid is a list of jobs, each a plain dict naming one run. ``distribute`` hands
them to worker processes on this machine and reports each result as it arrives;
the results file (one JSON line per finished run, appended and flushed at once)
is what a re-run reads to skip the runs already done, so a sweep that was
stopped resumes where it was. The same job list can be handed to other workers
(MPI ranks, say) by any loop that calls ``run_job``.

Example:
    >>> jobs = grid(["sgd", "adam"], [1e-3, 1e-2, 1e-1], ["constant"], [0, 1], base={"dataset": "moons"})
    >>> results = ResultsFile("runs/sweep/results.jsonl", base={"dataset": "moons"})
    >>> distribute(results.pending(jobs), run_job, workers=2, on_result=results.append)
"""

import json
import math
import multiprocessing
import os
from itertools import product

from minigrad.summary import summarize


def grid(optimizers, lrs, schedules, seeds, base):
    """Every combination, as jobs: dicts of TrainConfig fields (``base`` plus one value of each axis) and a key."""
    jobs = []
    for optimizer, lr, schedule, seed in product(optimizers, lrs, schedules, seeds):
        config = {**base, "optimizer": optimizer, "lr": float(lr), "schedule": schedule, "seed": int(seed)}
        jobs.append({"key": job_key(config), "config": config})
    return jobs


def job_key(config):
    """A run's name in the results file, optimizer|η|schedule|seed, with η exact (``repr`` is the shortest text
    that reads back as the same float), so that no two learning rates share a key."""
    return f"{config['optimizer']}|{float(config['lr'])!r}|{config['schedule']}|{config['seed']}"


def run_job(job):
    """Train the run a job names on the CPU of this process; returns its summary (``minigrad.summary``)."""
    from minigrad.trainer import TrainConfig, Trainer

    trainer = Trainer(TrainConfig(**job["config"]))
    history = trainer.fit()
    result = summarize(history)
    result["train_loss"] = list(history.train_loss)
    return {"key": job["key"], **{k: job["config"][k] for k in ("optimizer", "lr", "schedule", "seed")}, **result}


def distribute(jobs, work, workers=1, on_result=None):
    """Run ``work(job)`` for every job on ``workers`` processes; ``on_result(result)`` as each one finishes.

    With one worker everything runs in this process (easier to debug, and no start-up cost).
    Returns the results in the order they finished.
    """
    done = []
    if workers <= 1 or len(jobs) <= 1:
        results = map(work, jobs)
        pool = None
    else:
        pool = multiprocessing.get_context("spawn").Pool(min(workers, len(jobs)), initializer=_one_thread)
        results = pool.imap_unordered(work, jobs)
    try:
        for result in results:
            done.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    return done


def _one_thread():
    """Workers share the machine's cores: one BLAS thread each."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"


class ResultsFile:
    """The sweep's results, one JSON line per finished run, after a first line holding the shared settings.

    A line is appended and flushed as each run finishes, so an interrupted sweep
    loses only the runs in progress; a torn last line (the process was killed while
    writing it) is ignored. Opening a file written with other shared settings raises
    ``ValueError`` (its runs would not be comparable).
    """

    def __init__(self, path, base):
        self.path, self.base = path, dict(base)
        self.results = {}
        if os.path.exists(path):
            self._read()
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(json.dumps({"settings": self.base}) + "\n")

    def _read(self):
        with open(self.path, encoding="utf-8") as f:
            text = f.read()
        if text and not text.endswith("\n"):            # a line torn by an interruption: cut it off, so that
            with open(self.path, "r+", encoding="utf-8") as f:   # the next result starts a line of its own
                f.truncate(len(text[: text.rfind("\n") + 1].encode("utf-8")))
        lines = text.split("\n")
        try:
            settings = json.loads(lines[0])["settings"]
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"{self.path} is not a minigrad sweep results file") from None
        if settings != json.loads(json.dumps(self.base)):
            changed = sorted(k for k in set(settings) | set(self.base) if settings.get(k) != self.base.get(k))
            raise ValueError(f"{self.path} holds a sweep with other settings ({', '.join(changed)})")
        for line in lines[1:]:
            try:
                result = json.loads(line)
            except ValueError:
                continue                                  # empty, or torn by an interruption
            key = job_key(result)                         # from the stored fields: files with older keys resume
            self.results[key] = {**result, "key": key}

    def pending(self, jobs):
        """The jobs whose results are not in the file yet."""
        return [job for job in jobs if job["key"] not in self.results]

    def append(self, result):
        self.results[result["key"]] = result
        line = json.dumps(result)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())


def table(results, target_loss=None):
    """One row per (optimizer, schedule, η): medians over seeds of the summary and best losses, steps to the
    target, and how many seeds diverged (with the earliest step)."""
    groups = {}
    for r in results:
        groups.setdefault((r["optimizer"], r["schedule"], r["lr"]), []).append(r)
    rows = []
    for (optimizer, schedule, lr), runs in sorted(groups.items()):
        diverged = [r["diverged_at"] for r in runs if r["diverged_at"] is not None]
        reached = [r["reached_target_at"] for r in runs if r["reached_target_at"] is not None]
        rows.append({"optimizer": optimizer, "schedule": schedule, "lr": lr, "seeds": len(runs),
                     "summary_loss": _median([r["summary_loss"] for r in runs]),
                     "best_loss": _median([r["best_loss"] for r in runs]),
                     "steps_to_target": _median(reached) if len(reached) == len(runs) else None,
                     "diverged": len(diverged), "diverged_at": min(diverged) if diverged else None})
    return rows


def converging_band(rows, optimizer, schedule, threshold):
    """The widest run of neighbouring grid η whose median summary loss is at most ``threshold`` with no seed
    diverged: (lowest η, highest η, width in decades). Measured on the grid, so its resolution is the grid's."""
    lrs = sorted((r["lr"], r["diverged"] == 0 and r["summary_loss"] <= threshold) for r in rows
                 if r["optimizer"] == optimizer and r["schedule"] == schedule)
    best, current = None, []
    for lr, good in lrs + [(None, False)]:
        if good:
            current.append(lr)
            continue
        if current and (best is None or math.log10(current[-1] / current[0]) > math.log10(best[-1] / best[0])):
            best = current
        current = []
    if best is None:
        return None, None, 0.0
    return best[0], best[-1], math.log10(best[-1] / best[0])


def _median(values):
    values = sorted(values)
    if not values:
        return math.nan
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
