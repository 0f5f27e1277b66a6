"""The workbook's diagrams, drawn as SVG by this file (no tool, nothing fetched), shown inside the
chapters that teach them, so they are the same in JupyterLab, in the built notebooks and on the
site, and need no network.

    .venv/bin/python site/diagrams.py OUT_DIR     # write the SVGs, to look at them

Each diagram is a function returning SVG text; `DIAGRAMS` says which chapter promises it and
its caption. A chapter shows one with a markdown cell that starts with its marker,

    # %% [markdown]
    # <!-- diagram: lifecycle -->

and `notebooks/build.py` writes the current drawing below the marker, in the chapter's script
and so in its notebook, as a figure whose image is the SVG inline (a data: URL). JupyterLab
refuses SVG as a markdown attachment and cannot show a file outside the notebook's folder; an
inline image it shows, offline, and nbconvert (the site) passes it through as it is.
"""

from __future__ import annotations

import base64
import html
import re
import sys
from dataclasses import dataclass
from pathlib import Path

FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"
INK, MUTED, ACCENT = "#1f2937", "#6b7280", "#3f51b5"
FILL = {"memory": "#dbe9ff", "gone": "#f3f4f6", "sleep": "#eadcff", "storage": "#dff5e1", "warn": "#ffe2b8",
        "fail": "#ffd6d6"}


class Svg:
    def __init__(self, width: int, height: int, title: str):
        self.width, self.height = width, height
        self.parts = [f'<title>{html.escape(title)}</title>',
                      '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                      f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{INK}"/>'
                      "</marker></defs>",
                      f'<rect width="{width}" height="{height}" fill="#ffffff"/>']

    def text(self, x, y, words: str, size=13, anchor="middle", colour=INK, weight="normal") -> None:
        for i, line in enumerate(words.split("\n")):
            self.parts.append(f'<text x="{x}" y="{y + i * (size + 3)}" font-size="{size}" text-anchor="{anchor}" '
                              f'fill="{colour}" font-weight="{weight}" style="{FONT}">{html.escape(line)}</text>')

    def box(self, x, y, w, h, label: str, fill="#ffffff", size=13, weight="bold", dashed=False) -> None:
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        self.parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="{fill}" '
                          f'stroke="{INK}" stroke-width="1.3"{dash}/>')
        lines = label.split("\n")
        top = y + h / 2 - (len(lines) - 1) * (size + 3) / 2 + size / 3
        self.text(x + w / 2, top, label, size=size, weight=weight)

    def arrow(self, x1, y1, x2, y2, label: str = "", dx=0, dy=-6, size=12, colour=INK, dashed=False,
              anchor="middle") -> None:
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        self.parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="1.4"'
                          f'{dash} marker-end="url(#arrow)"/>')
        if label:
            self.text((x1 + x2) / 2 + dx, (y1 + y2) / 2 + dy, label, size=size, colour=colour, anchor=anchor)

    def path(self, d: str, label: str = "", at=(0, 0), size=12, anchor="middle") -> None:
        self.parts.append(f'<path d="{d}" fill="none" stroke="{INK}" stroke-width="1.4" marker-end="url(#arrow)"/>')
        if label:
            self.text(at[0], at[1], label, size=size, anchor=anchor)

    def band(self, x, y, w, h, fill, label="", size=11) -> None:
        self.parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" opacity="0.8"/>')
        if label:
            self.text(x + w / 2, y + h / 2 + 4, label, size=size, colour=INK)

    def render(self) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" '
                f'width="{self.width}" height="{self.height}" role="img">' + "".join(self.parts) + "</svg>\n")


def lifecycle() -> str:
    s = Svg(910, 430, "The lifecycle of a Durable Object")
    s.box(20, 40, 150, 60, "Not in memory", FILL["gone"])
    s.box(240, 40, 160, 60, "Constructor runs\n(new instance)", FILL["memory"])
    s.box(470, 40, 150, 60, "Active\nhandling events", FILL["memory"])
    s.box(690, 40, 150, 60, "Idle\nin memory", FILL["memory"])
    s.arrow(170, 70, 240, 70, "request, alarm", dy=-10, size=11)
    s.arrow(400, 70, 470, 70)
    s.arrow(620, 60, 690, 60, "done", size=11)
    s.arrow(690, 85, 620, 85, "next event", dy=16, size=11)
    s.box(470, 250, 190, 70, "Hibernated\nmemory gone, hibernatable\nWebSockets stay open", FILL["sleep"], size=12)
    s.box(690, 250, 150, 70, "Evicted\nmemory gone", FILL["gone"])
    s.arrow(740, 100, 600, 250, "after 10 s idle, if it can hibernate\n(no timer, no pending fetch,\n"
            "no standard WebSocket), with\nor without WebSockets", dx=-110, dy=-20, size=11)
    s.arrow(790, 100, 790, 250, "after 70-140 s idle,\nif it cannot", dx=8, dy=-10, size=11, anchor="start")
    s.path("M 470 300 C 200 300, 320 160, 320 100", "next request, alarm or WebSocket message:\n"
           "the constructor runs again", at=(240, 345), size=11)
    s.path("M 765 320 C 765 400, 320 400, 320 108")
    s.box(20, 180, 190, 64, "Storage\nkept through all of it", FILL["storage"], size=12)
    s.text(20, 420, "Memory (fields, module state of the instance) is lost on hibernation, eviction and reset; "
           "storage never is.", size=11, anchor="start", colour=MUTED)
    return s.render()


