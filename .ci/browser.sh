#!/usr/bin/env bash
# The real-browser end-to-end test (pytest marker `browser`): a JupyterLab server on 127.0.0.1 driven
# by Playwright with Debian's Chromium, every request off the machine refused: widgets, bertviz views
# and one of the course's own diagrams (notebooks/figures/) must render.
# Installs chromium with apt-get (Playwright's own browser download is never used) and playwright with
# pip into .venv, then runs `pytest -m browser`. Called by .ci/run after `make install`; about 2-3 min.
# Screenshots and logs: artifacts/browser/ (or $COURSE_BROWSER_ARTIFACTS).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

if [ ! -x .venv/bin/python ]; then
  echo "no .venv: run \`make install\` first" >&2
  exit 1
fi

# libjs-katex: the math of the offline book (course/book.py, tests/test_book.py), 1 MB
if [ ! -x /usr/bin/chromium ] || [ ! -f /usr/share/javascript/katex/katex.min.js ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  # Try without refreshing the package lists first (fast when they are current), then with.
  $sudo apt-get install -y -qq chromium libjs-katex >/dev/null 2>&1 || { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium libjs-katex >/dev/null; }
fi
echo "$(/usr/bin/chromium --version 2>/dev/null | head -n1)"

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
.venv/bin/python -m pip install -q playwright
echo "set-up took $(( $(date +%s) - started )) s"

export COURSE_BROWSER_TESTS=1
export COURSE_BROWSER_REQUIRED=1
export COURSE_FAST=1
export COURSE_OFFLINE="${COURSE_OFFLINE:-1}"
if [ -z "${COURSE_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
  export COURSE_DATA_DIR="$(cd ../shared/data && pwd)"
fi
export COURSE_BROWSER_ARTIFACTS="${COURSE_BROWSER_ARTIFACTS:-$PWD/artifacts/browser}"
mkdir -p "$COURSE_BROWSER_ARTIFACTS"

set +e
.venv/bin/python -m pytest -p no:nbval -m browser -q -rs tests/test_browser.py tests/test_book.py
code=$?
set -e
echo "browser tests took $(( $(date +%s) - started )) s; screenshots in $COURSE_BROWSER_ARTIFACTS"
if [ "$code" -eq 5 ]; then
  echo "pytest collected no browser test: failing" >&2
  exit 1
fi
exit "$code"
