"""A notebook's learning outcomes, printed and asserted in one call.

``claim("NPLM beats the KN trigram", nplm < kn, f"{nplm:.1f} vs {kn:.1f}")`` prints the figure and
raises AssertionError when the claim fails, so nbval catches a regression.

A claim is a learning outcome that can fail. At the FAST budget (``COURSE_FAST=1``, what CI runs) a
claim either keeps its statement's direction -- a "beats" claim asserts that it beats, with a FAST
threshold on the right side of the null -- or it is declared untested at that budget with a reason:

    claim("PPO raises the reward", ppo - sft > budget(full=0.1, fast=0.0),
          f"{sft:+.2f} -> {ppo:+.2f}", fast="60 PPO steps are too few to move the policy")

prints ``[claim not tested at FAST budget: 60 PPO steps ...]`` in FAST mode, records
``tested: false`` and never asserts; in full mode the same line is an ordinary claim. Identities and
restated formulas are plain ``assert`` statements, not claims.

When ``COURSE_CLAIMS_FILE`` is set (``benchmarks/claims.py`` sets it), each claim is also appended
to that JSON-lines file; with ``COURSE_CLAIMS_CONTINUE=1`` a failed claim is recorded instead of
raised, so the table shows every claim of a notebook even when an early one fails.
"""

from __future__ import annotations

import json
import os

from course.config import is_fast


def claim(statement: str, holds: bool, figure: str = "", *, fast: bool | str = True) -> None:
    """Print and assert one learning outcome.

    ``fast=True`` (the default): the claim is asserted at the FAST budget too.
    ``fast="<reason>"``: at the FAST budget the claim is printed with its figure but not asserted,
    because the budget is too small for the outcome to appear; the reason says why.
    """
    if fast is not True and not (isinstance(fast, str) and fast.strip()):
        raise ValueError(
            "claim(..., fast=...) takes True (asserted at the FAST budget too) or a "
            "non-empty string saying why the claim cannot be tested at that budget"
        )
    holds = bool(holds)
    tested = not (is_fast() and isinstance(fast, str))
    if tested:
        mark = "claim holds" if holds else "claim FAILS"
    else:
        mark = f"claim not tested at FAST budget: {fast.strip()}"
    print(f"[{mark}] {statement}" + (f" — {figure}" if figure else ""))
    record = os.environ.get("COURSE_CLAIMS_FILE")
    if record:
        row = {
            "claim": statement,
            "figure": figure,
            "holds": holds,
            "tested": tested,
            "mode": "fast" if is_fast() else "full",
            "notebook": os.environ.get("COURSE_NOTEBOOK", ""),
        }
        with open(record, "a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")
    if tested and not holds and os.environ.get("COURSE_CLAIMS_CONTINUE", "") != "1":
        raise AssertionError(f"claim failed: {statement} ({figure})")
