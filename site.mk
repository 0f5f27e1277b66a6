# The static site: mkdocs-material, the notebooks with their outputs (mkdocs-jupyter), one page
# per kata from katas/katas.toml, the review checklist, the API reference (mkdocstrings).
# Sources: mkdocs.yml and site/ (see site/hooks.py). Included by the Makefile.
#
#   make site          sync the docs group, `mkdocs build --strict` into site-build/, check
#                      every link of the built HTML (site/check_links.py), print the build time
#   make serve-site    build, then serve site-build/ on http://127.0.0.1:$(SITE_PORT)/, cross-origin
#                      isolated (site/serve.py sends COOP/COEP: a hang is interrupted through a SharedArrayBuffer)
#                      (for live reload while writing: .venv/bin/mkdocs serve -a 127.0.0.1:8000)
#   make site-test     build, install Chromium if missing (browser.mk), then open every page in
#                      Chromium (tests/site, DOJO_BROWSER=1); screenshots in .artifacts/site/
#   make site-vendor   fetch the widget renderer and require.js from npm again into
#                      site/assets/js/ (they are committed; the site loads nothing remote)
#   make site-editor   bundle the kata pages' editor (CodeMirror 6, pinned in site/editor/
#                      package-lock.json) with esbuild into site/assets/dojo/editor.js (committed;
#                      versions, hashes and licences recorded in site/editor/VENDORED.json)
#
# Offline-safe, as ../shared/reference/toolchain.md §3 recommends: no Google Fonts, the widget
# JavaScript served by the site, no privacy/social plugins, no mkdocstrings inventories.
# CHROMIUM and browser-env (Chromium and Playwright installed if missing) come from browser.mk
SITE_DIR := site-build
SITE_PORT ?= 8000
SITE_JUPYTER_CONFIG := $(CURDIR)/site/jupyter_config

.PHONY: site env-docs serve-site site-test site-vendor site-editor

env-docs: uv
	$(UV) sync --frozen --inexact --all-extras --group test --group docs

site: env-docs
	@start=$$(date +%s%N); \
	JUPYTER_CONFIG_DIR=$(SITE_JUPYTER_CONFIG) NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict \
	  && .venv/bin/python site/check_links.py $(SITE_DIR) \
	  && end=$$(date +%s%N) \
	  && echo "site: built $(SITE_DIR)/ and checked its links in $$(awk "BEGIN { printf \"%.1f\", ($$end - $$start) / 1e9 }") s"

serve-site: site
	@echo "serving $(SITE_DIR)/ on http://127.0.0.1:$(SITE_PORT)/ (Ctrl-C to stop)"
	.venv/bin/python site/serve.py --directory $(SITE_DIR) --port $(SITE_PORT)

site-test: site browser-env
	DOJO_BROWSER=1 DOJO_CHROMIUM=$(CHROMIUM) .venv/bin/python -m pytest tests/site $(PYTEST_ARGS)

site-vendor:
	@tmp=$$(mktemp -d) && cd $$tmp \
	  && npm pack --silent @jupyter-widgets/html-manager@1 requirejs@2 \
	  && tar xzf jupyter-widgets-html-manager-*.tgz package/dist/embed-amd.js \
	  && cp package/dist/embed-amd.js $(CURDIR)/site/assets/js/ && rm -rf package \
	  && tar xzf requirejs-*.tgz package/require.js \
	  && cp package/require.js $(CURDIR)/site/assets/js/ \
	  && ls *.tgz && cd / && rm -rf $$tmp

site-editor:
	python3 site/editor/build.py
