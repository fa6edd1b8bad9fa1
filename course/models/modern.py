"""The blocks that LLaMA, Mistral and Qwen use instead of GPT-2's, each behind one switch.

``ModernConfig`` with every switch off *is* a GPT-2-style decoder (pre-LayerNorm, GELU MLP, learned
positions, multi-head attention). Each switch swaps in one modern block, so an ablation is one
field:

    norm="rmsnorm"       RMSNorm instead of LayerNorm             (Zhang & Sennrich 2019)
    mlp="swiglu"         SwiGLU feed-forward at matched params    (Shazeer 2020)
    position="rope"      rotary position embedding                (Su et al. 2021)
    n_kv_head=k          grouped-query attention (k=1: MQA)       (Ainslie 2023; Shazeer 2019)
    n_expert=E, top_k    mixture-of-experts feed-forward          (Shazeer 2017; Fedus 2022)

``ModernConfig.llama_style(...)`` turns them all on. The model has GPT's interface:
``model(idx)`` (B, T) -> logits (B, T, V), ``model.hidden_states(idx)`` (B, T, C),
``model.num_parameters()``, ``model.new_kv_cache(batch)`` for ``course.generate``; after each
forward ``model.aux_loss`` holds the MoE load-balancing loss (0 without experts), and
:func:`training_loss` adds it to the cross-entropy for ``course.train.fit``.

Parameter names are Hugging Face's ``LlamaForCausalLM`` names, so a LLaMA checkpoint's keys read
the same here; beside them, the GPT-2 (``course.models.gpt``) names of the same weights:

    ModernGPT (LLaMA)                       GPT-2                    what it is
    embed_tokens                            wte                      token embedding (V, C)
    embed_positions (position="learned")    wpe                      learned positions (block, C)
    layers.i                                blocks.i                 one decoder block
    layers.i.input_layernorm                blocks.i.ln_1            norm before attention
    layers.i.self_attn.{q,k,v}_proj         blocks.i.attn.c_attn     (GPT-2 fuses q, k, v in one)
    layers.i.self_attn.o_proj               blocks.i.attn.c_proj     attention output projection
    layers.i.post_attention_layernorm       blocks.i.ln_2            norm before the feed-forward
    layers.i.mlp.up_proj                    blocks.i.mlp.c_fc        C -> hidden
    layers.i.mlp.gate_proj (SwiGLU only)    -                        the gate, C -> hidden
    layers.i.mlp.down_proj                  blocks.i.mlp.c_proj      hidden -> C
    layers.i.mlp.router, .experts.e.*       -                        mixture of experts (n_expert)
    norm                                    ln_f                     final norm
    lm_head                                 lm_head                  tied to embed_tokens

o_proj and down_proj are the two projections that write into the residual stream: GPT-2's init
scales them by 1/sqrt(2 * n_layer) (:func:`residual_projections`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from course.models.attention import causal_attention
from course.models.gpt import KVCache, gpt2_init, positions
from course.models.losses import lm_loss
from course.models.renames import renaming_hook

_NORMS = ("layernorm", "rmsnorm")
_MLPS = ("gelu", "swiglu")
_POSITIONS = ("learned", "rope")


@dataclass
class ModernConfig:
    vocab_size: int
    block_size: int = 128  # context length
    n_layer: int = 4
    n_head: int = 4  # query heads
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True  # biases in linears and LayerNorm (GPT-2: yes, LLaMA: no)
    norm: str = "layernorm"  # "layernorm" | "rmsnorm"
    mlp: str = "gelu"  # "gelu" | "swiglu"
    position: str = "learned"  # "learned" | "rope"
    n_kv_head: int | None = None  # key/value heads; None = n_head (MHA), 1 = MQA, between = GQA
    n_expert: int = 0  # 0: one dense feed-forward; E > 1: mixture of E experts
    top_k: int = 2  # experts each token is sent to
    aux_loss_weight: float = (
        0.01  # weight of the load-balancing loss in training_loss (Switch uses 0.01)
    )
    mlp_hidden: int | None = None  # hidden width of the dense FFN; default keeps params at 8*C^2
    expert_hidden: int | None = (
        None  # hidden width of one expert; default mlp_hidden // top_k (equal compute)
    )
    rope_base: float = 10000.0
    norm_eps: float = 1e-5

    def __post_init__(self):
        if self.norm not in _NORMS:
            raise ValueError(f"norm={self.norm!r}: choose one of {_NORMS}")
        if self.mlp not in _MLPS:
            raise ValueError(f"mlp={self.mlp!r}: choose one of {_MLPS}")
        if self.position not in _POSITIONS:
            raise ValueError(f"position={self.position!r}: choose one of {_POSITIONS}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        kv = self.kv_heads
        if kv < 1 or self.n_head % kv:
            raise ValueError(
                f"n_kv_head={self.n_kv_head} must divide n_head={self.n_head} "
                "(1 = multi-query, n_head = multi-head)"
            )
        if self.position == "rope" and self.head_dim % 2:
            raise ValueError(
                f"RoPE rotates pairs of dimensions: head_dim={self.head_dim} must be even"
            )
        if self.n_expert == 1 or self.n_expert < 0:
            raise ValueError(
                f"n_expert={self.n_expert}: use 0 for a dense feed-forward or at least 2 experts"
            )
        if self.n_expert and not 1 <= self.top_k <= self.n_expert:
            raise ValueError(f"top_k={self.top_k} must be between 1 and n_expert={self.n_expert}")

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @property
    def kv_heads(self) -> int:
        return self.n_head if self.n_kv_head is None else self.n_kv_head

    @property
    def hidden(self) -> int:
        """Dense FFN width. GELU: 4C (two matrices, 8C^2 weights). SwiGLU has three matrices, so
        LLaMA shrinks the width to 2/3 * 4C to keep 8C^2 weights (LLaMA then rounds up to a multiple
        of 256 for fast kernels; at this course's tiny widths that would distort the comparison)."""
        if self.mlp_hidden is not None:
            return self.mlp_hidden
        if self.mlp == "swiglu":
            return round(2 * 4 * self.n_embd / 3)
        return 4 * self.n_embd

    @property
    def expert_width(self) -> int:
        """One expert's width: by default hidden / top_k, so a token's active FFN compute equals the
        dense FFN's."""
        return (
            self.expert_hidden
            if self.expert_hidden is not None
            else max(1, self.hidden // self.top_k)
        )

    def replace(self, **changes) -> ModernConfig:
        """A copy with some fields changed: ``base.replace(norm="rmsnorm")`` (one ablation arm)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def gpt2_style(cls, vocab_size: int, **sizes) -> ModernConfig:
        """Every switch off: the GPT-2 decoder block (pre-LayerNorm, GELU, learned positions,
        MHA)."""
        return cls(vocab_size=vocab_size, **sizes)

    @classmethod
    def llama_style(
        cls, vocab_size: int, n_kv_head: int | None = None, n_expert: int = 0, **sizes
    ) -> ModernConfig:
        """Every switch on: RMSNorm, SwiGLU, RoPE, no biases, GQA (n_head // 2 KV heads by
        default)."""
        config = cls(
            vocab_size=vocab_size,
            bias=False,
            norm="rmsnorm",
            mlp="swiglu",
            position="rope",
            **sizes,
        )
        kv = n_kv_head if n_kv_head is not None else max(1, config.n_head // 2)
        return config.replace(n_kv_head=kv, n_expert=n_expert)


# --------------------------------------------------------------------------- normalisation
class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * g   (Zhang & Sennrich 2019, eq. 4).

    LayerNorm's re-centring (subtracting the mean) and its bias are dropped: only the scale is
    normalised. One reduction instead of two, and in practice no loss in quality.
    """

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # the statistic in fp32 even under bf16 autocast: a mean of squares overflows/rounds badly
        # in 16 bits
        x32 = x.float()
        normed = x32 * torch.rsqrt(x32.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return normed.type_as(x) * self.weight


def make_norm(config: ModernConfig) -> nn.Module:
    if config.norm == "rmsnorm":
        return RMSNorm(config.n_embd, eps=config.norm_eps)
    return nn.LayerNorm(config.n_embd, eps=config.norm_eps, bias=config.bias)


# --------------------------------------------------------------------------- feed-forward
class GeluMLP(nn.Module):
    """GPT-2's feed-forward: W_down gelu(W_up x)."""

    def __init__(self, n_embd: int, hidden: int, bias: bool = True, dropout: float = 0.0):
        super().__init__()
        self.up_proj = nn.Linear(n_embd, hidden, bias=bias)
        self.down_proj = nn.Linear(hidden, n_embd, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.down_proj(F.gelu(self.up_proj(x))))


class SwiGLU(nn.Module):
    """FFN_SwiGLU(x) = W_down (SiLU(W_gate x) * W_up x)   (Shazeer 2020, eq. 6).

    The gate is a learned, input-dependent mask on the hidden units: SiLU(W_gate x) decides how much
    of each W_up x feature passes. Three matrices instead of two, so the width shrinks to keep
    params."""

    def __init__(self, n_embd: int, hidden: int, bias: bool = False, dropout: float = 0.0):
        super().__init__()
        self.gate_proj = nn.Linear(n_embd, hidden, bias=bias)
        self.up_proj = nn.Linear(n_embd, hidden, bias=bias)
        self.down_proj = nn.Linear(hidden, n_embd, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x)))


def make_ffn(config: ModernConfig, hidden: int) -> nn.Module:
    cls = SwiGLU if config.mlp == "swiglu" else GeluMLP
    return cls(config.n_embd, hidden, bias=config.bias, dropout=config.dropout)


def load_balancing_loss(
    router_probs: torch.Tensor, expert_index: torch.Tensor, n_expert: int
) -> torch.Tensor:
    """Switch Transformer auxiliary loss (Fedus et al. 2022, eq. 4): ``E * sum_i f_i * P_i``.

    router_probs: (N, E) softmax of the router for N tokens; expert_index: (N, k) chosen experts.
    f_i = share of the N*k assignments that went to expert i (a count: no gradient);
    P_i = mean router probability of expert i (differentiable).
    Balanced assignments with a uniform router give exactly 1; everything sent to one expert that
    the router is sure of gives E. The gradient lowers P_i most where f_i is large: overloaded
    experts become less attractive.
    """
    counts = torch.bincount(expert_index.reshape(-1), minlength=n_expert).to(router_probs.dtype)
    fraction = counts / counts.sum()  # f: (E,)
    mean_prob = router_probs.mean(dim=0)  # P: (E,)
    return n_expert * torch.sum(fraction * mean_prob)


class MoE(nn.Module):
    """Mixture-of-experts feed-forward with top-k routing (Shazeer et al. 2017; Mixtral 2024).

    A linear router scores the E experts for each token; the token goes to its k best, and their
    outputs are mixed with the router's softmax weights renormalised over those k:
        y = sum_{i in topk(x)} g_i(x) * Expert_i(x),   g = softmax(router(x)) restricted to top-k.
    Only k experts run per token, so parameters grow with E while compute per token stays k experts.
    """

    def __init__(self, config: ModernConfig):
        super().__init__()
        self.n_expert, self.top_k = config.n_expert, config.top_k
        self.router = nn.Linear(config.n_embd, config.n_expert, bias=False)
        self.experts = nn.ModuleList(
            make_ffn(config, config.expert_width) for _ in range(config.n_expert)
        )
        self.aux_loss = torch.zeros(())
        # share of assignments per expert, last forward
        self.last_load = torch.zeros(config.n_expert)

    def route(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (N, C) -> router probs (N, E), top-k weights (N, k) summing to 1, top-k expert ids (N,
        k)."""
        probs = F.softmax(self.router(x).float(), dim=-1)
        weights, index = probs.topk(self.top_k, dim=-1)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        return probs, weights, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        flat = x.reshape(-1, shape[-1])  # (N, C), N = B*T tokens
        probs, weights, index = self.route(flat)
        out = torch.zeros_like(flat)
        for e, expert in enumerate(self.experts):
            # which tokens chose e, and in which of their k slots
            token, slot = torch.where(index == e)
            # an expert that got no token still runs (on 0 rows): its weights then get a zero
            # gradient instead of none, which DistributedDataParallel needs to stay in step across
            # processes
            y = expert(flat[token])  # (n_e, C): the expert sees only its tokens
            out.index_add_(0, token, (y * weights[token, slot, None]).to(out.dtype))
        self.aux_loss = load_balancing_loss(probs, index, self.n_expert)
        self.last_load = (
            torch.bincount(index.reshape(-1), minlength=self.n_expert)
            .float()
            .div(index.numel())
            .detach()
            .cpu()
        )
        return out.reshape(shape)


# --------------------------------------------------------------------------- rotary positions
def rope_frequencies(head_dim: int, base: float = 10000.0) -> torch.Tensor:
    """theta_i = base^(-2i/d) for i = 0 .. d/2 - 1: pair i turns by theta_i radians per position."""
    return base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)


def rope_cos_sin(seq_len: int, head_dim: int, base: float = 10000.0, offset: int = 0):
    """cos and sin of m * theta_i for positions m = offset .. offset+seq_len-1: each (T,
    head_dim/2)."""
    positions = torch.arange(offset, offset + seq_len, dtype=torch.float64)
    angles = torch.outer(positions, rope_frequencies(head_dim, base))
    return angles.cos().float(), angles.sin().float()


@functools.lru_cache(maxsize=256)
def _rope_table(seq_len: int, head_dim: int, base: float, offset: int):
    """rope_cos_sin, computed once per (length, offset) and then shared by every layer, and by the
    queries and keys of each (the attention never writes into it)."""
    return rope_cos_sin(seq_len, head_dim, base, offset)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each pair (x_2i, x_2i+1) of x (..., T, D) by the angle m * theta_i (Su et al. 2021,
    eq. 34).

        [x'_2i  ]   [cos m.theta_i  -sin m.theta_i] [x_2i  ]
        [x'_2i+1] = [sin m.theta_i   cos m.theta_i] [x_2i+1]

    A rotation keeps lengths, and rotating q by m.theta and k by n.theta makes q.k depend on (m - n)
    only: the attention score sees relative position, with no position vector added to the input.

    Layout: the pairs are *interleaved* neighbours (x_0, x_1), (x_2, x_3), ... as in RoFormer and
    Meta's LLaMA code. Hugging Face's ``rotate_half`` pairs x_i with x_{i + D/2} instead; the two
    are the same rotation on permuted dimensions, so weights move between them only with that
    permutation.
    """
    even, odd = x[..., 0::2].float(), x[..., 1::2].float()  # (..., T, D/2) each
    rotated_even = even * cos - odd * sin
    rotated_odd = even * sin + odd * cos
    # interleave back: (..., T, D)
    return torch.stack((rotated_even, rotated_odd), dim=-1).flatten(-2).type_as(x)


# --------------------------------------------------------------------------- attention
class Attention(nn.Module):
    """Causal self-attention with n_head query heads sharing n_kv_head key/value heads.

    n_kv_head == n_head is ordinary multi-head attention; 1 is multi-query attention (Shazeer 2019);
    in between is grouped-query attention (Ainslie et al. 2023): query head h reads KV head
    h // (n_head / n_kv_head). The KV cache at inference shrinks by n_head / n_kv_head.
    """

    def __init__(self, config: ModernConfig):
        super().__init__()
        self.n_head, self.n_kv_head, self.head_dim = config.n_head, config.kv_heads, config.head_dim
        self.rope = config.position == "rope"
        self.rope_base = config.rope_base
        self.q_proj = nn.Linear(config.n_embd, self.n_head * self.head_dim, bias=config.bias)
        self.k_proj = nn.Linear(config.n_embd, self.n_kv_head * self.head_dim, bias=config.bias)
        self.v_proj = nn.Linear(config.n_embd, self.n_kv_head * self.head_dim, bias=config.bias)
        self.o_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)

    def project_kv(self, x: torch.Tensor, offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, C) -> k, v each (B, n_kv_head, T, head_dim): exactly what a KV cache stores.
        ``offset``: the position of x's first token (RoPE turns keys by their absolute position)."""
        B, T, _ = x.shape
        k = self.k_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)
        if self.rope:
            cos, sin = _rope_table(T, self.head_dim, self.rope_base, offset)
            k = apply_rope(k, cos.to(x.device), sin.to(x.device))
        return k, v

    def forward(
        self, x: torch.Tensor, kv_cache: KVCache | None = None, layer: int = 0
    ) -> torch.Tensor:
        """x (B, T, C) -> (B, T, C). With ``kv_cache``, x holds the T tokens after the cached ones:
        their keys/values (n_kv_head heads only) are appended; their queries read all the cache."""
        B, T, C = x.shape
        offset = kv_cache.length if kv_cache is not None else 0
        q = self.q_proj(x).view(B, T, self.n_head, self.head_dim).transpose(1, 2)  # (B, H, T, D)
        if self.rope:
            cos, sin = _rope_table(T, self.head_dim, self.rope_base, offset)
            q = apply_rope(q, cos.to(x.device), sin.to(x.device))
        k, v = self.project_kv(x, offset)  # (B, H_kv, T, D)
        if kv_cache is not None:
            k, v = kv_cache.append(layer, k, v)  # (B, H_kv, offset + T, D)
        group = self.n_head // self.n_kv_head
        if group > 1:  # each KV head serves `group` consecutive query heads
            k = k.repeat_interleave(group, dim=1)  # (B, H, offset + T, D)
            v = v.repeat_interleave(group, dim=1)
        if offset == 0:
            # flash / memory-efficient kernels on CUDA, a fused kernel on the CPU (causal_attention)
            y = causal_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        else:
            # new token t (position offset + t) reads every cached key and the new ones up to itself
            mask = (
                torch.arange(offset + T, device=x.device)[None, :]
                <= torch.arange(offset, offset + T, device=x.device)[:, None]
            )  # (T, offset+T)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C)
        return self.resid_dropout(self.o_proj(y))


