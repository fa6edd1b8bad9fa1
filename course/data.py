"""Datasets: a small registry, a checksummed download cache, and honest offline fallbacks.

``load("tinyshakespeare")`` looks for the file, in order:

1. ``$COURSE_DATA_DIR/<file>`` (a classroom share, or CI's copy),
2. the user cache (``$COURSE_CACHE_DIR``, else ``$XDG_CACHE_HOME/llm-course``, else
   ``~/.cache/llm-course``),
3. a download from the canonical URL (progress bar, sha256 check, atomic rename, timeout),
4. an offline fallback built from data that an installed dependency ships, with a printed notice.

Nothing dataset-like is committed to the project. ``python -m course download`` pre-fetches
every dataset for an offline classroom.
"""

from __future__ import annotations

import hashlib
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

from course import atomic

CHUNK = 1 << 16
DEFAULT_TIMEOUT = 20.0  # seconds without a byte before a download is abandoned
DEFAULT_DEADLINE = 300.0  # seconds for a whole file (the largest is ~2 MB): a 1-byte drip stops too
GET_IT_ANOTHER_WAY = (
    "fetch it on another connection with `python -m course download --dir "
    "FOLDER` and point COURSE_DATA_DIR at that folder"
)


class DataUnavailable(RuntimeError):
    """No copy of a dataset could be found, downloaded or substituted."""


class ChecksumError(RuntimeError):
    """A file's bytes are not the ones the registry expects."""


@dataclass(frozen=True)
class Dataset:
    name: str
    filename: str
    url: str
    sha256: str  # of the file as the course uses it
    size: int  # bytes of the file as the course uses it
    licence: str
    description: str
    # When the canonical source needs a small, documented clean-up before use (see eng-deu),
    # the download is checked against these, then transformed, then checked against sha256/size.
    source_sha256: str | None = None
    source_size: int | None = None
    transform: Callable[[bytes], bytes] | None = None
    fallback: Callable[[], str] | None = None
    fallback_notice: str = ""


# ----------------------------------------------------------------------------- fallbacks
def _lee_news_corpus() -> str:
    from gensim.test.utils import datapath

    return Path(datapath("lee_background.cor")).read_text(encoding="utf-8")


def _census_first_names() -> str:
    import names

    folder = Path(names.__file__).parent
    seen: dict[str, None] = {}
    for part in ("dist.female.first", "dist.male.first"):
        for line in (folder / part).read_text(encoding="utf-8").splitlines():
            if line.strip():
                seen.setdefault(line.split()[0].lower(), None)
    return "\n".join(seen) + "\n"


def _strip_tatoeba_header(raw: bytes) -> bytes:
    """The uploader's copy has CRLF endings and an added header line ``1<TAB>2``; undo both."""
    text = raw.replace(b"\r\n", b"\n")
    first, _, rest = text.partition(b"\n")
    return rest if first.strip() == b"1\t2" else text


REGISTRY: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            name="tinyshakespeare",
            filename="tinyshakespeare.txt",
            url="https://raw.githubusercontent.com/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt",
            sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
            size=1115394,
            licence="public domain text",
            description="Tiny Shakespeare: 40,000 lines of Shakespeare's plays (char-rnn)",
            fallback=_lee_news_corpus,
            fallback_notice=(
                "the Lee news corpus that gensim ships (~360 KB of English news, not Shakespeare)"
            ),
        ),
        Dataset(
            name="names",
            filename="names.txt",
            url="https://raw.githubusercontent.com/karpathy/makemore/988aa59e4d8fefa526d06f3b453ad116258398d4/names.txt",
            sha256="0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
            size=228145,
            licence="US Social Security Administration public name data",
            description="32,032 given names, one per line, lower case (makemore)",
            fallback=_census_first_names,
            fallback_notice=(
                "the 1990 US census first names that the `names` package ships (~5,000 names)"
            ),
        ),
        Dataset(
            name="eng-deu",
            filename="eng-deu.tsv",
            url="https://raw.githubusercontent.com/DarrenCarvalho/Language-Translation/e11f3bfa0e9fbd8ed1bca0289d3079143c11c3e4/data/deu.txt",
            sha256="fd7636e4f85ae5414c7f0c2dcb5992a1fcb110404fd7e2526b746553273d0510",
            size=2138358,
            licence="CC-BY 2.0 FR, sentences and translations from the Tatoeba Project (https://tatoeba.org)",
            description=(
                "50,001 short English-German sentence pairs, English<TAB>German "
                "(Tatoeba via manythings.org)"
            ),
            source_sha256="ad109252de3e35f8ec8030669ccddf6ee2f5cc1656c1928468e175233c01eb1d",
            source_size=2188364,
            transform=_strip_tatoeba_header,
        ),
    ]
}