def gates() -> str:
    s = Svg(840, 470, "Input and output gates")
    lanes = {"Request A": 90, "The object": 330, "Its storage": 560, "Request B": 750}
    for name, x in lanes.items():
        s.box(x - 70, 15, 140, 36, name, "#ffffff", size=12)
        s.parts.append(f'<line x1="{x}" y1="51" x2="{x}" y2="455" stroke="{MUTED}" stroke-dasharray="3 4"/>')
    a, obj, st, b = lanes.values()
    s.band(obj - 12, 95, 24, 150, FILL["warn"])
    s.text(obj - 20, 175, "input gate\nclosed", size=11, anchor="end")
    s.arrow(a, 80, obj - 12, 95, "fetch / RPC", dy=-4, size=11)
    s.arrow(obj + 12, 115, st, 115, "get(\"count\")", size=11)
    s.arrow(st, 145, obj + 12, 145, "5", size=11)
    s.arrow(b, 210, obj + 14, 210, "B arrives: waits", dx=150, dy=-6, size=11, dashed=True)
    s.arrow(obj + 12, 185, st, 185, "put(\"count\", 6)", size=11)
    s.arrow(obj - 12, 230, a + 4, 230, "return 6: held", dy=-6, size=11, dashed=True)
    s.band(a - 10, 230, 20, 80, FILL["fail"])
    s.text(a + 16, 275, "output gate:\nheld until the\nwrite is stored", size=11, anchor="start")
    s.arrow(st, 300, obj + 12, 300, "write stored", size=11)
    s.arrow(obj - 12, 330, a + 10, 330, "response delivered", dx=30, size=11)
    s.band(obj - 12, 360, 24, 70, FILL["memory"])
    s.arrow(b, 365, obj + 12, 365, "B runs now, reads 6", size=11)
    s.text(410, 455, "Awaiting storage keeps other events out; awaiting fetch() or a timer lets them in.",
           size=11, colour=MUTED)
    return s.render()


def ids() -> str:
    s = Svg(820, 300, "A name becomes one ID and one instance")
    s.box(20, 30, 190, 60, "Worker in London\nidFromName(\"room-42\")", "#ffffff", size=12)
    s.box(20, 200, 190, 60, "Worker in Tokyo\nidFromName(\"room-42\")", "#ffffff", size=12)
    s.box(300, 115, 200, 60, "one ID\n1a2b…(64 hex digits)", FILL["warn"], size=12)
    s.box(600, 105, 200, 80, "one instance\nin one place in the world,\nwith its storage", FILL["memory"], size=12)
    s.arrow(210, 60, 300, 135, "same name, same ID", dy=-12, size=11)
    s.arrow(210, 230, 300, 160)
    s.arrow(500, 145, 600, 145, "get(id)", size=11)
    s.text(410, 285, "Every request for the name, from anywhere, reaches the same object: it runs one event "
           "at a time.", size=11, colour=MUTED)
    return s.render()


def alarm_retries() -> str:
    s = Svg(860, 240, "Alarm retries with back-off")
    x0, scale = 40, 6.0  # px per second
    s.parts.append(f'<line x1="{x0}" y1="120" x2="840" y2="120" stroke="{INK}" stroke-width="1.2"/>')
    t, delays = 0.0, [2, 4, 8, 16, 32, 64]
    for attempt in range(1, 8):
        x = x0 + t * scale
        last = attempt == 7
        s.parts.append(f'<circle cx="{x}" cy="120" r="9" fill="{FILL["fail"]}" stroke="{INK}"/>')
        s.text(x, 124, str(attempt), size=10, weight="bold")
        if attempt == 1 or attempt >= 4:
            s.text(x, 150, f"{t:g} s", size=10, colour=MUTED)
        if not last:
            delay = delays[attempt - 1]
            nxt = x0 + (t + delay) * scale
            if delay >= 8:
                s.path(f"M {x + 9} 110 Q {(x + nxt) / 2} {95 - delay} {nxt - 9} 110")
                s.text((x + nxt) / 2, 100 - delay / 2 - 4, f"+{delay} s", size=11)
            t += delay
    s.text(x0, 30, "The alarm handler throws: the platform runs it again after 2 s, then doubles the wait "
           "up to 64 s (plus some jitter).", size=12, anchor="start")
    s.text(x0, 50, "7 attempts in all (the first and 6 retries); alarm_info.retryCount counts them. Then it gives up.",
           size=12, anchor="start")
    s.text(x0, 200, "attempts 1-3 are 2 s and 4 s apart; the whole series spans about 126 s before jitter",
           size=11, anchor="start", colour=MUTED)
    return s.render()


