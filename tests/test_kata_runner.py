"""The `dojo` kata runner, driven on the fixture kata set in tests/runner_fixtures/project.

Each test copies that project (plus the real tests/katas/conftest.py, so the real `load_kata`
loader is used) to a temporary folder and runs the runner there: `check`, `hint`, `reset`,
`solution`, `list`, `next`, watch mode, the hang verdict, manifest validation and the honesty
check's own machinery (the real katas' honesty is tests/test_kata_honesty.py).
"""

from __future__ import annotations

import json
import re
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from durable_dojo._kata import audit as _audit
from durable_dojo._kata import manifest as _manifest
from durable_dojo._kata import pristine as _pristine
from durable_dojo._kata import run as _run
from durable_dojo._kata.cli import main

HERE = Path(__file__).parent
FIXTURE = HERE / "runner_fixtures" / "project"
LOADER = HERE / "katas" / "conftest.py"
COUNTER = "katas/01-counter/counter.py"
SLEEPER = "katas/02-sleeper/sleeper.py"


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    shutil.copy(LOADER, root / "tests" / "katas" / "conftest.py")
    for name in ("DOJO_PROJECT", "DOJO_STATE_DIR", "DOJO_POLL", "DOJO_KATA_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root)
    return root


def dojo(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def solve(root: Path, kata: str = "01-counter", name: str = "counter.py") -> None:
    shutil.copy(root / "solutions" / kata / name, root / "katas" / kata / name)


def state(root: Path) -> dict:
    return json.loads((root / ".dojo" / "progress.json").read_text())["katas"]


# --- check -----------------------------------------------------------------------------------


def test_check_shows_each_test_with_the_kata_tests_own_words(project, capsys):
    code, out = dojo(capsys, "check", "01-counter")
    assert code == 1
    assert "✗ 01-counter" in out and "1 of 2 tests failing" in out
    assert "✓ test_first_increment_returns_one" in out
    assert "✗ test_count_survives_eviction" in out
    assert "the count was lost when the object was evicted: got 1, expected 2" in out
    assert "assert 1 == 2" not in out, "pytest's assertion rewriting is trimmed away"
    assert "Rule: In-memory state is lost on eviction" in out
    assert "dojo hint 01-counter" in out
    assert state(project)["01-counter"]["last"] == "failed"


def test_check_passes_records_progress_and_moves_on(project, capsys):
    solve(project)
    code, out = dojo(capsys, "check", "1")
    assert code == 0
    assert "✓ 01-counter" in out and "all 2 tests pass" in out
    assert "dojo solution 01-counter" in out
    assert state(project)["01-counter"]["passed"] is True
    code, out = dojo(capsys, "list")
    assert code == 0 and "✓ passed" in out and "1/2 katas" in out
    code, out = dojo(capsys, "next")
    assert "Kata 2: A nap that blocks the object" in out and SLEEPER in out


def test_a_learners_error_points_at_their_line(project, capsys):
    path = project / COUNTER
    path.write_text(path.read_text().replace("self.count += 1", "self.count += None"))
    code, out = dojo(capsys, "check", "counter")
    assert code == 1
    assert "JsException: PythonError (raised in the object) TypeError: unsupported operand" in out
    assert f"at {COUNTER}:11 in increment: self.count += None" in out
    assert "Traceback" not in out and "dojo-check-" not in out  # one line, no copy's path


@pytest.mark.parametrize("name", ["01-counter", "1", "01", "01-c", "count"])
def test_a_kata_is_named_by_id_number_prefix_or_part(project, capsys, name):
    manifest = _manifest.load_manifest(project)
    assert manifest.find(name).id == "01-counter"


def test_unknown_and_ambiguous_names_are_explained(project, capsys):
    code, out = dojo(capsys, "check", "nope")
    assert code == 2 and "No kata named 'nope'" in out
    code, out = dojo(capsys, "hint", "0")
    assert code == 2 and "matches several katas: 01-counter, 02-sleeper" in out
    code, out = dojo(capsys, "check", "counterr")
    assert code == 2 and "Did you mean 01-counter" in out


# --- hangs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stuck", ["sleep", "busy loop"])
def test_code_that_never_returns_ends_in_a_hang_verdict_within_the_timeout(project, capsys, stuck):
    if stuck == "busy loop":
        path = project / SLEEPER
        path.write_text(path.read_text().replace("time.sleep(3600)", "while True:\n            pass"))
    code, out = dojo(capsys, "check", "02")
    assert code == 1
    assert "⧗ 02-sleeper" in out
    assert "Kata 02-sleeper did not finish within its timeout of 4 s" in out
    assert "Likely cause: an infinite loop or a blocking call (time.sleep) in a handler, " \
           "or an await that never completes." in out
    # The stack is sampled where the loop happens to be: `while True:` (line 8) or `pass` (line 9).
    lines = {"sleep": {8: "time.sleep(3600)"}, "busy loop": {8: "while True:", 9: "pass"}}[stuck]
    found = re.search(rf"Stuck in test_nap_returns, at {re.escape(SLEEPER)}:(\d+) in nap:\n\s+(.+)", out)
    assert found and lines.get(int(found[1]), "<no such line>") in found[2], out
    assert "· test_the_object_answers_a_ping" in out, "the test the hang kept from running is listed"
    assert state(project)["02-sleeper"]["last"] == "hung"
    # the runner keeps going: the next check runs normally
    code, out = dojo(capsys, "check", "01")
    assert code == 1 and "✗ test_count_survives_eviction" in out


def test_an_await_that_never_completes_fails_at_once_with_the_emulators_message(project, capsys):
    path = project / SLEEPER
    path.write_text("import asyncio\nfrom workers import DurableObject\n\n\nclass Sleeper(DurableObject):\n"
                    "    async def nap(self):\n        await asyncio.get_running_loop().create_future()\n")
    code, out = dojo(capsys, "check", "02")
    assert code == 1 and "✗ 02-sleeper" in out
    assert "DeadlockError: SLEEPER" in out and "can never finish" in out
    assert "Likely cause: an infinite loop or a blocking call" in out


# --- hints -----------------------------------------------------------------------------------


def test_hints_advance_one_level_per_call_and_persist(project, capsys):
    hints = _manifest.load_manifest(project).find("01").hints
    for level in (1, 2, 3, 3):
        code, out = dojo(capsys, "hint", "01")
        assert code == 0
        for i, hint in enumerate(hints, 1):
            assert (hint in out) == (i <= level), f"level {level}: hint {i}"
        assert state(project)["01-counter"]["hints"] == level
    assert "That was the last hint" in out
    code, out = dojo(capsys, "check", "01")
    assert "(all hints shown)" in out
    code, out = dojo(capsys, "hint")  # no name: the current kata
    assert hints[2] in out


# --- reset -----------------------------------------------------------------------------------


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
                    *args], cwd=root, check=True, capture_output=True)


