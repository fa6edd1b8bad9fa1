"""The Chinese edition (notebooks/zh-CN/) is complete, fresh and built from the current English.

For every translation file i18n/zh-CN/<stem>.json:
- it translates every markdown cell of notebooks/<stem>.ipynb and nothing else, and each entry's
  en_sha256 matches the English cell now (otherwise it lists the cells to re-translate);
- notebooks/zh-CN/<stem>.ipynb exists and is byte for byte what ``python -m course translate``
  builds now, so its code cells (source, outputs, metadata, ids) are the English ones. That is why
  nbval does not execute the Chinese notebooks (conftest.py): they run the code already tested;
- no entry is left in English, and the glossary's terms are used (docs/glossary.md).
The notebooks still to translate are reported (a skip, shown in the summary by ``-ra``).
"""

from __future__ import annotations

import json
import re

import pytest

from course import i18n

EDITION = i18n.Edition("zh-CN")
TRANSLATED = EDITION.translated()
CJK = re.compile(r"[\u4e00-\u9fff]")
# What is not prose: code blocks and spans, math, HTML tags, link targets, URLs.
NOT_PROSE = re.compile(
    r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|<[^>]+>|\]\([^)]*\)|https?://\S+", re.S
)
# Renderings the glossary rules out (docs/glossary.md), with the term to use instead.
NOT_THE_GLOSSARY = {
    "令牌": "token -> 词元",
    "标记化": "tokenization -> 分词",
    "量子化": "quantisation -> 量化",
    "集束搜索": "beam search -> 束搜索",
    "波束搜索": "beam search -> 束搜索",
    "过度拟合": "overfitting -> 过拟合",
    "幻象": "hallucination -> 幻觉",
    "词汇表": "vocabulary -> 词表",
    "检查站": "checkpoint -> 检查点",
    "光滑": "smoothing -> 平滑",
    "嵌入式": "embedding -> 嵌入",
    "自我注意": "self-attention -> 自注意力",
    "键值缓冲": "KV cache -> 键值缓存",
    "思想链": "chain-of-thought -> 思维链",
    "思考链": "chain-of-thought -> 思维链",
    "涌现性": "emergence -> 涌现",
}


def _ids(paths):
    return [p.stem for p in paths]


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("english", TRANSLATED, ids=_ids(TRANSLATED))
def test_translation_file_is_in_the_fixed_form(english):
    path = EDITION.translation_file(english)
    data = _load(path)
    assert data.get("notebook") == english.name, f"{path.name}: 'notebook' must be {english.name!r}"
    for cell_id, entry in data["cells"].items():
        assert set(entry) == {"en_sha256", "zh"}, (
            f"{path.name} {cell_id}: keys en_sha256 and zh only"
        )
        assert isinstance(entry["zh"], str) and entry["zh"].strip(), f"{path.name} {cell_id}: empty"
    assert path.read_text(encoding="utf-8") == i18n.render_translation(data), (
        f"{path.name}: write it with json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) "
        "+ newline (docs: CONTRIBUTING, Translations)"
    )


@pytest.mark.parametrize("english", TRANSLATED, ids=_ids(TRANSLATED))
def test_every_cell_translated_and_fresh(english):
    state = i18n.status(_load(english), _load(EDITION.translation_file(english)), english.name)
    assert state.ok, "\n".join(state.lines())


@pytest.mark.parametrize("english", TRANSLATED, ids=_ids(TRANSLATED))
def test_built_notebook_is_what_the_builder_makes_now(english):
    built = EDITION.output_file(english)
    assert built.is_file(), (
        f"{built} is missing; run `python -m course translate {english.stem[:2]}`"
    )
    text, _ = i18n.build_file(english, EDITION)
    assert built.read_text(encoding="utf-8") == text, (
        f"{built.name} is out of date (or was edited by hand); run `python -m course translate`"
    )


@pytest.mark.parametrize("english", TRANSLATED, ids=_ids(TRANSLATED))
def test_code_cells_are_the_english_ones(english):
    # Implied by the test above; kept for its plain message when someone edits a Chinese notebook.
    built = EDITION.output_file(english)
    if not built.is_file():
        pytest.skip("not built (the test above fails)")
    ours, theirs = _load(built)["cells"], _load(english)["cells"]
    assert [c.get("id") for c in ours] == [c.get("id") for c in theirs], (
        f"{built.name}: cells differ"
    )
    for a, b in zip(ours, theirs):
        if b["cell_type"] == "code":
            assert a == b, (
                f"{built.name} cell {b.get('id')}: code differs from the English notebook"
            )
    assert _load(built)["metadata"]["course"]["language"] == "zh-CN"


@pytest.mark.parametrize("english", TRANSLATED, ids=_ids(TRANSLATED))
def test_no_prose_left_in_english(english):
    entries = _load(EDITION.translation_file(english))["cells"]
    left = []
    for cell_id, entry in entries.items():
        prose = NOT_PROSE.sub(" ", entry["zh"])
        if not CJK.search(prose) and len(re.findall(r"[A-Za-z]{3,}", prose)) >= 4:
            left.append(cell_id)
    assert not left, f"{english.stem}: cells still in English: {', '.join(left)}"


@pytest.mark.parametrize("english", TRANSLATED, ids=_ids(TRANSLATED))
def test_terms_follow_the_glossary(english):
    entries = _load(EDITION.translation_file(english))["cells"]
    found = [
        f"{cell_id}: {word!r} ({use})"
        for cell_id, entry in entries.items()
        for word, use in NOT_THE_GLOSSARY.items()
        if word in NOT_PROSE.sub(" ", entry["zh"])
    ]
    assert not found, (
        f"{english.stem}: terms that docs/glossary.md renders otherwise:\n" + "\n".join(found)
    )


def test_no_chinese_notebook_without_its_translation():
    stray = [
        p.name
        for p in sorted(EDITION.output_dir.glob("*.ipynb"))
        if not (EDITION.translation_dir / f"{p.stem}.json").is_file()
    ]
    assert not stray, f"notebooks/zh-CN/ holds notebooks with no translation file: {stray}"


def test_every_notebook_is_translated():
    todo = [p.stem for p in EDITION.untranslated()]
    assert not todo, (
        f"zh-CN: {len(todo)} notebook(s) have no translation: {', '.join(todo)}; translate their "
        "markdown cells into i18n/zh-CN/ and run `python -m course translate` (CONTRIBUTING)"
    )


@pytest.mark.parametrize("page", ["README.zh-CN.md", "docs/teaching.zh-CN.md"])
def test_chinese_pages_link_to_what_exists(page):
    path = EDITION.root / page
    if not path.is_file():
        pytest.skip(f"no {page}")
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:|#", target):
            continue
        linked = (path.parent / target.split("#")[0]).resolve()
        if linked.parent == EDITION.output_dir.resolve():  # a Chinese notebook: once it is built
            linked = EDITION.english_dir / linked.name
        if not linked.exists():
            broken.append(target)
    assert not broken, f"{page} links to files that do not exist: {broken}"
