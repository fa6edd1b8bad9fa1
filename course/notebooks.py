"""Notebook housekeeping: the course's output policy, headless execution and the run record.

Policy: notebooks are committed *with the outputs of their last full-mode run* (``make claims``
writes them), so GitHub, nbviewer and a learner who opens a notebook before running it see the real
lesson. What is kept: outputs, execution counts, the kernelspec/language_info metadata and the run
record ``metadata["course"]["run"]`` (mode, the hash of the code that ran, date, time, machine, and
every claim's figure). What is stripped as noise: widget state (JupyterLab's saved
``application/vnd.jupyter.widget-state+json`` and live widget views, which mean nothing without a
kernel), per-cell execution timestamps and other stray metadata, and paths that exist on one
machine only (the cache, data and temporary folders, the home folder, the checkout).

``tests/test_notebook_hygiene.py`` enforces the form; ``tests/test_notebook_runs.py`` checks that
each committed run is full-mode, fresh (``code_sha256`` matches the code now) and that its claims
held. ``python -m course clean`` applies the form; ``python -m course run`` executes a notebook
headless (full or FAST mode) into a copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from course import atomic

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}
# "course": the run record that `make claims` writes (metadata["course"]["run"])
ALLOWED_METADATA = {"kernelspec", "language_info", "course"}
# nbgrader: the exercise cells' grading metadata (course.grading), which a teacher's nbgrader reads
ALLOWED_CELL_METADATA = {"tags", "jupyter", "collapsed", "nbgrader"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# What a reader of the static notebook sees where a live widget was (it needs a running kernel)
WIDGET_PLACEHOLDER = "[interactive widget: run the notebook to use it]"
# Binary outputs (base64): never searched for paths
BINARY_MIME = ("image/png", "image/jpeg", "image/gif")


def code_sha256(nb: dict) -> str:
    """The hash of a notebook's code: sha256 of its code cells' sources joined by a blank line.

    Each source counts as one string exactly as stored (a list of lines joined with no separator),
    so markdown edits and outputs never change it; any edit of code does."""
    sources = [_source(cell) for cell in nb["cells"] if cell.get("cell_type") == "code"]
    return hashlib.sha256("\n\n".join(sources).encode("utf-8")).hexdigest()


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def machine_paths(extra: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(path on this machine, what a committed notebook shows instead), longest path first.

    The user cache becomes the default a learner has (``~/.cache/llm-course``), the data folder
    ``$COURSE_DATA_DIR``, the checkout ``.``, the Python environment ``<python>``, the home folder
    ``~``; ``extra`` adds pairs (a test's own folder)."""
    from course.data import cache_dir

    home = Path.home()
    pairs = {
        str(Path(sys.prefix).resolve()): "<python>",
        str(Path(sys.prefix)): "<python>",
        str(Path(__file__).resolve().parents[1]): ".",
        str(home): "~",
        str(home.resolve()): "~",
    }
    data = os.environ.get("COURSE_DATA_DIR", "").strip()
    if data:
        pairs[str(Path(data).expanduser())] = "$COURSE_DATA_DIR"
        pairs[str(Path(data).expanduser().resolve())] = "$COURSE_DATA_DIR"
    for cache in (cache_dir(), cache_dir().resolve()):
        pairs[str(cache)] = "~/.cache/llm-course"
    pairs.update(extra or {})
    pairs = {path.rstrip("/"): shown for path, shown in pairs.items() if len(path.rstrip("/")) > 1}
    return sorted(pairs.items(), key=lambda pair: -len(pair[0]))


def sanitise_text(text: str, paths: list[tuple[str, str]]) -> str:
    """``text`` with every machine path replaced by what a committed notebook shows instead."""
    for path, shown in paths:
        pattern = r"(?<![\w./-])" + re.escape(path) + r"(?![\w.-])"
        text = re.sub(pattern, shown.replace("\\", "\\\\"), text)
    # a temporary folder and its random first component (tempfile, pytest), shown as <tmp>
    for root in {"/tmp", tempfile.gettempdir()}:
        text = re.sub(
            r"(?<![\w./-])" + re.escape(root.rstrip("/")) + r"(/[\w.-]+)?(?![\w.-])", "<tmp>", text
        )
    return text


