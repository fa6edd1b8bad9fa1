"""course/book.py (`make book`): the executed notebooks as a static site that works offline.

The unit tests build a book from a small notebook with the outputs a lesson has (a matplotlib PNG,
a bertviz view, math, one of the course's diagrams) and check that no page asks the network for
anything. The browser tests (``COURSE_BROWSER_TESTS=1``, run by .ci/browser.sh) open the book in
headless Chromium with every request off the machine refused and check that the plot, the diagram,
the bertviz views and the math render; the second one does so for the book of the committed
notebooks, once they carry their full-mode outputs.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from course import book

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "notebooks" / "figures"
EXTERNAL = re.compile(r"<(script|link|img)[^>]+(src|href)=\"(https?:)?//", re.I)


def _png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([3, 2, 1.5, 1.2])
    ax.set_title("loss falls")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=72)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _bertviz_outputs(attentions, tokens) -> list:
    from course.viz.attention import head_view_html, model_view_html

    return [
        nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": "view"})
        for html in (head_view_html(attentions, tokens), model_view_html(attentions, tokens))
    ]


def lesson_folder(folder: Path, bertviz_attentions) -> Path:
    """notebooks/ with figures/ and two small executed notebooks, like the committed ones.

    ``bertviz_attentions``: the fixture of tests/conftest.py, drawn in the bertviz views."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(FIGURES, folder / "figures", ignore=shutil.ignore_patterns("*.py", "__*"))
    diagram = sorted(FIGURES.glob("*.svg"))[0].name
    plot = nbformat.v4.new_code_cell("plt.plot(losses)", execution_count=1)
    plot.outputs = [nbformat.v4.new_output("display_data", data={"image/png": _png()})]
    views = nbformat.v4.new_code_cell("head_view(attentions, tokens)", execution_count=2)
    views.outputs = _bertviz_outputs(*bertviz_attentions)
    first = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# 00 · Toy lesson\n\nThe loss is $-\\log p(x_t)$:"),
            nbformat.v4.new_markdown_cell(f"![the diagram](figures/{diagram})"),
            plot,
            views,
        ]
    )
    first.metadata["course"] = {
        "run": {
            "mode": "full",
            "code_sha256": "0" * 64,
            "date": "2026-12-01",
            "seconds": 12,
            "cpu": "a CPU (2 cores)",
            "threads": 1,
            "torch": "2.13.0",
            "device": "cpu",
            "claims": [
                {"claim": "the loss falls", "figure": "3.0 -> 1.2", "holds": True, "tested": True}
            ],
        }
    }
    second = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 01 · Next")])
    nbformat.write(first, folder / "00_toy.ipynb")
    nbformat.write(second, folder / "01_next.ipynb")
    return folder


def fake_katex(folder: Path) -> Path:
    (folder / "contrib").mkdir(parents=True)
    (folder / "fonts").mkdir()
    (folder / "katex.min.js").write_text("window.katex = {};")
    (folder / "katex.min.css").write_text(".katex {}")
    (folder / "contrib" / "auto-render.js").write_text("window.renderMathInElement = () => {};")
    (folder / "fonts" / "KaTeX_Main-Regular.woff2").write_bytes(b"font")
    return folder


def test_the_book_needs_nothing_from_the_network(tmp_path, bertviz_attentions):
    notebooks = lesson_folder(tmp_path / "notebooks", bertviz_attentions)
    out = tmp_path / "book"
    index = book.build(notebooks, out, fake_katex(tmp_path / "katex"))
    page = (out / "00_toy.html").read_text()
    assert not EXTERNAL.findall(page), EXTERNAL.findall(page)
    assert "mathjax" not in page.lower() and "require.min.js" not in page
    assert '<script defer src="_static/katex/katex.min.js">' in page
    assert (out / "_static" / "katex" / "fonts" / "KaTeX_Main-Regular.woff2").is_file()
    diagram = re.search(r'src="(figures/[^"]+\.svg)"', page).group(1)
    assert (out / diagram).is_file()  # the relative path the markdown uses
    assert 'data-mime-type="image/png"' in page or "data:image/png;base64" in page
    assert "course-bertviz" in page or "bertviz-" in page
    assert '<link rel="stylesheet" href="_static/style-' in page and len(page) < 200_000
    assert '<a href="01_next.html">01 · Next &rarr;</a>' in page
    contents = index.read_text()
    assert '<a href="00_toy.html">00 · Toy lesson</a>' in contents
    assert "full-mode run of 2026-12-01: 1/1 claims hold" in contents
    assert "no outputs yet" in contents  # 01 has none


