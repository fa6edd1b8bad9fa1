"""A decoder-only Transformer (GPT-2 style), small enough to read top to bottom.

    idx (B, T) -> token embedding + position embedding -> n_layer x Block -> LayerNorm -> LM head ->
    logits (B, T, V) Block(x):  x = x + Attention(LayerNorm(x));  x = x + MLP(LayerNorm(x))
    (pre-LN, as in GPT-2)

* Causal self-attention uses ``F.scaled_dot_product_attention`` (a fused kernel on CPU and GPU);
  when the attention weights are asked for, it computes softmax(QK^T/sqrt(d) + mask) explicitly
  instead, because the fused kernel never materialises them.
* The LM head shares its weight matrix with the token embedding ("weight tying", Press & Wolf 2017).
* A key/value cache (:class:`KVCache`) lets generation feed one new token per step instead of the
  whole context again; see ``course.generate``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from course.models.attention import attention_weights, causal_attention  # noqa: F401 (attention_weights: re-exported)


@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int = 128  # context length: the most tokens the model sees at once
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True  # biases in Linear layers and LayerNorms (GPT-2 has them)

    def __post_init__(self):
        if self.vocab_size < 1 or self.block_size < 1 or self.n_layer < 1 or self.n_head < 1:
            raise ValueError(
                f"vocab_size, block_size, n_layer and n_head must be positive, got {self}"
            )
        if self.n_embd % self.n_head:
            raise ValueError(
                f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}: "
                "each head gets n_embd // n_head dimensions"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")


class KVCache:
    """Keys and values of every layer for the tokens seen so far, in preallocated buffers.

    ``keys[layer]`` has shape (batch, heads, max_len, head_dim); only the first ``length`` positions
    are filled. Preallocating avoids re-copying the whole cache at every step (torch.cat would).
    """

    def __init__(
        self,
        n_layer: int,
        batch_size: int,
        n_head: int,
        max_len: int,
        head_dim: int,
        device: torch.device | str,
        dtype: torch.dtype,
    ):
        shape = (batch_size, n_head, max_len, head_dim)
        self.keys = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(n_layer)]
        self.values = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(n_layer)]
        self.max_len = max_len
        self.length = 0  # positions filled; advanced by GPT.forward after the last layer

    def append(
        self, layer: int, k: torch.Tensor, v: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Store this layer's new keys/values (B, H, T_new, hd); return all keys/values so far."""
        start, end = self.length, self.length + k.size(2)
        if end > self.max_len:
            raise ValueError(
                f"the KV cache holds {self.max_len} positions but {end} were asked for; "
                "make a larger cache or crop the context"
            )
        self.keys[layer][:, :, start:end] = k
        self.values[layer][:, :, start:end] = v
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout
        # one Linear makes queries, keys and values for every head at once: (C) -> (3C)
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(
        self,
        x: torch.Tensor,
        kv_cache: KVCache | None = None,
        layer: int = 0,
        return_attention: bool = False,
    ):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)
        # split C into heads: (B, T, C) -> (B, H, T, hd)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        offset = 0
        if kv_cache is not None:
            offset = kv_cache.length
            k, v = kv_cache.append(layer, k, v)  # (B, H, offset + T, hd)
        weights = None
        if return_attention:
            weights = attention_weights(q, k, offset)  # (B, H, T, offset + T)
            y = self.attn_dropout(weights) @ v
        elif offset == 0 or T > 1:
            # the causal kernel (see causal_attention); with a cache and several new tokens the mask
            # shifts by offset
            if offset == 0:
                y = causal_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
            else:
                mask = (
                    torch.arange(offset + T, device=x.device)[None, :]
                    <= torch.arange(offset, offset + T, device=x.device)[:, None]
                )
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            # one new token attends to everything cached: no mask needed
            y = F.scaled_dot_product_attention(q, k, v)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble the heads: (B, T, C)
        y = self.resid_dropout(self.c_proj(y))
        return y, weights


class MLP(nn.Module):
    """Position-wise feed-forward: Linear(C -> 4C), GELU, Linear(4C -> C)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)
        # "none": GELU's exact erf form; OpenAI's GPT-2 was trained with the tanh approximation, so
        # course.pretrained sets "tanh" when it loads those weights
        self.gelu_approximate = "none"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate=self.gelu_approximate)))


class Block(nn.Module):
    """Pre-LN Transformer block: the residual stream x is only ever added to."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, kv_cache=None, layer=0, return_attention=False):
        a, weights = self.attn(self.ln_1(x), kv_cache, layer, return_attention)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, weights


def positions(idx: torch.Tensor, kv_cache: KVCache | None, block_size: int) -> tuple[int, int, int]:
    """(B, T, offset) of a (B, T) batch of token ids that follows ``offset`` cached tokens; a
    ValueError that says what to do when ``idx`` is not 2-D or does not fit in the context."""
    if idx.dim() != 2:
        raise ValueError(
            f"idx must be a (batch, time) tensor of token ids, got shape {tuple(idx.shape)}; "
            "for a single sequence use idx[None]"
        )
    B, T = idx.shape
    offset = kv_cache.length if kv_cache is not None else 0
    if offset + T > block_size:
        raise ValueError(
            f"the sequence has {offset + T} tokens, which exceeds block_size={block_size} (the "
            f"model's context); crop it to the last {block_size} tokens (course.generate does this)"
        )
    return B, T, offset


