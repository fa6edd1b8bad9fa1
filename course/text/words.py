"""Word-level tokenization with a capped vocabulary and an ``<unk>`` token."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from course.special_tokens import UNK
from course.text.checks import checked_ids

# Words (letters, digits, inner apostrophes as in "o'er" or "don't") or single punctuation marks.
_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)*|[^\sA-Za-z0-9]")


def split_words(text: str, lower: bool = True) -> list[str]:
    """Split text into words and punctuation marks.

    >>> split_words("Hark! Who's there?")
    ['hark', '!', "who's", 'there', '?']
    """
    return _WORD.findall(text.lower() if lower else text)


class WordTokenizer:
    """A vocabulary of the ``max_size`` most frequent words; rarer words become ``<unk>``.

    Ties in frequency are broken alphabetically so the vocabulary is the same on every run.
    """

    def __init__(self, words: Iterable[str], lower: bool = True):
        self.itos = [UNK] + [w for w in words if w != UNK]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.lower = lower
        self.unk_id = 0

    @classmethod
    def fit(
        cls,
        text_or_tokens: str | list[str],
        max_size: int | None = None,
        min_count: int = 1,
        lower: bool = True,
    ) -> WordTokenizer:
        tokens = (
            split_words(text_or_tokens, lower)
            if isinstance(text_or_tokens, str)
            else text_or_tokens
        )
        if not tokens:
            raise ValueError("cannot build a vocabulary from an empty text")
        counts = Counter(tokens)
        ranked = sorted(
            (w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w)
        )
        if max_size is not None:
            ranked = ranked[: max_size - 1]  # one slot is <unk>
        return cls(ranked, lower=lower)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def __len__(self) -> int:
        return self.vocab_size

    def tokenize(self, text: str) -> list[str]:
        return split_words(text, self.lower)

    def encode(self, text_or_tokens: str | list[str]) -> list[int]:
        tokens = (
            self.tokenize(text_or_tokens) if isinstance(text_or_tokens, str) else text_or_tokens
        )
        return [self.stoi.get(t, self.unk_id) for t in tokens]

    def decode(self, ids: Iterable[int]) -> str:
        return " ".join(self.itos[i] for i in checked_ids(ids, self.vocab_size))
