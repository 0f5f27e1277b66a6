# Targets that need workerd from the npm registry (Node >= 16 and npm on PATH).
#   make conformance     differential conformance: every scenario on real workerd and on the emulator
#   make bench-workerd   the emulator's increment rate against workerd's, measured in one run
# workerd@1.20261117.1 is installed into .oracle-node/ (git-ignored) only if missing; the
# platform binary inside @cloudflare/workerd-linux-64 is called directly.
# CONFORMANCE_ARGS passes options to conformance/run.py, e.g. CONFORMANCE_ARGS="--only list_order".

.PHONY: conformance bench-workerd workerd-install

workerd-install:
	$(PYTHON) conformance/launcher.py --install

conformance: env-test workerd-install
	.venv/bin/python conformance/run.py $(CONFORMANCE_ARGS)

bench-workerd: env-test workerd-install
	.venv/bin/python bench/workerd.py
