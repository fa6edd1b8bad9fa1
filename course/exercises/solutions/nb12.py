"""Worked solutions to the exercises of notebook 12."""

from __future__ import annotations


def scratchpad(problem):
    value, steps = problem[0], []
    for op, d in zip(problem[1::2], problem[2::2]):
        new = (value + d) % 10 if op == "+" else (value * d) % 10
        steps.append(f"{value}{op}{d}={new};")
        value = new
    return "".join(steps) + f"{value}."


def predicted_exact_match(p, n):
    return p**n  # every digit right, each independently with probability p


def largest_jump_share(values):
    total = max(values) - values[0]
    if total <= 0:
        return 0.0
    return max(b - a for a, b in zip(values, values[1:])) / total
