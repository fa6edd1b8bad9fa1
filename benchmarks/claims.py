"""Run notebooks in full (lesson) mode and print the table of their claims: claim, figure, holds.

    python benchmarks/claims.py            # every notebook, in order
    python benchmarks/claims.py 03 07      # only these
    python benchmarks/claims.py --fast 03  # FAST mode (quick check of the machinery)
    python benchmarks/claims.py --seeds 3 03   # runs at seed offsets 0, 1, 2: each figure's spread
    python benchmarks/claims.py --seeds 3 --committed 03   # offset 0 from the committed run
    python benchmarks/claims.py --write        # `make claims`: run and commit-ready, see below
    python benchmarks/claims.py --write --jobs 2   # two independent chains at once, 1 thread each
    python benchmarks/claims.py --table        # only rewrite docs/claims.md from the notebooks

Each notebook's `claim(...)` calls append to a JSON-lines file; a failed claim is recorded and the
notebook carries on (COURSE_CLAIMS_CONTINUE=1), so one failure does not hide the claims after it.
With --seeds N the chosen notebooks run N times, in order within each run (so notebook 10 uses the
checkpoints notebook 09 saved at the same seed), with COURSE_SEED_OFFSET=k shifting every
`seed_everything` call; the table then gives, per claim, how often it held and the range of every
number in its figure. A full-mode threshold should sit outside that range, with a margin.
--committed takes offset 0 from each notebook's committed full-mode run (fresh, or it refuses) and
runs only offsets 1..N-1: a third less time for the same spread. Name 09 with 10 or 11, so that
they load checkpoints made at their own seed.
The table of a full run of every notebook is also written to benchmarks/results/claims.md; a
--seeds run of full mode also writes each claim's spread to benchmarks/results/claims-seeds.json,
which docs/claims.md shows.

--write (what `make claims` runs): every chosen notebook runs in full mode, in dependency order
(DEPENDS: 07 saves the GPT that 09 and 13 load; 09 saves the checkpoints 10 and 11 load) in one
cache folder (COURSE_CACHE_DIR, or --cache), and is written back in place with its outputs and its
run record (course.notebooks.run_and_record); a notebook that crashes is not written. Then
docs/claims.md is regenerated from every notebook's record. --jobs 2 runs the independent chains
(07 09 10 11 13, and the rest) in two processes at one thread each (OMP_NUM_THREADS=1), sharing the
cache; the records say how many threads each kernel had. --out DIR writes the notebooks and the
table to DIR instead (for trying it out).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course.notebooks import code_sha256, execute, run_and_record  # noqa: E402

# What each notebook reads from the cache that an earlier one wrote there
DEPENDS = {"09": ["07"], "10": ["09"], "11": ["09"], "13": ["07"]}
# Full-mode seconds on 2 quiet cores (issue 22's review): to balance --jobs
FULL_SECONDS = {
    "00": 19,
    "01": 12,
    "02": 58,
    "03": 163,
    "04": 186,
    "05": 221,
    "06": 166,
    "07": 337,
    "08": 133,
    "09": 335,
    "10": 523,
    "11": 203,
    "12": 60,
    "13": 120,
}
SEEDS_FILE = ROOT / "benchmarks" / "results" / "claims-seeds.json"
DOCS_TABLE = ROOT / "docs" / "claims.md"

NUMBER = re.compile(r"[-+]?\d[\d,]*\.?\d*(?:e[-+]?\d+)?")


def run_once(
    chosen: list[Path], fast: bool, offset: int, tmp: Path
) -> list[tuple[str, list[dict], str, float]]:
    """Execute each notebook once; return (notebook, its claim records, crash message, seconds)."""
    record = tmp / "claims.jsonl"
    results = []
    for nb in chosen:
        began = time.perf_counter()
        error = ""
        try:
            execute(
                nb,
                tmp / nb.name,
                fast=fast,
                env={
                    "COURSE_CLAIMS_FILE": str(record),
                    "COURSE_CLAIMS_CONTINUE": "1",
                    "COURSE_SEED_OFFSET": str(offset),
                },
            )
        except Exception as exc:  # a crash is reported as a failed row, and the run goes on
            message = str(exc).strip()
            error = f"{type(exc).__name__}: {message.splitlines()[-1] if message else ''}"
        seconds = time.perf_counter() - began
        lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
        record.unlink(missing_ok=True)
        claims = [json.loads(line) for line in lines]
        results.append((nb.stem, claims, error, seconds))
        print(
            f"{nb.stem} (seed offset {offset}): {len(claims)} claims, {seconds:.0f} s"
            + (f", {error}" if error else ""),
            flush=True,
        )
    return results


def committed_run(chosen: list[Path]) -> list[tuple[str, list[dict], str, float]]:
    """Seed offset 0 as the committed full-mode runs recorded it (the same shape as run_once's).

    Only a fresh run counts: its code_sha256 must match the notebook's code cells now.
    """
    results = []
    for nb in chosen:
        notebook = json.loads(nb.read_text(encoding="utf-8"))
        run = notebook.get("metadata", {}).get("course", {}).get("run")
        if not run or run.get("mode") != "full" or run.get("code_sha256") != code_sha256(notebook):
            raise ValueError(
                f"{nb.name} has no fresh full-mode run to use as seed offset 0: run "
                f"`make claims NB={number(nb)}` first, or drop --committed"
            )
        claims = [{k: c[k] for k in ("claim", "figure", "holds", "tested")} for c in run["claims"]]
        results.append((nb.stem, claims, "", float(run["seconds"])))
        print(f"{nb.stem} (seed offset 0): the committed run, {run['seconds']:.0f} s", flush=True)
    return results


def spread(figures: list[str]) -> str:
    """The range of each number across the runs' figures: '0.81-0.83 vs 0.50-0.50'."""
    numbers = [NUMBER.findall(f) for f in figures]
    if len({len(n) for n in numbers}) != 1:
        return " | ".join(figures)
    parts = []
    for column in zip(*numbers):
        values = [float(v.replace(",", "")) for v in column]
        parts.append(
            column[0] if min(values) == max(values) else f"{min(values):g}..{max(values):g}"
        )
    return ", ".join(parts)


# --------------------------------------------------------------------------- --write: runs in place
def number(nb: Path) -> str:
    return nb.name[:2]


def in_dependency_order(chosen: list[Path]) -> list[Path]:
    """The notebooks sorted so that each runs after those it reads from (DEPENDS)."""
    done: list[Path] = []
    by_number = {number(nb): nb for nb in chosen}

    def visit(nb: Path) -> None:
        for before in DEPENDS.get(number(nb), []):
            if before in by_number and by_number[before] not in done:
                visit(by_number[before])
        if nb not in done:
            done.append(nb)

    for nb in sorted(chosen):
        visit(nb)
    return done


def chains(chosen: list[Path], jobs: int) -> list[list[Path]]:
    """Split the notebooks into ``jobs`` groups that share no dependency, balanced by FULL_SECONDS
    (the longest chain first); each group keeps dependency order."""
    groups: list[set[str]] = []  # connected components of DEPENDS among the chosen
    for nb in chosen:
        linked = {number(nb), *DEPENDS.get(number(nb), [])}
        linked |= {n for n, before in DEPENDS.items() if number(nb) in before}
        touching = [g for g in groups if g & linked]
        merged = set().union(linked, *touching)
        groups = [g for g in groups if g not in touching] + [merged]
    cost = lambda group: sum(
        FULL_SECONDS.get(n, 300) for n in group if any(number(nb) == n for nb in chosen)
    )
    bins: list[list[str]] = [[] for _ in range(jobs)]
    for group in sorted(groups, key=cost, reverse=True):
        emptiest = min(bins, key=lambda b: sum(FULL_SECONDS.get(n, 300) for n in b))
        emptiest.extend(group)
    return [
        in_dependency_order([nb for nb in chosen if number(nb) in b])
        for b in bins
        if any(number(nb) in b for nb in chosen)
    ]


def write_notebooks(chosen: list[Path], out: Path | None, fast: bool) -> list[str]:
    """Run each notebook and write it with its record (in place, or into ``out``); return the
    names of those that crashed (not written)."""
    crashed = []
    for nb in in_dependency_order(chosen):
        target = out / nb.name if out else nb
        began = time.perf_counter()
        try:
            record = run_and_record(nb, fast=fast, output=target)
        except Exception as exc:  # reported, not written; the next notebook still runs
            message = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()  # no terminal colours
            last = message.splitlines()[-1] if message else ""
            print(
                f"{nb.stem}: CRASHED after {time.perf_counter() - began:.0f} s, not written "
                f"({type(exc).__name__}: {last})",
                flush=True,
            )
            crashed.append(nb.stem)
            continue
        failed = [c["claim"] for c in record["claims"] if c["tested"] and not c["holds"]]
        print(
            f"{nb.stem}: written to {target} ({record['seconds']} s, "
            f"{record['cpu_seconds']} CPU-s, "
            f"{record['threads']} thread(s), {len(record['claims'])} claims"
            + (f", FAILED: {'; '.join(failed)}" if failed else "")
            + ")",
            flush=True,
        )
        if failed:
            crashed.append(f"{nb.stem} (failed claim)")
    return crashed


def write_in_parallel(chosen: list[Path], jobs: int, out: Path | None, fast: bool) -> int:
    """One process per chain, one thread each; they share the cache. Returns the worst exit code."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    processes = []
    for chain in chains(chosen, jobs):
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--write",
            "--no-table",
            *(["--out", str(out)] if out else []),
            *(["--fast"] if fast else []),
            *[nb.stem for nb in chain],
        ]
        print("chain:", " ".join(number(nb) for nb in chain), flush=True)
        processes.append(subprocess.Popen(command, env=env))
    return max(process.wait() for process in processes)


# ----------------------------------------------------------------------------- docs/claims.md
def cell(text) -> str:
    """Text safe inside a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def claims_markdown(notebooks: list[Path], seeds: dict | None = None) -> str:
    """The table of every notebook's recorded claims (docs/claims.md), from their run records."""
    seeds = seeds or {}
    lines = [
        "# Claims, as measured",
        "",
        "Every claim the notebooks make, with the figure of the full-mode run committed in the "
        "notebook itself (`metadata.course.run`). Generated by `make claims` (or "
        "`python benchmarks/claims.py --table`); do not edit by hand. *Seeds spread*: the range "
        "of each number over `python benchmarks/claims.py --seeds 3 --committed` (seed offsets "
        "0, 1, 2 of every `seed_everything`, offset 0 being the committed run; one thread; 09, 10 "
        "and 11 in one chain, as 07 and 13), with how often the claim held (— where no such run "
        "is recorded). *Runtime*: wall-clock seconds of the whole notebook, then the kernel's "
        "CPU-seconds (a wall time far above the CPU time means the machine was shared).",
        "",
        "| notebook | claim | figure | holds | tested | seeds spread | runtime | machine |",
        "|---|---|---|---|---|---|---|---|",
    ]
    missing = []
    for nb in notebooks:
        run = (
            json.loads(nb.read_text(encoding="utf-8"))
            .get("metadata", {})
            .get("course", {})
            .get("run")
        )
        if not run:
            missing.append(nb.stem)
            continue
        runtime = f"{run['seconds']} s ({run.get('cpu_seconds', '?')} CPU-s)"
        if run.get("mode") != "full":
            runtime += f", {run.get('mode')} mode"
        machine = (
            f"{run['cpu']}, {run['threads']} thread{'s' if run['threads'] != 1 else ''}, "
            f"{run['device']}, torch {run['torch']}, {run['date']}"
        )
        for index, c in enumerate(
            run["claims"]
            or [{"claim": "(no claims)", "figure": "", "holds": True, "tested": False}]
        ):
            spread_of = seeds.get(nb.stem, {}).get(c["claim"], {})
            spread_text = f"{spread_of['spread']} (held {spread_of['held']})" if spread_of else "—"
            lines.append(
                "| "
                + " | ".join(
                    cell(x)
                    for x in (
                        nb.stem if index == 0 else "",
                        c["claim"],
                        c["figure"],
                        "yes" if c["holds"] else "**NO**" if c["tested"] else "no",
                        "yes" if c["tested"] else "no",
                        spread_text,
                        runtime if index == 0 else "",
                        machine if index == 0 else "",
                    )
                )
                + " |"
            )
    if missing:
        lines += ["", "No full-mode run recorded yet: " + ", ".join(missing) + "."]
    return "\n".join(lines) + "\n"


def write_table(folder: Path, target: Path) -> None:
    seeds = json.loads(SEEDS_FILE.read_text(encoding="utf-8")) if SEEDS_FILE.exists() else {}
    notebooks = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(claims_markdown(notebooks, seeds), encoding="utf-8")
    print(f"table of claims: {target}")


def per_claim_spread(runs) -> dict:
    """{notebook: {claim: {"spread", "held"}}} over the seed runs (for docs/claims.md)."""
    found: dict = {}
    for per_notebook in zip(*runs):
        name = per_notebook[0][0]
        for records in zip(*(claims for _, claims, _, _ in per_notebook)):
            tested = [r for r in records if r.get("tested", True)]
            found.setdefault(name, {})[records[0]["claim"]] = {
                "spread": spread([r["figure"] for r in records]),
                "held": f"{sum(r['holds'] for r in tested)}/{len(tested)}"
                if tested
                else "not tested",
            }
    return found


def write_seeds(found: dict) -> None:
    """Merge these notebooks' spreads into SEEDS_FILE (other notebooks' entries are kept)."""
    known = json.loads(SEEDS_FILE.read_text(encoding="utf-8")) if SEEDS_FILE.exists() else {}
    known.update(found)
    SEEDS_FILE.parent.mkdir(parents=True, exist_ok=True)
    SEEDS_FILE.write_text(json.dumps(known, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"spreads: {SEEDS_FILE}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebooks", nargs="*", help="notebook numbers or names (default: all)")
    parser.add_argument("--fast", action="store_true", help="FAST mode instead of the full lesson")
    parser.add_argument(
        "--seeds", type=int, default=1, help="runs at seed offsets 0..N-1 (default 1)"
    )
    parser.add_argument(
        "--committed",
        action="store_true",
        help="with --seeds N: take seed offset 0 from each notebook's committed full-mode run "
        "(it must be fresh) and run only offsets 1..N-1",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="write each notebook with its outputs and run record, then docs/claims.md",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="with --write: independent chains in this many processes, 1 thread each",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="with --write: a folder for the notebooks and the table "
        "instead of notebooks/ and docs/claims.md",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="the one cache folder for every notebook "
        "(default: COURSE_CACHE_DIR, else the user cache)",
    )
    parser.add_argument(
        "--table", action="store_true", help="only rewrite docs/claims.md from the notebooks"
    )
    parser.add_argument("--no-table", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds takes a positive number of runs, e.g. --seeds 3")
    if args.jobs < 1 or (args.jobs > 1 and not args.write):
        parser.error("--jobs takes a positive number, with --write")
    if args.write and args.fast and not args.out:
        parser.error("--write --fast would commit FAST-mode outputs; add --out DIR to try it out")
    if args.committed and (args.seeds < 2 or args.fast or args.write):
        parser.error("--committed goes with a full-mode --seeds N of 2 or more")
    if args.write and args.seeds != 1:
        parser.error("--write records one run; measure spreads with --seeds separately")
    if args.table:
        write_table(ROOT / "notebooks", DOCS_TABLE)
        return 0
    if args.cache:
        os.environ["COURSE_CACHE_DIR"] = str(args.cache.expanduser().resolve())

    every = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    chosen = [
        nb
        for nb in every
        if not args.notebooks or any(nb.name.startswith(a) or nb.stem == a for a in args.notebooks)
    ]
    if not chosen:
        parser.error(f"no notebook matches {args.notebooks}")
    if args.write:
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
        if args.jobs > 1:
            code = write_in_parallel(chosen, args.jobs, args.out, args.fast)
        else:
            crashed = write_notebooks(chosen, args.out, args.fast)
            if crashed:
                print("not written or with a failed claim: " + ", ".join(crashed))
            code = 1 if crashed else 0
        if not args.no_table:
            write_table(
                args.out or ROOT / "notebooks", (args.out / "claims.md") if args.out else DOCS_TABLE
            )
        return code
    first = 0
    runs = []
    if args.committed:
        try:
            runs.append(committed_run(chosen))
        except ValueError as exc:
            parser.error(str(exc))
        first = 1
    with tempfile.TemporaryDirectory() as tmp:
        runs += [run_once(chosen, args.fast, k, Path(tmp)) for k in range(first, args.seeds)]

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
            figure = (
                records[0]["figure"]
                if len(records) == 1
                else spread([r["figure"] for r in records])
            )
            rows.append((name, records[0]["claim"], figure, result))
        for _, _, error, _ in per_notebook:
            if error:
                rows.append((name, "notebook runs to the end", error[:120], "FAILS"))
                failures += 1
        seconds = [s for _, _, _, s in per_notebook]
        rows.append(
            (name, "runtime", " / ".join(f"{s:.0f} s" for s in seconds) + f" ({mode} mode)", "")
        )

    header = "| notebook | claim | figure | result |\n|---|---|---|---|\n"
    table = header + "\n".join(f"| {n} | {c} | {f} | {r} |" for n, c, f, r in rows)
    print("\n" + table)
    print(f"\n{sum(r[3].startswith('holds') for r in rows)} rows hold, {failures} failures")
    if not args.fast and args.seeds > 1:
        write_seeds(per_claim_spread(runs))
    if not args.fast and not args.notebooks and args.seeds == 1:
        out = ROOT / "benchmarks" / "results"
        out.mkdir(exist_ok=True)
        (out / "claims.md").write_text(table + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
