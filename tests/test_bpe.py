"""Byte-level BPE: round trip on arbitrary Unicode, merges learned in order, special tokens,
save/load."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.text.bpe import BPETokenizer, merge_pair

CORPUS = ("the cat sat on the mat. the dog sat on the log! " * 30) + "naïve café — 東京 🙂 " * 5


@pytest.fixture(scope="module")
def tok():
    return BPETokenizer.train(CORPUS, vocab_size=280, special_tokens=["<|endoftext|>", "<|pad|>"])


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_round_trip_on_arbitrary_unicode(tok, text):
    ids = tok.encode(text)
    assert all(0 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == text


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.sampled_from(["<|endoftext|>", "<|pad|>", "the", " cat", "é", "🙂", "<|", "|>"]),
        max_size=12,
    )
)
def test_round_trip_with_special_tokens_in_the_text(tok, parts):
    text = "".join(parts)
    assert tok.decode(tok.encode(text)) == text
    assert tok.decode(tok.encode(text, allowed_special="none")) == text


def test_merge_pair():
    assert merge_pair([1, 2, 2, 2, 1, 2], (2, 2), 9) == [1, 9, 2, 1, 2]
    assert merge_pair([1, 2, 1, 2], (1, 2), 7) == [7, 7]


def test_first_merge_is_the_most_frequent_pair():
    tok = BPETokenizer.train("xyxyxy zz", vocab_size=257)
    assert tok.merges == [(ord("x"), ord("y"))]
    assert tok.encode("xy") == [256]


def test_vocabulary_and_compression(tok):
    assert tok.vocab_size == 280
    assert tok.special_tokens == {"<|endoftext|>": 278, "<|pad|>": 279}
    text = "the cat sat on the mat."
    # frequent words became single tokens
    assert len(tok.encode(text)) < len(text.encode("utf-8")) / 2
    assert tok.encode("<|endoftext|>") == [278]
    assert len(tok.encode("<|endoftext|>", allowed_special="none")) > 1
    assert "".join(tok.tokens(text)) == text


def test_training_is_deterministic_and_save_load(tmp_path, tok):
    again = BPETokenizer.train(CORPUS, vocab_size=280, special_tokens=["<|endoftext|>", "<|pad|>"])
    assert again.merges == tok.merges
    tok.save(tmp_path / "bpe.json")
    loaded = BPETokenizer.load(tmp_path / "bpe.json")
    assert loaded.encode(CORPUS) == tok.encode(CORPUS)


def test_clear_errors(tok):
    with pytest.raises(ValueError, match="at least 256"):
        BPETokenizer.train("abc", vocab_size=100)
    with pytest.raises(ValueError, match="outside"):
        tok.decode([10_000])
    with pytest.raises(ValueError, match="not special tokens"):
        tok.encode("hi", allowed_special={"<|nope|>"})


# ----------------------------------------------------------------------------- issue 15
@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not a valid tokenizer file"),
        ('"byte-bpe"', "does not hold"),
        ('{"type": "byte-bpe", "merges": [[-1, 5]]}', "damaged"),
        ('{"type": "byte-bpe", "merges": [[97, 300]]}', "damaged"),
        ('{"type": "byte-bpe", "merges": [[97]]}', "damaged"),
        ('{"type": "byte-bpe"}', "damaged"),
    ],
)
def test_loading_a_malformed_file_is_a_clear_error(tmp_path, content, message):
    (tmp_path / "bpe.json").write_text(content)
    with pytest.raises(ValueError, match=message):  # [[-1, 5]] used to raise KeyError: -1
        BPETokenizer.load(tmp_path / "bpe.json")


def test_a_failed_save_leaves_the_old_file_intact(tmp_path, tok, monkeypatch):
    path = tmp_path / "bpe.json"
    tok.save(path)
    before = path.read_bytes()

    def disk_full(self, data):  # half the bytes reach the disk, then it is full
        with open(self, "wb") as handle:
            handle.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(path), "write_bytes", disk_full)
    with pytest.raises(OSError, match="No space"):
        BPETokenizer([(97, 98)]).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["bpe.json"]