def _sanitise_value(value, paths):
    if isinstance(value, str):
        return sanitise_text(value, paths)
    if isinstance(value, list):
        return [_sanitise_value(v, paths) for v in value]
    if isinstance(value, dict):
        return {k: _sanitise_value(v, paths) for k, v in value.items()}
    return value


def sanitise_output(output: dict, paths: list[tuple[str, str]]) -> dict:
    """One output without machine paths, a live widget view replaced by ``WIDGET_PLACEHOLDER``."""
    data = output.get("data")
    if isinstance(data, dict) and WIDGET_VIEW in data:
        return {
            "output_type": "display_data",
            "metadata": {},
            "data": {"text/plain": WIDGET_PLACEHOLDER},
        }
    output = dict(output)
    for key in ("text", "traceback", "evalue"):
        if key in output:
            output[key] = _sanitise_value(output[key], paths)
    if isinstance(data, dict):
        output["data"] = {
            mime: value if mime in BINARY_MIME else _sanitise_value(value, paths)
            for mime, value in data.items()
        }
    return output


def normalise(nb: dict, paths: list[tuple[str, str]] | None = None) -> dict:
    """The committed form of a notebook (in place, and returned): see the module docstring."""
    paths = machine_paths() if paths is None else paths
    metadata = {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}
    run = nb.get("metadata", {}).get("course", {}).get("run")
    if run:
        metadata["course"] = {"run": run}
    nb["metadata"] = metadata
    for cell in nb["cells"]:
        cell["metadata"] = {
            k: v for k, v in cell.get("metadata", {}).items() if k in ALLOWED_CELL_METADATA
        }
        if cell["cell_type"] == "code":
            cell["outputs"] = [sanitise_output(o, paths) for o in cell.get("outputs", [])]
            cell.setdefault("execution_count", None)
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return nb


