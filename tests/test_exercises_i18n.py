"""Exercise checks in Chinese (course/exercises/zh_CN.py) when the notebook is the Chinese edition.

The language comes from COURSE_LANG, else the notebook's folder (JPY_SESSION_NAME from Jupyter, or
the kernel's working directory), so the Chinese notebooks' code cells stay the English ones. Every
translated hint is keyed by a hint the checks still give, keeps the numbers and code of the English,
and the notebooks whose hints are translated stay fully translated; the rest are counted.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

import course.exercises as exercises
from course.exercises import nb01, zh_CN

CHECKS = sorted((Path(exercises.__file__).parent).glob("nb[0-9][0-9].py"))
FULLY_TRANSLATED = {
    "nb01",
    "nb02",
    "nb03",
    "nb04",
    "nb05",
    "nb06",
    "nb07",
    "nb08",
    "nb09",
    "nb10",
    "nb11",
    "nb12",
    "nb13",
}


def hints_of(path: Path) -> list[str]:
    """The literal hints of ``ex.expect(condition, "hint")`` in one checks module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "expect"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            found.append(node.args[1].value)
    return found


HINTS = {path.stem: hints_of(path) for path in CHECKS}


@pytest.fixture
def in_folder(monkeypatch, tmp_path):
    def enter(name: str) -> None:
        monkeypatch.delenv("COURSE_LANG", raising=False)
        monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
        (tmp_path / name).mkdir(exist_ok=True)
        monkeypatch.chdir(tmp_path / name)

    return enter


def test_language_from_the_folder_the_session_or_the_variable(in_folder, monkeypatch):
    in_folder("notebooks")
    assert exercises.language() == "en"
    in_folder("zh-CN")
    assert exercises.language() == "zh-CN"
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/x/llm-course/notebooks/01_bag.ipynb")
    assert exercises.language() == "en"  # Jupyter's notebook path wins over the folder
    monkeypatch.setenv("JPY_SESSION_NAME", "notebooks/zh-CN/01_bag.ipynb")
    assert exercises.language() == "zh-CN"
    monkeypatch.setenv("COURSE_LANG", "en")
    assert exercises.language() == "en"
    in_folder("notebooks")
    for spelling in ("zh-CN", "zh_CN", "zh", "ZH-cn"):
        monkeypatch.setenv("COURSE_LANG", spelling)
        assert exercises.language() == "zh-CN"


def test_a_chinese_notebook_gets_chinese_messages_and_hints(in_folder, capsys):
    in_folder("zh-CN")
    assert not nb01.perplexity(lambda log_probs: 4.5)
    out = capsys.readouterr().out
    assert "❌ perplexity：还没通过。提示：" in out and "困惑度为 4" in out
    assert not nb01.perplexity(lambda log_probs: ...)
    assert "尚未作答" in capsys.readouterr().out
    assert not nb01.perplexity(lambda log_probs: 1 / 0)
    assert "你的函数抛出了 ZeroDivisionError" in capsys.readouterr().out
    assert nb01.perplexity(lambda lp: __import__("math").exp(-sum(lp) / len(lp)))
    assert "全部" in capsys.readouterr().out


def test_the_english_notebook_stays_english(in_folder, capsys):
    in_folder("notebooks")
    nb01.perplexity(lambda log_probs: 4.5)
    assert (
        "not yet. Hint: a model that gives every token probability 1/4" in capsys.readouterr().out
    )


def test_an_untranslated_hint_falls_back_to_english():
    assert (
        exercises.translate_hint("a hint nobody translated", "zh-CN") == "a hint nobody translated"
    )
    assert (
        exercises.translate_hint("use context_size characters", "en")
        == "use context_size characters"
    )


def test_messages_have_the_english_fields():
    fields = lambda text: {f for _, f, _, _ in string.Formatter().parse(text) if f}
    assert set(zh_CN.MESSAGES) == set(exercises.ENGLISH)
    for key, text in exercises.ENGLISH.items():
        assert fields(zh_CN.MESSAGES[key]) == fields(text), key


def test_every_translated_hint_is_a_current_hint():
    current = {hint for hints in HINTS.values() for hint in hints}
    outdated = sorted(set(zh_CN.HINTS) - current)
    assert not outdated, (
        "course/exercises/zh_CN.py translates hints the checks no longer give "
        "(update the key to the new English text and re-translate):\n" + "\n".join(outdated)
    )


@pytest.mark.parametrize("english", sorted(zh_CN.HINTS))
def test_a_translation_keeps_numbers_and_code(english):
    chinese = zh_CN.HINTS[english]
    assert re.search(r"[\u4e00-\u9fff]", chinese) or english == chinese
    for piece in re.findall(r"`[^`]+`|\d+(?:\.\d+)?", english):
        assert piece in chinese, f"{english!r}: the translation lost {piece!r}"


def test_how_many_hints_are_translated(capsys):
    lines, incomplete = [], []
    for module, hints in HINTS.items():
        done = sum(hint in zh_CN.HINTS for hint in hints)
        lines.append(f"{module}: {done}/{len(hints)}")
        if module in FULLY_TRANSLATED and done < len(hints):
            incomplete += [f"{module}: {hint!r}" for hint in hints if hint not in zh_CN.HINTS]
    with capsys.disabled():
        print("\nzh-CN exercise hints translated: " + ", ".join(lines))
    assert not incomplete, (
        "hints without a Chinese translation in course/exercises/zh_CN.py:\n"
        + "\n".join(incomplete)
    )
