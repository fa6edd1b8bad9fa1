"""How torch's thread count and OpenMP's wait policy behave on a quiet and on a busy machine.

A learner's laptop is rarely quiet: a browser, an editor or a second notebook take a core. When
torch runs one thread per core and another process holds one of those cores, every parallel
region waits at its barrier for the thread that was descheduled, and OpenMP's default wait policy
spins while it waits, taking CPU from the very process it is waiting for.

This script times two lesson-sized training steps in fresh child processes (the wait policy is
read when the OpenMP runtime loads, so each setting needs its own process):

* ``small``: a Bengio-style MLP language model step (notebook 03's size: small matrices, where
  the cost of a barrier is large next to the arithmetic);
* ``gpt``: a 4-layer, 128-wide GPT step on 64-token windows (notebooks 07-12's size).

for every combination of threads (1 and the number of cores), ``OMP_WAIT_POLICY`` (unset, i.e.
the runtime's default, and ``PASSIVE``) and load (quiet, or one busy process pinned to nothing,
a single-thread matrix-multiply loop standing in for "another program"). It prints ms/step
and each setting's ratio to the quiet single-thread time; it asserts nothing. The record of what
it printed is in docs/benchmarks.md.

    python benchmarks/threads.py              # ~4 minutes on 2 cores
    python benchmarks/threads.py --steps 30   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
import torch
import torch.nn.functional as F

workload, steps = sys.argv[1], int(sys.argv[2])
torch.manual_seed(0)
if workload == "small":  # notebook 03: 30-character context of 3, 64-dim embeddings, 512 hidden
    V, C, E, H, B = 30, 3, 64, 512, 256
    emb = torch.nn.Embedding(V, E)
    net = torch.nn.Sequential(torch.nn.Linear(C * E, H), torch.nn.Tanh(), torch.nn.Linear(H, V))
    params = list(emb.parameters()) + list(net.parameters())

    def loss_of_a_batch():
        x = torch.randint(0, V, (B, C))
        y = torch.randint(0, V, (B,))
        return F.cross_entropy(net(emb(x).flatten(1)), y)
else:  # notebooks 07-12: 4 layers, 4 heads, 128 wide, 64-token windows, batch 16
    from course.models.gpt import GPT, GPTConfig

    model = GPT(GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128))
    params = list(model.parameters())

    def loss_of_a_batch():
        x = torch.randint(0, 65, (16, 64))
        logits = model(x)
        return F.cross_entropy(logits.reshape(-1, 65), x.reshape(-1))

opt = torch.optim.AdamW(params, lr=1e-3)
for i in range(steps + 5):  # 5 warm-up steps
    if i == 5:
        began = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss_of_a_batch().backward()
    opt.step()
print(json.dumps({"ms": 1000 * (time.perf_counter() - began) / steps,
                  "threads": torch.get_num_threads()}))
"""

BUSY = r"""
import torch
torch.set_num_threads(1)
a = torch.randn(256, 256)
while True:
    a = torch.tanh(a @ a) * 0.5
"""


def time_one(workload: str, steps: int, threads: int, policy: str | None) -> float:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    out = subprocess.run(
        [sys.executable, "-c", CHILD, workload, str(steps)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["ms"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=0, help="steps per timing (default: by size)")
    parser.add_argument("--repeats", type=int, default=2, help="timings per setting; best is kept")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    thread_counts = sorted({1, cores})
    print(
        f"{cores} cores, python {sys.version.split()[0]}, load average "
        f"{os.getloadavg()[0]:.2f} at start"
    )
    rows = []
    for workload, default_steps in (("small", 300), ("gpt", 40)):
        steps = args.steps or default_steps
        for load in ("quiet", "one busy process"):
            busy = None
            if load != "quiet":
                busy = subprocess.Popen(
                    [sys.executable, "-c", BUSY],
                    env=dict(os.environ, OMP_NUM_THREADS="1"),
                )
                time.sleep(2)  # let it start
            try:
                for threads in thread_counts:
                    for policy in (None, "PASSIVE"):
                        ms = min(
                            time_one(workload, steps, threads, policy) for _ in range(args.repeats)
                        )
                        rows.append((workload, load, threads, policy or "default", ms))
                        print(
                            f"{workload:5s} {load:17s} {threads} thread(s) "
                            f"OMP_WAIT_POLICY={policy or 'default':8s} {ms:8.2f} ms/step",
                            flush=True,
                        )
            finally:
                if busy:
                    busy.kill()
                    busy.wait()
    print("\nratio to the quiet single-thread time of the same workload (lower is faster):")
    print("| workload | load | threads | wait policy | ms/step | vs quiet 1 thread |")
    print("|---|---|---|---|---|---|")
    for workload, load, threads, policy, ms in rows:
        base = next(r[4] for r in rows if r[:4] == (workload, "quiet", 1, "default"))
        print(f"| {workload} | {load} | {threads} | {policy} | {ms:.2f} | {ms / base:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
