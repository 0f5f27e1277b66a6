"""The workbook's widgets on a chapter page: their buttons, without ipywidgets.

In Jupyter an `Inspector` or a `SchedulerPlayground` displayed by a cell is an ipywidgets view
whose buttons call one method, `press(button, argument)`. In the browser the page draws the
view from the state this module gives it (its HTML, and what the buttons can name) and sends a
`widget` message per button; this module keeps every view a cell displayed, by an id the page
got with the output (under the view's MIME type), and calls the same `press` on it.
"""

from __future__ import annotations

from ..widgets import Inspector, SchedulerPlayground
from .host import learner_run

MIME = "application/vnd.durable-dojo.inspector+json"
PLAYGROUND_MIME = "application/vnd.durable-dojo.playground+json"
_PREFIX = {Inspector: "inspector", SchedulerPlayground: "playground"}

_displayed: dict[str, Inspector | SchedulerPlayground] = {}


def register(shown: Inspector | SchedulerPlayground) -> str:
    """The id of a displayed view (the same one each time it is displayed)."""
    for view, known in _displayed.items():
        if known is shown:
            return view
    view = f"{_PREFIX[type(shown)]}-{len(_displayed) + 1}"
    _displayed[view] = shown
    return view


def bundle_entry(value) -> dict:
    """What a cell's output adds for the page when it shows a view with buttons: {MIME: state}."""
    if isinstance(value, Inspector):
        return {MIME: state(register(value))}
    if isinstance(value, SchedulerPlayground):
        return {PLAYGROUND_MIME: state(register(value))}
    return {}


def state(view: str) -> dict:
    """What the page draws. An Inspector: its HTML, the objects its buttons can name, the last
    action's message and its timeline. A playground: its HTML, one choice per ready event (what
    its button says), the last press's message."""
    shown = _displayed[view]
    if isinstance(shown, SchedulerPlayground):
        return {"view": view, "html": shown.html(), "choices": [event.description for event in shown.ready],
                "message": shown.message}
    timeline = shown.timeline()
    return {"view": view, "objects": [row.key for row in shown.rows], "html": shown.html(),
            "message": shown.message, "timeline": "" if timeline is None else timeline.html()}


def states() -> list[dict]:
    """Every displayed view as it is now (after a cell, each one redraws, as in Jupyter)."""
    with learner_run():
        return [state(view) for view in _displayed]


def act(view: str, action: str, argument=None) -> dict:
    """A button: the view's `press`, as the notebook's widget does; the view's state after it."""
    if view not in _displayed:
        raise KeyError(f"no view {view!r} on this page: run the cell that displays it")
    with learner_run():
        _displayed[view].press(action, argument)
        return state(view)


def forget() -> None:
    _displayed.clear()
