"""A GRU encoder-decoder, with or without additive (Bahdanau) attention.

Without attention (Cho et al., 2014; Sutskever et al., 2014) the encoder squeezes the whole source
into one fixed vector c, and the decoder sees only c:

    s_i = GRU(s_{i-1}, [E y_{i-1}; c])

With attention (Bahdanau, Cho & Bengio, 2015) the decoder gets a fresh context at every step, a
weighted average of *all* encoder states h_j, weighted by how well each matches its state:

    e_ij  = v^T tanh(W s_{i-1} + U h_j)          (eq. 6 of the paper: the "alignment model")
    a_ij  = softmax_j(e_ij)                      (padding positions get weight 0)
    c_i   = sum_j a_ij h_j
    s_i   = GRU(s_{i-1}, [E y_{i-1}; c_i])
    p(y_i | y_<i, x) = softmax(W_o tanh(W_r [s_i; c_i; E y_{i-1}]))   (a "deep output" readout)

Everything else is shared, so the two models differ in exactly one idea. The encoder is a
bidirectional GRU (h_j = [forward h_j; backward h_j]), as in the paper. Decoding: teacher forcing
for training (:meth:`Seq2Seq.forward`), :meth:`Seq2Seq.greedy_decode` and
:meth:`Seq2Seq.beam_search`."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from course.models.losses import lm_loss
from course.special_tokens import BOS_ID, EOS_ID, PAD_ID


@dataclass
class Seq2SeqConfig:
    src_vocab_size: int
    tgt_vocab_size: int
    embed_dim: int = 64
    hidden_dim: int = 128  # per direction in the encoder; the decoder's state size
    attention_dim: int = 128
    attention: bool = True
    dropout: float = 0.1


class Encoder(nn.Module):
    """Embedding + bidirectional GRU. Returns every state h_j and one summary vector of the
    source."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_dim: int, dropout: float = 0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD_ID)
        self.dropout = nn.Dropout(dropout)
        self.rnn = nn.GRU(embed_dim, hidden_dim, batch_first=True, bidirectional=True)

    def forward(self, src: torch.Tensor, src_mask: torch.Tensor):
        """src, src_mask: (batch, src_len) -> states (batch, src_len, 2*hidden), summary (batch,
        2*hidden)."""
        lengths = src_mask.sum(1)
        if bool((lengths == 0).any()):
            raise ValueError(
                "a source sentence is empty (all padding); every source needs at least one token"
            )
        x = self.dropout(self.embed(src))  # (batch, src_len, embed)
        # packing makes the GRU stop at each sentence's real end, so padding never enters a state
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        states, last = self.rnn(packed)  # last: (2 directions, batch, hidden)
        states, _ = nn.utils.rnn.pad_packed_sequence(
            states, batch_first=True, total_length=src.size(1)
        )
        # summary = [forward state after the last word; backward state after the first word]
        summary = torch.cat([last[0], last[1]], dim=-1)  # (batch, 2*hidden)
        return states, summary


class AdditiveAttention(nn.Module):
    """Bahdanau attention: score(s, h_j) = v^T tanh(W s + U h_j); returns context and weights."""

    def __init__(self, query_dim: int, key_dim: int, attention_dim: int):
        super().__init__()
        self.W = nn.Linear(query_dim, attention_dim, bias=False)
        self.U = nn.Linear(key_dim, attention_dim)
        self.v = nn.Linear(attention_dim, 1, bias=False)

    def project_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """U h_j does not depend on the decoder step: compute it once per sentence."""
        return self.U(keys)  # (batch, src_len, attention_dim)

    def forward(
        self,
        query: torch.Tensor,
        keys: torch.Tensor,
        mask: torch.Tensor,
        projected_keys: torch.Tensor | None = None,
    ):
        """query (batch, query_dim), keys (batch, src_len, key_dim), mask (batch, src_len) True =
        real -> context (batch, key_dim), weights (batch, src_len) summing to 1 over real
        positions."""
        if projected_keys is None:
            projected_keys = self.project_keys(keys)
        # (batch, src_len)
        scores = self.v(torch.tanh(self.W(query).unsqueeze(1) + projected_keys)).squeeze(-1)
        scores = scores.masked_fill(~mask, float("-inf"))  # padding can never be attended to
        weights = torch.softmax(scores, dim=-1)
        context = torch.bmm(weights.unsqueeze(1), keys).squeeze(1)  # (batch, key_dim)
        return context, weights


