#!/usr/bin/env bash
# The B1-B4 comparison runs behind docs/results/idempotent.md, one process at a time, each
# resumable: rerun this script (same OUT) after an interruption and every completed pair of runs
# is kept; at most the pair in progress is lost.
#
#   OUT=/work/runs/i17b scripts/b1-b4-sweep.sh            # CPU, sized for a shared 2-core VM
#   OUT=runs/full BACKEND=cuda FULL=1 scripts/b1-b4-sweep.sh   # the paper's full protocol on a GPU
#
# The paper's protocol (Section 3, Figure 6): 10 runs per learning rate, 2500 epochs, SGD, batch
# 1000 of fresh N(0, 1) data every epoch (read here as one step per epoch). The learning-rate grid
# 0.02, 0.12, ..., 0.92 contains both thresholds Figure 6 quotes (0.22 for B3, 0.52 for B4).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:?set OUT to the output folder}
BACKEND=${BACKEND:-cpu}
FULL=${FULL:-0}
GRID=0.02,0.12,0.22,0.32,0.42,0.52,0.62,0.72,0.82,0.92
threads=()
if [ "$BACKEND" = cpu ]; then
  export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
  threads=(--threads 1)
fi
compare() {
  nice -n 10 "$root/idemnet" compare --backend "$BACKEND" "${threads[@]}" --resume "$@"
}

# B1: the full protocol, then more runs at each algorithm's best rate for the error distributions
# (Figure 12; the paper trains 250 there).
compare --net B1 --lr "$GRID" --runs 10 --epochs 2500 --eval-every 50 --out "$OUT/B1"
best=$(awk -F, 'NR > 1 && $2 == "paper" && !seen[$3]++ { printf "%s%s", sep, $3; sep = "," }' "$OUT/B1/best.csv")
dist_runs=50
[ "$FULL" = 1 ] && dist_runs=250
compare --net B1 --lr "$best" --runs "$dist_runs" --epochs 2500 --eval-every 500 --pca off --no-gradients \
  --out "$OUT/B1-dist"

if [ "$FULL" = 1 ]; then
  for net in B2 B3 B4; do
    compare --net "$net" --lr "$GRID" --runs 10 --epochs 2500 --eval-every 50 --out "$OUT/$net"
  done
  exit 0
fi

# CPU: B4 and B3 for a few epochs at one rate each (B4: about 20 s a pair of epochs on one shared
# core), then B2 at three rates, one run each, for the full 2500 epochs (about 25 minutes a pair).
compare --net B4 --lr 0.22 --runs 1 --epochs 50 --eval-every 10 --out "$OUT/B4"
compare --net B3 --lr 0.12 --runs 1 --epochs 5 --eval-every 1 --out "$OUT/B3"
compare --net B2 --lr 0.22,0.02,0.52 --runs 1 --epochs 2500 --eval-every 50 --out "$OUT/B2"
