"""n-gram language models on integer token ids: counts, add-k, interpolated Kneser-Ney, perplexity,
sampling.

Every model here answers two questions about a context ``h`` (a tuple of the previous n-1 ids):
``prob(word, h)`` — one number — and ``distribution(h)`` — a NumPy vector over the whole vocabulary
that sums to 1. Perplexity, sampling and the mixture in notebook 03 are built on those two.

The one trick worth remembering: Kneser-Ney's lower orders do not count how often a word occurs,
but in how many different contexts it occurs (its *continuation count*). "Francisco" is frequent
but almost always follows "San", so as a guess for a new context it deserves little mass.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np


def ngram_counts(tokens: Sequence[int], n: int) -> Counter:
    """Count every n-gram (a tuple of n ids) in a token stream.

    >>> ngram_counts([1, 2, 1, 2], 2)
    Counter({(1, 2): 2, (2, 1): 1})
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def unseen_share(train_tokens: Sequence[int], test_tokens: Sequence[int], n: int) -> float:
    """Share of the test set's n-grams (occurrences) that never occur in the training set:
    sparsity."""
    seen = set(ngram_counts(train_tokens, n))
    test = ngram_counts(test_tokens, n)
    total = sum(test.values())
    if total == 0:
        raise ValueError(f"the test stream has fewer than {n} tokens")
    return sum(c for g, c in test.items() if g not in seen) / total


def last_words(context: Sequence[int], k: int) -> tuple:
    """The last ``k`` ids of ``context`` as a tuple (all of it when it is shorter; () when k = 0).

    A context shorter than k (the start of a text) is kept whole: it then matches no k-word context
    of the counts, and the model backs off to the orders it has evidence for.
    >>> last_words([1, 2], 3), last_words([1, 2, 3, 4], 3), last_words([1, 2], 0)
    ((1, 2), (2, 3, 4), ())
    """
    return tuple(context)[-k:] if k > 0 else ()


def _check(tokens: Sequence[int], vocab_size: int, n: int) -> None:
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if len(tokens) < n:
        raise ValueError(
            f"need at least {n} training tokens for an order-{n} model, got {len(tokens)}"
        )
    top = max(tokens)
    if top >= vocab_size or min(tokens) < 0:
        raise ValueError(
            f"token ids must lie in [0, {vocab_size}); found {top}. Encode with the same "
            "vocabulary."
        )


class AddK:
    """Add-k (Laplace when k=1) smoothing:  P(w | h) = (c(h, w) + k) / (c(h) + k·V).

    Every word gets k pretend counts in every context, so nothing has probability zero — but with a
    vocabulary of thousands, those pretend counts swamp the real ones in rare contexts.
    """

    def __init__(self, tokens: Sequence[int], n: int, vocab_size: int, k: float = 1.0):
        _check(tokens, vocab_size, n)
        if k <= 0:
            raise ValueError(
                f"k must be positive (k=0 gives zero probabilities to unseen n-grams), got {k}"
            )
        self.n, self.vocab_size, self.k = n, vocab_size, k
        self.counts = ngram_counts(tokens, n)
        self.context_counts: Counter = Counter()
        self.followers: dict[tuple, dict[int, int]] = defaultdict(dict)
        for gram, c in self.counts.items():
            self.context_counts[gram[:-1]] += c
            self.followers[gram[:-1]][gram[-1]] = c

    def _context(self, context: Sequence[int]) -> tuple:
        return last_words(context, self.n - 1)

    def prob(self, word: int, context: Sequence[int] = ()) -> float:
        h = self._context(context)
        return (self.followers.get(h, {}).get(word, 0) + self.k) / (
            self.context_counts.get(h, 0) + self.k * self.vocab_size
        )

    def distribution(self, context: Sequence[int] = ()) -> np.ndarray:
        h = self._context(context)
        p = np.full(self.vocab_size, self.k, dtype=np.float64)
        for w, c in self.followers.get(h, {}).items():
            p[w] += c
        return p / p.sum()


