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
ACTIONS = ("evict", "hibernate", "fire_alarm", "advance", "refresh")

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
    """A button: the Inspector's method; an error becomes its message, as the widget shows it."""
    if view not in _displayed:
        raise KeyError(f"no Inspector {view!r} on this page: run the cell that displays it")
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")
    inspector = _displayed[view]
    with learner_run():
        try:
            if action == "refresh":
                inspector.message = "refreshed"
            elif argument is None or argument == "":
                raise KeyError("choose an object first" if action != "advance" else "how many seconds?")
            else:
                getattr(inspector, action)(float(argument) if action == "advance" else argument)
        except Exception as exc:  # noqa: BLE001 - a button never raises into the page
            detail = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            inspector.message = f"{type(exc).__name__}: {detail}"
        return state(view)


def forget() -> None:
    _displayed.clear()
