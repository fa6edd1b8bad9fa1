"""Playwright helpers: Debian's Chromium (never a downloaded browser), the network cut off at the
page, and the few JupyterLab gestures the end-to-end test needs (run all, wait, find outputs)."""

from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def chromium_path() -> str | None:
    """The system Chromium (``COURSE_CHROMIUM`` overrides); None when there is none."""
    candidates = [
        os.environ.get("COURSE_CHROMIUM", ""),
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        shutil.which("chromium") or "",
        shutil.which("chromium-browser") or "",
    ]
    return next((c for c in candidates if c and Path(c).is_file() and os.access(c, os.X_OK)), None)


class Page:
    """A Playwright page that records what the test must check: blocked requests and JS errors."""

    def __init__(self, page):
        self.page = page
        self.blocked: list[str] = []
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )

        def route(route):
            url = route.request.url
            parsed = urlparse(url)
            if parsed.scheme in {"file", "data", "blob", "about"} or parsed.hostname in LOCAL_HOSTS:
                route.continue_()
            else:  # no internet: anything not on this machine is refused, and noted
                self.blocked.append(url)
                route.abort()

        page.route("**/*", route)


@contextmanager
def browser_page(viewport=(1400, 1000)):
    """A fresh Chromium page with the network limited to localhost and files."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise RuntimeError(
            "no Chromium at /usr/bin/chromium: `apt-get install -y chromium` (or set "
            "COURSE_CHROMIUM)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            # WebSockets (the kernel's channel) do not go through page.route; they only reach
            # localhost anyway.
            yield Page(context.new_page())
        finally:
            browser.close()


# ----------------------------------------------------------------------------- JupyterLab gestures
def open_notebook(page, url: str, timeout_ms: int = 120_000) -> None:
    """Open a notebook and wait until its kernel is ready."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=timeout_ms)
    wait_kernel_idle(page, timeout_ms)


def wait_kernel_idle(page, timeout_ms: int = 120_000) -> None:
    # "No Kernel" also reads idle: wait for a named kernel whose status indicator says idle.
    page.wait_for_function(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            if (!panel) return false;
            const name = panel.querySelector('.jp-Toolbar-kernelName');
            const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
            return !!name && !/no kernel/i.test(name.textContent) &&
                   !!status && status.getAttribute('data-status') === 'idle';
        }""",
        timeout=timeout_ms,
    )


def run_all_cells(page) -> None:
    """Run > Run All Cells, through the menu as a learner would."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def code_cell_states(page) -> list[str]:
    """The execution prompt of every code cell: '[3]:' done, '[*]:' running, '[ ]:' not run."""
    return page.eval_on_selector_all(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt",
        "nodes => nodes.map(n => n.textContent.trim())",
    )


def error_outputs(page) -> list[str]:
    return page.eval_on_selector_all(
        ".jp-NotebookPanel:not(.lm-mod-hidden) "
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
        "nodes => nodes.map(n => n.innerText).filter(t => /Traceback|Error:|\\[claim "
        "FAILS\\]/.test(t))",
    )


def wait_all_executed(page, timeout_s: float = 300.0) -> list[str]:
    """Wait until every code cell has an execution number; fail early on a traceback."""
    deadline = time.monotonic() + timeout_s
    states: list[str] = []
    while time.monotonic() < deadline:
        states = code_cell_states(page)
        errors = error_outputs(page)
        if errors:
            raise AssertionError(
                "a cell failed in the browser:\n" + "\n".join(e[-2000:] for e in errors)
            )
        if states and all(s.startswith("[") and s[1:-2].strip().isdigit() for s in states):
            return states
        time.sleep(1.0)
    raise AssertionError(f"cells still not executed after {timeout_s:.0f} s: {states}")
