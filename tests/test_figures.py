"""The course's own diagrams (notebooks/figures/): referenced, present, well-formed, reproducible.

- every image a notebook's markdown references exists (notebooks/*.ipynb and
  notebooks/zh-CN/*.ipynb), with a relative path (so it renders in JupyterLab, on GitHub and in
  exported HTML) and alt text;
- every SVG in notebooks/figures/ is referenced by at least one notebook;
- every SVG parses as XML, is an <svg> with a size and a <title>, and stays small;
- every SVG in notebooks/figures/zh-CN/ (a Chinese variant, written by the same draw script) has
  an English original of the same name, is well-formed and is referenced by a Chinese notebook;
  every entry of a script's ZH table is still drawn, and Chinese labels fit inside the canvas;
- make.py, run on a copy of the scripts in a temporary folder, writes exactly the committed files,
  byte for byte (the SVGs are written by our own code, not by a plotting library, so the bytes do
  not depend on the matplotlib version).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
FIGURES = NOTEBOOK_DIR / "figures"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb")) + sorted((NOTEBOOK_DIR / "zh-CN").glob("*.ipynb"))
SVGS = sorted(FIGURES.glob("*.svg"))
ZH_SVGS = sorted((FIGURES / "zh-CN").glob("*.svg"))
MARKDOWN_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
HTML_IMAGE = re.compile(r"<img\b[^>]*\bsrc=[\"']([^\"']+)[\"'][^>]*>", re.IGNORECASE)
MAX_BYTES = 60_000  # tens of KB at most: text stays text, no embedded fonts or bitmaps


def image_references(notebook: Path) -> list[tuple[str, str]]:
    """(alt text, target) of every image in the notebook's markdown cells; alt is None for <img>."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        found += [(alt, target) for alt, target in MARKDOWN_IMAGE.findall(text)]
        for tag in HTML_IMAGE.finditer(text):
            alt = re.search(r"\balt=[\"']([^\"']*)[\"']", tag.group(0))
            found.append((alt.group(1) if alt else "", tag.group(1)))
    return found


def local(target: str) -> bool:
    return not re.match(r"^(https?:|data:|attachment:|mailto:)", target)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(NOTEBOOK_DIR)))
def test_every_referenced_image_exists(notebook):
    for alt, target in image_references(notebook):
        if not local(target):
            continue
        assert not target.startswith("/"), f"{notebook.name}: use a relative path, not {target!r}"
        path = (notebook.parent / unquote(target.split("#")[0])).resolve()
        assert path.is_file(), f"{notebook.name} shows {target!r}, which does not exist ({path})"
        assert alt.strip(), f"{notebook.name}: image {target!r} needs alt text saying what it shows"


def test_every_figure_is_used():
    assert SVGS, "notebooks/figures/ holds no SVG"
    used = set()
    for notebook in NOTEBOOKS:
        for _, target in image_references(notebook):
            if local(target):
                used.add((notebook.parent / unquote(target.split("#")[0])).resolve())
    unused = [str(p.relative_to(FIGURES)) for p in SVGS + ZH_SVGS if p.resolve() not in used]
    assert not unused, f"figures no notebook shows (embed them or delete them): {unused}"


def test_every_chinese_variant_has_an_english_original():
    english = {p.name for p in SVGS}
    orphans = [p.name for p in ZH_SVGS if p.name not in english]
    assert not orphans, f"zh-CN variants with no English figure of the same name: {orphans}"
    for svg in ZH_SVGS:
        text = svg.read_text(encoding="utf-8")
        assert "Noto Sans CJK SC" in text, f"zh-CN/{svg.name}: name a CJK font in font-family"
        assert re.search(r"[\u4e00-\u9fff]", text), f"zh-CN/{svg.name} has no Chinese text"


