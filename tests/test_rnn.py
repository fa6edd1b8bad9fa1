import pytest
import torch
from torch import nn

from course.models.rnn import (
    CharRNN,
    CharRNNConfig,
    TBPTTLoss,
    count_parameters,
    gradient_by_distance,
    hidden_size_for,
    recall_accuracy,
    recall_batch,
    rnn_cell,
    rnn_forward,
    sample,
    stream_batches,
    time_forward,
    train_recall,
)


def test_hand_written_rnn_equals_nn_rnn_with_the_same_weights():
    torch.manual_seed(0)
    rnn = nn.RNN(32, 64)  # time-first: input (time, batch, 32)
    x, h0 = torch.randn(7, 3, 32), torch.randn(1, 3, 64)
    expected_out, expected_h = rnn(x, h0)
    out, h = rnn_forward(
        x, h0[0], rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0
    )
    assert out.shape == (7, 3, 64) and h.shape == (3, 64)
    assert torch.allclose(out, expected_out, atol=1e-6)
    assert torch.allclose(h, expected_h[0], atol=1e-6)
    # the notebook's one-line cell, copied: the same equation
    h_t = torch.tanh(
        x[0] @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h0[0] @ rnn.weight_hh_l0.T + rnn.bias_hh_l0
    )
    assert torch.allclose(
        rnn_cell(x[0], h0[0], rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0),
        h_t,
    )


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_char_rnn_carries_state_across_chunks(kind):
    torch.manual_seed(0)
    model = CharRNN(CharRNNConfig(10, kind, 8, 16))
    x = torch.randint(0, 10, (2, 12))
    whole, _ = model(x)
    assert whole.shape == (2, 12, 10)
    first, state = model(x[:, :5])
    second, _ = model(x[:, 5:], state)
    assert torch.allclose(torch.cat([first, second], 1), whole, atol=1e-5)


def test_lstm_forget_gate_starts_open():
    model = CharRNN(CharRNNConfig(10, "lstm", 8, 16))
    assert torch.all(model.rnn.bias_ih_l0[16:32] == 1) and torch.all(
        model.rnn.bias_hh_l0[16:32] == 0
    )
    with pytest.raises(ValueError, match="kind"):
        CharRNN(CharRNNConfig(10, "transformer"))


def test_hidden_size_for_equalises_parameter_counts():
    target = 60_000
    for kind in ("rnn", "lstm", "gru"):
        h = hidden_size_for(kind, target, vocab_size=65)
        n = count_parameters(CharRNN(CharRNNConfig(65, kind, 32, h)))
        assert abs(n - target) / target < 0.03, (kind, h, n)
    assert (
        hidden_size_for("rnn", target, 65)
        > hidden_size_for("gru", target, 65)
        > hidden_size_for("lstm", target, 65)
    )


def test_stream_batches_are_consecutive_and_tbptt_carries_detached_state():
    ids = torch.arange(100)
    get = stream_batches(ids, batch_size=2, chunk_len=5)
    (x1, y1), (x2, _) = get(), get()
    assert x1[0].tolist() == [0, 1, 2, 3, 4] and y1[0].tolist() == [1, 2, 3, 4, 5]
    assert x2[0].tolist() == [5, 6, 7, 8, 9] and x2[1, 0] == 49 + 5
    torch.manual_seed(0)
    model = CharRNN(CharRNNConfig(100, "gru", 8, 16))
    loss_fn = TBPTTLoss()
    loss_fn(model, (x1, y1)).backward()
    assert loss_fn.state is not None and not loss_fn.state.requires_grad
    with pytest.raises(ValueError, match="too short"):
        stream_batches(torch.arange(10), batch_size=4, chunk_len=5)


def test_gradient_by_distance_matches_autograd_and_decays_for_an_rnn():
    torch.manual_seed(0)
    model = CharRNN(CharRNNConfig(10, "rnn", 8, 16))
    x = torch.randint(0, 10, (4, 30))
    y = torch.randint(0, 10, (4, 30))
    norms = gradient_by_distance(model, x, y)
    assert norms.shape == (30,)
    e = model.embed(x).detach().requires_grad_(True)
    logits, _ = model.forward_embeddings(e)
    torch.nn.functional.cross_entropy(logits[:, -1], y[:, -1], reduction="sum").backward()
    assert torch.allclose(norms[3], e.grad[:, -4].norm(dim=-1).mean(), atol=1e-6)
    assert norms[25:].mean() < 0.01 * norms[:3].mean()  # geometric decay at small random weights


def test_recall_task_and_a_gru_that_learns_it():
    x, y = recall_batch(5, distance=4, n_symbols=8, generator=torch.Generator().manual_seed(0))
    assert x.shape == (5, 6) and torch.equal(x[:, 0], y)
    assert torch.all((x[:, 1:5] >= 8) & (x[:, 1:5] < 16)) and torch.all(x[:, -1] == 16)
    model, losses = train_recall("gru", distance=3, steps=150, seed=0)
    assert recall_accuracy(model, 3) > 0.9
    assert losses[-1] < losses[0]


def test_sample_and_time_forward():
    torch.manual_seed(0)
    model = CharRNN(CharRNNConfig(10, "gru", 8, 16))
    a = sample(model, [1, 2], 20, generator=torch.Generator().manual_seed(0))
    b = sample(model, [1, 2], 20, generator=torch.Generator().manual_seed(0))
    assert a == b and len(a) == 20 and all(0 <= i < 10 for i in a)
    with pytest.raises(ValueError, match="start id"):
        sample(model, [], 5)
    seconds = time_forward(model, [4, 8], vocab_size=10, batch_size=2, repeats=1)
    assert len(seconds) == 2 and all(s > 0 for s in seconds)
