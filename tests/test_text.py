import pytest

from course.text import CharTokenizer, WordTokenizer, split_words


def test_char_round_trip_and_sorted_ids():
    tok = CharTokenizer.fit("hello world")
    assert tok.chars == sorted(set("hello world"))
    assert tok.decode(tok.encode("low hello")) == "low hello"
    assert tok.vocab_size == len(set("hello world"))


def test_unknown_characters_are_named():
    tok = CharTokenizer.fit("abc")
    with pytest.raises(ValueError, match=r"\['x', 'z'\]"):
        tok.encode("abxzx")


def test_char_tokenizer_save_load(tmp_path):
    tok = CharTokenizer.fit("Ünïcödé ✓")
    tok.save(tmp_path / "tok.json")
    assert CharTokenizer.load(tmp_path / "tok.json").chars == tok.chars


def test_empty_text_is_refused():
    with pytest.raises(ValueError, match="empty"):
        CharTokenizer.fit("")
    with pytest.raises(ValueError, match="empty"):
        WordTokenizer.fit("")


def test_split_words_keeps_contractions_and_punctuation():
    assert split_words("O'er the hill, don't you SEE?") == ["o'er", "the", "hill", ",", "don't", "you", "see", "?"]


def test_word_vocab_caps_and_maps_rare_words_to_unk():
    tok = WordTokenizer.fit("a a a b b c d", max_size=3)
    assert tok.itos == ["<unk>", "a", "b"]
    assert tok.encode("a c b zebra") == [1, 0, 2, 0]
    assert tok.decode([1, 2, 0]) == "a b <unk>"


def test_ties_break_alphabetically_for_reproducible_vocabularies():
    assert WordTokenizer.fit("z y x").itos == ["<unk>", "x", "y", "z"]
