"""Run notebooks in full (lesson) mode and print the table of their claims: claim, figure, holds/fails.

    python benchmarks/claims.py            # every notebook, in order
    python benchmarks/claims.py 03 07      # only these
    python benchmarks/claims.py --fast 03  # FAST mode (quick check of the machinery)
    python benchmarks/claims.py --seeds 3 03   # three runs at seed offsets 0, 1, 2: each figure's spread

Each notebook's `claim(...)` calls append to a JSON-lines file; a failed claim is recorded and the
notebook carries on (COURSE_CLAIMS_CONTINUE=1), so one failure does not hide the claims after it.
With --seeds N the chosen notebooks run N times, in order within each run (so notebook 10 uses the
checkpoints notebook 09 saved at the same seed), with COURSE_SEED_OFFSET=k shifting every
`seed_everything` call; the table then gives, per claim, how often it held and the range of every
number in its figure. A full-mode threshold should sit outside that range, with a margin.
The table of a full run of every notebook is also written to benchmarks/results/claims.md.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course.notebooks import execute  # noqa: E402

NUMBER = re.compile(r"[-+]?\d[\d,]*\.?\d*(?:e[-+]?\d+)?")


def run_once(chosen: list[Path], fast: bool, offset: int, tmp: Path) -> list[tuple[str, list[dict], str, float]]:
    """Execute each notebook once; return (notebook, its claim records, crash message, seconds)."""
    record = tmp / "claims.jsonl"
    results = []
    for nb in chosen:
        began = time.perf_counter()
        error = ""
        try:
            execute(nb, tmp / nb.name, fast=fast,
                    env={"COURSE_CLAIMS_FILE": str(record), "COURSE_CLAIMS_CONTINUE": "1",
                         "COURSE_SEED_OFFSET": str(offset)})
        except Exception as exc:  # a crash is reported as a failed row, and the run goes on
            message = str(exc).strip()
            error = f"{type(exc).__name__}: {message.splitlines()[-1] if message else ''}"
        seconds = time.perf_counter() - began
        lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
        record.unlink(missing_ok=True)
        claims = [json.loads(line) for line in lines]
        results.append((nb.stem, claims, error, seconds))
        print(f"{nb.stem} (seed offset {offset}): {len(claims)} claims, {seconds:.0f} s"
              + (f", {error}" if error else ""), flush=True)
    return results


def spread(figures: list[str]) -> str:
    """The range of each number across the runs' figures: '0.81-0.83 vs 0.50-0.50'."""
    numbers = [NUMBER.findall(f) for f in figures]
    if len({len(n) for n in numbers}) != 1:
        return " | ".join(figures)
    parts = []
    for column in zip(*numbers):
        values = [float(v.replace(",", "")) for v in column]
        parts.append(column[0] if min(values) == max(values) else f"{min(values):g}..{max(values):g}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebook numbers or names (default: all)")
    parser.add_argument("--fast", action="store_true", help="FAST mode instead of the full lesson")
    parser.add_argument("--seeds", type=int, default=1, help="runs at seed offsets 0..N-1 (default 1)")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds takes a positive number of runs, e.g. --seeds 3")

    every = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    chosen = [nb for nb in every if not args.notebooks or any(nb.name.startswith(a) or nb.stem == a for a in args.notebooks)]
    if not chosen:
        parser.error(f"no notebook matches {args.notebooks}")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [run_once(chosen, args.fast, offset, Path(tmp)) for offset in range(args.seeds)]

    rows, failures = [], 0
    mode = "FAST" if args.fast else "full"
    for per_notebook in zip(*runs):  # the same notebook across the seeds
        name = per_notebook[0][0]
        for records in zip(*(claims for _, claims, _, _ in per_notebook)):
            tested = [r for r in records if r.get("tested", True)]
            held = sum(r["holds"] for r in tested)
            failures += len(tested) - held
            if not tested:
                result = "not tested (FAST)"
            elif len(records) == 1:
                result = "holds" if held else "FAILS"
            else:
                result = f"holds {held}/{len(tested)}"
            figure = records[0]["figure"] if len(records) == 1 else spread([r["figure"] for r in records])
            rows.append((name, records[0]["claim"], figure, result))
        for _, claims, error, _ in per_notebook:
            if error:
                rows.append((name, "notebook runs to the end", error[:120], "FAILS"))
                failures += 1
        seconds = [s for _, _, _, s in per_notebook]
        rows.append((name, "runtime", " / ".join(f"{s:.0f} s" for s in seconds) + f" ({mode} mode)", ""))

    header = "| notebook | claim | figure | result |\n|---|---|---|---|\n"
    table = header + "\n".join(f"| {n} | {c} | {f} | {r} |" for n, c, f, r in rows)
    print("\n" + table)
    print(f"\n{sum(r[3].startswith('holds') for r in rows)} rows hold, {failures} failures")
    if not args.fast and not args.notebooks and args.seeds == 1:
        out = ROOT / "benchmarks" / "results"
        out.mkdir(exist_ok=True)
        (out / "claims.md").write_text(table + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
