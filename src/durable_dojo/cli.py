"""The `dojo` command.

```sh
dojo serve [--host 127.0.0.1] [--port 8787] [--persist-to DIR] [--config FILE]
```

Each subcommand is two functions: `add_<name>_arguments(parser)` declares its options and
`cmd_<name>(args)` runs it and returns the exit status. `COMMANDS` lists them; a new subcommand
is one more entry there.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
import traceback

# ----- dojo serve -----


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)")
    parser.add_argument("--persist-to", metavar="DIR", default=None,
                        help="keep every object's storage in DIR (default: in memory, gone at exit)")
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="wrangler.toml / wrangler.jsonc to use (default: the one in the current folder)")
    parser.add_argument("--max-body-mb", type=float, default=100.0, metavar="MB",
                        help="largest request body accepted, in MB (default 100, as on the platform); larger: 413")
    parser.add_argument("--header-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="how long a client may take to send its request headers (default 10); then 408")
    parser.add_argument("--idle-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="how long a request body may pause (default 30); then 408")
    parser.add_argument("--log-level", default="info",
                        choices=["critical", "error", "warning", "info", "debug", "trace"],
                        help="server log level (default info: one line per request)")


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the Worker and its Durable Objects with real HTTP and WebSockets, like `wrangler dev`."""
    from ._serve.server import serve
    from ._core.project import module_entrypoint
    from ._core.wrangler import ConfigError, find_config, load_worker, read_config

    try:
        path = os.path.abspath(args.config) if args.config else find_config(os.getcwd())
        config = read_config(path)
    except ConfigError as error:
        print(f"dojo serve: {error}", file=sys.stderr)
        return 2
    try:
        worker = load_worker(config, fallback=module_entrypoint)
    except ConfigError as error:
        print(f"dojo serve: {error}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - the user's module failed to import: show where
        print(f"dojo serve: importing {os.path.relpath(config.main)} failed:", file=sys.stderr)
        traceback.print_exc()
        return 1

    _print_banner(config, args)
    try:
        return serve(worker, host=args.host, port=args.port, persist_to=args.persist_to, log_level=args.log_level,
                     max_body_bytes=int(args.max_body_mb * 1024 * 1024), header_timeout=args.header_timeout,
                     idle_timeout=args.idle_timeout)
    except OSError as error:
        print(f"dojo serve: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1


def _print_banner(config, args) -> None:
    lines = [f"[dojo] {config.name}: {os.path.relpath(config.path)} (main {os.path.relpath(config.main)})"]
    if config.durable_objects or config.kv_namespaces or config.vars:
        lines.append("[dojo] Your Worker has access to the following bindings:")
        for b in config.durable_objects:
            lines.append(f"[dojo]   Durable Object  env.{b.name}: {b.class_name} ({b.storage})")
        for name in config.kv_namespaces:
            lines.append(f"[dojo]   KV Namespace    env.{name}")
        for name in config.vars:
            lines.append(f"[dojo]   Variable        env.{name}")
    for note in config.notes:
        lines.append(f"[dojo] note: {note}")
    lines.append("[dojo] Storage: " + (f"persisted to {args.persist_to}" if args.persist_to else "in memory"))
    lines.append("[dojo] Clock: real time (alarms, hibernation after 10 s idle, eviction after 70-140 s)")
    lines.append("[dojo] Dev endpoints (loopback clients only): POST /__dojo/hibernate, GET /__dojo/trace")
    if not _loopback(args.host):
        lines.append(f"[dojo] WARNING: listening on {args.host}: other machines can reach this server.")
    print("\n".join(lines), flush=True)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ----- the command line -----

# (name, one-line help, add_arguments, run)
COMMANDS = [
    ("serve", "run the Worker and its Durable Objects on http://127.0.0.1:8787 (like wrangler dev)",
     add_serve_arguments, cmd_serve),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dojo", description="Durable Dojo: learn Cloudflare Durable Objects in Python.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text, add_arguments, run in COMMANDS:
        command = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(command)
        command.set_defaults(run=run)
    from ._kata.cli import add_kata_commands
    from ._review.cli import add_review_command

    add_kata_commands(sub)  # watch, list, check, hint, reset, solution, next
    add_review_command(sub)  # review
    return parser


# What each extra brings (pyproject.toml), and which commands need which. `dojo review` needs none.
EXTRAS = {"serve": ("uvicorn", "websockets"), "katas": ("rich", "pytest", "pytest_asyncio")}
NEEDS = {"serve": "serve", "review": None}  # every other command is the kata runner's


def missing_extra(command: str | None) -> str | None:
    """The message for a command whose extra is not installed, or None if it can run."""
    import importlib.util

    extra = NEEDS.get(command, "katas")
    if extra is None:
        return None
    missing = [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    what = f"dojo {command}" if command else "dojo"
    return (f"{what} needs durable-dojo's '{extra}' extra ({', '.join(missing)} missing). Install it with:\n"
            f"    pip install 'durable-dojo[{extra}]'    (or: uv add 'durable-dojo[{extra}]')")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = missing_extra(args.command)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    run = getattr(args, "run", None) or getattr(args, "func", None)
    if run is None:  # plain `dojo`: progress, and watch the current kata
        from ._kata.cli import run_default

        return int(run_default(args) or 0)
    return int(run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
