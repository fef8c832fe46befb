#!/usr/bin/env bash
# One-shot verification of the cuda backend on a GPU machine (no Java, Maven or network needed):
#   1. rebuilds libidemnet_cuda with the machine's nvcc and CMake (falls back to the prebuilt one),
#   2. runs the tests of io.idemnet.backend.cuda (the gpu-tagged ones included) with the JUnit
#      console launcher, GPU required (a missing GPU fails instead of skipping),
#   3. runs the kernel contract again with the builtin GEMM kernel instead of cuBLAS,
# and writes logs, JUnit XML reports and a summary under $OUT (default bench/gpu/out).
# Needs: .devicelib/ from scripts/package-devicelib.sh; a Java 25 runtime in .jre/ or
# .devicelib/jre.tar.xz. CUDA libraries (cuBLAS) come from the system or PyTorch's wheels.
# Usage: bench/gpu/run-on-device.sh            exit status: 0 when every test passed
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-$ROOT/bench/gpu/out}
mkdir -p "$OUT"
exec > >(tee "$OUT/run.log") 2>&1
LIB=$ROOT/.devicelib
WORK=${TMPDIR:-/tmp}/idemnet-device
mkdir -p "$WORK"
echo "== $(date -u +%FT%TZ) on $(hostname)"

if [[ ! -f $LIB/idemnet.jar ]]; then
  echo "FATAL: $LIB/idemnet.jar is missing; run scripts/package-devicelib.sh where Maven works and carry .devicelib" >&2
  exit 2
fi

echo "== device"
nvidia-smi 2>&1 | tee "$OUT/nvidia-smi.txt" | head -15
CAP=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')

echo "== Java runtime"
if [[ -x $ROOT/.jre/bin/java ]]; then
  JAVA=$ROOT/.jre/bin/java
elif [[ -f $LIB/jre.tar.xz ]]; then
  rm -rf "$WORK/jre" && tar -C "$WORK" -xJf "$LIB/jre.tar.xz" && JAVA=$WORK/jre/bin/java
else
  echo "FATAL: no Java runtime (.jre/ or .devicelib/jre.tar.xz)" >&2
  exit 2
fi
"$JAVA" -version 2>&1 | head -1

echo "== CUDA libraries from PyTorch's wheels"
TORCH_LIBS=$(ls -d /opt/torch/.venv/lib/python3*/site-packages/nvidia/*/lib 2>/dev/null | paste -sd: -)
export LD_LIBRARY_PATH=${TORCH_LIBS}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
ls /opt/torch/.venv/lib/python3*/site-packages/nvidia/*/lib/libcublas.so* 2>/dev/null | head -3

echo "== libidemnet_cuda"
NATIVE=$WORK/native
rm -rf "$NATIVE" && mkdir -p "$NATIVE"
cp "$LIB/native/libidemnet_cpu.so" "$NATIVE/"
NVCC=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc /opt/torch/.venv/lib/python3*/site-packages/nvidia/cuda_nvcc/bin/nvcc 2>/dev/null | head -1)
BUILT=prebuilt
if [[ -n $NVCC ]] && command -v cmake >/dev/null; then
  ARCHS=${CAP:+${CAP}}
  ARCHS=${ARCHS:-"75-real;80-real;90"}
  echo "nvcc: $NVCC ($("$NVCC" --version | tail -1)); architectures: $ARCHS"
  if cmake -S "$ROOT" -B "$WORK/build" -DIDEMNET_CUDA_ONLY=ON -DCMAKE_CUDA_COMPILER="$NVCC" \
      -DCMAKE_CUDA_ARCHITECTURES="$ARCHS" -DIDEMNET_OUTPUT_DIR="$WORK/build/out" > "$OUT/cmake.log" 2>&1 \
    && cmake --build "$WORK/build" --parallel >> "$OUT/cmake.log" 2>&1; then
    cp "$WORK/build/out/libidemnet_cuda.so" "$NATIVE/" && BUILT="built here with $("$NVCC" --version | tail -1)"
  else
    echo "the CUDA build failed (see cmake.log); using the prebuilt library"
    tail -20 "$OUT/cmake.log"
  fi
else
  echo "no nvcc or cmake here; using the prebuilt library"
fi
[[ -f $NATIVE/libidemnet_cuda.so ]] || cp "$LIB/native/libidemnet_cuda.so" "$NATIVE/"
echo "libidemnet_cuda: $BUILT"

CP=$LIB/idemnet.jar:$LIB/idemnet-tests.jar
for j in "$LIB"/lib/*.jar; do [[ $j == *junit-platform-console-standalone* ]] || CP=$CP:$j; done
CONSOLE=$(ls "$LIB"/lib/junit-platform-console-standalone-*.jar | head -1)
JVM_OPTS=(--enable-native-access=ALL-UNNAMED -Xss4m -Didemnet.native.dir="$NATIVE"
  -Didemnet.cache.dir="$WORK/cache" -Didemnet.test.requireGpu=true)

run_tests() { # name, extra JVM options..., then -- and launcher selectors
  local name=$1; shift
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done; shift
  echo "== tests: $name"
  "$JAVA" "${JVM_OPTS[@]}" "${opts[@]}" -jar "$CONSOLE" execute --disable-banner --disable-ansi-colors --fail-if-no-tests --details=tree \
    --details-theme=ascii --class-path "$CP" --reports-dir "$OUT/junit-$name" "$@" > "$OUT/tests-$name.log" 2>&1
  local rc=$?
  grep -E "^\[ *[0-9]+ (tests|containers) (successful|failed|skipped|aborted)" "$OUT/tests-$name.log"
  grep -E "\[gpu tests\]" "$OUT/tests-$name.log" | sort -u
  [[ $rc -eq 0 ]] || grep -E -A3 "✘|\[X\]|MethodSource.*failed|AssertionFailedError|Exception" "$OUT/tests-$name.log" | head -60
  echo "exit status $rc"
  return $rc
}

STATUS=0
START=$(date +%s)
run_tests cuda -- --select-package io.idemnet.backend.cuda || STATUS=1
run_tests builtin-gemm -Didemnet.cuda.gemm=builtin -- --select-class io.idemnet.backend.cuda.CudaVsReferenceTest \
  --select-class io.idemnet.backend.cuda.CudaConvKernelsTest || STATUS=1
{
  echo "device: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
  echo "libidemnet_cuda: $BUILT"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  for f in "$OUT"/tests-*.log; do echo "$(basename "$f"):"; grep -E "(tests|containers) (successful|failed|skipped|aborted)" "$f"; done
  echo "wall seconds: $(( $(date +%s) - START ))"
  echo "overall: $([[ $STATUS -eq 0 ]] && echo PASS || echo FAIL)"
} | tee "$OUT/summary.txt"
exit $STATUS
