"""Serve the built site on 127.0.0.1 as a static host would, cross-origin isolated.

    python site/serve.py [--directory site-build] [--port 8000] [--no-isolation]

Every response carries `Cross-Origin-Opener-Policy: same-origin` and
`Cross-Origin-Embedder-Policy: require-corp`, which make the page cross-origin isolated: it may
then share a SharedArrayBuffer with the Web Worker that runs Python, and a run that overruns its
timeout is interrupted through it (site/assets/dojo/runner.js). Everything the site loads is its
own, so nothing is blocked by these headers. `--no-isolation` serves without them, as a host
that does not send them (the worker then interrupts itself on its own clock). A missing page
gets 404.html with status 404, as on a static host. `make serve-site` runs this; the browser
tests (tests/site/conftest.py) serve the site with the same handler.
"""

from __future__ import annotations

import argparse
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files from `directory`, a missing page answered by its 404.html, and `headers`
    (the isolation headers unless told otherwise) on every response."""

    headers_to_send: dict[str, str] = ISOLATION_HEADERS
    quiet = False

    def end_headers(self):
        for name, value in self.headers_to_send.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if not self.quiet:
            super().log_message(format, *args)

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return None


def handler(directory: Path, *, isolated: bool = True, quiet: bool = False):
    """A handler class serving `directory`, with or without the isolation headers."""
    options = {"headers_to_send": ISOLATION_HEADERS if isolated else {}, "quiet": quiet}
    kind = type("IsolatedSiteHandler" if isolated else "PlainSiteHandler", (SiteHandler,), options)
    return functools.partial(kind, directory=str(directory))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--directory", default="site-build", type=Path)
    parser.add_argument("--port", default=8000, type=int)
    parser.add_argument("--no-isolation", action="store_true",
                        help="without the Cross-Origin-Opener/Embedder-Policy headers")
    options = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", options.port),
                                 handler(options.directory, isolated=not options.no_isolation))
    isolation = "without" if options.no_isolation else "with"
    print(f"serving {options.directory}/ on http://127.0.0.1:{options.port}/ "
          f"({isolation} cross-origin isolation; Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
