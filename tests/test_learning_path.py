"""docs/start-here.md walks every chapter and every kata, and the links of it and of
docs/glossary.md lead to files that exist (a renamed chapter or kata breaks the path loudly)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from durable_dojo._kata.manifest import load_manifest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def chapters() -> list[str]:
    return sorted(p.stem for p in (REPO / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def start_here() -> str:
    return (DOCS / "start-here.md").read_text(encoding="utf-8")


def test_the_start_here_path_links_every_chapter_in_order():
    text = start_here()
    positions = [text.find(f"../notebooks/{chapter}.ipynb") for chapter in chapters()]
    missing = [c for c, at in zip(chapters(), positions) if at < 0]
    assert not missing, f"chapters missing from docs/start-here.md: {missing}"
    assert positions == sorted(positions), "docs/start-here.md lists the chapters out of order"


def test_the_start_here_path_links_every_kata():
    text = start_here()
    missing = [k.id for k in load_manifest(REPO).katas if f"../katas/{k.id}/" not in text]
    assert not missing, f"katas missing from docs/start-here.md: {missing}"


@pytest.mark.parametrize("page", ["docs/glossary.md", "docs/start-here.md", "workshop/README.md"])
def test_every_relative_link_resolves(page):
    path = REPO / page
    text = path.read_text(encoding="utf-8")
    links = [link for link in LINK.findall(text) if "://" not in link and not link.startswith("#")]
    assert links, f"{page} links nothing"
    broken = [link for link in links if not (path.parent / link.split("#")[0]).resolve().exists()]
    assert not broken, f"{page} has broken links: {broken}"


def test_the_workshop_stumbles_give_each_kata_s_first_hint():
    text = (REPO / "workshop" / "README.md").read_text(encoding="utf-8")
    missing = [k.id for k in load_manifest(REPO).katas if k.hints[0] not in text]
    assert not missing, f"workshop/README.md lacks the first hint of {missing}"


def test_the_glossary_defines_the_words_the_workbook_relies_on():
    text = (DOCS / "glossary.md").read_text(encoding="utf-8")
    terms = {m.lower() for m in re.findall(r"^\*\*(.+?)\*\*$", text, flags=re.M)}
    for word in ("durable object", "namespace", "stub", "instance", "isolate", "input gate", "output gate",
                 "hibernation", "eviction", "alarm", "blockconcurrencywhile", "compatibility date"):
        assert any(term.startswith(word) for term in terms), f"docs/glossary.md does not define {word!r}"


def _agendas(text: str) -> dict[str, list[tuple[int, int]]]:
    """{agenda heading: [(start minute, length), ...]} from the workshop's agenda tables."""
    agendas, heading = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:]
        row = re.match(r"\| (\d+):(\d\d) \|.*\| (\d+) \|$", line)
        if row and heading:
            agendas.setdefault(heading, []).append((int(row[1]) * 60 + int(row[2]), int(row[3])))
    return agendas


def test_each_workshop_agenda_adds_up_to_its_length():
    agendas = _agendas((REPO / "workshop" / "README.md").read_text(encoding="utf-8"))
    lengths = {"90 minutes": 90, "Half day": 210, "Full day": 420}
    assert {next(k for k in lengths if h.startswith(k)) for h in agendas} == set(lengths)
    for heading, rows in agendas.items():
        length = next(v for k, v in lengths.items() if heading.startswith(k))
        for (start, minutes), (following, _) in zip(rows, rows[1:]):
            assert start + minutes == following, f"{heading}: a block at {start} min of {minutes} min, next at {following}"
        assert rows[0][0] == 0 and rows[-1][0] + rows[-1][1] == length, heading


def test_the_workshop_names_only_real_exercises_and_gives_a_hint_for_those_of_chapters_4_to_7():
    from durable_dojo._workbook.manifest import exercises

    text = (REPO / "workshop" / "README.md").read_text(encoding="utf-8")
    known = {e.id for e in exercises()}
    named = set(re.findall(r"`(\d\d-[a-z-]+)`", text)) | set(re.findall(r"^\| (\d\d-[a-z-]+) \|", text, re.M))
    katas = {k.id for k in load_manifest(REPO).katas}
    assert named - katas <= known, f"workshop/README.md names exercises that do not exist: {named - katas - known}"
    stumbles = set(re.findall(r"^\| (0[4-7]-[a-z-]+) \|", text, re.M)) - katas
    assert stumbles == {e.id for e in exercises() if e.id[:2] in ("04", "05", "06", "07")}
