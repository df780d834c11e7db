#!/bin/sh
# test_sweep.sh — mdlc sweep through a real Slurm cluster gives the records
# a local run gives (same seeds, same numbers).
#
# Starts the one-node test cluster of cluster.sh, runs tests/sweeps/tiny.sweep
# here and then as a Slurm job array, waits for the array, reports on it and
# compares every run's final metrics with build/tests/same_records. Stops the
# cluster however it ends. Run from anywhere; `make slurm-check` runs it
# (with MDLC_BUILD=build-san under SANITIZE=1; build/ otherwise).
#
# Without root or without Slurm it says why and passes, unless
# MDLC_REQUIRE_SLURM=1 (set by .ci/run, where tools/deps.sh installed Slurm).
set -eu
cd "$(dirname "$0")/../.."

sweep=tests/sweeps/tiny.sweep
build=${MDLC_BUILD:-build}
mdlc=$PWD/$build/bin/mdlc
same_records=$PWD/$build/tests/same_records
array_timeout=240

skip() {
  if [ "${MDLC_REQUIRE_SLURM:-0}" = 1 ]; then
    echo "slurm test: FAILED: cannot run ($*) and MDLC_REQUIRE_SLURM=1" >&2
    exit 1
  fi
  echo "slurm test: skipped ($*)"
  exit 0
}
fail() {
  echo "slurm test: FAILED: $*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || skip "needs root to start slurmd"
for tool in munged slurmctld slurmd sbatch squeue sinfo scancel; do
  command -v "$tool" >/dev/null 2>&1 ||
    skip "no $tool: as root, tools/deps.sh installs slurm-wlm and munge"
done
[ -x "$mdlc" ] && [ -x "$same_records" ] ||
  fail "build first: make all $build/tests/same_records"
[ -f "$sweep" ] || fail "no $sweep"

work=$(mktemp -d /tmp/mdlc-slurm-test-XXXXXX)
export SLURM_TEST_DIR="$work/cluster"
# A port of this run's own, so that daemons left by a killed run are no bar.
export SLURM_TEST_PORT=$((20000 + 2 * ($$ % 5000)))
export SLURM_CONF="$SLURM_TEST_DIR/slurm.conf"
finish() {
  status=$?
  sh tests/slurm/cluster.sh stop || true
  if [ "$status" = 0 ]; then
    rm -rf "$work"
  else
    echo "slurm test: its files are in $work" >&2
  fi
}
trap finish EXIT
trap 'exit 130' INT TERM

started=$(date +%s)
sh tests/slurm/cluster.sh start >/dev/null

echo "slurm test: $sweep here"
"$mdlc" sweep "$sweep" --results "$work/local" >"$work/local.out" 2>&1 ||
  {
    cat "$work/local.out" >&2
    fail "the local sweep failed"
  }

echo "slurm test: $sweep on Slurm"
"$mdlc" sweep "$sweep" --results "$work/slurm" --slurm --partition test \
  >"$work/submit.out" 2>&1 || {
  cat "$work/submit.out" >&2
  fail "mdlc sweep --slurm failed"
}
# The cluster is ours alone: every job in it is the sweep's.
[ -n "$(squeue -h -t all)" ] || {
  cat "$work/submit.out" >&2
  fail "mdlc sweep --slurm submitted no job"
}

waited=0
while [ -n "$(squeue -h)" ]; do
  if [ "$waited" -ge "$array_timeout" ]; then
    squeue >&2
    fail "the job array still runs after ${array_timeout}s"
  fi
  sleep 2
  waited=$((waited + 2))
done
# A task that ends in error is no failure by itself (a diverged run exits
# non-zero and is recorded as such): the records below decide. Its output
# is shown all the same.
not_done=$(squeue -h -t all -o '%i %T' | grep -v ' COMPLETED$' || true)
if [ -n "$not_done" ]; then
  echo "slurm test: array tasks that did not end in COMPLETED:" >&2
  echo "$not_done" >&2
  for out in "$work"/slurm/slurm/*.out; do
    if [ -s "$out" ]; then
      echo "--- $out" >&2
      tail -n 20 "$out" >&2
    fi
  done
fi

"$mdlc" sweep "$sweep" --results "$work/slurm" --report >"$work/report.out" \
  2>&1 || {
  cat "$work/report.out" >&2
  fail "mdlc sweep --report on the Slurm results failed"
}
[ -s "$work/slurm/REPORT.md" ] || fail "--report wrote no REPORT.md"
"$same_records" "$work/local" "$work/slurm" ||
  fail "the Slurm run's records differ from the local run's"
echo "slurm test: passed in $(($(date +%s) - started))s"
