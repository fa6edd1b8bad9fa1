"""Training throughput and MFU of a GPT-2-small-shaped model, through course.train.fit.

    python benchmarks/gpu_throughput.py                 # CPU figure at a small shape; GPU figure if
    CUDA is present python benchmarks/gpu_throughput.py --compile       # add torch.compile on the
    GPU torchrun --nproc_per_node=8 benchmarks/gpu_throughput.py   # data-parallel: per-GPU batch x
    8

GPU shape: 12 layers, 12 heads, 768 dims, context 1024, vocabulary 50304 (GPT-2's 50257 padded to a
multiple of 128), ~124M parameters: bf16 autocast, fused AdamW, TF32, attention through
scaled_dot_product_attention (flash kernel), optionally torch.compile. MFU uses the PaLM count
6N + 12 * L * C * T FLOPs per token (course.flops) against the GPU's dense bf16 peak.

The CPU figure (4 layers, 4 heads, 128 dims, context 128) is measured on every run, so the script is
useful on a laptop too. Tokens are random: throughput does not depend on what the text says.

Measured 2026-11-23 on one H100 80GB HBM3 (torch 2.11.0+cu130), batch 16 x 1024, `--skip-cpu`:
eager 278,864 tokens/s, 239 TFLOP/s, MFU 24.1%, 16.6 GiB peak; `--compile` 334,655 tokens/s,
286 TFLOP/s, MFU 28.9%, 16.1 GiB peak (MFU against the H100's 989 TFLOP/s dense bf16 peak).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from course import distributed  # noqa: E402
from course.models.modern import ModernConfig, ModernGPT  # noqa: E402
from course.train import TrainConfig, fit  # noqa: E402

GPT2_SMALL = dict(vocab_size=50304, block_size=1024, n_layer=12, n_head=12, n_embd=768)
CPU_SMALL = dict(vocab_size=256, block_size=128, n_layer=4, n_head=4, n_embd=128)


def measure(
    shape: dict, *, device: str, batch_size: int, steps: int, compile_: bool = False
) -> dict:
    """Train ``steps`` steps on random tokens; return throughput figures from fit's History."""
    info = distributed.from_environment()
    torch.manual_seed(0)
    config = ModernConfig.gpt2_style(**shape)
    model = ModernGPT(config)
    T, V = config.block_size, config.vocab_size
    global_batch = batch_size * info.world_size  # fit gives each process 1/world of it

    def random_batch():
        x = torch.randint(0, V, (global_batch, T + 1))
        return x[:, :-1], x[:, 1:]

    history = fit(
        model,
        random_batch,
        device=device,
        progress=False,
        plot=False,
        title=f"{device} throughput",
        config=TrainConfig(steps=steps, lr=3e-4, warmup_steps=2, compile=compile_),
    )
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "tokens_per_s": history.steady_tokens_per_second,
        "flops_per_token": history.flops_per_token,
        "mfu": history.mfu,
        "world": history.world_size,
        "batch": f"{global_batch} x {T}",
    }


def report(label: str, r: dict) -> None:
    if not distributed.from_environment().is_main:
        return
    mfu = (
        f"{r['mfu']:.1%}"
        if r["mfu"] == r["mfu"]
        else "n/a (no peak FLOP/s for this device; set COURSE_PEAK_FLOPS)"
    )
    print(
        f"{label}: {r['params'] / 1e6:.1f}M params, batch {r['batch']} on {r['world']} "
        "process(es): "
        f"{r['tokens_per_s']:,.0f} tokens/s, {r['flops_per_token'] / 1e6:,.1f} MFLOP/token, "
        f"{r['tokens_per_s'] * r['flops_per_token'] / 1e12:.2f} TFLOP/s achieved, MFU {mfu}"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--compile", action="store_true", help="torch.compile the model on the GPU")
    parser.add_argument(
        "--batch-size", type=int, default=16, help="sequences of 1024 tokens per GPU per step"
    )
    parser.add_argument(
        "--steps", type=int, default=30, help="GPU training steps (the first ones are left out)"
    )
    parser.add_argument("--cpu-steps", type=int, default=12)
    parser.add_argument("--skip-cpu", action="store_true", help="only the GPU figure")
    args = parser.parse_args(argv)
    main_process = distributed.from_environment().is_main

    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        r = measure(
            GPT2_SMALL,
            device="cuda",
            batch_size=args.batch_size,
            steps=args.steps,
            compile_=args.compile,
        )
        report(f"GPU ({name}, bf16{', compiled' if args.compile else ''})", r)
        if main_process and torch.cuda.is_available():
            print(f"  peak memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
    elif main_process:
        print(
            "GPU figure: NOT MEASURED: no CUDA device in this run (the GPT-2-small shape needs a "
            "GPU)."
        )
    if args.skip_cpu:
        pass
    elif torch.cuda.is_available() and distributed.is_launched():
        if main_process:  # the process group speaks NCCL now: CPU tensors cannot join it
            print(
                "CPU figure: skipped under torchrun on GPUs (run the script without torchrun for "
                "it)"
            )
    else:
        r = measure(CPU_SMALL, device="cpu", batch_size=8, steps=args.cpu_steps)
        report(
            f"CPU ({torch.get_num_threads()} threads, fp32, small shape {CPU_SMALL['n_layer']} "
            "layers x "
            f"{CPU_SMALL['n_embd']} dims, context {CPU_SMALL['block_size']})",
            r,
        )
    distributed.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
