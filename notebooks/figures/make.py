"""Regenerate every diagram of the course: runs the ``main()`` of each ``draw_*.py`` in this folder.

    python notebooks/figures/make.py          # all of them
    python notebooks/figures/make.py 04 07    # only draw_04.py and draw_07.py

Each script writes its SVG files next to itself, and their Chinese variants (drawn with its ``ZH``
label table) into ``zh-CN/``; the output is deterministic, so regenerating an unchanged script
leaves ``git status`` clean (``tests/test_figures.py`` checks that byte for byte).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts(only: list[str] | None = None) -> list[Path]:
    """The draw_*.py scripts of this folder, in name order (optionally only draw_NN, NN in only)."""
    found = sorted(HERE.glob("draw_*.py"))
    if only:
        found = [p for p in found if p.stem.removeprefix("draw_") in only]
    return found


def run(script: Path) -> None:
    """Import one draw script as a module and call its main()."""
    spec = importlib.util.spec_from_file_location(f"course_figures_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "main"):
        raise SystemExit(
            f"{script.name} has no main(): each draw_NN.py must define main() that writes its SVGs"
        )
    module.main()


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(HERE))  # so that the scripts can `import _style`
    chosen = scripts(argv if argv is not None else sys.argv[1:])
    if not chosen:
        raise SystemExit("no draw_*.py script matched")
    for script in chosen:
        run(script)
        print(f"{script.name}: done")


if __name__ == "__main__":
    main()
