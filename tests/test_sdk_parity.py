"""Our `workers` module against Cloudflare's Python Workers SDK (`workers-runtime-sdk`).

The SDK wheel, at the version pinned in `tests/sdk_parity.toml`, is downloaded once into
`.cache/sdk/` (git-ignored) and checked against its pinned sha256. It only runs inside Pyodide,
so it is never imported or installed: its source is read from the wheel with `ast`.

Checked:

* every name our `workers.__all__` exports is in the SDK's `__all__`, or is an addition listed
  in the toml with its reason;
* every name in the SDK's `__all__` is in ours, or is excluded in the toml with its reason;
* shared names are the same kind of thing (class, function, async function, type alias, ...);
* shared classes and functions have compatible signatures: same positional parameters in the
  same order with the same defaults, the keywords the SDK takes, the same async-ness and the
  same property/static/method kind, for every public member the SDK defines (and the members
  its `FetchResponse` inherits from Pyodide, listed in the toml). Known gaps are listed in the
  toml; the constructors, `fetch` and the body readers may have none;
* the `ctx` members and the handler names the runtime documents exist on a live Durable Object,
  except those listed as pending in the toml (a pending member that has arrived gives a
  warning asking to drop the entry).

A stale toml entry (an exclusion for a name we now have, a difference that no longer differs)
fails too, so the file keeps describing the code.
"""

from __future__ import annotations

import ast
import collections.abc
import enum
import hashlib
import importlib.util
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import typing
import warnings
import zipfile
from dataclasses import dataclass, field
from http import HTTPMethod, HTTPStatus
from pathlib import Path

import pytest

import workers
from durable_dojo._core.durable_object import RPC_RESERVED
from durable_dojo.testing import connect, run_in_durable_object
from js import WebSocketPair

ROOT = Path(__file__).resolve().parents[1]
PARITY = tomllib.loads(Path(__file__).with_name("sdk_parity.toml").read_text(encoding="utf-8"))
SDK_VERSION: str = PARITY["sdk"]["version"]
SDK_SHA256: str = PARITY["sdk"]["sha256"]
CACHE = ROOT / ".cache" / "sdk"
DOWNLOAD_TIMEOUT = 120  # seconds, for the whole pip run

# Words in pip's output that mean it could not reach the index (as opposed to an answer).
NETWORK_TROUBLE = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "nodename nor servname",
    "Network is unreachable",
    "No route to host",
    "Connection refused",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "Read timed out",
    "ProxyError",
    "Max retries exceeded",
)

# These must match the SDK exactly: a difference here may not be waved through in the toml.
MUST_MATCH = (
    "Response.__init__",
    "FetchResponse.from_json",
    "FetchResponse.redirect",
    "FetchResponse.json",
    "FetchResponse.form_data",
    "FetchResponse.blob",
    "FetchResponse.text",
    "FetchResponse.bytes",
    "FetchResponse.buffer",
    "FetchResponse.clone",
    "Request.__init__",
    "DurableObject.__init__",
    "WorkerEntrypoint.__init__",
    "fetch",
)


