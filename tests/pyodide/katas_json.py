"""Write the katas `tests/pyodide/katas.mjs` runs, as JSON: [{id, shipped, solution, failing_tests}].

`shipped` is the text of the kata's learner file as shipped (the last commit, read through
`durable_dojo._kata.pristine` as `make test` and the kata pages read it), so "each kata fails as
shipped" holds in a checkout where a learner has solved katas; the working tree's only where
there is no shipped copy (no git: a folder unpacked from an archive). `solution` is the path of
the solution file.

    python tests/pyodide/katas_json.py OUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

from durable_dojo._kata.manifest import load_manifest, load_shipped_manifest  # noqa: E402
from durable_dojo._kata.pristine import PristineNotFound  # noqa: E402


def katas(root: Path = REPO) -> list[dict]:
    try:
        manifest = load_shipped_manifest(root, check_tests=False)
    except PristineNotFound:
        manifest = load_manifest(root, check_tests=False)
    return [{"id": kata.id, "shipped": manifest.shipped(kata).read_text(encoding="utf-8"),
             "solution": str(root / kata.solution), "failing_tests": list(kata.failing_tests)}
            for kata in manifest.katas]


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(katas(), indent=1) + "\n", encoding="utf-8")
