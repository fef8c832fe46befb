#!/usr/bin/env bash
# The whole GPU check in one command, for a GPU machine with nvcc, CMake and PyTorch but no Java,
# Maven or network (the device tool's machines; docs/developing.md, "GPU runs", says how to call it):
#
#   bash bench/gpu/run-on-device.sh            full run, at most 6 minutes:
#       Java runtime from .devicelib, libidemnet_cuda built here with nvcc for this GPU, the GPU
#       tests (JUnit tag gpu: every backend contract test against the reference backend on the GPU,
#       whole training steps against the cpu backend), the kernel contract again with the builtin
#       GEMM, the JMH step benchmarks (cuda and cuda-graphs; TF32 variants of B3, B4 and IGN) each
#       followed by its PyTorch counterpart on cuda, and the side-by-side table with the targets
#   bash bench/gpu/run-on-device.sh --quick    at most 3 minutes: build, GPU tests, one benchmark
#                                              (the MB step of B3 on both sides)
#   bash bench/gpu/run-on-device.sh --dry-run  the same path on a machine without a GPU, with the
#       cpu backend: packaging (when .devicelib is missing or stale), runtime, launcher, tests (the
#       gpu-tagged ones skip; the CPU kernel contract runs), one short benchmark, PyTorch on the CPU
#       where torch imports, the archive. Exits 0 when all of that works (CI runs it).
#
# It fails loudly (exit status 1, FAIL in the summary) when the cuda backend would not multiply
# through cuBLAS, when PyTorch on cuda has no cuDNN, when a test fails or a phase overruns.
# Writes exactly two files to $OUT (default bench/gpu/out): idemnet-gpu-<mode>-<time>.tar.gz (all
# logs, JUnit reports, JMH and PyTorch JSON, the table as text and CSV) and summary.txt.
# Needs .devicelib/ from scripts/package-devicelib.sh, packed from this same work tree.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }
MODE=full
for arg in "$@"; do
  case $arg in
    --quick) MODE=quick ;;
    --dry-run) MODE=dry-run ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
# Seconds for everything before the archive; the archive and summary take a few more.
# The dry run's is a safety net, not a target: it takes well under a minute on an idle machine.
case $MODE in full) BUDGET=345 ;; quick) BUDGET=170 ;; dry-run) BUDGET=240 ;; esac

OUT=${OUT:-$ROOT/bench/gpu/out}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
NAME=idemnet-gpu-$MODE-$STAMP
WORK=$(mktemp -d "${TMPDIR:-/tmp}/idemnet-device.XXXXXX")
RES=$WORK/$NAME          # everything that goes into the archive
LIB=$ROOT/.devicelib
mkdir -p "$OUT" "$RES"
rm -f "$OUT"/idemnet-gpu-*.tar.gz "$OUT/summary.txt"   # this script's own earlier outputs only
START=$(date +%s)

# ------------------------------------------------------------------ helpers (state lives in $RES files)

note() { echo "$*" | tee -a "$RES/notes.txt"; }
fail() { echo "FAIL: $*" | tee -a "$RES/failures.txt" >&2; }
# phase NAME STATUS: one line of the summary's phase table, with the seconds since the previous one.
phase_start() { PHASE_T0=$(date +%s); echo; echo "== $1"; }
phase_end() { printf '%-28s %-40s %4ds\n' "$1" "$2" $(($(date +%s) - PHASE_T0)) >> "$RES/phases.txt"; }
# Seconds a command may take: the smaller of what it asks for and what is left of the budget.
limit_for() {
  local left=$((START + BUDGET - $(date +%s)))
  echo $(($1 < left ? $1 : left))
}
# run_limited SECONDS LOG COMMAND...: runs it with a timeout, output to LOG and the console.
run_limited() {
  local secs=$1 log=$2
  shift 2
  if ((secs < 5)); then
    echo "not run: the run's ${BUDGET}s budget is spent" | tee -a "$log"
    return 124
  fi
  timeout --kill-after=10 "$secs" "$@" 2>&1 | tee -a "$log"
  return "${PIPESTATUS[0]}"
}
status_of() { # exit status -> word for the phase table
  case $1 in 0) echo ok ;; 124 | 137) echo "TIMED OUT" ;; *) echo "FAILED (exit $1)" ;; esac
}

# ------------------------------------------------------------------ the run

