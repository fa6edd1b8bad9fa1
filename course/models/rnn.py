"""Recurrent networks: the loop written by hand, character language models, and three measurements.

The Elman RNN (what ``nn.RNN`` computes, with its parameter names):

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

The same weights are used at every step, and step t needs h_{t-1}: the loop over time cannot be
parallelised. LSTM (Hochreiter & Schmidhuber, 1997) and GRU (Cho et al., 2014) add gates that let
the state pass through many steps almost unchanged, so gradients survive long distances.

Contents, in the order of notebook 04:
* :func:`rnn_cell`, :func:`rnn_forward` — the hand-written cell and loop (tests check them against
  ``nn.RNN``);
* :class:`CharRNN` — a character language model around ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``,
  :func:`hidden_size_for` (equal parameter counts), :class:`TBPTTLoss` (truncated backprop through
  time), :func:`sample`;
* :func:`gradient_by_distance` — how much the loss at step t depends on the input at step t-k;
* :func:`recall_batch`, :class:`RecallNet`, :func:`recall_accuracy` — remember a token for k steps;
* :func:`time_forward` — forward time vs sequence length (notebook 06 redraws it beside a
  Transformer).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from course.device import eval_mode
from course.models.losses import lm_loss

KINDS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


# ----------------------------------------------------------------------------- by hand
def rnn_cell(
    x_t: torch.Tensor,
    h_prev: torch.Tensor,
    W_ih: torch.Tensor,
    W_hh: torch.Tensor,
    b_ih: torch.Tensor,
    b_hh: torch.Tensor,
) -> torch.Tensor:
    """One step: x_t (batch, input), h_prev (batch, hidden) -> h_t (batch, hidden)."""
    return torch.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)


def rnn_forward(x: torch.Tensor, h0: torch.Tensor, W_ih, W_hh, b_ih, b_hh):
    """The loop over time. x (time, batch, input), h0 (batch, hidden) -> outputs (time, batch,
    hidden), last state (batch, hidden): what ``nn.RNN(input, hidden)`` returns (for one layer, time
    first)."""
    h, outputs = h0, []
    for x_t in x:  # sequential: step t needs h_{t-1}
        h = rnn_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs), h


# ------------------------------------------------------------------------ character language models
@dataclass
class CharRNNConfig:
    vocab_size: int
    kind: str = "lstm"  # "rnn", "lstm" or "gru"
    embed_dim: int = 32
    hidden_dim: int = 128
    num_layers: int = 1
    dropout: float = 0.0


def _open_forget_gate(lstm: nn.LSTM, hidden_dim: int) -> None:
    """Forget-gate bias 1 (Gers et al. 2000; Jozefowicz et al. 2015): an LSTM starts by remembering.
    PyTorch's LSTM biases are [input, forget, cell, output] blocks of ``hidden_dim`` each."""
    H = hidden_dim
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_ih"):
                param[H : 2 * H].fill_(1.0)
            elif name.startswith("bias_hh"):
                param[H : 2 * H].fill_(0.0)


class CharRNN(nn.Module):
    """Embedding -> recurrent layer(s) -> linear to vocabulary logits.

    ``forward(x, state)`` takes ids (batch, time) and returns logits (batch, time, vocab) and the
    final state (a tensor for RNN/GRU, an (h, c) pair for LSTM) to carry into the next chunk.
    """

    def __init__(self, config: CharRNNConfig):
        super().__init__()
        if config.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, not {config.kind!r}")
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.rnn = KINDS[config.kind](
            config.embed_dim,
            config.hidden_dim,
            num_layers=config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.head = nn.Linear(config.hidden_dim, config.vocab_size)
        if config.kind == "lstm":
            _open_forget_gate(self.rnn, config.hidden_dim)

    def forward(self, x: torch.Tensor, state=None):
        return self.forward_embeddings(self.embed(x), state)

    def forward_embeddings(self, e: torch.Tensor, state=None):
        """From embeddings (batch, time, embed): lets :func:`gradient_by_distance` ask for d loss /
        d e_t."""
        outputs, state = self.rnn(e, state)  # (batch, time, hidden)
        return self.head(outputs), state  # (batch, time, vocab)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def hidden_size_for(
    kind: str, target_params: int, vocab_size: int, embed_dim: int = 32, num_layers: int = 1
) -> int:
    """The hidden size that gives a :class:`CharRNN` of ``kind`` about ``target_params`` parameters
    (an LSTM has 4 weight blocks per layer, a GRU 3, an RNN 1, so at equal size the RNN is
    smallest)."""

    def params(h: int) -> int:
        return count_parameters(CharRNN(CharRNNConfig(vocab_size, kind, embed_dim, h, num_layers)))

    lo, hi = 1, 4096
    while lo < hi:  # smallest h with params(h) >= target (params grows with h)
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if params(mid) < target_params else (lo, mid)
    return (
        lo
        if abs(params(lo) - target_params) <= abs(params(max(1, lo - 1)) - target_params)
        else lo - 1
    )


