#!/usr/bin/python3
"""Times one Fixed Point Network training step in PyTorch on the CPU or a GPU (float32), per backward variant.

The PyTorch side of idemnet's FpnStepBench (bench/io/idemnet/bench/FpnStepBench.java) with the plain
fixed-point iteration (idemnet: -p anderson=1). Run it with Debian's interpreter (see README.md here):

    /usr/bin/python3 bench/pytorch/fpn_step.py [--variants jfb,implicit,implicit-cg] [--threads N]
        [--device cpu|cuda] [--tf32] [--json out.json]

On cuda each step ends with torch.cuda.synchronize() before the clock is read (the solver's
residual checks synchronise inside the step as well, as idemnet's do); TF32 is off unless --tf32.

The model is idemnet's convolutional FPN (docs/fpn.md): Q = Conv(1, 32, 3x3, stride 2, pad 1) -> ReLU
-> Conv(32, 48, 3x3, stride 2, pad 1); R(u, q) = ReLU(conv3x3(u; W) + q) (no bias, pad 1); S = Flatten ->
Linear(2352, 10); cross-entropy, Adam(1e-3), batch 128, gamma 0.5, tolerance 1e-4, at most 50
iterations and 50 Jacobian products. One step, as idemnet's FpnExperiment.trainStep:
  forward   q = Q(x); without grad u_{k+1} = R(u_k, q) from u = 0 until the largest per-sample
            ||u_{k+1} - u_k|| < tol; z = R(u*, q) recorded with u* constant; loss = CE(S(z)).
  jfb       backward through that one application (and S, Q).
  implicit  the gradient at z, g, is replaced by v = sum_k (J^T)^k g (Neumann series, stopping when a
            term's norm is below 1e-4 ||g||), J = dR/du at u*.
  implicit-cg  v solves (I - J^T) v = g by conjugate gradients on the normal equations (CGNE, one J and
            one J^T product an iteration, stopping when ||g - (I - J^T) v|| < 1e-4 ||g||).
  The products are matrix-free as in idemnet: J v = relu'(pre) * conv(v), J^T w = convT(relu'(pre) * w).
  After Adam, W is rescaled to operator norm <= gamma by two power iterations (warm-started).
Images are N(0, 1), labels random, four batches pre-generated and cycled (timing only).
"""

import argparse
import datetime
import json
import platform
import statistics
import sys
import time

