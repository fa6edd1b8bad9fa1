"""The course's diagram style: colours, fonts and a few SVG helpers (boxes, arrows, text).

The diagrams are plain SVG written by these helpers, not images from elsewhere: text stays text (so
a later edition can translate a label), files stay a few KB, and the output is the same bytes on
every machine (no dates, no random ids, no font files). Each ``draw_NN.py`` builds its figures with
a ``Canvas`` and saves them next to itself; ``make.py`` runs them all. Each figure is drawn once per
language in ``LANGS``: the Chinese variant (``Canvas(..., lang="zh-CN", labels=ZH)``) goes to
``zh-CN/``, where ``python -m course translate`` links it from the Chinese notebooks.

Labels accept a little markup for the symbols the notebooks use: ``h_t`` and ``W_{hh}`` are
subscripts, ``K^T`` and ``x^{(i)}`` superscripts (one character, or braces for more). Text drawn
with ``mono=True`` is code and is written as it is (``weight_ih_l0``).
"""

from __future__ import annotations

import math
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
# The Chinese variants name fonts that hold CJK glyphs on Linux, macOS and Windows; Latin letters
# and digits still come from DejaVu Sans first, so symbols look as in the English figure.
FONT_ZH = (
    "DejaVu Sans, Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, "
    "WenQuanYi Micro Hei, sans-serif"
)
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
MONO_ZH = (
    "DejaVu Sans Mono, Menlo, Consolas, Noto Sans Mono CJK SC, Noto Sans CJK SC, PingFang SC, "
    "Microsoft YaHei, monospace"
)
SIZE = 13  # default font size, px

# One colour per kind of thing, the same in every diagram.
INK = "#222222"  # text and outlines
GREY = "#8a8a8a"  # secondary text, frozen parts
LIGHT = "#f2f2f2"  # data, tokens
EMBED = "#d9ead3"  # embeddings, lookups (green)
ATTN = "#fce5cd"  # attention (orange)
MLP = "#cfe2f3"  # feed-forward, hidden layers (blue)
NORM = "#fff2cc"  # normalisation (yellow)
OUT = "#ead1dc"  # outputs, softmax, losses (pink)
RNN = "#d9d2e9"  # recurrent cells (purple)
FROZEN = "#e6e6e6"  # frozen weights
TRAIN = "#f4cccc"  # trainable additions (LoRA), rewards (red)
ACCENT = "#cc4125"  # highlights: gradients, the chosen path
BLUE = "#3d85c6"  # a second highlight
GREEN = "#6aa84f"  # a third highlight


def _num(v: float) -> str:
    """Short, stable number formatting (no '-0', at most 1 decimal)."""
    r = round(v, 1)
    if r == 0:
        r = 0.0
    return f"{r:.1f}".rstrip("0").rstrip(".")


def _runs(label: str) -> list[tuple[str, str]]:
    """Split 'W_{hh} x^T' into [('', 'W'), ('sub', 'hh'), ('', ' x'), ('sup', 'T')]."""
    out: list[tuple[str, str]] = []
    i, plain = 0, ""
    while i < len(label):
        ch = label[i]
        if ch in "_^" and i + 1 < len(label) and label[i + 1] != " ":
            if plain:
                out.append(("", plain))
                plain = ""
            kind = "sub" if ch == "_" else "sup"
            if label[i + 1] == "{":
                end = label.index("}", i + 2)
                inner = label[i + 2 : end]
                if kind == "sub" and "_" in inner:  # one level of nesting: u_{n_i}
                    first, second = inner.split("_", 1)
                    out += [("sub", first), ("subsub", second)]
                else:
                    out.append((kind, inner))
                i = end + 1
            else:
                out.append((kind, label[i + 1]))
                i += 2
            continue
        if ch == "\\" and i + 1 < len(label) and label[i + 1] in "_^":  # an escaped _ or ^
            plain += label[i + 1]
            i += 2
            continue
        plain += ch
        i += 1
    if plain:
        out.append(("", plain))
    return out


def _tspans(label: str, size: float, markup: bool = True) -> str:
    """The label as SVG text content, with tspans for sub- and superscripts.

    Runs of spaces become no-break spaces (SVG would collapse them); markup=False keeps _ and ^
    as they are (for code names such as ``weight_ih_l0``)."""
    label = label.replace("  ", "\u00a0\u00a0")
    if not markup:
        return escape(label)
    parts, shift = [], 0.0
    small = _num(size * 0.72)
    for kind, text in _runs(label):
        want = {"": 0.0, "sub": size * 0.3, "sup": -size * 0.4, "subsub": size * 0.5}[kind]
        dy = want - shift
        shift = want
        attrs = ""
        if dy:
            attrs += f' dy="{_num(dy)}"'
        if kind:
            attrs += f' font-size="{_num(size * 0.58) if kind == "subsub" else small}"'
        body = escape(text)
        parts.append(f"<tspan{attrs}>{body}</tspan>" if attrs else body)
    if shift:  # return to the baseline, so that a following text is not shifted
        parts.append(f'<tspan dy="{_num(-shift)}"></tspan>')
    return "".join(parts)


