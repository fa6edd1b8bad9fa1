"""Checks for the exercises of notebook 12 (reasoning and scale)."""

from __future__ import annotations

from course.exercises import exercise


def _close(got, want: float, tol: float = 1e-9) -> bool:
    """True when ``got`` is a number within ``tol`` of ``want`` (False, not an error, otherwise)."""
    try:
        return abs(float(got) - want) < tol
    except (TypeError, ValueError):
        return False


def scratchpad(fn) -> bool:
    """``fn(problem)`` -> the scratchpad completion: one step per operation, then the answer."""
    with exercise("scratchpad") as ex:
        got = ex.call(fn, (3, "+", 5, "*", 7))
        ex.expect(
            isinstance(got, str), "return the completion as one string, e.g. '3+5=8;8*7=6;6.'"
        )
        ex.expect(
            got.endswith("6."),
            "the completion ends with the answer and a full stop: (3 + 5) * 7 = 56 -> 6",
        )
        ex.expect(
            got.startswith("3+5=8;"), "the first step works out the first operation: '3+5=8;'"
        )
        ex.expect(
            got == "3+5=8;8*7=6;6.",
            "each step starts from the last result and keeps only the last digit: '8*7=6;'",
        )
        ex.expect(
            ex.call(fn, (9, "*", 9)) == "9*9=1;1.", "keep the last digit of every result: 81 -> 1"
        )
        ex.expect(
            ex.call(fn, (1, "+", 1, "+", 1, "+", 1, "+", 1, "+", 1)).count(";") == 5,
            "six numbers: five steps, each ending with ';'",
        )
    return ex.passed


def predicted_exact_match(fn) -> bool:
    """``fn(p, n)``: the chance that all n digits are right when each is right with chance p."""
    with exercise("predicted_exact_match") as ex:
        ex.expect(
            _close(ex.call(fn, 0.9, 1), 0.9),
            "with one digit, exact match is just the digit's accuracy",
        )
        ex.expect(
            _close(ex.call(fn, 0.9, 2), 0.81),
            "two independent digits are both right with probability 0.9 * 0.9 = 0.81",
        )
        ex.expect(
            _close(ex.call(fn, 0.5, 10), 0.5**10),
            "every one of the n digits must be right: p to the power n",
        )
        ex.expect(
            _close(ex.call(fn, 1.0, 40), 1.0) and _close(ex.call(fn, 0.0, 3), 0.0),
            "a perfect digit accuracy gives exact match 1; zero gives 0",
        )
    return ex.passed


def largest_jump_share(fn) -> bool:
    """``fn(values)``: the largest rise between neighbours, as a share of max(values) - values[0]"""
    with exercise("largest_jump_share") as ex:
        ex.expect(
            _close(ex.call(fn, [0.0, 0.25, 0.5, 0.75, 1.0]), 0.25),
            "an even climb over four steps: each step is a quarter of the total rise",
        )
        ex.expect(
            _close(ex.call(fn, [0.0, 0.0, 0.0, 0.9, 1.0]), 0.9),
            "a curve that jumps 0 -> 0.9 in one step of a total rise of 1.0: share 0.9",
        )
        ex.expect(
            _close(ex.call(fn, [-60.0, -30.0, -10.0, -5.0]), 30 / 55),
            "log-likelihoods are negative: the total rise is -5 - (-60) = 55, the largest step 30",
        )
        ex.expect(
            _close(ex.call(fn, [0.2, 0.9, 0.5, 1.0]), 0.7 / 0.8),
            "measure the rise from the first value to the best one (here 1.0 - 0.2 = 0.8)",
        )
        ex.expect(
            _close(ex.call(fn, [0.5, 0.4, 0.3]), 0.0),
            "a curve that never rises has no jump: return 0",
        )
    return ex.passed
