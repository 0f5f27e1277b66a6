"""Play the scheduler: you pick which ready event runs next, and try to break an invariant.

```python
from durable_dojo.widgets import SchedulerPlayground

play = SchedulerPlayground(
    make_runtime=lambda: Runtime(durable_objects={"COUNTER": Counter}, outbound=...),
    requests=lambda rt: [rt.env.COUNTER.getByName("a").bump("fetch") for _ in range(2)],
    check=lambda results, play: "an update was lost" if play.storage("a")["n"] != 2 else None,
)
play                    # the widget: one button per ready event
play.ready              # the same choices as text
play.choose(1)          # what the second button does
play.schedule           # the id of the choices so far, replayable with explore(replay=...)
play.press("choose", 1) # a button, as the notebook's widget and the site's chapter page press it
```

Whenever more than one event of the world could run next (see `durable_dojo.explore`), the
world stops and you choose; where only one can run, it runs by itself. Every button calls a
plain method through `press` (the notebook's ipywidgets view and the site's chapter page both
do), and the view prints as text where no widget can be shown.
"""

from __future__ import annotations

import html
from typing import NamedTuple

from .._core.explore import Chooser, _Default
from .views import Timeline, _storage_of, _View

__all__ = ["ReadyEvent", "SchedulerPlayground"]


class ReadyEvent(NamedTuple):
    """One event that could run next."""

    index: int
    request: int | None
    label: str  # what it is: "#3 COUNTER.bump()"
    step: str  # "starts" or "resumes after its await"

    def __str__(self) -> str:
        return f"[{self.index}] {self.description}"

    @property
    def description(self) -> str:
        """What its button says."""
        return f"{self.label}: {self.step}"


class _YourPick(_Default):
    """The learner's choice: the next pick if one was made, else the world waits (None)."""

    def __init__(self):
        self.pick = None

    def choose(self, position, names, chooser):
        pick, self.pick = self.pick, None
        return pick


