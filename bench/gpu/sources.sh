# Sourced by scripts/package-devicelib.sh and bench/gpu/run-on-device.sh: the sources that the
# packed jars and native libraries are built from, and one hash over them, so that a device run
# can tell whether .devicelib was packed from the work tree it runs in (the device has no git).
IDEMNET_SOURCES="CMakeLists.txt native java/core/src tests/core bench/java"

# sha256 over the sorted relative paths and contents of every file under IDEMNET_SOURCES.
idemnet_source_hash() {
  local f
  # shellcheck disable=SC2086
  find $IDEMNET_SOURCES -type f -not -path '*/target/*' | LC_ALL=C sort | while read -r f; do
    printf '%s\n' "$f"
    sha256sum < "$f"
  done | sha256sum | cut -c1-16
}
