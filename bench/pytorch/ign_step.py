#!/usr/bin/python3
"""Times one Idempotent Generative Network training step in PyTorch on the CPU or a GPU (float32).

The PyTorch side of idemnet's IgnStepBench (bench/io/idemnet/bench/IgnStepBench.java). Run it with
Debian's interpreter (python3-torch, libopenblas0-pthread; see README.md here):

    /usr/bin/python3 bench/pytorch/ign_step.py [--net mnist|paper] [--modes mb,original]
        [--batch 64] [--width 1] [--threads N] [--device cpu|cuda] [--tf32] [--json out.json]

--net names the same 28x28 network as idemnet's IgnNetworks (kernel/stride/padding, channels):
  mnist  encoder Conv 4x4/2/1 64, 4x4/2/1 128 + BN, 3x3/2/0 256 + BN, 3x3/1/0 512 + BN,
         3x3/1/1 512 (LeakyReLU(0.2) + Dropout(0.05) after each but the last); decoder ConvT
         3x3/1/0 256, 3x3/2/0 128, 3x3/1/1 64, 4x4/2/1 32 (each + BN + ReLU), 4x4/2/1 1 + Tanh.
  paper  Table 2 of Jensen & Vicary layer for layer: encoder Conv 4x4/2/1 64, 4x4/2/1 128 + BN,
         3x3/1/0 256 + BN, 3x3/1/0 512 + BN (each + LeakyReLU(0.2) + Dropout(0.05)), 3x3/1/0 512;
         decoder ConvT 3x3/1/0 256, 128, 64, 4x4/2/1 32 (each + BN + ReLU + Dropout(0.05)),
         4x4/2/1 1 + Tanh.
--width scales every channel count. On cuda each step ends with torch.cuda.synchronize() before
the clock is read; TF32 is off unless --tf32 (cuDNN's default would be on).

One step, the same operations as idemnet's IgnTrainer.step (lambdas 20 / 0.1 / 0.1, Adam(1e-4,
0.5, 0.999), the module in train mode throughout; f' = the same module evaluated without grad or
with its parameters excluded from the gradient):
  mb        fx = f(x); y = f(z); c = f'(z) (no grad); w = f(c); without grad fy = f(y),
            ffy = f(fy), fw = f(w), ffw = f(fw); seeds: lambda_r * d mean|fx - x| at fx,
            lambda_i * -(3 fy - 2 ffy - y)/N at y, lambda_t * (3 fw - 2 ffw - w)/N at w;
            one backward of the three seeds together; Adam step.  8 applications of f, 3 recorded.
  original  fx = f(x); y = f(z); c = f'(z) (no grad); w = f(c); ffz = f_detached(y) (recorded,
            parameters not requiring grad); loss = lambda_r mean|fx - x| + lambda_i mean|ffz - y|
            - lambda_t mean|w - c|; backward; Adam step.  5 applications, 4 recorded.
x and z ~ N(0,1) batches are pre-generated and cycled (x is not real data: timing only).
"""

import argparse
import copy
import datetime
import json
import os
import platform
import statistics
import sys
import time

