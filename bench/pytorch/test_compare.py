"""Tests of compare.py's matching, units and target verdicts on small hand-made inputs.

The numbers here are invented for the checks (no measurement): each is chosen to land on one side
of a target. Run: python3 -m unittest discover -s bench/pytorch -p 'test_*.py'
"""

import csv
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def jmh(bench, score, unit, **params):
    return {"benchmark": f"io.idemnet.bench.{bench}.step", "params": {k: str(v) for k, v in params.items()},
            "primaryMetric": {"score": score, "scoreError": score / 100, "scoreUnit": unit}}


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            if isinstance(data, str):
                f.write(data)
            else:
                json.dump(data, f)
        return path

    def run_compare(self, *args):
        out_csv = os.path.join(self.dir, "out.csv")
        proc = subprocess.run([sys.executable, os.path.join(HERE, "compare.py"), *args, "--csv", out_csv],
                              capture_output=True, text=True)
        rows = []
        if os.path.exists(out_csv):
            with open(out_csv) as f:
                rows = list(csv.DictReader(f))
        return proc, rows

    def test_gpu_rows_get_the_issue_targets(self):
        j = self.write("jmh.json", [
            jmh("MbStepBench", 100.0, "us/op", net="B1", mode="MB", batch=1000, backend="cuda", tf32="false"),
            jmh("MbStepBench", 2.0, "ms/op", net="B3", mode="MB", batch=1000, backend="cuda", tf32="false"),
            jmh("MbStepBench", 1.0, "ms/op", net="B4", mode="OB", batch=1000, backend="cuda", tf32="true"),
            jmh("IgnStepBench", 40.0, "ms/op", mode="MODIFIED", batch=512, net="paper", width="1.0", backend="cuda",
                tf32="false"),
        ])
        gpu = {"device": "cuda", "gpu_name": "NVIDIA H200"}
        mb = self.write("mb.json", [
            dict(gpu, network="B1", mode="MB", batch=1000, tf32=False, median_us=600.0, gemm_bound_us=5.0),
            dict(gpu, network="B3", mode="MB", batch=1000, tf32=False, median_us=2200.0, gemm_bound_us=1800.0),
            dict(gpu, network="B4", mode="OB", batch=1000, tf32=True, median_us=1500.0, gemm_bound_us=500.0),
        ])
        ign = self.write("ign.json", {"meta": dict(gpu, tf32=False), "results": [
            {"mode": "mb", "net": "paper", "batch": 512, "width": 1.0, "median_s": 0.052}]})
        info = self.write("info.txt", "cuda.device=NVIDIA H200 (sm_90, 139.8 GiB)\ncuda.gemm=cuBLAS\n")
        proc, rows = self.run_compare("--jmh", j, "--mb", mb, "--ign", ign, "--info", info)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("NVIDIA H200", proc.stdout)
        by = {r["step"] + " " + r["tf32"]: r for r in rows}
        b1 = by["MB step B1 off"]
        self.assertEqual(b1["PyTorch/idemnet"], "6.00")      # 600 us / 100 us, target >= 5
        self.assertEqual(b1["met"], "yes")
        b3 = by["MB step B3 off"]
        self.assertEqual(b3["PyTorch/idemnet"], "1.10")      # 2.2 / 2.0 ms, target >= 1.2
        self.assertEqual(b3["met"], "NO")
        self.assertEqual(b3["idemnet/bound"], "1.11")        # 2.0 / 1.8 ms, target <= 1.3
        self.assertEqual(b3["bound met"], "yes")
        b4 = by["OB step B4 on"]
        self.assertEqual(b4["met"], "yes")                    # 1.5 / 1.0
        self.assertEqual(b4["bound met"], "NO")               # 1.0 / 0.5 = 2.0
        ign_row = by["IGN modified (paper) off"]
        self.assertEqual(ign_row["PyTorch/idemnet"], "1.30")  # 52 / 40 ms, target >= 1.2
        self.assertEqual(ign_row["met"], "yes")
        self.assertEqual(ign_row["bound met"], "-")

    def test_no_pairing_across_devices_tf32_settings_or_solvers(self):
        j = self.write("jmh.json", [
            jmh("MbStepBench", 100.0, "us/op", net="B2", mode="OB", batch=1000, backend="cuda", tf32="false"),
            jmh("MbStepBench", 100.0, "us/op", net="B3", mode="OB", batch=1000, backend="cuda", tf32="true"),
            jmh("FpnStepBench", 10.0, "ms/op", variant="jfb", anderson=5, backend="cuda", tf32="false"),
            jmh("FpnStepBench", 10.0, "ms/op", variant="jfb", anderson=1, backend="cuda", tf32="false"),
        ])
        mb = self.write("mb.json", [
            {"network": "B2", "mode": "OB", "batch": 1000, "median_us": 900.0},          # a cpu record
            {"network": "B3", "mode": "OB", "batch": 1000, "median_us": 900.0, "device": "cuda", "tf32": False},
        ])
        fpn = self.write("fpn.json", {"meta": {"device": "cuda", "tf32": False, "batch": 128},
                                      "results": [{"variant": "jfb", "median_ms": 12.0}]})
        proc, rows = self.run_compare("--jmh", j, "--mb", mb, "--fpn", fpn)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual([r["step"] for r in rows], ["FPN jfb (Anderson 1)"])
        self.assertEqual(rows[0]["PyTorch/idemnet"], "1.20")
        self.assertEqual(rows[0]["ratio target"], "-")  # the issue sets no FPN target
        self.assertIn("no PyTorch record for OB step B2", proc.stdout)
        self.assertIn("no PyTorch record for OB step B3", proc.stdout)
        self.assertIn("no PyTorch record for FPN jfb (Anderson 5)", proc.stdout)

    def test_cpu_rows_carry_no_verdict_and_throughput_units_convert(self):
        j = self.write("jmh.json", [
            jmh("MbStepBench", 10.0, "ops/s", net="B1", mode="MB", batch=1000),  # 100 ms per op
        ])
        mb = self.write("mb.json", [{"network": "B1", "mode": "MB", "batch": 1000, "median_us": 50000.0}])
        proc, rows = self.run_compare(j, mb)  # the older two-argument form
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(rows[0]["idemnet ms"], "100.0000")
        self.assertEqual(rows[0]["PyTorch/idemnet"], "0.50")
        self.assertEqual(rows[0]["met"], "-")

    def test_nothing_matched_is_an_error(self):
        j = self.write("jmh.json", [jmh("MbStepBench", 1.0, "ms/op", net="B1", mode="MB", batch=1000, backend="cuda")])
        mb = self.write("mb.json", [{"network": "B1", "mode": "MB", "batch": 1000, "median_us": 5.0}])
        proc, _ = self.run_compare("--jmh", j, "--mb", mb)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("no idemnet row had a PyTorch counterpart", proc.stderr)


if __name__ == "__main__":
    unittest.main()
