"""benchmarks/claims.py: one run per seed offset, the spread of each claimed figure, and --write:
a notebook written with its outputs and run record (hash, machine, claims), sanitised; the table."""

import hashlib
import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

from course import notebooks as policy

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("claims_table", ROOT / "benchmarks" / "claims.py")
claims_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(claims_table)


def test_spread_gives_the_range_of_each_number():
    figures = [
        "0.81 vs 0.50 (1,200 pairs)",
        "0.83 vs 0.50 (1,200 pairs)",
        "0.79 vs 0.50 (1,200 pairs)",
    ]
    assert claims_table.spread(figures) == "0.79..0.83, 0.50, 1,200"
    assert (
        claims_table.spread(["a 1", "b 1 2"]) == "a 1 | b 1 2"
    )  # different shapes: shown as they are


def test_each_seed_offset_reaches_seed_everything(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 99 · Toy"),
        nbformat.v4.new_code_cell(
            "import torch\nfrom course import seed_everything\nfrom course.claims import claim\n"
            "seed_everything(0)\nx = torch.rand(()).item()\n"
            "claim('a uniform draw lies below 0.9', x < 0.9, f'{x:.4f}')"
        ),
    ]
    path = tmp_path / "99_toy.ipynb"
    nbformat.write(nb, path)
    figures = []
    for offset in (0, 1):
        [(name, records, error, _)] = claims_table.run_once([path], True, offset, tmp_path)
        assert (name, error) == ("99_toy", "")
        figures.append(records[0]["figure"])
    assert figures[0] != figures[1]  # a different seed, a different draw


# -------------------------------------------------------------------------- --write: the run record
def _toy_notebook(path, *code):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · Toy")] + [
        nbformat.v4.new_code_cell(c) for c in code
    ]
    nbformat.write(nb, path)
    return path


def test_code_sha256_is_the_documented_formula():
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": "# 99"},
            {"cell_type": "code", "source": ["a = 1\n", "b = 2"]},
            {"cell_type": "code", "source": "print(a)"},
        ]
    }
    assert policy.code_sha256(nb) == hashlib.sha256(b"a = 1\nb = 2\n\nprint(a)").hexdigest()
    nb["cells"][0]["source"] = "# 99 · reworded"
    assert policy.code_sha256(nb) == hashlib.sha256(b"a = 1\nb = 2\n\nprint(a)").hexdigest()


def test_sanitising_replaces_machine_paths_and_widget_views(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    paths = policy.machine_paths()
    text = (
        f"saved to {tmp_path / 'cache' / 'checkpoints'}\nread {tmp_path / 'data'}/x.txt\n"
        f"home {Path.home() / 'notes'}\nscratch /tmp/tmpab12cd/file\n"
    )
    assert policy.sanitise_text(text, paths) == (
        "saved to ~/.cache/llm-course/checkpoints\n"
        "read $COURSE_DATA_DIR/x.txt\nhome ~/notes\nscratch <tmp>/file\n"
    )
    view = {
        "output_type": "display_data",
        "metadata": {},
        "data": {policy.WIDGET_VIEW: {"model_id": "abc"}, "text/plain": "IntSlider(value=3)"},
    }
    assert policy.sanitise_output(view, paths)["data"] == {"text/plain": policy.WIDGET_PLACEHOLDER}
    image = {
        "output_type": "display_data",
        "metadata": {},
        "data": {"image/png": "/tmp/x is not text"},
    }
    assert policy.sanitise_output(image, paths) == image


def test_write_runs_a_notebook_and_records_it(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    source = _toy_notebook(
        tmp_path / "99_toy.ipynb",
        "from course.data import cache_dir\nprint('saved to', cache_dir() / 'toy')",
        "from course.claims import claim\nclaim('two beats one', 2 > 1, '2 vs 1')\n"
        "claim('pigs fly', False, 'no', fast='too few pigs at this budget')",
        "import ipywidgets\nipywidgets.IntSlider(value=3)",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]);",
    )
    crash = _toy_notebook(tmp_path / "98_crash.ipynb", "raise ValueError('broken')")
    before = source.read_text()
    out = tmp_path / "out"
    out.mkdir()
    assert claims_table.write_notebooks([source, crash], out, fast=True) == ["98_crash"]
    assert source.read_text() == before and not (out / "98_crash.ipynb").exists()
    written = json.loads((out / "99_toy.ipynb").read_text())
    run = written["metadata"]["course"]["run"]
    assert set(written["metadata"]) == {"kernelspec", "language_info", "course"}
    assert run["mode"] == "fast" and run["code_sha256"] == policy.code_sha256(json.loads(before))
    assert run["threads"] >= 1 and run["torch"] and run["device"] == "cpu" and run["cpu"]
    assert run["claims"] == [
        {"claim": "two beats one", "figure": "2 vs 1", "holds": True, "tested": True},
        {"claim": "pigs fly", "figure": "no", "holds": False, "tested": False},
    ]
    cells = written["cells"]
    assert "".join(cells[1]["outputs"][0]["text"]) == "saved to ~/.cache/llm-course/toy\n"
    assert cells[3]["outputs"][0]["data"] == {"text/plain": policy.WIDGET_PLACEHOLDER}
    assert any("image/png" in o.get("data", {}) for o in cells[4]["outputs"])
    assert all(set(c["metadata"]) <= policy.ALLOWED_CELL_METADATA for c in cells)  # no timestamps
    assert len(cells) == 5  # the probe cell is gone
    copy = tmp_path / "copy.ipynb"  # the committed form is clean's fixed point
    copy.write_text((out / "99_toy.ipynb").read_text())
    assert not policy.clean(copy)
    table = claims_table.claims_markdown(
        [out / "99_toy.ipynb", source],
        {"99_toy": {"two beats one": {"spread": "2, 1", "held": "3/3"}}},
    )
    assert "| 99_toy | two beats one | 2 vs 1 | yes | yes | 2, 1 (held 3/3) |" in table
    assert (
        "|  | pigs fly | no | no | no | — |  |  |" in table
    )  # not asserted: not shown as a failure
    assert "No full-mode run recorded yet: 99_toy." in table


