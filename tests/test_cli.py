"""The ``course`` command: doctor, download, run, clean (no network: downloads use file:// URLs)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course import data
from course.cli import build_parser, doctor, main
from course.cli import notebooks as notebooks_cli


# ----------------------------------------------------------------------------- the command line
def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "doctor" in capsys.readouterr().out


def test_every_command_is_registered():
    text = build_parser().format_help()
    for command in ("doctor", "download", "run", "clean"):
        assert command in text


def test_python_dash_m_course_works():
    done = subprocess.run(
        [sys.executable, "-m", "course", "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "download" in done.stdout


# ----------------------------------------------------------------------------- doctor
@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to download fails the test: doctor must never fetch."""

    def refuse(*args, **kwargs):
        raise AssertionError("doctor tried to use the network")

    monkeypatch.setattr(data, "fetch", refuse)
    monkeypatch.setattr("urllib.request.urlopen", refuse)


def _rows(topic_prefix: str, rows):
    return [r for r in rows if r.topic.startswith(topic_prefix)]


def test_doctor_reports_every_area_and_each_dataset(no_network, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    rows = doctor.run_checks()
    topics = {r.topic for r in rows}
    for expected in (
        "python",
        "torch",
        "numpy",
        "ipywidgets",
        "device",
        "JupyterLab",
        "ipywidgets extension",
    ):
        assert expected in topics, f"{expected} missing from {sorted(topics)}"
    for name in data.REGISTRY:
        (row,) = _rows(f"data: {name}", rows)
        assert row.status == doctor.WARN and "download" in row.fix  # empty cache: says how to fetch
    assert not (tmp_path / "cache").exists()  # looked, created nothing


def test_doctor_verifies_data_dir_copies(no_network, tmp_path, monkeypatch):
    entry = data.REGISTRY["names"]
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / entry.filename).write_text("not the names file\n")
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    (row,) = _rows("data: names", doctor.run_checks())
    assert row.status == doctor.FAIL and "sha256" in row.detail and "download" in row.fix


def test_doctor_flags_a_missing_data_dir(no_network, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nowhere"))
    assert doctor.command(None) == 1
    out = capsys.readouterr().out
    assert "COURSE_DATA_DIR" in out and "is not a folder" in out and "fix:" in out


# ../shared/data beside the checkout
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not (SHARED_DATA / "names.txt").exists(), reason="needs the shared data folder")
def test_doctor_accepts_a_verified_data_dir(no_network, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    (row,) = _rows("data: names", doctor.run_checks())
    assert row.status == doctor.OK and "verified" in row.detail


def test_doctor_catches_missing_and_too_old_packages(monkeypatch):
    monkeypatch.setattr(
        doctor, "_requirements", lambda: ["numpy>=999", "surely-not-installed-pkg>=1"]
    )
    rows = {r.topic: r for r in doctor.check_packages()}
    assert rows["numpy"].status == doctor.FAIL and "does not meet >=999" in rows["numpy"].detail
    missing = rows["surely-not-installed-pkg"]
    assert (
        missing.status == doctor.FAIL and "pip install 'surely-not-installed-pkg>=1'" in missing.fix
    )


def test_doctor_reads_the_installed_requirements():
    names = [doctor._split(r)[0].lower() for r in doctor._requirements()]
    assert "torch" in names and "bertviz" in names
    assert "pytest" not in names  # dev extras are not a learner's problem


def test_doctor_bad_device_override_is_a_failure_with_a_fix(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "tpu")
    (row,) = doctor.check_device()
    assert row.status == doctor.FAIL and "COURSE_DEVICE" in row.fix


def test_doctor_reports_gpu_name_and_memory(monkeypatch):
    """The CUDA branch, with torch.cuda faked (CI has no GPU)."""
    import types

    import torch

    import course.device

    monkeypatch.setattr(course.device, "get_device", lambda verbose=False: torch.device("cuda"))
    monkeypatch.setattr(
        torch.cuda,
        "get_device_properties",
        lambda index: types.SimpleNamespace(name="Fake H100", major=9, minor=0),
    )
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda index: (2 * 2**30, 3 * 2**30))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    rows = {r.topic: r for r in doctor.check_device()}
    assert rows["device"].status == doctor.OK and "Fake H100" in rows["device"].detail
    memory = rows["GPU memory"]
    assert (
        memory.status == doctor.WARN
        and "2.0 GiB free of 3.0 GiB" in memory.detail
        and "COURSE_DEVICE=cpu" in memory.fix
    )


