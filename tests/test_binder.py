"""The Binder / JupyterHub image: binder/ is what repo2docker reads, and it must install what
pyproject asks.

Without a Docker daemon no image can be built here; what can be checked is the configuration itself
and, when `jupyter-repo2docker` is installed, the build pack it picks and the Dockerfile it would
run."""

import os
from pathlib import Path

import pytest
from test_packaging import _name, _pyproject

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"


def _pip_section(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    return [line.strip()[2:] for line in lines[start + 1 :] if line.startswith("      - ")]


def test_binder_installs_the_same_dependencies_as_pyproject_with_cpu_torch():
    entries = _pip_section(BINDER / "environment.yml")
    packages = [e for e in entries if not e.startswith("-")]
    ours = {_name(r): r.replace(" ", "") for r in _pyproject()["dependencies"]}
    assert {_name(p) for p in packages} == set(ours)
    for requirement in packages:
        if _name(requirement) != "torch":
            assert requirement == ours[_name(requirement)]
    assert "torch==2.13.0" in packages
    # The CPU wheel index: pip then takes torch 2.13.0+cpu instead of the multi-GB CUDA build.
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in entries
    # No local install in the environment file: repo2docker installs it before copying the
    # repository.
    assert not any(e.startswith("-e") for e in entries)


def test_post_build_installs_the_course_without_touching_its_dependencies():
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK), "repo2docker runs postBuild only when it is executable"
    text = post_build.read_text()
    assert text.startswith("#!/bin/bash") and "pip install --no-deps -e ." in text


def test_repo2docker_picks_the_conda_build_pack_and_runs_post_build(monkeypatch):
    buildpacks = pytest.importorskip("repo2docker.buildpacks")
    monkeypatch.chdir(ROOT)  # repo2docker detects files relative to the working directory
    pack = buildpacks.CondaBuildPack("buildpack-deps:jammy")
    pack.platform = "linux/amd64"
    assert pack.detect() and pack.binder_dir == "binder" and pack.python_version == "3.11"
    dockerfile = pack.render()
    assert "binder/environment.yml" in dockerfile
    assert "binder/postBuild" in dockerfile


def test_readme_has_a_binder_badge_that_opens_the_first_notebook():
    readme = (ROOT / "README.md").read_text()
    assert (
        "https://mybinder.org/v2/gh/llm-course/llm-course/main?urlpath=lab/tree/notebooks/00_welcome.ipynb"
        in readme
    )
    assert (ROOT / "notebooks" / "00_welcome.ipynb").is_file()
