"""The in-browser runner: the katas' tests and the chapters' cells, run by Pyodide in a Web Worker.

A tool layer over the core, like `_kata`, for `site/assets/dojo/runner-worker.js`:

* `host.py`: what Pyodide lacks and the runner needs. A host event loop that runs to completion
  without blocking the browser (Pyodide's own loop cannot be run from inside), and the
  emulator's `js` and `pyodide` modules in place of Pyodide's while learner code runs.
* `katas.py`: a kata's tests run in this process with pytest (no child process: the Web Worker
  is the sandbox, and the page ends it if it hangs), turned into `dojo check`'s verdict by
  `_kata`'s own code.
* `cells.py`: a chapter's code cells run in one namespace, their outputs captured the way
  Jupyter shows them.
"""
