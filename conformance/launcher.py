"""Install and run Cloudflare's workerd (from the npm registry) on 127.0.0.1, for the
conformance suite and the workerd benchmark.

* `ensure_workerd()` installs the pinned `workerd` package into `.oracle-node/` (ignored by git)
  only if that exact version is missing, and returns the platform binary inside
  `@cloudflare/workerd-linux-64`. `$WORKERD_BIN` overrides it.
* `Workerd` starts `workerd serve conformance/config.capnp` with localDisk storage in a fresh
  temp dir (SQLite-backed objects) and `--socket-addr http=127.0.0.1:0 --control-fd N`: workerd
  binds a free loopback port and reports it on the control fd, so no port is guessed. `stop()`
  sends SIGTERM to that one child (by PID) and waits at most 10 s before SIGKILL.
* `Client` is a keep-alive `http.client` connection with JSON helpers.

Standalone: `python conformance/launcher.py --install` installs (if missing) and prints the version.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKERD_VERSION = "1.20261117.1"  # `workerd --version` prints "workerd 2026-11-17"
NODE_DIR = ROOT / ".oracle-node"
PLATFORM_BIN = NODE_DIR / "node_modules" / "@cloudflare" / "workerd-linux-64" / "bin" / "workerd"
HOST = "127.0.0.1"
CONFIG = HERE / "config.capnp"
LOG_PATH = Path(tempfile.gettempdir()) / "conformance-workerd.log"


def _installed_version() -> str | None:
    meta = NODE_DIR / "node_modules" / "workerd" / "package.json"
    try:
        return json.loads(meta.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def ensure_workerd(quiet: bool = False) -> str:
    """The workerd binary to run: $WORKERD_BIN, else the pinned npm package (installed if missing)."""
    override = os.environ.get("WORKERD_BIN")
    if override:
        return override
    if _installed_version() == WORKERD_VERSION and PLATFORM_BIN.exists():
        return str(PLATFORM_BIN)
    if not shutil.which("npm"):
        raise SystemExit("npm is needed to install workerd (Node >= 16); or set WORKERD_BIN=/path/to/workerd")
    NODE_DIR.mkdir(exist_ok=True)
    (NODE_DIR / "package.json").write_text('{"name": "durable-dojo-oracle", "private": true}\n')
    if not quiet:
        print(f"installing workerd@{WORKERD_VERSION} from npm into {NODE_DIR} ...", flush=True)
    # npm skips workerd's postinstall here (it only links the platform binary); we call
    # the binary inside @cloudflare/workerd-linux-64 directly, so that does not matter.
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--save-exact", f"workerd@{WORKERD_VERSION}"],
                   cwd=NODE_DIR, check=True, timeout=600,
                   stdout=subprocess.DEVNULL if quiet else None)
    if not PLATFORM_BIN.exists():
        raise SystemExit(f"npm installed workerd but {PLATFORM_BIN} is missing (not linux-x64?)")
    return str(PLATFORM_BIN)


def workerd_version(binary: str) -> str:
    return subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()


class Workerd:
    """One workerd process serving conformance/worker.js on 127.0.0.1:<free port>."""

    def __init__(self, binary: str | None = None, config: Path = CONFIG, const: str = "config"):
        self.binary = binary or ensure_workerd()
        self.config = config
        self.const = const
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.tmpdir: str | None = None
        self.returncode: int | None = None
        self.startup_s: float | None = None
        self._log = None

    def start(self, timeout: float = 30.0) -> "Workerd":
        self.tmpdir = tempfile.mkdtemp(prefix="conformance-do-")
        rfd, wfd = os.pipe()
        cmd = [self.binary, "serve", str(self.config), self.const,
               "--socket-addr", f"http={HOST}:0", "--control-fd", str(wfd),
               "--directory-path", f"do-storage={self.tmpdir}"]
        self._log = open(LOG_PATH, "ab")
        started = time.monotonic()
        try:
            self.proc = subprocess.Popen(cmd, cwd=str(self.config.parent), pass_fds=(wfd,),
                                         stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        finally:
            os.close(wfd)
        buf = b""
        try:
            while b"\n" not in buf:
                left = started + timeout - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"workerd did not report a listening port within {timeout:.0f} s; see {LOG_PATH}")
                ready, _, _ = select.select([rfd], [], [], left)
                if ready:
                    chunk = os.read(rfd, 4096)
                    if not chunk:
                        raise RuntimeError(f"workerd exited before listening (rc={self.proc.poll()}); see {LOG_PATH}")
                    buf += chunk
            self.port = int(json.loads(buf.split(b"\n")[0])["port"])
            readiness = Client(self.port)
            try:
                readiness.get_text("/noop")
            finally:
                readiness.close()
        except BaseException:  # whatever failed, no workerd is left running
            self.stop()
            raise
        finally:
            os.close(rfd)
        self.startup_s = time.monotonic() - started
        return self

    def stop(self) -> None:
        """SIGTERM our own child (by PID), wait at most 10 s, then SIGKILL; remove the temp dir."""
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
            self.returncode = proc.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def __enter__(self) -> "Workerd":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Client:
    """A keep-alive HTTP/1.1 connection to 127.0.0.1:port (reconnects once if it was dropped)."""

    def __init__(self, port: int, timeout: float = 60.0):
        self.port = port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def request(self, path: str) -> tuple[int, bytes]:
        for attempt in (0, 1):
            try:
                self.conn.request("GET", path)
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get_text(self, path: str) -> str:
        status, body = self.request(path)
        if status != 200:
            raise RuntimeError(f"GET {path} -> HTTP {status}: {body[:500]!r}")
        return body.decode()

    def get_json(self, path: str):
        status, body = self.request(path)
        try:
            data = json.loads(body)
        except ValueError:
            raise RuntimeError(f"GET {path} -> HTTP {status}, not JSON: {body[:500]!r}") from None
        if status != 200:
            return {"http_status": status, "body": data}
        return data

    def close(self) -> None:
        self.conn.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["--install"]:
        binary = ensure_workerd()
        print(f"{workerd_version(binary)} ({binary})")
    else:
        print(__doc__)
