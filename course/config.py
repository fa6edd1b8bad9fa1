"""FAST mode: one switch that shrinks every budget in the course.

CI sets ``COURSE_FAST=1`` so each notebook runs in about a minute; a learner
leaves it unset and gets the real lesson. Notebooks never read the variable
themselves: they ask :func:`budget` for a number and get the right one.
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}


def is_fast() -> bool:
    """True when ``COURSE_FAST`` is set to 1/true/yes/on (read at every call)."""
    return os.environ.get("COURSE_FAST", "").strip().lower() in _TRUE


def budget(full: T, fast: T) -> T:
    """Return ``fast`` in FAST mode and ``full`` otherwise.

    >>> steps = budget(full=5000, fast=100)
    """
    return fast if is_fast() else full
