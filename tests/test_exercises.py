"""Every exercise check of every notebook, found by name: it passes its worked solution and answers
an untouched stub with "not attempted". The wrong answers, which differ per exercise, are in
``tests/test_exercises_nbNN.py`` beside each notebook's own agreement tests."""
import importlib
import inspect
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
    assert notebooks == {f"nb{p.name[:2]}" for p in lessons.glob("[0-9][0-9]_*.ipynb") if p.name[:2] != "00"}


@pytest.mark.parametrize("check, solution", CHECKS)
def test_check_passes_its_worked_solution(check, solution, capsys):
    assert solution is not None, "each check needs a worked solution of the same name in course/exercises/solutions/"
    assert check(solution)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize("check, solution", CHECKS)
def test_check_calls_a_stub_not_attempted(check, solution, capsys):
    assert not check(lambda *args, **kwargs: ...)
    assert "not attempted" in capsys.readouterr().out
