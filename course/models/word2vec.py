"""word2vec: skip-gram with negative sampling (Mikolov et al. 2013, "Distributed Representations of
Words and Phrases and their Compositionality").

Each word w gets two vectors: v_w when it is the centre word, u_w when it is a context word. For a
(centre c, context o) pair seen in the text and k "noise" words n_1..n_k drawn from P_n(w) ∝
count(w)^0.75, the loss is (eq. 4 of the paper, negated):

    L = -log σ(u_o · v_c) - Σ_i log σ(-u_{n_i} · v_c)

Pushing real pairs together and random pairs apart is enough to make words that appear in similar
contexts get similar vectors v: an *embedding*. The pieces here (subsampling, dynamic window, the
noise distribution) follow the original C tool, so the comparison with gensim is like for like.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def keep_probabilities(counts: np.ndarray, sample: float = 1e-3) -> np.ndarray:
    """Probability of keeping each occurrence of a word, as in word2vec's C code: p_keep(w) =
    (sqrt(f(w) / (sample·N)) + 1) · sample·N / f(w), capped at 1. Frequent words ("the") are dropped
    often — they carry little meaning and would dominate the pairs; rare words always stay.
    ``sample=0`` keeps everything."""
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore"):
        p = (np.sqrt(counts / threshold) + 1) * threshold / counts
    return np.minimum(np.nan_to_num(p, nan=1.0, posinf=1.0), 1.0)


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """P_n(w) ∝ count(w)^0.75: flatter than the unigram distribution, so rare words are drawn as
    negatives more often than their frequency alone would give (the paper found 3/4 best)."""
    counts = np.asarray(counts, dtype=np.float64)
    if (counts < 0).any() or counts.sum() == 0:
        raise ValueError("counts must be non-negative and not all zero")
    p = counts**power
    return p / p.sum()


def skipgram_pairs(
    ids: np.ndarray,
    window: int,
    rng: np.random.Generator | None = None,
    doc_ids: np.ndarray | None = None,
    dynamic: bool = True,
) -> np.ndarray:
    """All (centre, context) pairs of a token stream: for each position i, the words at i±1 … i±b.

    With ``dynamic`` (word2vec's default) b is drawn uniformly from 1..window for each centre, so
    near neighbours are used more often than far ones. Pairs never cross a document boundary when
    ``doc_ids`` (one id per token) is given. Returns an int64 array of shape (pairs, 2)."""
    ids = np.asarray(ids, dtype=np.int64)
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    n = len(ids)
    if dynamic:
        rng = rng if rng is not None else np.random.default_rng(0)
        reach = rng.integers(1, window + 1, size=n)  # b_i for each centre
    else:
        reach = np.full(n, window)
    chunks = []
    for offset in range(1, window + 1):
        centre = np.arange(n - offset)  # pairs (i, i+offset) and (i+offset, i)
        for c, o in ((centre, centre + offset), (centre + offset, centre)):
            ok = reach[c] >= offset
            if doc_ids is not None:
                ok &= doc_ids[c] == doc_ids[o]
            chunks.append(np.stack([ids[c[ok]], ids[o[ok]]], axis=1))
    return np.concatenate(chunks) if chunks else np.zeros((0, 2), dtype=np.int64)


class SkipGram(nn.Module):
    """Two embedding tables: ``centre`` (v, the vectors we keep) and ``context`` (u).

    ``model(centre, context, negatives)`` with shapes (B,), (B,), (B, k) returns the mean loss L
    above. Sparse gradients: each step touches only the rows of the words in the batch."""

    def __init__(self, vocab_size: int, dim: int = 100, sparse: bool = True):
        super().__init__()
        if vocab_size < 2 or dim < 1:
            raise ValueError("need vocab_size >= 2 and dim >= 1")
        self.centre = nn.Embedding(vocab_size, dim, sparse=sparse)
        self.context = nn.Embedding(vocab_size, dim, sparse=sparse)
        # word2vec's initialisation: small uniform centre vectors, zero context vectors
        nn.init.uniform_(self.centre.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.context.weight)

    def forward(
        self, centre: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor
    ) -> torch.Tensor:
        v = self.centre(centre)  # (B, d)
        u_pos = self.context(context)  # (B, d)
        u_neg = self.context(negatives)  # (B, k, d)
        pos = (u_pos * v).sum(-1)  # (B,)   u_o · v_c
        neg = torch.bmm(u_neg, v.unsqueeze(2)).squeeze(2)  # (B, k)   u_n · v_c
        return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1)).mean()

    @property
    def vectors(self) -> torch.Tensor:
        """The word vectors (the centre table), detached: (V, d)."""
        return self.centre.weight.detach()


class PairBatches:
    """An epoch of shuffled skip-gram batches ``(centre, context, negatives)``, re-drawn each epoch:
    fresh subsampling, fresh window sizes, fresh negatives — as word2vec does on every pass."""

    def __init__(
        self,
        ids: np.ndarray,
        counts: np.ndarray,
        *,
        window: int = 5,
        negatives: int = 5,
        sample: float = 1e-3,
        batch_size: int = 1024,
        doc_ids: np.ndarray | None = None,
        seed: int = 0,
    ):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.doc_ids = doc_ids
        self.keep = keep_probabilities(counts, sample)
        self.noise = torch.tensor(noise_distribution(counts), dtype=torch.float)
        self.window, self.k, self.batch_size = window, negatives, batch_size
        self.rng = np.random.default_rng(seed)
        self.generator = torch.Generator().manual_seed(seed)

    def epoch_pairs(self) -> np.ndarray:
        kept = self.rng.random(len(self.ids)) < self.keep[self.ids]
        docs = self.doc_ids[kept] if self.doc_ids is not None else None
        pairs = skipgram_pairs(self.ids[kept], self.window, self.rng, doc_ids=docs)
        return pairs[self.rng.permutation(len(pairs))]

    def __iter__(self):
        pairs = torch.from_numpy(self.epoch_pairs())
        for i in range(0, len(pairs), self.batch_size):
            chunk = pairs[i : i + self.batch_size]
            negatives = torch.multinomial(
                self.noise, chunk.size(0) * self.k, replacement=True, generator=self.generator
            ).view(-1, self.k)
            yield chunk[:, 0], chunk[:, 1], negatives


def skipgram_loss(model: SkipGram, batch) -> torch.Tensor:
    """``loss_fn`` for ``course.train.fit``: the batch is (centre, context, negatives)."""
    return model(*batch)


def encode_corpus(
    docs: Sequence[Sequence[str]], min_count: int = 5
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Vocabulary of words seen at least ``min_count`` times (most frequent first), the corpus as
    one id stream with rarer words removed (as word2vec does), a document id per token, and the
    counts."""
    from collections import Counter

    counts = Counter(w for doc in docs for w in doc)
    itos = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    if len(itos) < 2:
        raise ValueError(
            f"fewer than two words occur {min_count}+ times; lower min_count or use more text"
        )
    stoi = {w: i for i, w in enumerate(itos)}
    ids, doc_ids = [], []
    for d, doc in enumerate(docs):
        kept = [stoi[w] for w in doc if w in stoi]
        ids.extend(kept)
        doc_ids.extend([d] * len(kept))
    return (
        itos,
        np.array(ids, dtype=np.int64),
        np.array(doc_ids, dtype=np.int64),
        np.array([counts[w] for w in itos]),
    )
