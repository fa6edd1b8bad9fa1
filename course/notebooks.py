"""Notebook housekeeping: the course's output policy and headless execution.

Policy: notebooks are committed *without outputs* (no outputs, no execution counts, only the
kernelspec and language_info metadata). A learner's run produces the real-lesson outputs; stored
FAST-mode outputs would show figures that disagree with the prose. ``tests/test_notebook_hygiene.py``
enforces the policy; ``python -m course clean`` applies it; ``python -m course run`` executes a
notebook headless (full or FAST mode) for a teacher who wants a copy with outputs.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from course import atomic

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}
# nbgrader: the exercise cells' grading metadata (course.grading), which a teacher's nbgrader reads
ALLOWED_CELL_METADATA = {"tags", "jupyter", "collapsed", "nbgrader"}


def clean(path: str | Path) -> bool:
    """Strip outputs, counts and stray metadata in place; return True when the file changed."""
    path = Path(path)
    original = path.read_text(encoding="utf-8")
    try:
        nb = json.loads(original)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error}), so it is not a notebook Jupyter can "
                         "open; restore it (e.g. `git checkout -- FILE`) or repair it in a text "
                         "editor") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{path} is JSON but not a notebook (no list of cells); give .ipynb files")
    nb["metadata"] = {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}
    for cell in nb["cells"]:
        cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k in ALLOWED_CELL_METADATA}
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if text != original:
        atomic.write_text(path, text)
        return True
    return False


def execute(path: str | Path, output: str | Path | None = None, *, fast: bool = False, timeout: int = 1800,
            env: dict | None = None) -> Path:
    """Run every cell of a notebook in a fresh kernel (cwd = the notebook's folder) and save the
    executed copy to ``output`` (default: beside it, ``NAME.executed.ipynb``)."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    output = Path(output) if output else path.with_name(path.stem + ".executed.ipynb")
    nb = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ["COURSE_FAST"] = "1" if fast else "0"
    os.environ["COURSE_NOTEBOOK"] = path.stem
    os.environ.update(env or {})
    for name in ("COURSE_DATA_DIR", "COURSE_CACHE_DIR"):
        # the kernel runs in the notebook's folder: a relative path given here would point elsewhere
        # there (and a missing data folder silently means fallback data), so pass it on absolute
        if os.environ.get(name, "").strip():
            os.environ[name] = str(Path(os.environ[name].strip()).expanduser().resolve())
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    with atomic.replacing(output) as tmp:  # an interrupted write never leaves half a notebook
        nbformat.write(nb, str(tmp))
    return output
