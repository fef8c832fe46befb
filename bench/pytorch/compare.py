#!/usr/bin/env python3
"""Side-by-side: idemnet's step benchmarks (JMH JSON) against the PyTorch step scripts, with targets.

    python3 bench/pytorch/compare.py --jmh JMH.json [--jmh MORE.json] [--mb mb_step.json ...]
        [--ign ign_step.json ...] [--fpn fpn_step.json ...] [--info device-info.txt] [--csv OUT.csv]
    python3 bench/pytorch/compare.py JMH.json MB_STEP.json      (the older form: MB/OB steps only)

JMH.json is JMH's `-rf json` output. Rows are matched by benchmark and parameters:
  MbStepBench   net, mode, batch, tf32         <-> mb_step.py records (network, mode, batch, tf32)
  IgnStepBench  mode, batch, net, width, tf32  <-> ign_step.py results (MODIFIED = mb, ORIGINAL = original)
  FpnStepBench  variant, anderson=1, tf32      <-> fpn_step.py results (plain fixed-point iteration)
Each JMH row keeps its backend (cpu, cuda, cuda-graphs); a PyTorch file is taken for the device
that it says it ran on ("device", cpu when absent), and a cpu PyTorch time is never put beside a
cuda idemnet time or the other way round. JMH time units s/op, ms/op, us/op, ns/op and the
throughput units are understood.

Printed per row: idemnet's time (+- JMH's error), PyTorch's median step, the ratio PyTorch /
idemnet (> 1: idemnet is faster), and the targets of issue 14 item 5 beside it, with a verdict for
rows where both sides ran on cuda:
  B1, B2 (MB and OB steps, batch 1000)   PyTorch eager / idemnet >= 5
  B3, B4                                  PyTorch / idemnet >= 1.2, and idemnet / GEMM bound <= 1.3
  IGN step (batch 512, Table 2 network)   PyTorch (cuDNN) / idemnet >= 1.2
The GEMM bound is mb_step.py's: on cuda the sum of the step's GEMMs timed alone with torch.matmul
(cuBLAS, same TF32 setting). The targets were set for an H100 or H200; on another GPU the verdict
is printed with a note. Standard library only: any python3 runs it.
"""

import argparse
import csv
import json
import sys

TIME_MS = {"s/op": 1e3, "ms/op": 1.0, "us/op": 1e-3, "\u00b5s/op": 1e-3, "ns/op": 1e-6}
THRPT_MS = {"ops/s": 1e3, "ops/ms": 1.0, "ops/us": 1e-3, "ops/\u00b5s": 1e-3, "ops/ns": 1e-6}

# (minimum PyTorch/idemnet ratio, maximum idemnet/GEMM-bound ratio or None) per step, cuda only.
TARGETS = {
    ("mb", "B1"): (5.0, None), ("mb", "B2"): (5.0, None),
    ("mb", "B3"): (1.2, 1.3), ("mb", "B4"): (1.2, 1.3),
    ("ign", None): (1.2, None),
}


def to_ms(score, error, unit):
    """(score, error) in milliseconds per op; the error of a throughput is propagated to first order."""
    u = unit.strip()
    if u in TIME_MS:
        return score * TIME_MS[u], error * TIME_MS[u]
    if u in THRPT_MS:
        t = THRPT_MS[u] / score
        return t, THRPT_MS[u] * error / (score * score)
    raise ValueError(f"unknown JMH unit {unit!r}")


def truthy(v):
    return str(v).strip().lower() in ("true", "1", "yes", "on")


def load_jmh(paths):
    rows = []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        if not isinstance(data, list):
            raise SystemExit(f"{path}: expected a JSON list (JMH -rf json)")
        for e in data:
            bench = e.get("benchmark", "")
            params = e.get("params") or {}
            pm = e["primaryMetric"]
            err = pm.get("scoreError")
            err = float(err) if isinstance(err, (int, float)) else float("nan")
            ms, err_ms = to_ms(float(pm["score"]), err, pm["scoreUnit"])
            kind = ("mb" if ".MbStepBench." in bench else "ign" if ".IgnStepBench." in bench
                    else "fpn" if ".FpnStepBench." in bench else None)
            if kind is None:
                continue
            rows.append({"kind": kind, "params": params, "ms": ms, "err_ms": err_ms,
                         "backend": params.get("backend", "cpu"), "tf32": truthy(params.get("tf32", "false"))})
    return rows


