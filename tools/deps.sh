#!/bin/sh
# deps.sh — make sure the Debian packages mdlc needs are installed.
# As root it installs what is missing with apt-get; otherwise it prints the
# exact command to run. Usage: tools/deps.sh [--bench]
set -eu

# libclang-rt-dev: clang's sanitizer and libFuzzer runtimes, for make fuzz
# and make check SANITIZE=1 (clang only recommends it, and CI's apt may not
# install recommendations). groff-base and man-db: the tests render the man
# page (docs/mdlc.1) and find it where make install puts it.
needs="re2c bison clang clang-format libopenblas-dev libcriterion-dev zlib1g-dev libjansson-dev
  libplplot-dev plplot-driver-cairo libclang-rt-dev groff-base man-db"
# The benchmark: PyTorch, and libxsmm for make bench-step's comparison of
# small-matrix kernels (bench/rnn_step.c builds without it, and no
# generated program links it).
if [ "${1:-}" = "--bench" ]; then
  needs="$needs python3-torch libxsmm-dev"
fi
# Wanted only by the Slurm test (tests/slurm/test_sweep.sh), which runs a
# one-node cluster: installed as root, and without them that test skips.
wants="slurm-wlm munge"

# Ask dpkg, not the file system: a header such as cblas.h can come from
# another package (libblas-dev ships one) and would hide a missing OpenBLAS.
not_installed() {
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = installed ] || printf ' %s' "$pkg"
  done
}
missing=$(not_installed $needs)
[ "$(id -u)" = 0 ] && missing="$missing$(not_installed $wants)"

[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
  echo "deps: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $missing >/dev/null
else
  echo "deps: missing Debian packages:$missing" >&2
  echo "deps: install them with:  sudo apt-get install -y$missing" >&2
  exit 1
fi
