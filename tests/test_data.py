import hashlib
import http.server
import threading
import time
from http.client import HTTPException
from pathlib import Path

import pytest

from course import data

GOOD = b"To be, or not to be, that is the question.\n" * 200
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        if self.path == "/good.txt":
            body = GOOD
        elif self.path == "/corrupt.txt":
            body = GOOD[:-1] + b"?"
        elif self.path == "/interrupted.txt":
            # Promise the whole file, send a third, then drop the connection.
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            self.wfile.write(GOOD[: len(GOOD) // 3])
            self.wfile.flush()
            self.close_connection = True
            return
        elif self.path == "/huge.txt":  # far more than the registry's file, no length announced
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(500):  # 32 MB if nobody stops reading
                    self.wfile.write(b"x" * 65536)
            # the client stopped reading at its size cap: what the test wants
            except ConnectionError:
                pass
            return
        elif self.path == "/drip.txt":  # one byte at a time: never idle long enough for the timeout
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            try:
                for byte in GOOD[:200]:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.02)
            except ConnectionError:  # the client gave up at its deadline
                pass
            return
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.setattr(data, "_network_failed", None)
    return tmp_path


def test_fetch_good_file_lands_atomically(server, tmp_path):
    dest = tmp_path / "d" / "good.txt"
    data.fetch(f"{server}/good.txt", dest, sha256=GOOD_SHA, size=len(GOOD), progress=False)
    assert dest.read_bytes() == GOOD
    assert list(dest.parent.iterdir()) == [dest]  # no temporary file left behind


def test_corrupt_file_is_refused_and_leaves_nothing(server, tmp_path):
    dest = tmp_path / "corrupt.txt"
    with pytest.raises(data.ChecksumError, match="sha256"):
        data.fetch(f"{server}/corrupt.txt", dest, sha256=GOOD_SHA, size=len(GOOD), progress=False)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_transfer_leaves_no_file(server, tmp_path):
    dest = tmp_path / "interrupted.txt"
    with pytest.raises((data.ChecksumError, HTTPException, OSError)):
        data.fetch(
            f"{server}/interrupted.txt", dest, sha256=GOOD_SHA, size=len(GOOD), progress=False
        )
    assert list(tmp_path.iterdir()) == []


def test_transform_is_checked_after_cleaning(server, tmp_path):
    cleaned = GOOD.upper()
    dest = tmp_path / "t.txt"
    data.fetch(
        f"{server}/good.txt",
        dest,
        sha256=GOOD_SHA,
        transform=bytes.upper,
        final_sha256=hashlib.sha256(cleaned).hexdigest(),
        progress=False,
    )
    assert dest.read_bytes() == cleaned
    with pytest.raises(data.ChecksumError, match="cleaned"):
        data.fetch(
            f"{server}/good.txt",
            tmp_path / "u.txt",
            sha256=GOOD_SHA,
            transform=bytes.lower,
            final_sha256="0" * 64,
            progress=False,
        )
    assert not (tmp_path / "u.txt").exists()


def _register(monkeypatch, url, **extra):
    entry = data.Dataset(
        name="toy",
        filename="toy.txt",
        url=url,
        sha256=GOOD_SHA,
        size=len(GOOD),
        licence="test",
        description="toy",
        **extra,
    )
    monkeypatch.setitem(data.REGISTRY, "toy", entry)
    return entry


def test_load_downloads_once_then_uses_the_cache(server, clean_env, monkeypatch):
    _register(monkeypatch, f"{server}/good.txt")
    assert data.load("toy") == GOOD.decode()
    cached = data.cache_dir() / "toy.txt"
    assert cached.is_file()
    _register(monkeypatch, f"{server}/missing.txt")  # a second load must not touch the network
    assert data.load("toy") == GOOD.decode()


def test_data_dir_comes_first_and_corrupt_copies_are_ignored(
    server, clean_env, monkeypatch, capsys
):
    _register(monkeypatch, f"{server}/good.txt")
    share = clean_env / "share"
    share.mkdir()
    (share / "toy.txt").write_bytes(GOOD)
    monkeypatch.setenv("COURSE_DATA_DIR", str(share))
    assert data.locate("toy") == share / "toy.txt"
    (share / "toy.txt").write_bytes(b"damaged")
    assert data.locate("toy") is None
    assert "sha256" in capsys.readouterr().out


def test_no_source_gives_an_error_naming_the_url_and_folder(clean_env, monkeypatch):
    entry = _register(monkeypatch, "http://127.0.0.1:9/nothing-listens-here.txt")
    with pytest.raises(data.DataUnavailable) as info:
        data.load("toy")
    message = str(info.value)
    assert (
        entry.url in message
        and str(data.cache_dir() / "toy.txt") in message
        and "COURSE_DATA_DIR" in message
    )


def test_fallback_is_used_with_a_notice(clean_env, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    _register(
        monkeypatch,
        "http://127.0.0.1:9/x.txt",
        fallback=lambda: "fallback text",
        fallback_notice="a stand-in",
    )
    assert data.load("toy") == "fallback text"
    out = capsys.readouterr().out
    assert "a stand-in" in out and "COURSE_OFFLINE" in out


def test_shipped_fallbacks_work_offline(clean_env, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    names = data.load("names").split()
    assert (
        len(names) > 4000
        and all(n.islower() for n in names[:100])
        and len(set(names)) == len(names)
    )
    assert len(data.load("tinyshakespeare")) > 100_000
    with pytest.raises(data.DataUnavailable):
        data.load("eng-deu")


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(KeyError, match="tinyshakespeare"):
        data.dataset("shakespeare")


def test_tatoeba_clean_up_matches_the_documented_changes():
    raw = b"1\t2\r\nGo.\tGeh.\r\nHi.\tHallo!\r\n"
    assert data._strip_tatoeba_header(raw) == b"Go.\tGeh.\nHi.\tHallo!\n"


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(
    not SHARED.is_dir(), reason="no shared copy of the datasets beside the repository"
)
@pytest.mark.parametrize("name", sorted(data.REGISTRY))
def test_registry_checksums_match_the_shared_copies(name):
    entry = data.REGISTRY[name]
    path = SHARED / entry.filename
    assert path.stat().st_size == entry.size
    assert data.sha256_of(path) == entry.sha256


# ----------------------------------------------------------------------------- issue 15
def test_a_server_sending_far_more_than_the_registry_size_is_cut_off(server, tmp_path):
    dest = tmp_path / "huge.txt"
    with pytest.raises(data.ChecksumError, match="more than .* bytes.*course download.*COURSE_"):
        data.fetch(f"{server}/huge.txt", dest, sha256=GOOD_SHA, size=1200, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_a_one_byte_drip_hits_the_overall_deadline(server, tmp_path):
    began = time.monotonic()
    with pytest.raises(TimeoutError, match="too slow to finish.*course download.*COURSE_DATA_DIR"):
        data.fetch(
            f"{server}/drip.txt",
            tmp_path / "drip.txt",
            sha256=GOOD_SHA,
            size=len(GOOD),
            progress=False,
            timeout=5,
            deadline=0.3,
        )
    assert time.monotonic() - began < 4  # the per-read timeout alone would never have fired
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_copy_is_skipped_with_a_fix(clean_env, monkeypatch, capsys):
    share = clean_env / "share"
    share.mkdir()
    (share / "names.txt").write_bytes(b"a" * data.dataset("names").size)
    monkeypatch.setenv("COURSE_DATA_DIR", str(share))

    def unreadable(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(data, "sha256_of", unreadable)  # as chmod 000 would (tests may run as root)
    assert data.locate("names") is None  # used to be a PermissionError traceback
    out = capsys.readouterr().out
    assert "cannot be read (Permission denied)" in out and "chmod a+r" in out


def test_a_download_into_a_file_or_below_one_is_refused_clearly(server, tmp_path):
    (tmp_path / "file").write_text("keep me")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        data.fetch(
            f"{server}/good.txt",
            tmp_path / "file" / "good.txt",
            sha256=GOOD_SHA,
            size=len(GOOD),
            progress=False,
        )
    assert (tmp_path / "file").read_text() == "keep me"