# --------------------------------------------------------------------------------------------
# The wheel


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _python_with_pip() -> str | None:
    """An interpreter that can run `-m pip`: ours if it has pip (a uv venv does not), else the
    python3 on PATH."""
    if importlib.util.find_spec("pip") is not None:
        return sys.executable
    for name in ("python3", "python"):
        exe = shutil.which(name)
        if exe is None:
            continue
        try:
            probe = subprocess.run([exe, "-m", "pip", "--version"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return exe
    return None


def _download(kind: str) -> Path:
    """Download the pinned SDK release into the cache: its wheel (`kind="wheel"`) or its source
    distribution (`kind="sdist"`, which also holds Cloudflare's own tests)."""
    requirement = f"workers-runtime-sdk=={SDK_VERSION}"
    only = "--only-binary=:all:" if kind == "wheel" else "--no-binary=:all:"
    python = _python_with_pip()
    if python is None:
        pytest.skip(f"no Python with pip to download {requirement}; run "
                    f"`python3 -m pip download --no-deps {only} --dest .cache/sdk {requirement}`")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE, prefix=".download-") as tmp:
        command = [
            python, "-m", "pip", "download", "--no-deps", only,
            "--disable-pip-version-check", "--no-input", "--timeout", "20", "--retries", "1",
            "--dest", tmp, requirement,
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.skip(f"downloading {requirement} took over {DOWNLOAD_TIMEOUT} s (no network?)")
        output = done.stdout + done.stderr
        if done.returncode != 0:
            if any(marker in output for marker in NETWORK_TROUBLE):
                pytest.skip(f"cannot reach PyPI to download {requirement} (no network):\n{output[-1500:]}")
            pytest.fail(f"pip could not download {requirement} (does the pinned version exist?):\n{output[-3000:]}")
        pattern = "workers_runtime_sdk-*.whl" if kind == "wheel" else "workers_runtime_sdk-*.tar.gz"
        files = sorted(Path(tmp).glob(pattern))
        if len(files) != 1:
            pytest.fail(f"pip downloaded {[f.name for f in files]} for {requirement}:\n{output[-1500:]}")
        target = CACHE / files[0].name
        os.replace(files[0], target)  # atomic: a half-written file is never in the cache
    return target


def _pinned(kind: str, pattern: str, sha256: str) -> Path:
    cached = sorted(CACHE.glob(pattern))
    path = cached[0] if cached else _download(kind)
    digest = _sha256(path)
    if digest != sha256:
        pytest.fail(f"{path} has sha256 {digest}, not the pinned {sha256}: delete it and rerun, "
                    "or re-pin in tests/sdk_parity.toml after reviewing the new release")
    return path


def _wheel() -> Path:
    return _pinned("wheel", f"workers_runtime_sdk-{SDK_VERSION}-*.whl", SDK_SHA256)


def _sdist() -> Path:
    return _pinned("sdist", f"workers_runtime_sdk-{SDK_VERSION}.tar.gz", PARITY["sdk"]["sdist_sha256"])


# --------------------------------------------------------------------------------------------
# The SDK, read with ast


@dataclass
class Sdk:
    version: str
    modules: dict[str, ast.Module]  # "entrypoints" -> its tree ("gateway.options" for subpackages)
    all: list[str] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)  # exported name -> module it comes from
    lazy: set[str] = field(default_factory=set)  # names served by the package's __getattr__

    def find(self, module: str, name: str, depth: int = 0):
        """The top-level node that defines `name` in `module`, following `from .x import name`."""
        for node in self.modules[module].body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                return module, node
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return module, node
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
                return module, node
        for node in self.modules[module].body:
            if isinstance(node, ast.ImportFrom) and node.level == 1 and depth < 5:
                if any((alias.asname or alias.name) == name for alias in node.names):
                    return self.find(node.module or "__init__", name, depth + 1)
        return module, None


def _load_sdk(wheel: Path) -> Sdk:
    modules = {}
    with zipfile.ZipFile(wheel) as archive:
        version = None
        for info in archive.infolist():
            name = info.filename
            if name.startswith("workers/") and name.endswith(".py"):
                dotted = name[len("workers/"):-len(".py")].replace("/", ".")
                modules[dotted] = ast.parse(archive.read(info), filename=name)
            elif name.endswith(".dist-info/METADATA"):
                for line in archive.read(info).decode("utf-8").splitlines():
                    if line.startswith("Version:"):
                        version = line.split(":", 1)[1].strip()
    sdk = Sdk(version, modules)
    init = modules["__init__"]
    for node in init.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            sdk.all = list(ast.literal_eval(node.value))
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            for alias in node.names:
                sdk.origin[alias.asname or alias.name] = node.module
        elif isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            for compare in ast.walk(node):
                if isinstance(compare, ast.Compare):
                    for constant in ast.walk(compare):
                        if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
                            sdk.lazy.add(constant.value)
    return sdk


@pytest.fixture(scope="module")
def sdk() -> Sdk:
    return _load_sdk(_wheel())


# --------------------------------------------------------------------------------------------
# Kinds and signatures, on both sides


_NO_DEFAULT = object()


@dataclass
class Shape:
    """What a callable looks like from the caller's side."""

    kind: str  # "function", "async function", "property", "staticmethod", "classmethod"
    positional: list[tuple[str, object]] = field(default_factory=list)  # (name, default or _NO_DEFAULT)
    keyword_only: dict[str, object] = field(default_factory=dict)
    varargs: bool = False
    varkw: bool = False
    varkw_keys: frozenset[str] | None = None  # the keys of `**kw: Unpack[TypedDict]`, if typed so


class _Source(str):
    """A default value the SDK writes as an expression we do not evaluate (compared as text)."""


def _sdk_default(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except ValueError:
        pass
    text = ast.unparse(node)
    if text.startswith(("HTTPStatus.", "HTTPMethod.")):
        return eval(text, {"HTTPStatus": HTTPStatus, "HTTPMethod": HTTPMethod})  # noqa: S307 - enum member
    return _Source(text)


def _typeddict_keys(sdk: Sdk, module: str, name: str) -> frozenset[str] | None:
    module, node = sdk.find(module, name)
    if not isinstance(node, ast.ClassDef):
        return None
    return frozenset(item.target.id for item in node.body
                     if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name))


def _sdk_shape(sdk: Sdk, module: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> Shape:
    decorators = {ast.unparse(d) for d in node.decorator_list}
    if "property" in decorators:
        kind = "property"
    elif "staticmethod" in decorators:
        kind = "staticmethod"
    elif "classmethod" in decorators:
        kind = "classmethod"
    else:
        kind = "async function" if isinstance(node, ast.AsyncFunctionDef) else "function"
    args = node.args
    positional = args.posonlyargs + args.args
    defaults = [_NO_DEFAULT] * (len(positional) - len(args.defaults)) + [_sdk_default(d) for d in args.defaults]
    shape = Shape(kind, [(a.arg, d) for a, d in zip(positional, defaults)])
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        shape.keyword_only[arg.arg] = _NO_DEFAULT if default is None else _sdk_default(default)
    shape.varargs = args.vararg is not None
    if args.kwarg is not None:
        shape.varkw = True
        annotation = args.kwarg.annotation
        if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) == "Unpack":
            shape.varkw_keys = _typeddict_keys(sdk, module, ast.unparse(annotation.slice))
    return shape


def _our_shape(owner, name: str | None, obj=None) -> Shape | None:
    """The shape of `owner.name` (a member looked up without running descriptors), or of `obj`."""
    if name is not None:
        try:
            obj = inspect.getattr_static(owner, name)
        except AttributeError:
            return None
    if isinstance(obj, property):
        return Shape("property")
    if isinstance(obj, staticmethod):
        kind, function = "staticmethod", obj.__func__
    elif isinstance(obj, classmethod):
        kind, function = "classmethod", obj.__func__
    elif callable(obj):
        function = obj
        kind = "async function" if inspect.iscoroutinefunction(obj) else "function"
    else:
        return Shape("attribute")
    shape = Shape(kind)
    for parameter in inspect.signature(function).parameters.values():
        default = _NO_DEFAULT if parameter.default is inspect.Parameter.empty else parameter.default
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            shape.positional.append((parameter.name, default))
        elif parameter.kind is parameter.KEYWORD_ONLY:
            shape.keyword_only[parameter.name] = default
        elif parameter.kind is parameter.VAR_POSITIONAL:
            shape.varargs = True
        else:
            shape.varkw = True
    return shape


def _same_default(sdk_default, our_default) -> bool:
    if sdk_default is _NO_DEFAULT or our_default is _NO_DEFAULT:
        return sdk_default is our_default
    if isinstance(sdk_default, _Source):
        return sdk_default == repr(our_default)
    return type(sdk_default) is type(our_default) and sdk_default == our_default or (
        isinstance(sdk_default, enum.Enum) and sdk_default == our_default
    )


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _compare(key: str, theirs: Shape, ours: Shape | None) -> dict[str, str]:
    """Problems keyed `key` (kind, positional parameters, defaults) or `key(name=)` (one keyword)."""
    if ours is None:
        return {key: "missing"}
    if theirs.kind != ours.kind:
        return {key: f"is {_a(ours.kind)} here, {_a(theirs.kind)} in the SDK"}
    problems: dict[str, str] = {}
    if theirs.kind == "property":
        return problems
    their_names = [n for n, _ in theirs.positional]
    our_names = [n for n, _ in ours.positional]
    if their_names != our_names:
        problems[key] = f"positional parameters {our_names} here, {their_names} in the SDK"
    else:
        for (name, their_default), (_, our_default) in zip(theirs.positional, ours.positional):
            if not _same_default(their_default, our_default):
                shown = "none" if their_default is _NO_DEFAULT else repr(their_default)
                problems[key] = f"default of {name!r}: {our_default!r} here, {shown} in the SDK"
    if theirs.varargs != ours.varargs:
        problems[key] = f"*args: {ours.varargs} here, {theirs.varargs} in the SDK"
    # Keywords: ours must take every keyword the SDK takes, and no keyword it does not.
    their_keywords = dict(theirs.keyword_only)
    for keyword in theirs.varkw_keys or ():
        their_keywords.setdefault(keyword, _NO_DEFAULT)
    their_any_keyword = theirs.varkw and theirs.varkw_keys is None
    our_names_set = set(our_names)
    for keyword, default in their_keywords.items():
        if keyword in ours.keyword_only:
            if keyword in theirs.keyword_only and not _same_default(default, ours.keyword_only[keyword]):
                problems[f"{key}({keyword}=)"] = "default differs"
        elif keyword not in our_names_set and not ours.varkw:
            problems[f"{key}({keyword}=)"] = "keyword the SDK takes is not accepted here"
    for keyword in ours.keyword_only:
        if keyword not in their_keywords and not their_any_keyword:
            problems[f"{key}({keyword}=)"] = "keyword accepted here that the SDK does not take"
    if their_any_keyword and not ours.varkw:
        problems[key] = "the SDK takes any **kwargs, this does not"
    if ours.varkw and not theirs.varkw:
        problems[key] = "takes **kwargs here, the SDK does not"
    return problems


def _sdk_kind(sdk: Sdk, name: str) -> str:
    if name in sdk.lazy and name not in sdk.origin:
        return "lazy attribute"
    _, node = sdk.find(sdk.origin[name], name)
    if isinstance(node, ast.ClassDef):
        bases = {ast.unparse(b) for b in node.bases}
        if "Protocol" in bases:
            return "protocol"
        if "TypedDict" in bases:
            return "typeddict"
        if bases & {"Enum", "StrEnum", "IntEnum"}:
            return "enum"
        return "class"
    if isinstance(node, ast.AsyncFunctionDef):
        return "async function"
    if isinstance(node, ast.FunctionDef):
        decorators = {ast.unparse(d) for d in node.decorator_list}
        return "contextmanager" if "contextmanager" in decorators else "function"
    if isinstance(node, ast.AnnAssign) and ast.unparse(node.annotation) == "TypeAlias":
        return "type alias"
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
        return "type alias"  # `BlobValue = "str | bytes | ..."`: a string used as an alias
    raise AssertionError(f"cannot tell what the SDK's {name} is: {ast.dump(node) if node else 'not found'}")


def _our_kind(name: str) -> str:
    obj = getattr(workers, name)
    if name in ("env", "wait_until", "waitUntil"):
        return "lazy attribute"  # module attributes here; the SDK's package __getattr__ there
    if inspect.isclass(obj):
        if typing.is_typeddict(obj):
            return "typeddict"
        if getattr(obj, "_is_protocol", False):
            return "protocol"
        if issubclass(obj, enum.Enum):
            return "enum"
        return "class"
    if isinstance(obj, str):
        return "type alias"
    if inspect.iscoroutinefunction(obj):
        return "async function"
    if inspect.isfunction(obj):
        return "function"
    return type(obj).__name__


def _sdk_class_members(sdk: Sdk, module: str, node: ast.ClassDef):
    """{member: (defining class, module, node)} for the public members and `__init__` of a
    class, its SDK base classes included; plus (class, base) for its bases outside the SDK."""
    members: dict[str, tuple[str, str, ast.AST]] = {}
    external: list[tuple[str, str]] = []
    for base in node.bases:
        base_name = ast.unparse(base.value if isinstance(base, ast.Subscript) else base)
        base_module, base_node = sdk.find(module, base_name) if "." not in base_name else (module, None)
        if isinstance(base_node, ast.ClassDef):
            inherited, more = _sdk_class_members(sdk, base_module, base_node)
            members.update(inherited)
            external += more
        else:
            external.append((node.name, base_name))
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not item.name.startswith("_") or item.name == "__init__":
                members[item.name] = (node.name, module, item)
    return members, external


def _signature_problems(sdk: Sdk) -> dict[str, str]:
    """Every difference between a shared name's callables here and in the SDK."""
    problems: dict[str, str] = {}
    inherited = PARITY["inherited"]
    ours_all = set(workers.__all__)
    for name in sdk.all:
        if name not in ours_all or name in sdk.lazy and name not in sdk.origin:
            continue
        module, node = sdk.find(sdk.origin[name], name)
        ours = getattr(workers, name)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            problems.update(_compare(name, _sdk_shape(sdk, module, node), _our_shape(None, None, ours)))
        elif isinstance(node, ast.ClassDef) and _sdk_kind(sdk, name) == "typeddict":
            their_keys = _typeddict_keys(sdk, module, name)
            for key in sorted(their_keys ^ set(ours.__annotations__)):
                where = "only in the SDK" if key in their_keys else "only here"
                problems[f"{name}[{key!r}]"] = f"key {where}"
        elif isinstance(node, ast.ClassDef) and _sdk_kind(sdk, name) == "enum":
            their_members = {ast.unparse(t): ast.literal_eval(item.value) for item in node.body
                             if isinstance(item, ast.Assign) for t in item.targets}
            our_members = {m.name: m.value for m in ours}
            if their_members != our_members:
                problems[name] = f"members {our_members} here, {their_members} in the SDK"
        elif isinstance(node, ast.ClassDef):
            members, external = _sdk_class_members(sdk, module, node)
            for member, (defined_in, member_module, member_node) in members.items():
                key = f"{defined_in}.{member}"
                for problem, text in _compare(key, _sdk_shape(sdk, member_module, member_node),
                                              _our_shape(ours, member)).items():
                    problems.setdefault(problem, text)
            for subclass, base in external:
                for member, kind in inherited.get(base, {}).get("members", {}).items():
                    if member in members:
                        continue  # the SDK class overrides it; checked above
                    ours_member = _our_shape(ours, member)
                    key = f"{subclass}.{member}"
                    if ours_member is None:
                        problems.setdefault(key, f"missing (inherited from {base})")
                    elif ours_member.kind != kind:
                        problems.setdefault(key, f"is {_a(ours_member.kind)} here, {_a(kind)} in {base}")
    return problems


# --------------------------------------------------------------------------------------------
# The tests


def test_the_wheel_is_the_pinned_version(sdk):
    assert sdk.version == SDK_VERSION
    assert sdk.all, "found no __all__ in the SDK's workers/__init__.py"
    assert len(PARITY["sdk"]["why"]) > 40, "say why this version is pinned"


def test_every_name_we_export_is_in_the_sdk_or_a_listed_addition(sdk):
    additions = PARITY["additions"]
    for name in workers.__all__:
        assert hasattr(workers, name), f"workers.__all__ lists {name!r}, which the module lacks"
    extra = sorted(set(workers.__all__) - set(sdk.all) - set(additions))
    assert not extra, f"exported here but not in the SDK's __all__, and not in [additions]: {extra}"
    for name, entry in additions.items():
        assert name in workers.__all__, f"[additions] lists {name!r}, which we no longer export"
        assert name not in sdk.all, f"[additions] lists {name!r}, which the SDK now exports"
        assert len(entry["reason"]) > 20, f"give [additions].{name} a reason"
        # An addition the SDK defines without exporting must be the same kind of thing there.
        if "sdk_module" in entry:
            _, node = sdk.find(entry["sdk_module"], name)
            assert isinstance(node, ast.ClassDef), f"the SDK's {entry['sdk_module']} no longer defines {name}"
            their_bases = [ast.unparse(b) for b in node.bases]
            our_bases = [b.__name__ for b in getattr(workers, name).__bases__]
            assert their_bases == our_bases, f"{name}: bases {our_bases} here, {their_bases} in the SDK"


def test_every_sdk_name_is_ours_or_excluded_with_a_reason(sdk):
    excluded = PARITY["excluded"]
    missing = sorted(set(sdk.all) - set(workers.__all__) - set(excluded))
    assert not missing, f"in the SDK's __all__ but neither here nor in [excluded]: {missing}"
    for name, reason in excluded.items():
        assert name in sdk.all, f"[excluded] lists {name!r}, which the SDK no longer exports"
        assert name not in workers.__all__, f"[excluded] lists {name!r}, which we now export: drop the entry"
        assert isinstance(reason, str) and len(reason) > 20, f"give [excluded].{name} a one-line reason"


def test_shared_names_are_the_same_kind_of_thing(sdk):
    differences = PARITY["kind_differences"]
    seen = {}
    for name in sorted(set(sdk.all) & set(workers.__all__)):
        theirs, ours = _sdk_kind(sdk, name), _our_kind(name)
        if name in differences:
            entry = differences[name]
            assert (theirs, ours) == (entry["sdk"], entry["ours"]), (
                f"[kind_differences].{name} says SDK {entry['sdk']} / ours {entry['ours']}, "
                f"now SDK {theirs} / ours {ours}: review it")
            assert len(entry["reason"]) > 20
        else:
            seen[name] = (theirs, ours)
    wrong = {name: kinds for name, kinds in seen.items() if kinds[0] != kinds[1]}
    assert not wrong, f"(SDK kind, our kind) differ and are not in [kind_differences]: {wrong}"
    assert callable(workers.wait_until) and workers.waitUntil is workers.wait_until


def test_signatures_match_the_sdk(sdk):
    problems = _signature_problems(sdk)
    assert not set(PARITY["differences"]) & set(PARITY["gaps"]), "a key is in both [differences] and [gaps]"
    listed = PARITY["differences"] | PARITY["gaps"]
    unlisted = {key: text for key, text in problems.items() if key not in listed}
    assert not unlisted, "signatures that differ from the SDK (fix them, or list them with a reason in " \
        "[differences] or [gaps]):\n" + "\n".join(f"  {key}: {text}" for key, text in sorted(unlisted.items()))
    stale = sorted(set(listed) - set(problems))
    assert not stale, f"[differences]/[gaps] list {stale}, which now match the SDK: drop those entries"
    for key, reason in listed.items():
        assert isinstance(reason, str) and len(reason) > 20, f"give {key!r} a one-line reason"
    waved = sorted(key for key in listed if key in MUST_MATCH)
    assert not waved, f"these must match the SDK exactly and may not be listed as differences: {waved}"


def test_shared_classes_have_no_public_members_the_sdk_lacks(sdk):
    """A member only we have would let code pass here that fails on the platform."""
    stdlib_bases = {"MutableMapping": collections.abc.MutableMapping}
    extras = {}
    for name in sorted(set(sdk.all) & set(workers.__all__)):
        if _sdk_kind(sdk, name) not in ("class", "protocol"):
            continue
        module, node = sdk.find(sdk.origin[name], name)
        members, external = _sdk_class_members(sdk, module, node)
        theirs = set(members)
        for _, base in external:
            theirs |= set(PARITY["inherited"].get(base, {}).get("members", {}))
            theirs |= {m for m in dir(stdlib_bases.get(base, object)) if not m.startswith("_")}
        ours = {m for m in dir(getattr(workers, name)) if not m.startswith("_")}
        if ours - theirs:
            extras[name] = sorted(ours - theirs)
    assert not extras, f"public members here that the SDK's classes lack: {extras}"


def test_the_checked_signatures_were_really_compared(sdk):
    """Guard against a silently empty comparison: the key members are found on both sides."""
    checked = {"Response.__init__": (workers.Response, "__init__"),
               "FetchResponse.from_json": (workers.Response, "from_json"),
               "FetchResponse.redirect": (workers.Response, "redirect"),
               "Request.__init__": (workers.Request, "__init__"),
               "DurableObject.__init__": (workers.DurableObject, "__init__"),
               "WorkerEntrypoint.__init__": (workers.WorkerEntrypoint, "__init__")}
    for key, (cls, member) in checked.items():
        defined_in, name = key.split(".")
        module, node = sdk.find(sdk.origin[cls.__name__], cls.__name__)
        members, _ = _sdk_class_members(sdk, module, node)
        assert member in members and members[member][0] == defined_in, key
        assert _our_shape(cls, member) is not None, key
    _, fetch_node = sdk.find(sdk.origin["fetch"], "fetch")
    assert isinstance(fetch_node, ast.AsyncFunctionDef) and inspect.iscoroutinefunction(workers.fetch)
    # The body readers of a fetch response: async in the SDK (or in Pyodide, which it extends).
    inherited = PARITY["inherited"]["pyodide.http.FetchResponse"]["members"]
    for reader in ("text", "bytes", "buffer", "blob", "form_data"):
        kind = inherited.get(reader)
        if kind is None:
            module, node = sdk.find("response", "FetchResponse")
            kind = _sdk_shape(sdk, module, _sdk_class_members(sdk, module, node)[0][reader][2]).kind
        assert kind == "async function", reader
        for cls in (workers.FetchResponse, workers.Response, workers.Request):
            assert inspect.iscoroutinefunction(getattr(cls, reader)), f"{cls.__name__}.{reader}"


def test_headers_is_recorded_as_the_sdk_defines_it(sdk):
    """The SDK's `Headers` is a type alias (a string naming dict | list of pairs | js.Headers),
    not a class; ours is a class. The toml records that, and this keeps the record true."""
    module, node = sdk.find(sdk.origin["Headers"], "Headers")
    assert isinstance(node, ast.AnnAssign) and ast.unparse(node.annotation) == "TypeAlias"
    assert node.value.value == PARITY["kind_differences"]["Headers"]["sdk_definition"]
    # What the SDK's alias admits, ours accepts wherever the SDK takes `headers=`.
    for headers in ({"x-a": "1"}, [("x-a", "1")], workers.Headers({"x-a": "1"})):
        assert workers.Response("", headers=headers).headers.get("x-a") == "1"
        assert workers.Request("https://example.com/", headers=headers).headers.get("x-a") == "1"


class _Probe(workers.DurableObject):
    """Records which handler the runtime called, with what."""

    async def fetch(self, request):
        if request.headers.get("upgrade") == "websocket":
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            return workers.Response(None, status=101, web_socket=client)
        return workers.Response("fetched")

    async def alarm(self, alarm_info):
        await self.ctx.storage.put("alarm", [alarm_info.retryCount, alarm_info.isRetry])

    async def webSocketMessage(self, ws, message):
        ws.send(f"got {message}")

    async def webSocketClose(self, ws, code, reason, wasClean):
        await self.ctx.storage.put("close", [code, reason])

    async def seen(self, key):
        return await self.ctx.storage.get(key)


async def test_documented_ctx_members_exist_or_are_pending(make_runtime):
    ctx_spec = PARITY["ctx"]
    pending = PARITY["pending"]["ctx"]
    excluded = PARITY["ctx_excluded"]
    rt = make_runtime(durable_objects={"PROBE": _Probe})
    ctx = await run_in_durable_object(rt.env.PROBE.getByName("probe"), lambda obj, ctx: ctx)
    documented = ctx_spec["methods"] + ctx_spec["properties"]
    for name in set(pending) | set(excluded):
        assert name in documented, f"{name!r} is pending or excluded but not a documented ctx member"
    for name in excluded:
        assert not hasattr(ctx, name), f"ctx.{name} exists now: drop it from [ctx_excluded]"
    # Pending members arrive with their issue, possibly before this file is updated: say so
    # without failing, so the suite stays green while that work lands.
    arrived = sorted(name for name in pending if hasattr(ctx, name))
    if arrived:
        warnings.warn(f"ctx members {arrived} exist now: drop them from [pending.ctx] in "
                      "tests/sdk_parity.toml", UserWarning, stacklevel=1)
    for table in (pending, excluded):
        for name, entry in table.items():
            assert len(entry["reason"]) > 20, name
    assert all(entry.get("issue") for entry in pending.values()), "each pending member names its issue"
    expected = [name for name in documented if name not in pending and name not in excluded]
    missing = [name for name in expected if not hasattr(ctx, name)]
    assert not missing, f"documented ctx members missing and not pending: {missing}"
    for name in ctx_spec["methods"]:
        if name in expected:
            assert callable(getattr(ctx, name)), f"ctx.{name} should be a method"


async def test_documented_handlers_are_known_and_dispatched_or_pending(make_runtime):
    handlers = PARITY["handlers"]["names"]
    pending = PARITY["pending"]["handlers"]
    # All of them are handler names to the runtime, so none of them can be called over RPC.
    assert set(handlers) <= RPC_RESERVED
    assert set(pending) <= set(handlers) and all(entry.get("issue") for entry in pending.values())
    dispatched = {"fetch", "alarm", "webSocketMessage", "webSocketClose"}  # each one run below
    assert set(handlers) - set(pending) == dispatched, "a handler left [pending.handlers]: test it here"
    rt = make_runtime(durable_objects={"PROBE": _Probe})
    stub = rt.env.PROBE.getByName("probe")
    assert await (await stub.fetch("https://do/")).text() == "fetched"
    await run_in_durable_object(stub, lambda obj, ctx: ctx.storage.setAlarm(rt.now() + 1000))
    await rt.advance(2)
    assert await stub.seen("alarm") == [0, False]  # alarm_info.retryCount, .isRetry
    ws = await connect(stub, "https://do/ws")
    ws.send("hi")
    assert await ws.receive() == "got hi"
    ws.close(1000, "bye")
    await rt.advance(1)
    assert await stub.seen("close") == [1000, "bye"]


def test_helpers_we_added_behave_as_documented():
    """`handler` passes calls through (our arguments are Python already); `Context` is the
    SDK's protocol; `fetch` is a coroutine function, so nothing is sent until it is awaited."""

    @workers.handler
    def on_fetch(request, env):
        """doc"""
        return request, env

    assert on_fetch("r", "e") == ("r", "e") and on_fetch.__doc__ == "doc"
    assert [m for m in vars(workers.Context) if not m.startswith("_")] == ["waitUntil"]
    assert typing.is_typeddict(workers.FetchKwargs) and not workers.FetchKwargs.__required_keys__
    assert inspect.iscoroutinefunction(workers.fetch)


# --------------------------------------------------------------------------------------------
# Cloudflare's own Durable Object binding tests, run unchanged

# The harness around them: in the SDK's repository they run inside a Worker whose wrangler.jsonc
# binds TEST_DO to TestDurableObject, with pytest inside workerd. Here a world with that binding
# is the latest world, so `from workers import env` (their conftest's `env` fixture) is its env.
_BINDING_TESTS_HARNESS = '''\
import pytest
from durable_dojo import Runtime
from worker_durable_object import TestDurableObject


@pytest.fixture(autouse=True)
def world():
    rt = Runtime(durable_objects={"TEST_DO": TestDurableObject})
    yield rt
    rt.close()
'''
_BINDING_TESTS = ("conftest.py", "test_do.py", "worker_durable_object.py")
_BINDING_TESTS_COUNT = 31  # `async def test_` in test_do.py of 1.9.5


def test_cloudflares_durable_object_binding_tests_pass_unchanged(tmp_path):
    """The SDK release's own tests of the Durable Object binding (tests/bindings-test/src/test_do.py
    and the object it calls, worker_durable_object.py, from the pinned sdist), not one character
    changed: storage, SQL cursors, alarms (`setAlarm()` on a class without `alarm()`),
    transactions, ids, RPC with dicts, `fetch`, `blockConcurrencyWhile`, top-level `workers.env`."""
    import tarfile

    source = tmp_path / "src"
    source.mkdir()
    with tarfile.open(_sdist()) as archive:
        for name in _BINDING_TESTS:
            member = archive.getmember(f"workers_runtime_sdk-{SDK_VERSION}/tests/bindings-test/src/{name}")
            (source / name).write_bytes(archive.extractfile(member).read())
    (tmp_path / "conftest.py").write_text(_BINDING_TESTS_HARNESS)
    assert (source / "test_do.py").read_text().count("\nasync def test_") == _BINDING_TESTS_COUNT
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                           "-W", "ignore::DeprecationWarning", "src/test_do.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(source)})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert f"{_BINDING_TESTS_COUNT} passed" in done.stdout, done.stdout[-2000:]


# workerd's own Python Durable Object test (the SDK release carries a copy in
# tests/workerd-test/durable-object), run unchanged as a project. In workerd its bindings come
# from durable-object.wd-test; here the same bindings are a wrangler.jsonc next to it.
_WORKERD_TEST_CONFIG = '''\
{
  "name": "test-worker",
  "main": "worker.py",
  "compatibility_date": "2026-11-17",
  "compatibility_flags": ["python_workers", "service_binding_extra_handlers"],
  "durable_objects": {"bindings": [{"name": "ns", "class_name": "DurableObjectExample"}]},
  "migrations": [{"tag": "v1", "new_sqlite_classes": ["DurableObjectExample"]}]
}
'''


def test_workerds_durable_object_test_passes_unchanged(tmp_path):
    """fetch into the object, RPC with and without arguments, `blockConcurrencyWhile` in the
    constructor, a method calling another on `self`, `run_sync(sleep(0.01))` in a plain `def`
    method called over RPC, a mixin's method, alarms awaited with `sleep`, `setAlarm` and more,
    as workerd's test runner runs its `test()` entry."""
    import tarfile

    from durable_dojo.testing import load_project, run_test_entry

    with tarfile.open(_sdist()) as archive:
        member = archive.getmember(f"workers_runtime_sdk-{SDK_VERSION}/tests/workerd-test/durable-object/worker.py")
        (tmp_path / "worker.py").write_bytes(archive.extractfile(member).read())
    assert "run_sync(sleep(0.01))" in (tmp_path / "worker.py").read_text()
    (tmp_path / "wrangler.jsonc").write_text(_WORKERD_TEST_CONFIG)
    rt = load_project(tmp_path)
    try:
        rt.run(run_test_entry(rt))  # raises what the test's asserts raise
    finally:
        rt.close()
