"""The kata pages' editor is CodeMirror 6 from npm, bundled by `make site-editor`
(site/editor/build.py) and committed: the bundle the site serves must be the one the record
describes, built from the pinned packages of package-lock.json, all under a licence (MIT) that
lets the site ship them, with their licence texts beside the bundle."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EDITOR = REPO / "site" / "editor"
RECORD = json.loads((EDITOR / "VENDORED.json").read_text(encoding="utf-8"))
LOCK = json.loads((EDITOR / "package-lock.json").read_text(encoding="utf-8"))
PACKAGE = json.loads((EDITOR / "package.json").read_text(encoding="utf-8"))


def test_the_committed_bundle_is_the_recorded_build():
    bundle = REPO / RECORD["bundle"]
    data = bundle.read_bytes()
    assert hashlib.sha256(data).hexdigest() == RECORD["sha256"], \
        f"{RECORD['bundle']} differs from the recorded build: run `make site-editor`"
    assert len(data) == RECORD["bytes"]


def test_every_dependency_is_pinned_to_one_version():
    for group in ("dependencies", "devDependencies"):
        for name, version in PACKAGE[group].items():
            assert version[0].isdigit(), f"{name}: {version!r} is a range, not a pinned version"
            assert LOCK["packages"][f"node_modules/{name}"]["version"] == version, name


def test_the_record_lists_the_locked_packages_with_their_hashes_and_licences():
    bundled = {p["name"]: p for p in RECORD["packages"]}
    runtime = {k.removeprefix("node_modules/"): v for k, v in LOCK["packages"].items() if k and not v.get("dev")}
    assert set(bundled) == set(runtime)
    assert {"codemirror", "@codemirror/lang-python", "@codemirror/view", "@codemirror/state"} <= set(bundled)
    licences = (REPO / "site" / "assets" / "dojo" / "editor.LICENSES.txt").read_text(encoding="utf-8")
    for name, entry in runtime.items():
        assert bundled[name]["version"] == entry["version"] and bundled[name]["integrity"] == entry["integrity"], name
        assert entry["license"] == "MIT" and bundled[name]["license"] == "MIT", name
        assert f"{name} {entry['version']} (MIT)" in licences, name
    assert licences.count("Permission is hereby granted, free of charge") >= len(runtime)
