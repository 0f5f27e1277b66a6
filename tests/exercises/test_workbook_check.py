"""`check()` as a learner meets it: it always prints a verdict and never raises, whatever the
answer does, and its words are the learner's (the line of their cell, never the emulator's frames)."""

from __future__ import annotations

import linecache

import pytest

from durable_dojo._workbook import framework
from durable_dojo._workbook.framework import judge
from durable_dojo.workbook import check


def cell(source: str, name: str, filename: str = "<learner cell>"):
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "__main__"}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102
    return namespace[name]


RAISES = '''
from workers import DurableObject


class Guestbook(DurableObject):
    async def sign(self, who):
        guests = await self.ctx.storage.get("guests")
        guests.append(who)
        return len(guests)

    async def names(self):
        return []
'''


async def test_an_error_in_the_learners_code_is_reported_with_their_line_and_no_emulator_frame():
    verdict = await judge("00-guestbook", cell(RAISES, "Guestbook"))
    assert not verdict.passed
    assert "sign('cy') raised AttributeError: 'NoneType' object has no attribute 'append'" in verdict.message
    assert "In your code: line 8 in sign: guests.append(who)" in verdict.message
    assert "durable_dojo" not in verdict.message and 'File "' not in verdict.message


async def test_check_prints_the_verdict_and_returns_nothing(capsys):
    assert await check("00-guestbook", cell(RAISES, "Guestbook")) is None
    printed = capsys.readouterr().out
    assert printed.startswith("✗ 00-guestbook: not yet.\n") and "line 8 in sign" in printed


@pytest.mark.parametrize(("answer", "expected"), [
    (None, "check() needs your class Guestbook"),
    (int, "Guestbook must be a subclass of DurableObject"),
])
async def test_a_wrong_kind_of_answer_is_explained(answer, expected):
    verdict = await judge("00-guestbook", answer)
    assert not verdict.passed and expected in verdict.message


async def test_an_unknown_exercise_lists_the_known_ones():
    verdict = await judge("00-no-such-thing", object())
    assert not verdict.passed
    assert "There is no exercise called '00-no-such-thing'" in verdict.message and "00-guestbook" in verdict.message


async def test_an_error_the_check_did_not_expect_is_worded_not_raised():
    async def broken_check(answer):
        raise ValueError("something odd")

    framework._CHECKS["00-guestbook"], saved = broken_check, framework._CHECKS.get("00-guestbook")
    try:
        verdict = await judge("00-guestbook", object())
    finally:
        framework._CHECKS["00-guestbook"] = saved
    assert not verdict.passed and verdict.message == "Running your Guestbook raised ValueError: something odd."


HANGS = '''
import time

from workers import DurableObject


class Guestbook(DurableObject):
    async def sign(self, who):
        while True:
            time.sleep(0.01)

    async def names(self):
        return []
'''


async def test_code_that_never_gives_control_back_gets_a_plain_verdict(monkeypatch):
    monkeypatch.setattr(framework, "HANG_SECONDS", 0.5)
    verdict = await judge("00-guestbook", cell(HANGS, "Guestbook", "<hanging cell>"))
    assert not verdict.passed
    assert "sign('cy') never finished" in verdict.message and "infinite loop" in verdict.message
    assert "durable_dojo" not in verdict.message


MODULE_STATE = '''
from workers import DurableObject

SEEN = []


class Visits(DurableObject):
    hits = 0

    async def visit(self, who):
        SEEN.append(who)
        type(self).hits += 1
'''


async def test_data_kept_at_module_level_or_on_the_class_is_named():
    Visits = cell(MODULE_STATE, "Visits", "<module state cell>")
    with pytest.raises(framework.NotYet) as raised:
        with framework.module_state_unchanged(Visits), framework.world({"V": Visits}) as rt:
            await rt.env.V.getByName("a").visit("ada")
    message = str(raised.value)
    assert "Your code changed SEEN, Visits.hits" in message
    assert "on the class, shared by all its objects and at module level" in message


WORKER_STATE = '''
from workers import Response, WorkerEntrypoint

COUNT = [0]


class Front(WorkerEntrypoint):
    async def fetch(self, request):
        COUNT[0] += 1
        return Response(str(COUNT[0]))
'''


async def test_a_worker_keeping_data_at_module_level_is_told_to_use_an_object_not_self_ctx_storage():
    """A Worker has no self.ctx.storage: the advice for it names a Durable Object's storage."""
    Front = cell(WORKER_STATE, "Front", "<worker state cell>")
    with pytest.raises(framework.NotYet) as raised:
        with framework.module_state_unchanged(Front), framework.world({}, worker=Front) as rt:
            await rt.fetch("https://example.com/")
    message = str(raised.value)
    assert message.startswith("Your Worker changed COUNT, which lives at module level.")
    assert "keep the data in a Durable Object's storage" in message and "self.ctx.storage" not in message


async def test_untouched_module_state_passes():
    Visits = cell(MODULE_STATE, "Visits", "<module state cell 2>")
    with framework.module_state_unchanged(Visits), framework.world({"V": Visits}):
        pass


async def test_the_shipped_interest_exercise_is_right_in_one_run_so_only_exploring_finds_its_race():
    """03-interest teaches that one passing run proves little: its shipped cell must end right in
    the loop's own order and wrong in another, which is why its check explores every order."""
    import asyncio

    from durable_dojo._workbook.chapter03 import INTEREST_PERCENT, Services

    shipped = shipped_answer("03-interest")
    with framework.world({"SAVINGS": shipped}, outbound=Services()) as rt:
        account = rt.env.SAVINGS.getByName("ada")
        await account.deposit(100)
        await asyncio.gather(account.add_interest(), account.deposit(50))
        assert await account.balance() == 100 + INTEREST_PERCENT + 50
    verdict = await judge("03-interest", shipped)
    assert not verdict.passed and "schedule s0a" in verdict.message


def shipped_answer(exercise_id: str):
    from test_exercises_honest import SHIPPED, define

    source, answer, _ = SHIPPED[exercise_id]
    return define(source, answer, f"{exercise_id}, as shipped")


async def test_an_exercise_whose_checks_are_not_written_yet_says_so(monkeypatch):
    from durable_dojo._workbook.manifest import Exercise

    listed = Exercise("99-later", "99-nowhere", "Thing", "not written yet", "nothing yet")
    monkeypatch.setattr(framework, "find", lambda exercise_id: listed)
    verdict = await judge("99-later", object())
    assert not verdict.passed and "The check of '99-later' is missing" in verdict.message


TOO_BIG = '''
from workers import DurableObject


class Guestbook(DurableObject):
    async def sign(self, who):
        await self.ctx.storage.put("guests", "x" * 3_000_000)

    async def names(self):
        return []
'''


async def test_a_javascript_error_is_named_as_python_code_receives_it():
    verdict = await judge("00-guestbook", cell(TOO_BIG, "Guestbook", "<too big cell>"))
    assert "sign('cy') raised a JavaScript error, pyodide.ffi.JsException Error: string or blob too big" in verdict.message
    # the quoted trace names the class as the verdict does (as a Python Worker's traceback would)
    assert "rpc:error JsException: Error: string or blob too big" in verdict.message
    assert "JsError" not in verdict.message
