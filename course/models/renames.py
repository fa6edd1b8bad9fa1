"""Weights saved under a model's older parameter names still load: one load_state_dict pre-hook."""

from __future__ import annotations

from collections.abc import Callable

import torch

Renamer = Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]]


def renaming_hook(rename: Renamer):
    """A ``load_state_dict`` pre-hook that passes the keys under the module's prefix through
    ``rename(state) -> state`` (old names become today's, new names pass through), in place."""

    def hook(module, state_dict, prefix, *args) -> None:
        old = [k for k in state_dict if k.startswith(prefix)]
        new = rename({k[len(prefix) :]: state_dict[k] for k in old})
        if list(new) != [k[len(prefix) :] for k in old]:
            for k in old:
                del state_dict[k]
            state_dict.update({prefix + k: v for k, v in new.items()})

    return hook
