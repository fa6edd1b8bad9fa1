"""``python -m course doctor``: check that this machine can run the course, and say how to fix what
cannot.

Every check is a small function that returns ``Check`` rows; nothing here downloads, starts a server
or trains, so the whole report takes a few seconds and works offline. The exit code is 1 when a
check FAILs (something a lesson needs is missing), 0 otherwise (warnings are advice, not errors).
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import platform
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

OK, WARN, FAIL, INFO = "ok", "warn", "FAIL", "info"
MIN_PYTHON = (3, 10)
DISTRIBUTION = "llm-course"
# Used when the course is not installed as a distribution (a bare checkout on sys.path): the same
# list as pyproject.toml's dependencies, so the report still says what is missing.
FALLBACK_REQUIREMENTS = [
    "torch>=2.1,<3",
    "numpy>=1.24",
    "matplotlib>=3.7",
    "ipywidgets>=8",
    "jupyterlab>=4",
    "bertviz>=1.4",
    "tqdm>=4.60",
    "safetensors>=0.4",
    "gensim>=4.3",
    "scipy>=1.10",
    "scikit-learn>=1.3",
    "vaderSentiment>=3.3",
    "names>=0.3",
]
INSTALL_FIX = (
    "from the course folder run `make install` (or `pip install -e .` in your environment)"
)


@dataclass
class Check:
    """One line of the report: what was checked, its status, what was found, and the fix if any."""

    topic: str
    status: str
    detail: str
    fix: str = ""


# ----------------------------------------------------------------------------- python and packages
def check_python() -> list[Check]:
    version = ".".join(map(str, sys.version_info[:3]))
    where = f"{version} at {sys.executable}"
    if sys.version_info[:2] < MIN_PYTHON:
        return [
            Check(
                "python",
                FAIL,
                where,
                f"the course needs Python >= {'.'.join(map(str, MIN_PYTHON))}; "
                "install a newer Python and re-create the environment",
            )
        ]
    return [Check("python", OK, where)]


def _requirements() -> list[str]:
    try:
        declared = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return list(FALLBACK_REQUIREMENTS)
    # Only the core dependencies: extras (``; extra == "dev"``) are for developers.
    return [r for r in declared if ";" not in r or "extra" not in r.split(";", 1)[1]]


def _split(requirement: str) -> tuple[str, str]:
    """``'torch>=2.1,<3'`` -> ``('torch', '>=2.1,<3')`` (markers dropped)."""
    requirement = requirement.split(";")[0].strip()
    match = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
    return (match.group(1), match.group(3).strip()) if match else (requirement, "")


def _satisfies(version: str, spec: str) -> bool | None:
    """Whether ``version`` meets ``spec``; None when that cannot be decided (no `packaging`)."""
    if not spec:
        return True
    try:
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version
    except ImportError:
        return None
    return Version(version) in SpecifierSet(spec)


def check_packages() -> list[Check]:
    rows = []
    for requirement in _requirements():
        name, spec = _split(requirement)
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            rows.append(
                Check(
                    name, FAIL, "not installed", f"`pip install '{name}{spec}'`, or {INSTALL_FIX}"
                )
            )
            continue
        fits = _satisfies(version, spec)
        if fits is False:
            rows.append(
                Check(
                    name, FAIL, f"{version} does not meet {spec}", f"`pip install '{name}{spec}'`"
                )
            )
        else:
            rows.append(Check(name, OK, version + (f" (needs {spec})" if spec else "")))
    try:
        course_version = metadata.version(DISTRIBUTION)
        rows.append(
            Check(
                DISTRIBUTION,
                OK,
                f"{course_version}, package at {Path(__file__).resolve().parents[1]}",
            )
        )
    except metadata.PackageNotFoundError:
        rows.append(
            Check(DISTRIBUTION, WARN, "imported from a folder but not installed", INSTALL_FIX)
        )
    return rows


# ----------------------------------------------------------------------------- device
def check_device() -> list[Check]:
    try:
        import torch
    except ImportError:
        return [
            Check(
                "device",
                FAIL,
                "torch is not installed",
                "`pip install torch==2.13.0` first, then " + INSTALL_FIX,
            )
        ]
    from course.device import get_device

    try:
        device = get_device()
    except (ValueError, RuntimeError) as error:
        return [
            Check(
                "device",
                FAIL,
                str(error),
                "unset COURSE_DEVICE or set it to a device this machine has",
            )
        ]
    rows = []
    if device.type == "cuda":
        index = device.index or 0
        props = torch.cuda.get_device_properties(index)
        free, total = torch.cuda.mem_get_info(index)
        rows.append(
            Check(
                "device",
                OK,
                f"cuda:{index} {props.name}, compute capability {props.major}.{props.minor}",
            )
        )
        status = OK if total >= 4 * 2**30 else WARN
        rows.append(
            Check(
                "GPU memory",
                status,
                f"{free / 2**30:.1f} GiB free of {total / 2**30:.1f} GiB",
                ""
                if status == OK
                else "under 4 GiB: the later lessons may run out of memory; "
                "close other GPU programs or set COURSE_DEVICE=cpu",
            )
        )
        if not torch.cuda.is_bf16_supported():
            rows.append(
                Check(
                    "bf16", WARN, "this GPU has no fast bfloat16", "lessons still run, but slower"
                )
            )
    elif device.type == "mps":
        rows.append(Check("device", OK, "Apple GPU (mps)"))
    else:
        detail = f"CPU, {torch.get_num_threads()} threads (torch {torch.__version__})"
        if shutil.which("nvidia-smi") and not torch.version.cuda:
            rows.append(
                Check(
                    "device",
                    WARN,
                    detail + "; an NVIDIA driver is present but this torch is a CPU build",
                    "install a CUDA build of torch 2.13.0 (see "
                    "https://pytorch.org/get-started/locally/)",
                )
            )
        else:
            rows.append(
                Check(
                    "device",
                    OK,
                    detail + "; no GPU found, every lesson runs on the CPU (GPU is faster, "
                    "e.g. Colab's GPU runtime)",
                )
            )
    if os.environ.get("COURSE_DEVICE"):
        rows.append(
            Check(
                "COURSE_DEVICE",
                INFO,
                f"set to {os.environ['COURSE_DEVICE']!r}: overrides the choice",
            )
        )
    return rows


# ----------------------------------------------------------------------------- data
def check_data() -> list[Check]:
    from course import data

    rows = []
    data_dir = os.environ.get("COURSE_DATA_DIR", "").strip()
    if not data_dir:
        rows.append(
            Check("COURSE_DATA_DIR", INFO, "not set (datasets come from the cache or a download)")
        )
    elif not Path(data_dir).expanduser().is_dir():
        rows.append(
            Check(
                "COURSE_DATA_DIR",
                FAIL,
                f"{data_dir} is not a folder",
                "point it at the folder that holds the datasets, or unset it",
            )
        )
    else:
        rows.append(Check("COURSE_DATA_DIR", OK, data_dir))
    rows.append(
        Check(
            "cache",
            INFO,
            str(data.cache_dir()) + ("" if data.cache_dir().is_dir() else " (not created yet)"),
        )
    )
    offline = data._offline()
    if offline:
        rows.append(
            Check(
                "COURSE_OFFLINE", INFO, "set: no download is tried; missing data falls back at once"
            )
        )
    for name, entry in data.REGISTRY.items():
        rows.append(_dataset_row(name, entry, data, data_dir, offline))
    return rows


def _dataset_row(name, entry, data, data_dir: str, offline: bool) -> Check:
    # Report a corrupt copy explicitly (locate() would only print and move on).
    bad = []
    for folder in ([Path(data_dir).expanduser()] if data_dir else []) + [data.cache_dir()]:
        candidate = folder / entry.filename
        if candidate.is_file():
            if candidate.stat().st_size == entry.size and data.sha256_of(candidate) == entry.sha256:
                return Check(f"data: {name}", OK, f"{candidate} (sha256 verified)")
            bad.append(str(candidate))
    if bad:
        return Check(
            f"data: {name}",
            FAIL,
            f"{', '.join(bad)}: size or sha256 differs from the registry",
            f"delete it and run `python -m course download` (or copy a good {entry.filename})",
        )
    later = (
        "falls back to " + entry.fallback_notice
        if entry.fallback
        else "the lessons that use it will stop"
    )
    if offline:
        return Check(
            f"data: {name}",
            WARN,
            f"not on disk and COURSE_OFFLINE is set: {later}",
            "run `python -m course download` where there is internet, then set COURSE_DATA_DIR",
        )
    return Check(
        f"data: {name}",
        WARN,
        "not on disk yet: downloaded on first use "
        f"({entry.size / 1e6:.1f} MB; without internet it {later})",
        "`python -m course download` fetches every dataset now (an offline classroom needs this)",
    )


# ----------------------------------------------------------------------------- jupyter
def _labextension_dirs() -> list[Path]:
    try:
        from jupyter_core.paths import jupyter_path

        return [Path(p) for p in jupyter_path("labextensions")]
    except ImportError:
        return [Path(sys.prefix) / "share" / "jupyter" / "labextensions"]


def check_jupyter() -> list[Check]:
    rows = []
    # Versions from the installed metadata: importing jupyterlab would pull in the whole server
    # (seconds).
    for module, name in (("jupyterlab", "JupyterLab"), ("ipykernel", "ipykernel")):
        try:
            rows.append(Check(name, OK, metadata.version(module)))
        except metadata.PackageNotFoundError:
            rows.append(
                Check(name, FAIL, "not installed", f"`pip install {module}`, or {INSTALL_FIX}")
            )
    # ipywidgets 8 needs its JupyterLab front end (the prebuilt extension that jupyterlab_widgets
    # ships); without it sliders show as text like "IntSlider(value=3)".
    found = [d / "@jupyter-widgets" / "jupyterlab-manager" for d in _labextension_dirs()]
    found = [d for d in found if (d / "package.json").is_file()]
    if found:
        version = json.loads((found[0] / "package.json").read_text(encoding="utf-8")).get(
            "version", "?"
        )
        rows.append(
            Check(
                "ipywidgets extension",
                OK,
                f"@jupyter-widgets/jupyterlab-manager {version} in {found[0].parent.parent}",
            )
        )
    else:
        rows.append(
            Check(
                "ipywidgets extension",
                FAIL,
                "JupyterLab will show widgets as plain text",
                "`pip install 'ipywidgets>=8' jupyterlab_widgets` in the environment that runs "
                "JupyterLab",
            )
        )
    rows.extend(_kernel_rows())
    return rows


def _kernel_rows() -> list[Check]:
    """The notebooks ask for the ``python3`` kernel: it must be a Python that can import the
    course."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        return []
    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return [
            Check(
                "kernel python3",
                FAIL,
                "no kernel named python3",
                f"`{sys.executable} -m ipykernel install --user --name python3`",
            )
        ]
    executable = spec.argv[0] if spec.argv else ""
    if executable in {"python", "python3", "{python}"} or not os.path.isabs(executable):
        # ipykernel's built-in spec runs "python": the interpreter JupyterLab itself runs in.
        return [
            Check(
                "kernel python3",
                OK,
                f"runs `{executable}` from the environment that starts JupyterLab",
            )
        ]
    if Path(executable).resolve() == Path(sys.executable).resolve():
        return [Check("kernel python3", OK, executable)]
    return [
        Check(
            "kernel python3",
            WARN,
            f"runs {executable}, not this Python ({sys.executable}); "
            "the notebooks may not find the course package",
            f"`{sys.executable} -m ipykernel install --user --name python3` (or install the course "
            "there)",
        )
    ]


