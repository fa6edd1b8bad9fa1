"""The simplest tokenizer: one token per character seen in the training text."""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path


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
    def fit(cls, text: str) -> "CharTokenizer":
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
                f"characters {unknown} are not in this tokenizer's vocabulary of {self.vocab_size}; "
                "remove them from the text, or fit the tokenizer on a text that contains them"
            ) from None

    def decode(self, ids: Iterable[int]) -> str:
        try:
            return "".join(self.chars[int(i)] for i in ids)
        except IndexError:
            raise ValueError(f"token ids must lie in [0, {self.vocab_size})") from None

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"type": "char", "chars": self.chars}, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "CharTokenizer":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("type") != "char":
            raise ValueError(f"{path} does not hold a character tokenizer")
        return cls(data["chars"])
