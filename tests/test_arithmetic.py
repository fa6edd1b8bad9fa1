import random

import pytest
import torch

from course import arithmetic as ar
from course.models.gpt import GPT, GPTConfig


def test_the_two_formats_of_one_problem():
    problem = (3, "+", 5, "*", 7, "+", 9)
    assert ar.n_terms(problem) == 4
    assert ar.prompt(problem) == "3+5*7+9="
    assert ar.evaluate(problem) == 5  # ((3 + 5) * 7 + 9) mod 10 = 65 mod 10
    assert ar.completion(problem, "direct") == "5."
    assert ar.completion(problem, "scratchpad") == "3+5=8;8*7=6;6+9=5;5."
    assert ar.scratchpad_steps((9, "*", 9)) == ["9*9=1"]
    assert ar.answer_of("3+5=8;8*7=6;6+9=5;5.") == "5"
    assert ar.answer_of("5.") == "5"
    assert ar.answer_of("3+5=8;8*7=6;6") == "6"  # unfinished: what is there
    for n in ar.ALL_TERMS:
        problem = ar.problems(1, n, "train")[0]
        assert ar.n_terms(problem) == n
        for fmt in ar.FORMATS:
            assert len(ar.completion(problem, fmt)) == ar.completion_length(n, fmt)


def test_the_notebook_scratchpad_agrees_with_the_package():
    # the notebook's hand-written version (section 1)
    def scratchpad(problem):
        value, steps = problem[0], []
        for op, d in zip(problem[1::2], problem[2::2]):
            new = (value + d) % 10 if op == "+" else (value * d) % 10  # keep the last digit
            steps.append(f"{value}{op}{d}={new};")
            value = new
        return "".join(steps) + f"{value}."

    rng = random.Random(0)
    for _ in range(100):
        problem = ar.sample_problem(rng, rng.choice(ar.ALL_TERMS), "train")
        assert scratchpad(problem) == ar.completion(problem, "scratchpad")


def test_bad_input_is_refused_with_a_message():
    for bad in [(5,), (5, "+", 10), (5, "-", 3), (5, 3), (5, "+", 3, "+")]:
        with pytest.raises(ValueError, match="alternates 2 to 9 digits"):
            ar.prompt(bad)
    with pytest.raises(ValueError, match="format"):
        ar.completion((1, "+", 2), "cot")
    with pytest.raises(ValueError, match="vocabulary"):
        ar.encode("1 + 2")
    assert ar.decode(ar.encode("1*3=3;3.")) == "1*3=3;3."


def test_splits_are_fixed_disjoint_and_about_ten_percent():
    assert ar.split_of((2, "+", 4)) == ar.split_of((2, "+", 4))
    every = [
        (a, op1, b, op2, c)
        for a in range(10)
        for b in range(10)
        for c in range(10)
        for op1 in "+*"
        for op2 in "+*"
    ]
    counts = {s: sum(ar.split_of(p) == s for p in every) for s in ("train", "dev", "test")}
    assert sum(counts.values()) == 4000
    assert 350 <= counts["test"] <= 450 and 350 <= counts["dev"] <= 450
    test = ar.problems(200, 5, "test", seed=0)
    assert len(set(test)) == 200
    assert all(ar.split_of(p) == "test" and ar.n_terms(p) == 5 for p in test)
    assert ar.problems(200, 5, "test", seed=0) == test  # seeded
    small = ar.problems(200, 2, "test", seed=0)  # two terms: only the ~20 test problems there are
    assert sorted(small, key=str) == sorted(
        (
            p
            for a in range(10)
            for b in range(10)
            for op in "+*"
            if ar.split_of(p := (a, op, b)) == "test"
        ),
        key=str,
    )
    assert len(ar.problems(50, 3, "dev", seed=0)) == 50


