"""A notebook's learning outcomes, printed and asserted in one call.

``claim("NPLM beats the KN trigram", nplm < kn, f"{nplm:.1f} vs {kn:.1f}")`` prints the figure and
raises AssertionError when the claim fails, so nbval catches a regression. When
``COURSE_CLAIMS_FILE`` is set (``benchmarks/claims.py`` sets it), each claim is also appended to that
JSON-lines file; with ``COURSE_CLAIMS_CONTINUE=1`` a failed claim is recorded instead of raised, so
the table shows every claim of a notebook even when an early one fails.
"""
from __future__ import annotations

import json
import os

from course.config import is_fast


def claim(statement: str, holds: bool, figure: str = "") -> None:
    holds = bool(holds)
    mark = "holds" if holds else "FAILS"
    print(f"[claim {mark}] {statement}" + (f" — {figure}" if figure else ""))
    record = os.environ.get("COURSE_CLAIMS_FILE")
    if record:
        with open(record, "a", encoding="utf-8") as out:
            out.write(json.dumps({"claim": statement, "figure": figure, "holds": holds,
                                  "mode": "fast" if is_fast() else "full",
                                  "notebook": os.environ.get("COURSE_NOTEBOOK", "")}) + "\n")
    if not holds and os.environ.get("COURSE_CLAIMS_CONTINUE", "") != "1":
        raise AssertionError(f"claim failed: {statement} ({figure})")
