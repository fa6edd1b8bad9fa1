import torch
from test_exercises import wrong, wrong_answers_fail

from course.exercises import nb03 as check
from course.exercises.solutions import nb03 as solution
from course.models.nplm import NPLM, NPLMConfig


def test_solution_agrees_with_the_package():
    torch.manual_seed(0)
    model = NPLM(NPLMConfig(vocab_size=8, context_size=3, embed_dim=2, hidden_dim=5)).eval()
    context = torch.tensor([[1, 2, 3], [7, 0, 7]])
    by_hand = solution.nplm_forward(
        context, model.C.weight, model.H.weight, model.H.bias, model.U.weight, model.U.bias
    )
    assert torch.allclose(by_hand, model(context), atol=1e-6)


def no_end(name, k, stoi):
    X, Y = solution.name_windows(name, k, stoi)
    return X[:-1], Y[:-1]


test_wrong_answers_fail_with_a_hint = wrong_answers_fail(
    wrong(
        check.nplm_forward,
        lambda ctx, C, H, d, U, b: b + torch.tanh(d + C[ctx].sum(1) @ H[:, : C.shape[1]].T) @ U.T,
        "sums the context vectors instead of concatenating them (CBOW, not the NPLM)",
    ),
    wrong(
        check.mixture_perplexity,
        lambda a, b, w: torch.exp(-(w * a + (1 - w) * b).mean()),
        "mixes log-probabilities",
    ),
    wrong(check.name_windows, no_end, "forgets the end marker"),
)
