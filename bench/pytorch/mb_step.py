#!/usr/bin/python3
"""Times one training step of the paper's networks in PyTorch on the CPU or a GPU (float32).

The PyTorch side of the idemnet side-by-side benchmark (Jensen & Vicary, "Enforcing Idempotency
in Neural Networks", ICML 2025). Run it with Debian's interpreter, which is the one that sees
Debian's python3-torch:

    /usr/bin/python3 bench/pytorch/mb_step.py [--nets B1,B2,B3,B4] [--modes mb,ob]
        [--batch 1000] [--threads N] [--device cpu|cuda] [--tf32] [--json out.json]

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
On cuda each step ends with torch.cuda.synchronize() before the clock is read, and TF32 is off
unless --tf32 is given (idemnet's cuda backend likewise; compare TF32 runs with TF32 runs).

GEMM-bound time: on the CPU, the step's GEMM FLOPs over the best torch.mm rate of the session; on
cuda, the sum of the measured times of the step's GEMMs, each timed alone with torch.matmul on
tensors of its shape and transposition (cuBLAS, same TF32 setting): what the step would take if
it did nothing but its matrix products back to back.

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
    torch_env.add_device_args(p)
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


def step_gemms(dims, batch, mode):
    """The step's matrix products as (m, k, n, transpose_a, transpose_b, count), C[m,n] = op(A) op(B).

    Per Linear layer in->out at batch N (W is [out, in], as in nn.Linear):
      forward        [N, out]  = x [N, in] @ W^T          (m N, k in, n out, B transposed)
      weight grad    [out, in] = g^T [out, N] @ x [N, in]  (m out, k N, n in, A transposed)
      input grad     [N, in]   = g [N, out] @ W            (m N, k out, n in)
    with the counts of step_flops: MB 3 forwards, 1 weight grad, input grads from layer 2 on; OB 2
    forwards, 2 weight grads, input grads 2 per layer from layer 2 on and 1 for the first (f(y)).
    """
    gemms = []
    for layer, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:])):
        first = layer == 0
        fwd, wgrad = (3, 1) if mode == "mb" else (2, 2)
        dgrad = (0 if first else 1) if mode == "mb" else (1 if first else 2)
        gemms.append((batch, fan_in, fan_out, False, True, fwd))
        gemms.append((fan_out, batch, fan_in, True, False, wgrad))
        if dgrad:
            gemms.append((batch, fan_out, fan_in, False, False, dgrad))
    return gemms


_GEMM_US = {}


def cuda_gemm_us(m, k, n, trans_a, trans_b, reps=50):
    """Mean microseconds of one torch.matmul of that shape on the GPU (CUDA events, after warm-up)."""
    key = (m, k, n, trans_a, trans_b)
    if key not in _GEMM_US:
        g = torch.Generator(device="cuda").manual_seed(7)
        a = torch.randn((k, m) if trans_a else (m, k), device="cuda", generator=g)
        b = torch.randn((n, k) if trans_b else (k, n), device="cuda", generator=g)
        a, b = (a.t() if trans_a else a), (b.t() if trans_b else b)
        out = torch.empty(m, n, device="cuda")
        for _ in range(5):
            torch.matmul(a, b, out=out)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        best = float("inf")
        for _ in range(3):  # the best of three rounds: the least disturbed one
            start.record()
            for _ in range(reps):
                torch.matmul(a, b, out=out)
            end.record()
            end.synchronize()
            best = min(best, start.elapsed_time(end) * 1e3 / reps)
        _GEMM_US[key] = best
    return _GEMM_US[key]


def cuda_gemm_bound_us(dims, batch, mode):
    return sum(count * cuda_gemm_us(m, k, n, ta, tb) for m, k, n, ta, tb, count in step_gemms(dims, batch, mode))


def bench_one(name, mode, args, device):
    dims = NETS[name]
    on_cuda = device.type == "cuda"
    sync = torch_env.synchronizer(device)
    # The SGEMM rate again, just before this configuration: on a shared machine it drifts.
    rate_here = None if on_cuda else sgemm_rate(reps=5)[1]
    torch.manual_seed(args.seed)
    f = make_net(dims).to(device)
    opt = torch.optim.SGD(f.parameters(), lr=LR, momentum=0.0)
    g = torch.Generator().manual_seed(args.seed + 1)
    xs = [torch.randn(args.batch, dims[0], generator=g).to(device) for _ in range(args.input_batches)]
    step = mb_step if mode == "mb" else ob_step

    i = 0
    t_end = time.perf_counter() + args.warmup_time
    while i < args.warmup_steps or time.perf_counter() < t_end:
        step(f, opt, xs[i % len(xs)])
        sync()
        i += 1

    times = []
    total = 0.0
    loss = None
    while len(times) < args.min_steps or total < args.min_time:
        x = xs[i % len(xs)]
        t0 = time.perf_counter()
        loss = step(f, opt, x)
        sync()
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
    device, dev_info = torch_env.setup_device(args)
    if device.type == "cuda":
        return main_cuda(args, device, dev_info)
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
            r = bench_one(name, mode, args, device)
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
            "device": "cpu",
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


def main_cuda(args, device, dev_info):
    """The GPU run: per configuration the synchronised step times and the measured GEMM bound."""
    when = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    records = []
    for name in args.nets:
        for mode in args.modes:
            r = bench_one(name, mode, args, device)
            bound = cuda_gemm_bound_us(NETS[name], args.batch, mode)
            print(f"# done {name} {mode.upper()}: median {r['median_us']:.1f} us over {r['steps']} steps",
                  file=sys.stderr, flush=True)
            records.append(dict(dev_info, **{
                "network": name,
                "mode": mode.upper(),
                "batch": args.batch,
                "median_us": round(r["median_us"], 3),
                "min_us": round(r["min_us"], 3),
                "mean_us": round(r["mean_us"], 3),
                "steps": r["steps"],
                "warmup_steps": r["warmup_steps"],
                "final_loss": r["final_loss"],
                "dims": NETS[name],
                "gemm_flops": step_flops(NETS[name], args.batch, mode),
                "gemm_bound_us": round(bound, 3),
                "gemm_bound_method": "sum of the step's GEMMs, each timed alone with torch.matmul (CUDA events)",
                "date": when,
            }))
    libs = torch_env.loaded_libraries("cublas", "cudnn")
    for rec in records:
        rec["gpu_libraries"] = libs
    print(f"# torch {torch.__version__} (CUDA {dev_info['cuda_version']}) | GPU {dev_info['gpu_name']}"
          f" | TF32 {'on' if args.tf32 else 'off'} {dev_info['tf32_settings']} | batch {args.batch} | {when}")
    print(f"# loaded: {', '.join(libs) or 'no cuBLAS/cuDNN library found in /proc/self/maps'}")
    print("# gemm_bound_us = the step's GEMMs, each timed alone with torch.matmul on the same shapes")
    hdr = (f"{'net':<4} {'mode':<4} {'batch':>5} {'steps':>6} {'median_us':>12} {'min_us':>12} "
           f"{'GFLOP':>9} {'gemm_bound_us':>13} {'med/bound':>9} {'TFLOP/s':>8}")
    print(hdr)
    print("-" * len(hdr))
    for rec in records:
        print(f"{rec['network']:<4} {rec['mode']:<4} {rec['batch']:>5} {rec['steps']:>6} "
              f"{rec['median_us']:>12.1f} {rec['min_us']:>12.1f} {rec['gemm_flops'] / 1e9:>9.3f} "
              f"{rec['gemm_bound_us']:>13.1f} {rec['median_us'] / rec['gemm_bound_us']:>9.2f} "
              f"{rec['gemm_flops'] / rec['median_us'] / 1e6:>8.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(records, fh, indent=2)
            fh.write("\n")
    if not any("cublas" in lib for lib in libs):
        raise SystemExit("FATAL: no libcublas is mapped into this process after the GEMMs")


if __name__ == "__main__":
    main()