def isolates() -> str:
    s = Svg(820, 300, "Isolates and module state")
    for i, (x, objects) in enumerate(((20, ["room-1", "room-7"]), (420, ["room-3"]))):
        s.parts.append(f'<rect x="{x}" y="20" width="380" height="200" rx="10" fill="#fafafa" stroke="{INK}"/>')
        s.text(x + 190, 42, f"Isolate {i + 1}", size=13, weight="bold")
        s.box(x + 20, 55, 340, 44, "module state (globals, caches): shared by\nevery object this isolate hosts",
              FILL["warn"], size=11, weight="normal")
        for j, name in enumerate(objects):
            s.box(x + 20 + j * 175, 120, 165, 80, f"object {name}\nits fields (memory)", FILL["memory"], size=11)
    s.box(20, 240, 780, 44, "storage: one per object, kept when an isolate is recycled (module state and fields are not)",
          FILL["storage"], size=12, weight="normal")
    return s.render()


@dataclass(frozen=True)
class Diagram:
    name: str
    draw: object
    chapter: str  # the notebook stem of the chapter that shows it
    caption: str


DIAGRAMS = (
    Diagram("lifecycle", lifecycle, "01-lifecycle",
            "The lifecycle: an idle object hibernates after 10 s if it can, with or without WebSockets; "
            "otherwise it is evicted after 70-140 s. Storage survives both."),
    Diagram("isolates", isolates, "01-lifecycle",
            "Isolates: module-level state is shared by the objects one isolate hosts and lost when the "
            "isolate is recycled; each object's storage is its own."),
    Diagram("gates", gates, "03-concurrency",
            "The gates: while the object awaits its own storage no other event comes in (input gate); "
            "its response waits until its writes are stored (output gate)."),
    Diagram("ids", ids, "04-ids-and-topology",
            "A name is hashed to one ID, the same from every Worker, and the ID to one instance in the world."),
    Diagram("alarm-retries", alarm_retries, "05-alarms",
            "A failing alarm is retried after 2, 4, 8, 16, 32 and 64 s (plus jitter): 7 attempts in all."),
)
BY_NAME = {diagram.name: diagram for diagram in DIAGRAMS}
# in a chapter's py:percent script: the marker line, and the figure line the build writes after it
_MARKER = re.compile(r"^# <!-- diagram: (?P<name>[^ ]+) -->\n(?:# <figure class=\"dojo-diagram\".*\n)?", re.M)


def write_all(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for diagram in DIAGRAMS:
        path = out_dir / f"{diagram.name}.svg"
        path.write_text(diagram.draw(), encoding="utf-8")
        written.append(path)
    return written


def data_url(diagram: Diagram) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(diagram.draw().encode("utf-8")).decode("ascii")


def figure(diagram: Diagram) -> str:
    """The diagram as one line of HTML for a markdown cell: the SVG inline, its caption below."""
    caption = html.escape(diagram.caption)
    return (f'<figure class="dojo-diagram" id="diagram-{diagram.name}"><img src="{data_url(diagram)}" '
            f'alt="{caption}" style="max-width:100%;height:auto"><figcaption>{caption}</figcaption></figure>')


def shown_in(script_text: str) -> list[str]:
    """The names of the diagrams a chapter's script has a marker for, in order."""
    return [match["name"] for match in _MARKER.finditer(script_text)]


def refresh_script(script_text: str) -> str:
    """A chapter's script with the current drawing after each diagram marker."""

    def current(match):
        name = match["name"]
        if name not in BY_NAME:
            raise ValueError(f"no diagram named {name!r} (diagrams: {', '.join(BY_NAME)})")
        return f"# <!-- diagram: {name} -->\n# {figure(BY_NAME[name])}\n"

    return _MARKER.sub(current, script_text)


if __name__ == "__main__":
    for path in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "diagrams")):
        print(path)
