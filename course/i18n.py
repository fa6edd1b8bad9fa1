"""Translated editions of the notebooks: built from the English notebook, never edited by hand.

A translation is one JSON file per notebook, ``i18n/<lang>/<English stem>.json``::

    {"notebook": "02_word_embeddings.ipynb",
     "cells": {"<id of an English markdown cell>": {"en_sha256": "<sha256 of its source>",
                                                     "zh": "<the translated markdown>"}}}

``build`` makes ``notebooks/<lang>/<same name>.ipynb`` from the two: every code cell (source,
outputs, metadata, id) is copied from the English notebook unchanged, every markdown cell gets its
translation, relative links are rewritten for the folder one level down, and the notebook's metadata
records the language. So the two editions run the same code by construction, and an English cell
that changed since it was translated (its sha256 no longer matches) is *stale*: the build shows the
current English text there rather than a translation of older prose, and ``status`` lists it.

    python -m course translate            # build every notebook that has a translation file
    python -m course translate --check    # exit 1 when a translation is missing, stale or unbuilt
"""

from __future__ import annotations

import copy
import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from course import atomic

ROOT = Path(__file__).resolve().parents[1]  # the checkout that holds course/, notebooks/, i18n/
LANGUAGES = {"zh-CN": "zh"}  # language folder -> the key of the translated text in each cell entry
# Link targets left alone: absolute URLs, in-page anchors, site-absolute paths, inline data.
NOT_RELATIVE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|#|/)", re.IGNORECASE)
# ![alt](target "title") and [text](target): group 1 is the target.
MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)")
# <img src="..."> and <a href="...">
HTML_LINK = re.compile(r"""\b(?:src|href)=["']([^"']+)""", re.IGNORECASE)
NOTEBOOK_NAME = re.compile(r"^\d\d_[\w-]+\.ipynb$")


def sha256(source: str | list[str]) -> str:
    """The fingerprint a translation records for the English cell it translates."""
    text = "".join(source) if isinstance(source, list) else source
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def source_of(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path} is not valid JSON ({error}); repair it in a text editor"
        ) from None


def render(obj: dict) -> str:
    """Notebooks are written the way ``python -m course clean`` writes them."""
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def render_translation(obj: dict) -> str:
    """Translation files: one fixed form, so diffs show only what a translator changed."""
    return json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


# ----------------------------------------------------------------------------- where things live
@dataclass(frozen=True)
class Edition:
    """The files of one language under a checkout."""

    lang: str = "zh-CN"
    root: Path = ROOT

    @property
    def key(self) -> str:
        if self.lang not in LANGUAGES:
            raise ValueError(f"no edition {self.lang!r}; the course has {sorted(LANGUAGES)}")
        return LANGUAGES[self.lang]

    @property
    def english_dir(self) -> Path:
        return self.root / "notebooks"

    @property
    def output_dir(self) -> Path:
        return self.english_dir / self.lang

    @property
    def translation_dir(self) -> Path:
        return self.root / "i18n" / self.lang

    def translation_file(self, english: Path) -> Path:
        return self.translation_dir / f"{english.stem}.json"

    def output_file(self, english: Path) -> Path:
        return self.output_dir / english.name

    def english_notebooks(self) -> list[Path]:
        return sorted(p for p in self.english_dir.glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))

    def translated(self) -> list[Path]:
        """English notebooks that have a translation file."""
        return [p for p in self.english_notebooks() if self.translation_file(p).is_file()]

    def untranslated(self) -> list[Path]:
        return [p for p in self.english_notebooks() if not self.translation_file(p).is_file()]

    def select(self, keys: list[str] | None) -> list[Path]:
        """``["01", "13_two_files"]`` -> those English notebooks; none -> every translated one."""
        if not keys:
            return self.translated()
        every, chosen = self.english_notebooks(), []
        for key in keys:
            key = Path(key).name.removesuffix(".ipynb").removesuffix(".json")
            key = f"{int(key):02d}" if key.isdigit() else key
            found = [p for p in every if p.stem == key or p.stem.startswith(key + "_")]
            if len(found) != 1:
                offer = ", ".join(p.stem for p in every)
                raise FileNotFoundError(f"{key!r} names no single notebook; give one of: {offer}")
            chosen += found
        return chosen


# ----------------------------------------------------------------------------- staleness
@dataclass
class Status:
    """How one translation stands against the English notebook it translates."""

    notebook: str
    missing: list[str] = field(default_factory=list)  # English markdown cells with no entry
    stale: list[str] = field(default_factory=list)  # entries whose en_sha256 no longer matches
    unknown: list[str] = field(default_factory=list)  # entries for cells the notebook lacks
    unbuilt: bool = False  # the built notebook is absent or differs from a fresh build

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.unknown or self.unbuilt)

    def lines(self) -> list[str]:
        """What is wrong, in words a translator can act on (empty when nothing is)."""
        out = []
        if self.missing:
            out.append(
                f"{self.notebook}: {len(self.missing)} cell(s) not translated: "
                + ", ".join(self.missing)
            )
        if self.stale:
            out.append(
                f"{self.notebook}: {len(self.stale)} cell(s) changed in English since they "
                "were translated (re-translate, then update en_sha256): " + ", ".join(self.stale)
            )
        if self.unknown:
            out.append(
                f"{self.notebook}: entries for cells the English notebook no longer has "
                "(delete them): " + ", ".join(self.unknown)
            )
        if self.unbuilt:
            out.append(
                f"{self.notebook}: the built notebook is missing or out of date; run "
                "`python -m course translate`"
            )
        return out


