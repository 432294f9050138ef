#!/usr/bin/python3
"""PyTorch counterpart of `mae bench train`: images/s of MAE pretraining steps on the CPU.

The same configurations as org.maejvm.bench.train.TrainCase, the same step (forward at mask ratio 0.75, backward,
AdamW with the official parameter groups, zero grad), float32, on random images. The model is the PyTorch MAE
of the parity fixture generator (tools/fixtures/make_mae_fixtures.py), which follows the official models_mae.py.

Prints one JSON line: framework, model, batch, threads, backend, train_img_s, fwd_img_s, peak_rss_mb, loss, and
the yardstick facts: torch's version, the BLAS library it loaded and the sgemm GFLOP/s it reaches.

Debian's torch calls the generic libblas.so.3; run it on OpenBLAS (libopenblas0-openmp) with that library's
directory first on LD_LIBRARY_PATH and OMP_NUM_THREADS set. `mae bench train --compare` does that.

    /usr/bin/python3 benchmarks/python/bench_train_torch.py --model tiny --threads 2
"""

import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "fixtures"))
from make_mae_fixtures import MaskedAutoencoder, param_groups  # noqa: E402

MASK_RATIO = 0.75
COMMON = dict(in_chans=3, mlp_ratio=4.0, norm_pix_loss=False, mask_ratio=MASK_RATIO)
# name -> (model config, default batch); keep in step with TrainCase.java
CASES = {
    "tiny": (dict(img_size=32, patch_size=4, embed_dim=192, depth=12, num_heads=3,
                  decoder_embed_dim=128, decoder_depth=4, decoder_num_heads=4, **COMMON), 64),
    "small": (dict(img_size=64, patch_size=8, embed_dim=384, depth=12, num_heads=6,
                   decoder_embed_dim=256, decoder_depth=4, decoder_num_heads=8, **COMMON), 32),
    "base": (dict(img_size=224, patch_size=16, embed_dim=768, depth=12, num_heads=12,
                  decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16, **COMMON), 8),
}
MIN_STEPS = 3


def seconds_per_step(step, warmup_seconds, measure_seconds):
    """Warm-up, then the mean time per step over a window of whole steps (as TrainBenchmark.secondsPerStep)."""
    start, steps = time.perf_counter(), 0
    while steps < MIN_STEPS or time.perf_counter() - start < warmup_seconds:
        step()
        steps += 1
    start, steps = time.perf_counter(), 0
    while True:
        step()
        steps += 1
        elapsed = time.perf_counter() - start
        if steps >= MIN_STEPS and elapsed >= measure_seconds:
            return elapsed / steps


def sgemm_gflops(n=1024, seconds=0.5):
    """What torch's matrix product reaches here: the check that the yardstick runs on a real BLAS."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        a @ b
        calls += 1
    return 2.0 * n ** 3 * calls / (time.perf_counter() - start) / 1e9


def blas_library():
    """The BLAS shared object this process mapped (from /proc/self/maps), or 'unknown'."""
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1] for line in maps if "blas" in line.lower() and line.split()[-1].startswith("/")}
        return ", ".join(sorted(os.path.basename(os.path.dirname(p)) + "/" + os.path.basename(p) for p in libs)) or "none"
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=sorted(CASES), default="tiny")
    ap.add_argument("--batch-size", type=int, default=None, help="default: the case's batch")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--warmup-seconds", type=float, default=3.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    cfg, default_batch = CASES[args.model]
    batch = args.batch_size or default_batch
    if batch < 1 or args.threads < 1:
        ap.error("--batch-size and --threads must be >= 1")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gflops = sgemm_gflops()
    model = MaskedAutoencoder(**cfg)
    optimizer = torch.optim.AdamW(param_groups(model, 0.05), lr=1.5e-4, betas=(0.9, 0.95))
    grid = cfg["img_size"] // cfg["patch_size"]
    imgs = torch.randn(batch, cfg["in_chans"], cfg["img_size"], cfg["img_size"])
    last = {}

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = model(imgs, torch.rand(batch, grid * grid))[0]
        loss.backward()
        optimizer.step()
        last["loss"] = loss.item()

    def forward():
        with torch.no_grad():
            model(imgs, torch.rand(batch, grid * grid))

    model.train()
    train_seconds = seconds_per_step(train_step, args.warmup_seconds, args.seconds)
    fwd_seconds = seconds_per_step(forward, args.warmup_seconds, args.seconds)
    print(json.dumps(dict(
        framework="pytorch", model=args.model, batch=batch, threads=args.threads, backend="torch-cpu",
        train_img_s=batch / train_seconds, fwd_img_s=batch / fwd_seconds,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, loss=last["loss"],
        torch_version=torch.__version__, blas=blas_library(), sgemm_gflops=gflops)), flush=True)


if __name__ == "__main__":
    main()
