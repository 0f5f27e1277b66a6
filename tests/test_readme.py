"""The README's 20-line example must run as written."""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def test_readme_example_is_a_passing_test(tmp_path):
    text = README.read_text()
    section = text.split("## A Durable Object and a test, in 20 lines", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) <= 23
    (tmp_path / "test_counter.py").write_text(code)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert "1 passed" in out.stdout, out.stdout + out.stderr
    assert "Warning" not in out.stdout + out.stderr, "the example runs quietly outside the repository"


def test_a_projects_own_asyncio_loop_scope_wins(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = module\n")
    (tmp_path / "test_scope.py").write_text(
        "def test_scope(request):\n"
        "    assert request.config.getini('asyncio_default_fixture_loop_scope') == 'module'\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert "1 passed" in out.stdout, out.stdout + out.stderr
