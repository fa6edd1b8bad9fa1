"""The builder of translated notebooks (course/i18n.py, ``python -m course translate``), on toys."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from course import i18n
from course.cli import main


def _markdown(cell_id: str, text: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text}


def _code(cell_id: str, text: str, outputs=()) -> dict:
    return {
        "cell_type": "code",
        "id": cell_id,
        "metadata": {"tags": ["x"]},
        "source": text,
        "outputs": list(outputs),
        "execution_count": None,
    }


def _english() -> dict:
    return {
        "cells": [
            _markdown("title", "# 01 · Counting\nSee ![the window](figures/01_window.svg)."),
            _code("c1", "print(1)", [{"output_type": "stream", "name": "stdout", "text": "1\n"}]),
            _markdown(
                "next",
                "Next: [notebook 02](02_next.ipynb), [notebook 03](03_other.ipynb#top),"
                " [docs](../docs/teaching.md) and [web](https://example.org/a.svg).",
            ),
            _markdown(
                "html",
                '<img src="figures/01_window.svg" alt="w"> `figures/in_code.svg`\n'
                "```\n![x](figures/in_fence.svg)\n```",
            ),
        ],
        "metadata": {"kernelspec": {"name": "python3"}, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _translation(english: dict, skip=()) -> dict:
    cells = {}
    for cell in english["cells"]:
        if cell["cell_type"] == "markdown" and cell["id"] not in skip:
            cells[cell["id"]] = {
                "en_sha256": i18n.sha256(cell["source"]),
                "zh": "译：" + cell["source"],
            }
    return {"notebook": "01_count.ipynb", "cells": cells}


def _checkout(tmp_path: Path, english: dict, translation: dict | None, others=("02_next",)) -> Path:
    (tmp_path / "notebooks" / "figures").mkdir(parents=True)
    (tmp_path / "i18n" / "zh-CN").mkdir(parents=True)
    (tmp_path / "notebooks" / "01_count.ipynb").write_text(i18n.render(english), encoding="utf-8")
    for stem in others:  # another English notebook, translated too
        (tmp_path / "notebooks" / f"{stem}.ipynb").write_text(i18n.render(_english()))
        other = _translation(_english())
        (tmp_path / "i18n" / "zh-CN" / f"{stem}.json").write_text(i18n.render_translation(other))
    if translation is not None:
        (tmp_path / "i18n" / "zh-CN" / "01_count.json").write_text(
            i18n.render_translation(translation), encoding="utf-8"
        )
    return tmp_path


def test_sha256_is_of_the_joined_source():
    assert i18n.sha256(["a\n", "b"]) == i18n.sha256("a\nb") == hashlib.sha256(b"a\nb").hexdigest()


def test_build_copies_code_translates_markdown_and_records_the_language():
    english = _english()
    built = i18n.build(english, _translation(english), "zh-CN", {"02_next.ipynb"})
    assert [c["id"] for c in built["cells"]] == [c["id"] for c in english["cells"]]
    assert built["cells"][1] == english["cells"][1]  # code: source, outputs, metadata, id
    assert built["cells"][0]["source"].startswith("译：# 01 · Counting")
    assert built["metadata"] == {**english["metadata"], "course": {"language": "zh-CN"}}
    assert english["cells"][0]["source"].startswith("# 01")  # the English notebook is untouched


def test_links_move_one_folder_down():
    english = _english()
    built = i18n.build(english, _translation(english), "zh-CN", {"02_next.ipynb"})
    assert "![the window](../figures/01_window.svg)" in built["cells"][0]["source"]
    text = built["cells"][2]["source"]
    assert "[notebook 02](02_next.ipynb)" in text  # translated: its sibling in zh-CN/
    assert "[notebook 03](../03_other.ipynb#top)" in text  # not translated: the English one
    assert "[docs](../../docs/teaching.md)" in text
    assert "(https://example.org/a.svg)" in text
    html = built["cells"][3]["source"]
    assert 'src="../figures/01_window.svg"' in html
    assert (
        "`figures/in_code.svg`" in html and "![x](figures/in_fence.svg)" in html
    )  # code untouched


def test_a_figure_with_a_translated_variant_links_to_it(tmp_path):
    figures = tmp_path / "figures"
    (figures / "zh-CN").mkdir(parents=True)
    (figures / "zh-CN" / "a.svg").write_text("<svg/>")
    text = i18n.rewrite_links("![a](figures/a.svg) ![b](figures/b.svg)", "zh-CN", figures=figures)
    assert text == "![a](../figures/zh-CN/a.svg) ![b](../figures/b.svg)"


def test_status_lists_missing_stale_and_unknown_cells():
    english = _english()
    translation = _translation(english, skip=("html",))
    translation["cells"]["gone"] = {"en_sha256": "0" * 64, "zh": "旧"}
    english["cells"][0]["source"] += " (edited)"
    state = i18n.status(english, translation, "01_count.ipynb")
    assert (state.missing, state.stale, state.unknown) == (["html"], ["title"], ["gone"])
    assert not state.ok
    lines = "\n".join(state.lines())
    assert "html" in lines and "title" in lines and "re-translate" in lines and "gone" in lines


def test_missing_and_stale_cells_show_the_current_english():
    english = _english()
    translation = _translation(english, skip=("html",))
    english["cells"][2]["source"] = "Changed [notebook 03](03_other.ipynb)."
    built = i18n.build(english, translation, "zh-CN", set())
    assert built["cells"][2]["source"] == "Changed [notebook 03](../03_other.ipynb)."
    assert built["cells"][3]["source"].startswith('<img src="../figures/')
    assert built["cells"][0]["source"].startswith("译：")  # the fresh ones stay translated


def test_a_markdown_cell_without_id_is_an_error_that_says_what_to_do():
    english = _english()
    del english["cells"][0]["id"]
    with pytest.raises(ValueError, match="no id"):
        i18n.status(english, {"cells": {}})


def test_run_builds_then_check_passes(tmp_path, capsys):
    english = _english()
    root = _checkout(tmp_path, english, _translation(english))
    assert i18n.run(["01"], check=True, root=root) == 1  # not built yet
    assert "run `python -m course translate`" in capsys.readouterr().out
    assert i18n.run(root=root) == 0
    built = root / "notebooks" / "zh-CN" / "01_count.ipynb"
    first = built.read_bytes()
    assert json.loads(first)["metadata"]["course"] == {"language": "zh-CN"}
    assert i18n.run(check=True, root=root) == 0
    assert i18n.run(root=root) == 0 and built.read_bytes() == first  # a rebuild changes nothing
    assert not list(built.parent.glob(".*.tmp"))  # atomic writes leave no temporary file


def test_check_fails_on_a_stale_cell_and_names_it(tmp_path, capsys):
    english = _english()
    root = _checkout(tmp_path, english, _translation(english))
    assert i18n.run(root=root) == 0
    english["cells"][0]["source"] = "# 01 · Counting words"
    (root / "notebooks" / "01_count.ipynb").write_text(i18n.render(english))
    capsys.readouterr()
    assert main(["translate", "--check", "01"]) in (0, 1)  # the real checkout: runs, any state
    capsys.readouterr()
    assert i18n.run(["01"], check=True, root=root) == 1
    out = capsys.readouterr().out
    assert "changed in English since they were translated" in out and "title" in out


def test_check_changes_nothing_and_reports_untranslated_notebooks(tmp_path, capsys):
    english = _english()
    root = _checkout(tmp_path, english, None)
    assert i18n.run(["01"], root=root) == 1  # no translation file for it
    assert "no translation file" in capsys.readouterr().out
    assert i18n.run(check=True, root=root) == 1  # 02 translated but not built
    out = capsys.readouterr().out
    assert "still to translate (1): 01_count" in out
    assert not (root / "notebooks" / "zh-CN").exists()


def test_a_built_notebook_without_translation_is_reported(tmp_path, capsys):
    english = _english()
    root = _checkout(tmp_path, english, _translation(english))
    assert i18n.run(root=root) == 0
    (root / "i18n" / "zh-CN" / "01_count.json").unlink()
    assert i18n.run(root=root) == 1
    assert "has no translation file; delete it" in capsys.readouterr().out


def test_select_by_number_or_name(tmp_path):
    english = _english()
    edition = i18n.Edition("zh-CN", _checkout(tmp_path, english, _translation(english)))
    assert [p.stem for p in edition.select(["1"])] == ["01_count"]
    assert [p.stem for p in edition.select(["02_next"])] == ["02_next"]
    assert [p.stem for p in edition.select(None)] == ["01_count", "02_next"]
    with pytest.raises(FileNotFoundError, match="01_count"):
        edition.select(["07"])