def check_mode() -> list[Check]:
    from course.config import is_fast

    return [
        Check(
            "COURSE_FAST",
            INFO,
            "FAST mode (CI sizes: quick, weaker results)" if is_fast() else "full lesson mode",
        )
    ]


CHECKS = (check_python, check_packages, check_device, check_data, check_jupyter, check_mode)


def run_checks() -> list[Check]:
    """Every row of the report; a check that crashes becomes a FAIL row instead of a traceback."""
    rows = []
    for check in CHECKS:
        try:
            rows.extend(check())
        except Exception as error:  # a doctor must report, never crash
            rows.append(
                Check(
                    check.__name__.removeprefix("check_"),
                    FAIL,
                    f"the check itself failed: {error!r}",
                    "please report this with the output of `python -m course doctor`",
                )
            )
    return rows


def render(rows: list[Check]) -> str:
    width = max(len(r.topic) for r in rows)
    lines = [f"llm-course doctor · {platform.system()} {platform.machine()}"]
    for row in rows:
        lines.append(f"  [{row.status:>4}] {row.topic:<{width}}  {row.detail}")
        if row.fix and row.status in (WARN, FAIL):
            lines.append(f"  {'':>6} {'':<{width}}  fix: {row.fix}")
    failed = sum(r.status == FAIL for r in rows)
    warned = sum(r.status == WARN for r in rows)
    lines.append(
        f"{failed} problem(s), {warned} warning(s)"
        + ("" if failed else ": ready to run the course")
    )
    return "\n".join(lines)


def command(args) -> int:
    rows = run_checks()
    print(render(rows))
    return 1 if any(r.status == FAIL for r in rows) else 0


def register(commands) -> None:
    parser = commands.add_parser(
        "doctor",
        help="check Python, packages, device, data and JupyterLab (offline, seconds)",
        description=__doc__,
    )
    parser.set_defaults(handler=command)
