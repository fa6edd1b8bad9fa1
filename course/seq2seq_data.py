"""Sentence pairs for the encoder-decoder lessons (notebooks 05 and 06): tasks, vocabularies,
padded batches. The lessons import these names through ``course.translation``; decoding with a
trained model (``translate``) lives with the other inference code, in ``course/generate.py``.

The three tasks, all as ``(source, target)`` string pairs:

* ``"eng-deu"``: real English -> German sentence pairs (Tatoeba), word level. Short sentences:
  English has 1-7 words.
* ``"dates"``: human-written dates -> ISO dates (``"tuesday, 3 march 1998"`` -> ``"1998-03-03"``),
  character level. The fallback when the eng-deu file cannot be found or downloaded.
* ``"spoken-digits"``: digits read aloud -> the digits (``"four double seven one"`` -> ``"4771"``),
  words -> characters, with inputs as long as you ask for: the task that shows the bottleneck of a
  fixed-size encoder vector (notebook 05), because the output must carry every input word.

Typical use::

    task = load_task("eng-deu", max_len=10, limit=20_000)     # falls back to "dates" offline
    for batch in task.batches("train", batch_size=64):  # Batch(src, src_mask, tgt_in, tgt_out)
        ...
    score = task.bleu(translate, "test")                      # translate(list[str]) -> list[str]

Token ids 0-3 are the same in every vocabulary: ``<pad>``, ``<bos>``, ``<eos>``, ``<unk>``.
"""

from __future__ import annotations

import calendar
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import torch

from course.data import DataUnavailable
from course.data import load as load_dataset
from course.metrics import bleu as corpus_bleu
from course.special_tokens import BOS_ID, EOS, EOS_ID, PAD_ID, SPECIALS, UNK_ID

Pair = tuple[str, str]

# Words (any alphabet: \w is Unicode-aware, so "schön" and "größer" stay whole), numbers with
# inner dots/colons ("9.15", "10:30"), inner apostrophes ("don't"), or one punctuation mark.
_WORD = re.compile(r"\w+(?:[.:']\w+)*|[^\w\s]")


# ----------------------------------------------------------------------------- tokens
def tokenize(sentence: str, level: str = "word") -> list[str]:
    """Lower-cased words and punctuation (``level="word"``) or characters (``level="char"``).

    >>> tokenize("Tom isn't here.")
    ['tom', "isn't", 'here', '.']
    """
    if level == "word":
        return _WORD.findall(sentence.lower().replace("\u00a0", " "))
    if level == "char":
        return list(sentence)
    raise ValueError(f"level must be 'word' or 'char', not {level!r}")


def detokenize(tokens: Sequence[str], level: str = "word") -> str:
    """Tokens back to one string: words joined by spaces (what BLEU expects), characters glued."""
    return " ".join(tokens) if level == "word" else "".join(tokens)


