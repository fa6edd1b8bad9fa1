import random

import pytest
import torch

from course import arithmetic as ar
from course.models.gpt import GPT, GPTConfig


def test_the_two_formats_of_one_problem():
    terms = (23, 45, 17, 88)
    assert ar.prompt(terms) == "23+45+17+88="
    assert ar.completion(terms, "direct") == "173."
    assert ar.completion(terms, "scratchpad") == "023+45=068;068+17=085;085+88=173;173."
    assert ar.scratchpad_steps((5, 7)) == ["005+07=012"]
    assert ar.completion((5, 7), "direct") == "012."
    assert ar.answer_of("023+45=068;068+17=085;085+88=173;173.") == "173"
    assert ar.answer_of("173.") == "173"
    assert ar.answer_of("17") == "17"  # unfinished: what is there
    for n in ar.ALL_TERMS:
        for fmt in ar.FORMATS:
            assert len(ar.completion(tuple(range(n)), fmt)) == ar.completion_length(n, fmt)


def test_the_notebook_scratchpad_agrees_with_the_package():
    # the notebook's hand-written version (section 1)
    def scratchpad(terms):
        total, steps = terms[0], []
        for t in terms[1:]:
            steps.append(f"{total:03d}+{t:02d}={total + t:03d};")
            total += t
        return "".join(steps) + f"{total:03d}."

    rng = random.Random(0)
    for _ in range(50):
        terms = tuple(rng.randrange(100) for _ in range(rng.choice(ar.ALL_TERMS)))
        assert scratchpad(terms) == ar.completion(terms, "scratchpad")


def test_bad_input_is_refused_with_a_message():
    with pytest.raises(ValueError, match="at least two numbers"):
        ar.prompt((5,))
    with pytest.raises(ValueError, match="0 to 99"):
        ar.prompt((5, 100))
    with pytest.raises(ValueError, match="format"):
        ar.completion((1, 2), "cot")
    with pytest.raises(ValueError, match="vocabulary"):
        ar.encode("1 + 2")
    assert ar.decode(ar.encode("12+34=046.")) == "12+34=046."


def test_splits_are_fixed_disjoint_and_about_ten_percent():
    assert ar.split_of((23, 45)) == ar.split_of((23, 45))
    every = [(a, b) for a in range(100) for b in range(100)]
    counts = {s: sum(ar.split_of(p) == s for p in every) for s in ("train", "dev", "test")}
    assert sum(counts.values()) == 10_000
    assert 900 <= counts["test"] <= 1100 and 900 <= counts["dev"] <= 1100
    test = ar.problems(200, 3, "test", seed=0)
    assert len(set(test)) == 200 and all(ar.split_of(p) == "test" and len(p) == 3 for p in test)
    assert ar.problems(200, 3, "test", seed=0) == test  # seeded


def test_training_rows_score_only_completions_of_training_problems():
    x, y = ar.training_rows("scratchpad", 8, seed=0)()
    assert ar.row_length("scratchpad") == 76 and ar.row_length("direct") == 21  # 6 terms: 18 + 59 - 1, 18 + 4 - 1
    assert x.shape == y.shape == (8, 76)
    assert torch.equal(x[:, 1:], torch.where(y[:, :-1] == ar.IGNORE, x[:, 1:], y[:, :-1]))  # y is x shifted
    for row, target in zip(x, y):
        text = ar.decode(row.tolist())
        p = text.index("=") + 1
        terms = tuple(int(t) for t in text[:p - 1].split("+"))
        assert len(terms) in ar.TRAIN_TERMS and ar.split_of(terms) == "train"
        assert (target[:p - 1] == ar.IGNORE).all()  # the prompt's own tokens are never targets
        n = ar.completion_length(len(terms), "scratchpad")
        assert ar.decode(target[p - 1:p - 1 + n].tolist()) == ar.completion(terms, "scratchpad")
        assert (target[p - 1 + n:] == ar.IGNORE).all()  # nor is the padding
    x2, _ = ar.training_rows("scratchpad", 8, seed=0)()
    assert torch.equal(x, x2)
    x, y = ar.training_rows("direct", 3, seed=0, n_terms=(2,))()
    assert x.shape == (3, 9) and (y[:, 5:] != ar.IGNORE).all() and (y[:, :5] == ar.IGNORE).all()


