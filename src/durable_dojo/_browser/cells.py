"""A chapter's code cells run in the browser, with the outputs Jupyter would show.

The cells of one chapter share a namespace and run in the order the page sends them, as in a
notebook's kernel. A cell may `await` at its top level (the chapters do: `await page.increment()`),
and tasks it starts keep running in later cells: each chapter has its own host loop (`HostLoop`),
run until the cell's code is done.

Outputs are nbformat's: `stream` (stdout, stderr), `display_data` (`display(obj)`),
`execute_result` (the value of the cell's last expression, `text/plain` and `text/html` when the
object has an HTML form, as the workbook's views do) and `error`, whose traceback shows the
cell's frames and the learner's, never the emulator's. A view with buttons (an `Inspector`, a
`SchedulerPlayground`) also carries its state for the page's buttons (`views.bundle_entry`), and
every result lists the displayed views as they are after the cell (`views`), since in Jupyter
they redraw after each cell.
"""

from __future__ import annotations

import ast
import linecache
import sys
import traceback

from .._core.tracebacks import prune
from . import views
from .host import HostLoop, learner_run

_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE: the cell awaits at its top level


class _Stream:
    """sys.stdout / sys.stderr while a cell runs: text goes to the cell's outputs, in order."""

    def __init__(self, cell: "_CellRun", name: str):
        self.cell, self.name = cell, name

    def write(self, text: str) -> int:
        self.cell.stream(self.name, text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class _CellRun:
    def __init__(self):
        self.outputs: list[dict] = []

    def stream(self, name: str, text: str) -> None:
        if not text:
            return
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def display(self, value, output_type: str = "display_data") -> None:
        output = {"output_type": output_type, "data": mime_bundle(value), "metadata": {}}
        self.outputs.append(output)


def mime_bundle(value) -> dict:
    """What Jupyter shows of `value`: its `_repr_mimebundle_`, else `text/plain` (repr) and
    `text/html` (`_repr_html_`) if it has one."""
    data: dict = {}
    method = getattr(value, "_repr_mimebundle_", None)
    if callable(method):
        bundle = method()
        if isinstance(bundle, tuple):
            bundle = bundle[0]
        data.update(bundle or {})
    if "text/html" not in data and callable(getattr(value, "_repr_html_", None)):
        html = value._repr_html_()
        if html is not None:
            data["text/html"] = html
    data.setdefault("text/plain", repr(value))
    data = {k: v for k, v in data.items() if isinstance(v, str)}
    data.update(views.bundle_entry(value))  # a view with buttons: the page draws them (views.py)
    return data


class Chapter:
    """One chapter's kernel: its namespace, its host loop and its cell count."""

    def __init__(self, name: str):
        self.name = name
        self.loop = HostLoop()
        self.count = 0
        self._current: _CellRun | None = None
        self.namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__, "display": self._display}

    def _display(self, *values) -> None:
        """IPython's `display()`: each value as a display_data output of the running cell."""
        for value in values:
            if self._current is not None:
                self._current.display(value)

    def run_cell(self, source: str) -> dict:
        """Run one cell; `{"outputs": [...], "error": the error output or None}`."""
        self.count += 1
        filename = f"<cell {self.name}:{self.count}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        cell = self._current = _CellRun()
        error = None
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Stream(cell, "stdout"), _Stream(cell, "stderr")
        try:
            with learner_run():
                value = self._execute(source, filename)
            if value is not None:
                self.namespace["_"] = value
                cell.display(value, "execute_result")
        except BaseException as exc:  # noqa: BLE001 - every error of the learner's code is an output
            error = _error_output(exc)
            cell.outputs.append(error)
        finally:
            sys.stdout, sys.stderr = stdout, stderr
            self._current = None
        for output in cell.outputs:
            if output["output_type"] == "execute_result":
                output["execution_count"] = self.count
        return {"outputs": cell.outputs, "error": error, "execution_count": self.count, "views": views.states()}

    def _execute(self, source: str, filename: str):
        """Run the cell's statements; the value of its last expression (None if it has none)."""
        tree = ast.parse(source, filename, "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        value = None
        for node, mode in ((tree, "exec"), (last, "eval")):
            if node is None or (mode == "exec" and not node.body):
                continue
            code = compile(node, filename, mode, flags=flags, dont_inherit=True)
            result = eval(code, self.namespace)  # noqa: S307 - running the reader's own cell is the point
            if code.co_flags & _CO_COROUTINE:
                result = self.loop.run_until_complete(result)
            if mode == "eval":
                value = result
        return value


def _error_output(exc: BaseException) -> dict:
    prune(exc)  # the learner's frames and the cell's, none of the emulator's
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc),
            "traceback": [line.rstrip("\n") for line in lines]}


_chapters: dict[str, Chapter] = {}


def run_cell(chapter: str, source: str) -> dict:
    if chapter not in _chapters:
        _chapters[chapter] = Chapter(chapter)
    return _chapters[chapter].run_cell(source)


def reset_chapter(chapter: str) -> None:
    old = _chapters.pop(chapter, None)
    if old is not None:
        old.loop.close()
    views.forget()