@pytest.mark.parametrize("svg", SVGS + ZH_SVGS, ids=lambda p: str(p.relative_to(FIGURES)))
def test_svg_is_well_formed(svg):
    size = svg.stat().st_size
    assert size < MAX_BYTES, f"{svg.name} is {size:,} bytes; keep diagrams under {MAX_BYTES:,}"
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg", (
        f"{svg.name}: root is {root.tag}, not an svg"
    )
    assert root.get("viewBox") and root.get("width") and root.get("height"), f"{svg.name}: no size"
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text, f"{svg.name}: add a <title> (what the diagram shows)"
    assert re.match(r"\d\d_[a-z0-9_]+\.svg$", svg.name), f"{svg.name}: name it NN_what_it_shows.svg"


def test_make_regenerates_the_committed_files(tmp_path):
    scripts = sorted(FIGURES.glob("*.py"))
    for script in scripts:
        shutil.copy(script, tmp_path / script.name)
    result = subprocess.run(
        [sys.executable, str(tmp_path / "make.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, f"make.py failed:\n{result.stdout}\n{result.stderr}"
    made = {
        str(p.relative_to(tmp_path)): p.read_bytes()
        for p in sorted(tmp_path.glob("*.svg")) + sorted(tmp_path.glob("zh-CN/*.svg"))
    }
    committed = {str(p.relative_to(FIGURES)): p.read_bytes() for p in SVGS + ZH_SVGS}
    assert sorted(made) == sorted(committed), (
        f"make.py writes {sorted(set(made) - set(committed))} that are not in notebooks/figures/, "
        "and "
        f"{sorted(set(committed) - set(made))} there come from no draw_*.py"
    )
    stale = [name for name in made if made[name] != committed[name]]
    assert not stale, f"out of date: run `python notebooks/figures/make.py` and commit {stale}"


def test_make_finds_every_draw_script():
    sys.path.insert(0, str(FIGURES))
    try:
        import make
    finally:
        sys.path.remove(str(FIGURES))
    names = [p.name for p in make.scripts()]
    assert names == sorted(p.name for p in FIGURES.glob("draw_*.py"))
    assert make.scripts(["01"]) == [FIGURES / "draw_01.py"]


def _draw_modules():
    """Each draw_*.py imported as a module (with _style importable)."""
    import importlib.util

    sys.path.insert(0, str(FIGURES))
    try:
        for script in sorted(FIGURES.glob("draw_*.py")):
            spec = importlib.util.spec_from_file_location(f"figures_test_{script.stem}", script)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            yield script.name, module
    finally:
        sys.path.remove(str(FIGURES))


def test_every_chinese_label_is_drawn(tmp_path, monkeypatch):
    """A ZH entry whose English key is no longer drawn (the English label was edited) is stale:
    the Chinese variant would silently show the new English text instead."""
    for name, module in _draw_modules():
        style = sys.modules["_style"]
        drawn: set[str] = set()
        original = style.Canvas.tr

        def tr(self, label, original=original, drawn=drawn):
            drawn.add(label)
            return original(self, label)

        monkeypatch.setattr(style.Canvas, "tr", tr)
        module.main(tmp_path)
        stale = [key for key in getattr(module, "ZH", {}) if key not in drawn]
        assert not stale, f"{name}: ZH entries for labels it no longer draws: {stale}"


@pytest.mark.parametrize("svg", ZH_SVGS, ids=lambda p: p.name)
def test_chinese_labels_fit_the_canvas(svg):
    """Chinese characters are about one em wide: estimate each text's extent and keep it inside."""
    sys.path.insert(0, str(FIGURES))
    try:
        from _style import SIZE, text_width
    finally:
        sys.path.remove(str(FIGURES))
    ns = "{http://www.w3.org/2000/svg}"
    root = ET.parse(svg).getroot()
    width = float(root.get("width"))
    for node in root.iter(f"{ns}text"):
        label = "".join(node.itertext())
        size = float(node.get("font-size", SIZE))
        x, extent = float(node.get("x")), text_width(label, size)
        anchor = node.get("text-anchor", "middle")
        left = {"start": x, "middle": x - extent / 2, "end": x - extent}[anchor]
        assert left >= -4 and left + extent <= width + 4, (
            f"zh-CN/{svg.name}: {label!r} ({extent:.0f} px from x={left:.0f}) overflows the "
            f"{width:.0f} px canvas; shorten it in the draw script's ZH table"
        )