def dumps(nb: dict) -> str:
    """A notebook as the course stores it: JSON, one-space indent, UTF-8 characters as they are."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def clean(path: str | Path) -> bool:
    """Bring a notebook into its committed form in place (outputs kept, noise stripped, see the
    module docstring); return True when the file changed."""
    path = Path(path)
    original = path.read_text(encoding="utf-8")
    try:
        nb = json.loads(original)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path} is not valid JSON ({error}), so it is not a notebook Jupyter can "
            "open; restore it (e.g. `git checkout -- FILE`) or repair it in a text "
            "editor"
        ) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{path} is JSON but not a notebook (no list of cells); give .ipynb files")
    text = dumps(normalise(nb))
    if text != original:
        atomic.write_text(path, text)
        return True
    return False


def execute(
    path: str | Path,
    output: str | Path | None = None,
    *,
    fast: bool = False,
    timeout: int = 1800,
    env: dict | None = None,
    cwd: str | Path | None = None,
) -> Path:
    """Run every cell of a notebook in a fresh kernel (cwd: the notebook's folder unless given) and
    save the executed copy to ``output`` (default: beside it, ``NAME.executed.ipynb``)."""
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
        NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(cwd or path.parent)}},
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    with atomic.replacing(output) as tmp:  # an interrupted write never leaves half a notebook
        nbformat.write(nb, str(tmp))
    return output


# ------------------------------------------------------------------------- the full-mode run record
# Appended to the copy that runs, then removed: what the kernel itself saw (threads, torch, device)
PROBE_MARK = "COURSE_RUN_PROBE "
PROBE_CELL = f"""import json as _json, time as _time, torch as _torch
from course.device import get_device as _get_device
_device = _get_device()
_name = _torch.cuda.get_device_name(_device) if _device.type == "cuda" else ""
print({PROBE_MARK!r} + _json.dumps({{
      "threads": _torch.get_num_threads(), "torch": _torch.__version__,
      "device": _device.type + (f" ({{_name}})" if _name else ""),
      "cpu_seconds": round(_time.process_time())}}))
"""


def cpu_description() -> str:
    """This machine's processor and its number of logical cores: 'AMD EPYC 7B13 (2 cores)'."""
    import platform

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith(("model name", "hardware")):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine() or "unknown CPU"
    return f"{model} ({os.cpu_count()} cores)"


# Figures in committed notebooks: PNG (a line plot is a few KB; an SVG of a heatmap or a scatter of
# thousands of points is larger) at a modest resolution, read by matplotlib from MATPLOTLIBRC.
FIGURE_DPI = 72


def run_and_record(
    path: str | Path,
    *,
    fast: bool = False,
    timeout: int = 1800,
    env: dict | None = None,
    output: str | Path | None = None,
    dpi: int | None = FIGURE_DPI,
) -> dict:
    """Execute a notebook, then write it with its outputs and its run record (see the module
    docstring) to ``output`` (default: in place), atomically; return the record.

    The record: ``{"mode", "code_sha256", "date", "seconds", "cpu", "threads", "torch", "device",
    "cpu_seconds", "claims": [{"claim", "figure", "holds", "tested"}]}``. Claims are recorded and
    the
    notebook carries on past a failed one (COURSE_CLAIMS_CONTINUE=1), so the record shows them all.
    A notebook that crashes raises (nbclient's CellExecutionError) and nothing is written.
    ``dpi``: matplotlib's figure resolution for this run (None: the learner's default, 100).
    """
    import datetime
    import time

    import nbformat

    path = Path(path)
    output = Path(output) if output else path
    source = json.loads(path.read_text(encoding="utf-8"))
    digest = code_sha256(source)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runnable = nbformat.reads(json.dumps(source), as_version=4)
        runnable.cells.append(nbformat.v4.new_code_cell(PROBE_CELL))
        copy = tmp / path.name
        nbformat.write(runnable, str(copy))
        claims_file = tmp / "claims.jsonl"
        env = dict(env or {})
        if dpi:
            (tmp / "matplotlibrc").write_text(f"figure.dpi: {dpi}\n", encoding="utf-8")
            env["MATPLOTLIBRC"] = str(tmp / "matplotlibrc")
        began = time.perf_counter()
        execute(
            copy,
            tmp / "executed.ipynb",
            fast=fast,
            timeout=timeout,
            cwd=path.resolve().parent,
            env={**env, "COURSE_CLAIMS_FILE": str(claims_file), "COURSE_CLAIMS_CONTINUE": "1"},
        )
        seconds = time.perf_counter() - began
        executed = json.loads((tmp / "executed.ipynb").read_text(encoding="utf-8"))
        claims = (
            [
                json.loads(line)
                for line in claims_file.read_text(encoding="utf-8").splitlines()
                if line.strip()
            ]
            if claims_file.exists()
            else []
        )
    probe = executed["cells"].pop()
    printed = "".join(_source({"source": o.get("text", "")}) for o in probe.get("outputs", []))
    found = [line for line in printed.splitlines() if line.startswith(PROBE_MARK)]
    if not found:
        raise RuntimeError(f"{path.name}: the run ended without reporting its threads and device")
    kernel = json.loads(found[-1][len(PROBE_MARK) :])
    # Outputs go onto the file as it is now: prose edited while the notebook ran is kept; code
    # edited meanwhile means the outputs are not this code's, and nothing is written.
    current = json.loads(path.read_text(encoding="utf-8"))
    if code_sha256(current) != digest:
        raise RuntimeError(f"{path.name}: its code changed while it ran; run it again")
    ran = [cell for cell in executed["cells"] if cell["cell_type"] == "code"]
    for cell, done in zip([c for c in current["cells"] if c["cell_type"] == "code"], ran):
        cell["outputs"], cell["execution_count"] = (
            done.get("outputs", []),
            done.get("execution_count"),
        )
    record = {
        "mode": "fast" if fast else "full",
        "code_sha256": digest,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "seconds": round(seconds),
        "cpu": cpu_description(),
        "threads": kernel["threads"],
        "torch": kernel["torch"],
        "device": kernel["device"],
        "cpu_seconds": kernel["cpu_seconds"],
        "claims": [{key: c[key] for key in ("claim", "figure", "holds", "tested")} for c in claims],
    }
    current.setdefault("metadata", {})["course"] = {"run": record}
    atomic.write_text(output, dumps(normalise(current)))
    return record
