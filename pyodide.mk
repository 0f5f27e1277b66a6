# The emulator under Pyodide, in Node (issue 17): the same npm package and files the docs site
# vendors for the in-browser runner (site/vendor.py). Included by the Makefile.
#
#   make pyodide-test     through the site's own Web Worker (tests/pyodide/worker_host.mjs): every
#                         kata fails as shipped (exactly its failing_tests; the learner file of
#                         the last commit, as make test reads it: tests/pyodide/katas_json.py)
#                         and passes with its solution, every chapter's cells run without an
#                         error; then the emulator's core test files in Pyodide
#                         (tests/pyodide/core_tests.py lists them, and the tests left out with why).
#                         KATAS="01-counter-forgets ..." picks katas.
#   make pyodide-vendor   download Pyodide (npm) and the wheels (PyPI) into .cache/pyodide-vendor/
#   make bench-pyodide    cold start and warm runs of the runner in Node (bench/pyodide_start.mjs)
#
# Needs node and npm (for `npm pack`); the downloads are cached, pinned and hash-checked.
PYODIDE_SITE := .cache/pyodide-site

.PHONY: pyodide-test pyodide-vendor pyodide-site bench-pyodide

pyodide-vendor:
	$(PYTHON) site/vendor.py fetch

# A site with only what the runner needs: assets/pyodide/ and assets/dojo/runner-worker.js.
pyodide-site: env-test
	$(PYTHON) site/vendor.py install $(PYODIDE_SITE)
	mkdir -p $(PYODIDE_SITE)/assets/dojo && cp site/assets/dojo/runner-worker.js $(PYODIDE_SITE)/assets/dojo/
	.venv/bin/python tests/pyodide/katas_json.py $(PYODIDE_SITE)/katas.json

pyodide-test: pyodide-site
	node tests/pyodide/katas.mjs $(PYODIDE_SITE) $(PYODIDE_SITE)/katas.json $(KATAS)
	node tests/pyodide/chapters.mjs $(PYODIDE_SITE) notebooks/*.ipynb
	node tests/pyodide/core_tests.mjs $(PYODIDE_SITE) $(PYTEST_ARGS)

# Cold start (a new process: nothing loaded or compiled) and warm runs of the runner, in Node.
bench-pyodide: pyodide-site
	node bench/pyodide_start.mjs $(PYODIDE_SITE) 5
