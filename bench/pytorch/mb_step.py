#!/usr/bin/python3
"""Times one training step of the paper's networks in PyTorch on the CPU (float32).

The PyTorch side of the idemnet side-by-side benchmark (Jensen & Vicary, "Enforcing Idempotency
in Neural Networks", ICML 2025). Run it with Debian's interpreter, which is the one that sees
Debian's python3-torch:

    /usr/bin/python3 bench/pytorch/mb_step.py [--nets B1,B2,B3,B4] [--modes mb,ob]
        [--batch 1000] [--threads N] [--json out.json]

Networks: every layer is nn.Linear (with bias) followed by LeakyReLU(0.2), the last layer included.
    B1 5-5, B2 128-256-256-256-256-128, B3 4096-1024-4096, B4 784-1024-2048-784.

Step kinds (SGD, lr 1e-3, no momentum):
    mb  the paper's Algorithm 1 (modified backpropagation): y = f(x) recorded; without grad
        fy = f(y), ffy = f(fy), loss = mean((fy - y)^2); the gradient handed to y is
        -(3 fy - 2 ffy - y) / N (N = batch rows); y.backward(grad); opt.step().
    ob  ordinary backpropagation: y = f(x); z = f(y); loss = mean((z - y)^2); loss.backward();
        opt.step().

Inputs x ~ N(0, 1) are pre-generated (a few batches, cycled) outside the timed region. Each step is
timed on its own with time.perf_counter; the script runs at least --min-time seconds and at least
--min-steps steps per configuration after a warm-up, and reports the median and the minimum step.

Note on the BLAS: Debian's torch does its float32 GEMMs through the system libblas.so.3. With only
libblas3 (the netlib reference BLAS) installed that is about 25x slower than OpenBLAS; install
libopenblas0-pthread (it takes over the libblas.so.3 alternative) for a fair comparison. The library
actually loaded is recorded in the output (field blas_lib).
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import torch_env

NETS = {
    "B1": [5, 5],
    "B2": [128, 256, 256, 256, 256, 128],
    "B3": [4096, 1024, 4096],
    "B4": [784, 1024, 2048, 784],
}
MODES = ["mb", "ob"]
LR = 1e-3
SLOPE = 0.2


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nets", default=",".join(NETS), help="comma-separated subset of B1,B2,B3,B4")
    p.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of mb,ob")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--min-time", type=float, default=2.0, help="least measured seconds per config")
    p.add_argument("--min-steps", type=int, default=20, help="least measured steps per config")
    p.add_argument("--warmup-time", type=float, default=0.5, help="least warm-up seconds per config")
    p.add_argument("--warmup-steps", type=int, default=3, help="least warm-up steps per config")
    p.add_argument("--input-batches", type=int, default=4, help="pre-generated input batches")
    p.add_argument("--seed", type=int, default=0)
    torch_env.add_thread_args(p)
    p.add_argument("--json", help="write the results (a list of records) to this file")
    a = p.parse_args()
    a.nets = [n.strip().upper() for n in a.nets.split(",") if n.strip()]
    a.modes = [m.strip().lower() for m in a.modes.split(",") if m.strip()]
    for n in a.nets:
        if n not in NETS:
            p.error(f"unknown network {n}; choose from {','.join(NETS)}")
    for m in a.modes:
        if m not in MODES:
            p.error(f"unknown mode {m}; choose from {','.join(MODES)}")
    return a


ARGS = parse_args()
torch_env.set_thread_env(ARGS)  # before torch (and with it libblas) is imported

import ctypes  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loaded_blas():
    """Paths of the BLAS libraries mapped into this process (after torch has done a GEMM)."""
    libs = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and ("blas" in parts[-1] or "mkl" in parts[-1]):
                    if parts[-1] not in libs:
                        libs.append(parts[-1])
    except OSError:
        pass
    return libs


def set_openblas_threads(n):
    """Also tell an already-loaded OpenBLAS the thread count, where it exposes the call."""
    for path in loaded_blas():
        try:
            ctypes.CDLL(path).openblas_set_num_threads(ctypes.c_int(n))
            return True
        except (AttributeError, OSError):
            continue
    return False


def make_net(dims):
    layers = []
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(a, b, bias=True), nn.LeakyReLU(SLOPE)]
    return nn.Sequential(*layers)


# FLOPs of one step, counting GEMMs only (bias adds, activations, the loss and the SGD update are
# elementwise and left out). For a Linear layer in->out at batch N:
#   forward               F = 2*N*in*out
#   backward, weight grad     2*N*in*out  (always: every weight is trained)
#   backward, input grad      2*N*in*out  only where the layer's input needs a gradient
# With S = sum of F over the layers of f (one forward of f) and F1 = F of the first layer:
#   MB = 3 forwards (f(x) recorded, f(y) and f(f(y)) without grad) + one backward through the
#        recorded f(x): weight grads S, input grads S - F1 (x does not require grad)
#      = 3S + S + (S - F1)            = 5S - F1
#   OB = 2 forwards (f(x), f(y), both recorded) + backward through both applications:
#        weight grads 2S; input grads S for f(y) (its first layer included: y requires grad)
#        plus S - F1 for f(x)
#      = 2S + 2S + S + (S - F1)       = 6S - F1
def step_flops(dims, batch, mode):
    fl = [2 * batch * a * b for a, b in zip(dims[:-1], dims[1:])]
    s, f1 = sum(fl), fl[0]
    return 5 * s - f1 if mode == "mb" else 6 * s - f1


def sgemm_rate(reps=7):
    """Median GFLOP/s of torch.mm on [1000 x 4096] @ [4096 x 1024] float32 (B3's first layer)."""
    m, k, n = 1000, 4096, 1024
    g = torch.Generator().manual_seed(12345)
    a = torch.randn(m, k, generator=g)
    b = torch.randn(k, n, generator=g)
    out = torch.empty(m, n)
    for _ in range(3):
        torch.mm(a, b, out=out)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b, out=out)
        times.append(time.perf_counter() - t0)
    return 2.0 * m * k * n / statistics.median(times) / 1e9, 2.0 * m * k * n / min(times) / 1e9


