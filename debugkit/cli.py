"""The ``debugkit`` command line: argument parsing only; every command calls the library.

User mistakes (a missing run, a bad option value) end with a one-line message and exit
status 2, never with a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from debugkit.store.reader import RunNotFoundError

#: Exceptions that mean "the user asked for something that cannot be done" (not a bug).
USER_ERRORS = (RunNotFoundError, FileNotFoundError, NotADirectoryError, ValueError, KeyError)

COMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {}


def command(name: str):
    """Register a function that adds the sub-parser for ``name``."""

    def deco(fn):
        COMMANDS[name] = fn
        return fn

    return deco


# ---------------------------------------------------------------------------- runs / plot
@command("plot")
def _plot(sub):
    p = sub.add_parser("plot", help="draw the cockpit dashboard of one or more runs",
                       description="Draw a Cockpit-style dashboard from recorded run directories "
                                   "(several runs are overlaid for comparison).")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories to plot")
    p.add_argument("-o", "--output", default="cockpit.png", help="image file to write (.png, .svg, .pdf)")
    p.add_argument("--figure", default="cockpit",
                   help="figure to draw: cockpit (default) or one of the single-quantity figures "
                        "(loss, alpha, grad_norm, curvature, gradient_tests, activations, learning_curves, ...)")
    p.add_argument("--title", help="figure title")

    def run(args):
        from debugkit.plot import plot_cockpit, render_figure
        from debugkit.store import load_run

        runs = [load_run(r) for r in args.runs]
        if args.figure == "cockpit":
            plot_cockpit(runs, args.output, title=args.title)
        else:
            render_figure(args.figure, runs, args.output)
        print(f"wrote {args.output}")

    p.set_defaults(func=run)


@command("runs")
def _runs(sub):
    p = sub.add_parser("runs", help="list and inspect recorded runs", description="List and inspect recorded runs.")
    rs = p.add_subparsers(dest="runs_cmd", metavar="{ls,show}", required=True)
    ls = rs.add_parser("ls", help="list run directories below a folder",
                       description="List run directories below ROOT (default: ./runs).")
    ls.add_argument("root", nargs="?", default="runs")

    def do_ls(args):
        from debugkit.store import list_runs
        from debugkit.store.summary import runs_table

        runs = list_runs(args.root)
        if not runs:
            print(f"no runs below {args.root}")
            return
        print(runs_table(runs))

    ls.set_defaults(func=do_ls)
    show = rs.add_parser("show", help="summarise one run", description="Summarise one run: metadata, final values.")
    show.add_argument("run", metavar="RUN_DIR")
    show.add_argument("--json", action="store_true", help="print the summary as JSON")

    def do_show(args):
        from debugkit.store import load_run
        from debugkit.store.summary import run_summary, format_summary

        summary = run_summary(load_run(args.run))
        print(json.dumps(summary, indent=2, default=str) if args.json else format_summary(summary))

    show.set_defaults(func=do_show)


# ---------------------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    from debugkit import __version__

    parser = argparse.ArgumentParser(
        prog="debugkit",
        description="See inside PyTorch training runs, find out what is wrong, and write it up.",
    )
    parser.add_argument("--version", action="version", version=f"debugkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS.values():
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except KeyboardInterrupt:
        print("debugkit: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"debugkit {args.command}: error: {msg}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