class Oracle(torch.nn.Module):
    """A 'model' that puts all its probability on the correct next character of a worked problem."""

    def __init__(self, fmt, block_size=128):
        super().__init__()
        self.config = GPTConfig(vocab_size=len(ar.VOCAB), block_size=block_size)
        self.fmt = fmt
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    def _next(self, text):
        if "=" not in text:
            return "0"  # inside a prompt: the terms are random, any guess will do
        p = text[:text.index("=") + 1]
        terms = tuple(int(t) for t in p[:-1].split("+"))
        full = p + ar.completion(terms, self.fmt)
        return full[len(text)] if len(text) < len(full) else "."

    def forward(self, idx, kv_cache=None):
        if kv_cache is not None:
            kv_cache.seen = torch.cat([kv_cache.seen, idx], 1) if kv_cache.seen is not None else idx
            idx = kv_cache.seen
        logits = torch.full((*idx.shape, len(ar.VOCAB)), -30.0)
        for b, row in enumerate(idx.tolist()):
            text = ar.decode(row)
            for t in range(len(row)):
                logits[b, t, ar.STOI[self._next(text[:t + 1])]] = 30.0
        return logits if kv_cache is None else logits[:, -1:]

    def new_kv_cache(self, batch_size):
        cache = type("Cache", (), {})()
        cache.seen = None
        return cache


@pytest.mark.parametrize("fmt", ar.FORMATS)
def test_metrics_of_a_perfect_model(fmt):
    items = [(23, 45), (99, 99, 99), (1, 2, 3, 4, 5)]
    oracle = Oracle(fmt)
    texts = ar.generate_completions(oracle, items, fmt)
    assert texts == [ar.completion(t, fmt) for t in items]
    assert ar.exact_match(texts, items) == 1.0
    scores = ar.teacher_forced(oracle, items, fmt)
    assert ar.digit_accuracy(scores) == 1.0
    assert scores["all_right"].tolist() == [1.0, 1.0, 1.0]
    assert ar.mean_log_likelihood(scores) == pytest.approx(0.0, abs=1e-6)
    digits = [sum(ch.isdigit() for ch in ar.completion(t, fmt)) for t in items]
    assert scores["digits"].tolist() == digits


def test_metrics_by_hand():
    items = [(23, 45), (10, 20)]
    assert ar.exact_match(["068.", "031."], items) == 0.5
    assert ar.exact_match(["023+45=068;068.", "010+20=030;030."], items) == 1.0
    # an untrained model: uniform-ish, so log p(completion) ~ -len * log(14)
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=len(ar.VOCAB), block_size=32, n_layer=1, n_head=2, n_embd=16))
    scores = ar.teacher_forced(model, items, "direct")
    assert scores["digits"].tolist() == [3.0, 3.0]
    assert ar.mean_log_likelihood(scores) == pytest.approx(-4 * torch.log(torch.tensor(14.0)).item(), rel=0.05)
    texts = ar.generate_completions(model, items, "direct")
    assert all(len(t) <= ar.completion_length(2, "direct") + 4 for t in texts)


def test_largest_jump_share():
    assert ar.largest_jump_share([0, 0.25, 0.5, 0.75, 1.0]) == pytest.approx(0.25)
    assert ar.largest_jump_share([0, 0, 0, 0.9, 1.0]) == pytest.approx(0.9)
    assert ar.largest_jump_share([0.5, 0.4, 0.3]) == 0.0
    assert ar.largest_jump_share([-60.0, -30.0, -10.0, -5.0]) == pytest.approx(30 / 55)
