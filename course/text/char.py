"""The simplest tokenizer: one token per character seen in the training text."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from course import atomic


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
        ids = [int(i) for i in ids]
        # (a negative id would silently index from the end: chars[-1])
        wrong = [i for i in ids if not 0 <= i < self.vocab_size]
        if wrong:
            raise ValueError(
                f"token ids {wrong[:5]} are outside this tokenizer's vocabulary "
                f"[0, {self.vocab_size}); decode ids that this tokenizer's encode "
                "(or a model with its vocab_size) produced"
            )
        return "".join(self.chars[i] for i in ids)

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
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(
                f"{path} is not a valid tokenizer file ({error}); save the tokenizer again"
            ) from None
        chars = data.get("chars") if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("type") != "char":
            raise ValueError(f"{path} does not hold a character tokenizer")
        if not isinstance(chars, list) or not all(isinstance(c, str) for c in chars):
            raise ValueError(
                f"{path} is damaged: 'chars' should be a list of characters; "
                "save the tokenizer again"
            )
        return cls(chars)
