# Two commands set everything up on a machine that has only python3:
#   make lab    create .venv, install, start JupyterLab on notebooks/
#   make test   create .venv, install, run the whole test suite
PYTHON ?= python3
# uv from PATH, else the one pip installs as a module of $(PYTHON).
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
export UV_COMPILE_BYTECODE := 1
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
export PYTHONDONTWRITEBYTECODE :=

.PHONY: lab test fuzz bench uv env-test env-lab clean review-precision

uv:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
	  || $(PYTHON) -m pip install --quiet uv

# --inexact keeps the lab packages if `make lab` installed them, so the two targets never undo each other.
# Then apsw on a SQLite that counts rows read/written as workerd does (tools/counting_sqlite.py):
# built once into .cache/ (a C compiler is needed; without one, PyPI's apsw stays, with approximate
# counts), and reinstalled from there in a moment whenever `uv sync` put PyPI's apsw back.
COUNTING_SQLITE = UV="$(UV)" .venv/bin/python tools/counting_sqlite.py

env-test: uv
	$(UV) sync --frozen --inexact --all-extras --group test
	@$(COUNTING_SQLITE)

env-lab: uv
	$(UV) sync --frozen --inexact --all-extras --group test --group lab
	@$(COUNTING_SQLITE)

test: env-test
	.venv/bin/python -m pytest tests notebooks --nbval-lax --nbval-current-env $(PYTEST_ARGS)

# Generated bad calls across the platform APIs: over 10,000, derandomized; prints the tally.
fuzz: env-test
	DOJO_FUZZ_EXAMPLES=230 .venv/bin/python -m pytest tests/test_fuzz_bad_input.py -s $(PYTEST_ARGS)

# Loopback only; --allow-root because these machines run as root.
lab: env-lab
	.venv/bin/jupyter lab --config=jupyter_lab_config.py --ServerApp.ip=127.0.0.1 --no-browser $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

bench: env-test
	.venv/bin/python bench/run.py

# dojo review on the kata corpus: correct code clean, broken code flagged (tests/kata_corpus/).
review-precision: env-test
	.venv/bin/python tests/kata_corpus/precision.py

# Targets that bring their own tools (workerd from npm, Chromium) live in their own files.
-include conformance.mk
-include browser.mk
-include site.mk
-include pyodide.mk

clean:
	rm -rf .venv .pytest_cache