import torch_env


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--net", default="mnist", choices=("mnist", "paper"))
    p.add_argument("--modes", default="mb,original")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--min-time", type=float, default=10.0, help="least measured seconds per config")
    p.add_argument("--min-steps", type=int, default=5, help="least measured steps per config")
    p.add_argument("--warmup-steps", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    torch_env.add_thread_args(p)
    torch_env.add_device_args(p)
    p.add_argument("--json", help="write the results to this file")
    a = p.parse_args()
    a.modes = [m.strip().lower() for m in a.modes.split(",") if m.strip()]
    for m in a.modes:
        if m not in ("mb", "original"):
            p.error(f"unknown mode {m}; choose mb or original")
    return a


ARGS = parse_args()
torch_env.set_thread_env(ARGS)  # before torch is imported

import torch  # noqa: E402
from torch import nn  # noqa: E402

LAMBDA_R, LAMBDA_I, LAMBDA_T = 20.0, 0.1, 0.1


def w(c):
    return max(1, round(c * ARGS.width))


def make_net(channels=1):
    return make_paper_net(channels) if ARGS.net == "paper" else make_mnist_net(channels)


def enc_tail(bn):
    return ([bn] if bn is not None else []) + [nn.LeakyReLU(0.2), nn.Dropout(0.05)]


def make_paper_net(channels):
    c32, c64, c128, c256, c512 = w(32), w(64), w(128), w(256), w(512)

    def dec_tail(bn):
        return [bn, nn.ReLU(), nn.Dropout(0.05)]

    layers = [nn.Conv2d(channels, c64, 4, 2, 1)] + enc_tail(None)
    layers += [nn.Conv2d(c64, c128, 4, 2, 1)] + enc_tail(nn.BatchNorm2d(c128))
    layers += [nn.Conv2d(c128, c256, 3, 1, 0)] + enc_tail(nn.BatchNorm2d(c256))
    layers += [nn.Conv2d(c256, c512, 3, 1, 0)] + enc_tail(nn.BatchNorm2d(c512))
    layers += [nn.Conv2d(c512, c512, 3, 1, 0)]
    layers += [nn.ConvTranspose2d(c512, c256, 3, 1, 0)] + dec_tail(nn.BatchNorm2d(c256))
    layers += [nn.ConvTranspose2d(c256, c128, 3, 1, 0)] + dec_tail(nn.BatchNorm2d(c128))
    layers += [nn.ConvTranspose2d(c128, c64, 3, 1, 0)] + dec_tail(nn.BatchNorm2d(c64))
    layers += [nn.ConvTranspose2d(c64, c32, 4, 2, 1)] + dec_tail(nn.BatchNorm2d(c32))
    layers += [nn.ConvTranspose2d(c32, channels, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(*layers)


def make_mnist_net(channels):
    c32, c64, c128, c256, c512 = w(32), w(64), w(128), w(256), w(512)

    def dec_tail(bn):
        return [bn, nn.ReLU()]

    layers = [nn.Conv2d(channels, c64, 4, 2, 1)] + enc_tail(None)
    layers += [nn.Conv2d(c64, c128, 4, 2, 1)] + enc_tail(nn.BatchNorm2d(c128))
    layers += [nn.Conv2d(c128, c256, 3, 2, 0)] + enc_tail(nn.BatchNorm2d(c256))
    layers += [nn.Conv2d(c256, c512, 3, 1, 0)] + enc_tail(nn.BatchNorm2d(c512))
    layers += [nn.Conv2d(c512, c512, 3, 1, 1)]
    layers += [nn.ConvTranspose2d(c512, c256, 3, 1, 0)] + dec_tail(nn.BatchNorm2d(c256))
    layers += [nn.ConvTranspose2d(c256, c128, 3, 2, 0)] + dec_tail(nn.BatchNorm2d(c128))
    layers += [nn.ConvTranspose2d(c128, c64, 3, 1, 1)] + dec_tail(nn.BatchNorm2d(c64))
    layers += [nn.ConvTranspose2d(c64, c32, 4, 2, 1)] + dec_tail(nn.BatchNorm2d(c32))
    layers += [nn.ConvTranspose2d(c32, channels, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(*layers)


def mb_step(f, opt, x, z):
    n = x.shape[0]
    fx = f(x)
    y = f(z)
    with torch.no_grad():
        c = f(z)
    wv = f(c)
    with torch.no_grad():
        fy = f(y)
        ffy = f(fy)
        fw = f(wv)
        ffw = f(fw)
        g_y = LAMBDA_I * -(3 * fy - 2 * ffy - y) / n
        g_w = LAMBDA_T * (3 * fw - 2 * ffw - wv) / n
    rec = LAMBDA_R * (fx - x).abs().mean()
    opt.zero_grad()
    torch.autograd.backward([rec, y, wv], [None, g_y, g_w])
    opt.step()


def original_step(f, f_detached, opt, x, z):
    # f_detached shares f's parameter tensors' values each step (load_state_dict would copy; the
    # parameters are aliased instead, below), with requires_grad off.
    fx = f(x)
    y = f(z)
    with torch.no_grad():
        c = f(z)
    wv = f(c)
    ffz = f_detached(y)
    loss = (LAMBDA_R * (fx - x).abs().mean() + LAMBDA_I * (ffz - y).abs().mean()
            - LAMBDA_T * (wv - c).abs().mean())
    opt.zero_grad()
    loss.backward()
    opt.step()


def detached_twin(f):
    """A module whose parameters are detached views of f's (same storage, no grad)."""
    twin = copy.deepcopy(f)
    for (name, p), (_, q) in zip(f.named_parameters(), twin.named_parameters()):
        q.requires_grad_(False)
        q.data = p.data  # alias: updates of f are seen by the twin
    return twin


def step_macs(net, batch, device):
    """Multiply-adds of one forward of f (convolutions only), by running it once with hooks."""
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            total[0] += out.numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.ConvTranspose2d):
            total[0] += inp[0].numel() * m.out_channels * m.kernel_size[0] * m.kernel_size[1]

    hs = [m.register_forward_hook(hook) for m in net.modules()]
    with torch.no_grad():
        net(torch.zeros(batch, 1, 28, 28, device=device))
    for h in hs:
        h.remove()
    return total[0]


def main():
    torch.manual_seed(ARGS.seed)
    torch.set_num_threads(ARGS.threads)
    device, dev_info = torch_env.setup_device(ARGS, needs_cudnn=True)
    sync = torch_env.synchronizer(device)
    results = []
    for mode in ARGS.modes:
        f = make_net().to(device)
        f.train()
        opt = torch.optim.Adam(f.parameters(), lr=1e-4, betas=(0.5, 0.999))
        twin = detached_twin(f) if mode == "original" else None
        g = torch.Generator().manual_seed(ARGS.seed + 1)
        xs = [torch.randn(ARGS.batch, 1, 28, 28, generator=g).clamp(-1, 1).to(device) for _ in range(2)]
        zs = [torch.randn(ARGS.batch, 1, 28, 28, generator=g).to(device) for _ in range(2)]

        def one(i):
            x, z = xs[i % 2], zs[i % 2]
            if mode == "mb":
                mb_step(f, opt, x, z)
            else:
                original_step(f, twin, opt, x, z)

        for i in range(ARGS.warmup_steps):
            one(i)
        sync()
        times, cpu = [], []
        start = time.perf_counter()
        i = 0
        while len(times) < ARGS.min_steps or time.perf_counter() - start < ARGS.min_time:
            t0, c0 = time.perf_counter(), time.process_time()
            one(i)
            sync()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            i += 1
        med = statistics.median(times)
        rec = {
            "mode": mode, "net": ARGS.net, "batch": ARGS.batch, "width": ARGS.width, "threads": ARGS.threads,
            "steps": len(times), "median_s": med, "min_s": min(times),
            "samples_per_s": ARGS.batch / med, "median_cpu_s": statistics.median(cpu), "forward_macs": step_macs(f, ARGS.batch, device),
        }
        results.append(rec)
        print(f"{mode:9s} batch {ARGS.batch} width {ARGS.width}: median {med * 1e3:.1f} ms "
              f"(min {min(times) * 1e3:.1f}, {len(times)} steps), {ARGS.batch / med:.1f} samples/s, "
              f"process CPU time {statistics.median(cpu) * 1e3:.1f} ms",
              flush=True)
    meta = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "torch": torch.__version__, "mkldnn": torch.backends.mkldnn.is_available(),
        "python": sys.version.split()[0], "machine": platform.machine(),
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                     if l.startswith("model name")), "unknown"),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "net": ARGS.net,
    }
    meta.update(dev_info)
    if device.type == "cuda":
        meta["gpu_libraries"] = torch_env.loaded_libraries("cublas", "cudnn")
        print(f"# GPU {dev_info['gpu_name']}, torch {torch.__version__}, cuDNN {dev_info['cudnn_version']}, "
              f"TF32 {'on' if ARGS.tf32 else 'off'}; loaded: {', '.join(meta['gpu_libraries'])}", flush=True)
    if ARGS.json:
        with open(ARGS.json, "w") as out:
            json.dump({"meta": meta, "results": results}, out, indent=2)


if __name__ == "__main__":
    main()
