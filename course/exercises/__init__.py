"""Exercise checks: the learner writes a function, a check runs it on cases and answers with a hint.

A check never raises: an unfinished exercise (a function that still returns ``...`` or raises
``NotImplementedError``) prints what to do next, so the notebook keeps running top to bottom
(and nbval stays green). The one exception is grading: with ``COURSE_GRADING=1`` (a teacher
running ``nbgrader autograde``, see ``course.grading``) a check that does not pass raises
AssertionError after printing its hint, which is how nbgrader counts a failed test. Each check
returns True only when every case passes; the tests run every check on its worked solution
(``course.exercises.solutions``) and on a wrong answer.

Language: a check answers in Chinese when its notebook is the Chinese edition, found without any
change to the code cells (which are the English notebook's): ``COURSE_LANG`` when set (``zh-CN`` or
``en``), else the notebook's folder: Jupyter tells the kernel the notebook's path
(``JPY_SESSION_NAME``) and starts it in the notebook's folder (as nbval and ``course run`` do), so a
notebook opened from ``notebooks/zh-CN/`` gets the hints of ``course/exercises/zh_CN.py``. A hint
with no translation there prints in English.

Writing a check, in ``course/exercises/nbNN.py``::

    def tfidf(fn) -> bool:
        with exercise("tfidf") as ex:
            ex.expect(fn(...) == pytest.approx(...), "idf uses log(N / df): count documents")
        return ex.passed
"""

from __future__ import annotations

import os
import traceback
from contextlib import contextmanager
from pathlib import Path

ENGLISH = {
    "pass": "✅ {name}: all {cases} checks pass.",
    "not_attempted": "✏️  {name}: not attempted yet — replace the `...` with your code and run "
    "the cell "
    "again.",
    "failed": "❌ {name}: not yet. Hint: {hint}",
    "raised": "your function raised {error}: {message} (line {line})",
}
TRANSLATED_FOLDERS = {"zh-CN"}  # notebooks/<folder>/ holds an edition in that language


def language() -> str:
    """``"zh-CN"`` when the running notebook is the Chinese edition, else ``"en"`` (see above)."""
    chosen = os.environ.get("COURSE_LANG", "").strip().lower().replace("_", "-")
    if chosen:  # "zh-CN", "zh_CN", "zh", "zh-Hans" all mean the Chinese edition
        return "zh-CN" if chosen.startswith("zh") else "en"
    session = os.environ.get("JPY_SESSION_NAME", "").strip()  # the notebook's path, from Jupyter
    folder = Path(session).parent.name if session.endswith(".ipynb") else Path.cwd().name
    return folder if folder in TRANSLATED_FOLDERS else "en"


def _text(key: str, **fields) -> str:
    """One of the fixed messages, in the notebook's language."""
    if language() == "zh-CN":
        from course.exercises.zh_CN import MESSAGES

        return MESSAGES[key].format(**fields)
    return ENGLISH[key].format(**fields)


def translate_hint(hint: str, lang: str | None = None) -> str:
    """The hint in ``lang`` (default: the notebook's language); English when not translated."""
    if (lang or language()) == "zh-CN":
        from course.exercises.zh_CN import HINTS

        return HINTS.get(hint, hint)
    return hint


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
            raise _Failed(
                _text("raised", error=type(error).__name__, message=error, line=where.lineno)
            ) from None
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
        print(_text("pass", name=name, cases=ex.cases))
    except _NotYet:
        print(_text("not_attempted", name=name))
        _fail_when_grading(name, "not attempted")
    except _Failed as failure:
        print(_text("failed", name=name, hint=translate_hint(str(failure))))
        _fail_when_grading(name, str(failure))


def _fail_when_grading(name: str, why: str) -> None:
    if os.environ.get("COURSE_GRADING", "").strip() == "1":
        raise AssertionError(f"{name}: {why}")
