"""Views of a world for notebooks: `Inspector(rt)` and `Timeline(rt)`.

```python
from durable_dojo.widgets import Inspector, Timeline

Inspector(rt)            # objects, their state, storage, alarm, sockets; buttons to act on them
Timeline(rt, last=30)    # the trace as lanes, one per object (or per request)
```

Both are plain Python objects first: their state is computed from the world (`rows`,
`objects()`), they print as deterministic text (`text()`, `repr`, the text a notebook stores),
and every button calls an ordinary method (`inspector.evict("alice")`,
`inspector.advance(10)`), so tests drive them without a browser. The ipywidgets view is built
only when a notebook displays one; `import durable_dojo` never imports ipywidgets.

The Inspector is live: `rows`, `text()` and `html()` read the world each time, and a displayed
Inspector redraws itself after every cell the notebook runs (IPython's `post_run_cell` event),
so an object evicted by the clock in a later cell shows as evicted in the view above. It reads
the world only between cells, on the kernel's thread, never while the world runs. A Timeline is
a picture of the trace as it was: `timeline.refresh()` reads it again.

Reading a world never runs user code: storage contents come straight from the object's store
(committed data plus the pending batch, which is empty between cells) and alarms from the
stored alarm time.
"""

from __future__ import annotations

import datetime
import html
import weakref
from typing import NamedTuple

from .._core import codec as _codec
from .._core.trace import Kind

__all__ = ["Inspector", "ObjectView", "Timeline", "TimelineRow", "object_state"]

# ----------------------------------------------------------------------------- helpers

_LIFECYCLE = (Kind.CONSTRUCTOR, Kind.EVICT, Kind.HIBERNATE, Kind.RESET, Kind.CRASH)
_CATEGORIES = (
    # (prefix or exact kind, category); the first match wins
    ("gate:", "gate"),
    (Kind.COMMIT, "commit"),
    ("storage:", "storage"),
    (Kind.ALARM_SET, "storage"),
    (Kind.ALARM_DELETE, "storage"),
    ("kv:", "storage"),
    (Kind.ALARM_FIRE, "alarm"),
    (Kind.ALARM_RETRY, "alarm"),
    (Kind.ALARM_GAVE_UP, "alarm"),
    (Kind.CONSTRUCTOR, "lifecycle"),
    (Kind.EVICT, "lifecycle"),
    (Kind.HIBERNATE, "lifecycle"),
    (Kind.RESET, "lifecycle"),
    (Kind.CRASH, "lifecycle"),
    (Kind.CHAOS, "lifecycle"),
    ("isolate:", "lifecycle"),
    (Kind.FETCH_OUT, "network"),
    ("ws:", "socket"),
)
_COLOURS = {
    "request": "#dbe9ff",
    "storage": "#dff5e1",
    "commit": "#b9e8c0",
    "gate": "#ffe2b8",
    "alarm": "#eadcff",
    "lifecycle": "#ffd6d6",
    "network": "#fff6bf",
    "socket": "#d4f3f3",
    "other": "#eeeeee",
}
_STATE_COLOURS = {
    "in memory": "#2e7d32",
    "hibernated": "#1565c0",
    "evicted": "#757575",
    "reset": "#c62828",
    "not started": "#9e9e9e",
}


def _category(kind: str) -> str:
    for prefix, category in _CATEGORIES:
        if kind == prefix or (prefix.endswith(":") and kind.startswith(prefix)) or kind.startswith(prefix + ":"):
            return category
    return "request"


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.3f}s"


