#!/usr/bin/env python3
"""Side-by-side: PyTorch step times (mb_step.py JSON) against idemnet's JMH results.

    python3 bench/pytorch/compare.py JMH.json PYTORCH.json [--bench MbStepBench.step]

JMH.json is JMH's `-rf json` output: a list of objects with "benchmark", "params" (a dict, may be
absent) and "primaryMetric": {"score", "scoreError", "scoreUnit"}. The idemnet step benchmark is
expected as e.g. io.idemnet.bench.MbStepBench.step with params {"net": "B1", "mode": "MB"}; where
the params are absent, the network (B1..B4) and mode (MB/OB) are looked for in the benchmark name.
Params "batch" and "threads", where present, must match the PyTorch record's. Time units s/op,
ms/op, us/op and ns/op are understood, and throughput units (ops/s, ops/ms, ops/us, ops/ns) are
turned into a time per op.

Printed per (network, mode): idemnet's score (+- its error), PyTorch's median and min step, and the
ratios PyTorch / idemnet (> 1: idemnet is faster). Standard library only: any python3 runs it.
"""

import argparse
import json
import re
import sys

TIME_US = {"s/op": 1e6, "ms/op": 1e3, "us/op": 1.0, "\u00b5s/op": 1.0, "ns/op": 1e-3}
THRPT_US = {"ops/s": 1e6, "ops/ms": 1e3, "ops/us": 1.0, "ops/\u00b5s": 1.0, "ops/ns": 1e-3}


def to_us(score, error, unit):
    """(score, error) in microseconds per op; the error is symmetric-approximated for throughput."""
    u = unit.strip()
    if u in TIME_US:
        k = TIME_US[u]
        return score * k, (error * k if error == error else float("nan"))
    if u in THRPT_US:
        # score ops per unit -> unit/score per op; unit in us is THRPT_US[u]
        k = THRPT_US[u]
        t = k / score
        err = k * error / (score * score) if error == error else float("nan")
        return t, err
    raise ValueError(f"unknown JMH unit {unit!r}")


def net_mode_from(bench, params):
    net = mode = None
    if params:
        for key in ("net", "network"):
            if key in params:
                net = str(params[key]).upper()
        if "mode" in params:
            mode = str(params["mode"]).upper()
    tail = bench.rsplit(".", 2)[-2:]  # class and method, e.g. MbStepBench.b3Ob
    name = ".".join(tail)
    if net is None:
        m = re.search(r"(?i)b([1-4])(?![0-9])", name)
        if m:
            net = "B" + m.group(1)
    if mode is None:
        m = re.search(r"(?i)(mb|ob)", name.split(".")[-1])  # in the method name only
        if m:
            mode = m.group(1).upper()
    return net, mode


def load_jmh(path, bench_filter):
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list (JMH -rf json)")
    rows = []
    for e in data:
        bench = e.get("benchmark", "")
        if bench_filter and bench_filter not in bench:
            continue
        params = e.get("params") or {}
        net, mode = net_mode_from(bench, params)
        if net is None or mode is None:
            print(f"warning: cannot tell network/mode of {bench} {params}; skipped", file=sys.stderr)
            continue
        pm = e["primaryMetric"]
        err = pm.get("scoreError")
        err = float(err) if isinstance(err, (int, float)) else float("nan")
        us, err_us = to_us(float(pm["score"]), err, pm["scoreUnit"])
        rows.append({"net": net, "mode": mode, "us": us, "err_us": err_us, "bench": bench,
                     "params": params, "jmh_mode": e.get("mode", "?")})
    return rows


def load_torch(path):
    with open(path) as f:
        data = json.load(f)
    if isinstance(data, dict):
        data = data.get("results", [])
    return data


def main():
    p = argparse.ArgumentParser(description="PyTorch / idemnet step-time ratios")
    p.add_argument("jmh", help="JMH -rf json result file")
    p.add_argument("torch", help="mb_step.py --json result file")
    p.add_argument("--bench", default="MbStepBench",
                   help="only JMH benchmarks whose name contains this (default MbStepBench)")
    a = p.parse_args()

    jmh = load_jmh(a.jmh, a.bench)
    tor = load_torch(a.torch)
    if not jmh:
        sys.exit(f"no JMH benchmark matching {a.bench!r} in {a.jmh}")

    meta = tor[0] if tor else {}
    print(f"# PyTorch {meta.get('torch_version', '?')} on {meta.get('cpu_model', '?')}, "
          f"{meta.get('date', '?')}; idemnet from {a.jmh}")
    hdr = (f"{'net':<4} {'mode':<4} {'batch':>5} {'thr':>3} {'idemnet_us':>12} {'+-':>9} "
           f"{'torch_med_us':>13} {'torch_min_us':>13} {'med/idemnet':>11} {'min/idemnet':>11}")
    print(hdr)
    print("-" * len(hdr))
    unmatched = []
    for r in sorted(jmh, key=lambda r: (r["net"], r["mode"], str(r["params"]))):
        cands = [t for t in tor
                 if str(t.get("network", "")).upper() == r["net"]
                 and str(t.get("mode", "")).upper() == r["mode"]]
        for key, tkey in (("batch", "batch"), ("threads", "threads")):
            if key in r["params"]:
                cands = [t for t in cands if str(t.get(tkey)) == str(r["params"][key])]
        if not cands:
            unmatched.append(r)
            continue
        if len(cands) > 1:
            print(f"warning: {len(cands)} PyTorch records for {r['net']} {r['mode']}; "
                  f"using the first", file=sys.stderr)
        t = cands[0]
        med, mn = float(t["median_us"]), float(t["min_us"])
        print(f"{r['net']:<4} {r['mode']:<4} {t.get('batch', '?'):>5} {t.get('threads', '?'):>3} "
              f"{r['us']:>12.1f} {r['err_us']:>9.1f} {med:>13.1f} {mn:>13.1f} "
              f"{med / r['us']:>11.2f} {mn / r['us']:>11.2f}")
    for r in unmatched:
        print(f"# no PyTorch record for {r['net']} {r['mode']} {r['params']} ({r['bench']})")
    print("# ratio = PyTorch time / idemnet time (> 1: idemnet faster); JMH score is its "
          "primary metric (average time per op in AverageTime mode), PyTorch's the per-step "
          "median/min")


if __name__ == "__main__":
    main()
