# Sourced by ./mvnw and ./idemnet: defines idemnet_find_jdk, which prints the home of a JDK 22+
# (JAVA_HOME when it qualifies, else the newest one installed in the usual places) or explains
# what to install and fails.

idemnet_jdk_major() {  # $1 = a JDK home; prints its feature version, or nothing
  local home=$1 v=""
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  if [ -f "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  fi
  if [ -z "$v" ]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  fi
  echo "$v"
}

idemnet_find_jdk() {
  local want=22 best="" best_v=0 home v
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(idemnet_jdk_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge "$want" ]; then echo "$JAVA_HOME"; return 0; fi
  fi
  for home in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* \
              "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$home" ] || continue
    v=$(idemnet_jdk_major "$home")
    if [ -n "$v" ] && [ "$v" -ge "$want" ] && [ "$v" -gt "$best_v" ]; then best=$home; best_v=$v; fi
  done
  if [ -z "$best" ] && command -v javac >/dev/null 2>&1; then
    home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    v=$(idemnet_jdk_major "$home")
    if [ -n "$v" ] && [ "$v" -ge "$want" ]; then best=$home; fi
  fi
  if [ -z "$best" ]; then
    echo "idemnet needs a JDK $want or newer (Foreign Function & Memory API) and found none" \
         "(JAVA_HOME='${JAVA_HOME:-}', /usr/lib/jvm, /opt/java, ~/.sdkman, ~/.jdks)." >&2
    echo "Install one, e.g. Temurin 25 (apt package temurin-25-jdk) or any OpenJDK $want+ build," \
         "or set JAVA_HOME to it." >&2
    return 1
  fi
  echo "$best"
}