# --------------------------------------------------------------------------- the model
class Block(nn.Module):
    """Pre-norm residual block: x + Attn(Norm(x)), then + FFN(Norm(x))."""

    def __init__(self, config: ModernConfig):
        super().__init__()
        self.input_layernorm = make_norm(config)
        self.self_attn = Attention(config)
        self.post_attention_layernorm = make_norm(config)
        self.mlp = MoE(config) if config.n_expert else make_ffn(config, config.hidden)

    def forward(self, x, kv_cache: KVCache | None = None, layer: int = 0):
        x = x + self.self_attn(self.input_layernorm(x), kv_cache, layer)
        return x + self.mlp(self.post_attention_layernorm(x))


class ModernGPT(nn.Module):
    """A decoder-only language model whose blocks are chosen by :class:`ModernConfig`."""

    def __init__(self, config: ModernConfig):
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.n_embd)
        self.embed_positions = (
            nn.Embedding(config.block_size, config.n_embd) if config.position == "learned" else None
        )
        self.drop = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.norm = make_norm(config)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # weight tying (Press & Wolf 2017), as in GPT-2
        self.lm_head.weight = self.embed_tokens.weight
        residual = {id(p) for p in residual_projections(self)}
        gpt2_init(self, config.n_layer, lambda name: id(self.get_parameter(name)) in residual)
        # feed-forward input projections at fan-in scale (why: fan_in_projections)
        for p in fan_in_projections(self):
            nn.init.normal_(p, mean=0.0, std=1 / math.sqrt(config.n_embd))
        self.aux_loss = torch.zeros(())
        # weights saved before the parameters took LLaMA's names still load (legacy_to_llama_names)
        self.register_load_state_dict_pre_hook(renaming_hook(legacy_to_llama_names))

    def hidden_states(self, idx: torch.Tensor, kv_cache: KVCache | None = None) -> torch.Tensor:
        """idx (B, T) token ids -> (B, T, n_embd) after the final norm, before the LM head.
        With ``kv_cache``, idx holds the tokens after the cached ones (:meth:`new_kv_cache`)."""
        B, T, offset = positions(idx, kv_cache, self.config.block_size)
        x = self.embed_tokens(idx)  # (B, T, C)
        if self.embed_positions is not None:
            x = x + self.embed_positions(torch.arange(offset, offset + T, device=idx.device))
        x = self.drop(x)
        for layer, block in enumerate(self.layers):
            x = block(x, kv_cache, layer)
        if kv_cache is not None:
            kv_cache.length += T
        moe = [b.mlp.aux_loss for b in self.layers if isinstance(b.mlp, MoE)]
        self.aux_loss = torch.stack(moe).mean() if moe else torch.zeros((), device=idx.device)
        return self.norm(x)

    def forward(self, idx: torch.Tensor, *, kv_cache: KVCache | None = None) -> torch.Tensor:
        """idx (B, T) -> logits (B, T, vocab_size); sets ``self.aux_loss`` (MoE balancing, else
        0)."""
        return self.lm_head(self.hidden_states(idx, kv_cache))

    def new_kv_cache(self, batch_size: int, max_len: int | None = None) -> KVCache:
        """An empty cache for ``batch_size`` sequences of up to ``max_len`` tokens (block_size).

        It holds n_kv_head heads per layer, not n_head: with grouped-query attention the cache is
        n_head / n_kv_head times smaller, the saving :func:`kv_cache_bytes` counts.
        """
        c = self.config
        p = self.embed_tokens.weight
        return KVCache(
            c.n_layer,
            batch_size,
            c.kv_heads,
            max_len or c.block_size,
            c.head_dim,
            p.device,
            p.dtype,
        )

    def num_parameters(self, non_embedding: bool = True, active: bool = False) -> int:
        """Parameter count. ``non_embedding`` leaves out the embeddings (the tied LM head is shared
        with them); ``active`` counts only the k of E experts that one token uses."""
        total = sum(p.numel() for p in self.parameters())
        if non_embedding:
            total -= self.embed_tokens.weight.numel()
            if self.embed_positions is not None:
                total -= self.embed_positions.weight.numel()
        if active and self.config.n_expert:
            per_expert = sum(p.numel() for p in self.layers[0].mlp.experts[0].parameters())
            total -= self.config.n_layer * per_expert * (self.config.n_expert - self.config.top_k)
        return total

    def flops_per_token(self, seq_len: int | None = None) -> float:
        """Training FLOPs per token (PaLM appendix B): 6N + 12 * n_layer * n_embd * T.

        N counts the weights a token multiplies with: the active non-embedding weights plus the LM
        head (tied to the token embedding, but a real V x C matmul). The second term is attention's
        QK^T and AV products, which have no weights. Forward = 1/3 of it, backward = 2/3.
        """
        T = seq_len or self.config.block_size
        n = self.num_parameters(non_embedding=True, active=True) + self.lm_head.weight.numel()
        return 6 * n + 12 * self.config.n_layer * self.config.n_embd * T


