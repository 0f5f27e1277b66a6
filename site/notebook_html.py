"""What the site does to a chapter's HTML as mkdocs-jupyter renders it (site/hooks.py).

nbconvert writes a stand-alone page per notebook: 575 KB of JupyterLab CSS, a Pygments style, the
copy-button script, an empty MathJax loader and a mermaid loader, all inline in every chapter.
Here:

- `clean_content()` (the article's HTML): the cells' `# NBVAL_CHECK_OUTPUT` markers go (they
  are for `make test`, not for readers), the headings' "¶" anchors become the theme's
  `headerlink`s (so search titles do not end in "¶"), the code cells take the theme's colours
  (class `highlight`, one colour scheme for the whole site, dark mode included), and each widget
  output gets a note that its controls need a running notebook;
- `externalise()` (the finished page): the inline CSS and scripts become shared files under
  `assets/notebook/`, named by their content's hash so a browser caches them once for every
  chapter; the MathJax and mermaid loaders (no chapter uses either) are dropped; the widget
  script and `site/assets/dojo/widgets.js` stay only on pages with widgets.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from pathlib import Path

ASSET_DIR = "assets/notebook"
MARKER = "NBVAL_CHECK_OUTPUT"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ('<div class="dojo-kernel-note">On this page the view shows the state the notebook saved; '
               "its buttons and fields act only in a running notebook (<code>make lab</code>).</div>")

_MARKER_SPAN = re.compile(r'<span class="c1">#\s*' + MARKER + r'[^<]*</span>\n?')
_MARKER_LINE = re.compile(r"^[ \t]*#\s*" + MARKER + r"[^\n]*\n?", re.M)
_COPY_TEXT = re.compile(r'(<div class="clipboard-copy-txt"[^>]*>)(.*?)(</div>)', re.S)
_INLINE_STYLE = re.compile(r'<style type="text/css">(.*?)</style>\s*', re.S)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>\s*", re.S)
_LOADERS = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mermaid configuration -->", re.S)
_WIDGET_OUTPUT = re.compile(r'(<div class="jupyter-widgets jp-OutputArea-output[^"]*"[^>]*>)(.*?)(</div>)', re.S)
_WIDGET_STATE = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.S)
_MODEL_ID = re.compile(r'"model_id":\s*"([0-9a-f]+)"')
# models a reader would try to use: they do something only with a kernel behind them
CONTROLS = {"ButtonModel", "DropdownModel", "FloatTextModel", "IntTextModel", "TextModel", "CheckboxModel",
            "ToggleButtonModel", "IntSliderModel", "FloatSliderModel", "SelectModel", "RadioButtonsModel"}


def clean_content(html: str) -> str:
    """The article's HTML of a rendered notebook, made for readers (see the module docstring)."""
    html = _MARKER_SPAN.sub("", html)
    html = _COPY_TEXT.sub(lambda m: m.group(1) + _MARKER_LINE.sub("", m.group(2)) + m.group(3), html)
    html = html.replace('<a class="anchor-link" href=', '<a class="headerlink" href=')
    html = html.replace('class="highlight-ipynb ', 'class="highlight highlight-ipynb ')
    with_controls = views_with_controls(html)

    def note(match):
        view = _MODEL_ID.search(match.group(2))
        if view and view.group(1) in with_controls:
            return match.group(1) + WIDGET_NOTE + match.group(2) + match.group(3)
        return match.group(0)

    return _WIDGET_OUTPUT.sub(note, html)


def views_with_controls(html: str) -> set[str]:
    """The widget models of the page's saved state that hold a control (a button, a field)."""
    found = _WIDGET_STATE.search(html)
    if not found:
        return set()
    state = json.loads(found.group(1)).get("state", {})

    def children(model_id: str) -> list[str]:
        kids = state.get(model_id, {}).get("state", {}).get("children", [])
        return [k.removeprefix("IPY_MODEL_") for k in kids if isinstance(k, str)]

    def has_control(model_id: str, seen: frozenset = frozenset()) -> bool:
        if model_id in seen:
            return False
        if state.get(model_id, {}).get("model_name") in CONTROLS:
            return True
        return any(has_control(kid, seen | {model_id}) for kid in children(model_id))

    return {model_id for model_id in state if has_control(model_id)}


def has_widgets(html: str) -> bool:
    return f'type="{WIDGET_VIEW}"' in html


class SharedAssets:
    """The files cut out of the chapters' pages: site path -> text, written once per build."""

    def __init__(self, dark_css: str = "") -> None:
        self.files: dict[str, str] = {}
        self.dark_css = dark_css

    def add(self, stem: str, suffix: str, text: str) -> str:
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        path = f"{ASSET_DIR}/{stem}.{digest}{suffix}"
        self.files[path] = text
        return path

    def write(self, site_dir: Path) -> None:
        for path, text in self.files.items():
            target = site_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")


def dark_variant(theme_dark_css: str) -> str:
    """mkdocs-jupyter's dark JupyterLab variables, applied when the reader picks the dark scheme."""
    return theme_dark_css.replace(".jupyter-wrapper", '[data-md-color-scheme="slate"] .jupyter-wrapper')


def externalise(output: str, page_url: str, assets: SharedAssets, site_script: str) -> str:
    """The finished page of a chapter, its inline CSS and scripts moved to shared files."""
    start = output.find('<article class="md-content__inner md-typeset">')
    end = output.find('<div class="jupyter-wrapper">', start)
    if start < 0 or end < 0:
        return output
    head = output[start:end]
    head = _LOADERS.sub("", head)
    styles = [m.group(1).strip() for m in _INLINE_STYLE.finditer(head)]
    # the Pygments style nbconvert adds for .highlight-ipynb: the theme's colours apply instead
    styles = [css for css in styles if ".highlight-ipynb .hll" not in css]
    head = _INLINE_STYLE.sub("", head)
    scripts = [m.group(1).strip() for m in _INLINE_SCRIPT.finditer(head) if "widgetRendererSrc" not in m.group(1)]
    head = _INLINE_SCRIPT.sub(lambda m: m.group(0) if "widgetRendererSrc" in m.group(1) else "", head)
    widgets = has_widgets(output)
    if not widgets:  # no widget state: require.js and the renderer's loader have nothing to do
        head = re.sub(r'<script src="[^"]*require\.js"></script>', "", head)
        head = re.sub(r"<script>[^<]*widgetRendererSrc.*?</script>", "", head, flags=re.S)

    base = page_url if page_url.endswith("/") else posixpath.dirname(page_url) + "/"

    def rel(path: str) -> str:
        return posixpath.relpath(path, base.rstrip("/") or ".")

    links = []
    if styles:
        css = "\n".join(styles) + ("\n" + assets.dark_css if assets.dark_css else "")
        links.append(f'<link rel="stylesheet" href="{rel(assets.add("notebook", ".css", css))}">')
    if scripts:
        links.append(f'<script src="{rel(assets.add("notebook", ".js", chr(10).join(scripts)))}"></script>')
    if widgets:
        links.append(f'<script src="{rel(site_script)}" defer></script>')
    open_tag = '<article class="md-content__inner md-typeset">'
    head = head.replace(open_tag, open_tag + "\n" + "\n".join(links), 1)
    return output[:start] + head + output[end:]