def _discount(counts) -> float:
    """Ney's estimate D = n1 / (n1 + 2·n2) from how many n-grams were seen once (n1) and twice (n2),
    kept within [0.05, 0.95] so that a tiny corpus (no n-gram seen twice, say) still gets a usable
    value."""
    values = list(counts)
    n1 = sum(1 for c in values if c == 1)
    n2 = sum(1 for c in values if c == 2)
    return min(max(n1 / (n1 + 2 * n2), 0.05), 0.95) if n1 + n2 else 0.75


class KneserNey:
    """Interpolated Kneser-Ney (Chen & Goodman 1998), one discount per order.

    Highest order (raw counts c):
        P(w | h) = max(c(h w) - D, 0) / c(h)  +  D · N1+(h •) / c(h) · P_lower(w | h')
    Lower orders use continuation counts N1+(• h' w) = how many distinct words precede h' w, in
    place of c. The lowest order interpolates with the uniform distribution, so every word in the
    vocabulary keeps some probability. A context never seen backs off to the lower order entirely.
    """

    def __init__(
        self,
        tokens: Sequence[int],
        n: int,
        vocab_size: int,
        discounts: Sequence[float] | None = None,
    ):
        _check(tokens, vocab_size, n)
        self.n, self.vocab_size = n, vocab_size
        # level k (1..n) holds: followers[h] = {w: count}, totals[h] = sum of counts, types[h] =
        # N1+(h •)
        self.followers: list[dict[tuple, dict[int, int]]] = [dict() for _ in range(n + 1)]
        self.totals: list[dict[tuple, int]] = [dict() for _ in range(n + 1)]
        top = ngram_counts(tokens, n)
        level_counts = {n: top}
        for k in range(n - 1, 0, -1):
            # continuation count of a k-gram = number of distinct words seen just before it
            # (iterating a Counter visits each distinct (k+1)-gram once)
            level_counts[k] = Counter(gram[1:] for gram in level_counts[k + 1])
        for k, counts in level_counts.items():
            for gram, c in counts.items():
                h, w = gram[:-1], gram[-1]
                self.followers[k].setdefault(h, {})[w] = c
                self.totals[k][h] = self.totals[k].get(h, 0) + c
        self.discounts = [0.0] + (
            list(discounts)
            if discounts is not None
            else [_discount(level_counts[k].values()) for k in range(1, n + 1)]
        )
        if len(self.discounts) != n + 1 or not all(0 < d < 1 for d in self.discounts[1:]):
            raise ValueError(
                f"need {n} discounts, each strictly between 0 and 1; got {self.discounts[1:]}"
            )

    def _context(self, context: Sequence[int]) -> tuple:
        return last_words(context, self.n - 1)

    def prob(self, word: int, context: Sequence[int] = ()) -> float:
        h = self._context(context)
        p = 1.0 / self.vocab_size  # order 0: uniform
        # from unigrams up, each order interpolates with the one below
        for k in range(1, self.n + 1):
            hk = last_words(h, k - 1)
            total = self.totals[k].get(hk, 0)
            if total == 0:
                continue  # unseen context: keep the lower-order estimate as it is
            seen = self.followers[k][hk]
            d = self.discounts[k]
            p = max(seen.get(word, 0) - d, 0.0) / total + d * len(seen) / total * p
        return p

    def distribution(self, context: Sequence[int] = ()) -> np.ndarray:
        h = self._context(context)
        p = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for k in range(1, self.n + 1):
            hk = last_words(h, k - 1)
            total = self.totals[k].get(hk, 0)
            if total == 0:
                continue
            seen = self.followers[k][hk]
            d = self.discounts[k]
            p = p * (d * len(seen) / total)
            words = np.fromiter(seen.keys(), dtype=np.int64, count=len(seen))
            counts = np.fromiter(seen.values(), dtype=np.float64, count=len(seen))
            p[words] += np.maximum(counts - d, 0.0) / total
        return p


