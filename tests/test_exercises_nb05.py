import torch

from course.exercises import nb05 as check


def test_wrong_answers_fail_with_a_hint(capsys):
    def no_mask(query, keys, mask, W, U, b, v):
        return torch.softmax((torch.tanh((query @ W.T).unsqueeze(1) + keys @ U.T + b) @ v.T).squeeze(-1), -1)

    def per_beam_best(scores, logp, k):  # ranks words by log p alone, forgetting the beam's score
        best, index = logp.flatten().topk(k)
        return index // logp.size(1), index % logp.size(1), best

    assert not check.additive_attention(no_mask)
    assert not check.beam_step(per_beam_best)
    assert "Hint" in capsys.readouterr().out


def test_the_notebook_stubs_say_not_attempted_yet(capsys):
    # the stub cells return `...`: an untouched exercise must say "not attempted yet", not fail
    import json
    from pathlib import Path
    path = next((Path(__file__).parent.parent / "notebooks").glob("05_*.ipynb"))
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    # each stub is an answer cell followed by its check cell (course.grading splits them for nbgrader)
    pairs = [(cell, after) for cell, after in zip(cells, cells[1:])
             if cell["cell_type"] == "code" and "return ...  # your code here" in "".join(cell["source"])]
    assert len(pairs) == 2
    for stub, check_cell in pairs:
        namespace = {"check": check}
        exec("".join(stub["source"]), namespace)
        exec("".join(check_cell["source"]), namespace)
    out = capsys.readouterr().out
    assert out.count("not attempted yet") == 2 and "Hint" not in out