def load_records(paths, kind):
    """PyTorch records as dicts with kind, device, tf32, the match keys and median_ms (+ bound_ms)."""
    out = []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        # A list of records (mb_step.py), {"meta", "results"} (ign_step.py, fpn_step.py), or
        # {"runs": [{"meta", "results"}, ...]} (several runs kept in one file).
        if isinstance(data, list):
            flat = data
        else:
            runs = data.get("runs", [data])
            flat = [dict(run.get("meta", {}), **r) for run in runs for r in run.get("results", [])]
        for r in flat:
            rec = {"kind": kind, "device": r.get("device", "cpu"), "tf32": bool(r.get("tf32", False)),
                   "gpu": r.get("gpu_name"), "torch": r.get("torch_version", r.get("torch")), "raw": r}
            if kind == "mb":
                rec.update(net=str(r["network"]).upper(), mode=str(r["mode"]).upper(), batch=int(r["batch"]),
                           median_ms=float(r["median_us"]) / 1e3,
                           bound_ms=float(r["gemm_bound_us"]) / 1e3 if "gemm_bound_us" in r else None)
            elif kind == "ign":
                rec.update(mode=str(r["mode"]).lower(), batch=int(r["batch"]), net=str(r.get("net", "mnist")),
                           width=float(r.get("width", 1.0)), median_ms=float(r["median_s"]) * 1e3, bound_ms=None)
            else:
                rec.update(variant=str(r["variant"]), batch=int(r.get("batch", 128)),
                           median_ms=float(r["median_ms"]), bound_ms=None)
            out.append(rec)
    return out


def device_of(backend):
    return "cpu" if backend == "cpu" else "cuda"


def match(row, torch_recs):
    p, kind = row["params"], row["kind"]
    c = [t for t in torch_recs if t["kind"] == kind and t["device"] == device_of(row["backend"])
         and t["tf32"] == row["tf32"]]
    if kind == "mb":
        c = [t for t in c if t["net"] == str(p.get("net", "")).upper() and t["mode"] == str(p.get("mode", "")).upper()
             and t["batch"] == int(p.get("batch", 1000))]
    elif kind == "ign":
        mode = {"MODIFIED": "mb", "ORIGINAL": "original"}.get(str(p.get("mode", "")).upper())
        c = [t for t in c if t["mode"] == mode and t["batch"] == int(p.get("batch", 64))
             and t["net"] == str(p.get("net", "mnist")) and abs(t["width"] - float(p.get("width", 1.0))) < 1e-6]
    else:
        if int(p.get("anderson", 1)) != 1:
            return None  # the PyTorch script runs the plain iteration only
        c = [t for t in c if t["variant"] == str(p.get("variant"))]
    return c[0] if c else None


def label(row):
    p = row["params"]
    if row["kind"] == "mb":
        return f"{p.get('mode')} step {p.get('net')}", int(p.get("batch", 1000))
    if row["kind"] == "ign":
        return f"IGN {p.get('mode', '').lower()} ({p.get('net', 'mnist')})", int(p.get("batch", 64))
    return f"FPN {p.get('variant')} (Anderson {p.get('anderson', '?')})", 128


def targets(row):
    if row["kind"] == "mb":
        return TARGETS.get(("mb", str(row["params"].get("net", "")).upper()))
    if row["kind"] == "ign":
        return TARGETS[("ign", None)]
    return None


def parse_info(path):
    info = {}
    if path:
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    info[k.strip()] = v.strip()
    return info


