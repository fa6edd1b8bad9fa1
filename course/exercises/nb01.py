"""Checks for the exercises of notebook 01 (bag of words and n-grams)."""

from __future__ import annotations

import math

from course.exercises import exercise


def idf(fn) -> bool:
    """``fn(docs)`` with docs a list of word lists -> {word: ln(N / df(word))}."""
    with exercise("idf") as ex:
        docs = [["the", "cat", "sat"], ["the", "dog", "sat", "sat"], ["a", "dog"]]
        got = ex.call(fn, docs)
        ex.expect(isinstance(got, dict), "return a dict that maps each word to its idf")
        ex.expect(
            set(got) == {"the", "cat", "sat", "dog", "a"},
            "give every word that occurs in some document an idf",
        )
        ex.expect(
            abs(got["cat"] - math.log(3)) < 1e-9, "'cat' is in 1 of 3 documents: idf = ln(3 / 1)"
        )
        ex.expect(
            abs(got["sat"] - math.log(1.5)) < 1e-9,
            "'sat' occurs three times but in 2 documents: df counts documents, not occurrences -> "
            "ln(3/2)",
        )
        ex.expect(
            ex.call(fn, [["x"], ["x", "y"]])["x"] == 0,
            "a word in every document has idf ln(N/N) = 0",
        )
    return ex.passed


def continuation_counts(fn) -> bool:
    """``fn(tokens)`` -> {word: number of DISTINCT words seen immediately before it}."""
    with exercise("continuation_counts") as ex:
        text = "san francisco san francisco san francisco my glasses the glasses reading glasses"
        tokens = text.split()
        got = ex.call(fn, tokens)
        ex.expect(isinstance(got, dict), "return a dict {word: count}")
        ex.expect(
            got.get("francisco") == 1,
            "'francisco' occurs 3 times but always after 'san': its continuation count is 1",
        )
        ex.expect(
            got.get("glasses") == 3,
            "'glasses' follows 'my', 'the' and 'reading': 3 distinct left neighbours",
        )
        ex.expect(
            got.get("san") == 1, "'san' follows 'francisco' twice: count distinct words, so 1"
        )
        ex.expect("my" in got and got["my"] == 1, "every word with a left neighbour gets a count")
    return ex.passed


def perplexity(fn) -> bool:
    """``fn(log_probs)`` -> exp(-mean(log_probs)), the perplexity of natural-log probabilities."""
    with exercise("perplexity") as ex:
        got = ex.call(fn, [math.log(0.25)] * 4)
        ex.expect(
            isinstance(got, (int, float)) or hasattr(got, "__float__"),
            "return a number (did you forget `return`?)",
        )
        ex.expect(
            abs(float(got) - 4) < 1e-9,
            "a model that gives every token probability 1/4 has perplexity 4",
        )
        got = ex.call(fn, [math.log(0.5), math.log(0.125)])
        ex.expect(
            abs(got - 4) < 1e-9,
            "average the log-probabilities, then exponentiate: exp(-(ln .5 + ln .125)/2) = 4",
        )
        ex.expect(
            abs(ex.call(fn, [0.0, 0.0]) - 1) < 1e-12,
            "a model that is always certain and right has perplexity 1",
        )
    return ex.passed