class Seq2Seq(nn.Module):
    """GRU encoder-decoder; ``config.attention`` switches Bahdanau attention on or off."""

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.config = config
        E, H = config.embed_dim, config.hidden_dim
        self.encoder = Encoder(config.src_vocab_size, E, H, config.dropout)
        self.bridge = nn.Linear(2 * H, H)  # s_0 = tanh(W_s [summary]) starts the decoder
        self.embed = nn.Embedding(config.tgt_vocab_size, E, padding_idx=PAD_ID)
        self.attention = (
            AdditiveAttention(H, 2 * H, config.attention_dim) if config.attention else None
        )
        self.cell = nn.GRUCell(E + 2 * H, H)
        self.dropout = nn.Dropout(config.dropout)
        # readout to a small vector first, then to the vocabulary: the (vocab x E) output matrix is
        # the most expensive layer, so it should see E numbers, not 3H + E (Bahdanau's maxout
        # readout plays this role)
        self.readout = nn.Linear(H + 2 * H + E, E)
        self.out = nn.Linear(E, config.tgt_vocab_size)

    # ------------------------------------------------------------------ the pieces
    def encode(self, src: torch.Tensor, src_mask: torch.Tensor) -> dict:
        """Everything the decoder needs about the source, computed once."""
        states, summary = self.encoder(src, src_mask)
        memory = {
            "states": states,
            "mask": src_mask,
            "summary": summary,
            "hidden": torch.tanh(self.bridge(summary)),
        }  # s_0: (batch, hidden)
        if self.attention is not None:
            memory["keys"] = self.attention.project_keys(states)
        return memory

    def step(self, prev_tokens: torch.Tensor, hidden: torch.Tensor, memory: dict):
        """One decoder step: y_{i-1} (batch,), s_{i-1} (batch, hidden) -> logits (batch, vocab), s_i
        (batch, hidden), attention weights (batch, src_len) or None."""
        features, hidden, weights = self._step_features(prev_tokens, hidden, memory)
        return self.out(features), hidden, weights

    def _step_features(self, prev_tokens, hidden, memory):
        y = self.dropout(self.embed(prev_tokens))  # (batch, embed)
        if self.attention is not None:
            context, weights = self.attention(
                hidden, memory["states"], memory["mask"], memory["keys"]
            )
        else:
            context, weights = memory["summary"], None  # the fixed vector c, the same at every step
        hidden = self.cell(torch.cat([y, context], dim=-1), hidden)  # s_i: (batch, hidden)
        # (batch, embed)
        features = self.dropout(torch.tanh(self.readout(torch.cat([hidden, context, y], dim=-1))))
        return features, hidden, weights

    # ------------------------------------------------------------------ training: teacher forcing
    def forward(self, src: torch.Tensor, src_mask: torch.Tensor, tgt_in: torch.Tensor):
        """Teacher forcing: the decoder reads the *true* previous token tgt_in[:, i], whatever it
        would have predicted. Returns logits (batch, tgt_len, vocab) and attention weights
        (batch, tgt_len, src_len), or None without attention."""
        memory = self.encode(src, src_mask)
        hidden, all_features, all_weights = memory["hidden"], [], []
        for i in range(tgt_in.size(1)):
            features, hidden, weights = self._step_features(tgt_in[:, i], hidden, memory)
            all_features.append(features)
            all_weights.append(weights)
        attention = torch.stack(all_weights, dim=1) if self.attention is not None else None
        # one large matrix product for all steps at once (the same numbers as self.step's, faster)
        return self.out(torch.stack(all_features, dim=1)), attention

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, src_mask: torch.Tensor, max_len: int = 30):
        """Pick the most likely token at every step, feeding it back in. Returns ids (batch, steps)
        (after <eos>, only <pad>) and weights (batch, steps, src_len) or None."""
        memory = self.encode(src, src_mask)
        hidden = memory["hidden"]
        tokens = torch.full((src.size(0),), BOS_ID, dtype=torch.long, device=src.device)
        done = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)
        out, all_weights = [], []
        for _ in range(max_len):
            logits, hidden, weights = self.step(tokens, hidden, memory)
            tokens = logits.argmax(-1).masked_fill(done, PAD_ID)
            out.append(tokens)
            all_weights.append(weights)
            done = done | (tokens == EOS_ID)
            if bool(done.all()):
                break
        attention = torch.stack(all_weights, dim=1) if self.attention is not None else None
        return torch.stack(out, dim=1), attention

    @torch.no_grad()
    def beam_search(
        self,
        src: torch.Tensor,
        src_mask: torch.Tensor,
        beam_size: int = 5,
        max_len: int = 30,
        length_penalty: float = 0.0,
    ):
        """Keep the ``beam_size`` best partial outputs (by total log-probability) instead of one.

        One sentence at a time (src: (1, src_len)). A finished hypothesis is scored
        log p / length**length_penalty (0 = plain log-probability; ~0.6-1 favours longer outputs).
        Returns ids (1, steps) ending in <eos> when one was produced, and the attention weights
        (1, steps, src_len) of the chosen hypothesis (None without attention).
        With ``beam_size=1`` this is exactly greedy decoding.
        """
        if src.size(0) != 1:
            raise ValueError(
                f"beam_search decodes one sentence at a time; got a batch of {src.size(0)}. "
                "Loop over the sentences, or use greedy_decode for a batch"
            )
        if beam_size < 1:
            raise ValueError(f"beam_size must be at least 1, got {beam_size}")
        memory = self.encode(src, src_mask)
        # the beams share the source: expand every memory tensor to the current number of beams
        expand = {k: v for k, v in memory.items() if k != "hidden"}
        hidden = memory["hidden"]  # (beams, hidden)
        tokens = torch.full((1,), BOS_ID, dtype=torch.long, device=src.device)
        scores = torch.zeros(1, device=src.device)  # total log-probability of each live beam
        history = torch.zeros(1, 0, dtype=torch.long, device=src.device)  # (beams, steps)
        attn_history = torch.zeros(1, 0, src.size(1), device=src.device)
        finished: list[tuple[float, torch.Tensor, torch.Tensor]] = []
        for _ in range(max_len):
            beams = tokens.size(0)
            mem = {k: v.expand(beams, *v.shape[1:]) for k, v in expand.items()}
            logits, hidden, weights = self.step(tokens, hidden, mem)
            logp = F.log_softmax(logits.float(), dim=-1)  # (beams, vocab)
            total = (scores.unsqueeze(1) + logp).flatten()  # (beams * vocab,)
            best, index = total.topk(min(2 * beam_size, total.numel()))
            origin, word = index // logp.size(1), index % logp.size(1)
            keep = []
            for score, b, w in zip(best.tolist(), origin.tolist(), word.tolist()):
                if w == EOS_ID:
                    ids = torch.cat([history[b], history.new_tensor([EOS_ID])])
                    attn = attn_history[b]
                    if weights is not None:
                        attn = torch.cat([attn, weights[b : b + 1]])
                    finished.append((score / len(ids) ** length_penalty, ids, attn))
                else:
                    keep.append((score, b, w))
                if len(keep) == beam_size or len(finished) >= beam_size:
                    break
            if len(finished) >= beam_size or not keep:
                break
            origin = torch.tensor([b for _, b, _ in keep], device=src.device)
            tokens = torch.tensor([w for _, _, w in keep], device=src.device)
            scores = torch.tensor([s for s, _, _ in keep], device=src.device)
            hidden = hidden[origin]
            history = torch.cat([history[origin], tokens.unsqueeze(1)], dim=1)
            step_attn = (
                weights[origin].unsqueeze(1)
                if weights is not None
                else attn_history.new_zeros(len(keep), 1, src.size(1))
            )
            attn_history = torch.cat([attn_history[origin], step_attn], dim=1)
        if not finished:  # nothing ended within max_len: return the best unfinished beam
            finished = [
                (
                    float(scores[0]) / max(1, history.size(1)) ** length_penalty,
                    history[0],
                    attn_history[0],
                )
            ]
        _, ids, attn = max(finished, key=lambda f: f[0])
        return ids.unsqueeze(0), (attn.unsqueeze(0) if self.attention is not None else None)


def seq2seq_loss(model: nn.Module, batch) -> torch.Tensor:
    """Mean cross-entropy per target token (padding ignored), for ``course.train.fit``: any
    encoder-decoder called as ``model(src, src_mask, tgt_in)`` (this Seq2Seq, notebook 06's
    Transformer). ``batch`` is a ``course.translation.Batch`` (moved to the model's device here)."""
    device = next(model.parameters()).device
    batch = batch.to(device)
    logits, _ = model(batch.src, batch.src_mask, batch.tgt_in)
    return lm_loss(logits, batch.tgt_out, ignore_index=PAD_ID)
