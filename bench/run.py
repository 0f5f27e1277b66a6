"""Run every benchmark under bench/ in one go and print its figures (see each module's docstring)."""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = ["core.py", "katas.py", "explore.py", "queue.py"]

for name in BENCHMARKS if len(sys.argv) < 2 else sys.argv[1:]:
    print(f"== {name}")
    sys.argv = [str(HERE / name)]
    runpy.run_path(str(HERE / name), run_name="__main__")
