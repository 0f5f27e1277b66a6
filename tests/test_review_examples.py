"""`dojo review` tried as a new user would: three Cloudflare-style Durable Object programs written
fresh for this test (examples/review/: a leaderboard, a document-collaboration room, an API-key
usage meter), each with good and bad code mixed. The review must find exactly the problems below,
at these lines, and nothing in the code that is right. The programs also run on the emulator, and
some findings are shown to be real by running the code.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from durable_dojo import Runtime
from durable_dojo._review.review import review_paths
from durable_dojo._review.cli import main as review_main
from durable_dojo.testing import connect
from workers import Response

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "review"

EXPECTED = {
    "leaderboard.py": [
        (40, "DO301", "self.submissions += 1: a statistic kept only in a field"),
        (57, "DO303", "claim_prize: read the prize, pay it out over fetch, then mark it paid: two claims pay twice"),
        (63, "DO401", "time.sleep() between badge calls"),
        (73, "DO305", "the season reset lists every key and deletes them one by one"),
        (94, "DO103", 'every request counts a play on getByName("all-games")'),
    ],
    "doc_room.py": [
        (43, "DO502", "cursor positions keyed by socket in self.cursors: empty after hibernation"),
        (58, "DO304", "meta['last_active'] changed on the copy get() returned, never put back"),
        (76, "DO503", "kick() closes sockets, then the getWebSockets() broadcast sends to them"),
        (79, "DO404", "the snapshot waits 30 s in a waitUntil task instead of an alarm"),
    ],
    "usage_meter.py": [
        (23, "DO201", "setAlarm() in the constructor, outside blockConcurrencyWhile"),
        (43, "DO302", "used and used_over_quota committed before the call to billing, overage_cents after it"),
        (51, "DO403", "remaining() wraps a storage read in blockConcurrencyWhile on every call"),
        (56, "DO402", "slow_down() spins on Date.now()"),
        (77, "DO101", "one audit object per request from newUniqueId()"),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_review_finds_exactly_the_problems_of_each_program(name):
    findings = review_paths([EXAMPLES / name])
    assert [(f.line, f.code) for f in findings] == [(line, code) for line, code, _why in EXPECTED[name]]


def test_the_examples_folder_reviews_with_exit_1_and_the_findings_in_order(capsys):
    assert review_main([str(EXAMPLES)]) == 1
    lines = capsys.readouterr().out.splitlines()
    reported = [(Path(line.split(":")[0]).name, int(line.split(":")[1]), line.split()[1]) for line in lines[:-1]]
    expected = [(name, line, code) for name in sorted(EXPECTED) for line, code, _ in EXPECTED[name]]
    assert reported == expected
    assert lines[-1].startswith("14 findings in 3 files")


def test_each_line_says_what_the_rule_saw():
    by_line = {(f.path.rsplit("/", 1)[-1], f.line): f.message for f in review_paths([EXAMPLES])}
    assert by_line[("leaderboard.py", 40)].endswith("(self.submissions)")
    assert by_line[("leaderboard.py", 57)].endswith("(read on line 52, await on line 55)")
    assert by_line[("leaderboard.py", 94)].endswith('("all-games")')
    assert by_line[("doc_room.py", 58)].endswith("(meta from get('meta'))")
    assert by_line[("usage_meter.py", 43)].endswith("(the write on line 38 is committed before the await on line 41, "
                                                    "and nothing undoes it)")
    assert by_line[("usage_meter.py", 23)].endswith("(setAlarm())")


# ----- the programs run, and some findings show up as behaviour -----


def load(name):
    spec = importlib.util.spec_from_file_location(f"review_example_{Path(name).stem}", EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_leaderboard_runs_and_its_submission_count_is_lost_at_eviction(make_runtime):
    """DO301 on line 40, shown: the statistic restarts from zero after an eviction."""
    lb = load("leaderboard.py")
    rt = make_runtime(durable_objects={"LEADERBOARD": lb.Leaderboard, "PLAYS": lb.Plays}, worker=lb.Default)
    for player, score in [("ada", 50), ("bob", 70), ("ada", 90)]:
        response = await rt.fetch("https://game.example.com/games/chess/scores", method="POST",
                                  body=json.dumps({"player": player, "score": score}))
        assert response.status == 200
    top = await (await rt.fetch("https://game.example.com/games/chess/top")).json()
    assert [(row["player"], row["best"]) for row in top] == [("ada", 90), ("bob", 70)]
    board = rt.env.LEADERBOARD.getByName("game:chess")
    assert await board.stats() == {"players": 2, "submissions": 3}
    await rt.evict(board)
    assert await board.stats() == {"players": 2, "submissions": 0}  # the scores survive, the count does not
    assert await rt.env.PLAYS.getByName("all-games").count_play() == 5  # 4 requests + this call


async def test_doc_room_runs_and_its_cursor_map_is_empty_after_hibernation(make_runtime):
    """DO502 on line 43, shown: after hibernation the room has forgotten every editor's cursor."""
    room_module = load("doc_room.py")
    rt = make_runtime(durable_objects={"DOCS": room_module.DocRoom}, worker=room_module.Default)
    created = await (await rt.fetch("https://docs.example.com/docs", method="POST",
                                    body=json.dumps({"title": "Plan"}))).json()
    stub = rt.env.DOCS.get(rt.env.DOCS.idFromString(created["id"]))
    ada = await connect(stub, "http://do/docs/x?user=ada")
    bob = await connect(stub, "http://do/docs/x?user=bob")
    assert json.loads(await ada.receive())["type"] == "snapshot"
    assert json.loads(await bob.receive())["type"] == "snapshot"
    ada.send(json.dumps({"type": "edit", "base": 0, "at": 0, "delete": 0, "insert": "Hello"}))
    edit = json.loads(await bob.receive())
    assert (edit["type"], edit["version"], edit["op"]["insert"]) == ("edit", 1, "Hello")
    ada.send(json.dumps({"type": "cursor", "position": 5}))
    assert json.loads(await bob.receive()) == {"type": "cursor", "user": "ada", "position": 5}

    def cursors(obj, ctx):
        return sorted(obj.cursors.values())

    from durable_dojo.testing import run_in_durable_object

    assert await run_in_durable_object(stub, cursors) == [5]
    await rt.advance(60)  # nothing to do: the room hibernates (the snapshot task ran first)
    assert rt.trace.select("hibernate")
    assert await run_in_durable_object(stub, cursors) == []  # the sockets are still there, the map is not
    assert len(await run_in_durable_object(stub, lambda obj, ctx: ctx.getWebSockets())) == 2


async def test_usage_meter_runs_against_its_plan_service(make_runtime):
    meter_module = load("usage_meter.py")

    def plans(request):
        return Response.from_json({"quota": 100, "overage": True})

    rt = make_runtime(durable_objects={"METER": meter_module.UsageMeter, "AUDIT": meter_module.AuditLog},
                      worker=meter_module.Default, outbound=plans)
    headers = {"Authorization": "Bearer k1", "X-Units": "60"}
    first = await (await rt.fetch("https://api.example.com/v1/run", headers=headers)).json()
    second = await (await rt.fetch("https://api.example.com/v1/run", headers=headers)).json()
    assert first == {"allowed": True, "remaining": 40} and second == {"allowed": True, "remaining": 0}
    assert await rt.env.METER.getByName("key:k1").remaining() == 0
    # DO101 on line 77, shown: every request made a brand-new audit object
    assert rt.metrics("AUDIT")["objectsCreated"] == 2