def main():
    p = argparse.ArgumentParser(description="idemnet / PyTorch step-time table with issue 14's targets")
    p.add_argument("legacy", nargs="*", help="JMH.json MB_STEP.json (older form)")
    p.add_argument("--jmh", action="append", default=[])
    p.add_argument("--mb", action="append", default=[], help="mb_step.py --json output")
    p.add_argument("--ign", action="append", default=[], help="ign_step.py --json output")
    p.add_argument("--fpn", action="append", default=[], help="fpn_step.py --json output")
    p.add_argument("--info", help="DeviceInfo output (key=value lines): the GPU idemnet ran on")
    p.add_argument("--csv", help="also write the table as CSV here")
    a = p.parse_args()
    if a.legacy:
        if len(a.legacy) != 2:
            p.error("the older form takes exactly JMH.json and MB_STEP.json")
        a.jmh.append(a.legacy[0])
        a.mb.append(a.legacy[1])
    if not a.jmh:
        p.error("no JMH result given (--jmh)")

    rows = load_jmh(a.jmh)
    recs = load_records(a.mb, "mb") + load_records(a.ign, "ign") + load_records(a.fpn, "fpn")
    info = parse_info(a.info)
    gpus = sorted({r["gpu"] for r in recs if r.get("gpu")})
    idemnet_gpu = info.get("cuda.device")
    torch_versions = sorted({str(r["torch"]) for r in recs if r.get("torch")})
    print(f"# GPU: idemnet {idemnet_gpu or '(none reported)'}; PyTorch {', '.join(gpus) or '(no cuda run)'}"
          f"; torch {', '.join(torch_versions) or '?'}; idemnet GEMM: {info.get('cuda.gemm', '?')}")
    if idemnet_gpu and gpus and not any(g in idemnet_gpu for g in gpus):
        print("# WARNING: idemnet and PyTorch report different GPUs")
    target_gpu = any(("H100" in g or "H200" in g) for g in gpus + ([idemnet_gpu] if idemnet_gpu else []))
    if any(r["backend"] != "cpu" for r in rows) and not target_gpu:
        print("# note: the targets were set for an H100/H200; this run's GPU is neither (verdicts are indicative)")

    hdr = ["step", "batch", "tf32", "idemnet backend", "idemnet ms", "+-", "PyTorch ms", "PyTorch/idemnet",
           "ratio target", "met", "GEMM bound ms", "idemnet/bound", "bound target", "bound met"]
    table = []
    missing = []
    for row in sorted(rows, key=lambda r: (r["kind"], label(r), r["tf32"], r["backend"])):
        name, batch = label(row)
        t = match(row, recs)
        if t is None:
            missing.append(f"{name} batch {batch} tf32 {row['tf32']} on {row['backend']}")
            continue
        ratio = t["median_ms"] / row["ms"]
        tg = targets(row) if row["backend"] != "cpu" else None
        met_ratio = "-" if tg is None else ("yes" if ratio >= tg[0] else "NO")
        bound = t.get("bound_ms")
        over = row["ms"] / bound if bound else None
        met_bound = "-" if (tg is None or tg[1] is None or over is None) else ("yes" if over <= tg[1] else "NO")
        table.append([name, batch, "on" if row["tf32"] else "off", row["backend"], f"{row['ms']:.4f}",
                      f"{row['err_ms']:.4f}", f"{t['median_ms']:.4f}", f"{ratio:.2f}",
                      f">= {tg[0]:g}" if tg else "-", met_ratio,
                      f"{bound:.4f}" if bound else "-", f"{over:.2f}" if over else "-",
                      f"<= {tg[1]:g}" if tg and tg[1] else "-", met_bound])
    widths = [max(len(str(x)) for x in col) for col in zip(hdr, *table)] if table else [len(h) for h in hdr]
    print("  ".join(h.ljust(w) for h, w in zip(hdr, widths)))
    print("  ".join("-" * w for w in widths))
    for r in table:
        print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))
    for m in missing:
        print(f"# no PyTorch record for {m}")
    print("# PyTorch/idemnet = PyTorch's median step / idemnet's JMH average (> 1: idemnet faster); "
          "idemnet/bound = idemnet's step / mb_step.py's GEMM bound (cuda: the step's GEMMs timed alone "
          "with torch.matmul; cpu: the GEMM FLOPs over the best torch.mm rate)")
    if a.csv:
        with open(a.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["gpu_idemnet", "gpu_pytorch"] + hdr)
            for r in table:
                w.writerow([idemnet_gpu or "", ";".join(gpus)] + r)
    if not table:
        sys.exit("no idemnet row had a PyTorch counterpart")


if __name__ == "__main__":
    main()