def _iso(epoch_ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(epoch_ms / 1000, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (f".{epoch_ms % 1000:03d}" if epoch_ms % 1000 else "") + " UTC"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _pad(text: str, width: int) -> str:
    return _clip(text, width).ljust(width)


def _table(headers: list[str], rows: list[list[str]], widths: list[int] | None = None) -> str:
    """A plain-text table; columns as wide as their content (or the given widths)."""
    if widths is None:
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(_pad(h, w) for h, w in zip(headers, widths)).rstrip()]
    for row in rows:
        lines.append("  ".join(_pad(c, w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def _stub_for(host):
    """A stub for a host (no I/O: `get` only builds it)."""
    return host.namespace.get(host.id)


def _last_lifecycle(rt) -> dict:
    """For each (binding, object label), the last lifecycle event kind in the trace."""
    last: dict = {}
    for event in reversed(list(rt.trace)):
        if event.kind in _LIFECYCLE and event.binding is not None:
            last.setdefault((event.binding, event.object), event.kind)
    return last


def object_state(host, last_lifecycle: str | None = None) -> str:
    """"in memory", "hibernated", "evicted", "reset" or "not started" for an object host.

    An object is *hibernated* when it is out of memory while hibernatable WebSockets are still
    connected or when the platform hibernated it (idle and hibernatable for 10 s), *evicted*
    when it is out of memory otherwise, and *reset* when its last instance ended by a reset or a
    crash (`last_lifecycle`, the last lifecycle kind in the trace, tells those apart)."""
    instance = host.instance
    if instance is not None and instance.alive:
        return "in memory"
    if any(ws.readyState != 3 for ws in host.sockets):
        return "hibernated"
    if host.instances_made == 0:
        return "not started"
    if last_lifecycle in (Kind.RESET, Kind.CRASH):
        return "reset"
    if last_lifecycle == "hibernate":
        return "hibernated"
    return "evicted"


def _storage_of(host) -> dict:
    """The object's key-value storage, read without running any of its code."""
    return {key: _codec.deserialize(value) for key, value in host.store.list()}


def _sql_tables_of(host) -> dict:
    """SQL tables of the object (name -> row count), if it uses the SQL API."""
    if getattr(host, "sql", None) is None:
        return {}
    conn = host.store.db.conn
    tables = {}
    try:
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")]
        for name in names:
            tables[name] = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
    except Exception:  # noqa: BLE001 - a view must never break on a locked-down database
        return tables
    return tables


def _value_text(value) -> str:
    return repr(value)


def _storage_text(storage: dict, width: int) -> str:
    if not storage:
        return "-"
    parts = [f"{key}={_value_text(value)}" for key, value in storage.items()]
    return _clip(", ".join(parts), width)


# ----------------------------------------------------------------------------- Inspector


class ObjectView(NamedTuple):
    """One object as the Inspector shows it."""

    binding: str
    name: str
    state: str
    instance: int  # how many instances it has had (the constructor ran that many times)
    storage: dict
    alarm: int | None  # epoch ms of the stored alarm, or None
    sockets: int  # open WebSockets (hibernatable and standard)
    sql: dict  # SQL table -> row count

    @property
    def key(self) -> str:
        return f"{self.binding} {self.name}"


class _View:
    """What the Inspector and the Timeline show the same way: their text for `print()` and IPython,
    their widget in a notebook (their HTML where ipywidgets is missing)."""

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(self.text())

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {"text/plain": self.text()}
        try:
            widget = self.widget
        except ImportError:
            data["text/html"] = self.html()
            return data
        data["application/vnd.jupyter.widget-view+json"] = {
            "version_major": 2, "version_minor": 0, "model_id": widget.model_id}
        return data


class Inspector(_View):
    """An inspector of a world: its objects (state, storage, alarm, sockets), its clock, the
    recent trace, and buttons to evict, hibernate, fire an alarm and advance the clock.

    ```python
    inspector = Inspector(rt)      # display it: the last expression of a cell
    inspector.evict("alice")       # what the Evict button does
    inspector.advance(60)          # what "Advance clock" does
    print(inspector.text())        # the same view as text
    ```
    Object names are the stub's name (`getByName("alice")` → "alice"), "BINDING name" when two
    namespaces share a name, or a stub.
    """

    def __init__(self, rt, binding: str | None = None, *, timeline: int | None = 30, value_width: int = 60,
                 max_rows: int | None = 40):
        self.rt = rt
        self.binding = binding
        self.timeline_events = timeline
        self.value_width = value_width
        self.max_rows = max_rows  # rows shown by text() and the table (rows/objects() have them all)
        self.message = ""
        self._widget = None
        self._read: tuple = (None, [])  # (the world's moment, the objects read then)

    # ----- reading the world -----

    def objects(self) -> list[ObjectView]:
        """Every object of the world (or of `binding`) that a stub has reached, in creation order,
        as it is now. Read again only when the world moved (its clock or its trace): a notebook
        redraws after every cell, and a large world takes a while to read."""
        moment = _moment(self.rt)
        if self._read[0] != moment:
            lifecycle = _last_lifecycle(self.rt)
            self._read = (moment, [_view(host, lifecycle) for host in self.rt._hosts_in(self.binding)])
        return list(self._read[1])

    @property
    def rows(self) -> list[ObjectView]:
        """The objects as they are now (the same as `objects()`)."""
        return self.objects()

    def row(self, name) -> ObjectView:
        """The current view of one object (by name, "BINDING name" or stub)."""
        host = self._host(name)
        for shown in self.rt._hosts_in(self.binding):
            if shown.binding == host.binding and shown.label == host.label:
                return _view(shown, _last_lifecycle(self.rt))
        raise KeyError(name)  # pragma: no cover - _host found it

    @property
    def clock(self) -> str:
        """The virtual clock, as seconds since the world started and as a date."""
        rt = self.rt
        return f"{_seconds(rt.now() - rt.start_ms)} ({_iso(rt.now())})"

    def _alarm_text(self, alarm: int | None) -> str:
        if alarm is None:
            return "-"
        rt = self.rt
        due = (alarm - rt.now()) / 1000
        return f"at {_seconds(alarm - rt.start_ms)} (in {due:.3f}s)" if due > 0 else f"at {_seconds(alarm - rt.start_ms)} (due)"

    def _shown(self, views: list[ObjectView]) -> list[ObjectView]:
        return views if self.max_rows is None else views[: self.max_rows]

    def _more(self, views: list[ObjectView]) -> str:
        hidden = len(views) - len(self._shown(views))
        return f"… and {hidden} more object{'s' if hidden != 1 else ''} (Inspector(..., max_rows=None) shows all)" \
            if hidden else ""

    def _table_rows(self, views: list[ObjectView]) -> list[list[str]]:
        rows = []
        for view in self._shown(views):
            storage = _storage_text(view.storage, self.value_width)
            if view.sql:
                tables = ", ".join(f"{t}({n} rows)" for t, n in view.sql.items())
                storage = _clip(f"{storage}; sql: {tables}" if view.storage else f"sql: {tables}", self.value_width)
            rows.append([view.binding, view.name, view.state, f"#{view.instance}" if view.instance else "-",
                         self._alarm_text(view.alarm), str(view.sockets), storage])
        return rows

    def text(self) -> str:
        """The world as it is now, as deterministic text (what a notebook stores and tests compare)."""
        views = self.objects()
        lines = [f"World clock {self.clock}, {len(views)} object{'s' if len(views) != 1 else ''}"]
        if views:
            lines.append(_table(["binding", "object", "state", "instance", "alarm", "sockets", "storage"],
                                self._table_rows(views)))
            if self._more(views):
                lines.append(self._more(views))
        if self.message:
            lines.append(f"last action: {self.message}")
        return "\n".join(lines)

    def timeline(self) -> "Timeline | None":
        """The recent trace the widget draws under its buttons (None: made with `timeline=None`)."""
        if not self.timeline_events:
            return None
        return Timeline(self.rt, binding=self.binding, last=self.timeline_events)

    def refresh(self) -> "Inspector":
        """Redraw the widget now. `rows` and `text()` are always current, and a displayed widget
        redraws itself after every button and every notebook cell: this is for code that changes
        the world in the middle of a cell and wants the view to show it before the cell ends."""
        if self._widget is not None:
            self._update_widget()
        return self

    # ----- acting on the world (what the buttons call) -----

    def _host(self, name):
        if hasattr(name, "_host"):
            return name._host
        hosts = self.rt._hosts_in(self.binding)
        text = str(name)
        matches = [h for h in hosts if h.label == text or f"{h.binding} {h.label}" == text or h.key == text]
        if not matches:
            known = ", ".join(f"{h.binding} {h.label}" for h in hosts) or "none yet"
            raise KeyError(f"No object named {text!r} in this world (objects: {known})")
        if len(matches) > 1:
            raise KeyError(f"{text!r} names several objects: say which, e.g. {matches[0].binding} {text!r}")
        return matches[0]

    def _done(self, message: str) -> str:
        self.message = message
        self.refresh()
        return message

    def evict(self, name) -> str:
        """Evict the object from memory now (its storage stays), once its requests are done."""
        host = self._host(name)
        if host.instance is None:
            return self._done(f"{host!r} is not in memory")
        self.rt.evict(_stub_for(host))()
        return self._done(f"evicted {host.binding} {host.label}")

    def hibernate(self, name) -> str:
        """Hibernate the object: memory dropped, hibernatable WebSockets kept open."""
        host = self._host(name)
        if host.instance is None:
            return self._done(f"{host!r} is not in memory")
        self.rt.hibernate(_stub_for(host))()
        state = object_state(host, "hibernate")
        return self._done(f"{host.binding} {host.label} is {state}")

    def advance(self, seconds: float) -> str:
        """Move the virtual clock forward; alarms, timers and idle evictions that fall due run."""
        before = len(self.rt.trace)
        self.rt.advance(float(seconds))()
        happened = len(self.rt.trace) - before
        return self._done(f"advanced {float(seconds):g}s to {_seconds(self.rt.now() - self.rt.start_ms)}, "
                          f"{happened} trace event{'s' if happened != 1 else ''}")

    def fire_alarm(self, name) -> str:
        """Run the object's alarm now, if one is set (`run_durable_object_alarm`)."""
        from ..testing import run_durable_object_alarm

        host = self._host(name)
        ran = self.rt.run(run_durable_object_alarm(_stub_for(host)))
        return self._done(f"alarm of {host.binding} {host.label} ran" if ran
                          else f"{host.binding} {host.label} has no alarm set")

    BUTTONS = ("evict", "hibernate", "fire_alarm", "advance", "refresh")

    def press(self, button: str, argument=None) -> str:
        """What a button of the view does, in a notebook (ipywidgets) or on the site's chapter
        page: the method of that name with the chosen object (or the seconds to advance). Never
        raises: an error becomes the message the view shows. Returns the message."""
        if button not in self.BUTTONS:
            raise ValueError(f"unknown button {button!r}: one of {', '.join(self.BUTTONS)}")
        try:
            if button == "refresh":
                self.message = "refreshed"
                self.refresh()
            else:
                if argument is None or argument == "":
                    raise KeyError("choose an object first")
                getattr(self, button)(argument)
        except Exception as exc:  # noqa: BLE001 - a button must never raise into the kernel or the page
            detail = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            self.message = f"{type(exc).__name__}: {detail}"
            self.refresh()
        return self.message

    # ----- display -----

    def __repr__(self) -> str:
        return f"<Inspector: {len(self.objects())} objects, clock {_seconds(self.rt.now() - self.rt.start_ms)}>"

    def html(self) -> str:
        """The objects table as HTML (no scripts), as the world is now."""
        views = self.objects()
        cells = []
        for view, row in zip(self._shown(views), self._table_rows(views)):
            colour = _STATE_COLOURS.get(view.state, "#000")
            full = html.escape(", ".join(f"{k}={v!r}" for k, v in view.storage.items()) or "-")
            row_html = [html.escape(row[0]), f"<b>{html.escape(row[1])}</b>",
                        f'<span style="color:{colour};font-weight:bold">{html.escape(row[2])}</span>',
                        html.escape(row[3]), html.escape(row[4]), html.escape(row[5]),
                        f'<code title="{full}">{html.escape(row[6])}</code>']
            cells.append("<tr>" + "".join(f'<td style="{_TD}">{c}</td>' for c in row_html) + "</tr>")
        head = "".join(f'<th style="{_TH}">{h}</th>'
                       for h in ("binding", "object", "state", "instance", "alarm", "sockets", "storage"))
        body = "".join(cells) or f'<tr><td colspan="7" style="{_TD}"><i>no objects yet</i></td></tr>'
        if self._more(views):
            body += f'<tr><td colspan="7" style="{_TD}"><i>{html.escape(self._more(views))}</i></td></tr>'
        return (f'<div style="font-family:sans-serif;font-size:13px"><b>World clock</b> {html.escape(self.clock)}'
                f' <span style="color:#6b7280">(live: redrawn after every cell you run)</span>'
                f'<table style="border-collapse:collapse;margin-top:4px"><tr>{head}</tr>{body}</table></div>')

    @property
    def widget(self):
        """The ipywidgets view (built on first use)."""
        if self._widget is None:
            self._widget = _InspectorWidget(self)
            self._update_widget()
            _redraw_after_every_cell(self)
        return self._widget.box

    def _update_widget(self) -> None:
        self._widget.update()


def _moment(rt) -> tuple:
    """What changes whenever the world does: its clock, and how many events the trace has recorded
    (every request, write, eviction and socket message is traced; `recorded` counts the ones the
    bounded trace let fall off too)."""
    return rt.now(), rt.trace.recorded


def _view(host, lifecycle: dict) -> ObjectView:
    """One object's row: `lifecycle` is `_last_lifecycle(rt)`."""
    sockets = sum(1 for ws in host.sockets if ws.readyState != 3)
    if host.instance is not None and host.instance.alive:
        sockets += len(host.instance.standard_sockets)
    return ObjectView(
        binding=host.binding,
        name=host.label,
        state=object_state(host, lifecycle.get((host.binding, host.label))),
        instance=host.instances_made,
        storage=_storage_of(host),
        alarm=host.store.get_alarm(),
        sockets=sockets,
        sql=_sql_tables_of(host),
    )


_displayed_inspectors: "weakref.WeakSet[Inspector]" = weakref.WeakSet()


def _redraw_displayed_inspectors(*_result) -> None:
    """IPython's post_run_cell handler: the cell that just ran may have changed any world."""
    for inspector in list(_displayed_inspectors):
        widget = inspector._widget
        if widget is not None and widget.drawn_at != _moment(inspector.rt):  # nothing moved: nothing to draw
            inspector._update_widget()


def _redraw_after_every_cell(inspector: Inspector) -> None:
    """Keep a displayed Inspector current: redraw it after each cell the IPython kernel runs
    (nothing to do outside IPython, where there is no widget on screen to redraw)."""
    _displayed_inspectors.add(inspector)
    try:
        from IPython import get_ipython  # noqa: PLC0415 - only where a widget was built
    except ImportError:  # pragma: no cover - ipywidgets depends on IPython
        return
    shell = get_ipython()
    if shell is not None and _redraw_displayed_inspectors not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _redraw_displayed_inspectors)


_TD = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"
_TH = _TD + ";background:#f3f3f3"


class _InspectorWidget:
    """The ipywidgets controls of an Inspector; every handler calls an Inspector method."""

    def __init__(self, inspector: Inspector):
        import ipywidgets as w  # noqa: PLC0415 - only when a notebook displays an inspector

        self.inspector = inspector
        self.table = w.HTML()
        self.choice = w.Dropdown(description="object", layout=w.Layout(width="260px"))
        self.evict_button = w.Button(description="Evict", tooltip="drop memory, keep storage")
        self.hibernate_button = w.Button(description="Hibernate", tooltip="drop memory, keep hibernatable sockets")
        self.alarm_button = w.Button(description="Fire alarm", tooltip="run the stored alarm now")
        self.seconds = w.FloatText(value=10.0, description="seconds", layout=w.Layout(width="160px"))
        self.advance_button = w.Button(description="Advance clock", tooltip="move virtual time forward")
        self.refresh_button = w.Button(description="Refresh")
        self.status = w.HTML()
        self.timeline = w.HTML()
        self.drawn_at = None  # the world's moment the view shows
        self.evict_button.on_click(lambda _: self.act("evict", self.choice.value))
        self.hibernate_button.on_click(lambda _: self.act("hibernate", self.choice.value))
        self.alarm_button.on_click(lambda _: self.act("fire_alarm", self.choice.value))
        self.advance_button.on_click(lambda _: self.act("advance", self.seconds.value))
        self.refresh_button.on_click(lambda _: self.act("refresh", None))
        children = [self.table,
                    w.HBox([self.choice, self.evict_button, self.hibernate_button, self.alarm_button]),
                    w.HBox([self.seconds, self.advance_button, self.refresh_button]),
                    self.status]
        if inspector.timeline_events:
            children.append(self.timeline)
        self.box = w.VBox(children)

    def act(self, button: str, argument) -> None:
        """A button press: `Inspector.press`, which shows its message or the error it raised."""
        self.inspector.press(button, argument)

    def update(self) -> None:
        inspector = self.inspector
        self.drawn_at = _moment(inspector.rt)
        try:
            self.table.value = inspector.html()
            options = tuple(view.key for view in inspector.rows)  # the same read as html()
        except Exception as exc:  # noqa: BLE001 - a redraw after a cell must never raise into the kernel
            self.table.value = f"<i>{html.escape(f'the world could not be read: {type(exc).__name__}: {exc}')}</i>"
            return
        current = self.choice.value
        if options != tuple(self.choice.options):
            self.choice.options = options
        if current in options:
            self.choice.value = current
        elif options:
            self.choice.value = options[0]
        self.status.value = (f"<span style='font-family:sans-serif;font-size:12px'>{html.escape(inspector.message)}"
                             "</span>" if inspector.message else "")
        timeline = inspector.timeline()
        if timeline is not None:
            self.timeline.value = timeline.html()


# ----------------------------------------------------------------------------- Timeline


class TimelineRow(NamedTuple):
    """One event of a Timeline: where it sits (its lane) and how it is labelled."""

    index: int  # position in the world's trace
    time: float  # virtual ms since the world started
    lane: str
    kind: str
    label: str
    request: int | None
    category: str
    gated: tuple  # lanes whose object's input gate is closed (blockConcurrencyWhile/transaction) here


class Timeline(_View):
    """The trace as lanes: one column per object (or per request), one row per event, in order.

    ```python
    mark = len(rt.trace)
    await asyncio.gather(stub.bump(), stub.bump())
    Timeline(rt, start=mark)                   # lanes by object
    Timeline(rt, start=mark, lanes="request")  # lanes by request: interleaving side by side
    ```
    While an object's input gate is closed its lane is marked from `┏ gate closed` to
    `┗ gate open` with `┃` (an orange bar in the notebook view); "(bcw)" means a
    `blockConcurrencyWhile` closed it, "(transaction)" a storage transaction. Events that
    belong to no object (a `fetch` made by the Worker) go to the "world" lane. Filters: `object`,
    `binding`, `kinds` (prefixes such as "storage:"), `start` (a trace index, e.g.
    `len(rt.trace)` taken earlier), `last` (the last N events).

    With `lanes="request"`, events that carry a request id (calls, starts, ends, errors, alarms,
    outgoing fetches) go to that request's lane; the trace does not tag storage and gate events
    with a request, so those stay in their object's lane.
    """

    def __init__(self, rt, *, object: str | None = None, binding: str | None = None, kinds=None,
                 start: int = 0, last: int | None = None, lanes: str = "object", width: int = 34):
        if lanes not in ("object", "request"):
            raise ValueError('lanes must be "object" or "request"')
        self.rt = rt
        self.object = object
        self.binding = binding
        self.kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds) if kinds else None
        self.start = start
        self.last = last
        self.lane_mode = lanes
        self.width = width
        self.rows: list[TimelineRow] = []
        self.lanes: list[str] = []
        self._widget = None
        self.refresh()

    def _wanted(self, event) -> bool:
        if self.object is not None and event.object != self.object:
            return False
        if self.binding is not None and event.binding != self.binding:
            return False
        if self.kinds is not None and not any(event.kind == k or (k.endswith(":") and event.kind.startswith(k))
                                              for k in self.kinds):
            return False
        return True

    @staticmethod
    def _object_lane(event) -> str:
        return f"{event.binding} {event.object}" if event.binding else "world"

    def refresh(self) -> "Timeline":
        """Read the trace again."""
        events = list(self.rt.trace)
        indexed = [(i, e) for i, e in enumerate(events) if i >= self.start and self._wanted(e)]
        # Gate state is tracked over the whole selection before `last` cuts it.
        depth: dict[str, int] = {}
        request_names: dict[int, str] = {}
        rows = []
        for index, event in indexed:
            object_lane = self._object_lane(event)
            kind = event.kind
            if kind == Kind.GATE_CLOSE:
                depth[object_lane] = depth.get(object_lane, 0) + 1
            gated = tuple(sorted(lane for lane, d in depth.items() if d > 0))
            if kind == Kind.GATE_OPEN:
                depth[object_lane] = max(depth.get(object_lane, 0) - 1, 0)
            if self.lane_mode == "request" and event.request is not None:
                name = request_names.get(event.request)
                if name is None:
                    if kind == Kind.ALARM_FIRE:
                        what = f"{event.binding}.alarm()"
                    else:
                        what = event.detail if kind.endswith(":call") else kind
                    name = request_names[event.request] = _clip(f"#{event.request} {what}", self.width)
                lane = name
            else:
                lane = object_lane
            rows.append(TimelineRow(index, event.time, lane, kind, self._label(event), event.request,
                                    _category(kind), gated))
        if self.last is not None:
            rows = rows[-self.last:] if self.last > 0 else []
        self.rows = rows
        lanes: list[str] = []
        for row in rows:
            if row.lane not in lanes:
                lanes.append(row.lane)
        # Object lanes that are gated but have no event of their own still show their bar.
        for row in rows:
            for lane in row.gated:
                if lane not in lanes and self.lane_mode == "object":
                    lanes.append(lane)
        self.lanes = lanes
        if self._widget is not None:
            self._widget.value = self.html()
        return self

    def _label(self, event) -> str:
        kind = event.kind
        req = f"#{event.request} " if event.request is not None and self.lane_mode == "object" else ""
        if kind == Kind.GATE_CLOSE:
            why = {"blockConcurrencyWhile": "bcw"}.get(event.detail, event.detail)
            return f"┏ gate closed ({why})" if why else "┏ gate closed"
        if kind == Kind.GATE_OPEN:
            return "┗ gate open"
        detail = event.detail
        if kind.endswith(":call") and detail is not None:
            return f"{req}{kind} {detail}".strip()
        if kind.endswith(":start"):
            return f"{req}{kind}".strip()  # the label repeats the call
        if kind == Kind.FETCH_OUT and detail is not None:
            return f"{req}{detail}"
        if kind in ("alarm:set",) and isinstance(detail, (int, float)):
            return f"alarm:set at {_seconds(detail - self.rt.start_ms)}"
        if detail is None or detail == "":
            return f"{req}{kind}".strip()
        return f"{req}{kind} {detail}".strip()

    # ----- display -----

    def text(self) -> str:
        """The timeline as deterministic text: one row per event, one column per lane."""
        width = self.width
        header = f"Timeline: {len(self.rows)} event{'s' if len(self.rows) != 1 else ''}, lanes by {self.lane_mode}"
        if not self.rows:
            return header + " (no events)"
        lines = [header, "   #     time  " + " ".join(_pad(lane, width) for lane in self.lanes).rstrip()]
        for row in self.rows:
            cells = []
            for lane in self.lanes:
                if lane == row.lane:
                    mark = "┃" if lane in row.gated and row.kind not in ("gate:close", "gate:open") else ""
                    cells.append(_pad(mark + row.label, width))
                elif lane in row.gated:
                    cells.append(_pad("┃", width))
                else:
                    cells.append(" " * width)
            lines.append(f"{row.index:>4} {_seconds(row.time):>8}  " + " ".join(cells).rstrip())
        return "\n".join(lines)

    def html(self) -> str:
        """The timeline as an HTML table (inline styles, no scripts)."""
        if not self.rows:
            return "<i>Timeline: no events</i>"
        head = "".join(f'<th style="{_TH}">{html.escape(lane)}</th>' for lane in self.lanes)
        body = []
        for row in self.rows:
            cells = []
            for lane in self.lanes:
                gated = lane in row.gated
                style = _TD + (";border-left:4px solid #f0a030" if gated else "")
                if lane == row.lane:
                    style += f";background:{_COLOURS[row.category]}"
                    cells.append(f'<td style="{style}">{html.escape(row.label)}</td>')
                else:
                    cells.append(f'<td style="{style}"></td>')
            body.append(f'<tr><td style="{_TD};color:#666">{row.index}</td>'
                        f'<td style="{_TD};color:#666;text-align:right">{_seconds(row.time)}</td>{"".join(cells)}</tr>')
        legend = " ".join(f'<span style="background:{c};padding:0 4px">{name}</span>' for name, c in _COLOURS.items()
                          if name != "other")
        return (f'<div style="font-family:monospace;font-size:12px;max-height:420px;overflow:auto">'
                f'<table style="border-collapse:collapse"><tr><th style="{_TH}">#</th><th style="{_TH}">time</th>'
                f'{head}</tr>{"".join(body)}</table>'
                f'<div style="font-family:sans-serif;margin-top:4px">{legend} '
                f'<span style="border-left:4px solid #f0a030;padding-left:4px">input gate closed</span></div></div>')

    def __repr__(self) -> str:
        return f"<Timeline: {len(self.rows)} events in {len(self.lanes)} lanes>"

    @property
    def widget(self):
        """The ipywidgets view (an HTML widget, built on first use)."""
        if self._widget is None:
            import ipywidgets as w  # noqa: PLC0415 - only when a notebook displays a timeline

            self._widget = w.HTML(value=self.html())
        return self._widget
