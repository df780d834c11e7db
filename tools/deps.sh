#!/bin/sh
# deps.sh — make sure the Debian packages mdlc needs are installed.
# As root it installs what is missing with apt-get; otherwise it prints the
# exact command to run. Usage: tools/deps.sh [--bench]
set -eu

# package:file-that-proves-it-is-installed
needs="re2c:/usr/bin/re2c
bison:/usr/bin/bison
clang:/usr/bin/clang
libopenblas-dev:/usr/include/x86_64-linux-gnu/cblas.h
libcriterion-dev:/usr/include/criterion/criterion.h
zlib1g-dev:/usr/include/zlib.h
clang-format:/usr/bin/clang-format"
if [ "${1:-}" = "--bench" ]; then
  needs="$needs
python3-torch:/usr/lib/python3/dist-packages/torch/__init__.py"
fi

missing=""
for entry in $needs; do
  pkg=${entry%%:*}
  file=${entry#*:}
  # cblas.h lives under a multiarch directory on other architectures.
  if [ "$pkg" = libopenblas-dev ]; then
    ls /usr/include/*/cblas.h /usr/include/cblas.h >/dev/null 2>&1 && continue
  fi
  [ -e "$file" ] || missing="$missing $pkg"
done

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
