"""Every lesson notebook follows the written policy (course/notebooks.py and CONTRIBUTING.md).

Static checks (milliseconds per notebook): committed in the form `python -m course clean` gives
(outputs of the last full-mode run allowed, but no widget state, no error output, no path of one
machine in an output, under SIZE_CAP bytes; only the kernelspec/language_info metadata and the run
record `metadata.course.run`), numbered in order, a `# NN · Title` first cell with learning goals
and the time on CPU and GPU, a second cell that picks the device, no machine-specific paths, budgets
only through `budget(...)`, seeds set, and 2–4 exercises with checks from notebook 01 on.

Dynamic check (about a minute): one notebook (00 by default; COURSE_HYGIENE_NOTEBOOK=NN picks one)
runs twice in FAST mode, in two fresh kernels side by side, and prints the same seeded results.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course import notebooks as policy

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.glob("*.ipynb"))
NAME = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
# Paths that exist only on the author's machine; a learner's copy would break on them.
MACHINE_PATHS = re.compile(
    r"(?<![\w.])(/work/|/root/|/home/[\w.-]+/|/Users/[\w.-]+/|/tmp/[\w.-]+|[A-Z]:\\\\Users\\\\)"
)
GOALS = re.compile(
    r"what you will (build|learn|be able)|learning goals|you will be able to", re.IGNORECASE
)

pytestmark = pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _ids(paths):
    return [p.stem for p in paths]


# ----------------------------------------------------------------------------- the set of notebooks
def test_notebooks_are_named_and_numbered_in_order():
    numbers = []
    for path in NOTEBOOKS:
        match = NAME.match(path.name)
        assert match, (
            f"{path.name}: name notebooks NN_short_name.ipynb (lower case, digits, underscores)"
        )
        numbers.append(int(match.group(1)))
    assert numbers == list(range(len(numbers))), (
        f"notebooks are numbered {numbers}: they must run 00, 01, 02 ... with no gap or duplicate"
    )


# ------------------------------------------------------------------------ each notebook, statically
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_valid_nbformat_4(path):
    # The structure nbformat's schema requires, checked directly: the full jsonschema validation
    # costs seconds per run, and this test must stay cheap.
    nb = _load(path)
    assert nb.get("nbformat") == 4 and isinstance(nb.get("nbformat_minor"), int), (
        f"{path.name}: not nbformat 4"
    )
    assert isinstance(nb.get("cells"), list) and nb["cells"], f"{path.name}: no cells"
    for index, cell in enumerate(nb["cells"]):
        assert cell.get("cell_type") in {"code", "markdown", "raw"}, (
            f"{path.name} cell {index}: bad cell_type"
        )
        assert isinstance(cell.get("source"), (str, list)) and isinstance(
            cell.get("metadata"), dict
        )
        if cell["cell_type"] == "code":
            assert "outputs" in cell and "execution_count" in cell, (
                f"{path.name} cell {index}: not a valid code cell"
            )


# A notebook with its full-mode outputs: figures at course.notebooks.FIGURE_DPI stay well under this
SIZE_CAP = 1_500_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_clean_metadata_and_outputs(path):
    nb = _load(path)
    assert set(nb["metadata"]) <= policy.ALLOWED_METADATA and all(
        nb["metadata"].get(k) == v
        for k, v in {"kernelspec": policy.KERNELSPEC, "language_info": policy.LANGUAGE_INFO}.items()
    ), (
        f"{path.name}: notebook metadata {sorted(nb['metadata'])} is not the policy's; "
        f"run `python -m course clean {path}`"
    )
    assert set(nb["metadata"].get("course", {})) <= {"run"}, (
        f"{path.name}: metadata.course holds only 'run'"
    )
    assert policy.WIDGET_STATE not in json.dumps(nb["metadata"]), (
        f"{path.name}: widget state in its metadata"
    )
    for index, cell in enumerate(nb["cells"]):
        stray = set(cell.get("metadata", {})) - policy.ALLOWED_CELL_METADATA
        assert not stray, (
            f"{path.name} cell {index}: stray metadata {sorted(stray)}; "
            "run `python -m course clean`"
        )
        if cell["cell_type"] != "code":
            continue
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", (
                f"{path.name} cell {index} was committed with an error output: "
                f"{output.get('ename')}"
            )
            assert policy.WIDGET_VIEW not in output.get("data", {}), (
                f"{path.name} cell {index}: a live widget view in its outputs; "
                "run `python -m course clean`"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_outputs_hold_no_machine_paths_and_stay_small(path):
    size = path.stat().st_size
    assert size < SIZE_CAP, (
        f"{path.name} is {size:,} bytes (cap {SIZE_CAP:,}): lower the figures' dpi or print less"
    )
    for index, cell in enumerate(_load(path)["cells"]):
        for output in cell.get("outputs", []):
            text = json.dumps({k: v for k, v in output.items() if k != "data"})
            text += json.dumps(
                {m: v for m, v in output.get("data", {}).items() if m not in policy.BINARY_MIME}
            )
            found = MACHINE_PATHS.search(text)
            assert not found, (
                f"{path.name} cell {index} printed {found.group(0)!r}, a path on one machine "
                "only; `python -m course clean` replaces it (or print a relative path)"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_cleaning_changes_nothing(path, tmp_path):
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    assert not policy.clean(copy), (
        f"{path.name} is not in the committed form; run `python -m course clean {path}`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_first_cell_title_goals_and_time(path):
    first = _load(path)["cells"][0]
    assert first["cell_type"] == "markdown", (
        f"{path.name}: the first cell must be markdown (title and goals)"
    )
    text = _source(first)
    number = path.name[:2]
    assert re.match(rf"# {number} · \S", text), (
        f"{path.name}: the first line must be '# {number} · Title'"
    )
    assert GOALS.search(text), (
        f"{path.name}: the first cell needs the learning goals ('What you will build' ...)"
    )
    assert "CPU" in text and "GPU" in text, (
        f"{path.name}: the first cell must say the time needed on CPU and on GPU"
    )


def _is_colab_cell(cell: dict) -> bool:
    return cell["cell_type"] == "code" and _source(cell).startswith(COLAB_MARKER)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_second_cell_picks_the_device(path):
    cells = _load(path)["cells"]
    # The Colab set-up cell (docs/colab.md), when present, sits between the title and device cell.
    index = 2 if len(cells) > 1 and _is_colab_cell(cells[1]) else 1
    assert len(cells) > index and cells[index]["cell_type"] == "code", (
        f"{path.name}: cell {index + 1} must be code"
    )
    assert "get_device(" in _source(cells[index]), (
        f"{path.name}: the code cell after the title must call get_device(verbose=True)"
    )


# ---------------------------------------------------------------------------- the Colab set-up cell
COLAB_DOC = ROOT / "docs" / "colab.md"
COLAB_MARKER = "# Colab set-up"


def recommended_colab_cell() -> str:
    """The set-up cell exactly as docs/colab.md gives it."""
    blocks = re.findall(r"```python\n(.*?)```", COLAB_DOC.read_text(encoding="utf-8"), re.S)
    cells = [b for b in blocks if b.startswith(COLAB_MARKER)]
    assert len(cells) == 1, (
        "docs/colab.md must hold exactly one ```python block starting with '# Colab set-up'"
    )
    return cells[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_colab_cell_is_the_documented_one(path):
    cells = _load(path)["cells"]
    found = [i for i, c in enumerate(cells) if _is_colab_cell(c)]
    assert found, (
        f"{path.name} has no Colab set-up cell: copy the one in docs/colab.md after the title"
    )
    assert found == [1], (
        f"{path.name}: the Colab set-up cell must be the one code cell right after the title"
    )
    assert _source(cells[1]).strip() == recommended_colab_cell().strip(), (
        f"{path.name}: its Colab cell differs from docs/colab.md; copy the documented one"
    )


def test_colab_cell_does_nothing_outside_colab(monkeypatch):
    import subprocess as subprocess_module

    calls = []
    monkeypatch.setattr(subprocess_module, "run", lambda *a, **k: calls.append(a))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    exec(compile(recommended_colab_cell(), "colab-cell", "exec"), {})
    assert calls == []


def test_colab_cell_installs_the_course_on_colab(monkeypatch):
    import importlib.util
    import subprocess as subprocess_module
    import types

    calls, widgets = [], []
    monkeypatch.setattr(subprocess_module, "run", lambda command, **k: calls.append((command, k)))
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: widgets.append(True))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "course" else real_find_spec(name, *a),
    )
    exec(compile(recommended_colab_cell(), "colab-cell", "exec"), {})
    ((command, options),) = calls
    assert command[1:4] == ["-m", "pip", "install"] and command[-1].startswith(
        "llm-course @ git+https://github.com/"
    )
    assert options.get("check") is True and widgets == [True]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_no_machine_specific_paths(path):
    for index, cell in enumerate(_load(path)["cells"]):
        found = MACHINE_PATHS.search(_source(cell))
        assert not found, (
            f"{path.name} cell {index} mentions {found.group(0)!r}, a path on one machine only; "
            "use tempfile, Path.home() or course.data"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_budgets_and_seeds_follow_the_conventions(path):
    code = "\n".join(_source(c) for c in _load(path)["cells"] if c["cell_type"] == "code")
    assert not re.search(r"environ[^\n]*COURSE_FAST|getenv\([^)]*COURSE_FAST", code), (
        f"{path.name} reads COURSE_FAST itself; use course.budget(full=..., fast=...)"
    )
    assert "seed_everything(" in code, (
        f"{path.name}: call seed_everything(0) before anything random"
    )


EXERCISE_NOTEBOOKS = [p for p in NOTEBOOKS if NAME.match(p.name) and int(p.name[:2]) >= 1]


@pytest.mark.parametrize("path", EXERCISE_NOTEBOOKS, ids=_ids(EXERCISE_NOTEBOOKS))
def test_two_to_four_checked_exercises(path):
    code = "\n".join(_source(c) for c in _load(path)["cells"] if c["cell_type"] == "code")
    number = path.name[:2]
    assert re.search(rf"course\.exercises(\.nb{number}\b| import [^\n]*\bnb{number}\b)", code), (
        f"{path.name}: import the checks, e.g. `from course.exercises import nb{number} as check`"
    )
    checks = set(re.findall(r"\bcheck\.(\w+)\(", code))
    assert 2 <= len(checks) <= 4, (
        f"{path.name}: {len(checks)} exercise checks ({sorted(checks)}); the course wants 2–4"
    )


# ------------------------------------------------------------------------- runs twice, same results
# Lines that legitimately differ between runs: speeds and durations, progress bars, addresses,
# temporary folders.
VOLATILE = re.compile(
    r"\d[\d,.]*\s*(GFLOP/s|it/s|tokens?/s|/s|ms|µs|us|s|sec|seconds|min)\b|\d+%\||"
    r"0x[0-9a-f]{6,}|/tmp/|tmp[\w]{6,}|\[\d\d:\d\d",
    re.IGNORECASE,
)


def _printed_lines(path: Path) -> list[str]:
    import nbformat

    lines = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                lines += [f"cell {index}: {line}" for line in output["text"].splitlines()]
    return [line for line in lines if not VOLATILE.search(line)]


@pytest.mark.slow
def test_a_notebook_runs_twice_with_identical_seeded_results(tmp_path):
    key = os.environ.get("COURSE_HYGIENE_NOTEBOOK", "00")
    matches = sorted(NOTEBOOK_DIR.glob(f"{key}_*.ipynb"))
    if not matches:
        pytest.skip(f"no notebook {key}_*.ipynb yet")
    # One thread per kernel: two kernels share the CPU; equal thread counts keep float sums equal.
    env = dict(os.environ, OMP_NUM_THREADS="1")
    runs = []
    for name in (
        "first",
        "second",
    ):  # two fresh kernels side by side: the same seeds must give the same lines
        out = tmp_path / f"{name}.ipynb"
        command = [
            sys.executable,
            "-m",
            "course",
            "run",
            str(matches[0]),
            "--fast",
            "-o",
            str(out),
            "--timeout",
            "300",
        ]
        runs.append(
            (
                out,
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                ),
            )
        )
    reports = []
    for out, process in runs:
        log, _ = process.communicate(timeout=600)
        assert process.returncode == 0, f"{matches[0].name} failed in FAST mode:\n{log[-3000:]}"
        reports.append((log, out))
    claims = [
        [line for line in log.splitlines() if line.strip().startswith("[claim ")]
        for log, _ in reports
    ]
    assert claims[0], f"{matches[0].name} printed no claim, so there is nothing to compare"
    assert claims[0] == claims[1], "the two runs' claims differ:\n" + "\n".join(
        f"  {a}\n  {b}" for a, b in zip(*claims) if a != b
    )
    first, second = (_printed_lines(out) for _, out in reports)
    assert len(first) >= len(claims[0])
    assert first == second, "the two runs printed different lines:\n" + "\n".join(
        f"  {a}\n  {b}" for a, b in zip(first, second) if a != b
    )
