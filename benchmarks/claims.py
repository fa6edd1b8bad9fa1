"""Run notebooks in full (lesson) mode and print the table of their claims: claim, figure, holds/fails.

    python benchmarks/claims.py            # every notebook, in order
    python benchmarks/claims.py 03 07      # only these
    python benchmarks/claims.py --fast 03  # FAST mode (quick check of the machinery)

Each notebook's `claim(...)` calls append to a JSON-lines file; a failed claim is recorded and the
notebook carries on (COURSE_CLAIMS_CONTINUE=1), so one failure does not hide the claims after it.
The table is also written to benchmarks/results/claims.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course.notebooks import execute  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebook numbers or names (default: all)")
    parser.add_argument("--fast", action="store_true", help="FAST mode instead of the full lesson")
    args = parser.parse_args(argv)

    every = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    chosen = [nb for nb in every if not args.notebooks or any(nb.name.startswith(a) or nb.stem == a for a in args.notebooks)]
    if not chosen:
        parser.error(f"no notebook matches {args.notebooks}")
    rows, failures = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "claims.jsonl"
        for nb in chosen:
            began = time.perf_counter()
            error = ""
            try:
                execute(nb, Path(tmp) / nb.name, fast=args.fast,
                        env={"COURSE_CLAIMS_FILE": str(record), "COURSE_CLAIMS_CONTINUE": "1"})
            except Exception as exc:  # a crash is reported as a failed row, and the run goes on
                error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
            seconds = time.perf_counter() - began
            lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
            record.unlink(missing_ok=True)
            claims = [json.loads(line) for line in lines]
            for c in claims:
                tested = c.get("tested", True)
                result = "not tested (FAST)" if not tested else "holds" if c["holds"] else "FAILS"
                rows.append((nb.stem, c["claim"], c["figure"], result))
                failures += tested and not c["holds"]
            if error:
                rows.append((nb.stem, "notebook runs to the end", error[:120], "FAILS"))
                failures += 1
            rows.append((nb.stem, "runtime", f"{seconds:.0f} s ({'FAST' if args.fast else 'full'} mode)", ""))
            print(f"{nb.stem}: {len(claims)} claims, {seconds:.0f} s" + (f", {error}" if error else ""), flush=True)

    header = "| notebook | claim | figure | result |\n|---|---|---|---|\n"
    table = header + "\n".join(f"| {n} | {c} | {f} | {r} |" for n, c, f, r in rows)
    print("\n" + table)
    print(f"\n{sum(r[3] == 'holds' for r in rows)} hold, {failures} fail")
    if not args.fast and not args.notebooks:
        out = ROOT / "benchmarks" / "results"
        out.mkdir(exist_ok=True)
        (out / "claims.md").write_text(table + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
