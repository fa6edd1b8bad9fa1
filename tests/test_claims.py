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
    assert [(r["claim"], r["holds"], r["mode"]) for r in rows] == [
        ("a", True, "fast"),
        ("b", False, "fast"),
    ]


def test_a_claim_declared_untested_at_fast_budget_prints_its_reason_and_never_raises(
    tmp_path, monkeypatch, capsys
):
    record = tmp_path / "claims.jsonl"
    monkeypatch.setenv("COURSE_CLAIMS_FILE", str(record))
    monkeypatch.setenv("COURSE_FAST", "1")
    claim("PPO raises the reward", False, "-0.05 -> -0.08", fast="60 steps are too few")
    out = capsys.readouterr().out
    assert (
        "[claim not tested at FAST budget: 60 steps are too few] PPO raises the reward — -0.05 -> "
        "-0.08" in out
    )
    row = json.loads(record.read_text())
    assert (row["holds"], row["tested"], row["mode"]) == (False, False, "fast")


def test_a_claim_declared_untested_at_fast_budget_is_asserted_in_full_mode(monkeypatch):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    with pytest.raises(AssertionError, match="claim failed: PPO raises the reward"):
        claim("PPO raises the reward", False, "-0.05 -> -0.08", fast="60 steps are too few")


def test_a_tested_claim_is_recorded_as_tested(tmp_path, monkeypatch):
    record = tmp_path / "claims.jsonl"
    monkeypatch.setenv("COURSE_CLAIMS_FILE", str(record))
    monkeypatch.setenv("COURSE_FAST", "1")
    claim("two is more than one", True, "2 > 1")
    assert json.loads(record.read_text())["tested"] is True


@pytest.mark.parametrize("policy", [False, "", "  ", None, 0])
def test_a_fast_policy_must_be_true_or_a_reason(policy):
    with pytest.raises(ValueError, match="non-empty string"):
        claim("x", True, fast=policy)
