"""Exercises a teacher can grade with nbgrader: each exercise is an answer cell and a locked check
cell.

A notebook's exercise is a stub the learner fills in, then ``check.NAME(fn)``. For nbgrader (``pip
install 'llm-course[teach]'``) the two live in separate cells that carry its metadata: the stub is
an autograded answer (``solution: true``), the check a locked test cell worth one point. A check
never raises in a lesson; under ``COURSE_GRADING=1`` (set when running ``nbgrader autograde``) a
check that does not pass raises, which is how nbgrader sees a failed test. The course's notebooks
already are the student version (stubs, solutions kept in ``course.exercises.solutions``), so the
teacher's nbgrader config turns off its solution clearing: see docs/teaching.md.

    python -m course.grading notebooks/*.ipynb   # split and mark every exercise cell (idempotent)
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path

CHECK_LINE = re.compile(r"^check\.(\w+)\(", re.M)
SCHEMA_VERSION = 3


def _source(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def _nbgrader(grade_id: str, *, answer: bool) -> dict:
    if answer:
        return {
            "grade": False,
            "grade_id": grade_id,
            "locked": False,
            "schema_version": SCHEMA_VERSION,
            "solution": True,
            "task": False,
        }
    return {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": 1,
        "schema_version": SCHEMA_VERSION,
        "solution": False,
        "task": False,
    }


def mark_exercises(nb: dict, prefix: str) -> int:
    """Split each 'stub + check.NAME(...)' cell of ``nb`` in two and add nbgrader metadata; return
    how many exercises were marked now. ``prefix`` (e.g. ``"nb03"``) makes grade ids unique across
    notebooks. Cells already marked are left as they are, so running it twice changes nothing."""
    cells, marked = [], 0
    for cell in nb["cells"]:
        text = _source(cell)
        match = CHECK_LINE.search(text) if cell["cell_type"] == "code" else None
        if match is None or "nbgrader" in cell.get("metadata", {}):
            cells.append(cell)
            continue
        name = match.group(1)
        answer, check = text[: match.start()].rstrip("\n"), text[match.start() :]
        if answer.strip():
            cell["source"] = answer
            cell.setdefault("metadata", {})["nbgrader"] = _nbgrader(
                f"{prefix}-{name}-answer", answer=True
            )
            cells.append(cell)
            cell = {
                "cell_type": "code",
                "execution_count": None,
                "id": uuid.uuid4().hex[:8],
                "metadata": {},
                "outputs": [],
            }
        cell["source"] = check
        cell["metadata"]["nbgrader"] = _nbgrader(f"{prefix}-{name}", answer=False)
        cells.append(cell)
        marked += 1
    nb["cells"] = cells
    return marked


def main(paths: list[str]) -> int:
    for path in map(Path, paths):
        nb = json.loads(path.read_text(encoding="utf-8"))
        count = mark_exercises(nb, "nb" + path.name[:2])
        if count:
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_text(
                json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            temporary.replace(path)  # never a half-written notebook
        print(f"{path}: {count} exercise(s) marked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
