"""Every exercise check of every notebook, found by name: it passes its worked solution and answers
an untouched stub with "not attempted". The wrong answers, which differ per exercise, are in
``tests/test_exercises_nbNN.py`` beside each notebook's own agreement tests: each file lists them
with :func:`wrong` and turns the list into its test with :func:`wrong_answers_fail`."""

import importlib
import inspect
import json
import pkgutil
from pathlib import Path

import pytest

import course.exercises


def every_check():
    for info in pkgutil.iter_modules(course.exercises.__path__):
        if not info.name.startswith("nb"):
            continue
        checks = importlib.import_module(f"course.exercises.{info.name}")
        solutions = importlib.import_module(f"course.exercises.solutions.{info.name}")
        for name, check in inspect.getmembers(checks, inspect.isfunction):
            if check.__module__ == checks.__name__ and not name.startswith("_"):
                yield pytest.param(check, getattr(solutions, name, None), id=f"{info.name}.{name}")


CHECKS = list(every_check())


def test_every_notebook_with_exercises_is_found():
    notebooks = {param.id.split(".")[0] for param in CHECKS}
    lessons = Path(__file__).resolve().parent.parent / "notebooks"
    assert notebooks == {
        f"nb{p.name[:2]}" for p in lessons.glob("[0-9][0-9]_*.ipynb") if p.name[:2] != "00"
    }


@pytest.mark.parametrize("check, solution", CHECKS)
def test_check_passes_its_worked_solution(check, solution, capsys):
    assert solution is not None, (
        "each check needs a worked solution of the same name in course/exercises/solutions/"
    )
    assert check(solution)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize("check, solution", CHECKS)
def test_check_calls_a_stub_not_attempted(check, solution, capsys):
    assert not check(lambda *args, **kwargs: ...)
    assert "not attempted" in capsys.readouterr().out


def _answer_and_check_cells():
    lessons = Path(__file__).resolve().parent.parent / "notebooks"
    for path in sorted(lessons.glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell, after in zip(cells, cells[1:]):
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                yield pytest.param(
                    path.name[:2],
                    "".join(cell["source"]),
                    "".join(after["source"]),
                    id=f"nb{path.name[:2]}.{after['metadata']['nbgrader']['grade_id']}",
                )


@pytest.mark.parametrize("notebook, answer, check_call", list(_answer_and_check_cells()))
def test_an_untouched_notebook_exercise_says_not_attempted_yet(
    notebook, answer, check_call, capsys
):
    # the stub the learner sees, run with the check cell after it: "not attempted yet", never a hint
    namespace = {"check": importlib.import_module(f"course.exercises.nb{notebook}")}
    exec(answer, namespace)
    exec(check_call, namespace)
    out = capsys.readouterr().out
    assert "not attempted yet" in out and "Hint" not in out


# ------------------------------------------ wrong answers, listed in tests/test_exercises_nbNN.py
def wrong(check, answer, why: str, says: str = "Hint"):
    """A wrong ``answer`` to the exercise ``check``: the check must fail, and say ``says``.

    ``why`` says what is wrong with it; it names the test case."""
    return pytest.param(check, answer, says, id=f"{check.__name__}: {why}")


def wrong_answers_fail(*cases):
    """The test of a notebook's wrong answers: each fails its check with a hint, never an error.

    In a test file: ``test_wrong_answers_fail_with_a_hint = wrong_answers_fail(wrong(...), ...)``.
    """

    @pytest.mark.parametrize("check, answer, says", cases)
    def test(check, answer, says, capsys):
        assert not check(answer)
        assert says in capsys.readouterr().out

    return test