LANGS = ("en", "zh-CN")  # every draw script writes each figure once per language


def text_width(label: str, size: float = SIZE) -> float:
    """A rough width in px: CJK characters are about one em wide, Latin ones about 0.6 em."""
    wide = sum(1 for ch in label if ord(ch) >= 0x2E80)
    return size * (wide + 0.6 * (len(label) - wide))


class Canvas:
    """An SVG drawing in pixel coordinates (origin top left, y down).

    ``lang="zh-CN"`` draws the Chinese variant: every text (and the title) found in ``labels``
    ({English: 中文}) is drawn in Chinese, the font stack names CJK fonts, and ``save`` writes to
    the ``zh-CN/`` subfolder. Labels not in the table (symbols, math, code names) stay as they are.
    """

    def __init__(
        self,
        width: float,
        height: float,
        title: str,
        lang: str = "en",
        labels: dict[str, str] | None = None,
    ):
        if lang not in LANGS:
            raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
        self.lang = lang
        self.labels = labels if lang != "en" and labels else {}
        self.width, self.height, self.title = width, height, self.tr(title)
        self.items: list[str] = []

    def tr(self, label: str) -> str:
        """The label in this canvas's language (unchanged when the table has no entry)."""
        return self.labels.get(label, label)

    # --- primitives -------------------------------------------------------------------------
    def text(
        self,
        x,
        y,
        label,
        size=SIZE,
        anchor="middle",
        color=INK,
        weight="normal",
        italic=False,
        mono=False,
    ):
        """Text centred vertically on y (anchor: start, middle, end)."""
        label = self.tr(label)
        attrs = f'x="{_num(x)}" y="{_num(y + size * 0.35)}"'
        if anchor != "middle":
            attrs += f' text-anchor="{anchor}"'
        if size != SIZE:
            attrs += f' font-size="{_num(size)}"'
        if color != INK:
            attrs += f' fill="{color}"'
        if weight != "normal":
            attrs += f' font-weight="{weight}"'
        if italic:
            attrs += ' font-style="italic"'
        if mono:
            attrs += f' font-family="{MONO if self.lang == "en" else MONO_ZH}"'
        self.items.append(f"<text {attrs}>{_tspans(label, size, markup=not mono)}</text>")

    def lines(self, x, y, labels, size=SIZE, gap=1.3, **kw):
        """Several lines of text centred as a block on y."""
        top = y - (len(labels) - 1) * size * gap / 2
        for i, label in enumerate(labels):
            self.text(x, top + i * size * gap, label, size=size, **kw)

    def rect(self, x, y, w, h, fill="none", stroke=INK, radius=6, dashed=False, width=1.2):
        attrs = f'x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}"'
        if radius:
            attrs += f' rx="{_num(radius)}"'
        attrs += f' fill="{fill}" stroke="{stroke}" stroke-width="{_num(width)}"'
        if dashed:
            attrs += ' stroke-dasharray="5 3"'
        self.items.append(f"<rect {attrs}/>")

    def circle(self, x, y, r, fill="white", stroke=INK, label=None, size=SIZE, width=1.2):
        self.items.append(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{_num(width)}"/>'
        )
        if label:
            self.text(x, y, label, size=size)

    def polygon(self, points, fill="none", stroke=INK, width=1.2):
        pts = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
        self.items.append(
            f'<polygon points="{pts}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{_num(width)}"/>'
        )

    def line(self, x1, y1, x2, y2, color=INK, width=1.2, dashed=False):
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        self.items.append(
            f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
            f'stroke="{color}" stroke-width="{_num(width)}"{dash}/>'
        )

    def _head(self, x, y, angle, color, size=7.0):
        left = (x - size * math.cos(angle - 0.4), y - size * math.sin(angle - 0.4))
        right = (x - size * math.cos(angle + 0.4), y - size * math.sin(angle + 0.4))
        self.polygon([(x, y), left, right], fill=color, stroke=color, width=1)

    def arrow(
        self,
        x1,
        y1,
        x2,
        y2,
        color=INK,
        width=1.2,
        dashed=False,
        label=None,
        label_pos=0.5,
        label_dx=0,
        label_dy=-9,
        size=11,
        head=True,
    ):
        """A straight arrow from (x1, y1) to (x2, y2); the head sits exactly at (x2, y2)."""
        angle = math.atan2(y2 - y1, x2 - x1)
        inset = 5.0 if head else 0.0
        self.line(
            x1, y1, x2 - inset * math.cos(angle), y2 - inset * math.sin(angle), color, width, dashed
        )
        if head:
            self._head(x2, y2, angle, color)
        if label:
            lx = x1 + (x2 - x1) * label_pos + label_dx
            ly = y1 + (y2 - y1) * label_pos + label_dy
            self.text(lx, ly, label, size=size, color=color if color != INK else GREY)

    def path_arrow(self, points, color=INK, width=1.2, dashed=False, head=True):
        """An arrow along straight segments through several points (for elbows)."""
        pts = list(points)
        if head:
            (ax, ay), (bx, by) = pts[-2], pts[-1]
            angle = math.atan2(by - ay, bx - ax)
            pts[-1] = (bx - 5 * math.cos(angle), by - 5 * math.sin(angle))
        d = "M" + " L".join(f"{_num(x)} {_num(y)}" for x, y in pts)
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        self.items.append(
            f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{_num(width)}"{dash}/>'
        )
        if head:
            self._head(bx, by, angle, color)

    def curve_arrow(self, x1, y1, cx, cy, x2, y2, color=INK, width=1.2, dashed=False, head=True):
        """Quadratic Bezier arrow (x1, y1) -> (x2, y2), bent towards the control point (cx, cy)."""
        angle = math.atan2(y2 - cy, x2 - cx)
        ex, ey = (x2 - 5 * math.cos(angle), y2 - 5 * math.sin(angle)) if head else (x2, y2)
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        self.items.append(
            f'<path d="M{_num(x1)} {_num(y1)} Q{_num(cx)} {_num(cy)} {_num(ex)} {_num(ey)}" '
            f'fill="none" stroke="{color}" stroke-width="{_num(width)}"{dash}/>'
        )
        if head:
            self._head(x2, y2, angle, color)

    # --- composites -------------------------------------------------------------------------
    def box(
        self,
        x,
        y,
        w,
        h,
        label="",
        fill=LIGHT,
        sub=None,
        size=SIZE,
        dashed=False,
        stroke=INK,
        mono=False,
        color=INK,
        radius=6,
        sub_mono=None,
    ):
        """A rounded box with a centred label and an optional smaller second line (a shape, a name).

        sub_mono=True writes the second line as code (default: like the label)."""
        self.rect(x, y, w, h, fill=fill, stroke=stroke, dashed=dashed, radius=radius)
        if sub:
            self.text(x + w / 2, y + h / 2 - size * 0.5, label, size=size, mono=mono, color=color)
            self.text(
                x + w / 2,
                y + h / 2 + size * 0.65,
                sub,
                size=size * 0.8,
                color=GREY,
                mono=mono if sub_mono is None else sub_mono,
            )
        elif label:
            self.text(x + w / 2, y + h / 2, label, size=size, mono=mono, color=color)
        return (x, y, w, h)

    def op(self, x, y, symbol, r=10, fill="white"):
        """A small round operator node: '+', '×', '⊙'."""
        self.circle(x, y, r, fill=fill)
        self.text(x, y - 0.5, symbol, size=r * 1.5)

    def residual(self, cx, bottom, label, code, fill, norm="LayerNorm", norm_code=None, w=190):
        """One pre-norm sub-layer, x <- x + f(norm(x)), drawn upwards from y=bottom.

        Returns the y of its + node (the stream continues from there)."""
        self.box(cx - 50, bottom - 42, 100, 26, norm, fill=NORM, size=11, sub=None)
        if norm_code:
            self.text(
                cx + 56, bottom - 29, norm_code, size=10, color=GREY, mono=True, anchor="start"
            )
        self.arrow(cx, bottom, cx, bottom - 16)
        self.box(cx - w / 2, bottom - 96, w, 40, label, fill=fill, sub=code, size=12, sub_mono=True)
        self.arrow(cx, bottom - 42, cx, bottom - 56)
        plus = bottom - 120
        self.op(cx, plus, "+")
        self.arrow(cx, bottom - 96, cx, plus + 10)
        self.path_arrow(
            [
                (cx, bottom - 6),
                (cx - w / 2 - 18, bottom - 6),
                (cx - w / 2 - 18, plus),
                (cx - 10, plus),
            ],
            color=GREY,
        )
        return plus

    def title_text(self, label, x=None, y=18, size=14):
        self.text(self.width / 2 if x is None else x, y, label, size=size, weight="bold")

    # --- output -----------------------------------------------------------------------------
    def svg(self) -> str:
        font = FONT if self.lang == "en" else FONT_ZH
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(self.width)}" '
            f'height="{_num(self.height)}" viewBox="0 0 {_num(self.width)} {_num(self.height)}" '
            f'font-family="{font}" font-size="{SIZE}" fill="{INK}" text-anchor="middle">'
        )
        body = [
            head,
            f"<title>{escape(self.title)}</title>",
            '<rect width="100%" height="100%" fill="white" rx="8"/>',
        ]
        body += self.items
        body.append("</svg>")
        return "\n".join(body) + "\n"

    def save(self, folder: Path, name: str) -> Path:
        """Write ``folder/name`` (e.g. '04_lstm_cell.svg'), with Unix newlines and UTF-8.

        A translated canvas writes ``folder/<lang>/name`` (e.g. 'zh-CN/04_lstm_cell.svg')."""
        folder = Path(folder) if self.lang == "en" else Path(folder) / self.lang
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_text(self.svg(), encoding="utf-8", newline="\n")
        return path
