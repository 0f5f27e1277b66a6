"""The layering rules of ARCHITECTURE.md, read from the source's imports.

The emulator core (`durable_dojo._core`) must run wherever Python's standard library does (the
reader's browser included), so it imports nothing else; the tools depend on the core one way;
and no module of `src/` takes part in an import cycle, lazy imports included.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
CORE = "durable_dojo._core"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in SRC.rglob("*.py")}


MODULES = _modules()


def imports_of(name: str, path: Path | None = None) -> set[str]:
    """Every module `name` imports, at module level or inside a function, as absolute names."""
    path = path or MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.add(module)
            for alias in node.names:  # `from . import codec` imports a module, not a name
                if f"{module}.{alias.name}" in MODULES:
                    found.add(f"{module}.{alias.name}")
    return found


#: The core's one import from outside the standard library: the SQLite driver uses apsw (the
#: SQLite workerd embeds) when it is installed and falls back to `sqlite3` (Pyodide has no apsw).
OPTIONAL_IMPORTS = {f"{CORE}.sqlite_driver": {"apsw"}}


def test_the_core_imports_only_the_standard_library_and_itself():
    offenders = {}
    for name in MODULES:
        if name != CORE and not name.startswith(CORE + "."):
            continue
        bad = {m for m in imports_of(name)
               if m.split(".")[0] not in sys.stdlib_module_names and not (m == CORE or m.startswith(CORE + "."))}
        bad -= OPTIONAL_IMPORTS.get(name, set())
        if bad:
            offenders[name] = sorted(bad)
    assert offenders == {}


def test_the_optional_import_is_guarded_so_the_core_imports_without_it():
    """`import apsw` sits in a try whose `except ImportError` falls back, and a fresh interpreter
    with apsw hidden imports the whole core and runs SQL on the standard `sqlite3`."""
    import subprocess
    import textwrap

    tree = ast.parse(MODULES[f"{CORE}.sqlite_driver"].read_text(encoding="utf-8"))
    guarded = [
        node for node in tree.body if isinstance(node, ast.Try)
        and any(isinstance(s, ast.Import) and [a.name for a in s.names] == ["apsw"] for s in node.body)
        and any(isinstance(h.type, ast.Name) and h.type.id == "ImportError" for h in node.handlers)
    ]
    assert len(guarded) == 1
    script = textwrap.dedent("""
        import sys
        sys.modules["apsw"] = None  # import apsw now raises ImportError
        import durable_dojo
        from durable_dojo._core import sqlite_driver
        from workers import DurableObject
        assert sqlite_driver.BACKEND == "sqlite3", sqlite_driver.BACKEND

        class Notes(DurableObject):
            async def add(self, text):
                sql = self.ctx.storage.sql
                sql.exec("CREATE TABLE IF NOT EXISTS notes (text TEXT)")
                sql.exec("INSERT INTO notes VALUES (?)", text)
                await self.ctx.storage.put("n", 1)
                return [row["text"] for row in sql.exec("SELECT text FROM notes")]

        async def main(rt):
            stub = rt.env.NOTES.getByName("a")
            return await stub.add("hi")

        rt = durable_dojo.Runtime(durable_objects={"NOTES": Notes})
        print(rt.run(main(rt)))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert (out.returncode, out.stdout.strip()) == (0, "['hi']"), out.stderr


def test_no_module_in_src_is_part_of_an_import_cycle():
    graph = {name: {m for m in imports_of(name) if m in MODULES and m != name} for name in MODULES}
    # A package's __init__ is imported with each of its modules; that edge is not a cycle of ours.
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize("source, expected", [
    ("import json\nfrom . import codec\n", {"json", "durable_dojo._core", "durable_dojo._core.codec"}),
    ("def f():\n    import ipywidgets\n", {"ipywidgets"}),
    ("from ..testing import connect\n", {"durable_dojo.testing"}),
])
def test_the_import_reader_sees_relative_lazy_and_module_imports(tmp_path, source, expected):
    path = tmp_path / "m.py"
    path.write_text(source)
    assert imports_of("durable_dojo._core.m", path) == expected


def _code_map_order() -> list[str]:
    """The core's modules in the order ARCHITECTURE.md's code map lists them."""
    text = (SRC.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("### The core", 1)[1].split("\n### ", 1)[0]
    return [line.split("`", 2)[1].removesuffix(".py") for line in section.splitlines() if line.startswith("- `")]


def test_architecture_md_maps_every_core_module_and_each_imports_only_those_above_it():
    order = _code_map_order()
    core = sorted(name.rpartition(".")[2] for name in MODULES if name.startswith(CORE + "."))
    assert sorted(order) == core, "ARCHITECTURE.md's code map and durable_dojo/_core differ"
    above: set[str] = set()
    for module in order:
        uses = {name.rpartition(".")[2] for name in imports_of(f"{CORE}.{module}")
                if name.startswith(CORE + ".")} - {module}
        assert uses <= above, f"{module} imports {sorted(uses - above)}, listed below it in ARCHITECTURE.md"
        above.add(module)


#: The tool layers over the core, each a package of `durable_dojo`.
TOOLS = ("_kata", "_review", "_serve", "_widgets", "_workbook", "_browser")
#: The one tool built on another: the in-browser runner gives `dojo check`'s verdict with the kata
#: runner's own code (manifest, plugin, verdict wording) instead of a second copy of it.
TOOL_ON_TOOL = {("_browser", "_kata")}


def _tool_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "durable_dojo" and parts[1] in TOOLS else None


def test_every_tool_package_is_a_known_layer():
    packages = {p.name for p in (SRC / "durable_dojo").iterdir() if p.is_dir() and p.name.startswith("_")
                and (p / "__init__.py").exists()}
    assert packages == set(TOOLS) | {"_core"}


def test_a_tool_imports_no_other_tool_but_through_its_public_face():
    """`_workbook` reaches the adviser as `durable_dojo.advise`, `_browser` the Inspector as
    `durable_dojo.widgets`: a tool's internals change without breaking another tool."""
    offenders = {}
    for name in MODULES:
        tool = _tool_of(name)
        if tool is None:
            continue
        others = {m for m in imports_of(name)
                  if _tool_of(m) not in (None, tool) and (tool, _tool_of(m)) not in TOOL_ON_TOOL}
        if others:
            offenders[name] = sorted(others)
    assert offenders == {}


def test_architecture_md_names_every_tool_and_facade():
    text = (SRC.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    tools = text.split("### Tools", 1)[1].split("\n## ", 1)[0]
    assert [tool for tool in TOOLS if f"- `{tool}/" not in tools] == []
    facades = text.split("### Facades", 1)[1].split("\n### ", 1)[0]
    public = sorted(p.name for p in (SRC / "durable_dojo").glob("[!_]*.py"))
    assert [f for f in public if f"`{f}`" not in facades] == []
