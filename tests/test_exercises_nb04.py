import torch
from test_exercises import wrong, wrong_answers_fail

from course.exercises import nb04 as check


def lstm_wrong_order(x, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, o, g = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, -1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new


def gru_swapped(x, h, W_ih, W_hh, b_ih, b_hh):
    i_r, i_z, i_n = (x @ W_ih.T + b_ih).chunk(3, -1)
    h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, -1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    return z * torch.tanh(i_n + r * h_n) + (1 - z) * h


test_wrong_answers_fail_with_a_hint = wrong_answers_fail(
    wrong(check.lstm_cell, lstm_wrong_order, "reads the gates as i, f, o, g"),
    wrong(check.gru_cell, gru_swapped, "swaps z and 1 - z"),
)
