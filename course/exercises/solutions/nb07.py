"""Worked solutions for the exercises of notebook 07."""

import torch


def bpe_encode(word_bytes, merges):
    ranks = {tuple(pair): rank for rank, pair in enumerate(merges)}
    ids = list(word_bytes)
    while len(ids) >= 2:
        pairs = set(zip(ids, ids[1:]))
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break  # no learned merge applies any more
        new_id, out, i = 256 + ranks[best], [], 0
        while i < len(ids):
            if i + 1 < len(ids) and (ids[i], ids[i + 1]) == best:
                out.append(new_id)
                i += 2
            else:
                out.append(ids[i])
                i += 1
        ids = out
    return ids


def top_p_logits(logits, p):
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(-1)
    before = probs.cumsum(-1) - probs  # mass of the tokens ranked above
    drop_sorted = before >= p
    drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to the original order
    return logits.masked_fill(drop, float("-inf"))


def kv_cache_bytes(n_layer, n_head, head_dim, seq_len, batch_size, bytes_per_value):
    return 2 * n_layer * n_head * head_dim * seq_len * batch_size * bytes_per_value


def use_gap(states, uses):
    h = torch.nn.functional.normalize(states - states.mean(0), dim=-1)  # (n, C): context's part
    cos = h @ h.T  # (n, n)
    i, j = torch.triu_indices(len(uses), len(uses), 1)  # each pair once
    same = torch.tensor([uses[a] == uses[b] for a, b in zip(i.tolist(), j.tolist())])
    pairs = cos[i, j]
    return (pairs[same].mean() - pairs[~same].mean()).item()