def run_cli(root: Path, *argv: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOJO_")} | (env or {})
    return subprocess.run([sys.executable, "-m", "durable_dojo._kata.cli", *argv], cwd=root, input=stdin,
                          capture_output=True, text=True, timeout=60, env=env)


def test_reset_asks_first_then_restores_the_original_from_git(project):
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "katas")
    original = (project / COUNTER).read_text()
    solve(project)
    assert run_cli(project, "check", "01").returncode == 0

    declined = run_cli(project, "reset", "01", stdin="n\n")
    assert declined.returncode == 1
    assert "Your changes to it will be lost" in declined.stdout and "Nothing changed" in declined.stdout
    assert (project / COUNTER).read_text() != original

    accepted = run_cli(project, "reset", "01", stdin="y\n")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert (project / COUNTER).read_text() == original
    assert "from git" in accepted.stdout
    assert "passed" not in state(project)["01-counter"]

    assert "already as shipped" in run_cli(project, "reset", "01", "--yes").stdout
    (project / COUNTER).write_text("# gone\n")
    assert run_cli(project, "reset", "counter", "--yes").returncode == 0
    assert (project / COUNTER).read_text() == original


def test_reset_with_no_input_changes_nothing(project):
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "katas")
    (project / COUNTER).write_text("# my work\n")
    result = run_cli(project, "reset", "01")  # stdin closed: no answer is no
    assert result.returncode == 1
    assert (project / COUNTER).read_text() == "# my work\n"


