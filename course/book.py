"""The course as a static website that works offline from a folder: ``make book``.

    python -m course.book                        # notebooks/ -> artifacts/book/index.html
    python -m course.book --notebooks DIR --out DIR

Each notebook, as committed (with the outputs of its full-mode run), becomes one HTML page through
nbconvert's ``lab`` template (nbconvert comes with JupyterLab: nothing more to install), beside an
``index.html`` that lists the lessons with their run record (date, claims held, runtime). Open
``index.html`` in a browser: no server, no network.

Offline means every file a page needs is in the folder:
- diagrams (``notebooks/figures/*.svg``) are copied to ``figures/``, the relative path the markdown
  cells use; matplotlib figures are inline PNGs already;
- bertviz views carry their own JavaScript (``course.viz.offline_js``);
- nbconvert's template asks CDNs for require.js, MathJax and mermaid: require.js and mermaid are
  dropped (no output here needs them), and math is typeset by KaTeX copied from a local install
  (``--katex DIR``, ``COURSE_BOOK_KATEX``, Debian's ``libjs-katex`` at /usr/share/javascript/katex,
  or ``node_modules/katex/dist``). Without one, the pages keep MathJax from the CDN: math then
  renders only online (shown as TeX source offline), and the build says so;
- the template's 250 KB of CSS is written once to ``_static/`` instead of into every page.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KATEX_PLACES = [Path("/usr/share/javascript/katex"), ROOT / "node_modules" / "katex" / "dist"]
MARKER = ".course-book"  # in a folder this module built: safe to replace

# Script tags of nbconvert's template that fetch from a CDN what no page here needs
REQUIRE_JS = re.compile(r'<script src="https://[^"]*require[^"]*\.js"[^>]*>\s*</script>\s*')
MERMAID = re.compile(
    r'<script type="module">(?:(?!</script>).)*mermaid(?:(?!</script>).)*</script>\s*', re.S
)
MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->\s*", re.S)
HEAD_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S)

KATEX_HEAD = '<link rel="stylesheet" href="_static/katex/katex.min.css">\n'
KATEX_BODY = """<script defer src="_static/katex/katex.min.js"></script>
<script defer src="_static/katex/auto-render.js"></script>
<script>
document.addEventListener("DOMContentLoaded", function () {
  // only the prose: $ in printed outputs is money or shell, not math
  document.querySelectorAll(".jp-MarkdownOutput").forEach(function (cell) {
    renderMathInElement(cell, {throwOnError: false, delimiters: [
      {left: "$$", right: "$$", display: true}, {left: "\\\\[", right: "\\\\]", display: true},
      {left: "$", right: "$", display: false}, {left: "\\\\(", right: "\\\\)", display: false}]});
  });
});
</script>
"""
NAV_STYLE = (
    "font: 14px system-ui, sans-serif; padding: 8px 16px; border-bottom: 1px solid #ddd; "
    "display: flex; gap: 16px; background: #fafafa"
)
INDEX_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 52em; margin: 2em auto; padding: 0 1em; }
li { margin: 0.6em 0; } .run { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.3em 0 1em; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
.fails { color: #b00; font-weight: bold; }
"""


def find_katex(given: str | Path | None = None) -> Path | None:
    """A folder holding katex.min.js, katex.min.css, fonts/ and auto-render (None: none found)."""
    places = [Path(given)] if given else []
    if os.environ.get("COURSE_BOOK_KATEX"):
        places.append(Path(os.environ["COURSE_BOOK_KATEX"]))
    for place in places + KATEX_PLACES:
        if (place / "katex.min.js").is_file() and _auto_render(place):
            return place
    return None


def _auto_render(katex: Path) -> Path | None:
    for name in ("auto-render.min.js", "auto-render.js"):
        if (katex / "contrib" / name).is_file():
            return katex / "contrib" / name
    return None


def copy_katex(katex: Path, static: Path) -> None:
    """The few KaTeX files a page loads (woff2 fonts only: every current browser reads them)."""
    target = static / "katex"
    (target / "fonts").mkdir(parents=True, exist_ok=True)
    for name in ("katex.min.js", "katex.min.css"):
        shutil.copyfile(katex / name, target / name)
    shutil.copyfile(_auto_render(katex), target / "auto-render.js")
    for font in (katex / "fonts").glob("*.woff2"):
        shutil.copyfile(font, target / "fonts" / font.name)  # follows Debian's symlinks


def title_of(nb: dict, fallback: str) -> str:
    """The notebook's title: the first markdown heading ('00 · Welcome')."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for line in source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def run_summary(nb: dict) -> str:
    """One line about the notebook's recorded run, for the index."""
    run = nb.get("metadata", {}).get("course", {}).get("run")
    if not run:
        has_outputs = any(c.get("outputs") for c in nb.get("cells", []))
        return "outputs of an unrecorded run" if has_outputs else "no outputs yet: run it yourself"
    tested = [c for c in run.get("claims", []) if c.get("tested", True)]
    held = sum(bool(c.get("holds")) for c in tested)
    return (
        f"{run.get('mode', '?')}-mode run of {run.get('date', '?')}: {held}/{len(tested)} claims "
        f"hold; {run.get('seconds', '?')} s on {run.get('cpu', '?')}, {run.get('threads', '?')} "
        f"thread(s), {run.get('device', '?')}"
    )


