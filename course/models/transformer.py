"""The encoder-decoder Transformer of "Attention Is All You Need" (Vaswani et al. 2017), small.

    source ids -> embedding * sqrt(d) + sinusoidal positions -> N x EncoderLayer -> memory
    target ids -> embedding * sqrt(d) + sinusoidal positions -> N x DecoderLayer(memory) -> logits

    EncoderLayer: x = x + SelfAttention(LN(x), padding mask);  x = x + FFN(LN(x))
    DecoderLayer: x = x + SelfAttention(LN(x), causal mask)     # no peeking at later target words
                  x = x + CrossAttention(LN(x), memory, padding mask)   # "where in the source?"
                  x = x + FFN(LN(x))

We put LayerNorm before each sub-layer ("pre-LN", as GPT-2 and most models since) instead of after
it as the paper did: gradients then flow through the residual stream untouched and training needs no
long warm-up. The interface matches ``course.models.seq2seq.Seq2Seq`` (``forward(src, src_mask,
tgt_in) -> (logits, attention)``, ``greedy_decode``, ``beam_search``) so ``course.translation``
trains, translates and scores both the same way.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from course.models.attention import MultiHeadAttention, causal_mask
from course.models.renames import renaming_hook
from course.models.seq2seq import seq2seq_loss
from course.special_tokens import BOS_ID, EOS_ID, PAD_ID


def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    """(max_len, d_model): PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos /
    10000^(2i/d)).

    Each pair of dimensions is a clock turning at its own speed, from once every 2*pi positions to
    once every 10000 * 2*pi: nearby positions get similar codes, and PE[pos + k] is a fixed rotation
    of PE[pos], which makes relative offsets easy for attention to read (section 3.5 of the paper).
    """
    if d_model % 2:
        raise ValueError(f"d_model must be even for sine/cosine pairs, got {d_model}")
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]  # (max_len, 1)
    rates = torch.exp(
        -math.log(10000.0) * torch.arange(0, d_model, 2, dtype=torch.float32) / d_model
    )  # (d/2,)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(pos * rates)
    pe[:, 1::2] = torch.cos(pos * rates)
    return pe


class Embedding(nn.Module):
    """Token embedding scaled by sqrt(d_model) plus fixed sinusoidal positions (section 3.4)."""

    def __init__(self, vocab_size: int, d_model: int, max_len: int, dropout: float):
        super().__init__()
        self.d_model, self.max_len = d_model, max_len
        self.tokens = nn.Embedding(vocab_size, d_model, padding_idx=PAD_ID)
        self.register_buffer("positions", sinusoidal_positions(max_len, d_model), persistent=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if ids.size(1) > self.max_len:
            raise ValueError(
                f"sequence of {ids.size(1)} tokens but positions go up to max_len={self.max_len}; "
                "build the model with a larger max_len"
            )
        # scale so the token signal is not drowned by the unit-size position codes
        return self.dropout(
            self.tokens(ids) * math.sqrt(self.d_model) + self.positions[: ids.size(1)]
        )


class FeedForward(nn.Module):
    """FFN(x) = max(0, x W1 + b1) W2 + b2, applied at every position separately (eq. 2).

    W1 is ``up_proj`` (d_model -> d_ff) and W2 ``down_proj`` (d_ff -> d_model), as in
    ``course.models.modern``; dropout acts on the hidden layer while training."""

    def __init__(self, d_model: int, d_ff: int, dropout: float):
        super().__init__()
        self.up_proj = nn.Linear(d_model, d_ff)
        self.down_proj = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.down_proj(self.dropout(F.relu(self.up_proj(x))))


class EncoderLayer(nn.Module):
    """x + SelfAttention(LN(x)), then x + FFN(LN(x)); sub-layers named as in
    ``course.models.modern`` (input_layernorm, self_attn, post_attention_layernorm, mlp)."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float):
        super().__init__()
        self.input_layernorm = nn.LayerNorm(d_model)
        self.post_attention_layernorm = nn.LayerNorm(d_model)
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.mlp = FeedForward(d_model, d_ff, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask, need_weights=False):
        h = self.input_layernorm(x)
        a, weights = self.self_attn(h, h, h, mask, need_weights)
        x = x + self.dropout(a)
        return x + self.dropout(self.mlp(self.post_attention_layernorm(x))), weights


