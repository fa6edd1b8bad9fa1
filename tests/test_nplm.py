"""Bengio et al. (2003) NPLM: shapes, the paper's equation written out by hand, a gradient check,
windows."""

import math

import pytest
import torch

from course.models.nplm import NPLM, NPLMConfig, context_windows, generate, token_log_probs


def test_shapes_and_bad_input():
    model = NPLM(NPLMConfig(vocab_size=11, context_size=3, embed_dim=4, hidden_dim=5, direct=True))
    assert model(torch.zeros(7, 3, dtype=torch.long)).shape == (7, 11)
    with pytest.raises(ValueError, match=r"\(batch, 3\)"):
        model(torch.zeros(7, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="embed_dim"):
        NPLMConfig(vocab_size=11, embed_dim=0)
    n_params = sum(p.numel() for p in model.parameters())
    # C: V·m, H: h·(n-1)m + h, U: V·h + V, W: V·(n-1)m
    assert n_params == 11 * 4 + (5 * 12 + 5) + (11 * 5 + 11) + 11 * 12


@pytest.mark.parametrize("direct", [False, True])
def test_matches_the_papers_equation(direct):
    # the notebook's plain-tensor construction: y = b + W x + U tanh(d + H x)
    torch.manual_seed(0)
    model = NPLM(
        NPLMConfig(vocab_size=9, context_size=2, embed_dim=3, hidden_dim=4, direct=direct)
    ).eval()
    context = torch.tensor([[1, 2], [8, 0]])
    C, H, d = model.C.weight, model.H.weight, model.H.bias
    U, b = model.U.weight, model.U.bias
    x = torch.cat([C[context[:, 0]], C[context[:, 1]]], dim=1)  # (2, 6)
    y = b + torch.tanh(d + x @ H.T) @ U.T
    if direct:
        y = y + x @ model.W.weight.T
    assert torch.allclose(model(context), y, atol=1e-6)


def test_gradient_check():
    torch.manual_seed(0)
    model = NPLM(
        NPLMConfig(vocab_size=6, context_size=2, embed_dim=3, hidden_dim=4, direct=True)
    ).double()
    context, target = torch.tensor([[1, 2], [3, 5], [0, 0]]), torch.tensor([4, 0, 1])

    # finite differences on the functional form of every parameter
    def functional(C, Hw, Hb, Uw, Ub, Ww):
        x = C[context].flatten(1)
        y = Ub + torch.tanh(Hb + x @ Hw.T) @ Uw.T + x @ Ww.T
        return torch.nn.functional.cross_entropy(y, target)

    weights = tuple(
        p.detach().clone().requires_grad_(True)
        for p in (
            model.C.weight,
            model.H.weight,
            model.H.bias,
            model.U.weight,
            model.U.bias,
            model.W.weight,
        )
    )
    assert torch.autograd.gradcheck(functional, weights)
    # and the module's autograd gradients equal the functional ones
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(context), target).backward()
    reference = torch.autograd.grad(functional(*weights), weights)
    for p, g in zip(
        (
            model.C.weight,
            model.H.weight,
            model.H.bias,
            model.U.weight,
            model.U.bias,
            model.W.weight,
        ),
        reference,
    ):
        assert torch.allclose(p.grad, g)


def test_context_windows():
    X, Y = context_windows(torch.arange(6), 2)
    assert X.tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]] and Y.tolist() == [2, 3, 4, 5]
    X, Y = context_windows(torch.arange(6), 2, start=4)
    assert X.tolist() == [[2, 3], [3, 4]] and Y.tolist() == [4, 5]
    with pytest.raises(ValueError, match="before the first full context"):
        context_windows(torch.arange(6), 3, start=1)


def test_log_probs_training_and_generation():
    torch.manual_seed(0)
    stream = torch.tensor([0, 1, 2, 3] * 50)  # a perfectly predictable cycle
    model = NPLM(NPLMConfig(vocab_size=4, context_size=2, embed_dim=4, hidden_dim=16))
    before = -token_log_probs(model, stream).mean().item()
    assert before == pytest.approx(math.log(4), abs=0.1)  # untrained: close to uniform
    X, Y = context_windows(stream, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(100):
        loss = torch.nn.functional.cross_entropy(model(X), Y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert -token_log_probs(model, stream).mean().item() < 0.05
    assert generate(model, [0, 1], 6, torch.Generator().manual_seed(0)) == [2, 3, 0, 1, 2, 3]
    assert generate(model, [0, 1], 6, torch.Generator().manual_seed(0), stop=0) == [2, 3]
