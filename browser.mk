# Browser tests: Debian's Chromium driven by Playwright, with no browser download
# (see ../shared/reference/toolchain.md, section 4). Included by the Makefile.
#
#   make browser-test   install chromium (apt, as root) and playwright (into .venv) if missing,
#                       then run tests/browser with DOJO_BROWSER=1 (without it they are skipped)
CHROMIUM ?= /usr/bin/chromium

.PHONY: browser-test browser-env

browser-env: uv
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	  else \
	    echo "browser-test needs Debian's chromium: run 'sudo apt-get install -y chromium' first" >&2; exit 1; \
	  fi; }
	$(UV) sync --frozen --inexact --all-extras --group test --group browser

browser-test: browser-env
	DOJO_BROWSER=1 DOJO_CHROMIUM=$(CHROMIUM) .venv/bin/python -m pytest tests/browser $(PYTEST_ARGS)