# ----------------------------------------------------------------------------- locations
def cache_dir() -> Path:
    """The per-user download cache (created on demand)."""
    if os.environ.get("COURSE_CACHE_DIR"):
        return Path(os.environ["COURSE_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "llm-course"


def _data_dir() -> Path | None:
    value = os.environ.get("COURSE_DATA_DIR", "").strip()
    return Path(value).expanduser() if value else None


def dataset(name: str) -> Dataset:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; the course knows {sorted(REGISTRY)}") from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_entry(entry: Dataset, dest: Path, progress: bool = True) -> Path:
    """Download a registry entry to ``dest``, through its transform when it has one, checking the
    source's size and sha256 and then the final file's (see :func:`fetch`)."""
    transformed = entry.transform is not None
    return fetch(
        entry.url,
        dest,
        sha256=entry.source_sha256 if transformed else entry.sha256,
        size=entry.source_size if transformed else entry.size,
        transform=entry.transform,
        final_sha256=entry.sha256 if transformed else None,
        progress=progress,
    )


def verified(path: Path, entry: Dataset) -> bool:
    """True when ``path`` is the registry's file: the right size and sha256."""
    return path.is_file() and path.stat().st_size == entry.size and sha256_of(path) == entry.sha256


def locate(name: str) -> Path | None:
    """The verified local copy of a dataset (data dir, then cache), or None. Never downloads."""
    entry = dataset(name)
    for folder in (_data_dir(), cache_dir()):
        if folder is None:
            continue
        candidate = folder / entry.filename
        if candidate.exists():
            try:
                if verified(candidate, entry):
                    return candidate
            except OSError as error:  # e.g. PermissionError: a share copied without read rights
                reason = error.strerror or error
                print(
                    f"[course.data] ignoring {candidate}: it cannot be read ({reason}); "
                    f"fix its permissions (chmod a+r {candidate}) or remove it"
                )
                continue
            print(
                f"[course.data] ignoring {candidate}: its sha256 is not the registry's (corrupt or "
                "a different version)"
            )
    return None


# ----------------------------------------------------------------------------- download
def _size_limit(size: int | None) -> int | None:
    """Bytes accepted before a download is abandoned: the registry's size plus a small margin."""
    return None if size is None else size + max(CHUNK, size // 20)


def _receive(
    url: str, out, *, timeout: float, deadline: float, limit: int | None, progress: bool, label: str
) -> tuple[str, int]:
    """Stream ``url`` into the open file ``out``; return (sha256, bytes). Stops a server that sends
    more than ``limit`` bytes, or that takes longer than ``deadline`` seconds in all."""
    from tqdm.auto import tqdm

    began = time.monotonic()
    digest, received = hashlib.sha256(), 0
    with urllib.request.urlopen(url, timeout=timeout) as response:
        announced = int(response.headers.get("Content-Length") or 0)
        if limit is not None and announced > limit:
            raise ChecksumError(
                f"{url} announces {announced:,} bytes, far more than the expected "
                f"{limit:,} at most (a different file?); {GET_IT_ANOTHER_WAY}"
            )
        read = getattr(response, "read1", response.read)  # what has arrived: a drip can't stall us
        with tqdm(
            total=announced or limit, unit="B", unit_scale=True, desc=label, disable=not progress
        ) as bar:
            for block in iter(lambda: read(CHUNK), b""):
                out.write(block)
                digest.update(block)
                received += len(block)
                bar.update(len(block))
                if limit is not None and received > limit:
                    raise ChecksumError(
                        f"{url} sent more than {limit:,} bytes, more than the "
                        f"expected file (a different file?); {GET_IT_ANOTHER_WAY}"
                    )
                if time.monotonic() - began > deadline:
                    raise TimeoutError(
                        f"{url}: {received:,} bytes in {deadline:.0f} s, too slow "
                        f"to finish; {GET_IT_ANOTHER_WAY}"
                    )
    return digest.hexdigest(), received


def fetch(
    url: str,
    dest: Path,
    *,
    sha256: str,
    size: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    transform: Callable[[bytes], bytes] | None = None,
    final_sha256: str | None = None,
    progress: bool = True,
    deadline: float = DEFAULT_DEADLINE,
) -> Path:
    """Download ``url`` to ``dest`` atomically: bytes go to a temporary file beside ``dest``, are
    checked (size, sha256), optionally transformed and checked again, and only then renamed into
    place (``course.atomic``). Any failure removes the temporary file, so a broken transfer never
    leaves a file behind. ``timeout``: seconds without a byte; ``deadline``: seconds in all; a
    server sending more than ``size`` (plus a small margin) is cut off.
    """
    dest = Path(dest)
    atomic.check_writable_folder(dest.parent)
    with atomic.replacing(dest) as tmp:
        with open(tmp, "wb") as out:
            got_sha, received = _receive(
                url,
                out,
                timeout=timeout,
                deadline=deadline,
                limit=_size_limit(size),
                progress=progress,
                label=dest.name,
            )
        if size is not None and received != size:
            raise ChecksumError(
                f"{url}: received {received} bytes, expected {size} (interrupted or changed "
                "upstream)"
            )
        if got_sha != sha256:
            raise ChecksumError(f"{url}: sha256 {got_sha} does not match the expected {sha256}")
        if transform is not None:
            cleaned = transform(tmp.read_bytes())
            if final_sha256 is not None and hashlib.sha256(cleaned).hexdigest() != final_sha256:
                raise ChecksumError(
                    f"{url}: the cleaned file's sha256 does not match the expected {final_sha256}"
                )
            tmp.write_bytes(cleaned)
    return dest


_network_failed: str | None = (
    None  # after one failure per process, don't make every call wait again
)


def download(name: str, *, force: bool = False, progress: bool = True) -> Path:
    """Put a verified copy of ``name`` in the user cache (no-op when one is there) and return its
    path."""
    global _network_failed
    entry = dataset(name)
    dest = cache_dir() / entry.filename
    if not force and verified(dest, entry):
        return dest
    try:
        path = fetch_entry(entry, dest, progress=progress)
    except (urllib.error.URLError, OSError, TimeoutError, HTTPException) as error:
        _network_failed = str(getattr(error, "reason", error))
        raise
    _network_failed = None
    return path


def _offline() -> bool:
    return os.environ.get("COURSE_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def path(name: str) -> Path:
    """Path to a verified copy of ``name``, downloading it if needed. Raises DataUnavailable."""
    entry = dataset(name)
    found = locate(name)
    if found is not None:
        return found
    reason = "COURSE_OFFLINE is set" if _offline() else _network_failed
    if reason is None:
        try:
            return download(name)
        except (
            urllib.error.URLError,
            OSError,
            TimeoutError,
            HTTPException,
            ChecksumError,
        ) as error:
            reason = f"download failed: {getattr(error, 'reason', error)}"
    raise DataUnavailable(
        f"Could not get dataset {name!r} ({reason}). Download {entry.url} and save it as "
        f"{cache_dir() / entry.filename}, or set COURSE_DATA_DIR to a folder that holds "
        f"{entry.filename} (`python -m course download --dir FOLDER` fills one on a machine with "
        "internet)."
    )


def load(name: str) -> str:
    """The dataset's text. Falls back (with a notice) to data an installed package ships."""
    entry = dataset(name)
    try:
        return path(name).read_text(encoding="utf-8")
    except DataUnavailable as error:
        if entry.fallback is None:
            raise
        print(
            f"[course.data] {error}\n[course.data] Using instead {entry.fallback_notice}. "
            "The lesson runs, but its figures will differ from the ones in the text."
        )
        return entry.fallback()


def is_available(name: str) -> bool:
    """Whether the real dataset (not a fallback) is on disk; never downloads."""
    return locate(name) is not None
