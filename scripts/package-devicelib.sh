#!/usr/bin/env bash
# Packs what bench/gpu/run-on-device.sh needs on a GPU machine that has no Java, Maven or network
# into .devicelib/ (git-ignored). Carry that one folder to the device; with the work tree it must
# stay under the device tool's 64 MiB, which this script checks (and fails when it is not).
#   jre.tar.gz          a jlink'ed Java runtime (gzip: the device may lack xz), unpacked there
#   idemnet-core.jar    java/core/target/classes (with the native libraries built here)
#   idemnet-tests.jar   java/core/target/test-classes (the backend contract and the GPU tests)
#   idemnet-bench.jar   bench/target/classes (JMH benchmarks, DeviceInfo)
#   lib/*.jar           JavaCPP and OpenBLAS (native jar slimmed to what the CPU backend loads),
#                       JMH with its two dependencies, the JUnit console launcher
#   native/             libidemnet_cpu.so and libidemnet_cuda.so, for -Didemnet.native.dir (the
#                       device rebuilds libidemnet_cuda and falls back to this one)
#   MANIFEST.txt        what was packed: commit, JDK, sizes, and a hash of the sources the jars
#                       came from (the device run refuses jars packed from other sources)
# Usage: scripts/package-devicelib.sh [--no-build]   (--no-build: the target/ folders are current)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEST=$ROOT/.devicelib
LIMIT_BYTES=$((64 * 1024 * 1024))   # the device tool's limit for the work tree plus carried paths
JUNIT_CONSOLE_VERSION=1.14.1        # the JUnit Platform release of JUnit 5.14.1 (pom.xml junit.version)
# java.xml: the launcher's XML reports; java.management: JMH; jdk.unsupported: JavaCPP and JMH;
# jdk.zipfs: the launcher's class path scan (--select-package) opens the test jar as a file system.
JRE_MODULES=java.base,java.logging,java.xml,java.management,jdk.unsupported,jdk.zipfs

build=1
for arg in "$@"; do
  case $arg in
    --no-build) build=0 ;;
    *) echo "usage: scripts/package-devicelib.sh [--no-build]" >&2; exit 2 ;;
  esac
done

source scripts/find-jdk.sh
JDK=$(idemnet_find_jdk)
source bench/gpu/sources.sh   # idemnet_source_hash: the same hash the device run computes

if [[ $build == 1 ]]; then
  echo "== building classes, test classes, benchmarks and native libraries"
  ./mvnw -B -ntp -q -o -DskipTests -pl bench -am test-compile > /dev/null 2>&1 \
    || ./mvnw -B -ntp -q -DskipTests -pl bench -am test-compile
fi
for d in java/core/target/classes java/core/target/test-classes bench/target/classes; do
  [[ -d $d ]] || { echo "FATAL: $d is missing; run without --no-build" >&2; exit 1; }
done
[[ -f bench/target/classes/META-INF/BenchmarkList ]] \
  || { echo "FATAL: bench/target/classes has no META-INF/BenchmarkList (JMH's annotation processor did not run)" >&2; exit 1; }

# The runtime is kept from the last packing when the JDK and the module list are the same (jlink
# and gzip take a minute or more on a busy machine).
JDK_VERSION=$("$JDK/bin/java" -version 2>&1 | head -1)
KEPT_JRE=$(mktemp)
trap 'rm -rf "$KEPT_JRE" "${SLIM:-}"' EXIT
reuse_jre=0
if [[ -f $DEST/jre.tar.gz ]] && grep -qxF "jdk=$JDK_VERSION" "$DEST/MANIFEST.txt" 2>/dev/null \
  && grep -qxF "jre_modules=$JRE_MODULES" "$DEST/MANIFEST.txt"; then
  mv "$DEST/jre.tar.gz" "$KEPT_JRE" && reuse_jre=1
fi
rm -rf "$DEST"
mkdir -p "$DEST/lib" "$DEST/native"