class DecoderLayer(nn.Module):
    """The encoder layer's names plus cross-attention (``cross_attn``) and the norm before it
    (``cross_attn_layernorm``); ``post_attention_layernorm`` comes after both attentions."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float):
        super().__init__()
        self.input_layernorm = nn.LayerNorm(d_model)
        self.cross_attn_layernorm = nn.LayerNorm(d_model)
        self.post_attention_layernorm = nn.LayerNorm(d_model)
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.mlp = FeedForward(d_model, d_ff, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, memory, self_mask, memory_mask, need_weights=False):
        h = self.input_layernorm(x)
        a, self_weights = self.self_attn(h, h, h, self_mask, need_weights)
        x = x + self.dropout(a)
        h = self.cross_attn_layernorm(x)
        a, cross_weights = self.cross_attn(h, memory, memory, memory_mask, need_weights)
        x = x + self.dropout(a)
        h = self.post_attention_layernorm(x)
        return x + self.dropout(self.mlp(h)), self_weights, cross_weights


# The sub-layers' names before they took the modern model's (course.models.modern): (pattern, new).
_LEGACY = [
    (r"^encoder\.(\d+)\.norm2\.", r"encoder.\1.post_attention_layernorm."),
    (r"^decoder\.(\d+)\.norm2\.", r"decoder.\1.cross_attn_layernorm."),
    (r"\.norm1\.", ".input_layernorm."),
    (r"\.norm3\.", ".post_attention_layernorm."),
    (r"^encoder\.(\d+)\.attn\.", r"encoder.\1.self_attn."),
    (r"\.ffn\.net\.0\.", ".mlp.up_proj."),
    (r"\.ffn\.net\.3\.", ".mlp.down_proj."),
    (r"\.w_([qkvo])\.", r".\1_proj."),
]


def legacy_to_new_names(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A Transformer state dict saved under the old sub-layer names (``encoder.0.norm1``,
    ``encoder.0.attn.w_q``, ``decoder.0.ffn.net.0`` ...) renamed to today's (``input_layernorm``,
    ``self_attn.q_proj``, ``mlp.up_proj`` ...); new names pass through unchanged."""
    renamed = {}
    for name, tensor in state.items():
        for pattern, new in _LEGACY:
            name = re.sub(pattern, new, name)
        renamed[name] = tensor
    return renamed


@dataclass
class TransformerConfig:
    src_vocab_size: int
    tgt_vocab_size: int
    d_model: int = 128
    n_heads: int = 4
    n_layers: int = 2  # encoder layers = decoder layers
    d_ff: int = 512
    dropout: float = 0.1
    max_len: int = 128


