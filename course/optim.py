"""Muon for a transformer's hidden matrices, AdamW for everything else, stepped as one optimizer.

Muon (Keller Jordan, 2024) takes SGD-momentum's update for a weight matrix and replaces it by the
nearest orthogonal matrix (a few Newton-Schulz iterations), so that every direction of the matrix
moves by the same amount instead of the few that dominate the gradient. It only makes sense for 2-D
weights inside the blocks; embeddings, the output head and the 1-D gains keep AdamW, as in the
modded-nanoGPT speed runs and Moonshot's "Muon is scalable for LLM training" (2025), whose learning-
rate adjustment (``adjust_lr_fn="match_rms_adamw"``) lets both share one learning rate and schedule.

Measured on this course's 2-core CPU (``python benchmarks/gpt_baby.py recipe``): at equal wall time
it cut nanoGPT's "baby" Shakespeare model's validation loss after 91 s from 1.66 (AdamW) to 1.56
(bf16, 1 thread)."""

from __future__ import annotations

import torch


class MuonAdamW:
    """torch.optim.Muon over ``hidden`` matrices plus AdamW over the other trainable parameters.

    Quacks like one optimizer for ``course.train.fit``: ``param_groups`` (the schedule sets every
    group's ``lr``), ``step``, ``zero_grad``, ``state_dict`` / ``load_state_dict`` for checkpoints.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        lr: float,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.99),
        fused: bool | None = None,
    ):
        if not hasattr(torch.optim, "Muon"):
            raise RuntimeError(
                f"Muon needs torch >= 2.9 (this is {torch.__version__}); "
                "use optimizer='adamw' or upgrade torch"
            )
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        hidden = [p for n, p in named if is_hidden_matrix(n, p)]
        if not hidden:
            raise ValueError(
                "no hidden weight matrices (2-D parameters inside a 'blocks' or 'h' module) to "
                "give Muon"
            )
        hidden_ids = {id(p) for p in hidden}
        rest = [p for _, p in named if id(p) not in hidden_ids]
        self.optimizers = [
            torch.optim.AdamW(decay_groups(rest, weight_decay), lr=lr, betas=betas, fused=fused),
            torch.optim.Muon(
                hidden, lr=lr, weight_decay=weight_decay, adjust_lr_fn="match_rms_adamw"
            ),
        ]

    @property
    def param_groups(self) -> list[dict]:
        return [g for o in self.optimizers for g in o.param_groups]

    def step(self) -> None:
        for o in self.optimizers:
            o.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        for o in self.optimizers:
            o.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict:
        return {"adamw": self.optimizers[0].state_dict(), "muon": self.optimizers[1].state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if set(state) != {"adamw", "muon"}:
            raise ValueError(
                "this optimizer state is not a MuonAdamW one (was the run trained with AdamW?); "
                "resume with the same TrainConfig.optimizer it was saved with"
            )
        self.optimizers[0].load_state_dict(state["adamw"])
        self.optimizers[1].load_state_dict(state["muon"])


def decay_groups(params, weight_decay: float) -> list[dict]:
    """Two parameter groups: matrices decay, 1-D biases and norm gains do not (GPT-2's and nanoGPT's
    rule)."""
    params = list(params)
    return [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]


def is_hidden_matrix(name: str, param: torch.Tensor) -> bool:
    """A 2-D weight inside a transformer block: the course's models keep their blocks in 'blocks'
    (nanoGPT: 'h'), possibly under a wrapper such as a reward model's 'backbone.blocks.0...'."""
    return param.dim() == 2 and bool({"blocks", "h"} & set(name.split(".")[:-1]))
