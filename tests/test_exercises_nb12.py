from course import arithmetic
from course.exercises import nb12 as check


def test_the_package_passes_the_same_checks():
    assert check.scratchpad(lambda terms: arithmetic.completion(terms, "scratchpad"))
    assert check.largest_jump_share(arithmetic.largest_jump_share)


def test_wrong_answers_fail_with_a_hint(capsys):
    # forgets to keep only the last digit
    def no_mod(problem):
        value, steps = problem[0], []
        for op, d in zip(problem[1::2], problem[2::2]):
            new = value + d if op == "+" else value * d
            steps.append(f"{value}{op}{d}={new};")
            value = new
        return "".join(steps) + f"{value}."

    assert not check.scratchpad(no_mod)
    # the chance that at least one digit is right, not all of them
    assert not check.predicted_exact_match(lambda p, n: 1 - (1 - p) ** n)
    # share of the last value instead of the rise from the first
    assert not check.largest_jump_share(lambda v: max(b - a for a, b in zip(v, v[1:])) / max(v))
    assert "Hint" in capsys.readouterr().out


def test_a_function_returning_none_gets_a_hint_not_an_error(capsys):
    assert not check.scratchpad(lambda t: None)
    assert not check.predicted_exact_match(lambda p, n: None)
    assert not check.largest_jump_share(lambda v: None)
    assert "Hint" in capsys.readouterr().out
