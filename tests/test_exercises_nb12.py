from test_exercises import wrong, wrong_answers_fail

from course import arithmetic
from course.exercises import nb12 as check


def test_the_package_passes_the_same_checks():
    assert check.scratchpad(lambda terms: arithmetic.completion(terms, "scratchpad"))
    assert check.largest_jump_share(arithmetic.largest_jump_share)


def no_mod(problem):
    value, steps = problem[0], []
    for op, d in zip(problem[1::2], problem[2::2]):
        new = value + d if op == "+" else value * d
        steps.append(f"{value}{op}{d}={new};")
        value = new
    return "".join(steps) + f"{value}."


test_wrong_answers_fail_with_a_hint = wrong_answers_fail(
    wrong(check.scratchpad, no_mod, "forgets to keep only the last digit"),
    wrong(
        check.predicted_exact_match,
        lambda p, n: 1 - (1 - p) ** n,
        "the chance that at least one digit is right, not all of them",
    ),
    wrong(
        check.largest_jump_share,
        lambda v: max(b - a for a, b in zip(v, v[1:])) / max(v),
        "share of the last value instead of the rise from the first",
    ),
    # a function returning None gets a hint, not an error
    wrong(check.scratchpad, lambda t: None, "returns None"),
    wrong(check.predicted_exact_match, lambda p, n: None, "returns None"),
    wrong(check.largest_jump_share, lambda v: None, "returns None"),
)
