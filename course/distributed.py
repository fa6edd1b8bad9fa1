"""Data-parallel training across processes with PyTorch's own engine (torch.distributed + DDP).

``torchrun --nproc_per_node=N script.py`` starts N copies of the same script and tells each its
place through environment variables: ``RANK`` (0..N-1 over all machines), ``LOCAL_RANK`` (which GPU
on this machine) and ``WORLD_SIZE`` (N). Each copy holds the whole model, computes gradients on its
share of the batch, and DistributedDataParallel averages the gradients across copies during
backward (an all-reduce), so every copy takes the same optimizer step. With equal shares, the
average of the per-process mean losses equals the mean loss of the whole batch: N processes with a
global batch B train exactly like one process with batch B.

``course.train.fit`` calls :func:`setup` itself; a script only has to be launched with torchrun.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only rank 0 prints, plots and writes checkpoints."""
        return self.rank == 0


def from_environment() -> DistInfo:
    """Rank, local rank and world size as torchrun sets them (1 process when not launched by it)."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError as error:
        raise ValueError(
            f"RANK/LOCAL_RANK/WORLD_SIZE must be integers ({error}); launch with torchrun"
        ) from None
    if world > 1 and not 0 <= rank < world:
        raise ValueError(
            f"RANK={rank} is outside WORLD_SIZE={world}; launch with torchrun, which sets both"
        )
    return DistInfo(rank=rank, local_rank=local, world_size=world)


def is_launched() -> bool:
    """True when this process is one of several started by torchrun (WORLD_SIZE > 1)."""
    return from_environment().enabled


def backend_for(device: torch.device) -> str:
    """nccl between GPUs (fast, GPU-direct); gloo on the CPU."""
    return "nccl" if device.type == "cuda" else "gloo"


def setup(device: torch.device) -> tuple[DistInfo, torch.device]:
    """Join the process group when launched by torchrun; return (info, this process's device).

    On CUDA each process takes GPU ``LOCAL_RANK``. Safe to call twice; without torchrun it does
    nothing and returns the device unchanged.
    """
    info = from_environment()
    if not info.enabled:
        return info, device
    if device.type == "cuda":
        device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        if "MASTER_ADDR" not in os.environ or "MASTER_PORT" not in os.environ:
            raise RuntimeError(
                "WORLD_SIZE > 1 but MASTER_ADDR/MASTER_PORT are not set: start the script with "
                "`torchrun --nproc_per_node=N script.py` rather than setting WORLD_SIZE by hand"
            )
        dist.init_process_group(
            backend=backend_for(device), rank=info.rank, world_size=info.world_size
        )
    return info, device


def cleanup() -> None:
    """Leave the process group (call once at the end of a torchrun script)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def shard(batch, rank: int, world_size: int):
    """This rank's equal share (along dim 0) of every tensor in a global batch.

    Every rank builds the same global batch (same seed), then keeps rows
    rank*B/N .. (rank+1)*B/N - 1, so the union of shares is exactly the single-process batch.
    """
    if world_size == 1:
        return batch
    if isinstance(batch, torch.Tensor):
        size = batch.shape[0]
        if size % world_size:
            raise ValueError(
                f"a global batch of {size} rows does not split evenly over {world_size} processes; "
                f"use a batch size that is a multiple of {world_size}"
            )
        per = size // world_size
        return batch[rank * per : (rank + 1) * per]
    if isinstance(batch, (list, tuple)):
        return type(batch)(shard(b, rank, world_size) for b in batch)
    if isinstance(batch, dict):
        return {k: shard(v, rank, world_size) for k, v in batch.items()}
    return batch


def all_reduce_mean(value: float, device: torch.device) -> float:
    """The mean of a number over all processes (the value itself when running alone)."""
    if not (dist.is_available() and dist.is_initialized()):
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return float(tensor.item()) / dist.get_world_size()


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """DistributedDataParallel around ``model`` (which must already be on ``device``)."""
    from torch.nn.parallel import DistributedDataParallel

    if device.type == "cuda":
        return DistributedDataParallel(model, device_ids=[device.index])
    return DistributedDataParallel(model)
