"""Exercises graded by nbgrader: answer and check cells, grading mode, and a real autograde run."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course.exercises import exercise
from course.grading import mark_exercises

ROOT = Path(__file__).resolve().parent.parent


def _toy():
    return {
        "cells": [
            {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# toy"},
            {
                "cell_type": "code",
                "id": "b",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": (
                    "def my_double(x):\n    return ...  # your code here\n\ncheck.double(my_double)"
                ),
            },
        ]
    }


def test_an_exercise_cell_becomes_an_answer_cell_and_a_locked_check_cell():
    nb = _toy()
    assert mark_exercises(nb, "nb99") == 1
    answer, check = nb["cells"][1:]
    assert answer["source"] == "def my_double(x):\n    return ...  # your code here"
    assert (
        answer["metadata"]["nbgrader"]["solution"] and not answer["metadata"]["nbgrader"]["grade"]
    )
    assert check["source"] == "check.double(my_double)"
    grading = check["metadata"]["nbgrader"]
    assert (grading["grade"], grading["locked"], grading["points"], grading["grade_id"]) == (
        True,
        True,
        1,
        "nb99-double",
    )
    assert mark_exercises(nb, "nb99") == 0 and len(nb["cells"]) == 3  # idempotent


def test_a_check_raises_only_when_grading(monkeypatch, capsys):
    def unfinished():
        with exercise("double") as ex:
            ex.call(lambda: ...)
        return ex.passed

    monkeypatch.delenv("COURSE_GRADING", raising=False)
    assert unfinished() is False  # a lesson keeps running
    monkeypatch.setenv("COURSE_GRADING", "1")
    with pytest.raises(AssertionError, match="double: not attempted"):
        unfinished()
    assert capsys.readouterr().out.count("not attempted yet") == 2  # the hint is printed either way


@pytest.mark.slow
def test_nbgrader_autograde_scores_a_solved_copy_full_and_an_untouched_one_zero(tmp_path):
    pytest.importorskip("nbgrader")
    source = next((ROOT / "notebooks").glob("01_*.ipynb"))
    nb = json.loads(source.read_text(encoding="utf-8"))
    mark_exercises(nb, "nb01")
    checks = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
    assert checks, "notebook 01 has no graded exercise"
    (tmp_path / "source" / "ps01").mkdir(parents=True)
    (tmp_path / "source" / "ps01" / "lesson.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = r'{tmp_path}'\n"
        "c.ClearSolutions.enabled = False  # the course's notebooks are already the student "
        "version\n"
        "c.Execute.timeout = 600\n"
    )
    env = dict(
        os.environ,
        COURSE_FAST="1",
        OMP_NUM_THREADS="1",
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    )

    def nbgrader(*args, **extra):
        done = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args],
            cwd=tmp_path,
            env=dict(env, **extra),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]

    nbgrader("generate_assignment", "ps01", "--force")
    released = json.loads(
        (tmp_path / "release" / "ps01" / "lesson.ipynb").read_text(encoding="utf-8")
    )
    solved = json.loads(json.dumps(released))
    for cell, following in zip(solved["cells"], solved["cells"][1:]):
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            name, function = re.match(
                r"check\.(\w+)\((\w+)\)", "".join(following["source"])
            ).groups()
            cell["source"] = f"from course.exercises.solutions.nb01 import {name} as {function}"
    for student, copy in (("solver", solved), ("idler", released)):
        folder = tmp_path / "submitted" / student / "ps01"
        folder.mkdir(parents=True)
        (folder / "lesson.ipynb").write_text(json.dumps(copy), encoding="utf-8")
        nbgrader("db", "student", "add", student)
    nbgrader("autograde", "ps01", "--force", COURSE_GRADING="1")

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as book:
        scores = {
            s: (book.find_submission("ps01", s).score, book.find_submission("ps01", s).max_score)
            for s in ("solver", "idler")
        }
    assert scores == {"solver": (len(checks), len(checks)), "idler": (0, len(checks))}
    shutil.rmtree(tmp_path / "autograded", ignore_errors=True)


def test_every_exercise_of_every_notebook_is_marked_for_nbgrader():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert mark_exercises(json.loads(json.dumps(nb)), "x") == 0, (
            f"{path.name} has exercise cells without nbgrader metadata: run python -m "
            f"course.grading {path}"
        )
        graded = [
            c["metadata"]["nbgrader"]
            for c in nb["cells"]
            if c["metadata"].get("nbgrader", {}).get("grade")
        ]
        ids = [g["grade_id"] for g in graded]
        assert len(ids) == len(set(ids)) and all(
            i.startswith(f"nb{path.name[:2]}-") for i in ids
        ), path.name
