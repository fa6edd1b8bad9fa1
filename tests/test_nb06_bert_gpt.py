"""Notebook 06, section 9: the masked-LM encoder and the causal decoder the learner builds.

The definitions are read from the notebook itself (by cell id), as in test_handbuilt_models.py, so
a change to the notebook that breaks what the section teaches fails here.
"""

import ast
import json
import math
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from course.models.attention import causal_mask
from course.models.transformer import sinusoidal_positions

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06_transformer.ipynb"


def definitions(*cell_ids: str) -> dict:
    """Execute only the imports, classes and functions of the given cells; return the namespace."""
    cells = {c.get("id"): c for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]}
    namespace = {
        "math": math,
        "torch": torch,
        "nn": nn,
        "F": F,
        "causal_mask": causal_mask,
        "sinusoidal_positions": sinusoidal_positions,
        "MASK": 0,
        "vocab_size": 20,
    }
    for cell_id in cell_ids:
        source = cells[cell_id]["source"]
        tree = ast.parse(source if isinstance(source, str) else "".join(source))
        keep = [
            node
            for node in tree.body
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.Import, ast.ImportFrom))
        ]
        exec(compile(ast.Module(body=keep, type_ignores=[]), cell_id, "exec"), namespace)
    return namespace


def test_the_two_models_differ_only_in_what_they_see():
    ns = definitions("bert-gpt-class")
    torch.manual_seed(0)
    encoder = ns["TinyLM"](causal=False, vocab_size=20, d_model=16, n_heads=2, block_size=8).eval()
    torch.manual_seed(0)
    decoder = ns["TinyLM"](causal=True, vocab_size=20, d_model=16, n_heads=2, block_size=8).eval()
    assert sum(p.numel() for p in encoder.parameters()) == sum(
        p.numel() for p in decoder.parameters()
    )
    ids = torch.tensor([[3, 4, 5, 6, 7, 8, 9, 10]])
    later_changed = ids.clone()
    later_changed[0, 5:] = 1
    with torch.no_grad():
        # the decoder's first five outputs ignore what comes after them; the encoder's do not
        torch.testing.assert_close(decoder(ids)[0, :5], decoder(later_changed)[0, :5])
        assert not torch.allclose(encoder(ids)[0, :5], encoder(later_changed)[0, :5], atol=1e-4)
        # the same weights fit both (same names and shapes): one network, with or without the mask;
        # on one token there is nothing to hide, so they agree
        decoder.load_state_dict(encoder.state_dict())
        torch.testing.assert_close(decoder(ids[:, :1]), encoder(ids[:, :1]))


def test_mask_tokens_follows_berts_rule():
    ns = definitions("bert-gpt-mask-fn")
    x = torch.randint(1, 20, (200, 100), generator=torch.Generator().manual_seed(0))
    corrupted, labels = ns["mask_tokens"](x, generator=torch.Generator().manual_seed(1))
    chosen = labels != -100
    assert torch.equal(labels[chosen], x[chosen])  # a chosen position asks for the original token
    assert torch.equal(corrupted[~chosen], x[~chosen])  # the others are untouched
    assert abs(chosen.float().mean().item() - 0.15) < 0.01
    masked = (corrupted[chosen] == 0).float().mean().item()
    unchanged = (corrupted[chosen] == x[chosen]).float().mean().item()
    assert abs(masked - 0.8) < 0.03 and 0.08 < unchanged < 0.16  # random swaps may hit the same id
