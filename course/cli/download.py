"""``python -m course download``: fetch every dataset of the registry now, for an offline classroom.

    python -m course download                    # into the user cache (where course.load looks)
    python -m course download --dir /srv/data    # into a shared folder; then
    COURSE_DATA_DIR=/srv/data python -m course download names --force      # one dataset, fetched
    again

Each file is checked against the registry's size and sha256 before it is moved into place (a broken
transfer never leaves a file behind). A file already present and verified is not fetched again, and
``--dir`` copies a verified copy found locally (``COURSE_DATA_DIR`` or the cache) instead of
downloading."""

from __future__ import annotations

import shutil
import time
import urllib.error
from http.client import HTTPException
from pathlib import Path

from course import atomic, data


def fix_for(error: BaseException, entry: data.Dataset, folder: Path) -> str:
    """The one line that tells the learner what to do about ``error``."""
    by_hand = f"download {entry.url}\n       yourself and save it as {folder / entry.filename}"
    if isinstance(error, (NotADirectoryError, FileExistsError)):
        return (
            f"fix: --dir must name a folder, and {folder} is (or lies below) a file; "
            "choose another path"
        )
    if isinstance(error, PermissionError):
        return (
            f"fix: {folder} is not writable by you; choose a folder you can write to with "
            "--dir, or change its permissions (chmod u+w)"
        )
    if isinstance(error, data.ChecksumError):
        return (
            "fix: the server sent other bytes than the course expects (a proxy or captive "
            "portal, or a changed upstream file); run again later on another network, or "
            f"{by_hand} and check that its sha256 is {entry.sha256}"
        )
    if isinstance(error, (urllib.error.URLError, HTTPException, TimeoutError, ConnectionError)):
        return f"fix: check the internet connection (or proxy) and run again, or {by_hand}"
    if isinstance(error, OSError):  # a full disk, a read-only file system, ...
        reason = getattr(error, "strerror", None) or error
        return f"fix: {reason} while writing to {folder}; free space or choose another --dir"
    return f"fix: {by_hand}"


def _target(args) -> Path:
    return Path(args.dir).expanduser().resolve() if args.dir else data.cache_dir()


def fetch_one(
    entry: data.Dataset, folder: Path, *, force: bool = False, progress: bool = True
) -> tuple[Path, str]:
    """Make sure ``folder`` holds a verified copy of ``entry``; return (path, what happened)."""
    dest = folder / entry.filename
    if not force and data.verified(dest, entry):
        return dest, "already there"
    found = None if force else data.locate(entry.name)  # COURSE_DATA_DIR or the cache
    if found is not None and folder == data.cache_dir():
        return found, "already there"  # course.load finds it: nothing to fetch
    if found is not None:
        # Filling a classroom share from a verified local copy (a USB key, the cache): no network.
        atomic.check_writable_folder(folder)
        with atomic.replacing(dest) as partial:
            shutil.copyfile(found, partial)
            if not data.verified(partial, entry):
                raise data.ChecksumError(
                    f"copying {found} gave a file whose sha256 differs; copy it by hand"
                )
        return dest, "copied"
    data.fetch_entry(entry, dest, progress=progress)  # as course.data.download, to our folder
    return dest, "downloaded"


def command(args) -> int:
    names = args.names or list(data.REGISTRY)
    unknown = [n for n in names if n not in data.REGISTRY]
    if unknown:
        print(f"unknown dataset(s) {unknown}; the course knows {sorted(data.REGISTRY)}")
        return 2
    folder = _target(args)
    if data._offline():
        print(
            "COURSE_OFFLINE is set, so nothing is downloaded: unset it (`unset COURSE_OFFLINE`) "
            "and run again."
        )
        return 1
    print(f"datasets -> {folder}")
    try:
        atomic.check_writable_folder(folder)  # before any download: a wrong --dir is found at once
    except OSError as error:
        print(f"  FAIL {folder}: {error}\n       {fix_for(error, data.REGISTRY[names[0]], folder)}")
        return 1
    failures = 0
    for name in names:
        entry = data.REGISTRY[name]
        began = time.perf_counter()
        try:
            path, what = fetch_one(entry, folder, force=args.force, progress=not args.quiet)
        except (urllib.error.URLError, OSError, HTTPException, data.ChecksumError) as error:
            failures += 1
            reason = getattr(error, "reason", error)
            print(f"  FAIL {name}: {reason}\n       {fix_for(error, entry, folder)}")
            continue
        print(
            f"  ok   {name:<16} {what:<13} {entry.size / 1e6:6.2f} MB  sha256 {entry.sha256[:16]}… "
            " "
            f"{time.perf_counter() - began:4.1f} s  {path}"
        )
        print(f"       {entry.description}; licence: {entry.licence}")
    if failures:
        print(f"{failures} of {len(names)} dataset(s) could not be fetched")
        return 1
    if args.dir:
        print(f"done. Point the course at this folder: export COURSE_DATA_DIR={folder}")
    else:
        print("done. course.load(...) finds these files in the cache without internet.")
    return 0


def register(commands) -> None:
    parser = commands.add_parser(
        "download",
        help="pre-fetch every dataset, checksummed (offline classroom)",
        description=__doc__,
    )
    parser.add_argument(
        "names", nargs="*", help=f"datasets to fetch (default: all of {', '.join(data.REGISTRY)})"
    )
    parser.add_argument(
        "--dir", help="folder to fill (default: the user cache); later set COURSE_DATA_DIR to it"
    )
    parser.add_argument(
        "--force", action="store_true", help="fetch again even when a verified copy is there"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(handler=command)