def residual_projections(model: ModernGPT) -> list[nn.Parameter]:
    """The weights of the projections that write into the residual stream: each block's attention
    ``o_proj`` and its feed-forward's ``down_proj`` (every expert's, with MoE). GPT-2 starts them
    at std 0.02 / sqrt(2 * n_layer), so the stream's variance does not grow with depth."""
    weights = []
    for block in model.layers:
        weights.append(block.self_attn.o_proj.weight)
        ffns = block.mlp.experts if isinstance(block.mlp, MoE) else [block.mlp]
        weights.extend(ffn.down_proj.weight for ffn in ffns)
    return weights


def fan_in_projections(model: ModernGPT) -> list[nn.Parameter]:
    """The feed-forward input projections that start at std 1/sqrt(C) instead of 0.02.

    At GPT-2's 0.02 two kinds of feed-forward would start almost switched off:
    - SwiGLU's hidden unit is a product, SiLU(gate x) * (up x): two small factors make a product
      (and a gradient) near 0, so its ``gate_proj`` and ``up_proj`` start at fan-in scale;
    - a routed expert's output is scaled by its mixing weight (about 1/top_k at the start) and it
      sees only part of the tokens; at 0.02 the MoE learned far more slowly than dense, so every
      expert's input projections start at fan-in scale (GELU experts: ``up_proj``).
    The dense GELU MLP keeps GPT-2's 0.02; the output projections keep the residual scaling.
    Listed in parameter order, so the random draws come in the order they always have."""
    weights = []
    for block in model.layers:
        moe = isinstance(block.mlp, MoE)
        for ffn in block.mlp.experts if moe else [block.mlp]:
            if isinstance(ffn, SwiGLU):
                weights += [ffn.gate_proj.weight, ffn.up_proj.weight]
            elif moe:
                weights.append(ffn.up_proj.weight)
    return weights