def test_without_katex_math_falls_back_to_the_cdn_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(book, "KATEX_PLACES", [])
    monkeypatch.delenv("COURSE_BOOK_KATEX", raising=False)
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 00 · $x$")]),
        notebooks / "00_x.ipynb",
    )
    book.build(notebooks, tmp_path / "book")
    assert "math renders only online" in capsys.readouterr().out
    assert "mathjax" in (tmp_path / "book" / "00_x.html").read_text().lower()


def test_the_book_replaces_only_a_book(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 00 · A")]),
        notebooks / "00_a.ipynb",
    )
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        book.build(notebooks, other)
    assert (other / "keep.txt").read_text() == "mine"
    book.build(notebooks, tmp_path / "book")
    book.build(notebooks, tmp_path / "book")  # its own folder: rebuilt


# ----------------------------------------------------------------------------- in a real browser
def _browser_ready():
    if os.environ.get("COURSE_BROWSER_TESTS") != "1":
        pytest.skip("real-browser test: set COURSE_BROWSER_TESTS=1 (see .ci/browser.sh)")
    from test_browser import _requirements

    _requirements()


def _open_offline(page_file: Path, artefacts: Path, prefix: str, bertviz: bool) -> None:
    from browser.lab import browser_page
    from test_browser import _check_bertviz, _check_diagram

    with browser_page() as browser:
        page = browser.page
        page.goto(page_file.as_uri(), wait_until="load")
        plots = page.locator("img[src^='data:image/png']")
        assert plots.count() > 0, "no matplotlib figure on the page"
        assert plots.first.evaluate("img => img.complete && img.naturalWidth > 0")
        _check_diagram(page, artefacts, prefix)
        if bertviz:
            page.wait_for_function(
                "() => document.querySelectorAll(\"div[id^='bertviz-'][data-course-rendered='1']\")"
                ".length >= 2",
                timeout=30_000,
            )
            _check_bertviz(page, artefacts, browser.blocked, browser.errors, prefix)
        if book.find_katex():
            page.wait_for_function(
                "() => document.querySelectorAll('.katex').length > 0", timeout=10_000
            )
        assert not browser.blocked, f"the book asked the network for {browser.blocked}"
        page.screenshot(path=str(artefacts / f"{prefix}.png"), full_page=False)
        page.goto((page_file.parent / "index.html").as_uri(), wait_until="load")
        assert page.locator("ol li a").count() >= 2


@pytest.mark.browser
def test_book_renders_offline_in_a_browser(tmp_path, bertviz_attentions):
    _browser_ready()
    artefacts = Path(os.environ.get("COURSE_BROWSER_ARTIFACTS", tmp_path))
    artefacts.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "book"
    book.build(lesson_folder(tmp_path / "notebooks", bertviz_attentions), out)
    _open_offline(out / "00_toy.html", artefacts, "book-toy", bertviz=True)


@pytest.mark.browser
def test_book_of_the_committed_notebooks_renders_offline(tmp_path):
    _browser_ready()
    # COURSE_BOOK_NOTEBOOKS: another folder of executed notebooks (e.g. FAST-run copies)
    folder = Path(os.environ.get("COURSE_BOOK_NOTEBOOKS") or ROOT / "notebooks")
    lessons = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    executed = [
        p for p in lessons if any(c.get("outputs") for c in json.loads(p.read_text())["cells"])
    ]
    if not executed:
        pytest.skip("the notebooks are not committed with their outputs yet (make claims)")
    # the lesson that shows bertviz views of its own model (06: the Transformer's attention)
    with_views = [p for p in executed if "bertviz-" in p.read_text()]
    assert with_views, "no executed notebook holds a bertviz view: did head_view stop rendering?"
    artefacts = Path(os.environ.get("COURSE_BROWSER_ARTIFACTS", tmp_path))
    artefacts.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "book"
    book.build(folder, out)
    _open_offline(out / f"{with_views[0].stem}.html", artefacts, "book-lesson", bertviz=True)