def token_log_probs(model, tokens: Sequence[int], start: int | None = None) -> np.ndarray:
    """Natural-log probability of each token ``tokens[start:]`` given the tokens before it.

    ``start`` defaults to n-1 (the first position with a full context). Pass the same ``start`` to
    every model you compare, so each is scored on exactly the same tokens.
    """
    n = getattr(model, "n", 1)
    start = n - 1 if start is None else start
    if start < 0 or start >= len(tokens):
        raise ValueError(f"start={start} leaves no tokens to score in a stream of {len(tokens)}")
    return np.array(
        [
            math.log(model.prob(tokens[i], tokens[max(0, i - n + 1) : i]))
            for i in range(start, len(tokens))
        ]
    )


def perplexity(model, tokens: Sequence[int], start: int | None = None) -> float:
    """exp of the mean negative log-likelihood per token: the model is "as unsure as a fair die with
    this many sides". Infinite when some token got probability 0 (unsmoothed counts)."""
    return float(np.exp(-token_log_probs(model, tokens, start).mean()))


def sample(
    model, context: Sequence[int], length: int, rng: np.random.Generator | None = None
) -> list[int]:
    """Draw ``length`` ids one at a time from ``model.distribution(context)``, feeding each back
    in."""
    rng = rng if rng is not None else np.random.default_rng(0)
    out = list(context)
    for _ in range(length):
        p = model.distribution(last_words(out, model.n - 1))
        out.append(int(rng.choice(len(p), p=p)))
    return out[len(context) :]


class MLE:
    """Unsmoothed maximum likelihood: P(w | h) = c(h w) / c(h). Zero for anything unseen — so its
    held-out perplexity is infinite as soon as one test n-gram is new. Shown only to make that
    point."""

    def __init__(self, tokens: Sequence[int], n: int, vocab_size: int):
        _check(tokens, vocab_size, n)
        self.n, self.vocab_size = n, vocab_size
        self.followers: dict[tuple, dict[int, int]] = defaultdict(dict)
        for gram, c in ngram_counts(tokens, n).items():
            self.followers[gram[:-1]][gram[-1]] = c
        self.totals = {h: sum(f.values()) for h, f in self.followers.items()}

    def _context(self, context: Sequence[int]) -> tuple:
        return last_words(context, self.n - 1)

    def prob(self, word: int, context: Sequence[int] = ()) -> float:
        h = self._context(context)
        total = self.totals.get(h, 0)
        return self.followers[h].get(word, 0) / total if total else 0.0

    def distribution(self, context: Sequence[int] = ()) -> np.ndarray:
        h = self._context(context)
        if not self.totals.get(h):
            raise ValueError(
                "this context was never seen in training, so the unsmoothed model has no "
                "distribution for it; use AddK or KneserNey"
            )
        p = np.zeros(self.vocab_size)
        for w, c in self.followers[h].items():
            p[w] = c
        return p / p.sum()


# -------------------------------------------------------------------- the course's word-level split
from dataclasses import dataclass  # noqa: E402


@dataclass
class WordSplit:
    """Tiny Shakespeare as word ids, split once for notebooks 01 and 03 (so their perplexities
    compare).

    ``train``: the first ``train_share`` of the word stream; ``test``: the rest. The vocabulary (the
    ``vocab_size - 1`` most frequent training words plus ``<unk>``) is fitted on ``train`` only.
    """

    tokenizer: object
    train: list
    test: list

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size


def word_split(text: str, vocab_size: int = 2000, train_share: float = 0.9) -> WordSplit:
    """Lower-cased words and punctuation (``course.text.split_words``), first ``train_share`` for
    training and the rest held out, vocabulary capped at ``vocab_size`` with ``<unk>``."""
    from course.text import WordTokenizer, split_words

    if not 0 < train_share < 1:
        raise ValueError(f"train_share must lie strictly between 0 and 1, got {train_share}")
    words = split_words(text)
    cut = int(train_share * len(words))
    if cut < 10 or len(words) - cut < 10:
        raise ValueError(
            f"the text has only {len(words)} words: too few to split for a language model"
        )
    tokenizer = WordTokenizer.fit(words[:cut], max_size=vocab_size)
    ids = tokenizer.encode(words)
    return WordSplit(tokenizer, ids[:cut], ids[cut:])