# The names ModernGPT's parameters had before they took LLaMA's: the module names that changed, and
# the matrices inside the attention and inside a feed-forward (a dense one or an expert).
_LEGACY = {
    "tok_emb": "embed_tokens",
    "pos_emb": "embed_positions",
    "blocks": "layers",
    "norm1": "input_layernorm",
    "attn": "self_attn",
    "norm2": "post_attention_layernorm",
    "ffn": "mlp",
    "norm_f": "norm",
}
_LEGACY_ATTN = {"proj": "o_proj"}
_LEGACY_FFN = {"fc": "up_proj", "gate": "gate_proj", "up": "up_proj", "proj": "down_proj"}


def legacy_to_llama_names(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A ModernGPT state dict saved under the old names (``blocks.0.attn.proj.weight``,
    ``blocks.0.ffn.fc.weight``, ``norm_f.weight`` ...) renamed to today's LLaMA names
    (``layers.0.self_attn.o_proj.weight``, ``layers.0.mlp.up_proj.weight``, ``norm.weight``).
    Names that are already new pass through unchanged, so a state dict can be given either way."""
    renamed = {}
    for name, tensor in state.items():
        parts, inside = name.split("."), {}
        for i, part in enumerate(parts[:-1]):  # the last part is "weight" or "bias"
            new = inside.get(part, _LEGACY.get(part, part))
            if part == "attn":
                inside = _LEGACY_ATTN
            elif part == "ffn":
                inside = _LEGACY_FFN
            parts[i] = new
        renamed[".".join(parts)] = tensor
    return renamed


def training_loss(model: nn.Module, batch) -> torch.Tensor:
    """Next-token cross-entropy plus ``aux_loss_weight`` x the MoE load-balancing loss.

    Pass as ``fit(..., loss_fn=training_loss)``. Works when ``fit`` wraps the model in
    DistributedDataParallel (the aux loss is read from the wrapped module).
    """
    x, y = batch[0], batch[1]
    logits = model(x)
    loss = lm_loss(logits, y)
    inner = getattr(model, "module", model)
    inner = getattr(inner, "_orig_mod", inner)  # torch.compile wraps the module too
    weight = inner.config.aux_loss_weight if inner.config.n_expert else 0.0
    return loss + weight * inner.aux_loss if weight else loss


def kv_cache_bytes(
    config: ModernConfig, seq_len: int, batch_size: int = 1, bytes_per_value: int = 2
) -> int:
    """Memory of a full KV cache: 2 (K and V) x layers x KV heads x head_dim x tokens x bytes."""
    return (
        2
        * config.n_layer
        * config.kv_heads
        * config.head_dim
        * seq_len
        * batch_size
        * bytes_per_value
    )
