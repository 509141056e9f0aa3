"""The sweep's results file as people and interruptions leave it: exact keys, hand edits, foreign lines, misuse.

A result that parses is never dropped; a line that is not a result is skipped
with one warning naming its line number; a complete last line without its
newline gets the newline back; files written with the older, rounded keys
still resume.
"""

import json

import pytest

from minigrad.cli import main
from minigrad.training.sweep import ResultsFile, grid, job_key

BASE = {"dataset": "moons", "epochs": 1}
ONE = ["--optimizers", "sgd", "--seeds", "0", "--epochs", "1", "--samples", "120", "--hidden", "4", "--no-plots"]


def _result(lr, seed=0, loss=0.5):
    config = {"optimizer": "sgd", "lr": lr, "schedule": "constant", "seed": seed}
    return {"key": job_key(config), **config, "summary_loss": loss, "best_loss": loss, "diverged_at": None,
            "reached_target_at": None}


def _write(path, *lines, end="\n"):
    path.write_bytes(b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + end.encode())


def _header(base=BASE):
    return json.dumps({"settings": base})


# ---------------------------------------------------------------- exact keys (6)
def test_learning_rates_that_differ_past_six_digits_are_two_runs(tmp_path, capsys):
    jobs = grid(["sgd"], [0.1, 0.1000001], ["constant"], [0], base=BASE)
    assert len({job["key"] for job in jobs}) == 2
    out = tmp_path / "sweep"
    assert main(["sweep", *ONE, "--lrs", "0.1,0.1000001", "--workers", "1", "--out", str(out)]) == 0
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()[1:]]
    assert sorted(r["lr"] for r in results) == [0.1, 0.1000001]
    rows = json.loads((out / "table.json").read_text())
    assert [row["seeds"] for row in rows] == [1, 1]


def test_a_file_with_the_older_rounded_keys_still_resumes(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", *ONE, "--lrs", "0.1,0.3", "--workers", "1", "--out", str(out)]) == 0
    path = out / "results.jsonl"
    header, *lines = path.read_text().splitlines()
    old = [json.loads(line) for line in lines]
    for r in old:
        r["key"] = f"{r['optimizer']}|{r['lr']:.6g}|{r['schedule']}|{r['seed']}"     # as earlier versions wrote them
    _write(path, header, *map(json.dumps, old))
    capsys.readouterr()
    assert main(["sweep", *ONE, "--lrs", "0.1,0.3", "--workers", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "resuming, 2 already in" in printed and "] " not in printed            # nothing was run again


def test_two_results_that_shared_a_rounded_key_are_both_kept(tmp_path):
    path = tmp_path / "results.jsonl"
    a, b = _result(0.1), _result(0.1000001)
    a["key"] = b["key"] = "sgd|0.1|constant|0"                                    # the older key collided
    _write(path, _header(), json.dumps(a), json.dumps(b))
    results = ResultsFile(str(path), BASE)
    assert sorted(r["lr"] for r in results.results.values()) == [0.1, 0.1000001]


# ---------------------------------------------------------------- hand-edited files (10)
def test_the_header_alone_without_a_newline_is_repaired_not_cut(tmp_path):
    path = tmp_path / "results.jsonl"
    _write(path, _header(), end="")
    ResultsFile(str(path), BASE).append(_result(0.1))
    again = ResultsFile(str(path), BASE)
    assert list(again.results) == [job_key(_result(0.1))]
    assert path.read_text().splitlines()[0] == _header()


def test_a_complete_last_result_without_a_newline_is_kept(tmp_path):
    path = tmp_path / "results.jsonl"
    _write(path, _header(), json.dumps(_result(0.1)), json.dumps(_result(0.2)), end="")
    results = ResultsFile(str(path), BASE)
    assert len(results.results) == 2
    results.append(_result(0.3))
    assert len(ResultsFile(str(path), BASE).results) == 3


def test_a_torn_last_line_is_still_cut_off(tmp_path):
    path = tmp_path / "results.jsonl"
    whole = json.dumps(_result(0.2))
    _write(path, _header(), json.dumps(_result(0.1)), whole[: len(whole) // 2], end="")
    results = ResultsFile(str(path), BASE)
    assert len(results.results) == 1 and results.skipped == []
    assert path.read_text().endswith("\n") and len(path.read_text().splitlines()) == 2


FOREIGN = [b"42", b"[]", b"null", b'"text"', b'{"a": 1}', json.dumps({**_result(0.5), "key": 7}).encode(),
           json.dumps({**_result(0.5), "lr": "fast"}).encode(), json.dumps({**_result(0.5), "seed": None}).encode(),
           json.dumps({k: v for k, v in _result(0.5).items() if k != "summary_loss"}).encode(),
           b'{"key": "sgd|0.1|constant|0", "lr": 0.1\xff}', b"\xff\xfe not UTF-8", b"garbage"]


def test_undecodable_and_foreign_lines_are_skipped_by_line_number(tmp_path):
    path = tmp_path / "results.jsonl"
    good = [json.dumps(_result(0.1)).encode(), json.dumps(_result(0.2)).encode()]
    _write(path, _header().encode(), good[0], *FOREIGN, good[1])
    results = ResultsFile(str(path), BASE)
    assert sorted(r["lr"] for r in results.results.values()) == [0.1, 0.2]
    assert results.skipped == list(range(3, 3 + len(FOREIGN)))


def test_the_command_warns_once_naming_the_lines_and_resumes(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", *ONE, "--lrs", "0.1,0.3", "--workers", "1", "--out", str(out)]) == 0
    path = out / "results.jsonl"
    header, first, second = path.read_bytes().splitlines()
    _write(path, header, b"42", first, b"\xff", b"[]", second, end="")
    capsys.readouterr()
    assert main(["sweep", *ONE, "--lrs", "0.1,0.3", "--workers", "1", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "lines 2, 4, 5" in warnings[0], captured.err
    assert "resuming, 2 already in" in captured.out and "] " not in captured.out


# ---------------------------------------------------------------- misuse: one line, exit 2, nothing written (12)
@pytest.mark.parametrize("option", ["--lrs", "--optimizers", "--schedules", "--seeds"])
def test_an_empty_list_is_refused(option, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", option, ",", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minigrad: error:") and option in err[0]
    assert not out.exists()


def test_compare_refuses_an_empty_list_of_learning_rates(tmp_path, capsys):
    assert main(["compare", "--lrs", ",", "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--lrs" in err[0] and not (tmp_path / "c").exists()


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_results_path_that_is_a_folder_is_refused(force, tmp_path, capsys):
    out = tmp_path / "sweep"
    (out / "results.jsonl").mkdir(parents=True)
    assert main(["sweep", *ONE, "--lrs", "0.1", "--out", str(out), *force]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "results.jsonl" in err[0] and "not a file" in err[0]
    assert [p.name for p in out.iterdir()] == ["results.jsonl"] and not any((out / "results.jsonl").iterdir())
