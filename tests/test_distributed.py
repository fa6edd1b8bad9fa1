"""Data-parallel training: 2 CPU processes under torchrun (gloo) train exactly like 1 process."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from course import checkpoint as ckpt
from course import distributed

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import json, sys
    import torch
    from course import distributed
    from course.models.modern import ModernConfig, ModernGPT
    from course.train import TrainConfig, fit

    torch.set_num_threads(1)
    torch.manual_seed(0)  # same seed in every process: same initial weights, same global batches
    out = sys.argv[1]
    config = ModernConfig.llama_style(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
    model = ModernGPT(config)

    def batches():  # the GLOBAL batch: 8 rows; under 2 processes each trains on 4 of them
        x = (torch.randint(0, 11, (8, 1)) + torch.arange(9)) % 11  # counting mod 11: learnable
        return x[:, :-1], x[:, 1:]

    history = fit(
        model, batches, val_batches=batches, device="cpu", progress=False, checkpoint_dir=out,
        config=TrainConfig(steps=12, lr=1e-2, eval_every=5, eval_batches=2, weight_decay=0.1),
    )
    info = distributed.from_environment()
    if info.is_main:
        with open(out + ".json", "w") as f:
            json.dump({"train": history.train_loss, "val": history.val_loss,
                       "tokens": history.tokens, "world": history.world_size}, f)
    print(f"rank {info.rank} done")
    distributed.cleanup()
""")


@pytest.mark.slow
def test_two_processes_under_torchrun_match_one_process_with_the_same_global_batch(tmp_path):
    single = tmp_path / "single"
    stdout1 = _run_with([str(single)], [], tmp_path)  # one process, plain python
    # two processes, gloo backend, launched exactly as a user would
    double = tmp_path / "double"
    stdout2 = _run_with(
        [str(double)],
        ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"],
        tmp_path,
    )
    assert "rank 0 done" in stdout2 and "rank 1 done" in stdout2
    assert stdout2.count("tokens/s on 2 x cpu") == 1  # only rank 0 prints the summary
    one, two = (
        json.loads(Path(f"{single}.json").read_text()),
        json.loads(Path(f"{double}.json").read_text()),
    )
    assert one["tokens"] == two["tokens"] == 12 * 8 * 8 and two["world"] == 2 and one["world"] == 1
    assert one["train"] == pytest.approx(two["train"], abs=1e-5)
    assert one["val"] == pytest.approx(two["val"], abs=1e-5)
    assert one["train"][-1] < one["train"][0]  # it did train
    w1, w2 = load_file(ckpt.weights_path(single)), load_file(ckpt.weights_path(double))
    assert w1.keys() == w2.keys()
    for name in w1:
        torch.testing.assert_close(w1[name], w2[name], atol=2e-5, rtol=1e-4, msg=name)
    assert "rank 0 done" in stdout1


def _run_with(script_args, launcher, tmp_path):
    script = tmp_path / "train_tiny.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "COURSE_DEVICE"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, *launcher, str(script), *script_args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_shard_splits_every_tensor_of_the_global_batch_evenly():
    x, y = torch.arange(12).view(6, 2), torch.arange(6)
    parts = [distributed.shard((x, y), rank, 3) for rank in range(3)]
    torch.testing.assert_close(torch.cat([p[0] for p in parts]), x)
    torch.testing.assert_close(torch.cat([p[1] for p in parts]), y)
    assert parts[1][0].tolist() == [[4, 5], [6, 7]]
    assert distributed.shard({"ids": x}, 0, 2)["ids"].shape == (3, 2)
    with pytest.raises(ValueError, match="multiple of 4"):
        distributed.shard(x, 0, 4)


def test_environment_is_read_as_torchrun_sets_it(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert distributed.from_environment() == distributed.DistInfo(0, 0, 1)
    assert not distributed.is_launched()
    info, device = distributed.setup(torch.device("cpu"))  # alone: nothing to join
    assert not info.enabled and device.type == "cpu"
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    info = distributed.from_environment()
    assert (info.rank, info.local_rank, info.world_size, info.is_main) == (3, 1, 4, False)
    assert distributed.backend_for(torch.device("cpu")) == "gloo"
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.delenv("MASTER_PORT", raising=False)
    with pytest.raises(RuntimeError, match="torchrun --nproc_per_node"):
        distributed.setup(torch.device("cpu"))
