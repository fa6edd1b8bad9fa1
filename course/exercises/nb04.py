"""Checks for the exercises of notebook 04 (recurrent networks)."""

from __future__ import annotations

import torch
from torch import nn

from course.exercises import exercise


def _weights(cell):
    return (
        cell.weight_ih.detach(),
        cell.weight_hh.detach(),
        cell.bias_ih.detach(),
        cell.bias_hh.detach(),
    )


def lstm_cell(fn) -> bool:
    """``fn(x, h, c, W_ih, W_hh, b_ih, b_hh) -> (h_new, c_new)``, as ``nn.LSTMCell`` computes it."""
    with exercise("lstm_cell") as ex:
        torch.manual_seed(0)
        cell = nn.LSTMCell(5, 3)
        x, h, c = torch.randn(2, 5), torch.randn(2, 3), torch.randn(2, 3)
        got = ex.call(fn, x, h, c, *_weights(cell))
        ex.expect(isinstance(got, tuple) and len(got) == 2, "return a pair (h_new, c_new)")
        h_new, c_new = got
        with torch.no_grad():
            want_h, want_c = cell(x, (h, c))
        ex.expect(
            h_new.shape == (2, 3) and c_new.shape == (2, 3),
            "both states have shape (batch, hidden) = (2, 3)",
        )
        ex.expect(
            torch.allclose(c_new, want_c, atol=1e-5),
            "c_new = f * c + i * g, with the gates i, f, o = sigmoid(...) and g = tanh(...) taken "
            "from the four blocks of x W_ih^T + b_ih + h W_hh^T + b_hh in the order i, f, g, o",
        )
        ex.expect(torch.allclose(h_new, want_h, atol=1e-5), "h_new = o * tanh(c_new)")
    return ex.passed


def gru_cell(fn) -> bool:
    """``fn(x, h, W_ih, W_hh, b_ih, b_hh) -> h_new``, as ``nn.GRUCell`` computes it."""
    with exercise("gru_cell") as ex:
        torch.manual_seed(1)
        cell = nn.GRUCell(4, 3)
        x, h = torch.randn(2, 4), torch.randn(2, 3)
        got = ex.call(fn, x, h, *_weights(cell))
        ex.expect(
            isinstance(got, torch.Tensor) and got.shape == (2, 3),
            "return h_new with shape (batch, hidden) = (2, 3)",
        )
        with torch.no_grad():
            want = cell(x, h)
        gi, gh = x @ cell.weight_ih.T + cell.bias_ih, h @ cell.weight_hh.T + cell.bias_hh
        r, z = torch.sigmoid(gi[:, :3] + gh[:, :3]), torch.sigmoid(gi[:, 3:6] + gh[:, 3:6])
        swapped = z * torch.tanh(gi[:, 6:] + r * gh[:, 6:]) + (1 - z) * h
        ex.expect(
            not torch.allclose(got, swapped.detach(), atol=1e-5),
            "z is the share of the OLD state kept: h_new = (1 - z) * n + z * h, not the other way "
            "round",
        )
        ex.expect(
            torch.allclose(got, want, atol=1e-5),
            "blocks r, z, n in that order; n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)): "
            "the reset gate multiplies the whole hidden part, bias included",
        )
    return ex.passed