def test_reset_prefers_the_copy_shipped_in_the_package(project, capsys, monkeypatch, tmp_path):
    shipped = tmp_path / "_katas_data"
    shutil.copytree(project / "katas", shipped)
    (shipped / "01-counter" / "counter.py").write_text("# as shipped\n")
    monkeypatch.setattr(_pristine, "_packaged_katas_dir", lambda: shipped)
    code, out = dojo(capsys, "reset", "01", "--yes")
    assert code == 0 and "shipped in the durable-dojo package" in out
    assert (project / COUNTER).read_text() == "# as shipped\n"
    # a package built from another kata set is not used
    (shipped / "katas.toml").write_text("# another manifest\n")
    code, out = dojo(capsys, "reset", "01", "--yes")
    assert code == 2 and "is not available" in out


def test_reset_without_package_copy_or_git_says_so(project, capsys):
    code, out = dojo(capsys, "reset", "01", "--yes")
    assert code == 2
    assert f"The original of {COUNTER} is not available" in out


# --- solution --------------------------------------------------------------------------------


def test_solution_is_refused_until_the_kata_passes(project, capsys):
    code, out = dojo(capsys, "solution", "01")
    assert code == 1
    assert "The solution opens once 01-counter passes" in out
    assert 'storage.put("count", count)' not in out
    solve(project)
    code, out = dojo(capsys, "solution", "01")  # checks first, then shows it
    assert code == 0
    assert 'storage.put("count", count)' in out
    assert "The instance is dropped on eviction; the storage is not." in out
    assert state(project)["01-counter"]["passed"] is True


# --- watch -----------------------------------------------------------------------------------