echo "== jars"
"$JDK/bin/jar" --create --file "$DEST/idemnet-core.jar" -C java/core/target/classes .
"$JDK/bin/jar" --create --file "$DEST/idemnet-tests.jar" -C java/core/target/test-classes .
"$JDK/bin/jar" --create --file "$DEST/idemnet-bench.jar" -C bench/target/classes .
cp java/core/target/classes/io/idemnet/native/linux-x86_64/*.so "$DEST/native/"

# The benchmarks' runtime class path as Maven resolved it (bench/pom.xml writes it while compiling):
# JavaCPP, OpenBLAS (classes and the linux-x86_64 natives), JMH, jopt-simple, commons-math3.
[[ -f bench/target/classpath.txt ]] || { echo "FATAL: bench/target/classpath.txt is missing" >&2; exit 1; }
SLIM=$(mktemp -d)
# (|| [[ -n $entry ]]: the file has no final newline, and read fails on that last entry)
tr ':' '\n' < bench/target/classpath.txt | while read -r entry || [[ -n $entry ]]; do
  case $entry in
    *.jar) ;;
    *) continue ;;   # java/core/target/classes: packed above
  esac
  case $(basename "$entry") in
    openblas-*-linux-x86_64.jar)
      # Without what the CPU backend never loads (the LAPACK JNI libraries, headers): 19 -> 12 MB.
      (cd "$SLIM" && "$JDK/bin/jar" --extract --file "$entry")
      rm -rf "$SLIM/org/bytedeco/openblas/linux-x86_64/include" \
        "$SLIM/org/bytedeco/openblas/linux-x86_64/libjniopenblas.so" \
        "$SLIM/org/bytedeco/openblas/linux-x86_64/libjniopenblas_full.so"
      "$JDK/bin/jar" --create --file "$DEST/lib/$(basename "$entry" .jar)-slim.jar" -C "$SLIM" .
      ;;
    *) cp "$entry" "$DEST/lib/" ;;
  esac
done
echo "== JUnit console launcher $JUNIT_CONSOLE_VERSION"
console=(dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$JUNIT_CONSOLE_VERSION
  -DoutputDirectory="$DEST/lib")
./mvnw -B -ntp -q -N -o "${console[@]}" > /dev/null 2>&1 || ./mvnw -B -ntp -q -N "${console[@]}"

if [[ $reuse_jre == 1 ]]; then
  echo "== Java runtime: kept from the last packing ($JDK_VERSION; $JRE_MODULES)"
  mv "$KEPT_JRE" "$DEST/jre.tar.gz"
else
  echo "== Java runtime (jlink: $JRE_MODULES)"
  JRE_TMP=$(mktemp -d)
  # Modules uncompressed (--compress=zip-0): gzip over the whole runtime then packs it smaller
  # (22.6 MB) than jlink's own zip-9 followed by gzip (27 MB), and libjvm.so compresses only there.
  "$JDK/bin/jlink" --add-modules "$JRE_MODULES" --strip-debug --no-header-files --no-man-pages \
    --compress=zip-0 --output "$JRE_TMP/jre"
  tar -C "$JRE_TMP" -cf - jre | gzip -6 > "$DEST/jre.tar.gz"
  rm -rf "$JRE_TMP"
fi

{
  echo "packed=$(date -u +%FT%TZ)"
  echo "commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "uncommitted_files=$(git status --porcelain 2>/dev/null | wc -l)"
  echo "jdk=$JDK_VERSION"
  echo "jre_modules=$JRE_MODULES"
  echo "sources=$IDEMNET_SOURCES"
  echo "source_hash=$(idemnet_source_hash)"
} > "$DEST/MANIFEST.txt"

# What travels to the device: the work tree (tracked and untracked, not ignored files), .devicelib,
# and .jre when it exists here (the device tool carries what is named; naming .jre too costs its size).
tree_bytes=$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
lib_bytes=$(du -sb "$DEST" | cut -f1)
jre_bytes=0
[[ -d .jre ]] && jre_bytes=$(du -sb .jre | cut -f1)
total=$((tree_bytes + lib_bytes))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "== sizes"
du -ah "$DEST" | sort -h | tail -12
echo "work tree $(mib "$tree_bytes") + .devicelib $(mib "$lib_bytes") = $(mib "$total") of the 64 MiB a device run may carry"
echo "work_tree_bytes=$tree_bytes" >> "$DEST/MANIFEST.txt"
echo "devicelib_bytes=$lib_bytes" >> "$DEST/MANIFEST.txt"
if ((jre_bytes > 0)); then
  echo "(.jre here is $(mib "$jre_bytes"); do not carry it as well: .devicelib/jre.tar.gz is the runtime," \
    "and both together come to $(mib $((total + jre_bytes))))"
fi
if ((total > LIMIT_BYTES)); then
  echo "FATAL: the work tree and .devicelib come to $(mib "$total"), over the device tool's 64 MiB" >&2
  exit 1
fi
