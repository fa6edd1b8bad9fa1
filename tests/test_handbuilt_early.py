"""The hand-written training loops and gradients of notebooks 01, 03 and 04, copied here so that the
lessons and the package (or torch) cannot drift apart. Keep each copy equal to its notebook cell."""

from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from course.models import ngram
from course.models.nplm import NPLM, NPLMConfig
from course.models.rnn import rnn_forward


# ----------------------------------------------------------------------------- notebook 01
def train_bigram_net(N, steps, penalty=0.0, lr=0.5):  # as in notebook 01, cell "bigram-net-code"
    V = N.size(0)
    W = torch.zeros(V, V, requires_grad=True)
    optimizer = torch.optim.Adam([W], lr=lr)
    for _ in range(steps):
        log_p = torch.log_softmax(W, dim=1)
        nll = -(N * log_p).sum() / N.sum()
        loss = nll + penalty * (W**2).sum() / V
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return W.detach(), nll.item()


def test_bigram_net_recovers_the_counts_and_its_loss_is_the_mean_over_tokens():
    tokens = [0, 1, 2, 1, 0, 1, 2, 2, 0, 1, 1, 2, 0, 3, 1]
    V = 4
    N = torch.zeros(V, V)
    for (h, w), c in Counter(zip(tokens, tokens[1:])).items():
        N[h, w] = c
    # the count-weighted loss equals the plain mean over every training bigram
    W = torch.randn(V, V, generator=torch.Generator().manual_seed(0))
    log_p = torch.log_softmax(W, 1)
    weighted = -(N * log_p).sum() / N.sum()
    per_token = -log_p[torch.tensor(tokens[:-1]), torch.tensor(tokens[1:])].mean()
    assert weighted.item() == pytest.approx(per_token.item(), abs=1e-6)
    # gradient descent reaches the counts, which the package's unsmoothed model holds
    W_net, _ = train_bigram_net(N, 300)
    mle = ngram.MLE(tokens, 2, V)
    for h in range(V):
        for w in range(V):
            assert torch.softmax(W_net, 1)[h, w].item() == pytest.approx(mle.prob(w, [h]), abs=0.02)
    # a penalty pulls every row towards uniform
    W_reg, _ = train_bigram_net(N, 300, penalty=1.0)
    assert torch.softmax(W_reg, 1).std(1).mean() < torch.softmax(W_net, 1).std(1).mean()


# ----------------------------------------------------------------------------- notebook 03
def test_nplm_backward_by_hand_equals_the_package_autograd():
    torch.manual_seed(0)
    V, m, h, n_context = 10, 4, 8, 3
    C = torch.randn(V, m)
    H, d = torch.randn(h, n_context * m) * 0.3, torch.randn(h) * 0.1
    U, b = torch.randn(V, h) * 0.3, torch.randn(V) * 0.1
    context = torch.tensor([[1, 5, 2], [7, 7, 0]])
    x = C[context].reshape(len(context), n_context * m)
    # as in notebook 03, cell "nplm-bw-code"
    targets = torch.tensor([3, 9])
    B = len(context)
    z = torch.tanh(d + x @ H.T)
    p = torch.softmax(b + z @ U.T, dim=-1)
    dy = (p - F.one_hot(targets, V)) / B
    dU, db = dy.T @ z, dy.sum(0)
    da = (dy @ U) * (1 - z**2)
    dH, dd = da.T @ x, da.sum(0)
    dx = da @ H
    dC = torch.zeros_like(C).index_add_(0, context.flatten(), dx.reshape(-1, m))
    # the package's module, same weights, autograd
    model = NPLM(NPLMConfig(vocab_size=V, context_size=n_context, embed_dim=m, hidden_dim=h))
    with torch.no_grad():
        model.C.weight.copy_(C)
        model.H.weight.copy_(H)
        model.H.bias.copy_(d)
        model.U.weight.copy_(U)
        model.U.bias.copy_(b)
    F.cross_entropy(model(context), targets).backward()
    for mine, grad in [
        (dC, model.C.weight.grad),
        (dH, model.H.weight.grad),
        (dd, model.H.bias.grad),
        (dU, model.U.weight.grad),
        (db, model.U.bias.grad),
    ]:
        assert torch.allclose(mine, grad, atol=1e-6)


