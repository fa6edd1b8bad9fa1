import json

import pytest

from course.claims import claim


def test_a_holding_claim_prints_and_passes(capsys):
    claim("two is more than one", 2 > 1, "2 > 1")
    assert "[claim holds] two is more than one — 2 > 1" in capsys.readouterr().out


def test_a_failing_claim_raises(capsys):
    with pytest.raises(AssertionError, match="claim failed: pigs fly"):
        claim("pigs fly", False, "they do not")
    assert "[claim FAILS]" in capsys.readouterr().out


def test_claims_are_recorded_and_can_continue(tmp_path, monkeypatch):
    record = tmp_path / "claims.jsonl"
    monkeypatch.setenv("COURSE_CLAIMS_FILE", str(record))
    monkeypatch.setenv("COURSE_CLAIMS_CONTINUE", "1")
    monkeypatch.setenv("COURSE_FAST", "1")
    claim("a", True, "1")
    claim("b", False, "2")  # recorded, not raised
    rows = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(r["claim"], r["holds"], r["mode"]) for r in rows] == [("a", True, "fast"), ("b", False, "fast")]
