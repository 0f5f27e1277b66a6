"""The kata runner's commands: `dojo` (watch), `list`, `check` (`--all`), `hint`, `reset`, `solution`, `next`
(and `progress`, from facilitator.py).

`durable_dojo.cli` wires them into the `dojo` command with `add_kata_commands(subparsers)` (each
sub-command sets both `run` and `func` to its handler, called as `args.run(args)`, returning the
exit code) and calls `run_default(args)` when no sub-command is given.
`python -m durable_dojo._kata.cli ...` runs the same commands on their own (the authors' tools are
`python -m durable_dojo._kata`).

Kata names: the id (`01-counter-forgets`), its number (`1`, `01`), a unique prefix or a unique
part of the id (`counter`). Exit codes: 0 success (a check that passes), 1 a check that fails or
hangs, a refused solution, a reset declined; 2 a usage or manifest error.

Imports stay light: `rich` and `watchfiles` are imported when a command runs.
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
import time
from pathlib import Path

from .manifest import LEARNER_TREE, MANIFEST_PATH, Kata, KataNotFound, ManifestError, ProjectNotFound
from .pristine import PristineNotFound, shipped_file, shipped_or_working
from .progress import Progress
from .run import FAILING, Verdict, check_kata, default_manifest, short_message

POLL_SECONDS = 0.5
READING_WIDTH = 100  # `dojo solution` in a pipe or a file wraps at this width
READY_SECONDS = 30  # at most this long to set up the watches (a busy machine, a big folder)
_SYMBOL = {"passed": "✓", "failed": "✗", "error": "✗", "crashed": "✗", "hung": "⧗", "skipped": "-", "not run": "·"}
_STYLE = {"passed": "green", "failed": "red", "error": "red", "crashed": "red", "hung": "yellow", "skipped": "dim",
          "not run": "dim"}


class _Stop(Exception):
    def __init__(self, code: int):
        self.code = code


def _console():
    try:
        from rich.console import Console
    except ImportError:
        print("dojo needs the `rich` package for its output: pip install rich", file=sys.stderr)
        raise _Stop(2) from None

    console = Console(highlight=False)
    # In a terminal rich wraps at the window's width; in a pipe or a log, lines stay whole.
    console.soft_wrap = not console.is_terminal
    return console


class _Context:
    """What every command needs: the console, the manifest and the progress file."""

    def __init__(self):
        self.console = _console()
        try:
            self.manifest = default_manifest()
        except (ManifestError, ProjectNotFound) as exc:
            self.console.print(f"[bold red]error:[/] {_esc(str(exc))}")
            raise _Stop(2) from None
        self.progress = Progress.for_project(self.manifest.root)
        if self.progress.warning:
            self.console.print(f"[yellow]{_esc(self.progress.warning)}[/]")

    def kata(self, name: str | None) -> Kata:
        """The kata called `name`, or the current one when no name is given."""
        if name is None:
            current = self.progress.current(self.manifest)
            if current is None:
                self.console.print("[green]Every kata passes: nothing left to check.[/] `dojo list` shows them all.")
                raise _Stop(0)
            return current
        try:
            return self.manifest.find(name)
        except KataNotFound as exc:
            self.console.print(f"[bold red]error:[/] {_esc(str(exc))}")
            raise _Stop(2) from None


def _reading_console(console):
    """A console for text to read (the solution and its explanation): wrapped, never cut. In a
    terminal, at its width, as rich does; in a pipe or a file, at $COLUMNS or 100, the same
    way (without it, rich cuts list items and code at 80 columns and leaves paragraphs whole)."""
    if console.is_terminal:
        return console
    from rich.console import Console

    try:
        width = int(os.environ.get("COLUMNS", "")) or READING_WIDTH
    except ValueError:
        width = READING_WIDTH
    return Console(highlight=False, width=width, soft_wrap=False, file=console.file)


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _command(fn):
    def run(args) -> int:
        try:
            return fn(args) or 0
        except _Stop as stop:
            return stop.code
        except KeyboardInterrupt:
            return 130

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def _progress_bar(ctx: _Context, width: int = 32):
    from rich.text import Text

    total, done = len(ctx.manifest.katas), ctx.progress.done(ctx.manifest)
    filled = round(width * done / total) if total else 0
    return Text.assemble("Progress ", ("█" * filled, "green"), ("░" * (width - filled), "dim"),
                         f" {done}/{total} katas")


def _status(ctx: _Context, kata: Kata) -> str:
    return ctx.progress.status(kata.id)


def verdict_summary(verdict: Verdict) -> str:
    if verdict.status == "passed":
        return f"all {len(verdict.tests)} tests pass"
    if verdict.status == "hung":
        if "within its timeout" in verdict.message:
            return f"stopped after {verdict.kata.timeout:g} s"
        return "stopped: its code did not return"
    if verdict.status == "error":
        return "could not run"
    if verdict.status == "crashed":
        return "the tests' process ended early"
    failing = [t for t in verdict.tests if t.outcome != "passed"]
    return f"{len(failing)} of {len(verdict.tests)} tests failing"


def verdict_lines(verdict: Verdict) -> list[list[tuple[str, str]]]:
    """The verdict as `dojo check` shows it, one line per item: the kata and its summary, each
    test (the first failure in full, the others in short, where in the learner's code), the
    run's own message, the notes and the rule. A line is a list of (text, rich style) pieces;
    the in-browser runner shows the same lines as plain text."""
    kata = verdict.kata
    style = _STYLE.get(verdict.status, "red")
    lines = [[(f"{_SYMBOL.get(verdict.status, '✗')} {kata.id}", f"bold {style}"), ("  ", ""), (kata.title, "bold"),
              ("  ", ""), (verdict_summary(verdict), style), (f"  ({verdict.seconds:.1f} s)", "dim")]]
    first = True
    for test in verdict.tests:
        lines.append([("  ", ""), (_SYMBOL.get(test.outcome, "✗"), _STYLE.get(test.outcome, "red")),
                      (" " + test.name, "")])
        if test.outcome in FAILING and test.message:
            # The first failure in full (kata tests quote the trace), the others in short.
            message = short_message(test.message, max_lines=15 if first else 4, max_chars=2000 if first else 400)
            lines.append([(_indent(message, 6), "red" if test.outcome != "hung" else "yellow")])
            first = False
        if test.outcome in FAILING and test.where:
            lines.append([(_indent(f"at {test.where}", 6), "dim")])
    if verdict.message:
        lines.append([(_indent(verdict.message, 2), style)])
    for note in verdict.notes:
        lines.append([(_indent(note, 2), "yellow")])
    lines.append([("  Rule: ", ""), (kata.rule.strip(), "italic")])
    return lines


def verdict_text(verdict: Verdict) -> str:
    """`verdict_lines` as plain text."""
    return "\n".join("".join(text for text, _ in line) for line in verdict_lines(verdict))


def _render_verdict(ctx: _Context, verdict: Verdict) -> None:
    from rich.text import Text

    console, kata = ctx.console, verdict.kata
    for line in verdict_lines(verdict):
        console.print(Text.assemble(*line))
    if verdict.passed:
        console.print(f"  The reference solution and why it works: [bold]dojo solution {kata.id}[/]"
                      f" · then [bold]dojo next[/]")
    else:
        level, total = ctx.progress.hint_level(kata.id), len(kata.hints)
        more = f"hint {level + 1} of {total}" if level < total else "all hints shown"
        console.print(f"  Edit [bold]{_esc(kata.learner)}[/] · stuck? run [bold]dojo hint {kata.id}[/] ({more})")


def _difficulty(kata: Kata) -> str:
    return "●" * kata.difficulty if isinstance(kata.difficulty, int) else kata.difficulty


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line for line in text.splitlines())


def _show_hints(ctx: _Context, kata: Kata, level: int, more: str = "") -> None:
    from rich.text import Text

    console = ctx.console
    for i, hint in enumerate(kata.hints[:level], 1):
        style = "bold" if i == level else "dim"
        console.print(Text.assemble((f"Hint {i}/{len(kata.hints)} ", "bold cyan"), (hint.strip(), style)))
    if level >= len(kata.hints):
        console.print(f"[dim]That was the last hint. Once the kata passes, [bold]dojo solution {kata.id}[/] "
                      "shows the reference solution and its explanation.[/]")
    else:
        console.print(f"[dim]More: {more or f'run [bold]dojo hint {kata.id}[/] again'}.[/]")


def _run_check(ctx: _Context, kata: Kata) -> Verdict:
    verdict = check_kata(ctx.manifest, kata)
    ctx.progress.record(verdict)
    ctx.progress.save()
    return verdict


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


@_command
def cmd_list(args) -> int:
    """Every kata, in order, with its status and the hints used."""
    from rich.table import Table

    ctx = _Context()
    current = ctx.progress.current(ctx.manifest)
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in ("", "#", "kata", "title", "level", "status", "hints"):
        table.add_column(column)
    labels = {"passed": "[green]✓ passed[/]", "regressed": "[yellow]✓ passed, failing now[/]",
              "failed": "[red]✗ failing[/]", "error": "[red]✗ error[/]", "crashed": "[red]✗ crashed[/]",
              "hung": "[yellow]⧗ hung[/]",
              "new": "[dim]· new[/]"}
    for kata in ctx.manifest.katas:
        status = _status(ctx, kata)
        level = ctx.progress.hint_level(kata.id)
        table.add_row("→" if kata is current else "", str(kata.order), _esc(kata.id), _esc(kata.title),
                      _difficulty(kata), labels.get(status, status), f"{level}/{len(kata.hints)}" if level else "")
    ctx.console.print(table)
    ctx.console.print(_progress_bar(ctx))
    if current is not None:
        ctx.console.print(f"Current kata: [bold]{_esc(current.id)}[/] · [bold]dojo check {current.id}[/] "
                          "or just [bold]dojo[/] to watch it")
    return 0


@_command
def cmd_check(args) -> int:
    """Run one kata's tests (default: the current kata) and show the verdict; with --all, every
    kata's, one line each."""
    ctx = _Context()
    if getattr(args, "all", False):
        if getattr(args, "name", None):
            ctx.console.print("[bold red]error:[/] give a kata's name or --all, not both")
            return 2
        return _check_all(ctx)
    kata = ctx.kata(getattr(args, "name", None))
    verdict = _run_check(ctx, kata)
    _render_verdict(ctx, verdict)
    return 0 if verdict.passed else 1


def _check_all(ctx: _Context) -> int:
    """Every kata against the learner's files, in order: one line per kata, then the progress."""
    from rich.text import Text

    failing = []
    for kata in ctx.manifest.katas:
        verdict = _run_check(ctx, kata)
        style = _STYLE.get(verdict.status, "red")
        ctx.console.print(Text.assemble((f"{_SYMBOL.get(verdict.status, '✗')} {kata.id}", f"bold {style}"), "  ",
                                        kata.title, "  ", (verdict_summary(verdict), style)))
        if not verdict.passed:
            failing.append(kata)
    ctx.console.print(_progress_bar(ctx))
    if failing:
        ctx.console.print(f"[bold]dojo check {failing[0].id}[/] shows what fails in the first one.")
    return 1 if failing else 0


@_command
def cmd_hint(args) -> int:
    """Show one more hint for a kata each time (default: the current kata)."""
    ctx = _Context()
    kata = ctx.kata(getattr(args, "name", None))
    level = ctx.progress.next_hint(kata)
    ctx.progress.save()
    ctx.console.print(f"[bold]{_esc(kata.id)}[/] {_esc(kata.title)}")
    _show_hints(ctx, kata, level)
    return 0


@_command
def cmd_reset(args) -> int:
    """Restore a kata's learner file to its original content (asks first), and the kata's
    manifest and test files if they are gone."""
    ctx = _Context()
    kata = ctx.kata(args.name)
    root = ctx.manifest.root
    target = root / kata.learner
    try:
        original, source = shipped_file(root, kata.learner)
        missing = {rel: shipped_file(root, rel)[0] for rel in (str(MANIFEST_PATH), *kata.tests)
                   if not (root / rel).exists()}
    except PristineNotFound as exc:
        ctx.console.print(f"[bold red]error:[/] {_esc(str(exc))}")
        return 2
    for rel, content in missing.items():  # never anyone's work: only files that are gone
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
        ctx.console.print(f"[green]Restored[/] {_esc(rel)}, which was missing (from {_esc(source)}).")
    if target.exists() and target.read_bytes() == original:
        ctx.console.print(f"{_esc(kata.learner)} is already as shipped; nothing to reset.")
        return 0
    if not getattr(args, "yes", False):
        ctx.console.print(f"Reset [bold]{_esc(kata.learner)}[/] to its original content? "
                          "[red]Your changes to it will be lost.[/]")
        try:
            answer = input("Reset? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            ctx.console.print("Nothing changed.")
            return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(original)
    ctx.progress.forget_pass(kata.id)
    ctx.progress.save()
    ctx.console.print(f"[green]Reset[/] {_esc(kata.learner)} (from {_esc(source)}). "
                      f"Its pass is forgotten; your hints stay. [bold]dojo check {kata.id}[/] to start again.")
    return 0


@_command
def cmd_solution(args) -> int:
    """The reference solution and its explanation, once the kata has passed."""
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.syntax import Syntax

    ctx = _Context()
    kata = ctx.kata(args.name)
    console = ctx.console
    if not ctx.progress.passed(kata.id):
        console.print(f"[dim]{_esc(kata.id)} has not passed yet; checking it now…[/]")
        verdict = _run_check(ctx, kata)
        if not verdict.passed:
            _render_verdict(ctx, verdict)
            console.print(f"[bold]The solution opens once {_esc(kata.id)} passes.[/] Hints first: "
                          f"[bold]dojo hint {kata.id}[/].")
            return 1
    code = shipped_or_working(ctx.manifest.root, kata.solution).decode("utf-8")
    console = _reading_console(console)
    console.print(Rule(f"{kata.id} · reference solution · {kata.solution}"))
    console.print(Syntax(code, "python", theme="ansi_dark", background_color="default", word_wrap=True))
    console.print(Rule("why"))
    explanation = kata.explanation_file
    text = shipped_or_working(ctx.manifest.root, explanation).decode("utf-8") if explanation else kata.explanation
    console.print(Markdown(text.strip()))
    console.print(f"Rule: [italic]{_esc(kata.rule.strip())}[/]")
    if kata.docs:
        console.print("Read more: " + " · ".join(_esc(d) for d in kata.docs))
    return 0


@_command
def cmd_next(args) -> int:
    """The kata to work on next: the first one, in order, that has not passed."""
    ctx = _Context()
    ctx.console.print(_progress_bar(ctx))
    kata = ctx.progress.current(ctx.manifest)
    if kata is None:
        ctx.console.print(f"[bold green]All {len(ctx.manifest.katas)} katas pass.[/] Well done.")
        return 0
    _describe(ctx, kata)
    ctx.console.print(f"Then [bold]dojo check {kata.id}[/], or just [bold]dojo[/] to re-run it on every save.")
    return 0


def _describe(ctx: _Context, kata: Kata) -> None:
    console = ctx.console
    console.print(f"[bold]Kata {kata.order}: {_esc(kata.title)}[/]  [dim]({_esc(kata.id)}, difficulty "
                  f"{_esc(_difficulty(kata))}, {kata.timeout:g} s)[/]")
    if kata.concepts:
        console.print(f"Concepts: {_esc(', '.join(kata.concepts))}")
    readme = ctx.manifest.root / Path(kata.learner).parent / "README.md"
    task = f" (the task: {_esc(str(readme.relative_to(ctx.manifest.root)))})" if readme.exists() else ""
    console.print(f"Edit [bold]{_esc(kata.learner)}[/]{task}")


# ---------------------------------------------------------------------------------------------
# Watch mode
# ---------------------------------------------------------------------------------------------


def _watch_mode() -> tuple[bool, str]:
    """(use polling, why) — polling when asked (DOJO_POLL=1) or when watchfiles is missing."""
    if os.environ.get("DOJO_POLL", "") not in ("", "0"):
        return True, "DOJO_POLL is set"
    try:
        import watchfiles  # noqa: F401
    except ImportError:
        return True, "watchfiles is not installed"
    return False, ""


def _watchfiles_thread(folder: Path, events: queue.Queue, stop: threading.Event, ready: threading.Event) -> None:
    try:
        import watchfiles

        # yield_on_timeout: an empty set every 200 ms of quiet; the first one says the watches
        # are in place, so a save made after `ready` is never missed.
        for changes in watchfiles.watch(folder, watch_filter=watchfiles.PythonFilter(), stop_event=stop,
                                        raise_interrupt=False, debounce=400, rust_timeout=200,
                                        yield_on_timeout=True):
            ready.set()
            if changes:
                events.put(("change", {Path(p) for _, p in changes}))
    except Exception as exc:  # no inotify, too many watches, a vanished folder…
        if not stop.is_set():
            events.put(("watch-failed", f"{type(exc).__name__}: {exc}"))
    finally:
        ready.set()


def _poll_thread(folder: Path, events: queue.Queue, stop: threading.Event, ready: threading.Event) -> None:
    def snapshot():
        seen = {}
        for path in folder.rglob("*.py"):
            try:
                st = path.stat()
            except OSError:
                continue
            seen[path] = (st.st_mtime_ns, st.st_size)
        return seen

    before = snapshot()
    ready.set()
    while not stop.wait(POLL_SECONDS):
        now = snapshot()
        changed = {p for p in before.keys() | now.keys() if before.get(p) != now.get(p)}
        before = now
        if changed:
            events.put(("change", changed))


def _key_thread(events: queue.Queue) -> None:
    try:
        for line in sys.stdin:
            events.put(("key", line.strip().lower()))
    except (OSError, ValueError):
        pass
    events.put(("eof", None))


class _Watcher:
    """Saves of `.py` files under `katas/` arrive as ("change", paths) on `events`, from
    watchfiles or, when asked or when it is missing or fails, from polling."""

    def __init__(self, folder: Path, events: queue.Queue):
        self.folder, self.events = folder, events
        self.polling, why = _watch_mode()
        if self.polling:
            self.announcement = f"[yellow]Watching for saves by polling every {POLL_SECONDS:g} s ({_esc(why)}).[/]"
        else:
            self.announcement = ("[dim]Watching for saves with file-system events (watchfiles). If saving does "
                                 "nothing (network drives, some containers), press r + Enter, or restart with "
                                 "DOJO_POLL=1 to poll instead.[/]")
        self._start()

    @property
    def how(self) -> str:
        return f"polling every {POLL_SECONDS:g} s" if self.polling else "file events"

    def _start(self) -> None:
        """Start watching; return once the watches are in place (a save from then on is seen)."""
        self.stop, ready = threading.Event(), threading.Event()
        target = _poll_thread if self.polling else _watchfiles_thread
        threading.Thread(target=target, args=(self.folder, self.events, self.stop, ready), daemon=True,
                         name="dojo-watch").start()
        ready.wait(READY_SECONDS)

    def fall_back(self, error: str) -> str:
        """File events failed: poll from now on; returns the announcement."""
        self.stop.set()
        self.polling = True
        self._start()
        return (f"[yellow]File events stopped working ({_esc(error)}); polling every {POLL_SECONDS:g} s "
                "from now on.[/]")

    def close(self) -> None:
        self.stop.set()


@_command
def cmd_watch(args) -> int:
    """Progress, then the current kata, re-run on every save. h + Enter: the next hint; r + Enter:
    run again; l + Enter: the list; q + Enter: quit."""
    ctx = _Context()
    console = ctx.console
    events: queue.Queue = queue.Queue()
    watcher = _Watcher(ctx.manifest.root / LEARNER_TREE, events)
    threading.Thread(target=_key_thread, args=(events,), daemon=True, name="dojo-keys").start()
    kata = ctx.progress.current(ctx.manifest)
    clear = False
    console.print(watcher.announcement)
    try:
        while True:
            if kata is None:
                console.print(_progress_bar(ctx))
                console.print(f"[bold green]All {len(ctx.manifest.katas)} katas pass.[/] Well done.")
                return 0
            if clear and console.is_terminal:
                console.clear()
            console.print(_progress_bar(ctx))
            _describe(ctx, kata)
            verdict = _run_check(ctx, kata)
            _render_verdict(ctx, verdict)
            if verdict.passed:
                kata, clear = ctx.progress.current(ctx.manifest), False
                if kata is not None:
                    console.rule(f"next: {kata.id}")
                continue
            console.print(f"[dim]Watching {_esc(kata.learner)} ({watcher.how}): save it to run again · "
                          "h + Enter: next hint · r + Enter: run again · q + Enter: quit[/]")
            clear = True
            if not _wait(ctx, kata, events, watcher):
                return 0
    except KeyboardInterrupt:
        console.print()
        return 0
    finally:
        watcher.close()


def _wait(ctx: _Context, kata: Kata, events: queue.Queue, watcher: _Watcher) -> bool:
    """Wait for a save in the kata's folder (True: run again) or a key; False: quit."""
    target_dir = (ctx.manifest.root / kata.learner).parent.resolve()
    while True:
        kind, value = events.get()
        if kind == "change":
            if any(p.resolve().parent == target_dir for p in value):
                _drain_changes(events)
                return True
        elif kind == "key":
            if value in ("q", "quit", "exit"):
                return False
            if value in ("h", "hint"):
                level = ctx.progress.next_hint(kata)
                ctx.progress.save()
                _show_hints(ctx, kata, level, more="h + Enter again")
            elif value in ("r", "run", ""):
                return True
            elif value in ("l", "list"):
                cmd_list(argparse.Namespace())
            else:
                ctx.console.print("[dim]h + Enter: next hint · r + Enter: run again · l + Enter: list · "
                                  "q + Enter: quit[/]")
        elif kind == "watch-failed":
            ctx.console.print(watcher.fall_back(value))
        # "eof": stdin is closed, so no more keys; keep watching for saves (Ctrl-C quits)


def _drain_changes(events: queue.Queue) -> None:
    """Editors save in bursts (a temp file, a rename): wait a moment and take them all."""
    time.sleep(0.05)
    kept = []
    while True:
        try:
            item = events.get_nowait()
        except queue.Empty:
            break
        if item[0] != "change":
            kept.append(item)
    for item in kept:
        events.put(item)


# ---------------------------------------------------------------------------------------------
# Wiring
# ---------------------------------------------------------------------------------------------


def add_kata_commands(subparsers) -> None:
    """Add the kata commands to an argparse sub-parser set. Each sets `run` (and `func`, the same
    handler) as its default: `args.run(args)` runs it and returns the exit code."""

    def add(name: str, handler, help_text: str):
        parser = subparsers.add_parser(name, help=help_text, description=handler.__doc__)
        parser.set_defaults(run=handler, func=handler)
        return parser

    add("watch", cmd_watch, "watch the current kata and re-run it on every save (the default)")
    add("list", cmd_list, "all katas, their status and your progress")
    p = add("check", cmd_check, "run a kata's tests and show the verdict (--all: every kata)")
    p.add_argument("name", nargs="?", help="id, number or unique part of the id (default: the current kata)")
    p.add_argument("--all", action="store_true", help="check every kata against your files, one line each")
    p = add("hint", cmd_hint, "one more hint for a kata, each time")
    p.add_argument("name", nargs="?", help="id, number or unique part of the id (default: the current kata)")
    p = add("reset", cmd_reset, "restore a kata's file to its original content (asks first)")
    p.add_argument("name", help="id, number or unique part of the id")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p = add("solution", cmd_solution, "the reference solution and why (once the kata passes)")
    p.add_argument("name", help="id, number or unique part of the id")
    add("next", cmd_next, "the kata to work on next")
    from .facilitator import add_progress_command

    add_progress_command(subparsers)


def run_default(args=None) -> int:
    """`dojo` with no sub-command: watch mode."""
    return cmd_watch(args if args is not None else argparse.Namespace())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dojo", description="The Durable Dojo kata runner.")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    add_kata_commands(subparsers)
    args = parser.parse_args(argv)
    run = getattr(args, "run", None)
    return run(args) if run is not None else run_default(args)


if __name__ == "__main__":
    sys.exit(main())
