"""What the in-browser runner loads, vendored into the built site from the registries.

    python site/vendor.py fetch          download into .cache/pyodide-vendor/ what is not there yet
    python site/vendor.py install SITE   fetch, then write SITE/assets/pyodide/ (see below)
    python site/vendor.py pyodide-dir    print the folder of Pyodide's npm package (for Node)

Everything is pinned and checked, and comes only from npm and PyPI:

* Pyodide, the npm package `pyodide` (the core only: the interpreter and the standard library),
  at `PYODIDE_VERSION`, fetched with `npm pack` and checked against `PYODIDE_INTEGRITY`, the
  sha512 the npm registry publishes for the tarball;
* the pure-Python wheels pytest needs, listed with their sha256 in `site/pyodide/requirements.txt`
  and fetched with `pip download --require-hashes` (their hashes are checked again when the cache
  is used);
* the project's own code (`dojo-bundle.zip`): the emulator (`src/durable_dojo`), the SDK shims
  (`src/workers`, `src/js`, `src/pyodide`) and the pytest settings from the working tree; the
  kata manifest, the learner files and the kata tests as shipped (the last commit, as `make test`
  and the kata pages read them), so a learner who solved katas in this checkout never publishes
  solved files; the working tree's only where there is no git (a folder unpacked from an archive).

The downloads are cached in `.cache/pyodide-vendor/` (git-ignored): a second build needs no network.

The site gets `assets/pyodide/`: Pyodide's files, `wheels/*.whl`, `dojo-bundle.zip`,
`bytecode.zip` (the wheels and the bundle compiled by that Pyodide, when node is there) and
`vendor.json`, the list the worker (`assets/dojo/runner-worker.js`) loads, with each file's size
and sha256 (the worker adds the hash to the address, so a browser never mixes two builds).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "pyodide-vendor"
REQUIREMENTS = REPO / "site" / "pyodide" / "requirements.txt"
PRECOMPILE = REPO / "site" / "pyodide" / "precompile.mjs"
PROJECT = "/dojo"  # where the worker unpacks the bundle in Pyodide's file system

PYODIDE_VERSION = "314.0.7"
PYODIDE_INTEGRITY = "sha512-0YvXxEhfEdpLfb/XkM2BFAeMROq0iMUX2bzzH9pOttyMcWkwq+HbE5uyuGD82LN7y2q+SNvi/6V5JEsOlD2R1A=="
# What the browser needs of the package (not its TypeScript types, source maps, the classic
# script build or the demo consoles).
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
# The Python version inside that Pyodide (where wheels go: /lib/python3.14/site-packages).
PYODIDE_PYTHON = "3.14"

# The project's files in the bundle: (folder, file name pattern).
BUNDLE = (
    ("src/durable_dojo", r".*\.(py|toml|json)"),  # with its data files (_workbook/exercises.toml)
    ("src/workers", r".*\.py"),
    ("src/js", r".*\.py"),
    ("src/pyodide", r".*\.py"),
    ("katas", r"katas\.toml|[^/]+/[^/]+\.py"),
    ("tests/katas", r"[^/]+\.py"),
)
BUNDLE_FILES = ("pyproject.toml",)  # pytest's settings for the kata tests (asyncio mode)
# Parts of the package the browser never uses: the local server, the review tool, the kata CLI's
# file watcher and facilitator are not run there (the bundle stays small and says what runs).
BUNDLE_LEAVE_OUT = ("src/durable_dojo/_serve/",)
ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed: the same sources give the same bundle


class VendorError(Exception):
    pass


def pyodide_dir() -> Path:
    return CACHE / f"pyodide-{PYODIDE_VERSION}"


def wheels_dir() -> Path:
    return CACHE / "wheels"


def _sri(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pinned_wheels() -> list[tuple[str, str, str]]:
    """(name, version, sha256) of every wheel in the requirements file."""
    pins = []
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})", line)
        if match is None:
            raise VendorError(f"{REQUIREMENTS}: not a pinned, hashed requirement: {line}")
        pins.append(match.groups())
    return pins


def _wheel_file(name: str, version: str) -> Path | None:
    stem = re.sub(r"[-_.]+", "_", name).lower()
    for path in wheels_dir().glob("*.whl"):
        dist, ver = path.name.split("-")[:2]
        if dist.lower() == stem and ver == version:
            return path
    return None


def fetch_pyodide() -> Path:
    target = pyodide_dir()
    if all((target / name).is_file() for name in PYODIDE_FILES):
        return target
    with tempfile.TemporaryDirectory(prefix="pyodide-pack-") as tmp:
        subprocess.run(["npm", "pack", "--silent", f"pyodide@{PYODIDE_VERSION}", "--pack-destination", tmp],
                       check=True, stdout=subprocess.DEVNULL)
        tarball = Path(tmp) / f"pyodide-{PYODIDE_VERSION}.tgz"
        if _sri(tarball) != PYODIDE_INTEGRITY:
            raise VendorError(f"{tarball.name}: its sha512 is not the pinned one ({PYODIDE_INTEGRITY})")
        staging = Path(tmp) / "out"
        staging.mkdir()
        with tarfile.open(tarball) as archive:
            for name in PYODIDE_FILES:
                member = archive.getmember(f"package/{name}")
                with archive.extractfile(member) as source, open(staging / name, "wb") as dest:
                    shutil.copyfileobj(source, dest)
        (staging / "package.json").write_text(json.dumps({"name": "pyodide", "version": PYODIDE_VERSION,
                                                          "integrity": PYODIDE_INTEGRITY}) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), target)
    return target


def _pip() -> list[str]:
    """pip: this interpreter's, or python3's (a venv made by uv has none)."""
    for python in (sys.executable, shutil.which("python3")):
        if python and subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0:
            return [python, "-m", "pip"]
    raise VendorError("pip is needed to download the wheels (python3 -m pip)")


def fetch_wheels() -> list[Path]:
    pins = pinned_wheels()
    missing = [(n, v) for n, v, _ in pins if _wheel_file(n, v) is None]
    if missing:
        wheels_dir().mkdir(parents=True, exist_ok=True)
        subprocess.run([*_pip(), "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "--require-hashes", "-r", str(REQUIREMENTS), "-d", str(wheels_dir())], check=True)
    paths = []
    for name, version, sha256 in pins:
        path = _wheel_file(name, version)
        if path is None:
            raise VendorError(f"pip download did not give a wheel of {name} {version}")
        if _sha256(path) != sha256:
            path.unlink()
            raise VendorError(f"{path.name}: its sha256 is not the pinned one; removed, fetch again")
        if not path.name.endswith("-none-any.whl"):
            raise VendorError(f"{path.name}: not a pure-Python wheel, Pyodide cannot use it")
        paths.append(path)
    return paths


def fetch() -> tuple[Path, list[Path]]:
    return fetch_pyodide(), fetch_wheels()


def _source_folders(repo: Path, scratch: Path) -> dict[str, Path]:
    """Where each folder of `BUNDLE` is read from: `katas/` and `tests/katas/` as shipped
    (`durable_dojo._kata.pristine`, the same copy `make test` and the kata pages use; `scratch`
    holds the export), the others from the working tree."""
    if str(repo / "src") not in sys.path:  # the checkout's durable_dojo, also without an install
        sys.path.insert(0, str(repo / "src"))
    from durable_dojo._kata.pristine import PristineNotFound, export_shipped_tree, shipped_katas_dir

    folders = {folder: repo / folder for folder, _ in BUNDLE}
    try:
        folders["katas"] = shipped_katas_dir(repo)
    except PristineNotFound:  # no git and no packaged copy: the working tree is all there is
        pass
    folders["tests/katas"] = scratch / "tests-katas"
    export_shipped_tree(repo, "tests/katas", folders["tests/katas"])  # the working tree's without git
    return folders


def bundle_sources(repo: Path, scratch: Path) -> dict[str, Path]:
    """The project's files in the bundle: {path in the bundle (relative to the repository):
    the file to read}, sorted by path."""
    files = {rel: repo / rel for rel in BUNDLE_FILES}
    folders = _source_folders(repo, scratch)
    for folder, pattern in BUNDLE:
        base = folders[folder]
        for path in base.rglob("*"):
            rel = path.relative_to(base).as_posix()
            full = f"{folder}/{rel}"
            if (path.is_file() and "__pycache__" not in rel and re.fullmatch(pattern, rel)
                    and not full.startswith(BUNDLE_LEAVE_OUT)):
                files[full] = path
    return dict(sorted(files.items()))


def write_bundle(dest: Path, repo: Path = REPO) -> Path:
    with tempfile.TemporaryDirectory(prefix="dojo-bundle-") as scratch, \
            zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for rel, path in bundle_sources(repo, Path(scratch)).items():
            info = zipfile.ZipInfo(rel, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return dest


def install(site_dir: Path, precompile: bool = True) -> dict:
    """Write `site_dir/assets/pyodide/`; returns what `vendor.json` says. With `precompile` and
    node on the PATH, also `bytecode.zip` (site/pyodide/precompile.mjs): the first Run then does
    not compile the wheels and the emulator (without it the runner works the same, slower)."""
    pyodide, wheels = fetch()
    out = Path(site_dir) / "assets" / "pyodide"
    shutil.rmtree(out, ignore_errors=True)
    (out / "wheels").mkdir(parents=True)
    for name in PYODIDE_FILES:
        shutil.copyfile(pyodide / name, out / name)
    for wheel in wheels:
        shutil.copyfile(wheel, out / "wheels" / wheel.name)
    write_bundle(out / "dojo-bundle.zip")

    def entry(rel: str) -> dict:
        path = out / rel
        return {"path": rel, "size": path.stat().st_size, "sha256": _sha256(path)}

    manifest = {
        "pyodide": PYODIDE_VERSION,
        "python": PYODIDE_PYTHON,
        "project": PROJECT,
        "core": [entry(name) for name in PYODIDE_FILES],
        "wheels": [entry(f"wheels/{w.name}") for w in wheels],
        "bundle": entry("dojo-bundle.zip"),
    }
    _write_manifest(out, manifest)
    if precompile and shutil.which("node"):
        subprocess.run(["node", str(PRECOMPILE), str(out)], check=True)
        manifest["bytecode"] = entry("bytecode.zip")
        _write_manifest(out, manifest)
    return manifest


def _write_manifest(out: Path, manifest: dict) -> None:
    files = manifest["core"] + manifest["wheels"] + [manifest["bundle"]] + ([manifest["bytecode"]] if "bytecode" in manifest else [])
    manifest["bytes"] = sum(e["size"] for e in files)
    (out / "vendor.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    try:
        if command == "fetch":
            pyodide, wheels = fetch()
            print(f"pyodide {PYODIDE_VERSION} in {pyodide}; {len(wheels)} wheels in {wheels_dir()}")
        elif command == "install" and len(argv) == 2:
            manifest = install(Path(argv[1]))
            print(f"vendored Pyodide {manifest['pyodide']}, {len(manifest['wheels'])} wheels and the project's "
                  f"bundle into {argv[1]}/assets/pyodide/: {manifest['bytes'] / 1e6:.1f} MB")
        elif command == "pyodide-dir":
            print(fetch_pyodide())
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (VendorError, subprocess.CalledProcessError, OSError) as error:
        print(f"vendor: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
