"""``python -m course translate``: build the translated notebooks (notebooks/zh-CN/) from the
English ones and the translation files in i18n/zh-CN/; ``--check`` only reports (CI, commits).

python -m course translate               # build every notebook that has a translation file
python -m course translate 01 13         # only these
python -m course translate --check       # exit 1 if a cell is untranslated, stale or unbuilt
"""

from __future__ import annotations

import argparse

from course import i18n


def translate_command(args: argparse.Namespace) -> int:
    return i18n.run(args.notebooks, check=args.check, lang=args.lang)


def register(commands) -> None:
    parser = commands.add_parser(
        "translate",
        help="build the Chinese notebooks from the English ones and i18n/ (--check: report only)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "notebooks", nargs="*", help="numbers (01) or names; default: all translated"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 when a translation is missing, stale or unbuilt",
    )
    parser.add_argument(
        "--lang",
        default="zh-CN",
        choices=sorted(i18n.LANGUAGES),
        help="the edition (default zh-CN)",
    )
    parser.set_defaults(handler=translate_command)