main() {
  echo "idemnet GPU run, mode $MODE, $(date -u +%FT%TZ) on $(hostname), budget ${BUDGET}s"

  phase_start "device"
  if [[ $MODE == dry-run ]]; then
    note "dry run: no GPU is used (cpu backend)"
    nvidia-smi > "$RES/nvidia-smi.txt" 2>&1 || echo "(no nvidia-smi here)" >> "$RES/nvidia-smi.txt"
    phase_end device "dry run"
  else
    if ! nvidia-smi > "$RES/nvidia-smi.txt" 2>&1; then
      fail "nvidia-smi failed: no usable NVIDIA GPU here (use --dry-run on a machine without one)"
      cat "$RES/nvidia-smi.txt"
      phase_end device FAILED
      return 1
    fi
    head -15 "$RES/nvidia-smi.txt"
    GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
    CAP=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
    echo "$GPU_NAME, compute capability $CAP" | tee "$RES/gpu.txt"
    phase_end device "$GPU_NAME (sm_$CAP)"
  fi

  phase_start "package"
  source bench/gpu/sources.sh
  local want_hash have_hash
  want_hash=$(idemnet_source_hash)
  have_hash=$(sed -n 's/^source_hash=//p' "$LIB/MANIFEST.txt" 2>/dev/null)
  if [[ $MODE == dry-run && $have_hash != "$want_hash" ]]; then
    echo "packing .devicelib (${have_hash:-missing} != sources $want_hash)"
    if ! bash scripts/package-devicelib.sh > "$RES/package.log" 2>&1; then
      tail -30 "$RES/package.log"
      fail "scripts/package-devicelib.sh failed (package.log)"
      phase_end package FAILED
      return 1
    fi
    tail -3 "$RES/package.log"
    have_hash=$(sed -n 's/^source_hash=//p' "$LIB/MANIFEST.txt")
    note "dry run: packed .devicelib in $(($(date +%s) - PHASE_T0)) s (outside the ${BUDGET} s budget)"
    START=$(date +%s)
  fi
  if [[ ! -f $LIB/MANIFEST.txt ]]; then
    fail ".devicelib is missing: run scripts/package-devicelib.sh where Maven works and carry .devicelib"
    phase_end package FAILED
    return 1
  fi
  cp "$LIB/MANIFEST.txt" "$RES/devicelib-manifest.txt"
  if [[ $have_hash != "$want_hash" ]]; then
    fail ".devicelib was packed from other sources (hash $have_hash) than this work tree ($want_hash):" \
      "run scripts/package-devicelib.sh again and carry the new .devicelib"
    phase_end package "FAILED (stale)"
    return 1
  fi
  grep -E '^(commit|packed|uncommitted_files)=' "$LIB/MANIFEST.txt"
  phase_end package "ok ($(sed -n 's/^commit=//p' "$LIB/MANIFEST.txt" | cut -c1-12))"

  phase_start "java runtime"
  if [[ -x $ROOT/.jre/bin/java ]] && "$ROOT/.jre/bin/java" -version > /dev/null 2>&1; then
    JAVA=$ROOT/.jre/bin/java
  else
    tar -C "$WORK" -xzf "$LIB/jre.tar.gz" && JAVA=$WORK/jre/bin/java
  fi
  if ! "$JAVA" -version > "$RES/java-version.txt" 2>&1; then
    cat "$RES/java-version.txt"
    fail "no working Java runtime (.jre/ or .devicelib/jre.tar.gz)"
    phase_end "java runtime" FAILED
    return 1
  fi
  head -1 "$RES/java-version.txt"
  phase_end "java runtime" "$(head -1 "$RES/java-version.txt" | cut -c1-40)"

  phase_start "cuda libraries"
  if [[ $MODE == dry-run ]]; then
    phase_end "cuda libraries" "dry run: not needed"
  else
    # cuBLAS and cuDNN from PyTorch's NVIDIA wheels (nvidia/<package>/lib), first on the search path.
    local wheel_libs
    wheel_libs=$(python3 -c 'import glob, os, nvidia
print(":".join(d for p in nvidia.__path__ for d in sorted(glob.glob(os.path.join(p, "*", "lib")))))' 2> /dev/null)
    [[ -n $wheel_libs ]] || wheel_libs=$(ls -d /opt/torch/.venv/lib/python3*/site-packages/nvidia/*/lib 2> /dev/null | paste -sd: -)
    export LD_LIBRARY_PATH=${wheel_libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" | tee "$RES/ld-library-path.txt"
    phase_end "cuda libraries" "$(echo "$wheel_libs" | tr ':' '\n' | grep -c . ) wheel lib folders"
  fi

  phase_start "native build"
  NATIVE=$WORK/native
  mkdir -p "$NATIVE"
  cp "$LIB"/native/*.so "$NATIVE/"
  if [[ $MODE == dry-run ]]; then
    note "dry run: no nvcc build; libraries from .devicelib/native"
    phase_end "native build" "dry run: prebuilt"
  else
    local nvcc rc
    nvcc=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2> /dev/null | head -1)
    if [[ -z $nvcc ]] || ! command -v cmake > /dev/null; then
      fail "no nvcc or cmake here; using the prebuilt libidemnet_cuda from .devicelib"
      phase_end "native build" "FAILED (prebuilt used)"
    else
      echo "nvcc $nvcc ($("$nvcc" --version | tail -1)), sm_$CAP"
      run_limited "$(limit_for 150)" "$RES/cmake.log" bash -c '
        cmake -S "$1" -B "$2/build" -DIDEMNET_CUDA_ONLY=ON -DCMAKE_BUILD_TYPE=Release \
          -DCMAKE_CUDA_COMPILER="$3" -DCMAKE_CUDA_ARCHITECTURES="$4" -DIDEMNET_OUTPUT_DIR="$2/build/out" \
        && cmake --build "$2/build" --parallel "$(nproc)"' _ "$ROOT" "$WORK" "$nvcc" "$CAP" > /dev/null
      rc=$?
      if ((rc == 0)) && [[ -f $WORK/build/out/libidemnet_cuda.so ]]; then
        cp "$WORK/build/out/libidemnet_cuda.so" "$NATIVE/"
        echo "built libidemnet_cuda.so for sm_$CAP"
        phase_end "native build" "ok (nvcc, sm_$CAP)"
      else
        tail -25 "$RES/cmake.log"
        fail "building libidemnet_cuda with nvcc failed ($(status_of $rc); cmake.log); using the prebuilt one"
        phase_end "native build" "$(status_of $rc) (prebuilt used)"
      fi
    fi
  fi

  JOPTS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xss4m
    -Didemnet.native.dir="$NATIVE" -Didemnet.cache.dir="$WORK/cache")
  CORE_CP=$LIB/idemnet-core.jar
  for j in "$LIB"/lib/*.jar; do [[ $j == *junit-platform-console-standalone* ]] || CORE_CP=$CORE_CP:$j; done
  BENCH_CP=$LIB/idemnet-bench.jar:$CORE_CP
  TEST_CP=$LIB/idemnet-tests.jar:$CORE_CP
  CONSOLE=$(ls "$LIB"/lib/junit-platform-console-standalone-*.jar 2> /dev/null | head -1)

  phase_start "device info"
  local require=()
  [[ $MODE == dry-run ]] || require=(--require-cuda)
  "$JAVA" "${JOPTS[@]}" -cp "$BENCH_CP" io.idemnet.bench.DeviceInfo "${require[@]}" > "$RES/device-info.txt" 2> "$RES/device-info.err"
  local info_rc=$?
  cat "$RES/device-info.txt" "$RES/device-info.err"
  IGN_NET=$(sed -n 's/^ign\.table2=//p' "$RES/device-info.txt")
  IGN_NET=${IGN_NET:-mnist}
  RUN_BENCH=1
  if ((info_rc != 0)); then
    fail "the cuda backend is not usable with cuBLAS: $(tail -1 "$RES/device-info.err"); benchmarks skipped"
    RUN_BENCH=0
    phase_end "device info" "FAILED (no cuBLAS): benchmarks skipped"
  else
    phase_end "device info" "ok; IGN Table 2 network: $IGN_NET"
  fi

  if [[ $MODE == dry-run ]]; then
    run_tests gpu-tagged 60 -Didemnet.test.requireGpu=false -- --select-package io.idemnet --include-tag gpu
    if ! grep -Eq '^\[ *[1-9][0-9]* containers aborted' "$RES/tests-gpu-tagged.log"; then
      fail "the gpu-tagged selection skipped no test class: the GPU tests were not found in the test jar"
    fi
    # A few CPU tests through the same launcher, runtime and packed libraries (the whole CPU
    # contract takes minutes on a busy machine): the cuda library's load without a GPU, OpenBLAS.
    run_tests cpu-sample 60 -- --select-class io.idemnet.backend.cuda.CudaSelectionTest \
      --select-method 'io.idemnet.backend.cpu.CpuVsReferenceTest#gemmBatched' \
      --select-method 'io.idemnet.backend.cpu.CpuVsReferenceTest#corrector(int, int)' 
  else
    run_tests gpu 150 -Didemnet.test.requireGpu=true -- --select-package io.idemnet --include-tag gpu
    if [[ $MODE == full ]]; then
      run_tests builtin-gemm 60 -Didemnet.test.requireGpu=true -Didemnet.cuda.gemm=builtin -- \
        --select-class io.idemnet.backend.cuda.CudaVsReferenceTest --select-class io.idemnet.backend.cuda.CudaConvKernelsTest
    fi
  fi

  find_torch_python
  if [[ $RUN_BENCH == 1 ]]; then
    benchmarks_$( [[ $MODE == dry-run ]] && echo dry_run || echo "$MODE")
    compare_table
  fi
}

# run_tests NAME SECONDS [JVM options...] -- [launcher selectors...]
run_tests() {
  local name=$1 want=$2
  shift 2
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  phase_start "tests: $name"
  if [[ -z $CONSOLE ]]; then
    fail "the JUnit console launcher is not in .devicelib/lib"
    phase_end "tests: $name" FAILED
    return
  fi
  run_limited "$(limit_for "$want")" "$RES/tests-$name.log" "$JAVA" "${JOPTS[@]}" "${opts[@]}" -jar "$CONSOLE" execute \
    --disable-banner --disable-ansi-colors --details=tree --details-theme=ascii --fail-if-no-tests \
    --class-path "$TEST_CP" --reports-dir "$RES/junit-$name" "$@" > /dev/null
  local rc=$?
  local counts
  counts=$(grep -E '^\[ *[0-9]+ (tests (successful|failed|skipped|aborted)|containers (failed|aborted)) *\]' \
    "$RES/tests-$name.log" | sed -E 's/^\[ *//; s/ *\]$//' | paste -sd, -)
  grep -E '^\[ *[0-9]+ (tests|containers) (found|successful|failed|skipped|aborted)' "$RES/tests-$name.log"
  grep -F '[gpu tests]' "$RES/tests-$name.log" | sort -u
  if ((rc != 0)); then
    grep -E -B2 -A6 '\[X\]|AssertionFailedError|Exception:' "$RES/tests-$name.log" | head -80
    fail "tests $name: $(status_of $rc) ($counts)"
  fi
  phase_end "tests: $name" "$(status_of $rc): ${counts:-no counts}"
}

# The python3 that imports torch (on the device: the image's python3).
find_torch_python() {
  PY=
  for p in ${PYTHON:-} python3 /usr/bin/python3; do
    if "$p" -c 'import torch' > /dev/null 2>&1; then PY=$p; break; fi
  done
}

# jmh NAME SECONDS [JMH arguments...]: one JMH run, JSON to jmh-NAME.json.
jmh() {
  local name=$1 want=$2
  shift 2
  phase_start "idemnet: $name"
  run_limited "$(limit_for "$want")" "$RES/jmh-$name.log" "$JAVA" "${JOPTS[@]}" -cp "$BENCH_CP" org.openjdk.jmh.Main \
    -foe false -rf json -rff "$RES/jmh-$name.json" "$@" > /dev/null
  local rc=$?
  grep -E '^(Benchmark|[A-Za-z]+StepBench\.step) ' "$RES/jmh-$name.log"
  grep -ho 'SKIPPED: .*' "$RES/jmh-$name.log" | sort -u | tee -a "$RES/skipped.txt"
  # A parameter set that failed for another reason than a skip: its exception, loudly.
  local errors
  errors=$(grep -A2 '<failure>' "$RES/jmh-$name.log" | grep -v -E '<failure>|^--$|^$|^\s|SKIPPED')
  if [[ -n $errors ]]; then
    echo "$errors"
    fail "JMH $name: $(echo "$errors" | wc -l) parameter set(s) failed: $(echo "$errors" | head -1)"
  fi
  local runs
  runs=$(grep -c '"benchmark"' "$RES/jmh-$name.json" 2> /dev/null)
  ((rc == 0)) || fail "JMH $name: $(status_of $rc)"
  local skips
  skips=$(grep -c 'SKIPPED: ' "$RES/jmh-$name.log")
  if ((${runs:-0} == 0)); then
    # Every parameter set skipped with its reason (e.g. no step capturable yet) is a finding, not
    # a failure; nothing measured and nothing skipped is.
    ((skips > 0)) && note "JMH $name: every parameter set was skipped (reasons below)" || fail "JMH $name measured nothing"
  fi
  phase_end "idemnet: $name" "$(status_of $rc): ${runs:-0} measured, $skips skipped"
}

# torch_step NAME SECONDS SCRIPT [arguments...]: one PyTorch script, JSON to pytorch-NAME.json.
torch_step() {
  local name=$1 want=$2 script=$3
  shift 3
  phase_start "PyTorch: $name"
  if [[ -z $PY ]]; then
    if [[ $MODE == dry-run ]]; then
      note "dry run: no python3 here imports torch; PyTorch $name skipped"
      phase_end "PyTorch: $name" "skipped (no torch here)"
    else
      fail "no python3 here imports torch; PyTorch $name not run"
      phase_end "PyTorch: $name" "FAILED (no torch)"
    fi
    return
  fi
  run_limited "$(limit_for "$want")" "$RES/pytorch-$name.log" env PYTHONUNBUFFERED=1 "$PY" "bench/pytorch/$script" \
    --json "$RES/pytorch-$name.json" "$@" > /dev/null
  local rc=$?
  grep -v '^# done' "$RES/pytorch-$name.log" | tail -14
  ((rc == 0)) || fail "PyTorch $name: $(status_of $rc)"
  phase_end "PyTorch: $name" "$(status_of $rc)"
}

JMH_GPU=(-f 1 -wi 2 -w 300ms -i 3 -r 500ms)
TORCH_GPU=(--device cuda --min-time 1 --min-steps 20)

# In order of importance: a phase cut off by the budget loses only what comes after it. The
# cuda-graphs parameter sets run after the eager pairs: a step that cannot be captured skips,
# but each still costs a JVM start.
benchmarks_full() {
  jmh mb 60 MbStepBench "${JMH_GPU[@]}" -p backend=cuda -p tf32=false
  torch_step mb 35 mb_step.py "${TORCH_GPU[@]}" --warmup-time 0.3
  jmh ign 30 IgnStepBench "${JMH_GPU[@]}" -p backend=cuda -p tf32=false -p batch=512 -p net="$IGN_NET"
  torch_step ign 30 ign_step.py "${TORCH_GPU[@]}" --batch 512 --net "$IGN_NET" --warmup-steps 3 --cudnn-benchmark
  jmh fpn 20 FpnStepBench "${JMH_GPU[@]}" -p backend=cuda -p tf32=false -p variant=jfb -p anderson=1
  torch_step fpn 20 fpn_step.py "${TORCH_GPU[@]}" --variants jfb --cudnn-benchmark
  jmh mb-tf32 25 MbStepBench "${JMH_GPU[@]}" -p backend=cuda -p tf32=true -p net=B3,B4
  torch_step mb-tf32 20 mb_step.py "${TORCH_GPU[@]}" --warmup-time 0.3 --tf32 --nets B3,B4
  jmh ign-tf32 15 IgnStepBench "${JMH_GPU[@]}" -p backend=cuda -p tf32=true -p batch=512 -p net="$IGN_NET" -p mode=MODIFIED
  torch_step ign-tf32 15 ign_step.py "${TORCH_GPU[@]}" --tf32 --batch 512 --net "$IGN_NET" --modes mb --warmup-steps 3 \
    --cudnn-benchmark
  jmh mb-graphs 45 MbStepBench "${JMH_GPU[@]}" -p backend=cuda-graphs -p tf32=false
  jmh ign-graphs 15 IgnStepBench "${JMH_GPU[@]}" -p backend=cuda-graphs -p tf32=false -p batch=512 -p net="$IGN_NET"
  jmh fpn-graphs 10 FpnStepBench "${JMH_GPU[@]}" -p backend=cuda-graphs -p tf32=false -p variant=jfb -p anderson=1
}

benchmarks_quick() {
  jmh mb 25 MbStepBench "${JMH_GPU[@]}" -p backend=cuda -p tf32=false -p net=B3 -p mode=MB
  torch_step mb 20 mb_step.py "${TORCH_GPU[@]}" --warmup-time 0.3 --nets B3 --modes mb
}

benchmarks_dry_run() {
  # backend=cuda as well: its skip message (no GPU here) is part of what the dry run checks.
  note "dry run: the times below are not measurements (one 300 ms iteration, CPU, no warm machine)"
  jmh mb 60 MbStepBench -f 1 -wi 1 -w 200ms -i 1 -r 300ms -p backend=cpu,cuda -p tf32=false -p net=B1 -p mode=MB
  torch_step mb 40 mb_step.py --device cpu --nets B1 --modes mb --min-time 0.3 --min-steps 5 --warmup-time 0.1 \
    --warmup-steps 1
}

compare_table() {
  phase_start "compare"
  local args=() f kind
  for f in "$RES"/jmh-*.json; do [[ -s $f ]] && args+=(--jmh "$f"); done
  for f in "$RES"/pytorch-*.json; do
    [[ -s $f ]] || continue
    kind=$(basename "$f" .json)
    kind=${kind#pytorch-}
    args+=("--${kind%%-*}" "$f")
  done
  if ! ls "$RES"/pytorch-*.json > /dev/null 2>&1; then
    note "no PyTorch results: no table"
    phase_end compare "no PyTorch results"
    return
  fi
  python3 bench/pytorch/compare.py "${args[@]}" --info "$RES/device-info.txt" --csv "$RES/compare.csv" \
    > "$RES/compare.txt" 2>&1
  local rc=$?
  cat "$RES/compare.txt"
  ((rc == 0)) || fail "compare.py: exit $rc"
  phase_end compare "$(status_of $rc)"
}

write_summary() {
  local overall=$1
  {
    echo "idemnet GPU run: $overall"
    echo "mode $MODE, $(date -u +%FT%TZ), host $(hostname), $(($(date +%s) - START)) s (budget ${BUDGET} s + archive)"
    [[ -f $RES/gpu.txt ]] && echo "GPU: $(cat "$RES/gpu.txt")"
    [[ -f $RES/device-info.txt ]] && grep -E '^(cuda|cuda\.device|cuda\.gemm|cuda\.cublas\.path|ign\.table2|ign\.table2\.note)=' "$RES/device-info.txt" \
      | sed 's/^/idemnet /'
    [[ -f $RES/devicelib-manifest.txt ]] && grep -E '^(commit|uncommitted_files|packed|jdk)=' "$RES/devicelib-manifest.txt" \
      | sed 's/^/package /'
    echo
    echo "phases:"
    [[ -f $RES/phases.txt ]] && cat "$RES/phases.txt"
    if [[ -f $RES/failures.txt ]]; then
      echo
      echo "failures:"
      cat "$RES/failures.txt"
    fi
    if [[ -f $RES/skipped.txt ]]; then
      echo
      echo "benchmark parameter sets skipped:"
      sort -u "$RES/skipped.txt"
    fi
    if [[ -f $RES/notes.txt ]]; then
      echo
      echo "notes:"
      cat "$RES/notes.txt"
    fi
    if [[ -f $RES/compare.txt ]]; then
      echo
      cat "$RES/compare.txt"
    fi
    echo
    echo "archive: $NAME.tar.gz (logs, JUnit reports, JMH and PyTorch JSON, compare.txt/.csv)"
  } > "$RES/summary.txt"
}

{ main; } 2>&1 | tee "$RES/run.log"
[[ -f $RES/failures.txt ]] && OVERALL=FAIL || OVERALL=PASS
write_summary "$OVERALL"
tar -C "$WORK" -czf "$OUT/$NAME.tar.gz" "$NAME"
cp "$RES/summary.txt" "$OUT/summary.txt"

# The device tool returns at most 8 files of at most 16 MiB each; this run leaves two.
archive_bytes=$(stat -c %s "$OUT/$NAME.tar.gz")
if ((archive_bytes > 16 * 1024 * 1024)); then
  echo "FAIL: the archive is $archive_bytes bytes, over the 16 MiB a returned file may have" | tee -a "$OUT/summary.txt"
  OVERALL=FAIL
fi
if [[ $MODE == dry-run ]]; then
  # What the device run must bring back, checked here where it is cheap to fix.
  members=$(tar -tzf "$OUT/$NAME.tar.gz")
  for want in run.log summary.txt device-info.txt tests-gpu-tagged.log tests-cpu-sample.log jmh-mb.json; do
    grep -q "/$want\$" <<< "$members" || { echo "FAIL: $want is not in the archive" | tee -a "$OUT/summary.txt"; OVERALL=FAIL; }
  done
  files=$(find "$OUT" -maxdepth 1 -type f | wc -l)
  ((files == 2)) || { echo "FAIL: $OUT holds $files files, not 2" | tee -a "$OUT/summary.txt"; OVERALL=FAIL; }
fi
echo
echo "======================================================================== summary"
cat "$OUT/summary.txt"
echo "written: $OUT/$NAME.tar.gz ($archive_bytes bytes), $OUT/summary.txt"
[[ ${IDEMNET_KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"
[[ $OVERALL == PASS ]]