def detach_state(state):
    """Cut the graph at a chunk boundary (truncated BPTT) but keep the values."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


class TBPTTLoss:
    """A ``loss_fn`` for ``course.train.fit`` that carries the recurrent state from one chunk to the
    next (the chunks must be consecutive pieces of the same streams, see :func:`stream_batches`) and
    detaches it: gradients flow back at most one chunk (truncated backpropagation through time),
    while the state remembers further."""

    def __init__(self):
        self.state = None

    def __call__(self, model: CharRNN, batch) -> torch.Tensor:
        x, y = batch[0], batch[1]
        # evaluation (course.train.evaluate): independent windows, fresh state
        if not model.training:
            logits, _ = model(x)
            return lm_loss(logits, y)
        if self.state is not None and _state_batch(self.state) != x.size(0):
            self.state = None
        logits, state = model(x, self.state)
        self.state = detach_state(state)
        return lm_loss(logits, y)


def _state_batch(state) -> int:
    return (state[0] if isinstance(state, tuple) else state).size(1)


def stream_batches(ids: torch.Tensor, batch_size: int, chunk_len: int):
    """Split a long id sequence into ``batch_size`` parallel streams and return a function giving
    their next chunk (x, y), each (batch, chunk_len), y shifted by one; it wraps around at the
    end."""
    usable = (ids.numel() - 1) // batch_size
    if usable < chunk_len:
        raise ValueError(
            f"the text is too short for {batch_size} streams of chunks of {chunk_len}: "
            "lower batch_size or chunk_len"
        )
    streams = ids[: usable * batch_size + 1]
    x_all = streams[:-1].view(batch_size, usable)
    y_all = streams[1:].view(batch_size, usable)
    position = {"t": 0}

    def next_chunk():
        t = position["t"]
        if t + chunk_len > usable:
            t = 0
        position["t"] = t + chunk_len
        return x_all[:, t : t + chunk_len], y_all[:, t : t + chunk_len]

    return next_chunk


@torch.no_grad()
def sample(
    model: CharRNN,
    start_ids: list[int],
    length: int,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> list[int]:
    """Feed ``start_ids``, then draw ``length`` ids one at a time from softmax(logits /
    temperature)."""
    if not start_ids:
        raise ValueError("sample needs at least one start id (e.g. the id of a newline)")
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    device = next(model.parameters()).device
    with eval_mode(model):
        logits, state = model(torch.tensor([start_ids], device=device))
        out = []
        for _ in range(length):
            probs = torch.softmax(logits[0, -1].float() / temperature, dim=-1).cpu()
            next_id = int(torch.multinomial(probs, 1, generator=generator))
            out.append(next_id)
            logits, state = model(torch.tensor([[next_id]], device=device), state)
    return out


def training_throughput(
    model: nn.Module, vocab_size: int, batch_size: int = 32, seq_len: int = 64, repeats: int = 5
) -> float:
    """Tokens per second of one training step (forward + backward) at this batch shape (median)."""
    device = next(model.parameters()).device
    x = torch.randint(0, vocab_size, (batch_size, seq_len), device=device)
    times = []
    for _ in range(repeats + 1):  # the first run is a warm-up
        _sync(device)
        began = time.perf_counter()
        logits = model(x)[0]
        lm_loss(logits, x).backward()
        _sync(device)
        times.append(time.perf_counter() - began)
    model.zero_grad(set_to_none=True)
    return batch_size * seq_len / sorted(times[1:])[len(times[1:]) // 2]


# -------------------------------------------------------------------- vanishing gradients, measured
def gradient_by_distance(
    model: CharRNN, x: torch.Tensor, y: torch.Tensor | None = None
) -> torch.Tensor:
    """|| d loss_T / d e_{T-k} ||, averaged over the batch, for k = 0 .. T-1.

    x: ids (batch, T). loss_T is the cross-entropy of the prediction at the last step (against
    ``y[:, -1]``, default: the model's own most likely token). e_t is the input embedding at step t.
    Returns a tensor of length T: entry k is how strongly the last prediction depends on the input
    k steps back. Bengio et al. (1994): for an RNN this shrinks geometrically in k.
    """
    with eval_mode(model):
        e = model.embed(x).detach().requires_grad_(True)  # (batch, T, embed)
        logits, _ = model.forward_embeddings(e)
        last = logits[:, -1].float()  # (batch, vocab)
        target = y[:, -1] if y is not None else last.argmax(-1)
        F.cross_entropy(last, target, reduction="sum").backward()
        norms = e.grad.norm(dim=-1).mean(0)  # (T,)
    return norms.flip(0).detach()  # entry k = distance k from the last step


# ------------------------------------------------------------------------ a long-range task: recall
def recall_batch(
    batch_size: int, distance: int, n_symbols: int = 8, generator: torch.Generator | None = None
):
    """The "remember one token" task. A sequence is ``[s, d_1 .. d_distance, ?]``: a symbol s (one
    of ``n_symbols``), ``distance`` distractors (from ``n_symbols`` other tokens), then a query
    token. The target at the query is s. Token ids: symbols 0..n-1, distractors n..2n-1, query 2n.
    Returns x (batch, distance + 2) and y (batch,). Chance accuracy is 1 / n_symbols."""
    if distance < 0:
        raise ValueError("distance must be >= 0")
    symbols = torch.randint(0, n_symbols, (batch_size, 1), generator=generator)
    distractors = torch.randint(
        n_symbols, 2 * n_symbols, (batch_size, distance), generator=generator
    )
    query = torch.full((batch_size, 1), 2 * n_symbols)
    return torch.cat([symbols, distractors, query], dim=1), symbols.squeeze(1)


class RecallNet(nn.Module):
    """Embedding -> one recurrent layer -> a classifier on the last state (for
    :func:`recall_batch`)."""

    def __init__(self, kind: str, n_symbols: int = 8, hidden_dim: int = 32):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, not {kind!r}")
        self.embed = nn.Embedding(2 * n_symbols + 1, 16)
        self.rnn = KINDS[kind](16, hidden_dim, batch_first=True)
        self.head = nn.Linear(hidden_dim, n_symbols)
        if kind == "lstm":
            _open_forget_gate(self.rnn, hidden_dim)

    def forward(self, x: torch.Tensor, every_step: bool = False) -> torch.Tensor:
        """Logits for the symbol at the last step (batch, n_symbols), or at every step (batch, time,
        n_symbols)."""
        outputs, _ = self.rnn(self.embed(x))  # (batch, time, hidden)
        return self.head(outputs if every_step else outputs[:, -1])


def train_recall(
    kind: str,
    distance: int,
    steps: int = 300,
    batch_size: int = 64,
    n_symbols: int = 8,
    hidden_dim: int = 32,
    lr: float = 1e-2,
    seed: int = 0,
) -> tuple[RecallNet, list[float]]:
    """Train a :class:`RecallNet` on :func:`recall_batch` at one distance (Adam, clipped gradients).

    The model is asked for the symbol at *every* step after it, not only at the query: the short
    distances give a learning signal from the first steps on (with a target at the query alone, all
    three cells often sit at chance for hundreds of steps, whatever they could remember). The test,
    :func:`recall_accuracy`, reads only the last step: the symbol ``distance + 1`` steps back."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = RecallNet(kind, n_symbols, hidden_dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        x, y = recall_batch(batch_size, distance, n_symbols, generator)
        # (batch, distance + 1, n_symbols): every step after s
        logits = model(x, every_step=True)[:, 1:]
        loss = F.cross_entropy(logits.reshape(-1, n_symbols), y.repeat_interleave(logits.size(1)))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return model, losses


@torch.no_grad()
def recall_accuracy(
    model: RecallNet, distance: int, n: int = 1000, n_symbols: int = 8, seed: int = 1
) -> float:
    """Accuracy on ``n`` fresh sequences (a different seed from training)."""
    x, y = recall_batch(n, distance, n_symbols, torch.Generator().manual_seed(seed))
    return (model(x).argmax(-1) == y).float().mean().item()


# -------------------------------------------------------------------------- why RNNs are sequential
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def time_forward(
    model: nn.Module, lengths: list[int], *, vocab_size: int, batch_size: int = 8, repeats: int = 3
) -> list[float]:
    """Seconds for one forward pass over random ids (batch_size, T), for each T in ``lengths``
    (median of ``repeats`` runs after a warm-up). Works for any model called as ``model(ids)``:
    notebook 06 times a Transformer with the same function."""
    device = next(model.parameters()).device
    with eval_mode(model):
        seconds = []
        for length in lengths:
            x = torch.randint(0, vocab_size, (batch_size, length), device=device)
            model(x)  # warm-up (allocations, kernel choice)
            runs = []
            for _ in range(repeats):
                _sync(device)
                began = time.perf_counter()
                model(x)
                _sync(device)
                runs.append(time.perf_counter() - began)
            seconds.append(sorted(runs)[len(runs) // 2])
    return seconds
