"""Run every benchmark script in this folder, one after another, and print their figures.

    python benchmarks/run_all.py             # all of them
    python benchmarks/run_all.py gpt_baby    # only those whose name contains a word

The claims table (every notebook in full mode) is separate: `make claims`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"run_all.py", "claims.py"}


def main(argv: list[str]) -> int:
    scripts = [
        p for p in sorted(HERE.glob("*.py")) if p.name not in SKIP and not p.name.startswith("_")
    ]
    if argv:
        scripts = [p for p in scripts if any(word in p.stem for word in argv)]
    failed = []
    for script in scripts:
        print(f"\n=== {script.name}", flush=True)
        began = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"=== {script.name}: exit {code}, {time.perf_counter() - began:.0f} s", flush=True)
        if code:
            failed.append(script.name)
    print(
        f"\n{len(scripts) - len(failed)} of {len(scripts)} benchmarks ran"
        + (f"; failed: {failed}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