class Vocab:
    """Token <-> id, with the four special tokens first (ids 0-3 in every vocabulary).

    >>> v = Vocab.build([["a", "b"], ["a"]])
    >>> v.encode(["a", "b"], eos=True)
    [4, 5, 2]
    """

    def __init__(self, tokens: Sequence[str]):
        self.itos = list(SPECIALS) + [t for t in tokens if t not in SPECIALS]
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(
        cls, sentences: Sequence[Sequence[str]], min_count: int = 1, max_size: int | None = None
    ) -> Vocab:
        """From tokenized sentences: tokens seen ``min_count`` times, most frequent first (ties
        alphabetical)."""
        counts = Counter(t for sentence in sentences for t in sentence)
        if not counts:
            raise ValueError("cannot build a vocabulary from no tokens: the sentences are empty")
        ranked = sorted(
            (t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t)
        )
        if max_size is not None:
            ranked = ranked[: max(0, max_size - len(SPECIALS))]
        return cls(ranked)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(
        self, tokens: Sequence[str], *, bos: bool = False, eos: bool = False, strict: bool = False
    ) -> list[int]:
        """Ids of ``tokens``; unknown tokens become ``<unk>``, or raise a ValueError when
        ``strict``."""
        if strict:
            unknown = [t for t in tokens if t not in self.stoi]
            if unknown:
                raise ValueError(
                    f"unknown token(s) {unknown[:5]} are not in the vocabulary of {len(self)}; "
                    "use words the model was trained on (see vocab.itos), or pass strict=False "
                    "to map them to <unk>"
                )
        ids = [self.stoi.get(t, UNK_ID) for t in tokens]
        return ([BOS_ID] if bos else []) + ids + ([EOS_ID] if eos else [])

    def decode(self, ids: Sequence[int]) -> list[str]:
        """Tokens of ``ids``, stopping at the first ``<eos>`` and dropping ``<pad>``/``<bos>``."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS_ID:
                break
            if i in (PAD_ID, BOS_ID):
                continue
            out.append(self.itos[i])
        return out


# ----------------------------------------------------------------------------- batches
@dataclass
class Batch:
    """One padded batch. Sources and targets are padded with ``PAD_ID`` (0) on the right.

    src      (batch, src_len)  source ids, ending in <eos>
    src_mask (batch, src_len)  True at real tokens, False at padding
    tgt_in   (batch, tgt_len)  <bos> y1 ... yT   (the decoder's inputs under teacher forcing)
    tgt_out  (batch, tgt_len)  y1 ... yT <eos>   (what it must predict; PAD positions are ignored)
    """

    src: torch.Tensor
    src_mask: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor

    def to(self, device) -> Batch:
        return Batch(*(t.to(device) for t in (self.src, self.src_mask, self.tgt_in, self.tgt_out)))

    def __len__(self) -> int:
        return self.src.size(0)


def pad(sequences: Sequence[Sequence[int]], value: int = PAD_ID) -> torch.Tensor:
    """Right-pad lists of ids into one (batch, longest) tensor."""
    longest = max(len(s) for s in sequences)
    out = torch.full((len(sequences), longest), value, dtype=torch.long)
    for row, s in enumerate(sequences):
        out[row, : len(s)] = torch.tensor(s, dtype=torch.long)
    return out


def collate(src_ids: Sequence[Sequence[int]], tgt_ids: Sequence[Sequence[int]]) -> Batch:
    """Encoded sources (with <eos>) and bare targets -> one padded :class:`Batch`."""
    if not src_ids or any(len(s) == 0 for s in src_ids):
        raise ValueError("every source must have at least one token (its <eos>); got an empty one")
    src = pad(src_ids)
    tgt_in = pad([[BOS_ID] + list(t) for t in tgt_ids])
    tgt_out = pad([list(t) + [EOS_ID] for t in tgt_ids])
    return Batch(src, src != PAD_ID, tgt_in, tgt_out)


def make_batches(
    pairs: Sequence[Pair],
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    batch_size: int = 64,
    *,
    src_level: str = "word",
    tgt_level: str = "word",
    shuffle: bool = True,
    seed: int = 0,
) -> list[Batch]:
    """Encode and batch ``pairs``. Pairs of similar source length share a batch (little padding);
    with ``shuffle`` the order of pairs and of batches is random but fixed by ``seed``."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if not pairs:
        raise ValueError("no sentence pairs to batch: the split is empty (check max_len/limit)")
    encoded = [
        (
            src_vocab.encode(tokenize(s, src_level), eos=True),
            tgt_vocab.encode(tokenize(t, tgt_level)),
        )
        for s, t in pairs
    ]
    order = list(range(len(encoded)))
    rng = random.Random(seed)
    if shuffle:
        rng.shuffle(order)
    # sort within chunks of 50 batches by source length, so padding is small but batches still vary
    chunk = batch_size * 50
    order = [
        i
        for start in range(0, len(order), chunk)
        for i in sorted(order[start : start + chunk], key=lambda i: len(encoded[i][0]))
    ]
    groups = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        rng.shuffle(groups)
    return [collate([encoded[i][0] for i in g], [encoded[i][1] for i in g]) for g in groups]


# ----------------------------------------------------------------------------- the three tasks
def load_pairs(max_len: int | None = None, limit: int | None = None, seed: int = 0) -> list[Pair]:
    """English -> German pairs from ``course.data.load("eng-deu")``.

    ``max_len`` keeps pairs whose both sides have at most that many word tokens; ``limit`` keeps a
    random (``seed``) sample of that many pairs (the file is sorted by English length, so taking
    the first lines would keep only the shortest). Raises ``course.data.DataUnavailable`` when the
    file cannot be found or downloaded.
    """
    pairs = []
    for line in load_dataset("eng-deu").splitlines():
        english, _, german = line.partition("\t")
        english, german = english.strip(), german.strip()
        if not english or not german:
            continue
        if max_len is not None and (
            len(tokenize(english)) > max_len or len(tokenize(german)) > max_len
        ):
            continue
        pairs.append((english, german))
    if limit is not None and limit < len(pairs):
        pairs = random.Random(seed).sample(pairs, limit)
    return pairs


_DATE_FORMATS = [
    lambda d: f"{d.day} {calendar.month_name[d.month]} {d.year}",  # 3 march 1998
    lambda d: f"{calendar.month_name[d.month]} {d.day}, {d.year}",  # march 3, 1998
    lambda d: f"{calendar.day_name[d.weekday()]}, {d.day} {calendar.month_name[d.month]} {d.year}",
    lambda d: f"{calendar.day_name[d.weekday()]}, {calendar.month_name[d.month]} {d.day}, {d.year}",
    lambda d: f"{calendar.day_abbr[d.weekday()]} {d.day} {calendar.month_abbr[d.month]} {d.year}",
    lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",  # 03.03.1998 (day first, as in Germany)
    lambda d: f"{calendar.month_abbr[d.month]} {d.day} {d.year}",
    lambda d: f"the {_ordinal(d.day)} of {calendar.month_name[d.month]} {d.year}",
]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def date_pairs(n: int, seed: int = 0) -> list[Pair]:
    """``n`` (human-written date, ISO date) pairs, dates between 1950 and 2049, lower case.

    >>> date_pairs(1, seed=3)
    [('saturday, 12 september 1992', '1992-09-12')]
    """
    rng = random.Random(seed)
    start, days = date(1950, 1, 1), (date(2049, 12, 31) - date(1950, 1, 1)).days
    out = []
    for _ in range(n):
        d = start + timedelta(days=rng.randrange(days + 1))
        out.append((rng.choice(_DATE_FORMATS)(d).lower(), d.isoformat()))
    return out


DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def spoken_digit_pairs(
    n: int, min_words: int = 3, max_words: int = 30, seed: int = 0
) -> list[Pair]:
    """``n`` pairs (digits read aloud, the digits), the source having between ``min_words`` and
    ``max_words`` words (uniform). "double d" and "triple d" repeat a digit, as when a phone number
    is read out, so one source word can stand for two or three target characters.

    >>> spoken_digit_pairs(1, 4, 4, seed=1)
    [('double nine one seven', '9917')]
    """
    if not 1 <= min_words <= max_words:
        raise ValueError(f"need 1 <= min_words <= max_words, got {min_words} and {max_words}")
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        length = rng.randint(min_words, max_words)
        words, digits = [], []
        while len(words) < length:
            d = rng.randrange(10)
            group = (
                rng.choices([1, 2, 3], weights=[0.8, 0.13, 0.07])[0]
                if length - len(words) >= 2
                else 1
            )
            words += {1: [], 2: ["double"], 3: ["triple"]}[group] + [DIGIT_WORDS[d]]
            digits += [str(d)] * group
        out.append((" ".join(words), "".join(digits)))
    return out


# ------------------------------------------------------------------------ a task, ready to train on
@dataclass
class TranslationTask:
    """Train/val/test pairs with their vocabularies and tokenization levels."""

    name: str
    train: list[Pair]
    val: list[Pair]
    test: list[Pair]
    src_vocab: Vocab
    tgt_vocab: Vocab
    src_level: str = "word"
    tgt_level: str = "word"
    notes: str = field(default="")

    def split(self, name: str) -> list[Pair]:
        if name not in ("train", "val", "test"):
            raise ValueError(f"split must be 'train', 'val' or 'test', not {name!r}")
        return getattr(self, name)

    def batches(
        self,
        split: str = "train",
        batch_size: int = 64,
        *,
        shuffle: bool | None = None,
        seed: int = 0,
    ) -> list[Batch]:
        """Padded batches of one split (shuffled for "train" unless told otherwise)."""
        shuffle = split == "train" if shuffle is None else shuffle
        return make_batches(
            self.split(split),
            self.src_vocab,
            self.tgt_vocab,
            batch_size,
            src_level=self.src_level,
            tgt_level=self.tgt_level,
            shuffle=shuffle,
            seed=seed,
        )

    def encode_source(
        self, sentences: str | Sequence[str], strict: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Source sentence(s) -> (src, src_mask), each (batch, src_len). ``strict`` raises a clear
        error for an empty sentence or a word outside the vocabulary (what a text box needs)."""
        sentences = [sentences] if isinstance(sentences, str) else list(sentences)
        ids = []
        for sentence in sentences:
            tokens = tokenize(sentence, self.src_level)
            if not tokens:
                raise ValueError("the sentence is empty: type at least one word")
            ids.append(self.src_vocab.encode(tokens, eos=True, strict=strict))
        src = pad(ids)
        return src, src != PAD_ID

    def source_tokens(self, sentence: str) -> list[str]:
        """The tokens the encoder sees, <eos> included (labels for an attention heatmap)."""
        return tokenize(sentence, self.src_level) + [EOS]

    def decode_target(self, ids: Sequence[int]) -> str:
        return detokenize(self.tgt_vocab.decode(ids), self.tgt_level)

    def references(self, split: str = "test") -> list[str]:
        """Targets of a split as BLEU wants them: tokens joined by single spaces."""
        return [" ".join(tokenize(t, self.tgt_level)) for _, t in self.split(split)]

    def bleu(
        self,
        translate: Callable[[list[str]], list[str]],
        split: str = "test",
        limit: int | None = None,
        *,
        multi_reference: bool = False,
    ) -> float:
        """Corpus BLEU (0-100) of ``translate`` (source strings -> output strings) on a split.

        ``multi_reference=True`` translates each distinct source once and scores it against all of
        its targets in the split (Tatoeba often has several correct German sentences for one English
        one); the default scores every (source, target) row on its own, one reference each.
        """
        pairs = self.split(split)[:limit]
        if multi_reference:
            grouped: dict[str, list[str]] = {}
            for source, target in pairs:  # dicts keep first-seen order
                grouped.setdefault(source, []).append(" ".join(tokenize(target, self.tgt_level)))
            outputs = translate(list(grouped))
            hyps = [" ".join(tokenize(o, self.tgt_level)) for o in outputs]
            return corpus_bleu(hyps, list(grouped.values()))
        outputs = translate([s for s, _ in pairs])
        hyps = [" ".join(tokenize(o, self.tgt_level)) for o in outputs]
        refs = [" ".join(tokenize(t, self.tgt_level)) for _, t in pairs]
        return corpus_bleu(hyps, refs)

    def exact_match(
        self,
        translate: Callable[[list[str]], list[str]],
        split: str = "test",
        limit: int | None = None,
    ) -> float:
        """Fraction of outputs equal to the reference, token for token."""
        pairs = self.split(split)[:limit]
        outputs = translate([s for s, _ in pairs])
        return sum(
            tokenize(o, self.tgt_level) == tokenize(t, self.tgt_level)
            for o, (_, t) in zip(outputs, pairs)
        ) / max(1, len(pairs))


def _split_by_source(pairs: list[Pair], val_size: int, test_size: int, seed: int):
    """Split so that one source sentence never lands in two splits (many English sentences have
    several German translations; sharing them would leak test answers into training)."""
    sources = sorted({s for s, _ in pairs})
    random.Random(seed).shuffle(sources)
    counts = Counter(s for s, _ in pairs)
    val_src, test_src, taken = set(), set(), 0
    for s in sources:
        if taken < test_size:
            test_src.add(s)
        elif taken < test_size + val_size:
            val_src.add(s)
        else:
            break
        taken += counts[s]
    train = [p for p in pairs if p[0] not in val_src and p[0] not in test_src]
    return train, [p for p in pairs if p[0] in val_src], [p for p in pairs if p[0] in test_src]


def load_task(
    name: str = "eng-deu",
    *,
    max_len: int = 10,
    limit: int | None = 20_000,
    val_size: int = 1000,
    test_size: int = 1000,
    min_count: int = 2,
    seed: int = 0,
    fallback: bool = True,
    min_words: int = 3,
    max_words: int = 30,
) -> TranslationTask:
    """A ready task: pairs split into train/val/test and vocabularies built on train.

    * ``"eng-deu"`` (word level): ``max_len`` words per side, a sample of ``limit`` pairs, words
      seen fewer than ``min_count`` times in train become <unk>. If the file cannot be had, prints
      why and returns the ``"dates"`` task instead (``fallback=False`` raises DataUnavailable).
    * ``"dates"`` (characters): ``limit`` pairs (default 20,000).
    * ``"spoken-digits"`` (words -> characters): ``limit`` pairs, ``min_words``..``max_words``
      words.
    """
    limit_or = limit if limit is not None else 20_000
    if name == "eng-deu":
        try:
            pairs = load_pairs(max_len=max_len, limit=limit, seed=seed)
        except DataUnavailable as error:
            if not fallback:
                raise
            print(
                f"[course.translation] {error}\n[course.translation] Using the synthetic date task "
                "instead "
                "(human-written dates -> ISO dates, character level). The lesson runs; its figures "
                "differ."
            )
            return load_task(
                "dates", limit=limit, val_size=val_size, test_size=test_size, seed=seed
            )
        train, val, test = _split_by_source(pairs, val_size, test_size, seed)
        src_vocab = Vocab.build([tokenize(s) for s, _ in train], min_count=min_count)
        tgt_vocab = Vocab.build([tokenize(t) for _, t in train], min_count=min_count)
        return TranslationTask(
            "eng-deu",
            train,
            val,
            test,
            src_vocab,
            tgt_vocab,
            "word",
            "word",
            notes="English -> German, Tatoeba (CC-BY 2.0 FR)",
        )
    if name == "dates":
        pairs = date_pairs(limit_or + val_size + test_size, seed=seed)
        train, val, test = _split_by_source(pairs, val_size, test_size, seed)
        src_vocab = Vocab.build([tokenize(s, "char") for s, _ in train])
        tgt_vocab = Vocab.build([list("0123456789-")])
        return TranslationTask(
            "dates",
            train,
            val,
            test,
            src_vocab,
            tgt_vocab,
            "char",
            "char",
            notes="human-written dates -> ISO dates (synthetic)",
        )
    if name == "spoken-digits":
        pairs = spoken_digit_pairs(limit_or + val_size + test_size, min_words, max_words, seed=seed)
        train, val, test = _split_by_source(pairs, val_size, test_size, seed)
        src_vocab = Vocab(DIGIT_WORDS + ["double", "triple"])
        tgt_vocab = Vocab(list("0123456789"))
        return TranslationTask(
            "spoken-digits",
            train,
            val,
            test,
            src_vocab,
            tgt_vocab,
            "word",
            "char",
            notes="digits read aloud -> digits (synthetic)",
        )
    raise ValueError(f"unknown task {name!r}; choose 'eng-deu', 'dates' or 'spoken-digits'")
