"""mkdocs hooks (mkdocs.yml `hooks:`): what the site takes from the rest of the repository.

- the notebooks come from notebooks/ as they are: each is added as a file of the site whose
  source is the notebook itself (nothing is copied), and mkdocs-jupyter renders it with its
  stored outputs and widget state;
- the kata pages, the kata index and the review checklist are generated (site/pages.py) and
  handed to mkdocs in memory; the kata pages are added to the nav's "Katas" section in the
  manifest's order;
- the diagrams are in the notebooks themselves (site/diagrams.py, written by notebooks/build.py),
  so nothing is added to a chapter's page here;
- links inside a rendered notebook (`../katas/<id>/README.md`, `02-storage.ipynb`) point at
  files of the repository: they are rewritten to the pages of the site.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.structure.toc import get_toc

import notebook_html  # the hook's folder (site/) is on sys.path while mkdocs loads it
import pages
import publish
import runnable
import vendor

log = logging.getLogger("mkdocs.hooks.durable_dojo")
SITE = Path(__file__).resolve().parent
_HREF = re.compile(r'(<a\s[^>]*?href=")([^"]*)(")')
WIDGET_SCRIPT = "assets/dojo/widgets.js"  # only on the pages with widgets
_assets = notebook_html.SharedAssets()
_HEADING = re.compile(r'<h([1-6])\s[^>]*?id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
TOC_DEPTH = 2  # the notebooks' table of contents: the chapter and its sections


def on_config(config):
    # The widget renderer and require.js come from site/assets/js, not from a CDN: nbconvert
    # reads that from site/jupyter_config/jupyter_nbconvert_config.py. `make site` sets
    # JUPYTER_CONFIG_DIR; this makes a plain `mkdocs build` / `mkdocs serve` do the same, and
    # overrides another setting, since mkdocs-jupyter's cache would keep pages rendered with it.
    config_dir = str(SITE / "jupyter_config")
    current = os.environ.get("JUPYTER_CONFIG_DIR")
    if not current or os.path.realpath(current) != os.path.realpath(config_dir):
        if current:
            log.info("JUPYTER_CONFIG_DIR set to %s for the site's nbconvert settings", config_dir)
        os.environ["JUPYTER_CONFIG_DIR"] = config_dir
    pages.clear_caches()
    publish.clear_caches()
    config.nav = pages.nav_with_katas(config.nav)
    # the version and the commit the site was built from, in every page's footer
    stamp = f"Durable Dojo {publish.version()}"
    if (commit := publish.commit()):
        stamp += f", built from commit {commit}"
    config.copyright = stamp
    # a repository link in the header (and the clone command on the download page), if configured
    repository = (config.extra or {}).get("repository")
    if repository and not config.repo_url:
        config.repo_url = repository
        config.repo_name = config.repo_name or repository.rstrip("/").rsplit("/", 1)[-1]
    global _assets
    _assets = notebook_html.SharedAssets(notebook_html.dark_variant(_mkdocs_jupyter_asset("theme-dark.css")))
    return config


def _mkdocs_jupyter_asset(name: str) -> str:
    import mkdocs_jupyter

    path = Path(mkdocs_jupyter.__file__).parent / "templates" / "mkdocs_html" / "assets" / name
    return path.read_text(encoding="utf-8") if path.is_file() else ""


@event_priority(100)  # before mkdocs-jupyter's on_files, which picks the notebooks up
def on_files(files, config):
    for path in pages.notebook_paths():
        # A real file whose source folder is the repository (not File.generated: mkdocs-jupyter's
        # NotebookFile wrapper finds the source path of a file only through its src_dir).
        files.append(File(pages.notebook_uri(path), src_dir=str(pages.REPO), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
    for uri, content in pages.generated_pages((config.extra or {}).get("repository") or "").items():
        existing = files.get_file_from_path(uri)
        if existing is not None:  # site/review-checklist.md, the page without the links
            files.remove(existing)
        files.append(File.generated(config, uri, content=content))
    return files


def on_page_markdown(markdown, page, config, files):
    if pages.RUNTIME_PARAMETERS in markdown:
        markdown = markdown.replace(pages.RUNTIME_PARAMETERS, pages.runtime_parameters_table())
    return markdown


def on_page_content(html, page, config, files):
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    html = notebook_html.clean_content(html)

    def rewrite(match):
        href = match.group(2)
        target = pages.resolve_notebook_link(href, page.file.src_uri)
        if target is None:
            return match.group(0)
        path, _, fragment = target.partition("#")
        file = files.get_file_from_path(path)
        if file is None:
            log.warning("%s: link '%s' points at %s, which is not a page of the site", page.file.src_uri, href, path)
            return match.group(0)
        url = file.url_relative_to(page.file) + (f"#{fragment}" if fragment else "")
        return match.group(1) + url + match.group(3)

    page.toc = get_toc(notebook_toc(html))
    return _HREF.sub(rewrite, html)


def on_page_context(context, page, config, nav):
    # "last updated": the last commit that touched the page's sources
    updated = publish.last_updated(pages.page_sources(page.file.src_uri))
    if updated:
        page.meta["revision_date"] = updated
    return context


def on_post_page(output, page, config):
    if page.file.src_uri.endswith(".ipynb"):
        output = notebook_html.externalise(output, page.url, _assets, WIDGET_SCRIPT)
    return runnable.add_scripts(output, page.file.src_uri, page.url)


def on_post_build(config):
    site_dir = Path(config.site_dir)
    # the in-browser runner's Python: Pyodide (npm), wheels (PyPI), the project's bundle (site/vendor.py)
    runtime = vendor.install(site_dir)
    log.info("in-browser runner: assets/pyodide/ (%.1f MB)", runtime["bytes"] / 1e6)
    _assets.write(site_dir)
    runnable.write_data(site_dir)
    archive = publish.write_archive(site_dir)
    log.info("download: %s (%.1f MB)", archive.relative_to(site_dir), archive.stat().st_size / 1e6)
    weights = publish.weights(site_dir)
    print(publish.weight_report(weights))
    over = [w.page for w in weights if w.over]
    if over:
        raise PluginError(f"{len(over)} page(s) over the {publish.PAGE_BUDGET // 1024} KB budget: {', '.join(over)}")
    if runnable.enabled():
        line, over_budget = runnable.weight_report(site_dir)
        print(line)
        if over_budget:
            raise PluginError("the in-browser path is over its budget: " + "; ".join(over_budget))
    log.info("compressed copies: %d .gz files", publish.compress(site_dir))


def notebook_toc(html: str, depth: int = TOC_DEPTH) -> list[dict]:
    """The table of contents of a rendered notebook, from its headings as written.

    mkdocs-jupyter makes the toc from a Markdown export in which code spans are dropped, so
    "Loading state: `blockConcurrencyWhile` in ..." gets the anchor #loading-state-in-...
    while the heading's id is #loading-state-blockconcurrencywhile-in-...: the toc (and the
    search index, which keeps only the sections it finds in the toc) would miss those
    sections. Taking ids and titles from the HTML keeps them in step."""
    root: list[dict] = []
    stack: list[dict] = []
    for level, anchor, inner in _HEADING.findall(html):
        level = int(level)
        if level > depth:
            continue
        inner = re.sub(r'<a class="(?:anchor-link|headerlink)"[^>]*>.*?</a>', "", inner, flags=re.S)
        title = re.sub(r"<[^>]+>", "", inner).strip()
        token = {"level": level, "id": anchor, "name": title, "children": []}
        while stack and stack[-1]["level"] >= level:
            stack.pop()
        (stack[-1]["children"] if stack else root).append(token)
        stack.append(token)
    return root
