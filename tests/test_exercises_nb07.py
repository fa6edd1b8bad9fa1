import torch
from test_exercises import wrong, wrong_answers_fail

from course.exercises import nb07 as check


def merges_in_text_order(word, merges):
    ranks = {tuple(p): r for r, p in enumerate(merges)}
    ids = list(word)
    changed = True
    while changed:
        changed = False
        for i in range(len(ids) - 1):
            if (ids[i], ids[i + 1]) in ranks:
                ids[i : i + 2] = [256 + ranks[(ids[i], ids[i + 1])]]
                changed = True
                break
    return ids


def drops_the_token_that_crosses_p(logits, p):
    s, order = torch.sort(logits, -1, descending=True)
    drop = s.softmax(-1).cumsum(-1) > p
    return logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))


def without_centring(states, uses):
    h = torch.nn.functional.normalize(states, dim=-1)
    cos = h @ h.T
    i, j = torch.triu_indices(len(uses), len(uses), 1)
    same = torch.tensor([uses[a] == uses[b] for a, b in zip(i.tolist(), j.tolist())])
    return (cos[i, j][same].mean() - cos[i, j][~same].mean()).item()


def with_self_pairs(states, uses):
    h = torch.nn.functional.normalize(states - states.mean(0), dim=-1)
    cos = h @ h.T
    same = torch.tensor([[a == b for b in uses] for a in uses])
    return (cos[same].mean() - cos[~same].mean()).item()


test_wrong_answers_fail_with_a_hint = wrong_answers_fail(
    wrong(
        check.bpe_encode,
        merges_in_text_order,
        "applies the leftmost mergeable pair, not the earliest learned",
    ),
    wrong(
        check.top_p_logits,
        drops_the_token_that_crosses_p,
        "keeps only tokens strictly inside the mass p",
    ),
    wrong(
        check.kv_cache_bytes,
        lambda l, h, d, t, b, n: l * h * d * t * b * n,
        "counts only K, not V",
    ),
    wrong(
        check.use_gap,
        without_centring,
        "no centring: the shared part makes every cosine close to 1",
    ),
    wrong(
        check.use_gap,
        with_self_pairs,
        "counts each state with itself (cosine 1) as a same-use pair",
    ),
)
