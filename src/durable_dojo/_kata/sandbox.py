"""The process that holds a kata run: `python -I -S .../_kata/sandbox.py MEMORY_MB -- COMMAND...`.

Learner code runs in the child pytest, and may fork, start processes that call `setsid()` to
leave its process group, or eat all the memory. This small process stands between the runner
and that child so that nothing outlives a check:

- On Linux it becomes a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`): a descendant whose
  parent dies is re-parented to it instead of to init, whatever session or group it moved to.
  When the child ends (or on SIGTERM from the runner), it kills every descendant, sweeping until
  none is left. Elsewhere it kills the child's process group, which is all it can reach.
- The child runs under a memory cap (`RLIMIT_DATA`, which counts the heap and private
  mappings): past it, allocations fail with `MemoryError`.
- Its exit status is the child's: the child's exit code, or 128 + the signal that killed it.

Standard library only, and quick to start: it runs for every check.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()  # after "pid (comm) "
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_descendants(child: subprocess.Popen | None, subreaper: bool) -> int:
    """Kill the child's group and, as subreaper, every process left below this one. Returns
    how many processes other than the child were found and killed."""
    killed: set[int] = set()
    if child is not None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if not subreaper:
        _reap()
        return 0
    me = os.getpid()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        _reap()
        left = [p for p in _children(me) if child is None or p != child.pid]
        if not left:
            break
        for pid in left:
            killed.add(pid)
            try:
                os.killpg(pid, signal.SIGKILL)  # its group too, when it leads one
            except (ProcessLookupError, PermissionError):
                pass
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)
    _reap()
    return len(killed)


def main(argv: list[str]) -> int:
    memory_mb = int(argv[0])
    command = argv[argv.index("--") + 1:]
    subreaper = sys.platform.startswith("linux") and _prctl(PR_SET_CHILD_SUBREAPER, 1)
    if sys.platform.startswith("linux"):
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)  # the runner died: clean up all the same
    child: subprocess.Popen | None = None

    def stop(signum, frame):
        kill_descendants(child, subreaper)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def limit_memory():
        import resource

        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))

    inherited = [int(fd) for fd in os.environ.get("DOJO_PASS_FDS", "").split(",") if fd]
    child = subprocess.Popen(command, pass_fds=inherited, start_new_session=True,
                             preexec_fn=limit_memory if memory_mb > 0 else None)
    for fd in inherited:  # only the child holds them now: its end closes them
        os.close(fd)
    code = child.wait()
    strays = kill_descendants(child, subreaper)
    if strays:
        print(f"\n[dojo] stopped {strays} process(es) left running by the tests", file=sys.stderr, flush=True)
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
