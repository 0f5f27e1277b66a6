"""Reading-time estimates for docs/start-here.md and workshop/README.md: words, not a stopwatch.

    .venv/bin/python bench/learning_path.py

For each chapter (notebooks/py/*.py) and kata (katas/katas.toml order): the words of prose and
of code, and an estimate of the minutes to read it: prose at 200 words a minute, code at 100 (read
twice as slowly as prose). For a kata, the words are its README and the file the learner edits,
and the solving time is a guess by difficulty (SOLVING_MINUTES), not a measurement. The measured
figures (a chapter's execution, a kata's `dojo check`) come from `make test`'s notebook time
budget and `bench/katas.py`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROSE_WPM = 200
CODE_WPM = 100
SOLVING_MINUTES = {"intro": 10, "core": 20, "advanced": 30}
"""A guess: minutes to solve a kata once read, by its difficulty label in katas/katas.toml."""

WORD = re.compile(r"[A-Za-z0-9_']+")


def words(text: str) -> int:
    return len(WORD.findall(text))


def chapter_words(script: Path) -> tuple[int, int]:
    """(prose words, code words) of a py:percent chapter: `# ` lines of markdown cells are prose."""
    prose = code = 0
    in_markdown = False
    for line in script.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            in_markdown = "[markdown]" in line
            continue
        if in_markdown:
            text = line.lstrip("# ")
            if not text.startswith(("<!-- diagram:", '<figure class="dojo-diagram"')):  # a picture, not words
                prose += words(text)
        elif not line.startswith("# NBVAL"):
            code += words(line)
    return prose, code


def minutes(prose: int, code: int) -> float:
    return prose / PROSE_WPM + code / CODE_WPM


def main() -> None:
    sys.path.insert(0, str(REPO / "src"))
    from durable_dojo._kata.manifest import load_manifest

    print("chapter                        prose  code  reading (min, estimate)")
    for script in sorted((REPO / "notebooks" / "py").glob("[0-9][0-9]-*.py")):
        prose, code = chapter_words(script)
        print(f"{script.stem:<30} {prose:>5} {code:>5}  {minutes(prose, code):5.0f}")
    print("kata                           prose  code  reading  solving (min, estimates)")
    for kata in load_manifest(REPO).katas:
        readme = REPO / "katas" / kata.id / "README.md"
        prose = words(readme.read_text(encoding="utf-8")) if readme.exists() else 0
        code = words((REPO / kata.learner).read_text(encoding="utf-8"))
        solving = SOLVING_MINUTES.get(str(kata.difficulty), 20)
        print(f"{kata.id:<30} {prose:>5} {code:>5}  {minutes(prose, code):7.0f}  {solving:7}")


if __name__ == "__main__":
    main()