import torch_env


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--variants", default="jfb,implicit,implicit-cg")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--channels", type=int, default=48)
    p.add_argument("--min-time", type=float, default=10.0, help="least measured seconds per variant")
    p.add_argument("--min-steps", type=int, default=10, help="least measured steps per variant")
    p.add_argument("--warmup-steps", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    torch_env.add_thread_args(p)
    torch_env.add_device_args(p)
    p.add_argument("--json", help="write the results to this file")
    a = p.parse_args()
    a.variants = [v.strip().lower() for v in a.variants.split(",") if v.strip()]
    for v in a.variants:
        if v not in ("jfb", "implicit", "implicit-cg"):
            p.error(f"unknown variant {v}; choose jfb, implicit or implicit-cg")
    return a


ARGS = parse_args()
torch_env.set_thread_env(ARGS)  # before torch is imported

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

GAMMA, TOL, MAX_ITER, MAX_PRODUCTS, IMPLICIT_TOL = 0.5, 1e-4, 50, 50, 1e-4


class Fpn(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.q = nn.Sequential(nn.Conv2d(1, 32, 3, 2, 1), nn.ReLU(), nn.Conv2d(32, c, 3, 2, 1))
        self.w = nn.Parameter(torch.empty(c, c, 3, 3).uniform_(-1, 1) / (c * 9) ** 0.5)
        self.s = nn.Linear(c * 49, 10)
        # The power-iteration vector, warm-started across calls; a buffer, so that .to(device) moves it.
        self.register_buffer("v", torch.randn(1, c, 7, 7))
        self.enforce_contraction(30)

    def r(self, u, q):
        return F.relu(F.conv2d(u, self.w, padding=1) + q)

    @torch.no_grad()
    def enforce_contraction(self, iterations):
        sigma = 0.0
        for _ in range(iterations):
            self.v /= self.v.norm()
            self.v = F.conv_transpose2d(F.conv2d(self.v, self.w, padding=1), self.w, padding=1)
            sigma = self.v.norm().sqrt().item()
        if sigma > GAMMA:
            self.w.mul_(GAMMA / sigma)

    @torch.no_grad()
    def solve(self, q):
        u = torch.zeros_like(q)
        for k in range(MAX_ITER):
            nxt = self.r(u, q)
            residual = (nxt - u).flatten(1).norm(dim=1).max().item()
            u = nxt
            if residual < TOL:
                return u, k + 1
        return u, MAX_ITER


def implicit_gradient(model, u_star, q, g, variant):
    """v = (I - J^T)^{-1} g at u* by the Neumann series or CGNE; returns (v, products)."""
    with torch.no_grad():
        mask = (F.conv2d(u_star, model.w, padding=1) + q > 0).to(g.dtype)

        def jt(w):  # J^T w
            return F.conv_transpose2d(mask * w, model.w, padding=1)

        def j(v):  # J v
            return mask * F.conv2d(v, model.w, padding=1)

        stop = IMPLICIT_TOL * max(g.norm().item(), 1e-30)
        if variant == "implicit":
            v, term, products = g.clone(), g, 0
            while products < MAX_PRODUCTS:
                term = jt(term)
                products += 1
                v += term
                if term.norm().item() <= stop:
                    break
            return v, products
        v = g.clone()
        res = g - (v - jt(v))
        products = 1
        rr = res.pow(2).sum().item()
        if rr ** 0.5 <= stop:
            return v, products
        p = res - j(res)
        products += 1
        zz = p.pow(2).sum().item()
        while products + 2 <= MAX_PRODUCTS and zz > 0:
            alpha = rr / zz
            v += alpha * p
            res -= alpha * (p - jt(p))
            products += 1
            rr_new = res.pow(2).sum().item()
            if rr_new ** 0.5 <= stop:
                break
            products += 1
            p = (rr_new / rr) * p + (res - j(res))
            rr = rr_new
            zz = p.pow(2).sum().item()
        return v, products


def step(model, opt, x, y, variant):
    q = model.q(x)
    u_star, iterations = model.solve(q.detach())
    z = model.r(u_star, q)
    products = [0]
    if variant != "jfb":
        def hook(g):
            v, products[0] = implicit_gradient(model, u_star, q.detach(), g, variant)
            return v
        z.register_hook(hook)
    loss = F.cross_entropy(model.s(z.flatten(1)), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    model.enforce_contraction(2)
    return iterations, products[0]


def run(variant, device):
    sync = torch_env.synchronizer(device)
    torch.manual_seed(ARGS.seed)
    model = Fpn(ARGS.channels).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(ARGS.seed + 1)
    data = [(torch.randn(ARGS.batch, 1, 28, 28, generator=gen).to(device),
             torch.randint(0, 10, (ARGS.batch,), generator=gen).to(device))
            for _ in range(4)]
    for i in range(ARGS.warmup_steps):
        step(model, opt, *data[i % 4], variant)
    sync()
    times, iters, prods = [], [], []
    start = time.perf_counter()
    i = 0
    while len(times) < ARGS.min_steps or time.perf_counter() - start < ARGS.min_time:
        t0 = time.perf_counter()
        it, pr = step(model, opt, *data[i % 4], variant)
        sync()
        times.append(time.perf_counter() - t0)
        iters.append(it)
        prods.append(pr)
        i += 1
    return {"variant": variant, "steps": len(times), "median_ms": 1e3 * statistics.median(times),
            "min_ms": 1e3 * min(times), "mean_iterations": statistics.mean(iters),
            "mean_products": statistics.mean(prods)}


def main():
    torch.set_num_threads(ARGS.threads)
    device, dev_info = torch_env.setup_device(ARGS, needs_cudnn=True)
    results = []
    for v in ARGS.variants:
        r = run(v, device)
        results.append(r)
        print(f"{v:12s} median {r['median_ms']:8.1f} ms  min {r['min_ms']:8.1f} ms  "
              f"iterations {r['mean_iterations']:5.1f}  products {r['mean_products']:5.1f}  ({r['steps']} steps)",
              flush=True)
    if ARGS.json:
        meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "torch": torch.__version__,
                "threads": ARGS.threads, "python": sys.version.split()[0], "machine": platform.machine(),
                "batch": ARGS.batch, "channels": ARGS.channels}
        meta.update(dev_info)
        if device.type == "cuda":
            meta["gpu_libraries"] = torch_env.loaded_libraries("cublas", "cudnn")
        with open(ARGS.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