class Watch:
    """`dojo` (watch mode) in a child process, its output read line by line."""

    def __init__(self, root: Path, env: dict):
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOJO_")} | env
        self.proc = subprocess.Popen([sys.executable, "-m", "durable_dojo._kata.cli"], cwd=root, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def expect(self, text: str, timeout: float = 120) -> None:
        """Wait for a line with `text`. The timeout only ends a test that went wrong (a busy
        machine is slow, never wrong): the runner's verdicts do not depend on time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.seen.append(line)
            if text in line:
                return
        raise AssertionError(f"{text!r} did not appear; output so far:\n{''.join(self.seen)}")

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=120)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def test_watch_announces_polling_reruns_on_save_gives_hints_and_moves_on(project):
    watch = Watch(project, {"DOJO_POLL": "1"})
    try:
        watch.expect("Watching for saves by polling every 0.5 s (DOJO_POLL is set)")
        watch.expect("Progress ░")
        watch.expect("✗ test_count_survives_eviction")
        watch.expect("save it to run again")
        watch.send("h")
        watch.expect("Hint 1/3")
        watch.expect("More: h + Enter again")
        solve(project)
        watch.expect("✓ 01-counter")
        watch.expect("next: 02-sleeper")
        watch.expect("Progress ████████████████░")
        watch.expect("⧗ 02-sleeper")  # a hang does not stop the runner
        watch.expect("save it to run again")
        watch.send("q")
        assert watch.close() == 0
    finally:
        watch.proc.kill()
    assert state(project)["01-counter"]["hints"] == 1


def test_watch_with_file_events_runs_to_the_end(project):
    pytest.importorskip("watchfiles")
    solve(project, "02-sleeper", "sleeper.py")
    watch = Watch(project, {})
    try:
        watch.expect("with file-system events (watchfiles)")
        watch.expect("✗ test_count_survives_eviction")
        watch.expect("save it to run again")
        solve(project)
        watch.expect("✓ 01-counter")
        watch.expect("✓ 02-sleeper")
        watch.expect("All 2 katas pass")
        assert watch.close() == 0
    finally:
        watch.proc.kill()


# --- the manifest ----------------------------------------------------------------------------


def edit_manifest(root: Path, old: str, new: str) -> None:
    path = root / "katas" / "katas.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(("old", "new", "problem"), [
    ('learner = "katas/01-counter/counter.py"', 'learner = "katas/01-counter/missing.py"',
     "kata '01-counter': field 'learner': file katas/01-counter/missing.py does not exist"),
    ('id = "02-sleeper"', 'id = "01-counter"', "kata '01-counter': field 'id': duplicate id"),
    ("order = 2", "order = 1", "kata '02-sleeper': field 'order': 1 is also the order of '01-counter'"),
    ('failing_tests = ["test_nap_returns"]', 'failing_tests = ["test_nap_return"]',
     "kata '02-sleeper': field 'failing_tests': no test named 'test_nap_return' in tests/katas/test_sleeper.py"),
    ('rule = "Never block', 'rules = "Never block', "kata '02-sleeper': field 'rule': missing"),
    ('rule = "Never block', 'rules = "Never block', "kata '02-sleeper': unknown field 'rules'"),
    ('    "Replace `time.sleep(3600)` with `await asyncio.sleep(3600)`.",\n', "",
     "kata '02-sleeper': field 'hints': must have exactly 3 entries, has 2"),
    ("timeout = 4", 'timeout = "4"', "kata '02-sleeper': field 'timeout': must be a positive number"),
    ('solution = "solutions/02-sleeper/sleeper.py"', 'solution = "solutions/sleeper.py"',
     "kata '02-sleeper': field 'solution': must be solutions/02-sleeper/<file>"),
    ("version = 1", 'version = "one"', "[meta] field 'version': must be an integer"),
])
def test_a_bad_manifest_is_refused_naming_the_kata_and_the_field(project, capsys, old, new, problem):
    edit_manifest(project, old, new)
    with pytest.raises(_manifest.ManifestError) as caught:
        _manifest.load_manifest(project)
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    code, out = dojo(capsys, "list")
    assert code == 2 and problem in out


def test_the_manifest_loads_in_order_with_the_default_timeout(project):
    edit_manifest(project, "order = 1", "order = 7")
    manifest = _manifest.load_manifest(project)
    assert [k.id for k in manifest.katas] == ["02-sleeper", "01-counter"]
    assert manifest.find("01-counter").timeout == 10.0 and manifest.find("02").timeout == 4.0
    assert manifest.find("01-counter").tests == ("tests/katas/test_counter.py",)


def test_outside_a_project_dojo_says_where_it_looked(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DOJO_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_manifest, "__file__", str(tmp_path / "a" / "b" / "c.py"))
    code, out = dojo(capsys, "list")
    assert code == 2 and "No katas/katas.toml in" in out


# --- the honesty check's machinery -----------------------------------------------------------


def test_the_honesty_check_passes_the_fixture_and_catches_defects(project):
    report = _audit.audit(_manifest.load_manifest(project))
    assert report == {k: {"solution": [], "learner": [], "gutted": []} for k in ("01-counter", "02-sleeper")}

    # defects: a test that passes on an empty class, a learner failing a test not listed, a broken solution
    (project / "tests/katas/test_counter.py").write_text(
        (project / "tests/katas/test_counter.py").read_text()
        + "\n\ndef test_has_a_counter(load_kata):\n"
          "    assert hasattr(load_kata('01-counter', 'counter.py'), 'Counter')\n")
    edit_manifest(project, 'failing_tests = ["test_count_survives_eviction"]',
                  'failing_tests = ["test_count_survives_eviction", "test_has_a_counter"]')
    sleeper = project / "solutions/02-sleeper/sleeper.py"
    sleeper.write_text(sleeper.read_text().replace('"rested"', '"tired"'))
    (project / SLEEPER).write_text("class Sleeper:\n    pass\n")
    report = _audit.audit(_manifest.load_manifest(project))
    counter, sleeper_report = report["01-counter"], report["02-sleeper"]
    assert any("test_has_a_counter passed when every function body" in p for p in counter["gutted"]), counter
    assert any("test_has_a_counter should fail against the shipped" in p for p in counter["learner"]), counter
    assert any("test_nap_returns failed against solutions/02-sleeper/sleeper.py" in p
               for p in sleeper_report["solution"]), sleeper_report


def test_the_gutting_keeps_signatures_and_deletes_bodies():
    source = (
        "import asyncio\n"
        "class A(Base):\n"
        "    LIMIT = 3\n"
        "    def __init__(self, ctx, env):\n"
        "        '''Doc.'''\n"
        "        super().__init__(ctx, env)\n"
        "        self.n = 0\n"
        "    @property\n"
        "    def size(self) -> int:\n"
        "        return self.n\n"
        "    async def fetch(self, request, *args, key=None, **kw):\n"
        "        await asyncio.sleep(1)\n"
        "        return request\n"
        "    class Inner:\n"
        "        def go(self):\n"
        "            return 1\n"
        "def helper(x):\n"
        "    yield x\n"
    )
    gutted = _audit.gut_source(source)
    namespace: dict = {"Base": object}
    exec(compile(gutted, "<gutted>", "exec"), namespace)
    a = namespace["A"].__new__(namespace["A"])
    assert namespace["A"].LIMIT == 3
    assert namespace["A"].__init__.__doc__ == "Doc."
    assert a.size is None and a.Inner().go() is None
    assert "def fetch(self, request, *args, key=None, **kw):" in gutted
    assert "super()" not in gutted and "asyncio.sleep" not in gutted
    assert list(namespace["helper"](1)) == []
    assert "def helper(x):" in gutted


def test_short_messages_keep_the_tests_words():
    assert _run.short_message("AssertionError: the count was lost\nassert 1 == 2\n +  where 1 = f()") \
        == "the count was lost"
    assert _run.short_message("AssertionError: assert 1 == 2") == "assert 1 == 2"
    assert _run.short_message("durable_dojo._core.errors.DeadlockError: x can never finish") \
        == "DeadlockError: x can never finish"
    assert _run.short_message("\n".join(f"line {i}" for i in range(20))).endswith("…")


def test_the_runner_modules_import_light():
    code = ("import sys, durable_dojo._kata.cli, durable_dojo._kata.audit, durable_dojo._kata.author\n"
            "heavy = {'pytest', 'rich', 'watchfiles'} & set(sys.modules)\n"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_commands_plug_into_a_parser_that_dispatches_on_run():
    import argparse

    from durable_dojo._kata import cli as _kata_cli

    parser = argparse.ArgumentParser(prog="dojo")
    _kata_cli.add_kata_commands(parser.add_subparsers(dest="command"))
    assert parser.parse_args(["check", "3"]).run is _kata_cli.cmd_check
    args = parser.parse_args(["reset", "quota", "--yes"])
    assert (args.run, args.name, args.yes) == (_kata_cli.cmd_reset, "quota", True)
    assert parser.parse_args(["hint"]).name is None
    assert getattr(parser.parse_args([]), "run", None) is None  # then the caller runs run_default(args)


# --- the checks about shipped katas read them as shipped ---------------------------------------


def commit_all(root: Path) -> None:
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "katas")


def test_the_honesty_check_reads_the_katas_as_shipped_not_the_learners_work(project):
    """A learner who solved every kata still gets a clean honesty check: it reads git HEAD, not
    the working copy of katas/ (where the solved files would fail "the learner file fails")."""
    commit_all(project)
    solve(project)
    solve(project, "02-sleeper", "sleeper.py")
    manifest = _manifest.load_shipped_manifest(project)
    assert manifest.katas_dir != project / "katas"
    assert manifest.shipped(manifest.find("01")).read_text() == _pristine.shipped_file(project, COUNTER)[0].decode()
    report = _audit.audit(manifest)
    assert report == {k: {"solution": [], "learner": [], "gutted": []} for k in ("01-counter", "02-sleeper")}


def test_the_shipped_manifest_is_read_from_the_last_commit(project):
    commit_all(project)
    edit_manifest(project, "order = 1", "order = 7")  # the working copy changes, HEAD does not
    assert [k.id for k in _manifest.load_manifest(project).katas] == ["02-sleeper", "01-counter"]
    assert [k.id for k in _manifest.load_shipped_manifest(project).katas] == ["01-counter", "02-sleeper"]


def test_without_git_or_a_package_copy_there_is_no_shipped_manifest(project):
    with pytest.raises(_pristine.PristineNotFound, match="not available"):
        _manifest.load_shipped_manifest(project)


def test_check_all_checks_every_kata_against_the_learners_files(project, capsys):
    solve(project)
    code, out = dojo(capsys, "check", "--all")
    assert code == 1
    assert "✓ 01-counter" in out and "all 2 tests pass" in out
    assert "⧗ 02-sleeper" in out and "stopped after 4 s" in out
    assert "1/2 katas" in out and "dojo check 02-sleeper" in out
    solve(project, "02-sleeper", "sleeper.py")
    code, out = dojo(capsys, "check", "--all")
    assert code == 0 and "✓ 02-sleeper" in out and "2/2 katas" in out


# --- a check contains the learner's code (each of these got past the runner before) ----------


def hostile(root: Path, body: str, *, imports: str = "import os, sys, time, signal, subprocess") -> None:
    """Kata 01's learner file, with `body` run at the start of increment()."""
    code = "\n".join("        " + line for line in body.strip("\n").splitlines())
    (root / COUNTER).write_text(f"{imports}\nfrom workers import DurableObject\n\n\n"
                                "class Counter(DurableObject):\n"
                                "    def __init__(self, ctx, env):\n        super().__init__(ctx, env)\n"
                                "        self.count = 0\n\n"
                                f"    async def increment(self):\n{code}\n"
                                "        self.count += 1\n        return self.count\n")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def pids_in(path: Path) -> list[int]:
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_a_forked_child_does_not_outlive_the_check(project, capsys, tmp_path):
    pidfile = tmp_path / "pids"
    hostile(project, f"""
pid = os.fork()
if pid == 0:
    time.sleep(600)
    os._exit(0)
open({str(pidfile)!r}, "a").write(f"{{pid}} ")
""")
    code, out = dojo(capsys, "check", "01")
    assert pids_in(pidfile), out
    assert [p for p in pids_in(pidfile) if alive(p)] == []
    assert "still running after the tests; the runner stopped them" in out


def test_a_daemon_that_left_the_session_is_gone_after_a_timeout(project, capsys, tmp_path):
    """A double fork and setsid(): out of the process group, re-parented away from pytest, and
    the check ends by its timeout. The sandbox (a subreaper) still gets it."""
    pidfile = tmp_path / "pids"
    daemon = (f"import os, time\nif os.fork() == 0:\n    os.setsid()\n"
              f"    open({str(pidfile)!r}, 'a').write(f'{{os.getpid()}} ')\n    time.sleep(600)\n")
    hostile(project, f"""
subprocess.Popen([sys.executable, "-c", {daemon!r}]).wait()
while not os.path.exists({str(pidfile)!r}):
    time.sleep(0.01)
time.sleep(3600)
""")
    code, out = dojo(capsys, "check", "01")
    assert code == 1 and "⧗ 01-counter" in out
    assert pids_in(pidfile) and [p for p in pids_in(pidfile) if alive(p)] == []


def test_learner_code_that_deletes_project_files_breaks_neither_the_check_nor_the_runner(project, capsys):
    commit_all(project)
    originals = {rel: (project / rel).read_bytes()
                 for rel in ("katas/katas.toml", SLEEPER, "tests/katas/test_counter.py", "tests/katas/test_sleeper.py")}
    doomed = [str(project / rel) for rel in originals]
    hostile(project, f"""
for path in {doomed!r}:
    if os.path.exists(path):
        os.remove(path)
""")
    code, out = dojo(capsys, "check", "01")
    assert code == 1 and "1 of 2 tests failing" in out, "the check ran the kata's own tests, from a private copy"
    assert not (project / "katas/katas.toml").exists()
    code, out = dojo(capsys, "list")
    assert code == 0 and "01-counter" in out and "02-sleeper" in out, out
    code, out = dojo(capsys, "reset", "02", "--yes")
    assert code == 0, out
    code, out = dojo(capsys, "reset", "01", "--yes")
    assert code == 0, out
    assert {rel: (project / rel).read_bytes() for rel in originals} == originals


FORGED = [{"event": "session", "rootpath": "."},
          {"event": "collected", "nodeids": ["tests/katas/test_counter.py::test_first_increment_returns_one",
                                             "tests/katas/test_counter.py::test_count_survives_eviction"]},
          *[e for name in ("test_first_increment_returns_one", "test_count_survives_eviction")
            for e in ({"event": "start", "nodeid": f"tests/katas/test_counter.py::{name}"},
                      {"event": "report", "nodeid": f"tests/katas/test_counter.py::{name}", "when": "call",
                       "outcome": "passed", "message": "", "duration": 0.0},
                      {"event": "finish", "nodeid": f"tests/katas/test_counter.py::{name}"})],
          {"event": "end"}]


def test_fake_report_lines_and_an_exit_do_not_pass_a_broken_kata(project, capsys):
    """The shipped broken counter, plus report lines written wherever they could go (the file
    the environment names, every open descriptor; plain and with a made-up signature), then a
    quiet exit."""
    lines = [json.dumps(e) for e in FORGED]
    fake = "".join(f"{line}\n{'0' * 64} {line}\n" for line in lines).encode()
    hostile(project, f"""
fake = {fake!r}
report = os.environ.get("DOJO_REPORT")
if report:
    open(report, "ab").write(fake)
for fd in range(3, 1024):
    try:
        os.write(fd, fake)
    except OSError:
        pass
os._exit(0)
""")
    code, out = dojo(capsys, "check", "01")
    assert code == 1
    assert "all 2 tests pass" not in out and "✓ 01-counter" not in out


def test_os_exit_is_reported_as_an_exit_not_a_timeout(project, capsys):
    hostile(project, "time.sleep(0.7)\nos._exit(0)")
    code, out = dojo(capsys, "check", "01")
    assert code == 1 and "✗ 01-counter" in out
    assert "exited while running test_first_increment_returns_one, with exit code 0" in out
    assert "os._exit()" in out
    assert "timeout" not in out
    assert state(project)["01-counter"]["last"] == "crashed"


def test_sys_exit_is_reported_as_sys_exit(project, capsys):
    hostile(project, "sys.exit(3)")
    code, out = dojo(capsys, "check", "01")
    assert code == 1
    assert "Your code called sys.exit(3)" in out
    assert "timeout" not in out


def test_a_killed_test_process_is_reported_as_killed(project, capsys):
    hostile(project, "os.kill(os.getpid(), signal.SIGKILL)")
    code, out = dojo(capsys, "check", "01")
    assert code == 1
    assert "killed by signal SIGKILL (9) while running test_first_increment_returns_one" in out
    assert "timeout" not in out


def test_memory_is_capped_with_a_clear_message(project, capsys):
    hostile(project, "hoard = bytearray(4 * 1024 ** 3)")
    code, out = dojo(capsys, "check", "01")
    assert code == 1
    assert f"Your code used more than {_run.MEMORY_LIMIT_MB} MB of memory" in out
    assert "infinite loop" not in out and "timeout" not in out


def test_run_kata_tests_runs_a_kata_against_given_files(project):
    """The function the wrong-fix and right-fix corpora use: a kata's tests against a source."""
    manifest = _manifest.load_manifest(project)
    solution = (project / "solutions/01-counter/counter.py").read_text()
    right = _run.run_kata_tests("01", {"counter.py": solution}, manifest=manifest)
    assert right.passed and [t.outcome for t in right.tests] == ["passed", "passed"]
    wrong = _run.run_kata_tests("01-counter", {"katas/01-counter/counter.py": solution.replace("put", "get")},
                                manifest=manifest)
    assert not wrong.passed and wrong.status == "failed"
    assert (project / COUNTER).read_text() != solution, "the learner's file is not touched"
    with pytest.raises(ValueError, match="not a file of kata 01-counter"):
        _run.run_kata_tests("01", {"../02-sleeper/sleeper.py": ""}, manifest=manifest)


def test_a_test_stopped_by_the_emulators_guard_is_a_hang_verdict(project):
    """Under a busy machine the emulator's own wall-clock guard (HangTimeout) may stop a busy
    loop before the runner's timeout, counted in the test's own time, does: the same verdict."""
    manifest = _manifest.load_manifest(project)
    kata = manifest.find("02")
    run = _run.RunResult(finished=True, returncode=1)
    run.tests = {"t::test_nap_returns": _run.TestResult(
        "t::test_nap_returns", project / "t", "test_nap_returns", "failed",
        "HangTimeout: SLEEPER.nap() did not finish within 10 s of real time.",
        f"{SLEEPER}:8 in nap: while True:")}
    verdict = _run.verdict_from_run(manifest, kata, run, project / "katas")
    assert verdict.status == "hung"
    assert f"Stuck in test_nap_returns, at {SLEEPER}:8 in nap:\n    while True:" in verdict.message


def test_solution_in_a_pipe_wraps_and_cuts_nothing(project):
    """Piped into another command or a file, `dojo solution` wraps its code and its
    explanation (lists too) at one width, as in a terminal, instead of cutting them at 80."""
    long_comment = "# " + " ".join(f"word{i}" for i in range(40))
    long_item = "- " + " ".join(f"item{i}" for i in range(40))
    sol = project / "solutions/01-counter/counter.py"
    sol.write_text(long_comment + "\n" + sol.read_text())
    edit_manifest(project, "The instance is dropped on eviction; the storage is not. Keep the count in storage.\n",
                  f"The instance is dropped on eviction; the storage is not.\n\n{long_item}\n- short\n")
    solve(project)
    result = run_cli(project, "solution", "01", env={"COLUMNS": "72"})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 72
    words = " ".join(result.stdout.split())
    assert " ".join(long_comment.split()) in words
    assert " ".join(long_item[2:].split()) in words
