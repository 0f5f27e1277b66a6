"""`pyodide`: the parts of Pyodide's Python API that Python Worker code uses, on the emulator.

A Python Worker runs on Pyodide inside workerd. A Worker whose compatibility date is 2025-09-29
or later gets Pyodide 0.28.2 (CPython 3.13): workerd's `build/python_metadata.bzl` and the
`python_workers_20250116` flag, implied after that date, in `compatibility-date.capnp`. Pyodide
314.0.4 (CPython 3.14) needs the explicit `python_workers_20260610` flag.

* `pyodide.ffi`: `JsException` (how a JavaScript error reaches Python), `JsProxy`, `JsBuffer`,
  `to_js`, `create_proxy`, `create_once_callable`, `destroy_proxies`, `run_sync`, `jsnull`.
* `pyodide.http.pyfetch`: an outgoing HTTP request (here: `workers.fetch`).
"""

from __future__ import annotations

__version__ = "0.28.2"

from . import ffi, http  # noqa: E402  - `import pyodide` makes pyodide.ffi and pyodide.http usable

__all__ = ["__version__", "ffi", "http"]
