"""The ``course`` command: set-up checks and chores for learners and teachers.

    python -m course doctor              # is this machine ready? each problem comes with its fix
    python -m course download [--dir D]  # pre-fetch every dataset (offline classroom), checksummed
    python -m course run 07 [--fast]     # execute a notebook headless, keep a copy with outputs
    python -m course clean notebooks/*.ipynb [--check]   # strip outputs (the commit policy)
    python -m course translate [--check] [NN ...]        # build notebooks/zh-CN/ from i18n/zh-CN/

Each command lives in its own module; this one only parses the command line.
"""

from __future__ import annotations

import argparse
import sys

from course.cli import doctor, download, notebooks, translate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (doctor, download, notebooks, translate):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 when everything went well)."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(args.handler(args) or 0)
