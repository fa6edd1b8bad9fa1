"""Exercise checks: the learner writes a function, a check runs it on cases and answers with a hint.

A check never raises: an unfinished exercise (a function that still returns ``...`` or raises
``NotImplementedError``) prints what to do next, so the notebook keeps running top to bottom
(and nbval stays green). The one exception is grading: with ``COURSE_GRADING=1`` (a teacher running
``nbgrader autograde``, see ``course.grading``) a check that does not pass raises AssertionError after
printing its hint, which is how nbgrader counts a failed test. Each check returns True only when every case passes; the tests run every
check on its worked solution (``course.exercises.solutions``) and on a wrong answer.

Writing a check, in ``course/exercises/nbNN.py``::

    def tfidf(fn) -> bool:
        with exercise("tfidf") as ex:
            ex.expect(fn(...) == pytest.approx(...), "idf uses log(N / df): did you count documents, not words?")
        return ex.passed
"""
from __future__ import annotations

import os
import traceback
from contextlib import contextmanager


class _NotYet(Exception):
    pass


class _Failed(Exception):
    pass


class Exercise:
    def __init__(self, name: str):
        self.name = name
        self.passed = False
        self.cases = 0

    def call(self, fn, *args, **kwargs):
        """Call the learner's function; an unfinished stub stops the check politely."""
        try:
            result = fn(*args, **kwargs)
        except NotImplementedError:
            raise _NotYet from None
        except Exception as error:  # the learner's bug: show the message, not our internals
            where = traceback.extract_tb(error.__traceback__)[-1]
            raise _Failed(f"your function raised {type(error).__name__}: {error} (line {where.lineno})") from None
        if result is Ellipsis:
            raise _NotYet
        return result

    def expect(self, condition: bool, hint: str) -> None:
        self.cases += 1
        if not condition:
            raise _Failed(hint)


@contextmanager
def exercise(name: str):
    ex = Exercise(name)
    try:
        yield ex
        ex.passed = True
        print(f"✅ {name}: all {ex.cases} checks pass.")
    except _NotYet:
        print(f"✏️  {name}: not attempted yet — replace the `...` with your code and run the cell again.")
        _fail_when_grading(name, "not attempted")
    except _Failed as failure:
        print(f"❌ {name}: not yet. Hint: {failure}")
        _fail_when_grading(name, str(failure))


def _fail_when_grading(name: str, why: str) -> None:
    if os.environ.get("COURSE_GRADING", "").strip() == "1":
        raise AssertionError(f"{name}: {why}")
