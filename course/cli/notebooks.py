"""``python -m course run`` and ``python -m course clean``: notebooks headless, and the commit
policy.

python -m course run 07                 # full lesson, copy with outputs in artifacts/notebooks/
python -m course run 07 --fast -o x.ipynb
python -m course clean notebooks/*.ipynb          # the committed form: noise stripped in place
python -m course clean --check notebooks/*.ipynb  # exit 1 if any notebook is not clean (CI, hooks)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from course import atomic
from course import notebooks as policy

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the checkout that holds course/ and notebooks/


def notebook_folders() -> list[Path]:
    """Where ``run 07`` looks: ./notebooks, then the checkout's notebooks/ (editable install)."""
    folders = [Path.cwd() / "notebooks", PACKAGE_ROOT / "notebooks", Path.cwd()]
    unique = []
    for folder in folders:
        if folder.is_dir() and folder.resolve() not in [u.resolve() for u in unique]:
            unique.append(folder)
    return unique


def resolve_notebook(name: str) -> Path:
    """``'07'``, ``'7'``, ``'07_gpt'``, ``'07_gpt.ipynb'`` or a path -> the notebook's path.

    Raises FileNotFoundError (with the notebooks on offer) when nothing or more than one matches."""
    given = Path(name).expanduser()
    if given.suffix == ".ipynb" and given.is_file():
        return given
    key = given.name.removesuffix(".ipynb")
    if key.isdigit():
        key = f"{int(key):02d}"
    folders = notebook_folders()
    every = sorted({p.resolve() for f in folders for p in f.glob("[0-9][0-9]_*.ipynb")})
    every = [p for p in every if not p.name.endswith(".executed.ipynb")]
    matches = [p for p in every if p.stem == key] or [p for p in every if p.stem.startswith(key)]
    if len(matches) == 1:
        return matches[0]
    offer = (
        ", ".join(p.stem for p in every)
        or f"none found in {', '.join(map(str, folders)) or 'notebooks/'}"
    )
    if not matches:
        raise FileNotFoundError(
            f"no notebook matches {name!r}; give a number like 07 or a path. Notebooks: {offer}"
        )
    raise FileNotFoundError(
        f"{name!r} matches several notebooks ({', '.join(p.stem for p in matches)}); be more "
        "precise"
    )


def _claims(record: Path) -> list[dict]:
    if not record.exists():
        return []
    return [
        json.loads(line) for line in record.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def _unwritable(output: Path) -> str | None:
    """Why ``output`` cannot receive a notebook (None when it can); creates its folder."""
    if output.is_dir():
        return "it is a folder"
    try:
        atomic.check_writable_folder(output.parent)
    except OSError as error:
        return str(error)
    if output.exists() and not os.access(output, os.W_OK):
        return "the file exists and is read-only"
    return None


def run_command(args) -> int:
    try:
        path = resolve_notebook(args.notebook)
    except FileNotFoundError as error:
        print(error)
        return 2
    output = (
        Path(args.output) if args.output else Path.cwd() / "artifacts" / "notebooks" / path.name
    )
    problem = _unwritable(output)
    if problem:  # found now, not after the whole notebook has run
        print(
            f"cannot write the executed copy to {output}: {problem}\n"
            "fix: give -o a file path in a folder you can write to"
        )
        return 2
    mode = "FAST" if args.fast else "full"
    print(f"running {path} in {mode} mode (timeout {args.timeout} s per cell) ...", flush=True)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "claims.jsonl"
        try:
            policy.execute(
                path,
                output,
                fast=args.fast,
                timeout=args.timeout,
                env={"COURSE_CLAIMS_FILE": str(record)},
            )
        # nbclient's CellExecutionError carries the cell and its traceback
        except Exception as error:
            text = str(error).strip()
            print(
                f"FAILED after {time.perf_counter() - began:.0f} s: {type(error).__name__}\n"
                f"{text[-3000:]}\n"
                "fix: open the notebook in JupyterLab and run it cell by cell to see the failing "
                "cell; "
                "`python -m course doctor` checks the set-up"
            )
            return 1
        claims = _claims(record)
    print(f"done in {time.perf_counter() - began:.0f} s; executed copy: {output}")
    for c in claims:
        mark = "holds" if c["holds"] else "FAILS"
        mark = mark if c.get("tested", True) else "not tested at FAST budget"
        print(f"  [claim {mark}] {c['claim']} — {c['figure']}")
    return 0


def clean_command(args) -> int:
    paths = [Path(p) for p in args.notebooks]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"not found: {', '.join(missing)} (give notebook files, e.g. notebooks/*.ipynb)")
        return 2
    dirty, broken = [], []
    for path in paths:
        try:
            if args.check:
                with tempfile.TemporaryDirectory() as tmp:
                    copy = Path(tmp) / path.name
                    shutil.copyfile(path, copy)
                    changed = policy.clean(copy)
            else:
                changed = policy.clean(path)
        except (ValueError, UnicodeDecodeError, OSError) as error:
            broken.append(path)
            print(f"  FAIL {path}: {error}")
            continue
        if changed:
            dirty.append(path)
        print(
            f"  {'would clean' if args.check and changed else 'cleaned' if changed else 'clean'}: "
            f"{path}"
        )
    if args.check and dirty:
        print(
            f"{len(dirty)} notebook(s) have widget state, stray metadata or machine paths: "
            "run `python -m course clean "
            f"{' '.join(map(str, dirty))}`"
        )
        return 1
    return 1 if broken else 0


def register(commands) -> None:
    run = commands.add_parser(
        "run",
        help="execute a notebook headless (full or --fast) and keep a copy with outputs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("notebook", help="a number (07), a name (07_gpt) or a path to a .ipynb file")
    run.add_argument(
        "--fast", action="store_true", help="FAST mode (CI sizes, about a minute on a CPU)"
    )
    run.add_argument(
        "-o",
        "--output",
        help="where to write the executed copy (default: artifacts/notebooks/NAME.ipynb)",
    )
    run.add_argument(
        "--timeout", type=int, default=1800, help="seconds allowed per cell (default 1800)"
    )
    run.set_defaults(handler=run_command)

    clean = commands.add_parser(
        "clean",
        help="strip widget state, stray metadata and machine paths (the commit policy)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    clean.add_argument("notebooks", nargs="+", help="notebook files")
    clean.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if any notebook needs cleaning"
    )
    clean.set_defaults(handler=clean_command)
