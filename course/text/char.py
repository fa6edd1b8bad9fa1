"""The simplest tokenizer: one token per character seen in the training text."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from course import atomic
from course.text.checks import checked_ids, read_tokenizer_file


class CharTokenizer:
    """Maps each distinct character of a text to an integer id (sorted, so ids are reproducible).

    >>> tok = CharTokenizer.fit("hello")
    >>> tok.decode(tok.encode("hell"))
    'hell'
    """

    def __init__(self, chars: Iterable[str]):
        self.chars = sorted(set(chars))
        if any(len(c) != 1 for c in self.chars):
            raise ValueError("CharTokenizer takes single characters")
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def fit(cls, text: str) -> CharTokenizer:
        if not text:
            raise ValueError("cannot build a character vocabulary from an empty text")
        return cls(text)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str) -> list[int]:
        try:
            return [self.stoi[c] for c in text]
        except KeyError:
            unknown = sorted({c for c in text if c not in self.stoi})
            raise ValueError(
                f"characters {unknown} are not in this tokenizer's vocabulary of "
                f"{self.vocab_size}; "
                "remove them from the text, or fit the tokenizer on a text that contains them"
            ) from None

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.chars[i] for i in checked_ids(ids, self.vocab_size))

    def save(self, path: str | Path) -> None:
        """Write the vocabulary as JSON, atomically: a failed save leaves an older file intact."""
        text = json.dumps({"type": "char", "chars": self.chars}, ensure_ascii=False)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                "the vocabulary holds a lone surrogate character, which UTF-8 cannot "
                "store; clean the text first: "
                "text.encode('utf-8', 'replace').decode('utf-8')"
            ) from None
        atomic.write_bytes(path, data)

    @classmethod
    def load(cls, path: str | Path) -> CharTokenizer:
        data = read_tokenizer_file(path, "char", "a character tokenizer")
        chars = data.get("chars")
        if not isinstance(chars, list) or not all(isinstance(c, str) for c in chars):
            raise ValueError(
                f"{path} is damaged: 'chars' should be a list of characters; "
                "save the tokenizer again"
            )
        return cls(chars)