def test_doctor_missing_widget_extension(monkeypatch, tmp_path):
    monkeypatch.setattr(doctor, "_labextension_dirs", lambda: [tmp_path])
    (row,) = [r for r in doctor.check_jupyter() if r.topic == "ipywidgets extension"]
    assert row.status == doctor.FAIL and "ipywidgets" in row.fix


def test_doctor_turns_a_crashing_check_into_a_row(monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor, "CHECKS", (doctor.check_python, broken))
    rows = doctor.run_checks()
    assert rows[-1].status == doctor.FAIL and "boom" in rows[-1].detail


# ----------------------------------------------------------------------------- download
def _fake_dataset(
    tmp_path: Path, name="toy", payload=b"hello course\n" * 100, **changes
) -> data.Dataset:
    source = tmp_path / "upstream" / f"{name}.txt"
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(payload)
    fields = dict(
        name=name,
        filename=f"{name}.txt",
        url=source.as_uri(),
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        licence="test",
        description="a toy dataset",
    )
    fields.update(changes)
    return data.Dataset(**fields)


@pytest.fixture
def toy_registry(tmp_path, monkeypatch):
    entry = _fake_dataset(tmp_path)
    monkeypatch.setattr(data, "REGISTRY", {entry.name: entry})
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return entry


def test_download_into_a_folder_verifies_and_skips_next_time(toy_registry, tmp_path, capsys):
    target = tmp_path / "classroom"
    assert main(["download", "--dir", str(target), "--quiet"]) == 0
    got = target / toy_registry.filename
    assert hashlib.sha256(got.read_bytes()).hexdigest() == toy_registry.sha256
    assert f"COURSE_DATA_DIR={target}" in capsys.readouterr().out
    assert main(["download", "--dir", str(target), "--quiet"]) == 0
    assert "already there" in capsys.readouterr().out


def test_download_defaults_to_the_cache_that_load_reads(toy_registry, tmp_path):
    assert main(["download", "--quiet"]) == 0
    assert data.locate("toy") == tmp_path / "cache" / "toy.txt"


