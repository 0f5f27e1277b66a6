"""Check the built site (site-build/) for broken internal links and for remote loads.

    .venv/bin/python site/check_links.py [SITE_DIR]

For every HTML page of the build:

- every link to another place of the site (`href`, `src`) must reach a file of the build
  (`dir/` means `dir/index.html`), and a `#fragment` must be an `id` (or `name`) on the target
  page: mkdocs --strict checks the Markdown sources, this checks what was written, including
  the notebooks, the API reference and the theme;
- nothing is *loaded* from another host: a script, a stylesheet, an image, a frame, a font or a
  CSS `url(...)` / `@import` that points off the site would be a request to the internet when
  the page is viewed (links a reader may follow, `<a href="https://...">`, are fine).

The same check runs over the site's own CSS files. Prints what is wrong and exits 1, else
prints a one-line summary. Standard library only.
"""

from __future__ import annotations

import posixpath
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
# Attributes that make the browser fetch something when the page is viewed.
LOADS = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"), ("video", "src"),
         ("audio", "src"), ("embed", "src"), ("object", "data"), ("input", "src"), ("track", "src"),
         ("video", "poster"), ("img", "srcset"), ("source", "srcset")}
FETCHED_LINK_RELS = {"stylesheet", "icon", "shortcut", "preload", "prefetch", "modulepreload", "manifest",
                     "apple-touch-icon", "preconnect", "dns-prefetch"}
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""")
SKIP_SCHEMES = ("mailto:", "javascript:", "data:", "tel:", "blob:", "about:")
# nbconvert's widget loader builds its <script> in JavaScript: `var widgetRendererSrc = '...';`
WIDGET_RENDERER = re.compile(r"""widgetRendererSrc\s*=\s*(['"])([^'"]+)\1""")


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, str, bool]] = []  # (tag, attr, value, loaded)
        self.styles: list[str] = []
        self._in_style = False
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key) and (key == "id" or tag == "a"):
                self.ids.add(values[key])
        if tag == "link" and values.get("href"):
            rels = set((values.get("rel") or "").lower().split())
            self.refs.append((tag, "href", values["href"], bool(rels & FETCHED_LINK_RELS)))
        elif tag == "a" and values.get("href") is not None:
            self.refs.append((tag, "href", values["href"], False))
        for name, value in attrs:
            if (tag, name) in LOADS and value:
                urls = [part.strip().split()[0] for part in value.split(",") if part.strip()] \
                    if name == "srcset" else [value]
                self.refs.extend((tag, name, url, True) for url in urls)
            elif name == "style" and value and "url(" in value:
                self.styles.append(value)
        if tag == "style":
            self._in_style = True
        elif tag == "script":
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)
        elif self._in_script and "widgetRendererSrc" in data:
            self.refs.extend(("script", "widgetRendererSrc", m.group(2), True) for m in WIDGET_RENDERER.finditer(data))


def is_remote(url: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I)) or url.startswith("//")


def target_file(site: Path, page_url: str, url: str) -> tuple[Path | None, str]:
    """The built file a relative or site-absolute URL reaches from page_url, and its fragment."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if not path:
        resolved = page_url
    elif path.startswith("/"):
        resolved = path.lstrip("/")
    else:
        base = page_url if page_url.endswith("/") else posixpath.dirname(page_url) + "/"
        resolved = posixpath.normpath(posixpath.join(base, path))
        if resolved.startswith(".."):
            return None, parts.fragment
        if path.endswith("/") and not resolved.endswith("/"):
            resolved += "/"
    candidate = site / resolved.lstrip("/") if resolved not in ("", ".", "./") else site
    if resolved.endswith("/") or candidate.is_dir():
        candidate = candidate / "index.html"
    return (candidate if candidate.is_file() else None), parts.fragment


def page_url_of(site: Path, file: Path) -> str:
    rel = file.relative_to(site).as_posix()
    return rel[: -len("index.html")] if rel.endswith("index.html") else rel


def check(site: Path) -> tuple[list[str], int, int]:
    problems: list[str] = []
    parsed: dict[Path, Page] = {}

    def parsed_page(file: Path) -> Page:
        """Each page is read and parsed once, whether it is checked or a link's target."""
        if file not in parsed:
            page = Page()
            page.feed(file.read_text(encoding="utf-8", errors="replace"))
            parsed[file] = page
        return parsed[file]

    checked = 0
    html_files = sorted(site.rglob("*.html"))
    for file in html_files:
        page = parsed_page(file)
        where = file.relative_to(site).as_posix()
        page_url = page_url_of(site, file)
        for tag, attr, url, loaded in page.refs:
            url = url.strip()
            if not url or url.lower().startswith(SKIP_SCHEMES):
                continue
            checked += 1
            if is_remote(url):
                if loaded:
                    problems.append(f"{where}: <{tag} {attr}> loads from another host: {url}")
                continue
            if file.name == "404.html" and url.startswith("/"):
                continue  # the 404 page is served at any depth, so mkdocs writes site-absolute links
            target, fragment = target_file(site, page_url, url)
            if target is None:
                problems.append(f"{where}: <{tag} {attr}=\"{url}\"> points at nothing in the build")
                continue
            if fragment and target.suffix == ".html" and unquote(fragment) not in parsed_page(target).ids:
                problems.append(f"{where}: <{tag} {attr}=\"{url}\">: no id '{unquote(fragment)}' on "
                                f"{target.relative_to(site).as_posix()}")
        for css in page.styles:
            problems += [f"{where}: inline CSS loads from another host: {u}" for u in _css_remote(css)]
    for file in sorted(site.rglob("*.css")):
        where = file.relative_to(site).as_posix()
        problems += [f"{where}: loads from another host: {u}" for u in _css_remote(file.read_text(errors="replace"))]
    return problems, len(html_files), checked


def _css_remote(css: str) -> list[str]:
    found = []
    for match in CSS_URL.finditer(css):
        url = (match.group(2) or match.group(4) or "").strip()
        if is_remote(url):
            found.append(url)
    return found


def main(argv: list[str]) -> int:
    site = Path(argv[0]) if argv else ROOT / "site-build"
    if not (site / "index.html").is_file():
        print(f"check_links: {site} has no index.html: build the site first (make site)", file=sys.stderr)
        return 2
    problems, pages, links = check(site)
    if problems:
        print(f"check_links: {len(problems)} problem(s) in {site}:", file=sys.stderr)
        for problem in problems:
            print("  " + problem, file=sys.stderr)
        return 1
    print(f"check_links: {pages} pages, {links} links and loads checked: no broken link, nothing loaded "
          "from another host")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