# ----------------------------------------------------------------------------- notebook 04
def test_bptt_by_hand_equals_autograd_through_the_package_loop_and_nn_rnn():
    torch.manual_seed(0)
    input_size, hidden_size, steps, batch_size, vocab_size = 32, 64, 5, 3, 65
    W_ih, W_hh = (
        torch.randn(hidden_size, input_size) * 0.1,
        torch.randn(hidden_size, hidden_size) * 0.1,
    )
    b_ih, b_hh = torch.zeros(hidden_size), torch.zeros(hidden_size)
    x = torch.randn(steps, batch_size, input_size)

    def rnn_step(x_t, h_prev):
        return torch.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)

    # as in notebook 04, cell "bptt-code"
    W_hy = torch.randn(vocab_size, hidden_size) * 0.1
    targets = torch.randint(vocab_size, (steps, batch_size))
    hs = [torch.zeros(batch_size, hidden_size)]
    for x_t in x:
        hs.append(rnn_step(x_t, hs[-1]))
    logits = torch.stack(hs[1:]) @ W_hy.T
    dlogits = (logits.softmax(-1) - F.one_hot(targets, vocab_size)) / (steps * batch_size)
    dW_ih, dW_hh, db = torch.zeros_like(W_ih), torch.zeros_like(W_hh), torch.zeros(hidden_size)
    from_future = torch.zeros(batch_size, hidden_size)
    for t in reversed(range(steps)):
        delta = dlogits[t] @ W_hy + from_future
        da = delta * (1 - hs[t + 1] ** 2)
        dW_ih += da.T @ x[t]
        dW_hh += da.T @ hs[t]
        db += da.sum(0)
        from_future = da @ W_hh

    leaves = [w.clone().requires_grad_() for w in (W_ih, W_hh, b_ih)]
    outputs, _ = rnn_forward(
        x, torch.zeros(batch_size, hidden_size), leaves[0], leaves[1], leaves[2], b_hh
    )
    F.cross_entropy((outputs @ W_hy.T).reshape(-1, vocab_size), targets.reshape(-1)).backward()
    for mine, leaf in zip([dW_ih, dW_hh, db], leaves):
        assert torch.allclose(mine, leaf.grad, atol=1e-7)
    # nn.RNN with the same weights gets the same gradients (its two biases each get db)
    rnn = torch.nn.RNN(input_size, hidden_size)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(W_ih)
        rnn.weight_hh_l0.copy_(W_hh)
        rnn.bias_ih_l0.copy_(b_ih)
        rnn.bias_hh_l0.copy_(b_hh)
    out, _ = rnn(x, torch.zeros(1, batch_size, hidden_size))
    F.cross_entropy((out @ W_hy.T).reshape(-1, vocab_size), targets.reshape(-1)).backward()
    assert torch.allclose(rnn.weight_hh_l0.grad, dW_hh, atol=1e-7)
    assert torch.allclose(rnn.bias_hh_l0.grad, db, atol=1e-7)


def clip_by_hand(grads, max_norm):  # as in notebook 04, cell "clip-code"
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    scale = min(1.0, max_norm / (total.item() + 1e-6))
    return [g * scale for g in grads], total


@pytest.mark.parametrize("max_norm", [0.5, 1.0, 1e6])
def test_clipping_by_hand_equals_clip_grad_norm(max_norm):
    params = [torch.randn(4, 3, requires_grad=True), torch.randn(5, requires_grad=True)]
    (sum((p**3).sum() for p in params) * 10).backward()
    clipped, total = clip_by_hand([p.grad for p in params], max_norm)
    reported = torch.nn.utils.clip_grad_norm_(params, max_norm)
    assert torch.allclose(total, reported)
    for mine, p in zip(clipped, params):
        assert torch.allclose(mine, p.grad)
