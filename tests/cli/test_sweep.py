"""minigrad sweep: the grid, the work distributor, the resumable results file, the table and the band."""

import json
import math

import pytest

from minigrad.cli import main
from minigrad.training.sweep import ResultsFile, converging_band, distribute, grid, table

SMALL = ["--optimizers", "sgd,adam", "--lrs", "0.01,0.1,30", "--seeds", "0,1", "--epochs", "3", "--samples", "200",
         "--hidden", "8"]


def _lines(path):
    return path.read_text().splitlines()


def test_a_sweep_runs_on_two_workers_and_a_rerun_resumes_only_the_missing_runs(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", *SMALL, "--workers", "2", "--out", str(out)]) == 0
    results = out / "results.jsonl"
    lines = _lines(results)
    assert json.loads(lines[0])["settings"]["epochs"] == 3 and len(lines) == 1 + 2 * 3 * 2
    first = {json.loads(line)["key"]: json.loads(line) for line in lines[1:]}
    assert first["sgd|30.0|constant|0"]["diverged_at"] is not None                       # η = 30 diverges
    assert (out / "loss_vs_lr.png").exists() and (out / "heatmap.png").exists()
    capsys.readouterr()
    # an interruption: two runs missing, the last line torn in the middle of its writing
    kept = lines[:-2]
    results.write_text("\n".join(kept) + "\n" + lines[-1][: len(lines[-1]) // 2])
    assert main(["sweep", *SMALL, "--workers", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "resuming, 10 already in" in printed and printed.count("] ") == 2            # only the two missing
    again = {json.loads(line)["key"]: json.loads(line) for line in _lines(results)[1:]}  # the torn line was cut off
    assert again == first                                   # the same runs give the same numbers, bit for bit


def test_a_sweep_with_other_settings_in_the_folder_is_refused_until_forced(tmp_path, capsys):
    out = tmp_path / "sweep"
    small = ["--optimizers", "sgd", "--lrs", "0.1", "--seeds", "0", "--samples", "200", "--hidden", "8", "--no-plots"]
    assert main(["sweep", *small, "--epochs", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["sweep", *small, "--epochs", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "other settings (epochs)" in err[0] and "--force" in err[0]
    assert main(["sweep", *small, "--epochs", "2", "--out", str(out), "--force"]) == 0
    assert json.loads(_lines(out / "results.jsonl")[0])["settings"]["epochs"] == 2


def _row(optimizer, lr, loss, diverged=0):
    return {"optimizer": optimizer, "schedule": "constant", "lr": lr, "seeds": 3, "summary_loss": loss,
            "best_loss": loss, "steps_to_target": None, "diverged": diverged, "diverged_at": 5 if diverged else None}


def test_the_converging_band_is_the_widest_run_of_neighbouring_good_lrs():
    rows = [_row("sgd", 1e-4, 0.9), _row("sgd", 1e-3, 0.2), _row("sgd", 1e-2, 0.1), _row("sgd", 1e-1, 0.25),
            _row("sgd", 1.0, 0.5), _row("sgd", 10.0, 0.1), _row("sgd", 100.0, math.inf, diverged=3)]
    low, high, decades = converging_band(rows, "sgd", "constant", threshold=0.3)
    assert (low, high) == (1e-3, 1e-1) and decades == pytest.approx(2.0)
    assert converging_band(rows, "adam", "constant", 0.3) == (None, None, 0.0)


def test_the_table_takes_medians_over_seeds_and_counts_divergences():
    runs = [{"optimizer": "sgd", "schedule": "constant", "lr": 0.1, "seed": s, "summary_loss": v, "best_loss": v / 2,
             "diverged_at": d, "reached_target_at": r}
            for s, v, d, r in [(0, 0.3, None, 10), (1, 0.1, None, 20), (2, math.inf, 7, None)]]
    (row,) = table(runs)
    assert row["summary_loss"] == 0.3 and row["best_loss"] == 0.15 and row["diverged"] == 1
    assert row["diverged_at"] == 7 and row["steps_to_target"] is None   # not every seed reached it


def test_distribute_reports_every_job_once_on_several_processes(tmp_path):
    jobs = grid(["sgd", "adam"], [0.1, 1.0], ["constant"], [0, 1], base={"epochs": 1})
    assert len({j["key"] for j in jobs}) == 8
    seen = []
    done = distribute(jobs, _square_lr, workers=2, on_result=seen.append)
    assert sorted(r["key"] for r in done) == sorted(j["key"] for j in jobs) and len(seen) == 8
    assert all(r["value"] == r["lr"] ** 2 for r in done)


def _square_lr(job):
    return {"key": job["key"], "lr": job["config"]["lr"], "value": job["config"]["lr"] ** 2}


def test_results_file_refuses_a_file_that_is_not_a_sweep(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text("hello\n")
    with pytest.raises(ValueError, match="not a minigrad sweep results file"):
        ResultsFile(str(path), base={})


def _history(train_loss, test_acc=None, diverged_at=None):
    from minigrad.training.trainer import History

    n = len(train_loss)
    return History(epoch=list(range(1, n + 1)), train_loss=list(train_loss), train_acc=[None] * n,
                   test_loss=[0.0] * n, test_acc=test_acc or [None] * n, lr=[0.1] * n, diverged_at=diverged_at)


def test_summarize_reports_the_last_epochs_the_best_one_and_oscillation():
    from minigrad.training.summary import summarize

    steady = summarize(_history([1.0, 0.8, 0.6, 0.5, 0.45, 0.42, 0.40, 0.39], test_acc=[0.5] * 3 + [0.6, 0.7, 0.8,
                                                                                                    0.9, 1.0]))
    assert steady["summary_loss"] == pytest.approx((0.5 + 0.45 + 0.42 + 0.40 + 0.39) / 5)
    assert steady["spread"] == pytest.approx(0.11) and steady["best_loss"] == 0.39 and steady["best_epoch"] == 8
    assert steady["test_accuracy"] == pytest.approx(0.8) and not steady["oscillating"]
    # two rises of more than 5% among the last 10 epochs: oscillating; one is not enough
    assert summarize(_history([1.0, 0.6, 0.7, 0.5, 0.56, 0.5]))["oscillating"]
    assert not summarize(_history([1.0, 0.6, 0.7, 0.5, 0.52, 0.5]))["oscillating"]
    diverged = summarize(_history([1.0, 0.9], diverged_at=70))
    assert diverged["summary_loss"] == math.inf and diverged["best_loss"] == 0.9 and diverged["diverged_at"] == 70