def status(english_nb: dict, translation: dict, name: str = "") -> Status:
    """Compare a translation with the English notebook (cells matched by id)."""
    result = Status(name or translation.get("notebook", "?"))
    entries = translation.get("cells", {})
    markdown_ids = []
    for cell in english_nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        cell_id = cell.get("id")
        if not cell_id:
            raise ValueError(
                f"{result.notebook}: a markdown cell has no id; give it one "
                "(nbformat 4.5) so its translation can be matched"
            )
        markdown_ids.append(cell_id)
        entry = entries.get(cell_id)
        if entry is None:
            result.missing.append(cell_id)
        elif entry.get("en_sha256") != sha256(cell["source"]):
            result.stale.append(cell_id)
    result.unknown = sorted(set(entries) - set(markdown_ids))
    return result


# ----------------------------------------------------------------------------- links
def relocate(target: str, folder: str, sibling_notebooks: set[str], figures: Path | None) -> str:
    """A relative link written for notebooks/ -> the same resource seen from notebooks/<folder>/.

    Another notebook links to its translated sibling when that one exists; a figure with a
    translated variant (``figures/<folder>/NAME``) links to the variant.
    """
    if NOT_RELATIVE.match(target):
        return target
    path, tail = re.match(r"([^#?]*)(.*)", target, re.S).groups()  # tail: "#anchor", "?query"
    if not path:
        return target
    path = posixpath.normpath(path)
    if "/" not in path and path in sibling_notebooks:
        return target  # the translated notebook sits beside this one
    if figures is not None and path.startswith("figures/"):
        variant = f"figures/{folder}/{path[len('figures/') :]}"
        if (figures.parent / variant).is_file():
            path = variant
    return posixpath.relpath(path, folder) + tail


def rewrite_links(
    markdown: str,
    folder: str,
    sibling_notebooks: set[str] = frozenset(),
    figures: Path | None = None,
) -> str:
    """Rewrite every relative link and image target in a markdown cell for ``notebooks/<folder>/``.

    Fenced code blocks and inline code are left exactly as written.
    """

    def fix(match: re.Match) -> str:
        return match.group(0).replace(
            match.group(1), relocate(match.group(1), folder, sibling_notebooks, figures), 1
        )

    pieces = re.split(r"(```.*?```|`[^`\n]*`)", markdown, flags=re.S)  # odd pieces are code
    for i in range(0, len(pieces), 2):
        pieces[i] = HTML_LINK.sub(fix, MARKDOWN_LINK.sub(fix, pieces[i]))
    return "".join(pieces)


# ----------------------------------------------------------------------------- the build
def build(
    english_nb: dict,
    translation: dict,
    lang: str = "zh-CN",
    sibling_notebooks: set[str] = frozenset(),
    figures: Path | None = None,
) -> dict:
    """The translated notebook: code cells copied, markdown translated, links moved one folder down.

    A markdown cell with no translation, or whose translation is stale, keeps its current English
    text, so the built notebook never shows prose that disagrees with its code.
    """
    key = LANGUAGES[lang]
    entries = translation.get("cells", {})
    nb = copy.deepcopy(english_nb)
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        entry = entries.get(cell.get("id"))
        fresh = entry is not None and entry.get("en_sha256") == sha256(cell["source"])
        text = entry[key] if fresh else source_of(cell)
        cell["source"] = rewrite_links(text, lang, sibling_notebooks, figures)
    metadata = nb.setdefault("metadata", {})
    metadata["course"] = {**metadata.get("course", {}), "language": lang}
    return nb


def build_file(english: Path, edition: Edition) -> tuple[str, Status]:
    """The translated notebook's text for one English notebook, and the translation's status."""
    english_nb = read_json(english)
    translation = read_json(edition.translation_file(english))
    siblings = {p.name for p in edition.translated()}
    text = render(
        build(english_nb, translation, edition.lang, siblings, edition.english_dir / "figures")
    )
    return text, status(english_nb, translation, english.name)


def run(
    keys: list[str] | None = None,
    *,
    check: bool = False,
    lang: str = "zh-CN",
    root: Path = ROOT,
    say=print,
) -> int:
    """Build (or with ``check``, only verify) the translated notebooks; returns an exit code."""
    edition = Edition(lang, Path(root))
    chosen = edition.select(keys)
    without = [p.stem for p in chosen if not edition.translation_file(p).is_file()]
    if without:
        say(
            f"no translation file for: {', '.join(without)} (expected in {edition.translation_dir})"
        )
        return 1
    problems = 0
    for english in chosen:
        text, state = build_file(english, edition)
        output = edition.output_file(english)
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if check:
            state.unbuilt = current != text
        elif current != text:
            atomic.check_writable_folder(output.parent)
            atomic.write_text(output, text)
            say(f"wrote {output.relative_to(edition.root)}")
        for line in state.lines():
            say(line)
        problems += not state.ok
    for stray in sorted(edition.output_dir.glob("*.ipynb")):
        if not (edition.translation_dir / f"{stray.stem}.json").is_file():
            say(f"{stray.relative_to(edition.root)} has no translation file; delete it")
            problems += 1
    todo = [p.stem for p in edition.untranslated()]
    if todo:
        say(f"{lang}: still to translate ({len(todo)}): {', '.join(todo)}")
    done = len(chosen) - problems
    say(f"{lang}: {done} of {len(chosen)} translated notebook(s) complete and up to date")
    return 1 if problems else 0
