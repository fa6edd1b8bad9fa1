"""Worked solutions for the exercises of notebook 07."""
import torch


def bpe_merge(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair):
            out.append(new_id)
            i += 2  # skip both halves of the pair: occurrences never overlap
        else:
            out.append(ids[i])
            i += 1
    return out


def top_k_logits(logits, k):
    k = min(k, logits.size(-1))
    kth_largest = torch.topk(logits, k, dim=-1).values[:, -1:]  # (B, 1)
    return logits.masked_fill(logits < kth_largest, float("-inf"))


def gpt_parameter_count(vocab_size, block_size, n_layer, n_embd):
    C = n_embd
    layer_norm = 2 * C  # gain and bias
    attention = (C * 3 * C + 3 * C) + (C * C + C)  # c_attn (q, k, v at once) and c_proj
    mlp = (C * 4 * C + 4 * C) + (4 * C * C + C)
    block = 2 * layer_norm + attention + mlp
    return vocab_size * C + block_size * C + n_layer * block + layer_norm  # LM head tied to the embedding
