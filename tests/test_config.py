import pytest

from course.config import budget, is_fast


@pytest.mark.parametrize(
    "value, fast",
    [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("no", False)],
)
def test_fast_mode_switch(monkeypatch, value, fast):
    monkeypatch.setenv("COURSE_FAST", value)
    assert is_fast() is fast
    assert budget(full=5000, fast=100) == (100 if fast else 5000)


def test_unset_means_the_full_lesson(monkeypatch):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    assert budget(full=2.10, fast=3.0) == 2.10
