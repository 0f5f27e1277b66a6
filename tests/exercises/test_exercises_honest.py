"""Every checked exercise of the workbook is honest (`durable_dojo/_workbook/exercises.toml` is the list):

(a) its check FAILS on the exercise cell as shipped in its chapter (a learner who runs the check
    before editing is told what is wrong, not congratulated);
(b) its check PASSES with the reference answer, `solutions/workbook/<id>.py`;
(c) its check REJECTS every plausible wrong answer in `wrong_answers/<id>.py` (a hard-coded value,
    data kept outside storage, a fix that is safe in one schedule only...): at least one each;
(d) its check ACCEPTS every differently written right answer in `right_answers/<id>.py` (SQL
    instead of key-value storage, another key layout, a transaction instead of one batched put...):
    at least one each. A check that rejects them demands the reference's shape, not the lesson.

Each answer is the source of a whole exercise cell, run alone in a fresh namespace as a notebook
would run it. The chapters are read as shipped (git `HEAD`), so a learner who has solved exercises
in the notebooks still gets a green `make test`; `DOJO_EXERCISES=working` reads the working copy
instead (for authors, before committing). The counts are printed at the end of the run.
"""

from __future__ import annotations

import linecache
import os
import re
from pathlib import Path

import jupytext
import pytest

from durable_dojo._kata.pristine import shipped_or_working
from durable_dojo._workbook.framework import judge
from durable_dojo._workbook.manifest import exercises

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = ROOT / "solutions" / "workbook"
WRONG = Path(__file__).resolve().parent / "wrong_answers"
RIGHT = Path(__file__).resolve().parent / "right_answers"
EXERCISES = {e.id: e for e in exercises()}
CHECK_CALL = re.compile(r"""^await check\(["'](?P<id>[^"']+)["'], (?P<answer>\w+)\)$""", re.M)
# what a learner must never read in a verdict: the emulator's insides
INTERNAL = re.compile(r"durable_dojo|_core|_workbook|site-packages|Traceback|File \"|<locals>|0x[0-9a-f]{6,}")

# filled by the tests below, printed by conftest.py at the end of the run
RESULTS: dict[str, set] = {"fail as shipped": set(), "pass with the answer": set(), "wrong answers rejected": set(),
                           "right answers accepted": set()}
WRONG_TOTAL: set = set()
RIGHT_TOTAL: set = set()


def chapter_source(chapter: str) -> str:
    rel = f"notebooks/py/{chapter}.py"
    if os.environ.get("DOJO_EXERCISES") == "working":
        return (ROOT / rel).read_text(encoding="utf-8")
    return shipped_or_working(ROOT, rel).decode("utf-8")


def exercise_cells(chapter: str) -> dict[str, tuple[str, str]]:
    """{exercise id: (exercise cell source, answer name)} of one chapter: each cell tagged
    `exercise` and the `await check("<id>", <answer>)` in the next code cell."""
    notebook = jupytext.reads(chapter_source(chapter), fmt="py:percent")
    code = [c for c in notebook.cells if c.cell_type == "code"]
    found = {}
    for index, cell in enumerate(code):
        if "exercise" not in cell.metadata.get("tags", []):
            continue
        following = code[index + 1].source if index + 1 < len(code) else ""
        match = CHECK_CALL.search(following)
        assert match, f"{chapter}: the exercise cell is not followed by a check cell:\n{cell.source[:300]}"
        # a verdict is for the learner, not a proof: nbval must not compare it (its words may change)
        assert "NBVAL_CHECK_OUTPUT" not in following and "NBVAL_CHECK_OUTPUT" not in cell.source, chapter
        assert match["id"] not in found, f"{chapter}: two exercise cells are checked as {match['id']}"
        found[match["id"]] = (cell.source, match["answer"])
    return found


def answers_in(folder: Path, kind: str, exercise_id: str) -> list[tuple[str, str]]:
    """[(what this answer is, cell source)] from the `# %% <kind>: <what>` sections of a file."""
    path = folder / f"{exercise_id}.py"
    if not path.exists():
        return []
    parts = re.split(rf"^# %% {kind}: (.+)$", path.read_text(encoding="utf-8"), flags=re.M)
    return [(why.strip(), source.strip() + "\n") for why, source in zip(parts[1::2], parts[2::2])]


def wrong_answers(exercise_id: str) -> list[tuple[str, str]]:
    """[(why it is wrong, cell source)] from `# %% wrong: <why>` sections."""
    return answers_in(WRONG, "wrong", exercise_id)


def right_answers(exercise_id: str) -> list[tuple[str, str]]:
    """[(how it differs from the reference, cell source)] from `# %% right: <how>` sections."""
    return answers_in(RIGHT, "right", exercise_id)


def define(source: str, name: str, label: str):
    """Run one exercise cell as a notebook would and return what it defines under `name`."""
    filename = f"<{label}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "__main__"}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - an exercise cell defines, it awaits nothing
    assert name in namespace, f"{label} does not define {name}"
    return namespace[name]


