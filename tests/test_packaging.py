"""pyproject.toml and environment.yml must list the same dependencies; torch 2.13.0 must satisfy
ours."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _conda_pip_section() -> list[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    entries = []
    for line in lines[start + 1 :]:
        if not line.startswith("      - "):
            break
        entries.append(line.strip()[2:])
    return entries


def test_conda_environment_and_pyproject_agree():
    ours = {_name(r): r.replace(" ", "") for r in _pyproject()["dependencies"]}
    conda = {_name(r): r for r in _conda_pip_section() if not r.startswith("-e")}
    assert set(conda) == set(ours)
    for name, requirement in conda.items():
        if name != "torch":
            assert requirement == ours[name], (
                f"{name}: environment.yml says {requirement}, pyproject {ours[name]}"
            )
    assert conda["torch"] == "torch==2.13.0"
    assert "-e .[dev]" in _conda_pip_section()


def test_conda_environment_pins_python_311():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s+- python=3\.11$", text, re.M) and re.search(r"^\s+- pip$", text, re.M)


def test_torch_range_admits_the_local_build():
    from packaging.specifiers import SpecifierSet

    torch_req = next(r for r in _pyproject()["dependencies"] if _name(r) == "torch")
    assert SpecifierSet(torch_req[len("torch") :]).contains("2.13.0")
    assert _pyproject()["requires-python"] == ">=3.10"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"`(make test)`", readme).group(1)
    ci = (ROOT / ".ci" / "run").read_text()
    assert command in ci and "torch==2.13.0" in (ROOT / "Makefile").read_text()
