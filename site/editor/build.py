"""Build the kata pages' editor (`make site-editor`): CodeMirror 6 from npm, bundled by esbuild
into one file the site serves, site/assets/dojo/editor.js (global `DojoEditor`, see entry.js).

The bundle is committed, so building the site needs neither npm nor the network. This script
makes it again from the exact versions of package-lock.json (`npm ci`: each package checked
against the lock's integrity hash) and records what went into it in site/editor/VENDORED.json:
every package bundled with its version, licence and integrity hash, esbuild's version, and the
SHA-256 of the bundle. tests/test_site_editor.py checks the committed bundle against that record.
The licence texts of the bundled packages (all MIT) ship beside it, in editor.LICENSES.txt.

    python site/editor/build.py
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ASSETS = HERE.parent / "assets" / "dojo"
BUNDLE = ASSETS / "editor.js"
LICENSES = ASSETS / "editor.LICENSES.txt"
RECORD = HERE / "VENDORED.json"
SOURCES = ("package.json", "package-lock.json", "entry.js")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bundled_packages(lock: dict) -> list[dict]:
    """The packages that end up in the bundle: the lock's runtime (non-dev) packages."""
    out = []
    for key, entry in sorted(lock["packages"].items()):
        if not key or entry.get("dev"):
            continue
        out.append({"name": key.removeprefix("node_modules/"), "version": entry["version"],
                    "license": entry.get("license", ""), "integrity": entry["integrity"]})
    return out


def licence_text(package_dir: Path) -> str:
    for name in ("LICENSE", "LICENSE.md", "LICENSE.txt", "license", "LICENCE"):
        if (package_dir / name).is_file():
            return (package_dir / name).read_text(encoding="utf-8").strip()
    raise SystemExit(f"{package_dir.name}: no licence file in the package")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="dojo-editor-") as tmp:
        work = Path(tmp)
        for name in SOURCES:
            shutil.copy(HERE / name, work / name)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=work, check=True)
        esbuild = work / "node_modules" / ".bin" / "esbuild"
        out = work / "editor.js"
        subprocess.run([str(esbuild), "entry.js", "--bundle", "--minify", "--format=iife",
                        "--global-name=DojoEditor", "--target=es2020", "--legal-comments=none",
                        f"--outfile={out}"], cwd=work, check=True)
        version = subprocess.run([str(esbuild), "--version"], capture_output=True, text=True, check=True).stdout.strip()
        lock = json.loads((work / "package-lock.json").read_text(encoding="utf-8"))
        packages = bundled_packages(lock)
        not_mit = [p["name"] for p in packages if p["license"] != "MIT"]
        if not_mit:
            raise SystemExit(f"not MIT, check the licence before bundling: {', '.join(not_mit)}")
        header = ("/* Durable Dojo's code editor: CodeMirror 6 and its Python mode, bundled by esbuild "
                  f"{version} (site/editor/build.py). MIT licensed; the licences are in editor.LICENSES.txt. */\n")
        BUNDLE.write_text(header + out.read_text(encoding="utf-8"), encoding="utf-8")
        texts = [f"{p['name']} {p['version']} ({p['license']})\n\n"
                 + licence_text(work / "node_modules" / p["name"]) for p in packages]
        LICENSES.write_text(("\n\n" + "-" * 72 + "\n\n").join(texts) + "\n", encoding="utf-8")
    record = {"bundle": BUNDLE.relative_to(HERE.parent.parent).as_posix(), "sha256": sha256(BUNDLE),
              "bytes": BUNDLE.stat().st_size, "esbuild": version, "packages": packages}
    RECORD.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"{record['bundle']}: {record['bytes'] / 1024:.0f} KB, {len(packages)} packages, sha256 {record['sha256'][:16]}…")
    return 0


if __name__ == "__main__":
    sys.exit(main())
