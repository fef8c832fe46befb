#!/usr/bin/env bash
# The FPN paper's Jacobian-based baseline as its Table 2 runs it, CG capped at 500 iterations,
# beside JFB and CG capped at 50 Jacobian products (our earlier default), on a bounded slice of
# Fashion-MNIST: the first 6,400 training images (50 batches of 128), one epoch, 48 feature maps,
# Anderson 5, one CPU thread. Rows go to $OUT/fashion-mnist-cg500-train6400.csv.
#
#   OUT=/work/runs/i17b/fpn scripts/fpn-cg500.sh          (GAMMAS="0.9" for one contraction factor)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:?set OUT to the output folder}
mkdir -p "$OUT"
csv="$OUT/fashion-mnist-cg500-train6400.csv"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
fpn() {
  nice -n 10 "$root/idemnet" fpn --data fashion-mnist --epochs 1 --train-limit 6400 --anderson 5 --seed 1 --out "$csv" "$@"
}
for gamma in ${GAMMAS:-0.9 0.5}; do
  fpn --gamma "$gamma" --variant jfb
  fpn --gamma "$gamma" --variant implicit-cg --max-products 50
  fpn --gamma "$gamma" --variant implicit-cg --cg-max-iter 500
done