def test_download_checksum_mismatch_fails_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    entry = _fake_dataset(tmp_path, sha256="0" * 64)
    monkeypatch.setattr(data, "REGISTRY", {entry.name: entry})
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    target = tmp_path / "classroom"
    assert main(["download", "--dir", str(target), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "FAIL toy" in out and "sha256" in out and "fix:" in out
    assert not list(target.iterdir())  # no partial or unverified file


def test_download_applies_the_registry_transform(tmp_path, monkeypatch):
    raw = b"1\t2\r\nHi.\tHallo.\r\n"
    cleaned = b"Hi.\tHallo.\n"
    entry = _fake_dataset(
        tmp_path,
        payload=raw,
        sha256=hashlib.sha256(cleaned).hexdigest(),
        size=len(cleaned),
        source_sha256=hashlib.sha256(raw).hexdigest(),
        source_size=len(raw),
        transform=data._strip_tatoeba_header,
    )
    monkeypatch.setattr(data, "REGISTRY", {entry.name: entry})
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    assert main(["download", "--dir", str(tmp_path / "d"), "--quiet"]) == 0
    assert (tmp_path / "d" / "toy.txt").read_bytes() == cleaned


def test_download_refuses_when_offline_and_on_unknown_names(toy_registry, monkeypatch, capsys):
    assert main(["download", "nope"]) == 2
    assert "unknown dataset" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert main(["download"]) == 1
    assert "unset COURSE_OFFLINE" in capsys.readouterr().out


def test_download_real_registry_is_complete():
    for entry in data.REGISTRY.values():
        assert entry.url.startswith("https://") and len(entry.sha256) == 64 and entry.size > 0


# ----------------------------------------------------------------------------- run and clean
def _write_notebook(path: Path, *sources: str, outputs: bool = False) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · Toy")] + [
        nbformat.v4.new_code_cell(s) for s in sources
    ]
    if outputs:
        nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="stale\n")]
        nb.cells[1].execution_count = 7
        nb.metadata["widgets"] = {"state": {}}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def toy_notebooks(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    _write_notebook(folder / "07_gpt.ipynb", "print('seven')")
    _write_notebook(folder / "01_ngrams.ipynb", "print('one')")
    _write_notebook(folder / "10_rlhf.ipynb", "print('ten')")
    monkeypatch.setattr(notebooks_cli, "notebook_folders", lambda: [folder])
    return folder


def test_resolve_notebook_by_number_name_or_path(toy_notebooks):
    resolve = notebooks_cli.resolve_notebook
    assert resolve("07").name == "07_gpt.ipynb"
    assert resolve("7").name == "07_gpt.ipynb"
    assert resolve("07_gpt").name == "07_gpt.ipynb"
    assert resolve("10_rlhf.ipynb").name == "10_rlhf.ipynb"
    assert resolve(str(toy_notebooks / "01_ngrams.ipynb")) == toy_notebooks / "01_ngrams.ipynb"
    with pytest.raises(FileNotFoundError, match="01_ngrams, 07_gpt, 10_rlhf"):
        resolve("42")


def test_run_executes_in_fast_mode_and_reports_claims(tmp_path, capsys):
    nb = _write_notebook(
        tmp_path / "nb" / "99_toy.ipynb",
        "import os\nprint('fast =', os.environ['COURSE_FAST'])",
        "from course.claims import claim\nclaim('two is more than one', 2 > 1, '2 vs 1')\n"
        "claim('pigs fly', False, 'no', fast='too few pigs at this budget')",
    )
    out = tmp_path / "out" / "toy.ipynb"
    assert main(["run", str(nb), "--fast", "-o", str(out), "--timeout", "120"]) == 0
    executed = nbformat.read(out, as_version=4)
    assert executed.cells[1].outputs[0]["text"] == "fast = 1\n"
    printed = capsys.readouterr().out
    assert "  [claim holds] two is more than one — 2 vs 1" in printed
    # not reported as a failure
    assert "  [claim not tested at FAST budget] pigs fly — no" in printed
    # the source notebook is untouched
    assert nbformat.read(nb, as_version=4).cells[1].outputs == []


def test_run_reports_a_failing_cell(tmp_path, capsys):
    nb = _write_notebook(tmp_path / "99_bad.ipynb", "raise ValueError('learner-visible problem')")
    assert main(["run", str(nb), "-o", str(tmp_path / "x.ipynb"), "--timeout", "120"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "learner-visible problem" in out and "fix:" in out


def test_clean_check_then_clean(tmp_path, capsys):
    nb = _write_notebook(tmp_path / "99_dirty.ipynb", "print(1)", outputs=True)
    before = nb.read_text()
    assert main(["clean", "--check", str(nb)]) == 1
    assert nb.read_text() == before  # --check changes nothing
    assert main(["clean", str(nb)]) == 0
    cleaned = json.loads(nb.read_text())
    # outputs are kept (notebooks are committed with their full-mode run); widget state is not
    assert "".join(cleaned["cells"][1]["outputs"][0]["text"]) == "stale\n"
    assert set(cleaned["metadata"]) == {"kernelspec", "language_info"}
    assert main(["clean", "--check", str(nb)]) == 0
    assert main(["clean", str(tmp_path / "missing.ipynb")]) == 2


def test_download_into_a_share_copies_a_verified_local_copy(
    toy_registry, tmp_path, monkeypatch, capsys
):
    assert main(["download", "--quiet"]) == 0  # now in the cache
    monkeypatch.setattr(
        data, "fetch", lambda *a, **k: pytest.fail("downloaded although a local copy exists")
    )
    share = tmp_path / "share"
    assert main(["download", "--dir", str(share), "--quiet"]) == 0
    assert "copied" in capsys.readouterr().out
    assert hashlib.sha256((share / "toy.txt").read_bytes()).hexdigest() == toy_registry.sha256


def test_run_passes_a_relative_data_folder_on_as_an_absolute_path(tmp_path, monkeypatch):
    """The kernel runs in the notebook's folder; a relative COURSE_DATA_DIR must still mean the
    caller's."""
    (tmp_path / "data").mkdir()
    nb = _write_notebook(
        tmp_path / "nb" / "99_env.ipynb", "import os\nprint(os.environ['COURSE_DATA_DIR'])"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSE_DATA_DIR", "data")
    out = tmp_path / "out.ipynb"
    assert main(["run", str(nb), "--fast", "-o", str(out), "--timeout", "120"]) == 0
    printed = nbformat.read(out, as_version=4).cells[1].outputs[0]["text"].strip()
    assert printed == str(tmp_path / "data")


# ------------------------------------------------------------ issue 15: each failure, its own fix
def test_download_dir_that_is_a_file_says_so_before_fetching(
    toy_registry, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(data, "fetch", lambda *a, **k: pytest.fail("fetched into a file"))
    (tmp_path / "afile").write_text("keep")
    for target in (tmp_path / "afile", tmp_path / "afile" / "below"):
        assert main(["download", "--dir", str(target), "--quiet"]) == 1
        out = capsys.readouterr().out
        assert "--dir must name a folder" in out and "internet" not in out
    assert (tmp_path / "afile").read_text() == "keep"


def test_download_into_a_read_only_folder_says_so(toy_registry, tmp_path, monkeypatch, capsys):
    from course import atomic

    target = tmp_path / "readonly"
    target.mkdir()
    with monkeypatch.context() as patch:
        # as chmod a-w would do (tests may run as root, who may write anywhere)
        patch.setattr(atomic.os, "access", lambda path, mode: False)
        assert main(["download", "--dir", str(target), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "not writable" in out and "chmod u+w" in out and "internet" not in out

    def refused(*args, **kwargs):  # the folder looked writable but the write was refused
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(data, "fetch", refused)
    assert main(["download", "--dir", str(target), "--quiet"]) == 1
    assert "choose a folder you can write to" in capsys.readouterr().out


def test_download_checksum_failure_has_its_own_fix(tmp_path, monkeypatch, capsys):
    entry = _fake_dataset(tmp_path, sha256="0" * 64)
    monkeypatch.setattr(data, "REGISTRY", {entry.name: entry})
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    assert main(["download", "--dir", str(tmp_path / "classroom"), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "other bytes than the course expects" in out and f"sha256 is {'0' * 64}" in out
    assert "internet" not in out


def _half_then_full_disk(self, data):  # half the bytes reach the disk, then it is full
    with open(self, "wb") as handle:
        handle.write(data[: len(data) // 2])
    raise OSError(28, "No space left on device")


def test_run_checks_the_output_path_before_running(tmp_path, monkeypatch, capsys):
    from course import atomic

    nb = _write_notebook(tmp_path / "99_toy.ipynb", "print(1)")
    monkeypatch.setattr(notebooks_cli.policy, "execute", lambda *a, **k: pytest.fail("ran, bad -o"))
    (tmp_path / "afile").write_text("keep")
    assert main(["run", str(nb), "-o", str(tmp_path / "afile" / "o.ipynb")]) == 2  # was a traceback
    assert "is a file, not a folder" in capsys.readouterr().out
    assert main(["run", str(nb), "-o", str(tmp_path)]) == 2
    assert "it is a folder" in capsys.readouterr().out
    with monkeypatch.context() as patch:
        # a read-only folder (tests may run as root, who may write anywhere)
        patch.setattr(atomic.os, "access", lambda path, mode: False)
        assert main(["run", str(nb), "-o", str(tmp_path / "ro" / "out.ipynb")]) == 2
    out = capsys.readouterr().out
    assert "not writable" in out and "fix: give -o a file path in a folder you can write to" in out


def test_the_executed_copy_is_written_atomically(tmp_path, monkeypatch):
    import nbclient

    from course import notebooks as policy

    class NoKernel:  # skip the kernel: only the writing is under test
        def __init__(self, nb, **kwargs):
            pass

        def execute(self):
            pass

    monkeypatch.setattr(nbclient, "NotebookClient", NoKernel)
    nb = _write_notebook(tmp_path / "99_toy.ipynb", "print(1)")
    out = tmp_path / "out.ipynb"
    out.write_text("previous run")

    def half_written(nb, path, **kwargs):  # the disk fills up half-way through the notebook
        Path(path).write_text('{"cells": [')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(nbformat, "write", half_written)
    with pytest.raises(OSError, match="No space"):
        policy.execute(nb, out)
    monkeypatch.undo()
    assert out.read_text() == "previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["99_toy.ipynb", "out.ipynb"]


def test_clean_reports_invalid_json_and_writes_atomically(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "99_broken.ipynb"
    broken.write_text('{"cells": [')
    assert main(["clean", str(broken)]) == 1  # was a JSONDecodeError traceback
    assert "is not valid JSON" in capsys.readouterr().out and broken.read_text() == '{"cells": ['
    nb = _write_notebook(tmp_path / "99_dirty.ipynb", "print(1)", outputs=True)
    before = nb.read_text()
    monkeypatch.setattr(type(nb), "write_bytes", _half_then_full_disk)
    assert main(["clean", str(nb)]) == 1
    assert "No space left" in capsys.readouterr().out
    assert nb.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["99_broken.ipynb", "99_dirty.ipynb"]