SHIPPED = {}
for _chapter in sorted({e.chapter for e in EXERCISES.values()}):
    SHIPPED.update({id_: (cell, answer, _chapter) for id_, (cell, answer) in exercise_cells(_chapter).items()})
WRONG_CASES = [(id_, why, source) for id_ in EXERCISES for why, source in wrong_answers(id_)]
RIGHT_CASES = [(id_, how, source) for id_ in EXERCISES for how, source in right_answers(id_)]


def test_every_exercise_in_the_list_is_in_its_chapter_and_every_exercise_cell_is_listed():
    assert sorted(SHIPPED) == sorted(EXERCISES), "exercises.toml and the cells tagged `exercise` differ"
    for exercise_id, (_, answer, chapter) in SHIPPED.items():
        listed = EXERCISES[exercise_id]
        assert (listed.chapter, listed.answer) == (chapter, answer), exercise_id
        assert exercise_id.startswith(chapter[:3]), f"{exercise_id}: the id starts with its chapter's number"


def test_the_built_notebooks_keep_the_exercise_tag():
    """JupyterLab and tools find the cell to edit by its tag, in the .ipynb as in the script."""
    for chapter in sorted({e.chapter for e in EXERCISES.values()}):
        notebook = jupytext.read(ROOT / "notebooks" / f"{chapter}.ipynb")
        tagged = [c for c in notebook.cells if "exercise" in c.metadata.get("tags", [])]
        expected = [e for e in EXERCISES.values() if e.chapter == chapter]
        assert len(tagged) == len(expected), f"{chapter}.ipynb: rebuild it with notebooks/build.py"


def test_every_exercise_has_a_reference_answer_a_wrong_answer_and_another_right_answer():
    for exercise_id in EXERCISES:
        assert (ANSWERS / f"{exercise_id}.py").is_file(), f"{exercise_id}: no solutions/workbook/{exercise_id}.py"
        assert wrong_answers(exercise_id), f"{exercise_id}: no wrong answer in {WRONG.name}/{exercise_id}.py"
        assert right_answers(exercise_id), f"{exercise_id}: no other right answer in {RIGHT.name}/{exercise_id}.py"


def assert_learner_words(message: str) -> None:
    assert not INTERNAL.search(message), f"the verdict shows the emulator's insides:\n{message}"


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
async def test_the_check_fails_on_the_shipped_cell(exercise_id):
    cell, answer, _ = SHIPPED[exercise_id]
    verdict = await judge(exercise_id, define(cell, answer, f"{exercise_id}, as shipped"))
    assert not verdict.passed, f"{exercise_id}: the shipped cell passes its own check:\n{verdict}"
    assert_learner_words(verdict.message)
    RESULTS["fail as shipped"].add(exercise_id)


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
async def test_the_check_passes_with_the_reference_answer(exercise_id):
    source = (ANSWERS / f"{exercise_id}.py").read_text(encoding="utf-8")
    verdict = await judge(exercise_id, define(source, EXERCISES[exercise_id].answer, f"{exercise_id}, answer"))
    assert verdict.passed, f"{exercise_id}: the reference answer fails its check:\n{verdict}"
    RESULTS["pass with the answer"].add(exercise_id)


@pytest.mark.parametrize(("exercise_id", "why", "source"), WRONG_CASES,
                         ids=[f"{id_}: {why}" for id_, why, _ in WRONG_CASES])
async def test_the_check_rejects_a_wrong_answer(exercise_id, why, source):
    WRONG_TOTAL.add((exercise_id, why))
    verdict = await judge(exercise_id, define(source, EXERCISES[exercise_id].answer, f"{exercise_id}, wrong"))
    assert not verdict.passed, f"{exercise_id}: a wrong answer ({why}) passes the check:\n{verdict}"
    assert_learner_words(verdict.message)
    RESULTS["wrong answers rejected"].add((exercise_id, why))


@pytest.mark.parametrize(("exercise_id", "how", "source"), RIGHT_CASES,
                         ids=[f"{id_}: {how}" for id_, how, _ in RIGHT_CASES])
async def test_the_check_accepts_a_differently_written_right_answer(exercise_id, how, source):
    RIGHT_TOTAL.add((exercise_id, how))
    verdict = await judge(exercise_id, define(source, EXERCISES[exercise_id].answer, f"{exercise_id}, right"))
    assert verdict.passed, f"{exercise_id}: a right answer ({how}) fails the check:\n{verdict}"
    assert_learner_words(verdict.message)
    RESULTS["right answers accepted"].add((exercise_id, how))


def summary() -> str | None:
    """The counts, once the honesty tests above have run."""
    if not any(RESULTS.values()):
        return None
    return (f"{len(EXERCISES)} exercises: {len(RESULTS['fail as shipped'])} fail as shipped, "
            f"{len(RESULTS['pass with the answer'])} pass with the answer, "
            f"{len(RESULTS['wrong answers rejected'])} of {len(WRONG_TOTAL)} wrong answers rejected, "
            f"{len(RESULTS['right answers accepted'])} of {len(RIGHT_TOTAL)} differently written right answers accepted")
