#!/usr/bin/env bash
# Builds the project and runs JMH benchmarks: bench/run-jmh.sh [JMH arguments, e.g. a regex]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B -ntp -DskipTests -pl bench -am compile
source scripts/find-jdk.sh
jdk=$(idemnet_find_jdk)
exec "$jdk/bin/java" --enable-native-access=ALL-UNNAMED \
  -cp "bench/target/classes:java/core/target/classes:$(cat bench/target/classpath.txt)" org.openjdk.jmh.Main "$@"
