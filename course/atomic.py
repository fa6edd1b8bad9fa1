"""Atomic file writes: a file is either its old self or its complete new self, never half of one.

Every writer in the package (tokenizers, checkpoints, downloads, ``course run -o``,
``course clean``) writes through :func:`replacing`: the bytes go to a temporary name in the same
folder, are flushed to disk (fsync), and only then ``os.replace`` moves them over the old name —
one step that a crash, a full disk or an exception half-way through cannot split. On failure the
temporary file is removed and the old file is untouched.

    >>> with replacing("notes.json") as tmp:
    ...     tmp.write_text("{}")
    >>> write_text("notes.json", "{}")  # the same, for the common case
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_name(path: str | Path) -> Path:
    """A fresh hidden name beside ``path`` (same folder: ``os.replace`` renames, never copies)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


def check_writable_folder(folder: str | Path) -> Path:
    """Create ``folder`` (and its parents, with the umask's mode) or say clearly why it cannot be.

    Raises NotADirectoryError when it or a parent is a regular file, PermissionError when it
    cannot be written to.
    """
    folder = Path(folder)
    for part in [folder, *folder.parents]:
        if part.exists() and not part.is_dir():
            raise NotADirectoryError(
                f"{part} is a file, not a folder; choose another path or move that file away"
            )
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(
            f"the folder {folder} is not writable; choose another one or change its permissions"
        )
    return folder


def fsync_folder(folder: str | Path) -> None:
    """Make a rename inside ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows, or a folder we may not open
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` atomically.

    Any exception inside the block removes the temporary file and leaves ``path`` as it was.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give a file name")
    tmp = temporary_name(path)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:  # flush the bytes to disk before the rename publishes them
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (encoding errors leave the old file untouched)."""
    return write_bytes(path, text.encode(encoding))
