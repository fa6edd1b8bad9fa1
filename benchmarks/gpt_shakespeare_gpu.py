"""Time to val loss <= 1.47 on a GPU, at nanoGPT's shakespeare_char configuration.

The configuration (nanoGPT's config/train_shakespeare_char.py): character-level Tiny Shakespeare,
6 layers, 6 heads, 384-dim embeddings, context 256, batch 64, dropout 0.2, lr 1e-3 with 100 warmup
steps and cosine decay to 1e-4 over 5,000 iterations, AdamW (beta2 0.99, weight decay 0.1), gradient
clipping 1.0, bf16 autocast, torch.compile, evaluation every 250 iterations on 200 batches.
nanoGPT reports about 3 minutes on one A100 for this run, ending near val loss 1.47.

Both trainers of ``gpt_baby.py`` run here one after the other on the same GPU: the nanoGPT-style
reference and the course GPT. The clock starts before the first step (so torch.compile's warm-up
counts, as it does for nanoGPT's 3 minutes) and includes every evaluation; the first evaluation at
or under the target stops the clock. Prints, never asserts:

Measured 2026-11-23 on one H100 80GB HBM3 (torch 2.11.0+cu130), both trainers at the configuration
above:
* course GPT: val loss 1.4643 at step 1750, 34.9 s from the start (first evaluation at 16.5 s, which
  includes compilation), 15.4 ms/step averaged over all steps, 1.64 GiB peak.
* nanoGPT-style reference: best val loss 1.4756 (step 2250, 74 s) - it never reached 1.47 in 5,000
  steps, and from step 2500 it overfits (1.71 at step 5000); 16.1 ms/step. Its first evaluation came
  at 41.5 s: it ran first, so it paid the compiler's one-time start-up (imports, worker processes)
  that our run then found ready; the fair comparison is therefore per step (15.4 vs 16.1 ms), and
  the honest headline is ours reaching 1.47 in 35 s on an H100 against nanoGPT's ~3 minutes on an
  A100 (different GPUs).

    python benchmarks/gpt_shakespeare_gpu.py         # both trainers, nanoGPT's configuration
    python benchmarks/gpt_shakespeare_gpu.py --only ours --set lr=2e-3   # a recipe variant
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace

import torch

sys.path.insert(0, os.path.dirname(__file__))

from gpt_baby import OurTrainer, RefTrainer, Setup, shakespeare  # noqa: E402

SHAKESPEARE_CHAR = Setup(
    batch_size=64,
    block_size=256,
    n_layer=6,
    n_head=6,
    n_embd=384,
    bias=False,
    iters=5000,
    lr=1e-3,
    min_lr=1e-4,
    warmup=100,
    weight_decay=0.1,
    beta2=0.99,
    eval_interval=250,
    eval_iters=200,
    compile=True,
    dropout=0.2,
    device="cuda",
)


def time_to_target(trainer_cls, s: Setup, target: float) -> dict:
    tok, train, val = shakespeare()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    trainer = trainer_cls(s, tok.vocab_size, train, val)
    reached, curve, step_seconds = None, [], 0.0
    while trainer.it < s.iters:
        t1 = time.perf_counter()
        for _ in range(s.eval_interval):
            trainer.step()
        torch.cuda.synchronize()
        step_seconds += time.perf_counter() - t1
        v = trainer.val_loss()
        elapsed = time.perf_counter() - t0
        curve.append((trainer.it, round(elapsed, 1), round(v, 4)))
        print(
            f"  {trainer.name:<24} step {trainer.it:5d}  {elapsed:6.1f} s  val {v:.4f}", flush=True
        )
        if v <= target and reached is None:
            reached = dict(step=trainer.it, seconds=elapsed)
            break
    return dict(
        name=trainer.name,
        reached=reached,
        curve=curve,
        ms_per_step=1000 * step_seconds / trainer.it,  # first interval includes compilation
        peak_gib=torch.cuda.max_memory_allocated() / 2**30,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--target", type=float, default=1.47)
    parser.add_argument("--only", choices=["ref", "ours"], default=None)
    parser.add_argument(
        "--set", nargs="*", default=[], help="overrides for our trainer, e.g. lr=2e-3"
    )
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("NOT MEASURED: this benchmark needs a CUDA GPU")
        return
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    overrides = {
        k: type(getattr(SHAKESPEARE_CHAR, k))(v) for k, v in (kv.split("=") for kv in args.set)
    }
    runs = {
        "ref": (RefTrainer, SHAKESPEARE_CHAR),
        "ours": (OurTrainer, replace(SHAKESPEARE_CHAR, **overrides)),
    }
    results = {}
    for key, (cls, s) in runs.items():
        if args.only and key != args.only:
            continue
        torch.manual_seed(1337)
        torch.cuda.reset_peak_memory_stats()
        results[key] = time_to_target(cls, s, args.target)
    print(
        f"\nnanoGPT shakespeare_char on {torch.cuda.get_device_name()}, torch {torch.__version__}, "
        f"target val loss <= {args.target}" + (f", our overrides {overrides}" if overrides else "")
    )
    print(f"{'trainer':<26}{'ms/step':>9}{'reached at step':>17}{'seconds':>9}{'peak GiB':>10}")
    for r in results.values():
        hit = r["reached"]
        print(
            f"{r['name']:<26}{r['ms_per_step']:>9.1f}{hit['step'] if hit else 'never':>17}"
            f"{hit['seconds'] if hit else float('nan'):>9.1f}{r['peak_gib']:>10.2f}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
