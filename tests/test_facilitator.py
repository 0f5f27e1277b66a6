"""`dojo progress [--json] [FILE...]`: a participant's progress summarised for a workshop
facilitator, from their progress.json, as JSON for scripts and as text for a person; with several
files, the room's medians per kata."""

from __future__ import annotations

import json

import pytest

from durable_dojo._kata.cli import main
from durable_dojo._kata.facilitator import STUCK_CHECKS


@pytest.fixture
def participant(tmp_path):
    """A participant who passed kata 01 (after 2 checks and a hint), passed 02 but broke it since,
    and has failed 03 many times with every hint shown."""
    path = tmp_path / "progress.json"
    path.write_text(json.dumps({"version": 1, "katas": {
        "01-counter-forgets": {"passed": True, "passed_at": "2026-12-07T10:00:00+0000", "last": "passed",
                               "runs": 2, "hints": 1},
        "02-cart-never-found": {"passed": True, "last": "failed", "runs": 3},
        "03-unloaded-quota": {"last": "failed", "runs": STUCK_CHECKS + 1, "hints": 3},
    }}), encoding="utf-8")
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["progress", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_summary_counts_passes_checks_and_hints_and_names_the_stuck_kata(participant, capsys):
    code, out, _ = run(capsys, "--json", str(participant))
    assert code == 0
    summary = json.loads(out)
    assert summary["katas_total"] == 17 and summary["katas_passed"] == 2 and summary["hints_shown"] == 4
    assert summary["current"] == "03-unloaded-quota"
    assert summary["stuck"] == ["03-unloaded-quota"]
    by_id = {k["id"]: k for k in summary["katas"]}
    assert by_id["01-counter-forgets"] == {
        "id": "01-counter-forgets", "order": 1, "title": "A counter that forgets", "status": "passed",
        "checks": 2, "hints_shown": 1, "hints_total": 3, "first_check_at": None,
        "passed_at": "2026-12-07T10:00:00+0000", "minutes": None}
    assert by_id["02-cart-never-found"]["status"] == "regressed"
    assert by_id["04-frozen-relay"]["status"] == "new" and by_id["04-frozen-relay"]["checks"] == 0
    assert [k["order"] for k in summary["katas"]] == sorted(k["order"] for k in summary["katas"])


def test_text_summary_lists_the_touched_katas_and_says_where_the_participant_is(participant, capsys):
    code, out, _ = run(capsys, str(participant))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["01-counter-forgets", "passed", "2", "checks", "1/3", "hints"]
    assert lines[1].split() == ["02-cart-never-found", "regressed", "3", "checks", "0/3", "hints"]
    assert lines[2].split()[:2] == ["03-unloaded-quota", "failed"] and lines[2].endswith("<- stuck")
    assert "04-frozen-relay" not in out  # untouched katas stay out of the way
    assert "2 of 17 katas passed, 4 hints shown" in out
    assert "working on: 03-unloaded-quota" in out
    assert "looks stuck on: 03-unloaded-quota" in out


def test_a_few_failed_checks_with_hints_left_is_not_stuck(tmp_path, capsys):
    path = tmp_path / "progress.json"
    path.write_text(json.dumps({"katas": {"01-counter-forgets": {"last": "failed", "runs": STUCK_CHECKS - 1,
                                                                   "hints": 2}}}), encoding="utf-8")
    summary = json.loads(run(capsys, "--json", str(path))[1])
    assert summary["stuck"] == [] and summary["current"] == "01-counter-forgets"


def test_a_file_that_is_not_a_progress_file_is_refused_and_left_in_place(tmp_path, capsys):
    path = tmp_path / "progress.json"
    path.write_text("{not json", encoding="utf-8")
    code, out, err = run(capsys, "--json", str(path))
    assert code == 2 and out == "" and "is not a readable progress file" in err
    assert path.read_text(encoding="utf-8") == "{not json"
    code, _, err = run(capsys, str(tmp_path / "missing.json"))
    assert code == 2 and "missing.json" in err


def test_without_a_file_it_reads_this_project_s_progress(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DOJO_STATE_DIR", str(tmp_path))
    (tmp_path / "progress.json").write_text(json.dumps({"katas": {"01-counter-forgets": {
        "passed": True, "last": "passed", "runs": 1}}}), encoding="utf-8")
    summary = json.loads(run(capsys, "--json")[1])
    assert summary["katas_passed"] == 1 and summary["current"] == "02-cart-never-found"


def test_the_dojo_command_has_progress(participant, capsys):
    from durable_dojo.cli import main as dojo

    assert dojo(["progress", "--json", str(participant)]) == 0
    assert json.loads(capsys.readouterr().out)["katas_passed"] == 2


def test_minutes_run_from_a_katas_first_check_to_its_first_pass(tmp_path, capsys):
    path = tmp_path / "progress.json"
    path.write_text(json.dumps({"katas": {
        "01-counter-forgets": {"passed": True, "last": "passed", "runs": 3,
                               "first_check_at": "2026-12-07T10:00:00+0000", "passed_at": "2026-12-07T10:12:30+0000"},
        "02-cart-never-found": {"passed": True, "last": "passed", "runs": 1,  # a file from before the time stamp
                                "passed_at": "2026-12-07T10:20:00+0000"},
    }}), encoding="utf-8")
    summary = json.loads(run(capsys, "--json", str(path))[1])
    by_id = {k["id"]: k for k in summary["katas"]}
    assert by_id["01-counter-forgets"]["minutes"] == 12.5
    assert by_id["02-cart-never-found"]["minutes"] is None
    out = run(capsys, str(path))[1]
    assert out.splitlines()[0].split()[-2:] == ["12.5", "min"] and "min" not in out.splitlines()[1]


def test_a_check_stamps_the_katas_first_check_once(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from durable_dojo._kata import progress as progress_module

    clock = iter(["2026-12-07T09:00:00+0000", "2026-12-07T09:05:00+0000", "2026-12-07T09:09:00+0000"])
    monkeypatch.setattr(progress_module.time, "strftime", lambda fmt: next(clock))
    progress = progress_module.Progress(tmp_path / "progress.json")
    kata = SimpleNamespace(id="01-counter-forgets")
    progress.record(SimpleNamespace(kata=kata, status="failed", passed=False))
    progress.record(SimpleNamespace(kata=kata, status="failed", passed=False))
    progress.record(SimpleNamespace(kata=kata, status="passed", passed=True))
    entry = progress.data["katas"]["01-counter-forgets"]
    assert entry["first_check_at"] == "2026-12-07T09:00:00+0000" and entry["passed_at"] == "2026-12-07T09:09:00+0000"


def test_several_files_give_the_rooms_medians_per_kata(tmp_path, capsys):
    def participant(name, **katas):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"katas": katas}), encoding="utf-8")
        return str(path)

    def passed(minutes, runs):
        return {"passed": True, "last": "passed", "runs": runs, "first_check_at": "2026-12-07T10:00:00+0000",
                "passed_at": f"2026-12-07T10:{minutes:02d}:00+0000"}

    files = [participant("ann", **{"01-counter-forgets": passed(10, 2)}),
             participant("bob", **{"01-counter-forgets": passed(20, 4), "02-cart-never-found": passed(5, 1)}),
             participant("cy", **{"01-counter-forgets": {"last": "failed", "runs": STUCK_CHECKS + 1}}),
             participant("dee", **{"01-counter-forgets": passed(59, 9)})]
    room = json.loads(run(capsys, "--json", *files)[1])
    assert room["participants"] == 4
    first, second = room["katas"][:2]
    assert (first["id"], first["started"], first["passed"], first["median_minutes"], first["timed"],
            first["median_checks"], first["stuck"]) == ("01-counter-forgets", 4, 3, 20.0, 3, 4, ["cy"])
    assert (second["started"], second["passed"], second["median_minutes"]) == (1, 1, 5.0)
    lines = run(capsys, *files)[1].splitlines()
    assert lines[0] == "4 participants"
    assert lines[2].split() == ["01-counter-forgets", "4", "3", "20", "4", "cy"]
    assert len(lines) == 4  # katas nobody started are left out
    code, _, err = run(capsys, files[0], str(tmp_path / "missing.json"))
    assert code == 2 and "missing.json" in err