def gpt2_init(model: nn.Module, n_layer: int, writes_to_residual: Callable[[str], bool]) -> None:
    """GPT-2's initialisation: N(0, 0.02) for every Linear and Embedding weight, zero biases, and
    std 0.02 / sqrt(2 * n_layer) for the projections that write into the residual stream (named by
    ``writes_to_residual``), so the stream's variance does not grow with depth (two writes per
    block)."""

    def init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)

    model.apply(init)  # (children before parents: the order the random draws have always had)
    for name, p in model.named_parameters():
        if writes_to_residual(name):
            nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))


class GPT(nn.Module):
    """GPT language model: ``GPT(GPTConfig(vocab_size=65))(idx)`` gives logits (B, T,
    vocab_size)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)  # token embedding (V, C)
        # learned position embedding (block, C)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # weight tying: one (V, C) matrix reads and writes tokens
        self.lm_head.weight = self.wte.weight
        gpt2_init(self, config.n_layer, lambda name: name.endswith("c_proj.weight"))

    # ------------------------------------------------------------------ forward passes
    def _trunk(
        self, idx: torch.Tensor, kv_cache: KVCache | None = None, return_attention: bool = False
    ):
        B, T, offset = positions(idx, kv_cache, self.config.block_size)
        pos = torch.arange(offset, offset + T, device=idx.device)  # (T,)
        x = self.drop(self.wte(idx) + self.wpe(pos))  # (B, T, C)
        attentions = []
        for layer, block in enumerate(self.blocks):
            x, weights = block(x, kv_cache, layer, return_attention)
            attentions.append(weights)
        if kv_cache is not None:
            kv_cache.length += T
        return self.ln_f(x), tuple(attentions)

    def forward(
        self, idx: torch.Tensor, *, kv_cache: KVCache | None = None, return_attention: bool = False
    ):
        """Logits (B, T, vocab_size). With ``return_attention=True`` returns ``(logits,
        attentions)``, attentions being a tuple over layers of (B, heads, T, T) tensors (bertviz's
        format)."""
        h, attentions = self._trunk(idx, kv_cache, return_attention)
        logits = self.lm_head(h)  # (B, T, V)
        return (logits, attentions) if return_attention else logits

    def hidden_states(self, idx: torch.Tensor) -> torch.Tensor:
        """The final-LayerNorm output (B, T, n_embd), before the LM head: for reward/value heads."""
        return self._trunk(idx)[0]

    def attention_maps(self, idx: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Attention weights per layer, each (B, heads, T, T), computed without gradients."""
        with torch.no_grad():
            return self.forward(idx, return_attention=True)[1]

    def new_kv_cache(self, batch_size: int, max_len: int | None = None) -> KVCache:
        """An empty key/value cache for ``batch_size`` sequences of up to ``max_len`` (default
        block_size)."""
        c = self.config
        p = self.wte.weight
        return KVCache(
            c.n_layer,
            batch_size,
            c.n_head,
            max_len or c.block_size,
            c.n_embd // c.n_head,
            p.device,
            p.dtype,
        )

    # ------------------------------------------------------------------ accounting
    def num_parameters(self, non_embedding: bool = True) -> int:
        """Parameter count; by default without the position embedding (nanoGPT's count, used for the
        6N of :meth:`flops_per_token`). The token embedding stays in: it is also the LM head (weight
        tying), a real V x C matmul. Kaplan et al. (2020)'s "non-embedding" N leaves it out too:
        ``num_parameters() - wte.weight.numel()``."""
        # tied weights are counted once by parameters()
        n = sum(p.numel() for p in self.parameters())
        return n - self.wpe.weight.numel() if non_embedding else n

    def flops_per_token(self, context: int | None = None, training: bool = True) -> int:
        """Matmul FLOPs per token: 2N forward for the weights (one multiply + one add per weight),
        plus attention's QK^T and AV (2 * 2 * n_layer * T * C); a training step costs 3x a forward
        (the backward pass is about twice the forward). This is the 6N + 12 * n_layer * T * C of
        PaLM (Chowdhery et al. 2022, appendix B), which nanoGPT also uses for its MFU estimate."""
        c = self.config
        T = context or c.block_size
        forward = 2 * self.num_parameters(non_embedding=True) + 2 * 2 * c.n_layer * T * c.n_embd
        return 3 * forward if training else forward


def build(config: dict | GPTConfig) -> GPT:
    """A GPT from a config dict (as saved in a checkpoint's config.json) or a GPTConfig."""
    return GPT(config if isinstance(config, GPTConfig) else GPTConfig(**config))


# The pretrained Shakespeare GPT (pretrained_or_train, checkpoint_path, json_ready and the
# SHAKESPEARE_* sizes) lives in course/pretrained.py: it needs data, training and checkpoints.
