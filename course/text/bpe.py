"""Byte-level byte-pair encoding (BPE), trained from scratch, as in GPT-2.

Start from the 256 possible bytes, so every string (any language, any emoji) can be encoded and no
token is ever unknown. Then repeat: find the most frequent pair of adjacent tokens in the training
text and make it a new token (a "merge"). After ``vocab_size - 256`` merges, frequent words are one
token and rare words a few pieces.

Two details from GPT-2:
* the text is first split into chunks (words with their leading space, numbers, punctuation runs,
  whitespace), and merges never cross a chunk boundary: "dog." and "dog!" share the token " dog";
* special tokens (``<|endoftext|>``...) get ids after the merges and are never produced by merges.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from course import atomic
from course.text.checks import read_tokenizer_file

# words with an optional leading space, digit runs, other symbols, whitespace (not the last space
# before a word, which goes with the word): a simplified version of GPT-2's pre-tokenizer
CHUNK = re.compile(
    r"""'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d{1,3}| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+|[\s\S]"""
)


def _to_bytes(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")  # lone surrogates survive the round trip


def _from_bytes(data: bytes) -> str:
    try:
        return data.decode("utf-8", errors="surrogatepass")
    except UnicodeDecodeError:  # e.g. generated tokens that stop in the middle of a character
        return data.decode("utf-8", errors="replace")


def merge_pair(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every non-overlapping occurrence of ``pair`` in ``ids`` (left to right) by
    ``new_id``."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def pair_counts(ids: list[int], counts: Counter | None = None, weight: int = 1) -> Counter:
    """How often each adjacent pair occurs in ``ids`` (added to ``counts`` when given)."""
    counts = Counter() if counts is None else counts
    for pair in zip(ids, ids[1:]):
        counts[pair] += weight
    return counts


class BPETokenizer:
    """Byte-level BPE. ``BPETokenizer.train(text, vocab_size=512,
    special_tokens=["<|endoftext|>"])``.

    >>> tok = BPETokenizer.train("low lower lowest " * 50, vocab_size=260)
    >>> tok.decode(tok.encode("lowest")) == "lowest"
    True
    """

    def __init__(self, merges: list[tuple[int, int]], special_tokens: Iterable[str] = ()):
        self.merges = [tuple(m) for m in merges]
        self.ranks = {pair: i for i, pair in enumerate(self.merges)}  # earlier merge = lower rank
        self.vocab = {i: bytes([i]) for i in range(256)}
        for i, (a, b) in enumerate(self.merges):
            if a >= 256 + i or b >= 256 + i:
                raise ValueError(f"merge {i} uses a token that does not exist yet: {(a, b)}")
            self.vocab[256 + i] = self.vocab[a] + self.vocab[b]
        self.special_tokens = {}
        for s in special_tokens:
            if not s or s in self.special_tokens:
                raise ValueError(f"special tokens must be distinct non-empty strings, got {s!r}")
            self.special_tokens[s] = 256 + len(self.merges) + len(self.special_tokens)
        self.special_ids = {i: s for s, i in self.special_tokens.items()}
        self._special_split = (
            re.compile(
                "("
                + "|".join(re.escape(s) for s in sorted(self.special_tokens, key=len, reverse=True))
                + ")"
            )
            if self.special_tokens
            else None
        )
        self._cache: dict[str, list[int]] = {}

    # ------------------------------------------------------------------ training
    @classmethod
    def train(
        cls, text: str, vocab_size: int, special_tokens: Iterable[str] = (), verbose: bool = False
    ) -> BPETokenizer:
        """Learn ``vocab_size - 256 - len(special_tokens)`` merges from ``text``.

        Counts are kept per distinct chunk (a word occurring 1,000 times is one entry with weight
        1,000), and after a merge only the chunks that contain the merged pair are recounted.
        """
        special_tokens = list(special_tokens)
        n_merges = vocab_size - 256 - len(special_tokens)
        if n_merges < 0:
            raise ValueError(
                f"vocab_size must be at least 256 + {len(special_tokens)} special tokens "
                f"(the bytes come first), got {vocab_size}"
            )
        for s in special_tokens:  # special tokens in the training text are not learned from
            text = text.replace(s, " ")
        chunk_freq = Counter(CHUNK.findall(text))
        # each distinct chunk as a list of token ids
        words = [list(_to_bytes(w)) for w in chunk_freq]
        weights = list(chunk_freq.values())
        counts: Counter = Counter()
        where: dict[tuple[int, int], set[int]] = defaultdict(set)  # pair -> chunks that contain it
        for w, (ids, weight) in enumerate(zip(words, weights)):
            pair_counts(ids, counts, weight)
            for pair in zip(ids, ids[1:]):
                where[pair].add(w)
        merges = []
        for m in range(n_merges):
            if not counts:
                break  # every chunk is a single token: nothing left to merge
            # the most frequent pair; ties go to the smallest pair, so the result never depends on
            # the order in which pairs were counted
            top = max(counts.values())
            best = min(pair for pair, c in counts.items() if c == top)
            if top < 2:
                break  # a pair seen once is not worth a token
            new_id = 256 + m
            merges.append(best)
            for w in list(where.pop(best, ())):
                old = words[w]
                pair_counts(old, counts, -weights[w])  # remove this chunk's old pairs...
                new = merge_pair(old, best, new_id)
                pair_counts(new, counts, weights[w])  # ...and add its new ones
                for pair in zip(new, new[1:]):
                    where[pair].add(w)
                words[w] = new
            for pair in [p for p, c in counts.items() if c <= 0] if m % 32 == 31 else ():
                del counts[pair]  # now and then, forget pairs whose count fell to zero
            if verbose and (m + 1) % 100 == 0:
                print(
                    f"merge {m + 1}/{n_merges}: {bytes(cls._bytes_of(merges, best))!r} "
                    f"({counts.get(best, 0)})"
                )
        return cls(merges, special_tokens)

    @staticmethod
    def _bytes_of(merges, pair) -> bytes:
        vocab = {i: bytes([i]) for i in range(256)}
        for i, (a, b) in enumerate(merges):
            vocab[256 + i] = vocab[a] + vocab[b]
        return vocab[pair[0]] + vocab[pair[1]]

    # ------------------------------------------------------------------ encode / decode
    @property
    def vocab_size(self) -> int:
        return 256 + len(self.merges) + len(self.special_tokens)

    def __len__(self) -> int:
        return self.vocab_size

    def _encode_chunk(self, chunk: str) -> list[int]:
        if chunk in self._cache:
            return self._cache[chunk]
        ids = list(_to_bytes(chunk))
        while len(ids) >= 2:
            # apply the earliest-learned merge available, exactly the order training used
            pair = min(zip(ids, ids[1:]), key=lambda p: self.ranks.get(p, float("inf")))
            if pair not in self.ranks:
                break
            ids = merge_pair(ids, pair, 256 + self.ranks[pair])
        if len(self._cache) < 100_000:
            self._cache[chunk] = ids
        return ids

    def _encode_ordinary(self, text: str) -> list[int]:
        ids: list[int] = []
        for chunk in CHUNK.findall(text):
            ids.extend(self._encode_chunk(chunk))
        return ids

    def encode(self, text: str, allowed_special: str | Iterable[str] = "all") -> list[int]:
        """Token ids of ``text``. Special-token strings in the text become their ids when allowed
        (``"all"``, or a set of them); with ``allowed_special="none"`` they are encoded as plain
        text."""
        if not isinstance(text, str):
            raise TypeError(f"encode takes a str, got {type(text).__name__}")
        allowed = (
            set(self.special_tokens)
            if allowed_special == "all"
            else (set() if allowed_special == "none" else set(allowed_special))
        )
        unknown = allowed - set(self.special_tokens)
        if unknown:
            raise ValueError(
                f"{sorted(unknown)} are not special tokens of this tokenizer "
                f"({sorted(self.special_tokens)})"
            )
        if not allowed or self._special_split is None:
            return self._encode_ordinary(text)
        ids: list[int] = []
        for part in self._special_split.split(text):
            if part in allowed:
                ids.append(self.special_tokens[part])
            elif part:
                ids.extend(self._encode_ordinary(part))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Text of the token ids; bytes that do not form valid UTF-8 show as U+FFFD."""
        parts: list[bytes] = []
        for i in ids:
            i = int(i)
            if i in self.vocab:
                parts.append(self.vocab[i])
            elif i in self.special_ids:
                parts.append(_to_bytes(self.special_ids[i]))
            else:
                raise ValueError(
                    f"token id {i} is outside this tokenizer's vocabulary [0, {self.vocab_size})"
                )
        return _from_bytes(b"".join(parts))

    def token_bytes(self, i: int) -> bytes:
        """The bytes a token stands for (special tokens: their UTF-8 string)."""
        return self.vocab[i] if i in self.vocab else _to_bytes(self.special_ids[i])

    def tokens(self, text: str) -> list[str]:
        """The pieces ``text`` is cut into, each shown as text (for teaching and plots)."""
        return [_from_bytes(self.token_bytes(i)) for i in self.encode(text)]

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | Path) -> None:
        """Write merges and special tokens as JSON, atomically (a failure keeps the old file)."""
        atomic.write_text(
            path,
            json.dumps(
                {
                    "type": "byte-bpe",
                    "merges": self.merges,
                    "special_tokens": list(self.special_tokens),
                }
            ),
        )

    @classmethod
    def load(cls, path: str | Path) -> BPETokenizer:
        data = read_tokenizer_file(path, "byte-bpe", "a byte-level BPE tokenizer")
        merges, special = data.get("merges"), data.get("special_tokens", [])

        def earlier_pair(m, i):  # merge i joins two tokens that exist before it: ids < 256 + i
            return (
                isinstance(m, list)
                and len(m) == 2
                and all(type(t) is int and 0 <= t < 256 + i for t in m)
            )

        pairs_ok = isinstance(merges, list) and all(
            earlier_pair(m, i) for i, m in enumerate(merges)
        )
        names_ok = isinstance(special, list) and all(isinstance(t, str) for t in special)
        if not pairs_ok or not names_ok:
            raise ValueError(
                f"{path} is damaged: 'merges' should list pairs of earlier token ids "
                "and 'special_tokens' strings; train or save the tokenizer again"
            )
        return cls([tuple(m) for m in merges], special)