class Transformer(nn.Module):
    """Encoder-decoder Transformer for ``course.translation`` tasks."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = c = config
        self.src_embed = Embedding(c.src_vocab_size, c.d_model, c.max_len, c.dropout)
        self.tgt_embed = Embedding(c.tgt_vocab_size, c.d_model, c.max_len, c.dropout)
        self.encoder = nn.ModuleList(
            [EncoderLayer(c.d_model, c.n_heads, c.d_ff, c.dropout) for _ in range(c.n_layers)]
        )
        self.decoder = nn.ModuleList(
            [DecoderLayer(c.d_model, c.n_heads, c.d_ff, c.dropout) for _ in range(c.n_layers)]
        )
        self.enc_norm, self.dec_norm = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
        self.out = nn.Linear(c.d_model, c.tgt_vocab_size)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)  # the paper's reference code does the same
        # weights saved under the sub-layers' old names still load (legacy_to_new_names)
        self.register_load_state_dict_pre_hook(renaming_hook(legacy_to_new_names))

    # ------------------------------------------------------------------ the two halves
    def encode(self, src: torch.Tensor, src_mask: torch.Tensor, need_weights: bool = False):
        """src, src_mask: (B, S) -> memory (B, S, d_model) and the encoder's attention (per
        layer)."""
        # (B, 1, 1, S): every query may look at every real key
        key_mask = src_mask[:, None, None, :]
        x, attentions = self.src_embed(src), []
        for layer in self.encoder:
            x, w = layer(x, key_mask, need_weights)
            attentions.append(w)
        return self.enc_norm(x), tuple(attentions)

    def decode(
        self,
        tgt_in: torch.Tensor,
        memory: torch.Tensor,
        src_mask: torch.Tensor,
        need_weights: bool = False,
    ):
        """tgt_in (B, T) -> logits (B, T, V), decoder self-attention and cross-attention (per
        layer)."""
        self_mask = causal_mask(tgt_in.size(1), tgt_in.device)  # (T, T)
        memory_mask = src_mask[:, None, None, :]
        x, self_attn, cross_attn = self.tgt_embed(tgt_in), [], []
        for layer in self.decoder:
            x, ws, wc = layer(x, memory, self_mask, memory_mask, need_weights)
            self_attn.append(ws)
            cross_attn.append(wc)
        return self.out(self.dec_norm(x)), tuple(self_attn), tuple(cross_attn)

    def forward(
        self,
        src: torch.Tensor,
        src_mask: torch.Tensor,
        tgt_in: torch.Tensor,
        return_attention: bool = False,
    ):
        """Teacher forcing. Returns (logits (B, T, V), attention): with ``return_attention`` a dict
        of per-layer weights ``{"encoder", "decoder", "cross"}``, each (B, heads, queries, keys);
        else None."""
        memory, enc = self.encode(src, src_mask, return_attention)
        logits, dec, cross = self.decode(tgt_in, memory, src_mask, return_attention)
        return logits, (dict(encoder=enc, decoder=dec, cross=cross) if return_attention else None)

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, src_mask: torch.Tensor, max_len: int = 30):
        """Most likely token at each step. Returns ids (B, steps) (only <pad> after <eos>) and the
        last layer's cross-attention averaged over heads (B, steps, S), like
        ``Seq2Seq.greedy_decode``."""
        memory, _ = self.encode(src, src_mask)
        B = src.size(0)
        ys = torch.full((B, 1), BOS_ID, dtype=torch.long, device=src.device)
        done = torch.zeros(B, dtype=torch.bool, device=src.device)
        max_len = min(max_len, self.config.max_len - 1)
        for _ in range(max_len):
            # the whole prefix again: short outputs
            logits, _, _ = self.decode(ys, memory, src_mask)
            nxt = logits[:, -1].argmax(-1).masked_fill(done, PAD_ID)
            ys = torch.cat([ys, nxt[:, None]], dim=1)
            done = done | (nxt == EOS_ID)
            if bool(done.all()):
                break
        _, _, cross = self.decode(ys[:, :-1], memory, src_mask, need_weights=True)
        return ys[:, 1:], cross[-1].mean(dim=1)

    @torch.no_grad()
    def beam_search(
        self,
        src: torch.Tensor,
        src_mask: torch.Tensor,
        beam_size: int = 5,
        max_len: int = 30,
        length_penalty: float = 0.0,
    ):
        """Keep the ``beam_size`` most probable prefixes; one sentence at a time (src: (1, S)).
        Finished hypotheses are scored by log-probability / length ** length_penalty."""
        if src.size(0) != 1:
            raise ValueError("beam_search takes one sentence at a time (src of shape (1, S))")
        memory, _ = self.encode(src, src_mask)
        beams = [(0.0, [BOS_ID])]
        finished = []
        max_len = min(max_len, self.config.max_len - 1)
        for _ in range(max_len):
            ys = torch.tensor([b[1] for b in beams], device=src.device)  # (beams, t)
            n = len(beams)
            logits, _, _ = self.decode(ys, memory.expand(n, -1, -1), src_mask.expand(n, -1))
            logp = F.log_softmax(logits[:, -1].float(), dim=-1)  # (beams, V)
            scores = torch.tensor([b[0] for b in beams], device=src.device)[:, None] + logp
            top = scores.flatten().topk(min(beam_size, scores.numel()))
            beams = []
            for score, flat in zip(top.values.tolist(), top.indices.tolist()):
                b, token = divmod(flat, logp.size(1))
                seq = ys[b].tolist() + [token]
                if token == EOS_ID:
                    finished.append((score / max(1, len(seq) - 1) ** length_penalty, seq))
                else:
                    beams.append((score, seq))
            if not beams or len(finished) >= beam_size:
                break
        if not finished:
            finished = [(s / max(1, len(seq) - 1) ** length_penalty, seq) for s, seq in beams]
        best = max(finished, key=lambda f: f[0])[1]
        ys = torch.tensor([best], device=src.device)
        _, _, cross = self.decode(ys[:, :-1], memory, src_mask, need_weights=True)
        return ys[:, 1:], cross[-1].mean(dim=1)

    def attention_maps(
        self, src: torch.Tensor, src_mask: torch.Tensor, tgt_in: torch.Tensor
    ) -> dict:
        """All attention weights for one example, each a tuple over layers of (B, heads, queries,
        keys)."""
        with torch.no_grad():
            return self.forward(src, src_mask, tgt_in, return_attention=True)[1]


# Mean cross-entropy per target token (padding ignored) for a ``course.translation.Batch``: the
# encoder-decoder loss of notebook 05, under the name notebook 06 uses.
translation_loss = seq2seq_loss
