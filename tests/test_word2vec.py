"""Skip-gram pairs, subsampling, the noise distribution, the SGNS loss, and the evaluation
helpers."""

import math

import numpy as np
import pytest
import torch

from course.models.text_eval import analogy_accuracy, nearest, wordsim_spearman
from course.models.word2vec import (
    PairBatches,
    SkipGram,
    encode_corpus,
    keep_probabilities,
    noise_distribution,
    skipgram_pairs,
)


def test_pairs_fixed_window():
    pairs = skipgram_pairs(np.array([10, 11, 12, 13]), window=1, dynamic=False)
    assert sorted(map(tuple, pairs)) == sorted(
        [(10, 11), (11, 10), (11, 12), (12, 11), (12, 13), (13, 12)]
    )
    two = skipgram_pairs(np.arange(5), window=2, dynamic=False)
    assert len(two) == 2 * (4 + 3)  # both directions of every pair at distance 1 and 2


def test_pairs_respect_documents_and_dynamic_window():
    pairs = skipgram_pairs(
        np.array([0, 1, 2, 3]), window=3, dynamic=False, doc_ids=np.array([0, 0, 1, 1])
    )
    assert sorted(map(tuple, pairs)) == [(0, 1), (1, 0), (2, 3), (3, 2)]
    ids = np.arange(20000)
    pairs = skipgram_pairs(ids, window=4, rng=np.random.default_rng(0))
    distance = np.abs(pairs[:, 0] - pairs[:, 1])
    # b ~ U{1..4}: distance d is used when b >= d, i.e. with probability (5 - d) / 4
    share = np.bincount(distance)[1:] / (2 * len(ids))
    assert share == pytest.approx([1.0, 0.75, 0.5, 0.25], abs=0.02)


def test_keep_probabilities_formula():
    counts = np.array([1000, 10, 1])
    keep = keep_probabilities(counts, sample=1e-3)
    t = 1e-3 * counts.sum()
    assert keep[0] == pytest.approx((math.sqrt(1000 / t) + 1) * t / 1000)
    assert keep[2] == 1.0 and keep[0] < keep[1] <= 1.0
    assert (keep_probabilities(counts, sample=0) == 1).all()


def test_noise_distribution_and_sampled_negatives():
    counts = np.array([81.0, 16.0, 1.0, 0.0])
    p = noise_distribution(counts)
    assert p == pytest.approx(np.array([27.0, 8.0, 1.0, 0.0]) / 36)  # count^(3/4)
    batches = PairBatches(
        np.array([0, 1, 0, 2, 0, 1] * 200),
        counts,
        window=2,
        negatives=20,
        sample=0,
        batch_size=256,
        seed=0,
    )
    negatives = torch.cat([b[2].flatten() for b in batches])
    share = torch.bincount(negatives, minlength=4).double() / len(negatives)
    assert share.numpy() == pytest.approx(p, abs=0.01)


def test_loss_by_hand():
    torch.manual_seed(0)
    model = SkipGram(5, 3, sparse=False)
    torch.nn.init.normal_(model.context.weight)
    centre, context, negatives = torch.tensor([1]), torch.tensor([2]), torch.tensor([[3, 4]])
    v, u = model.centre.weight[1], model.context.weight
    sig = torch.sigmoid
    expected = -(torch.log(sig(u[2] @ v)) + torch.log(sig(-u[3] @ v)) + torch.log(sig(-u[4] @ v)))
    assert model(centre, context, negatives).item() == pytest.approx(expected.item(), rel=1e-5)
    # the zero-initialised context table makes the first loss (k+1)·ln 2, as in word2vec
    fresh = SkipGram(5, 3)
    assert fresh(centre, context, negatives).item() == pytest.approx(3 * math.log(2), rel=1e-6)


def test_training_pulls_cooccurring_words_together():
    # two "topics" that never mix: words 0-3 co-occur, words 4-7 co-occur
    rng = np.random.default_rng(0)
    docs = [[f"a{i}" for i in rng.integers(0, 4, 30)] for _ in range(40)] + [
        [f"b{i}" for i in rng.integers(0, 4, 30)] for _ in range(40)
    ]
    itos, ids, doc_ids, counts = encode_corpus(docs, min_count=1)
    torch.manual_seed(0)
    model = SkipGram(len(itos), 16)
    optimizer = torch.optim.SparseAdam(model.parameters(), lr=0.02)
    batches = PairBatches(
        ids, counts, window=2, negatives=3, sample=0, batch_size=256, doc_ids=doc_ids
    )
    first = None
    for _ in range(3):
        for batch in batches:
            loss = model(*batch)
            first = first if first is not None else loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert loss.item() < first - 0.5
    neighbours = [w for w, _ in nearest(model.vectors, itos, "a0", k=3)]
    assert all(w.startswith("a") for w in neighbours)


def test_evaluation_helpers_on_constructed_vectors():
    itos = ["man", "woman", "king", "queen", "apple"]
    E = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1], [0, 0, -1]], dtype=float)
    acc, used = analogy_accuracy(
        E,
        itos,
        [
            ("man", "woman", "king", "queen"),
            ("man", "king", "woman", "queen"),
            ("man", "woman", "king", "pear"),
        ],
    )
    assert (acc, used) == (1.0, 2)
    rho, used = wordsim_spearman(
        E,
        itos,
        [
            ("king", "queen", 9.0),
            ("man", "woman", 8.0),
            ("king", "apple", 1.0),
            ("queen", "apple", 0.5),
            ("man", "zebra", 5.0),
        ],
    )
    assert used == 4 and rho == pytest.approx(0.8)
    with pytest.raises(KeyError, match="vocabulary"):
        nearest(E, itos, "zebra")