# Each call returns (median, best) GFLOP/s over its runs; gemm_bound_us uses the best of the session.


def mb_step(f, opt, x):
    y = f(x)
    with torch.no_grad():
        fy = f(y)
        ffy = f(fy)
        loss = ((fy - y) ** 2).mean()
        grad = -(3 * fy - 2 * ffy - y) / x.shape[0]
    opt.zero_grad()
    y.backward(grad)
    opt.step()
    return loss


def ob_step(f, opt, x):
    y = f(x)
    z = f(y)
    loss = ((z - y) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def bench_one(name, mode, args):
    dims = NETS[name]
    # The SGEMM rate again, just before this configuration: on a shared machine it drifts.
    rate_here = sgemm_rate(reps=5)[1]
    torch.manual_seed(args.seed)
    f = make_net(dims)
    opt = torch.optim.SGD(f.parameters(), lr=LR, momentum=0.0)
    g = torch.Generator().manual_seed(args.seed + 1)
    xs = [torch.randn(args.batch, dims[0], generator=g) for _ in range(args.input_batches)]
    step = mb_step if mode == "mb" else ob_step

    i = 0
    t_end = time.perf_counter() + args.warmup_time
    while i < args.warmup_steps or time.perf_counter() < t_end:
        step(f, opt, xs[i % len(xs)])
        i += 1

    times = []
    total = 0.0
    loss = None
    while len(times) < args.min_steps or total < args.min_time:
        x = xs[i % len(xs)]
        t0 = time.perf_counter()
        loss = step(f, opt, x)
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
        i += 1
    final_loss = float(loss)
    return {
        "sgemm_gflops_here": rate_here,
        "median_us": statistics.median(times) * 1e6,
        "min_us": min(times) * 1e6,
        "mean_us": total / len(times) * 1e6,
        "steps": len(times),
        "warmup_steps": i - len(times),
        "final_loss": final_loss if final_loss == final_loss and abs(final_loss) != float("inf")
        else str(final_loss),
    }


def main():
    args = ARGS
    torch.set_num_threads(args.threads)
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # make sure the BLAS is loaded
    ob_threads_set = set_openblas_threads(args.threads)
    cpu = cpu_model()
    ncpu = os.cpu_count()
    rate_med, rate_best = sgemm_rate()
    blas = loaded_blas()
    load_before = os.getloadavg()
    when = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")

    records = []
    for name in args.nets:
        for mode in args.modes:
            r = bench_one(name, mode, args)
            print(f"# done {name} {mode.upper()}: median {r['median_us']:.1f} us over {r['steps']}"
                  f" steps (SGEMM just before: {r['sgemm_gflops_here']:.1f} GFLOP/s)",
                  file=sys.stderr, flush=True)
            records.append({
                "network": name,
                "mode": mode.upper(),
                "batch": args.batch,
                "threads": args.threads,
                "median_us": round(r["median_us"], 3),
                "min_us": round(r["min_us"], 3),
                "mean_us": round(r["mean_us"], 3),
                "steps": r["steps"],
                "warmup_steps": r["warmup_steps"],
                "final_loss": r["final_loss"],
                "dims": NETS[name],
                "gemm_flops": step_flops(NETS[name], args.batch, mode),
                "sgemm_gflops_before_config": round(r["sgemm_gflops_here"], 3),
            })
    rate_end_med, rate_end_best = sgemm_rate()
    load_after = os.getloadavg()
    # The rate for the bound: the best SGEMM run of the whole session (start, before each
    # configuration, end); on a shared machine that is the closest to the uncontended rate.
    rate = max([rate_best, rate_end_best] + [r["sgemm_gflops_before_config"] for r in records])

    print(f"# torch {torch.__version__} | CPU {cpu} ({ncpu} logical cores) | threads {args.threads}"
          f" | batch {args.batch} | started {when}")
    print(f"# BLAS: {', '.join(blas) or 'unknown'}"
          f"{'' if ob_threads_set else ' (openblas_set_num_threads not found)'}")
    print(f"# OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}"
          f" OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
          f" OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    print(f"# SGEMM rate, torch.mm [1000x4096] @ [4096x1024] float32: {rate:.1f} GFLOP/s (best run of"
          f" the session); at the start median {rate_med:.1f} / best {rate_best:.1f}, at the end"
          f" median {rate_end_med:.1f} / best {rate_end_best:.1f}")
    print("# gemm_bound_us = step GEMM FLOPs / that rate; sgemm_now = best SGEMM rate measured just"
          " before the configuration (one well below the session's best means the cores were shared then)")
    print(f"# load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f},"
          f" after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    hdr = (f"{'net':<4} {'mode':<4} {'batch':>5} {'thr':>3} {'steps':>6} {'median_us':>12} "
           f"{'min_us':>12} {'GFLOP':>9} {'gemm_bound_us':>13} {'med/bound':>9} {'GFLOP/s':>8} "
           f"{'sgemm_now':>9}")
    print(hdr)
    print("-" * len(hdr))
    for rec in records:
        bound_us = rec["gemm_flops"] / (rate * 1e9) * 1e6
        rec.update({
            "gemm_bound_us": round(bound_us, 3),
            "sgemm_gflops": round(rate, 3),
            "sgemm_gflops_start": [round(rate_med, 3), round(rate_best, 3)],
            "sgemm_gflops_end": [round(rate_end_med, 3), round(rate_end_best, 3)],
            "torch_version": torch.__version__,
            "cpu_model": cpu,
            "cpu_count": ncpu,
            "blas_lib": blas,
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
            "date": when,
            "loadavg_before": list(load_before),
            "loadavg_after": list(load_after),
        })
        print(f"{rec['network']:<4} {rec['mode']:<4} {rec['batch']:>5} {rec['threads']:>3} "
              f"{rec['steps']:>6} {rec['median_us']:>12.1f} {rec['min_us']:>12.1f} "
              f"{rec['gemm_flops'] / 1e9:>9.3f} {bound_us:>13.1f} "
              f"{rec['median_us'] / bound_us:>9.2f} "
              f"{rec['gemm_flops'] / rec['median_us'] / 1e3:>8.1f} "
              f"{rec['sgemm_gflops_before_config']:>9.1f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(records, fh, indent=2)
            fh.write("\n")


if __name__ == "__main__":
    main()
