#!/usr/bin/env bash
# Packs what bench/gpu/run-on-device.sh needs on a GPU machine that has no Java, Maven or network
# into .devicelib/ (git-ignored), well under the 64 MiB a device run may carry:
#   jre.tar.xz          a jlink'ed Java runtime (unpacked on the device unless .jre/ exists there)
#   idemnet.jar         java/core/target/classes (with libidemnet_cpu.so and, where nvcc exists, libidemnet_cuda.so)
#   idemnet-tests.jar   java/core/target/test-classes
#   lib/*.jar           JavaCPP, OpenBLAS (native jar slimmed to what the CPU backend loads), the
#                       JUnit console launcher (from Maven Central)
#   native/             the native libraries, for -Didemnet.native.dir
# Usage: scripts/package-devicelib.sh        (then carry .devicelib, and .jre if you have one)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/.devicelib
JUNIT_CONSOLE_VERSION=${JUNIT_CONSOLE_VERSION:-1.14.1}   # the platform release of JUnit 5.14.1 (pom.xml)
OPENBLAS_VERSION=0.3.31-1.5.13
JAVACPP_VERSION=1.5.13
M2=${M2_REPO:-$HOME/.m2/repository}

source scripts/find-jdk.sh
JDK=$(idemnet_find_jdk)

echo "== building classes, test classes and native libraries"
./mvnw -q -o -pl java/core test-compile || ./mvnw -q -pl java/core test-compile
rm -rf "$OUT"
mkdir -p "$OUT/lib" "$OUT/native"

echo "== jars"
"$JDK/bin/jar" --create --file "$OUT/idemnet.jar" -C java/core/target/classes .
"$JDK/bin/jar" --create --file "$OUT/idemnet-tests.jar" -C java/core/target/test-classes .
cp java/core/target/classes/io/idemnet/native/linux-x86_64/*.so "$OUT/native/"

fetch() { # groupId artifactId version [classifier]
  local g=$1 a=$2 v=$3 c=${4:-}
  local f="$M2/${g//.//}/$a/$v/$a-$v${c:+-$c}.jar"
  if [[ ! -f $f ]]; then
    ./mvnw -q dependency:get -Dartifact="$g:$a:$v:jar${c:+:$c}" -Dtransitive=false >/dev/null
  fi
  echo "$f"
}
cp "$(fetch org.bytedeco javacpp $JAVACPP_VERSION)" "$OUT/lib/"
cp "$(fetch org.bytedeco openblas $OPENBLAS_VERSION)" "$OUT/lib/"
cp "$(fetch org.junit.platform junit-platform-console-standalone $JUNIT_CONSOLE_VERSION)" "$OUT/lib/"
# The native OpenBLAS jar without what the CPU backend never loads (LAPACK JNI, headers): 19 -> 12 MB.
SLIM=$(mktemp -d)
(cd "$SLIM" && "$JDK/bin/jar" --extract --file "$(cd "$ROOT" && fetch org.bytedeco openblas $OPENBLAS_VERSION linux-x86_64)")
rm -rf "$SLIM/org/bytedeco/openblas/linux-x86_64/include" \
  "$SLIM/org/bytedeco/openblas/linux-x86_64/libjniopenblas.so" \
  "$SLIM/org/bytedeco/openblas/linux-x86_64/libjniopenblas_full.so"
"$JDK/bin/jar" --create --file "$OUT/lib/openblas-$OPENBLAS_VERSION-linux-x86_64-slim.jar" -C "$SLIM" .
rm -rf "$SLIM"

echo "== Java runtime (jlink)"
JRE_TMP=$(mktemp -d)
"$JDK/bin/jlink" --add-modules java.base,java.logging,java.xml,java.management,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress=zip-9 --output "$JRE_TMP/jre"
tar -C "$JRE_TMP" -cf - jre | xz -T0 -6 > "$OUT/jre.tar.xz"
rm -rf "$JRE_TMP"

du -sh "$OUT"
du -ah "$OUT" | sort -h | tail -8