def test_chains_share_no_dependency_and_keep_order():
    paths = [Path(f"{n}_x.ipynb") for n in ("00", "03", "07", "09", "10", "11", "12", "13")]
    a, b = claims_table.chains(paths, 2)
    assert [p.name[:2] for p in a] == ["07", "09", "10", "11", "13"]
    assert [p.name[:2] for p in b] == ["00", "03", "12"]
    order = claims_table.in_dependency_order([Path("10_x.ipynb"), Path("09_x.ipynb")])
    assert [p.name[:2] for p in order] == ["09", "10"]


def test_seed_spreads_are_saved_for_the_table(tmp_path, monkeypatch):
    monkeypatch.setattr(claims_table, "SEEDS_FILE", tmp_path / "claims-seeds.json")
    record = lambda figure, holds: {"claim": "c", "figure": figure, "holds": holds, "tested": True}
    runs = [
        [("03_x", [record("0.81 vs 0.50", True)], "", 1.0)],
        [("03_x", [record("0.79 vs 0.50", False)], "", 1.0)],
    ]
    claims_table.write_seeds(claims_table.per_claim_spread(runs))
    saved = json.loads((tmp_path / "claims-seeds.json").read_text())
    assert saved == {"03_x": {"c": {"spread": "0.79..0.81, 0.50", "held": "1/2"}}}


def _fake_execute(edit):
    """An execute() that 'runs' a notebook instantly (every code cell prints 'ran'; the probe cell
    prints its line) and calls ``edit()`` meanwhile, as a colleague saving the notebook would."""

    def execute(path, output, **kwargs):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                text = "ran\n"
                if cell.source == policy.PROBE_CELL:
                    text = (
                        policy.PROBE_MARK
                        + json.dumps(
                            {"threads": 1, "torch": "x", "device": "cpu", "cpu_seconds": 0}
                        )
                        + "\n"
                    )
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        nbformat.write(nb, output)
        edit()

    return execute


def test_prose_edited_during_the_run_is_kept_code_edited_writes_nothing(tmp_path, monkeypatch):
    path = _toy_notebook(tmp_path / "99_toy.ipynb", "x = 1")

    def reword():
        nb = json.loads(path.read_text())
        nb["cells"][0]["source"] = "# 99 · Toy, reworded"
        path.write_text(json.dumps(nb))

    monkeypatch.setattr(policy, "execute", _fake_execute(reword))
    record = policy.run_and_record(path)
    written = json.loads(path.read_text())
    assert written["cells"][0]["source"] == "# 99 · Toy, reworded"
    assert written["cells"][1]["outputs"][0]["text"] in ("ran\n", ["ran\n"])
    assert record["code_sha256"] == policy.code_sha256(written) and len(written["cells"]) == 2

    def recode():
        nb = json.loads(path.read_text())
        nb["cells"][1]["source"] = "x = 2"
        path.write_text(json.dumps(nb))

    monkeypatch.setattr(policy, "execute", _fake_execute(recode))
    with pytest.raises(RuntimeError, match="code changed while it ran"):
        policy.run_and_record(path)
    assert (
        json.loads(path.read_text())["cells"][1]["source"] == "x = 2"
    )  # left as the editor saved it


# ------------------------------------------------------------- --seeds --committed: offset 0 reused
def test_committed_run_is_offset_zero_only_while_fresh(tmp_path):
    path = tmp_path / "99_toy.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    record = {"claim": "c", "figure": "0.5", "holds": True, "tested": True}
    nb.metadata["course"] = {
        "run": {
            "mode": "full",
            "code_sha256": policy.code_sha256(json.loads(nbformat.writes(nb))),
            "seconds": 12.0,
            "claims": [record],
        }
    }
    nbformat.write(nb, path)
    assert claims_table.committed_run([path]) == [("99_toy", [record], "", 12.0)]
    nb.cells[0].source = "x = 2"  # the code changed: the committed run no longer describes it
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match="no fresh full-mode run.*make claims NB=99"):
        claims_table.committed_run([path])