def test_training_rows_score_only_completions_of_training_problems():
    x, y = ar.training_rows("scratchpad", 8, seed=0)()
    # six terms: prompt 12 + completion 32 (or 2), less the last token
    assert ar.row_length("scratchpad") == 43 and ar.row_length("direct") == 13
    assert x.shape == y.shape == (8, 43)
    shifted = torch.where(y[:, :-1] == ar.IGNORE, x[:, 1:], y[:, :-1])
    assert torch.equal(x[:, 1:], shifted)  # y is x shifted by one
    for row, target in zip(x, y):
        text = ar.decode(row.tolist())
        p = text.index("=") + 1
        problem = tuple(int(ch) if ch.isdigit() else ch for ch in text[: p - 1])
        assert ar.n_terms(problem) in ar.TRAIN_TERMS and ar.split_of(problem) == "train"
        assert (target[: p - 1] == ar.IGNORE).all()  # the prompt's own tokens are never targets
        n = ar.completion_length(ar.n_terms(problem), "scratchpad")
        assert ar.decode(target[p - 1 : p - 1 + n].tolist()) == ar.completion(problem, "scratchpad")
        assert (target[p - 1 + n :] == ar.IGNORE).all()  # nor is the padding
    x2, _ = ar.training_rows("scratchpad", 8, seed=0)()
    assert torch.equal(x, x2)
    x, y = ar.training_rows("direct", 3, seed=0, terms=(2,))()
    assert x.shape == (3, 5) and (y[:, 3:] != ar.IGNORE).all() and (y[:, :3] == ar.IGNORE).all()


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
        p = text[: text.index("=") + 1]
        problem = tuple(int(ch) if ch.isdigit() else ch for ch in p[:-1])
        full = p + ar.completion(problem, self.fmt)
        return full[len(text)] if len(text) < len(full) else "."

    def forward(self, idx, kv_cache=None):
        if kv_cache is not None:
            kv_cache.seen = torch.cat([kv_cache.seen, idx], 1) if kv_cache.seen is not None else idx
            idx = kv_cache.seen
        logits = torch.full((*idx.shape, len(ar.VOCAB)), -30.0)
        for b, row in enumerate(idx.tolist()):
            text = ar.decode(row)
            for t in range(len(row)):
                logits[b, t, ar.STOI[self._next(text[: t + 1])]] = 30.0
        return logits if kv_cache is None else logits[:, -1:]

    def new_kv_cache(self, batch_size):
        cache = type("Cache", (), {})()
        cache.seen = None
        return cache


@pytest.mark.parametrize("fmt", ar.FORMATS)
def test_metrics_of_a_perfect_model(fmt):
    items = [(2, "+", 4), (9, "*", 9, "+", 9), (1, "+", 2, "*", 3, "*", 4, "+", 5, "*", 6)]
    oracle = Oracle(fmt)
    texts = ar.generate_completions(oracle, items, fmt)
    assert texts == [ar.completion(t, fmt) for t in items]
    assert ar.exact_match(texts, items) == 1.0 and ar.completion_match(texts, items, fmt) == 1.0
    scores = ar.teacher_forced(oracle, items, fmt)
    assert ar.digit_accuracy(scores) == 1.0
    assert scores["all_right"].tolist() == [1.0, 1.0, 1.0]
    assert ar.mean_log_likelihood(scores) == pytest.approx(0.0, abs=1e-6)
    digits = [sum(ch.isdigit() for ch in ar.completion(t, fmt)) for t in items]
    assert scores["digits"].tolist() == digits


def test_metrics_by_hand():
    items = [(2, "+", 4), (3, "*", 4)]
    assert ar.exact_match(["6.", "7."], items) == 0.5
    assert ar.exact_match(["2+4=6;6.", "3*4=2;2."], items) == 1.0
    assert ar.completion_match(["2+4=6;6.", "3*4=2;2."], items, "scratchpad") == 1.0
    assert ar.completion_match(["2+4=7;6.", "3*4=2;2."], items, "scratchpad") == 0.5  # a wrong step
    assert ar.exact_match(["2+4=7;6."], items[:1]) == 1.0  # ...that the answer alone does not see
    # an untrained model: uniform-ish, so log p(completion) ~ -len * log(15)
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=len(ar.VOCAB), block_size=32, n_layer=1, n_head=2, n_embd=16))
    scores = ar.teacher_forced(model, items, "direct")
    assert scores["digits"].tolist() == [1.0, 1.0]
    uniform = -2 * torch.log(torch.tensor(15.0)).item()
    assert ar.mean_log_likelihood(scores) == pytest.approx(uniform, rel=0.05)
    texts = ar.generate_completions(model, items, "direct")
    assert all(len(t) <= ar.completion_length(2, "direct") + 4 for t in texts)


def test_largest_jump_share():
    assert ar.largest_jump_share([0, 0.25, 0.5, 0.75, 1.0]) == pytest.approx(0.25)
    assert ar.largest_jump_share([0, 0, 0, 0.9, 1.0]) == pytest.approx(0.9)
    assert ar.largest_jump_share([0.5, 0.4, 0.3]) == 0.0
    assert ar.largest_jump_share([-60.0, -30.0, -10.0, -5.0]) == pytest.approx(30 / 55)


def test_half_rise_index():
    assert ar.half_rise_index([0.0, 0.0, 0.1, 0.9, 1.0]) == 3
    assert ar.half_rise_index([0.3, 0.5, 0.86, 0.93, 1.0]) == 2  # half of 0.3 -> 1.0 is 0.65
    assert ar.half_rise_index([-30.0, -23.0, -6.6, -2.9, -0.1]) == 2
    assert ar.half_rise_index([0.5, 0.4]) == 0