def claims_table(nb: dict) -> str:
    run = nb.get("metadata", {}).get("course", {}).get("run") or {}
    rows = []
    for c in run.get("claims", []):
        mark = "holds" if c.get("holds") else ("FAILS" if c.get("tested", True) else "not tested")
        css = ' class="fails"' if mark == "FAILS" else ""
        rows.append(
            f"<tr><td>{html.escape(c['claim'])}</td><td>{html.escape(c['figure'])}</td>"
            f"<td{css}>{mark}</td></tr>"
        )
    if not rows:
        return ""
    return (
        "<details><summary>claims</summary><table><tr><th>claim</th><th>figure</th><th></th></tr>"
        + "".join(rows)
        + "</table></details>"
    )


def _shared_styles(page: str, static: Path) -> str:
    """Each <style> of the page's head into _static/style-HASH.css, linked instead of inlined."""
    head_end = page.find("</head>")
    head, rest = page[:head_end], page[head_end:]

    def link(match: re.Match) -> str:
        css = match.group(1)
        if len(css) < 2000:  # small ones stay: not worth a request
            return match.group(0)
        name = f"style-{hashlib.sha256(css.encode()).hexdigest()[:12]}.css"
        if not (static / name).exists():
            (static / name).write_text(css, encoding="utf-8")
        return f'<link rel="stylesheet" href="_static/{name}">'

    return HEAD_STYLE.sub(link, head) + rest


def _navigation(pages: list[tuple[str, str]], index: int) -> str:
    links = ['<a href="index.html">Contents</a>']
    if index > 0:
        links.append(
            f'<a href="{pages[index - 1][0]}">&larr; {html.escape(pages[index - 1][1])}</a>'
        )
    if index + 1 < len(pages):
        links.append(
            f'<a href="{pages[index + 1][0]}">{html.escape(pages[index + 1][1])} &rarr;</a>'
        )
    return f'<nav class="course-book" style="{NAV_STYLE}">{"".join(links)}</nav>\n'


def render_page(nb: dict, static: Path, katex: bool, navigation: str) -> str:
    """One notebook as an HTML page that needs only the files in the book's folder."""
    import nbformat
    from nbconvert import HTMLExporter

    node = nbformat.reads(json.dumps(nb), as_version=4)  # joins sources stored as lists of lines
    page, _ = HTMLExporter(template_name="lab").from_notebook_node(node)
    page = REQUIRE_JS.sub("", page)
    page = MERMAID.sub("", page)
    if katex:
        page, found = MATHJAX.subn("", page)
        if not found:
            raise RuntimeError(
                "nbconvert's MathJax block was not found: its template changed; "
                "update course/book.py's MATHJAX pattern"
            )
        page = page.replace("</head>", KATEX_HEAD + "</head>", 1)
        page = page.replace("</body>", KATEX_BODY + "</body>", 1)
    page = _shared_styles(page, static)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + "\n" + navigation, page, count=1)


def build(notebooks: Path, out: Path, katex_dir: str | Path | None = None) -> Path:
    """Write the book of every ``NN_*.ipynb`` in ``notebooks`` to ``out``; return index.html."""
    sources = sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"no NN_*.ipynb notebooks in {notebooks}")
    if out.exists():
        if not (out / MARKER).exists() and any(out.iterdir()):
            raise FileExistsError(
                f"{out} exists and is not a book this command built; give --out "
                "an empty or new folder"
            )
        shutil.rmtree(out)
    static = out / "_static"
    static.mkdir(parents=True)
    (out / MARKER).write_text("built by python -m course.book\n", encoding="utf-8")
    figures = notebooks / "figures"
    if figures.is_dir():
        (out / "figures").mkdir()
        for svg in figures.glob("*.svg"):
            shutil.copyfile(svg, out / "figures" / svg.name)
    katex = find_katex(katex_dir)
    if katex:
        copy_katex(katex, static)
    else:
        print(
            "notice: no KaTeX found (apt-get install libjs-katex, or --katex DIR): the pages load "
            "MathJax from its CDN, so math renders only online"
        )
    books = [json.loads(p.read_text(encoding="utf-8")) for p in sources]
    pages = [(f"{p.stem}.html", title_of(nb, p.stem)) for p, nb in zip(sources, books)]
    items = []
    for index, nb in enumerate(books):
        page = render_page(nb, static, bool(katex), _navigation(pages, index))
        (out / pages[index][0]).write_text(page, encoding="utf-8")
        items.append(
            f'<li><a href="{pages[index][0]}">{html.escape(pages[index][1])}</a><br>'
            f'<span class="run">{html.escape(run_summary(nb))}</span>{claims_table(nb)}</li>'
        )
    index_page = out / "index.html"
    index_page.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>llm-course</title><style>{INDEX_STYLE}</style></head><body>\n"
        "<h1>llm-course: the notebooks, executed</h1>\n"
        "<p>Each lesson as its last full-mode run left it: the prose, the code, and what the code "
        "printed and drew. To change something and run it, open the notebook in JupyterLab.</p>\n"
        f'<ol start="0">{"".join(items)}</ol>\n</body></html>\n',
        encoding="utf-8",
    )
    return index_page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--notebooks", type=Path, default=ROOT / "notebooks", help="default: notebooks/"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "artifacts" / "book", help="default: artifacts/book/"
    )
    parser.add_argument("--katex", help="a KaTeX folder (katex.min.js, fonts/, contrib/)")
    args = parser.parse_args(argv)
    try:
        index = build(args.notebooks, args.out, args.katex)
    except (FileNotFoundError, FileExistsError) as error:
        print(error)
        return 2
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"book: {index} ({size / 1e6:.1f} MB); open it in a browser, no server needed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
