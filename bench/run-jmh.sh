#!/usr/bin/env bash
# Builds the project and runs JMH benchmarks: bench/run-jmh.sh [JMH arguments, e.g. a regex]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B -ntp -DskipTests test-compile
source scripts/find-jdk.sh
jdk=$(idemnet_find_jdk)
exec "$jdk/bin/java" --enable-native-access=ALL-UNNAMED \
  -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" org.openjdk.jmh.Main "$@"