class SchedulerPlayground(_View):
    """You are the scheduler of a world with concurrent requests: pick what runs next."""

    def __init__(self, make_runtime, requests, *, check=None, timeline: int = 14):
        self.make_runtime = make_runtime
        self.requests = requests
        self.check = check
        self.timeline_events = timeline
        self.rt = None
        self._widget = None
        self.message = ""  # what the last button press said (an error), shown under the buttons
        self.restart()

    # ----- the game -----

    def restart(self) -> "SchedulerPlayground":
        """A fresh world, the requests sent again, and the first choice waiting."""
        if self.rt is not None:
            self._chooser.detach()
            self.rt.close()
            for call in self.calls:  # the requests cut short by close(): their errors are not news
                if call._future.done() and not call._future.cancelled():
                    call._future.exception()
        self.rt = self.make_runtime()
        self._pick = _YourPick()
        self._chooser = Chooser(self._pick).attach(self.rt)
        self._mark = len(self.rt.trace)
        self.calls = list(self.requests(self.rt))
        self.history: list[str] = []
        self._run()
        return self

    @property
    def ready(self) -> list[ReadyEvent]:
        """The events you can run now (empty once every request has finished)."""
        chooser = self._chooser
        if chooser.paused is None:
            return []
        out = []
        for index, name in enumerate(chooser.paused):
            event = chooser.candidates[name].event
            label = "the constructor" if event is None else f"#{event.request_id} {event.label}"
            step = "resumes after its await" if name in chooser.started else "starts"
            out.append(ReadyEvent(index, None if event is None else event.request_id, label, step))
        return out

    def choose(self, index: int) -> "SchedulerPlayground":
        """Run ready event number `index`; the world goes on until the next choice."""
        ready = self.ready
        if not ready:
            raise ValueError("nothing is waiting for you: every request has finished (restart() to play again)")
        if not 0 <= index < len(ready):
            raise ValueError(f"choose a number from 0 to {len(ready) - 1}")
        self.history.append(str(ready[index]))
        self._pick.pick = index
        self._chooser.paused = None
        self._run()
        return self

    def auto(self) -> "SchedulerPlayground":
        """Let the world's own order decide every remaining choice."""
        while self.ready:
            self.choose(0)
        return self

    BUTTONS = ("choose", "restart", "auto")

    def press(self, button: str, argument=None) -> str:
        """What a button of the view does, in a notebook (ipywidgets) or on the site's chapter
        page: "choose" (`argument`: the ready event's number), "restart" or "auto" ("Run the
        rest"). Never raises: an error becomes the message the view shows. Returns the message."""
        if button not in self.BUTTONS:
            raise ValueError(f"unknown button {button!r}: one of {', '.join(self.BUTTONS)}")
        try:
            if button == "choose":
                self.choose(_index(argument))
            else:
                getattr(self, button)()
            self.message = ""
        except Exception as exc:  # noqa: BLE001 - a button must never raise into the kernel or the page
            self.message = f"{type(exc).__name__}: {exc}"
        self.refresh()
        return self.message

    def _run(self) -> None:
        chooser = self._chooser
        self.rt.loop.run_until(lambda: chooser.paused is not None or self.done,
                               wall_timeout=self.rt.hang_timeout, what="the requests")
        self.refresh()

    # ----- what you see -----

    @property
    def done(self) -> bool:
        return all(call.done() for call in self.calls)

    @property
    def schedule(self) -> str:
        """The id of your choices: `explore(..., replay=play.schedule)` runs them again."""
        return self._chooser.schedule

    @property
    def results(self) -> list:
        """Each request's result, its error, or None while it runs."""
        out = []
        for call in self.calls:
            future = call._future
            if not future.done():
                out.append(None)
            elif future.cancelled() or future.exception() is not None:
                out.append(future.exception() if not future.cancelled() else "cancelled")
            else:
                out.append(future.result())
        return out

    @property
    def problem(self) -> str | None:
        """What `check(results, playground)` says once every request finished (None: all good)."""
        if not self.done or self.check is None:
            return None
        return self.check(self.results, self)

    @property
    def verdict(self) -> str | None:
        """The check's word once every request finished: "Broken: ..." or that the invariant
        held (None while you are still choosing, or without a check)."""
        if not self.done or self.check is None:
            return None
        problem = self.problem
        return f"Broken: {problem}" if problem else "The invariant held in this schedule."

    def storage(self, name: str | None = None) -> dict:
        """Storage of the object named `name` (or of every object that has some, by name)."""
        hosts = {host.label: host for host in self.rt._hosts.values()}
        if name is not None:
            return _storage_of(hosts[name])
        return {label: _storage_of(host) for label, host in sorted(hosts.items()) if host.instances_made}

    def text(self) -> str:
        lines = ["Storage:"]
        for label, storage in self.storage().items():
            lines.append(f"  {label}: {storage}")
        lines.append("Timeline (newest last):")
        lines.append(Timeline(self.rt, start=self._mark, last=self.timeline_events).text())
        if self.ready:
            lines.append("Ready to run (choose one):")
            lines.extend(f"  {event}" for event in self.ready)
        else:
            lines.append(f"Every request finished: results {self.results}")
            if self.verdict is not None:
                lines.append(self.verdict)
        lines.append(f"Your schedule so far: {self.schedule}")
        return "\n".join(lines)

    def html(self) -> str:
        """The text, with the check's verdict in bold: red when the invariant broke, green when it held."""
        verdict = self.verdict
        lines = []
        for line in self.text().split("\n"):
            if verdict is not None and line == verdict:
                colour = "#c62828" if self.problem else "#2e7d32"
                lines.append(f"<b style='color:{colour}'>{html.escape(line)}</b>")
            else:
                lines.append(html.escape(line))
        return "<pre style='font-size:12px'>" + "\n".join(lines) + "</pre>"

    def refresh(self) -> None:
        if self._widget is not None:
            self._widget.update()

    @property
    def widget(self):
        """The ipywidgets view (built on first use)."""
        if self._widget is None:
            self._widget = _PlaygroundWidget(self)
            self._widget.update()
        return self._widget.box


class _PlaygroundWidget:
    """Buttons for the ready events, Restart and Auto; every handler calls a playground method."""

    def __init__(self, playground: SchedulerPlayground):
        import ipywidgets as w  # noqa: PLC0415 - only when a notebook displays it

        self.w = w
        self.playground = playground
        self.view = w.HTML()
        self.choices = w.VBox()
        restart = w.Button(description="Restart", tooltip=RESTART_TIP)
        auto = w.Button(description="Run the rest", tooltip=AUTO_TIP)
        restart.on_click(lambda _: playground.press("restart"))
        auto.on_click(lambda _: playground.press("auto"))
        self.status = w.HTML()
        self.box = w.VBox([self.view, self.choices, w.HBox([restart, auto]), self.status])

    def update(self) -> None:
        """Redraw from the playground (`press` calls it through `refresh` after every button)."""
        w = self.w
        playground = self.playground
        self.view.value = playground.html()
        buttons = []
        for event in playground.ready:
            button = w.Button(description=event.description, layout=w.Layout(width="auto"))
            button.on_click(lambda _, i=event.index: playground.press("choose", i))
            buttons.append(button)
        self.choices.children = buttons
        self.status.value = html.escape(playground.message)


RESTART_TIP = "a fresh world, the requests sent again"
AUTO_TIP = "the world's own order for every remaining choice"


def _index(argument) -> int:
    """A ready event's number, as a button or the page sends it (a JavaScript number is a float)."""
    if isinstance(argument, bool) or not isinstance(argument, (int, float)) or not float(argument).is_integer():
        raise ValueError(f"choose a ready event by its number, not {argument!r}")
    return int(argument)
