"""`dojo review PATH... [--explain CODE] [--format text|json] [--run MODULE:scenario]`.

`add_review_command(subparsers)` adds the `review` subcommand to the `dojo` parser; the parsed
arguments carry `func`, which runs the review and returns the exit code: 0 when clean, 1 when
there are findings (or advice), 2 on a usage error (a missing file, code that does not parse, an
unknown code for --explain, a scenario that cannot be loaded). `main(argv)` runs it standalone.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import os
import sys

USAGE_ERROR = 2


def add_review_command(subparsers) -> argparse.ArgumentParser:
    """Add `review` to a `dojo` parser's subparsers; returns the new parser."""
    parser = subparsers.add_parser(
        "review",
        help="review Durable Object code against the checklist (static), or advise from a workload",
        description="Review Python Durable Object code against the review checklist (reads the code, runs "
                    "nothing). Prints file:line: CODE message; exit 0 when clean, 1 with findings, 2 on "
                    "usage errors.",
    )
    _arguments(parser)
    parser.set_defaults(func=run_review)
    return parser


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="Python files or folders to review")
    parser.add_argument("--explain", metavar="CODE", help="explain a rule (for example DO301) and exit")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.add_argument("--run", metavar="MODULE:scenario",
                        help="import MODULE, call scenario() (it returns a Runtime after its workload; it may "
                             "be async) and print the advice from its metrics")
    parser.add_argument("--multiplier", type=float, default=1.0,
                        help="scale the observed traffic for --run's cost estimate (default 1)")


def main(argv: list[str] | None = None) -> int:
    """`python -m durable_dojo._review.cli ...`: the review command without the rest of `dojo`."""
    parser = argparse.ArgumentParser(prog="dojo review", description="Review Durable Object code.")
    _arguments(parser)
    return run_review(parser.parse_args(argv))


def _usage(message: str) -> int:
    print(f"dojo review: {message}", file=sys.stderr)
    return USAGE_ERROR


def run_review(args: argparse.Namespace) -> int:
    from . import review as _review
    from .rules import RULES, explain

    if args.explain:
        try:
            text = explain(args.explain)
        except KeyError:
            codes = ", ".join(r.code for r in RULES)
            return _usage(f"unknown rule {args.explain!r}; the rules are {codes}")
        print(text, end="")
        return 0
    if not args.paths and not args.run:
        return _usage("name at least one PATH to review (or --run MODULE:scenario, or --explain CODE)")
    findings: list = []
    files = 0
    if args.paths:
        try:
            paths = _review.python_files(args.paths)
            files = len(paths)
            findings = _review.review_files(paths)
        except (_review.ReviewError, OSError, UnicodeDecodeError) as error:
            return _usage(str(error))
    advice: list = []
    if args.run:
        try:
            rt = load_scenario(args.run)
        except ScenarioError as error:
            return _usage(str(error))
        from .advice import advise

        advice = advise(rt, multiplier=getattr(args, "multiplier", 1.0))
    if args.format == "json":
        print(json.dumps({
            "findings": [f.to_dict() for f in findings],
            "advice": [a.to_dict() for a in advice],
            "summary": {"files": files, "findings": len(findings), "advice": len(advice)},
        }, indent=2))
    else:
        for finding in findings:
            print(finding.format())
        if args.paths:
            if findings:
                codes = sorted({f.code for f in findings})
                print(f"{len(findings)} finding{'s' if len(findings) != 1 else ''} in {files} "
                      f"file{'s' if files != 1 else ''} ({', '.join(codes)}); "
                      f"`dojo review --explain {codes[0]}` says why")
            else:
                print(f"no findings in {files} file{'s' if files != 1 else ''}")
        if args.run:
            from .advice import format_advice

            print(format_advice(advice), end="")
    return 1 if findings or advice else 0


class ScenarioError(Exception):
    pass


def load_scenario(spec: str):
    """Import `MODULE:function`, call it, and return the Runtime it gives (running it if async)."""
    module_name, sep, function_name = spec.partition(":")
    if not sep or not module_name or not function_name:
        raise ScenarioError(f"--run takes MODULE:scenario (for example my_workload:scenario), not {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ScenarioError(f"cannot import {module_name!r}: {error}") from error
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ScenarioError(f"{module_name!r} has no function {function_name!r}")
    result = function()
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    from .._core.runtime import Runtime

    if not isinstance(result, Runtime):
        raise ScenarioError(f"{spec} returned {type(result).__name__}, not the Runtime of its workload")
    return result


async def _await(awaitable):
    return await awaitable


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
