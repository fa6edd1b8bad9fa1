"""Each notebook is committed with a fresh full-mode run whose claims held (`make claims`).

`metadata["course"]["run"]` (course.notebooks.run_and_record) records the mode, the hash of the code
that ran (course.notebooks.code_sha256: markdown edits do not change it), the machine and every
claim's figure. A notebook fails here when it has no run, a FAST-mode run, a run of other code
(stale: re-run it with `python benchmarks/claims.py --write NN`, after the notebooks it depends on),
or a claim that failed. Milliseconds: nothing runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course.notebooks import code_sha256

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
RECORD_KEYS = {
    "mode",
    "code_sha256",
    "date",
    "seconds",
    "cpu",
    "threads",
    "torch",
    "device",
    "claims",
}


def problems(nb: dict) -> list[str]:
    """What is wrong with a notebook's committed run ([]: a fresh full-mode run that held)."""
    run = nb.get("metadata", {}).get("course", {}).get("run")
    if not run:
        return ["no full-mode run recorded: run `python benchmarks/claims.py --write NN`"]
    found = []
    missing = RECORD_KEYS - set(run)
    if missing:
        found.append(f"the run record lacks {sorted(missing)}")
    if run.get("mode") != "full":
        found.append(f"the recorded run is in {run.get('mode')!r} mode, not full mode")
    if run.get("code_sha256") != code_sha256(nb):
        found.append("stale: the code changed since the recorded run")
    for c in run.get("claims", []):
        if c.get("tested", True) and not c.get("holds"):
            found.append(f"claim failed in the recorded run: {c.get('claim')} ({c.get('figure')})")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_with_a_fresh_full_mode_run_that_held(path):
    found = problems(json.loads(path.read_text(encoding="utf-8")))
    assert not found, f"{path.name}: " + "; ".join(found)


def test_each_kind_of_problem_is_found():
    code = {
        "cell_type": "code",
        "source": "x = 1",
        "metadata": {},
        "outputs": [],
        "execution_count": 1,
    }
    nb = {
        "cells": [{"cell_type": "markdown", "source": "# 99 · Toy", "metadata": {}}, code],
        "metadata": {},
    }
    assert problems(nb) == [
        "no full-mode run recorded: run `python benchmarks/claims.py --write NN`"
    ]
    run = {
        "mode": "full",
        "code_sha256": code_sha256(nb),
        "date": "2026-12-01",
        "seconds": 1,
        "cpu": "x",
        "threads": 1,
        "torch": "2.13.0",
        "device": "cpu",
        "claims": [{"claim": "c", "figure": "1 vs 2", "holds": True, "tested": True}],
    }
    nb["metadata"]["course"] = {"run": run}
    assert problems(nb) == []
    nb["cells"][0]["source"] = "# 99 · Toy, reworded"  # prose: still fresh
    assert problems(nb) == []
    code["source"] = "x = 2"
    assert problems(nb) == ["stale: the code changed since the recorded run"]
    code["source"] = "x = 1"
    run["mode"] = "fast"
    run["claims"].append({"claim": "d", "figure": "0", "holds": False, "tested": True})
    run["claims"].append(
        {"claim": "e", "figure": "0", "holds": False, "tested": False}
    )  # not asserted
    assert problems(nb) == [
        "the recorded run is in 'fast' mode, not full mode",
        "claim failed in the recorded run: d (0)",
    ]
