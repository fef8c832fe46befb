#!/usr/bin/env bash
# Checkpoint interop with PyTorch in both directions: idemnet -> torch nn.Sequential -> idemnet.
# Needs Debian's python3-torch (/usr/bin/python3). Usage: bench/pytorch/interop_check.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-target/interop}
./mvnw -q -B -ntp -DskipTests -pl bench -am compile
source scripts/find-jdk.sh
jdk=$(idemnet_find_jdk)
run_java() { "$jdk/bin/java" --enable-native-access=ALL-UNNAMED \
  -cp "bench/target/classes:java/core/target/classes:$(cat bench/target/classpath.txt)" io.idemnet.bench.CheckpointInterop "$@"; }
run_java export "$dir"
/usr/bin/python3 bench/pytorch/interop_check.py "$dir"
run_java verify "$dir"
