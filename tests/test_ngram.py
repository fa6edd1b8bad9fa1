"""n-gram models: counts, add-k and Kneser-Ney against values worked out by hand, perplexity,
sampling."""

import math

import numpy as np
import pytest

from course.models.ngram import (
    MLE,
    AddK,
    KneserNey,
    ngram_counts,
    perplexity,
    sample,
    token_log_probs,
    unseen_share,
)

A, B, C, D = 0, 1, 2, 3
TOY = [A, B, A, C, A, B]  # "a b a c a b"


def test_counts():
    assert ngram_counts(TOY, 2) == {(A, B): 2, (B, A): 1, (A, C): 1, (C, A): 1}
    assert ngram_counts(TOY, 1)[(A,)] == 3
    assert sum(ngram_counts(TOY, 3).values()) == len(TOY) - 2


def test_unseen_share():
    # (b, b) is new; (a, b), (b, a) are not
    assert unseen_share(TOY, [A, B, B, A], 2) == pytest.approx(1 / 3)


def test_add_k_by_hand():
    lm = AddK(TOY, 2, vocab_size=3, k=1.0)
    assert lm.prob(B, [A]) == pytest.approx((2 + 1) / (3 + 3))  # c(a b) = 2, c(a •) = 3
    assert lm.prob(B, [B]) == pytest.approx((0 + 1) / (1 + 3))
    half = AddK(TOY, 2, vocab_size=3, k=0.5)
    assert half.prob(C, [A]) == pytest.approx((1 + 0.5) / (3 + 1.5))


def test_kneser_ney_by_hand():
    # continuation counts N1+(• w): a follows b and c -> 2; b follows a -> 1; c follows a -> 1;
    # total 4
    lm = KneserNey(TOY, 2, vocab_size=3, discounts=[0.5, 0.75])
    p1 = {A: 1.5 / 4 + 0.5 * 3 / 4 / 3, B: 0.5 / 4 + 0.5 * 3 / 4 / 3, C: 0.5 / 4 + 0.5 * 3 / 4 / 3}
    assert p1 == pytest.approx({A: 0.5, B: 0.25, C: 0.25})
    # P(b | a) = (2 - .75) / 3 + .75 · 2 / 3 · P1(b)
    assert lm.prob(B, [A]) == pytest.approx(1.25 / 3 + 0.5 * 0.25)
    assert lm.prob(A, [A]) == pytest.approx(0.5 * 0.5)
    assert lm.prob(C, [A]) == pytest.approx(0.25 / 3 + 0.5 * 0.25)
    unigram = KneserNey(TOY, 1, vocab_size=3, discounts=[0.5])
    # at order 1 alone the counts are raw (a: 3, b: 2, c: 1 of 6)
    assert unigram.prob(A) == pytest.approx(2.5 / 6 + 0.5 * 3 / 6 / 3)


def test_kneser_ney_prefers_words_seen_in_many_contexts():
    # "francisco" is frequent but only after "san"; "glasses" is rarer but follows many words
    san, francisco, glasses, reading, my, the, new = range(7)
    tokens = [san, francisco] * 5 + [reading, glasses, my, glasses, the, glasses, new]
    lm = KneserNey(tokens, 2, vocab_size=7)
    # "new" is never followed by either word in training... except nothing follows it
    unseen_context = [new]
    assert lm.prob(glasses, unseen_context) > lm.prob(francisco, unseen_context)
    assert AddK(tokens, 1, vocab_size=7).prob(francisco) > AddK(tokens, 1, vocab_size=7).prob(
        glasses
    )


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("context", [[A, B], [C, A], [D, D], [B, C]])
def test_distributions_sum_to_one_and_match_prob(n, context):
    tokens = TOY + [C, C, B, A]
    for lm in (AddK(tokens, n, vocab_size=4, k=0.1), KneserNey(tokens, n, vocab_size=4)):
        p = lm.distribution(context)
        assert p.sum() == pytest.approx(1.0)
        assert (p > 0).all()  # D (id 3) never occurs, yet keeps some probability
        assert p == pytest.approx([lm.prob(w, context) for w in range(4)])


