"""The workbook's Inspector on a chapter page: its buttons, without ipywidgets.

In Jupyter an `Inspector` displayed by a cell is an ipywidgets view whose buttons call its
methods (evict, hibernate, fire_alarm, advance). In the browser the page draws it from its HTML
and sends a `widget` message per button; this module keeps every Inspector a cell displayed, by
an id the page got with the output (`MIME`), and calls the same methods on it.
"""

from __future__ import annotations

from ..widgets import Inspector
from .host import learner_run

MIME = "application/vnd.durable-dojo.inspector+json"

_displayed: dict[str, Inspector] = {}


def register(inspector: Inspector) -> str:
    """The id of `inspector` (the same one each time it is displayed)."""
    for view, known in _displayed.items():
        if known is inspector:
            return view
    view = f"inspector-{len(_displayed) + 1}"
    _displayed[view] = inspector
    return view


def state(view: str) -> dict:
    """What the page draws: the HTML, the objects the buttons can name, the last action's message."""
    inspector = _displayed[view]
    return {"view": view, "objects": [row.key for row in inspector.rows], "html": inspector.html(),
            "message": inspector.message}


def states() -> list[dict]:
    """Every displayed Inspector as it is now (after a cell, each one redraws, as in Jupyter)."""
    with learner_run():
        return [state(view) for view in _displayed]


def act(view: str, action: str, argument=None) -> dict:
    """A button: `Inspector.press`, as the notebook's widget does; the Inspector's state after it."""
    if view not in _displayed:
        raise KeyError(f"no Inspector {view!r} on this page: run the cell that displays it")
    with learner_run():
        _displayed[view].press(action, argument)
        return state(view)


def forget() -> None:
    _displayed.clear()
