"""What the site build adds around the pages (site/hooks.py): the download, the dates and the
version, the weight budget and the compressed copies.

- `write_archive()`: the project as `download/durable-dojo.tar.gz` (`git archive` of HEAD, or
  the files themselves outside a git checkout), so `make lab` is one download away;
- `last_updated()`: the date of the last commit that touched a page's sources;
- `weights()` / `weight_report()`: each page's HTML against the budget (400 KB), and what a
  first visit downloads;
- `compress()`: a `.gz` beside every text file, for hosts that serve precompressed files.
"""

from __future__ import annotations

import gzip
import io
import re
import subprocess
import tarfile
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARCHIVE_NAME = "durable-dojo"
ARCHIVE = f"download/{ARCHIVE_NAME}.tar.gz"
PAGE_BUDGET = 400 * 1024  # bytes of HTML per page
COMPRESSED = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".map"}
# never part of the download: what a checkout makes locally
_LOCAL = {".git", ".venv", "site-build", ".cache", ".artifacts", ".pytest_cache", "__pycache__", ".dojo",
          ".oracle-node", ".ipynb_checkpoints", "node_modules"}


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def version() -> str:
    with open(REPO / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def commit() -> str | None:
    out = _git("rev-parse", "--short", "HEAD")
    return out.strip() if out else None


@lru_cache(maxsize=1)
def _dates() -> dict[str, str]:
    """Repository path -> the date (YYYY-MM-DD) of the last commit that touched it."""
    out = _git("log", "--format=%x00%cs", "--name-only", "--no-renames")
    dates: dict[str, str] = {}
    if not out:
        return dates
    for chunk in out.split("\x00")[1:]:
        lines = chunk.strip().splitlines()
        if not lines:
            continue
        for path in lines[1:]:
            dates.setdefault(path.strip(), lines[0].strip())
    return dates


def last_updated(sources: list[str]) -> str | None:
    """The newest date of the files at or under these repository paths."""
    found = [date for path, date in _dates().items()
             for source in sources if path == source or path.startswith(source.rstrip("/") + "/")]
    return max(found) if found else None


def clear_caches() -> None:
    _dates.cache_clear()


def write_archive(site_dir: Path) -> Path:
    """The project, as a .tar.gz whose files sit in durable-dojo/: what `git clone` would give."""
    target = site_dir / ARCHIVE
    target.parent.mkdir(parents=True, exist_ok=True)
    data = None
    if commit() is not None:
        try:
            data = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar.gz",
                                   f"--prefix={ARCHIVE_NAME}/", "HEAD"], capture_output=True, check=True,
                                  timeout=120).stdout
        except (OSError, subprocess.SubprocessError):
            data = None
    if data is None:  # not a git checkout (built from the download itself): the files as they are
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for path in sorted(REPO.rglob("*")):
                rel = path.relative_to(REPO)
                if path.is_file() and not (set(rel.parts) & _LOCAL) and path.suffix != ".pyc":
                    tar.add(path, arcname=f"{ARCHIVE_NAME}/{rel.as_posix()}")
        data = buffer.getvalue()
    target.write_bytes(data)
    return target


@dataclass
class Weight:
    page: str  # the page's path under the site
    html: int  # bytes of its HTML
    assets: int  # bytes of the site's own scripts and styles it loads

    @property
    def over(self) -> bool:
        return self.html > PAGE_BUDGET


def _loaded_assets(html: str) -> list[str]:
    return re.findall(r'<(?:script[^>]*\ssrc|link[^>]*rel="stylesheet"[^>]*\shref)="([^"]+)"', html)


def weights(site_dir: Path) -> list[Weight]:
    out = []
    for file in sorted(site_dir.rglob("*.html")):
        rel = file.relative_to(site_dir).as_posix()
        text = file.read_text(encoding="utf-8", errors="replace")
        assets = 0
        for url in _loaded_assets(text):
            if "://" in url:
                continue
            target = (file.parent / url.split("?")[0]).resolve()
            if target.is_file():
                assets += target.stat().st_size
        out.append(Weight(rel, len(text.encode("utf-8")), assets))
    return out


def weight_report(found: list[Weight]) -> str:
    lines = [f"page weights (HTML budget {PAGE_BUDGET // 1024} KB; assets are shared files, cached after the first page):"]
    for w in sorted(found, key=lambda w: -w.html):
        flag = "OVER BUDGET" if w.over else "ok"
        lines.append(f"  {w.html / 1024:7.1f} KB html  {w.assets / 1024:7.1f} KB assets  {flag:11}  {w.page}")
    return "\n".join(lines)


def compress(site_dir: Path) -> int:
    """Write file.gz beside each text file (gzip -9, no timestamp: the same build gives the same
    bytes). Returns how many were written."""
    count = 0
    for file in site_dir.rglob("*"):
        if file.is_file() and file.suffix in COMPRESSED and file.stat().st_size > 1024:
            data = gzip.compress(file.read_bytes(), compresslevel=9, mtime=0)
            file.with_name(file.name + ".gz").write_bytes(data)
            count += 1
    return count
