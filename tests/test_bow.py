"""Bag of words, TF-IDF, cosine and Naive Bayes against hand-computed values (and scikit-learn)."""

import math

import numpy as np
import pytest

from course.models.bow import (
    NaiveBayes,
    accuracy,
    build_vocab,
    cosine,
    count_vectors,
    idf,
    majority_baseline,
    speeches,
    tfidf,
)

DOCS = [["the", "cat", "sat"], ["the", "dog", "sat", "sat"], ["a", "dog"]]


def test_vocab_and_counts():
    vocab = build_vocab(DOCS)
    assert vocab[:3] == ["dog", "sat", "the"]  # each in 2 documents, then alphabetical
    X = count_vectors(DOCS, vocab)
    assert X.shape == (3, 5)
    assert X[1, vocab.index("sat")] == 2 and X[2, vocab.index("the")] == 0
    assert build_vocab(DOCS, min_df=2) == ["dog", "sat", "the"]
    with pytest.raises(ValueError, match="min_df"):
        build_vocab(DOCS, min_df=9)


def test_word_order_is_lost():
    vocab = build_vocab([["dog", "bites", "man"]])
    a, b = count_vectors([["dog", "bites", "man"], ["man", "bites", "dog"]], vocab)
    assert (a == b).all() and cosine(a, b) == pytest.approx(1.0)


def test_idf_and_tfidf_by_hand():
    vocab = ["the", "cat", "dog"]
    X = count_vectors(DOCS, vocab)
    assert idf(X) == pytest.approx([math.log(3 / 2), math.log(3 / 1), math.log(3 / 2)])
    raw = tfidf(X, normalise=False)
    assert raw[1] == pytest.approx([math.log(1.5), 0.0, math.log(1.5)])
    unit = tfidf(X)
    assert np.linalg.norm(unit, axis=1) == pytest.approx([1, 1, 1])
    every = count_vectors([["x"], ["x", "y"]], ["x", "y"])
    assert idf(every)[0] == 0.0  # a word in every document tells them apart not at all


def test_cosine():
    assert cosine(np.array([1.0, 0]), np.array([0, 2.0])) == pytest.approx(0.0)
    assert cosine(np.array([1.0, 1]), np.array([2.0, 2])) == pytest.approx(1.0)
    assert cosine(np.array([0.0, 0]), np.array([1.0, 0])) == 0.0
    M = cosine(np.eye(3), np.eye(3))
    assert pytest.approx(np.eye(3)) == M
    with pytest.raises(ValueError, match="same length"):
        cosine(np.ones(2), np.ones(3))


def test_naive_bayes_matches_scikit_learn():
    from sklearn.naive_bayes import MultinomialNB

    rng = np.random.default_rng(0)
    X = rng.poisson(1.0, size=(60, 12)).astype(float)
    y = np.array(["a", "b", "c"] * 20)
    X[y == "a", 0] += 3  # word 0 marks class a
    ours = NaiveBayes(alpha=0.5).fit(X, y)
    theirs = MultinomialNB(alpha=0.5).fit(X, y)
    assert ours.log_likelihood_ == pytest.approx(theirs.feature_log_prob_)
    assert (ours.predict(X) == theirs.predict(X)).all()
    assert ours.telling_words([f"w{i}" for i in range(12)], k=1)["a"] == ["w0"]


def test_accuracy_baseline_and_errors():
    assert accuracy(["a", "b"], ["a", "a"]) == 0.5
    assert majority_baseline(["a", "a", "b"], ["a", "b", "b", "b"]) == 0.25
    with pytest.raises(RuntimeError, match="fit"):
        NaiveBayes().predict(np.ones((1, 2)))
    with pytest.raises(ValueError):
        accuracy([], [])


def test_speeches():
    play = (
        "First Citizen:\nBefore we proceed,\nhear me.\n\nALL:\nSpeak, speak.\n\nno speaker here\n"
    )
    assert speeches(play) == [
        ("FIRST CITIZEN", "Before we proceed, hear me."),
        ("ALL", "Speak, speak."),
    ]
    assert speeches("plain news text without speakers") == []
