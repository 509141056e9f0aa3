"""The ``minigrad`` command: train, compare, sweep, lr-find, trajectories and graph, on built-in data.

Misuse (an unknown option value, η ≤ 0, an unwritable folder, cuda without
CuPy) prints one line starting with "minigrad: error:" and exits with status 2.
Under ``mpiexec``, ``train`` and ``sweep`` run on all the ranks (``ranks.py``).
"""

import argparse
import sys

from minigrad.cli import compare, graph, lr_find, ranks, sweep, train, trajectories
from minigrad.cli.common import UsageError

COMMANDS = {"train": train, "compare": compare, "sweep": sweep, "lr-find": lr_find, "trajectories": trajectories,
            "graph": graph}


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


class _ShowDefaults(argparse.HelpFormatter):
    """Every option's help ends with its default, unless the help already says it (flags have none)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if "default" in text or default is None or default is False or default == argparse.SUPPRESS \
                or not action.option_strings:
            return text
        shown = ",".join(map(str, default)) if isinstance(default, (list, tuple)) else default
        return f"{text} (default {shown})"


def build_parser():
    parser = _Parser(prog="minigrad", description="Train small models and watch what the learning rate does.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in COMMANDS.items():
        command = sub.add_parser(name, help=module.HELP, description=module.__doc__.strip().splitlines()[0],
                                 formatter_class=_ShowDefaults)
        module.add_arguments(command)
    return parser


def main(argv=None):
    """Entry point of the console script and of ``python -m minigrad``; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        with ranks.joined(args.command, args):           # under mpiexec: one of the job's ranks
            return COMMANDS[args.command].run(args) or 0
    except UsageError as exc:
        return ranks.usage_error(exc)
    except KeyboardInterrupt:
        print("minigrad: interrupted", file=sys.stderr)
        return 130
