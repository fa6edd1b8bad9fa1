# Set-up and everyday commands. PYTHON may point at any Python >= 3.10.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export COURSE_DATA_DIR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)

.PHONY: install lab test unit lint format claims book benchmarks clean-notebooks doctor download

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch==2.13.0 first: the package's own range (torch>=2.1,<3) is then satisfied and pulls nothing more.
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

lab: install
	$(BIN)/jupyter labextension disable "@jupyterlab/apputils-extension:announcements" >/dev/null 2>&1 || true
	$(BIN)/jupyter lab notebooks/

# The whole suite, FAST mode: unit tests, then every notebook under nbval (two workers, one notebook
# each). One thread per worker: two workers with two threads each on two cores run ten times slower.
test: install
	COURSE_FAST=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env tests notebooks

unit:
	$(BIN)/python -m pytest -p no:nbval -q tests

# ruff, configured in pyproject.toml: lint, then check the formatting (course/, tests/, benchmarks/,
# notebooks/). `make format` applies both fixes. Seconds.
LINTED := course tests benchmarks notebooks
lint:
	$(BIN)/python -m ruff check $(LINTED)
	$(BIN)/python -m ruff format --check $(LINTED)
	$(BIN)/python -m mypy  # course/, configured in pyproject.toml (a ratchet)

# ruff writes a notebook's cell sources as lists of lines: `course clean` puts them back as the
# single strings the course commits.
format:
	$(BIN)/python -m ruff check --fix $(LINTED)
	$(BIN)/python -m ruff format $(LINTED)
	$(BIN)/python -m course clean notebooks/*.ipynb

# Every notebook (or NB="09 10") in full mode, written back with its outputs and run record, then
# docs/claims.md. JOBS=2: the two independent chains side by side, one thread each.
claims:
	$(BIN)/python benchmarks/claims.py --write --jobs $(or $(JOBS),1) $(NB)

# The executed notebooks as a static site that works offline: artifacts/book/index.html
book:
	$(BIN)/python -m course.book

benchmarks:
	$(BIN)/python benchmarks/run_all.py

clean-notebooks:
	$(BIN)/python -m course clean notebooks/*.ipynb

doctor:
	$(BIN)/python -m course doctor

download:
	$(BIN)/python -m course download