def test_unseen_context_backs_off_to_lower_order():
    lm = KneserNey(TOY, 2, vocab_size=4, discounts=[0.5, 0.75])
    # context D was never seen: the bigram model answers with its continuation unigram, worked out
    # by hand (N1+(• a) = 2, N1+(• b) = N1+(• c) = 1, of 4; three word types; V = 4)
    spread = 0.5 * 3 / 4 / 4
    assert lm.distribution([D]) == pytest.approx(
        [1.5 / 4 + spread, 0.5 / 4 + spread, 0.5 / 4 + spread, spread]
    )
    # a lone unigram model uses raw counts instead
    raw = KneserNey(TOY, 1, vocab_size=4, discounts=[0.5])
    assert raw.prob(A) == pytest.approx(2.5 / 6 + 0.5 * 3 / 6 / 4)
    assert lm.prob(A, [D]) != pytest.approx(raw.prob(A))


def test_perplexity_of_uniform_model_is_vocab_size():
    lm = AddK([A, B, C, D], 1, vocab_size=4, k=1e9)  # huge k: essentially uniform
    assert perplexity(lm, [A, B, C, D, A]) == pytest.approx(4.0, rel=1e-6)
    assert token_log_probs(lm, [A, B, C], start=1).shape == (2,)


def test_perplexity_by_hand_and_mle_infinite_on_new_bigram():
    lm = AddK(TOY, 2, vocab_size=3, k=1.0)
    stream = [A, B, A]
    expected = math.exp(-(math.log(3 / 6) + math.log(2 / 4)) / 2)  # P(b|a)=3/6, P(a|b)=(1+1)/(1+3)
    assert perplexity(lm, stream) == pytest.approx(expected)
    mle = MLE(TOY, 2, vocab_size=3)
    assert mle.prob(B, [A]) == pytest.approx(2 / 3)
    with np.errstate(divide="ignore"), pytest.raises(ValueError):  # log(0)
        perplexity(mle, [B, B])


def test_sampling_is_reproducible_and_follows_counts():
    lm = KneserNey(TOY, 2, vocab_size=3)
    first = sample(lm, [A], 50, np.random.default_rng(1))
    assert first == sample(lm, [A], 50, np.random.default_rng(1))
    assert len(first) == 50 and set(first) <= {A, B, C}
    mle = MLE([A, B] * 10, 2, vocab_size=2)
    assert sample(mle, [A], 6, np.random.default_rng(0)) == [B, A, B, A, B, A]


def test_bad_input_says_what_to_do():
    with pytest.raises(ValueError, match="vocabulary"):
        KneserNey([0, 5], 2, vocab_size=3)
    with pytest.raises(ValueError, match="k must be positive"):
        AddK(TOY, 2, vocab_size=3, k=0)
    with pytest.raises(ValueError, match="never seen"):
        MLE(TOY, 2, vocab_size=4).distribution([D])


def test_word_split_is_fixed_and_uses_train_vocabulary_only():
    from course.models.ngram import word_split

    text = "to be or not to be , that is the question . " * 30 + "whether tis nobler in the mind ."
    split = word_split(text, vocab_size=6, train_share=0.9)
    assert split.vocab_size == 6 and split.tokenizer.itos[0] == "<unk>"
    assert len(split.train) + len(split.test) == len(text.split())
    assert split.train == split.tokenizer.encode(text.split()[: len(split.train)])
    # held-out-only words are <unk>
    assert "nobler" not in split.tokenizer.stoi and split.test[-3] == 0
    with pytest.raises(ValueError, match="train_share"):
        word_split(text, train_share=1.0)


def test_short_context_keeps_every_word_for_n_of_4_and_more():
    # a context shorter than n-1 (the start of a text) must not lose words: [1, 2] stays (1, 2)
    tokens = [A, B, C, A, B, D, A, B, C, D, C, A]
    for model in (
        KneserNey(tokens, 4, vocab_size=4),
        AddK(tokens, 4, vocab_size=4),
        MLE(tokens, 4, vocab_size=4),
    ):
        assert model._context([A, B]) == (A, B)
        assert model._context([D, A, B, C]) == (A, B, C)
    lm = KneserNey(tokens, 4, vocab_size=4)
    # (B, A, B) never occurs, so the 4-gram level is skipped and the two contexts must agree exactly
    assert (B, A, B) not in lm.totals[4]
    for w in (A, B, C, D):
        assert lm.prob(w, [A, B]) == pytest.approx(lm.prob(w, [B, A, B]), abs=1e-15)
    assert lm.distribution([A, B]).sum() == pytest.approx(1.0)
    # the old slice kept only (B,): the trigram level then was never consulted
    assert lm.prob(C, [A, B]) != pytest.approx(lm.prob(C, [B]))
