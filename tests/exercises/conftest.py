"""Prints the exercise honesty counts at the end of a run that included them."""


def pytest_terminal_summary(terminalreporter):
    import sys

    module = sys.modules.get("test_exercises_honest") or next(
        (m for name, m in sys.modules.items() if name.endswith("test_exercises_honest")), None)
    line = module.summary() if module is not None else None
    if line:
        terminalreporter.section("workbook exercises")
        terminalreporter.write_line(line)
