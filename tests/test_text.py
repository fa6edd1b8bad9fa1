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
    assert split_words("O'er the hill, don't you SEE?") == [
        "o'er",
        "the",
        "hill",
        ",",
        "don't",
        "you",
        "see",
        "?",
    ]


def test_word_vocab_caps_and_maps_rare_words_to_unk():
    tok = WordTokenizer.fit("a a a b b c d", max_size=3)
    assert tok.itos == ["<unk>", "a", "b"]
    assert tok.encode("a c b zebra") == [1, 0, 2, 0]
    assert tok.decode([1, 2, 0]) == "a b <unk>"


def test_ties_break_alphabetically_for_reproducible_vocabularies():
    assert WordTokenizer.fit("z y x").itos == ["<unk>", "x", "y", "z"]


# ----------------------------------------------------------------------------- issue 15
def test_decode_refuses_negative_and_too_large_ids():
    tok = CharTokenizer.fit("abc")
    with pytest.raises(ValueError, match=r"token ids \[-1\] are outside"):
        tok.decode([-1])  # used to return "c", the last character
    with pytest.raises(ValueError, match=r"\[3\] are outside"):
        tok.decode([0, 3])


def test_a_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "tok.json"
    CharTokenizer.fit("abc").save(path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="lone surrogate"):
        CharTokenizer.fit("ab\ud800").save(path)  # used to truncate tok.json to 0 bytes
    assert path.read_bytes() == before

    def disk_full(self, data):  # half the bytes reach the disk, then it is full
        with open(self, "wb") as handle:
            handle.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(path), "write_bytes", disk_full)  # a failure while writing the bytes
    with pytest.raises(OSError, match="No space"):
        CharTokenizer.fit("xyz").save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and CharTokenizer.load(path).chars == ["a", "b", "c"]
    assert [p.name for p in tmp_path.iterdir()] == ["tok.json"]  # no temporary file left behind


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not a valid tokenizer file"),
        ("[1, 2]", "does not hold a character tokenizer"),
        ('{"type": "char"}', "damaged"),
        ('{"type": "char", "chars": [1]}', "damaged"),
    ],
)
def test_loading_a_damaged_file_says_what_is_wrong(tmp_path, content, message):
    (tmp_path / "tok.json").write_text(content)
    with pytest.raises(ValueError, match=message):
        CharTokenizer.load(tmp_path / "tok.json")


def test_word_decode_refuses_ids_outside_the_vocabulary():
    tok = WordTokenizer.fit("to be or not to be")
    with pytest.raises(ValueError, match=r"\[-1\] are outside"):
        tok.decode([-1])  # used to return the last word
