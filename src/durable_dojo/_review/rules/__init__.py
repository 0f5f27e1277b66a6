"""The rules of `dojo review`, one module per checklist category, and their prose: `RULES` (in
code order), `RULES_BY_CODE`, `explain(code)` for `dojo review --explain`, and the checklist page
of the docs site (`render_checklist_markdown`, `write_checklist`).

Codes: `DO1xx` architecture, `DO2xx` lifecycle, `DO3xx` state, `DO4xx` performance, `DO5xx`
WebSockets. Precision comes first: a rule that cannot tell stays silent."""

from __future__ import annotations

import os

from . import architecture, lifecycle, performance, state, websockets  # noqa: F401 - each adds its rules
from .base import RULES, Rule

__all__ = ["CATEGORIES", "CHECKLIST_QUESTIONS", "RULES", "RULES_BY_CODE", "Rule", "explain",
           "render_checklist_markdown", "write_checklist"]

CATEGORIES = {
    "architecture": "Architecture",
    "lifecycle": "Lifecycle",
    "state": "State",
    "performance": "Performance",
    "websockets": "WebSockets",
}
CHECKLIST_QUESTIONS = {
    "architecture": "DO vs KV/R2 chosen well? The right id strategy (named, hex, unique)? One DO per what "
                    "(user, room, resource)?",
    "lifecycle": "Constructor synchronous? Async initialisation done safely? Cleanup in close handlers?",
    "state": "Persisted to storage? Not relying on in-memory state? Transactions for atomic changes?",
    "performance": "The event loop never blocked? Requests handled quickly? Alarms for scheduled work?",
    "websockets": "Connections tracked? Cleaned up on close? Broadcast efficient?",
}

RULES.sort(key=lambda r: r.code)
RULES_BY_CODE = {r.code: r for r in RULES}

def explain(code: str) -> str:
    """The paragraph `dojo review --explain CODE` prints."""
    r = RULES_BY_CODE.get(code.upper())
    if r is None:
        raise KeyError(code)
    return f"{r.code} ({CATEGORIES[r.category]}): {r.message}\n\n{r.explanation}\n"


def render_checklist_markdown() -> str:
    """The review-checklist page of the docs site, generated from the rule list."""
    lines = [
        "# The review checklist",
        "",
        "The reviewer's checklist for Durable Objects, and the `dojo review` rule that checks each item "
        "automatically. Run it on your code:",
        "",
        "```sh",
        "dojo review src/              # file:line: CODE message; exit 1 if anything is found",
        "dojo review --explain DO301   # why, and what to do instead",
        "dojo review --format json src/",
        "dojo review --run my_workload:scenario   # advice from a workload's metrics",
        "```",
        "",
        "Silence one finding on its line with `# dojo: ignore[DO301]`. The review reads code without "
        "running it and stays silent when it cannot tell; the dynamic advice (`durable_dojo.advise(rt)`) "
        "reads what a workload actually did.",
        "",
    ]
    for category, title in CATEGORIES.items():
        rules = [r for r in RULES if r.category == category]
        lines += [f"## {title}", "", f"*{CHECKLIST_QUESTIONS[category]}*", "",
                  "| code | checks | finding |", "| --- | --- | --- |"]
        for r in rules:
            lines.append(f"| [{r.code}](#{r.code.lower()}) | {r.title} | {r.message} |")
        lines.append("")
        for r in rules:
            lines += [f"### {r.code}", "", f"**{r.title}**: {r.message}.", "", r.explanation, ""]
    return "\n".join(lines).rstrip() + "\n"


def write_checklist(path: str | os.PathLike | None = None) -> str:
    """Write the checklist page (default `site/review-checklist.md` of the repository); returns the path."""
    if path is None:
        root = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, os.pardir, os.pardir)
        path = os.path.join(root, "site", "review-checklist.md")
    path = os.path.normpath(os.fspath(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_checklist_markdown())
    return path
