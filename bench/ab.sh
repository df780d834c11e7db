#!/bin/sh
# ab.sh — a quick A/B of generated programs' time per update, for a change
# to the emitter, when a whole `make bench` is too long:
#
#   mdlc-before examples/curves.mdl -o old && mdlc examples/curves.mdl -o new
#   R=5 T=2 sh bench/ab.sh ./old ./new
#
# Per update: (time of N2 updates − time of N1) / (N2 − N1), which cancels
# start-up and the final evaluation, as bench/run.sh does. The programs
# run interleaved, R rounds of each, with T BLAS threads; one line per run,
# "PROGRAM ms-per-update". Read the minimum and the median, and make the
# machine idle first: this is a check, not the benchmark.
R=${R:-5}
T=${T:-2}
N1=${N1:-50}
N2=${N2:-450}

seconds() { # PROGRAM N
  start=$(date +%s.%N)
  "$1" --steps "$2" --threads "$T" --quiet >/dev/null || exit 1
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

for round in $(seq "$R"); do
  for program in "$@"; do
    short=$(seconds "$program" "$N1")
    long=$(seconds "$program" "$N2")
    echo "$program $(echo "($long - $short) * 1000 / ($N2 - $N1)" | bc -l)"
  done
done
