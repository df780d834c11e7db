#!/bin/sh
# bench/run.sh — the benchmark behind `make bench`: times the generated
# programs of bench/workloads against PyTorch and against the GEMM ceiling,
# measures mdlc's compile times and the programs' peak memory, and writes
# RESULTS.md and results.csv. bench/README.md says what is measured and how.
#
# Run it through `make bench` (which builds mdlc and the helpers first).
# Settings, from the environment:
#   BENCH_THREADS=N    threads for every implementation (default 2)
#   BENCH_QUICK=1      a quick check that everything runs: 2 repetitions of
#                      about 0.3 s each; results go to build/bench/, not bench/
#   BENCH_REPS=K       repetitions of each measurement (default 5; quick 2)
#   BENCH_TARGET_S=S   seconds of updates per repetition (default 2; quick 0.3)
#   BENCH_ONLY="a b"   only these workloads (names from bench/workloads)
#   BENCH_THROUGHPUT="a b"  the workloads of the sweep-throughput rows
#                      (default "curves rnn80 rnn200"; "none" for none):
#                      float32 at one thread, and THREADS runs of one thread
#                      at once against one run of THREADS threads; PyTorch
#                      at one thread too
#   BENCH_NAG_FORMS="a b"  the workloads whose program is also timed with
#                      --nag-form direct (default "curves rnn80"; "none"
#                      for none): float32, against the main row's carried form
#   BENCH_OUT=DIR      where RESULTS.md and results.csv go
#   OPENBLAS_CORETYPE=C  OpenBLAS's own setting: the kernels of every
#                      implementation (PyTorch's products run on the same
#                      OpenBLAS); RESULTS.md says when it was set
#   BENCH_PYTHON=P     the Python with torch (default: the first of
#                      /usr/bin/python3 and python3 that can import torch);
#                      BENCH_PYTHON=none leaves PyTorch out
set -eu

B=build/bench
MDLC=build/bin/mdlc
RUNSTAT=$B/runstat
CEILING=$B/gemm_ceiling
RANDOM_NPY=$B/random_npy
THREADS=${BENCH_THREADS:-2}
THROUGHPUT=${BENCH_THROUGHPUT-curves rnn80 rnn200}
[ "$THROUGHPUT" = none ] && THROUGHPUT=
NAG_FORMS=${BENCH_NAG_FORMS-curves rnn80}
[ "$NAG_FORMS" = none ] && NAG_FORMS=
QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
if [ -n "$QUICK" ]; then
  REPS=${BENCH_REPS:-2}
  TARGET_S=${BENCH_TARGET_S:-0.3}
  OUT=${BENCH_OUT:-$B}
else
  REPS=${BENCH_REPS:-5}
  TARGET_S=${BENCH_TARGET_S:-2}
  OUT=${BENCH_OUT:-bench}
fi
case "$REPS" in '' | *[!0-9]* | 0) echo "bench: BENCH_REPS must be a positive whole number" >&2; exit 2 ;; esac
N1=10         # updates of the shorter run of each pair
CALIBRATE=20  # extra updates of the run that sizes the longer one (at least)
MAX_D=5000    # the most updates D of the longer run of a pair
NO_REPORT=1000000000
COMPILE_REPS=3

START=$(date +%s)
say() { echo "bench: [$(($(date +%s) - START)) s] $*"; }
die() { echo "bench: error: $*" >&2; exit 1; }

for tool in "$MDLC" "$RUNSTAT" "$CEILING" "$RANDOM_NPY"; do
  [ -x "$tool" ] || die "$tool is missing: run 'make bench', not this script"
done
mkdir -p "$B/run" "$B/examples" "$OUT"
CSV=$B/results.csv
SPECS=$B/torch-specs.txt
META=$B/meta.txt
: >"$SPECS"
echo "section,workload,precision,implementation,config,threads,metric,median,min,max,unit,reps,per_rep,gflops,note" >"$CSV"

# median min max of the numbers in a file, one per line.
stats() {
  sort -g "$1" | awk '{ x[NR] = $1 } END {
    m = NR % 2 ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
    printf "%.4f %.4f %.4f\n", m, x[1], x[NR] }'
}

# field NAME FILE: the value of NAME=VALUE in a one-line stats file.
field() { tr ' ' '\n' <"$2" | sed -n "s/^$1=//p"; }

csv() { # the fields, comma-separated, as one CSV row (so no field may hold a comma)
  (IFS=,; echo "$*") >>"$CSV"
}

# ---- The machine ----

cpu="$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n 1) (family $(sed -n 's/^cpu family[^:]*: *//p' /proc/cpuinfo | head -n 1), model $(sed -n 's/^model[[:space:]]*: *//p' /proc/cpuinfo | head -n 1))"
openblas_pkg=$(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null ||
  dpkg-query -W -f='${Version}' libopenblas0 2>/dev/null || echo unknown)
PYTHON=
torch_status="not installed"
if [ "${BENCH_PYTHON:-}" = none ]; then
  torch_status="left out (BENCH_PYTHON=none)"
else
  for p in ${BENCH_PYTHON:-} /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' 2>/dev/null; then
      PYTHON=$p
      break
    fi
  done
fi
if [ -n "$PYTHON" ]; then
  torch_status=measured
  torch_version="$("$PYTHON" -c 'import torch; print(torch.__version__)') (Debian python3-torch $(dpkg-query -W -f='${Version}' python3-torch 2>/dev/null || echo '?'), run by $PYTHON)"
else
  torch_version=$torch_status
fi
command="make bench"
for v in OPENBLAS_CORETYPE BENCH_THREADS BENCH_QUICK BENCH_REPS BENCH_TARGET_S BENCH_ONLY BENCH_THROUGHPUT BENCH_NAG_FORMS; do
  eval "val=\${$v:-}"
  [ -n "$val" ] && command="$v='$val' $command"
done
cat >"$META" <<EOF
date=$(date -u '+%Y-%m-%d %H:%M UTC')
cpu=$cpu
cores=$(nproc)
threads=$THREADS
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
mdlc=$($MDLC --version | head -n 1) (git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ', with uncommitted changes'))
clang=$(clang --version | head -n 1)
openblas=$openblas_pkg ($($CEILING --openblas-config))${OPENBLAS_CORETYPE:+; the kernels named by OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE in the environment, for every implementation (PyTorch's products run on the same OpenBLAS)}
torch=$torch_version
torch_status=$torch_status
command=$command
reps=$REPS
target_s=$TARGET_S
quick=${QUICK:+yes}
sweep_jobs=$($MDLC sweep --help 2>&1 | sed -n 's/^ *--jobs N *//p')
sweep_threads=$($MDLC sweep --help 2>&1 | sed -n 's/^ *--threads T *//p')
EOF
say "threads $THREADS, $REPS repetitions of about $TARGET_S s, results to $OUT/"

# ---- mdlc's compile times: examples/*.mdl ----

for mdl in examples/*.mdl; do
  name=$(basename "$mdl" .mdl)
  say "compile time: $mdl"
  for mode in full emit-c; do
    : >"$B/samples"
    i=0
    while [ $i -lt $COMPILE_REPS ]; do
      if [ $mode = full ]; then
        $RUNSTAT "$B/stat" $MDLC "$mdl" -o "$B/examples/$name" >"$B/log" 2>&1 ||
          { cat "$B/log"; die "mdlc $mdl failed"; }
      else
        $RUNSTAT "$B/stat" $MDLC --emit-c "$mdl" -o "$B/examples/$name.c" >"$B/log" 2>&1 ||
          { cat "$B/log"; die "mdlc --emit-c $mdl failed"; }
      fi
      field wall_s "$B/stat" >>"$B/samples"
      i=$((i + 1))
    done
    set -- $(stats "$B/samples")
    if [ $mode = full ]; then impl="mdlc"; else impl="mdlc --emit-c"; fi
    csv compile "$mdl" float32 "$impl" "" 1 seconds "$1" "$2" "$3" s $COMPILE_REPS 1 "" ""
  done
done

# ---- The workloads ----

# An OpenBLAS program that holds next to nothing: what the runtime costs in
# resident memory by itself (libraries, OpenBLAS's per-thread buffers).
$RUNSTAT "$B/stat" $CEILING float32 "$THREADS" 2 2-2 1 0.01 >/dev/null
baseline_kib=$(field maxrss_kib "$B/stat")
csv memory baseline float32 "gemm_ceiling 2-2" "" "$THREADS" peak_rss \
  "$(awk -v k="$baseline_kib" 'BEGIN { printf "%.1f", k / 1024 }')" "" "" MiB 1 "" "" ""

# run_program PROGRAM STEPS: one run, from build/bench/run; its wall time in
# seconds goes to stdout, its peak RSS (KiB) is appended to $B/rss.
# RUN_THREADS (default THREADS) is its --threads; with RUN_COPIES=K (default
# 1), K copies run at once, each with its own seed, and the time is from
# their start to the end of the last (the peak RSS is then the shell's).
run_program() {
  copies=${RUN_COPIES:-1}
  if [ "$copies" = 1 ]; then
    (cd "$B/run" && ../runstat ../stat "../$(basename "$1")" --quiet \
      --threads "${RUN_THREADS:-$THREADS}" --steps "$2" --report-every $NO_REPORT) >"$B/log" 2>&1 ||
      { cat "$B/log" >&2; die "$1 --steps $2 failed"; }
    field maxrss_kib "$B/stat" >>"$B/rss"
  else
    (cd "$B/run" && ../runstat ../stat sh -c '
      prog=$1 threads=$2 steps=$3 copies=$4 no_report=$5 i=1 pids=
      while [ $i -le $copies ]; do
        "$prog" --quiet --seed $i --threads $threads --steps $steps --report-every $no_report &
        pids="$pids $!"
        i=$((i + 1))
      done
      status=0
      for pid in $pids; do wait $pid || status=1; done
      exit $status' sh "../$(basename "$1")" "${RUN_THREADS:-$THREADS}" "$2" "$copies" $NO_REPORT) >"$B/log" 2>&1 ||
      { cat "$B/log" >&2; die "$copies copies of $1 --steps $2 failed"; }
  fi
  field wall_s "$B/stat"
}

# calls_in FILE FUNCTION...: "GEMMS GEMVS", the mdl_?gemm( and mdl_?gemv(
# calls written in these functions of a generated C file. A recurrent
# program's steps go through mdl/step.h instead: mdl_?step_add( is the
# product δ_{s+1} W_hhᵀ, and mdl_?step_gradients_add, which the helper
# calls for every step, makes g_W_ih and g_W_hh (products) and g_b_h (a
# sum, the ceiling's gemv).
calls_in() {
  file=$1
  shift
  awk -v names=" $* " '
    /^[a-z].*[ *][a-z_0-9]+\(/ {
      name = $0; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
      inside = index(names, " " name " ") > 0
    }
    /^}/ { inside = 0 }
    inside && /mdl_[sd]gemm\(/ { gemm++ }
    inside && /mdl_[sd]gemv\(/ { gemv++ }
    inside && /mdl_[sd]step_(add|multiply)\(/ { gemm++ }
    inside && /mdl_[sd]step_gradients_add[,()]/ { gemm += 2; gemv++ }
    END { printf "%d %d\n", gemm, gemv }' "$file"
}

# time_differenced PROG: the program's ms per update by differencing, as
# "median min max D" (bench/README.md): (time(N1 + D) - time(N1)) / D over
# pairs of runs, after a calibration pair that also warms up the caches and
# sizes D. The calibration's C extra updates double until they take at least
# a quarter of TARGET_S, so that noise in the start-up (an RNN program's is
# about as long as 20 of its updates) cannot pass for them; and the time
# per update it finds is never taken below half the longer run's time per
# update, start-up included, so that one bad pair cannot make D thousands of
# updates too long.
# time_differenced PROG D: the same with D given, after one warm-up run.
time_differenced() {
  if [ -n "${2:-}" ]; then
    d=$2
    run_program "$1" $N1 >/dev/null
  else
    t1=$(run_program "$1" $N1)
    c=$CALIBRATE
    while :; do
      t2=$(run_program "$1" $((N1 + c)))
      awk -v a="$t1" -v b="$t2" -v s="$TARGET_S" 'BEGIN { exit !(b - a >= s / 4) }' && break
      [ $c -ge $MAX_D ] && break
      c=$((c * 2))
    done
    d=$(awk -v a="$t1" -v b="$t2" -v c=$c -v n=$((N1 + c)) -v s="$TARGET_S" -v max=$MAX_D 'BEGIN {
      per = (b - a) / c; if (per < b / n / 2) per = b / n / 2
      d = int(s / per + 0.5); if (d < 10) d = 10; if (d > max) d = max; print d }')
  fi
  : >"$B/samples"
  i=0
  while [ $i -lt "$REPS" ]; do
    t1=$(run_program "$1" $N1)
    t2=$(run_program "$1" $((N1 + d)))
    awk -v a="$t1" -v b="$t2" -v d="$d" 'BEGIN { printf "%.6f\n", (b - a) * 1e3 / d }' >>"$B/samples"
    i=$((i + 1))
  done
  echo "$(stats "$B/samples") $d"
}

# time_hf PROG: runs an HF program for 1 + REPS updates with a progress line
# after each, and keeps its CSV log in $B/hf.csv. Each line gives the update's
# CG steps, its seconds and CG's milliseconds per Gauss-Newton product, which
# the program measures inside the update: its evaluations of the training
# error are not in them. The first update (page faults, OpenBLAS's threads
# starting) is left out.
time_hf() {
  (cd "$B/run" && ../runstat ../stat "../$(basename "$1")" --quiet \
    --threads "$THREADS" --steps $((REPS + 1)) --report-every 1 --log ../hf.csv) >"$B/log" 2>&1 ||
    { cat "$B/log" >&2; die "$1 --steps $((REPS + 1)) failed"; }
  field maxrss_kib "$B/stat" >>"$B/rss"
  # update,lambda,rho,cg_steps,rate,decay,train_error,loss,seconds_per_update,ms_per_cg_step,seconds
  awk -F, 'NR > 3 { print $4, $9, $10 }' "$B/hf.csv" >"$B/hf-updates"
  [ "$(wc -l <"$B/hf-updates")" -eq "$REPS" ] || die "$1 logged $(wc -l <"$B/hf-updates") timed updates, not $REPS"
}

# hf_row METRIC UNIT EXPRESSION: a row of section hf from the statistics of
# EXPRESSION, an awk expression of each timed update's steps, seconds and
# cg_ms (CG's milliseconds per product).
hf_row() {
  awk "{ steps = \$1; seconds = \$2; cg_ms = \$3; printf \"%.6f\\n\", $3 }" "$B/hf-updates" >"$B/samples"
  set -- "$1" "$2" $(stats "$B/samples")
  csv hf "$name" "$precision" mdlc "" "$THREADS" "$1" "$3" "$4" "$5" "$2" "$REPS" 1 "" ""
}

# throughput_rows PROG MEDIAN MIN MAX D: the sweep-throughput rows of a
# workload (bench/README.md), from its timing at THREADS threads (the
# arguments): the program at one thread, and THREADS copies of it at one
# thread each, running at once, against one run at THREADS threads, in
# updates per second of the machine. The same D for all three.
throughput_rows() {
  csv throughput "$name" float32 mdlc "1 run × $THREADS threads" "$THREADS" ms_per_update "$2" "$3" "$4" ms "$REPS" "$5" "" ""
  csv throughput "$name" float32 mdlc "1 run × $THREADS threads" "$THREADS" updates_per_second \
    $(awk -v a="$2" -v b="$4" -v c="$3" 'BEGIN { printf "%.2f %.2f %.2f", 1000 / a, 1000 / b, 1000 / c }') \
    "updates/s" "$REPS" "$5" "" ""
  [ "$THREADS" = 1 ] && return
  say "$name float32: timing at 1 thread, then $THREADS runs of 1 thread at once"
  set -- $(RUN_THREADS=1 time_differenced "$1" "$5") "$1"
  csv throughput "$name" float32 mdlc "1 run × 1 thread" 1 ms_per_update "$1" "$2" "$3" ms "$REPS" "$4" "" ""
  csv throughput "$name" float32 mdlc "1 run × 1 thread" 1 updates_per_second \
    $(awk -v a="$1" -v b="$3" -v c="$2" 'BEGIN { printf "%.2f %.2f %.2f", 1000 / a, 1000 / b, 1000 / c }') \
    "updates/s" "$REPS" "$4" "" ""
  set -- $(RUN_THREADS=1 RUN_COPIES=$THREADS time_differenced "$5" "$4")
  csv throughput "$name" float32 mdlc "$THREADS runs × 1 thread" 1 ms_per_update "$1" "$2" "$3" ms "$REPS" "$4" "" \
    "each run's time per update with all $THREADS running"
  csv throughput "$name" float32 mdlc "$THREADS runs × 1 thread" 1 updates_per_second \
    $(awk -v a="$1" -v b="$3" -v c="$2" -v k="$THREADS" 'BEGIN { printf "%.2f %.2f %.2f", k * 1000 / a, k * 1000 / b, k * 1000 / c }') \
    "updates/s" "$REPS" "$4" "" "all $THREADS runs together"
}

# nag_form_rows PROGRAM PROG MEDIAN MIN MAX D: the NAG-form rows of a
# workload (bench/README.md): PROG is the main row's program, with the
# look-ahead point carried between updates (mdlc's default), timed at the
# arguments; the same .mdl compiled with --nag-form direct (eqs. 3-4 as
# printed) is timed now with the same D, and then the carried program once
# more, so that a drift of the machine between the two shows.
nag_form_rows() {
  say "$name float32: timing --nag-form direct against the carried form"
  $MDLC --nag-form direct --keep-c "$1" -o "$2-direct" || die "mdlc --nag-form direct $1 failed"
  csv nag_form "$name" float32 mdlc carried "$THREADS" ms_per_update "$3" "$4" "$5" ms "$REPS" "$6" "" "the main row"
  set -- "$2" "$6" $(time_differenced "$2-direct" "$6")
  csv nag_form "$name" float32 mdlc direct "$THREADS" ms_per_update "$3" "$4" "$5" ms "$REPS" "$2" "" ""
  set -- $(time_differenced "$1" "$2")
  csv nag_form "$name" float32 mdlc "carried again" "$THREADS" ms_per_update "$1" "$2" "$3" ms "$REPS" "$4" "" \
    "timed after direct"
}

# The workload table is read on descriptor 3, so that no command in the loop
# can swallow it from standard input.
while read -r name program rest <&3; do
  case "$name" in '' | '#'*) continue ;; esac
  if [ -n "${BENCH_ONLY:-}" ]; then
    case " $BENCH_ONLY " in *" $name "*) ;; *) continue ;; esac
  fi
  if [ "$program" = later ]; then
    csv later "$name" "" "" "" "$THREADS" "" "" "" "" "" "" "" "" "$(echo "$rest" | tr ',' ';')"
    continue
  fi
  data=$rest
  case "$data" in
  npy:*)
    IFS=: read -r _ file rows cols <<EOF
$data
EOF
    say "$name: writing $rows random cases of $cols values to $B/run/$file"
    $RANDOM_NPY "$B/run/$file" "$rows" "$cols" 1
    ;;
  esac

  # What the model says: the kind of row (a feed-forward net trained by
  # gradient, a recurrent one, or HF), the minibatch, loss, units and ε.
  model=$B/$name.model
  $MDLC --dump-model "$program" >"$model" || die "mdlc --dump-model $program failed"
  batch=$(sed -n 's/^train with [a-z]*: batch \([0-9]*\).*/\1/p' "$model")
  loss=$(sed -n 's/^net .*, loss \([a-z_]*\).*/\1/p' "$model")
  epsilon=$(sed -n 's/^  epsilon: \([0-9.e+-]*\)$/\1/p' "$model")
  units=$(awk '$1 == "layer" && $2 != "input" { printf "%s%s", sep, $4; sep = "," }' "$model")
  [ -n "$batch" ] && [ -n "$loss" ] && [ -n "$epsilon" ] && [ -n "$units" ] ||
    die "cannot read batch, loss, epsilon and units from mdlc --dump-model $program"
  kind=feedforward
  grep -q '^train with hf:' "$model" && kind=hf
  if grep -q '^net [^:]*: recurrent ' "$model"; then
    [ $kind = hf ] && die "$program: the benchmark times HF on feed-forward nets only"
    kind=recurrent
    # The recurrence runs for the longest sequence of the minibatch: for
    # addition at T = 80, 88 steps in all but about 2 minibatches in a million.
    max_steps=$(sed -n 's/^net .*, at most \([0-9]*\) steps.*/\1/p' "$model")
    targets=
    grep -q '^net .*, targets at the last step' "$model" && targets=last
    grep -q '^net .*, targets at every step' "$model" && targets=every
    [ -n "$max_steps" ] && [ -n "$targets" ] ||
      die "cannot read the steps and targets of $program's recurrent net"
  fi

  for precision in float32 float64; do
    prog=$B/$name-$precision
    flag=
    [ $precision = float64 ] && flag="--precision double"
    say "$name $precision: compiling"
    $MDLC $flag --keep-c "$program" -o "$prog" || die "mdlc $program failed"

    # What the program says about itself: the layers, n_params, the cases
    # (a recurrent program's held-out sequences).
    (cd "$B/run" && "../$(basename "$prog")" --steps 0 --threads "$THREADS") >"$B/header" 2>&1 ||
      { cat "$B/header"; die "$prog --steps 0 failed"; }
    network=$(sed -n 's/^# network *//p' "$B/header")
    n_params=$(sed -n 's/^# method .* \([0-9]*\) parameters$/\1/p' "$B/header")
    if [ $kind = recurrent ]; then
      cases=$(sed -n 's/^# data .*; \([0-9]*\) held-out sequences$/\1/p' "$B/header")
    else
      cases=$(sed -n 's/^# data .*, \([0-9]*\) cases$/\1/p' "$B/header")
    fi
    [ -n "$network" ] && [ -n "$n_params" ] && [ -n "$cases" ] ||
      die "cannot read the network, parameters and cases from $prog's header"

    # The GEMM ceiling, and a check that it makes the calls the generated
    # code writes (each product is written once; a loop over the steps of a
    # sequence is one). An HF row's ceiling is one CG step: one Gauss-Newton
    # product on the curvature batch.
    case $kind in
    feedforward) ceiling_batch=$batch mode= functions="forward backward" per=update ;;
    recurrent) ceiling_batch=$batch mode="--recurrent $max_steps $targets" functions="forward run_recurrence backward back_through_time" per=update ;;
    hf)
      ceiling_batch=$(sed -n 's/^ *BATCH = \([0-9]*\),.*curvature batch.*/\1/p' "$prog.c")
      [ -n "$ceiling_batch" ] || die "cannot read the curvature batch from $prog.c"
      mode=--gauss-newton functions="r_forward backpropagate" per=cg_step
      ;;
    esac
    say "$name $precision: GEMM ceiling"
    $CEILING $precision "$THREADS" "$ceiling_batch" "$network" "$REPS" "$TARGET_S" $mode >"$B/ceiling"
    gflop=$(field gflop "$B/ceiling")
    set -- $(calls_in "$prog.c" $functions)
    note="the program's own products"
    [ $kind = hf ] && note="one Gauss-Newton product on the curvature batch of $ceiling_batch"
    if [ "$1" != "$(field gemm_sites "$B/ceiling")" ] ||
      [ "$2" != "$(field gemv_sites "$B/ceiling")" ]; then
      note="WARNING: $functions in the generated C have $1 gemm and $2 gemv calls; the ceiling makes $(field gemm_sites "$B/ceiling") and $(field gemv_sites "$B/ceiling")"
      say "$note"
    fi
    case $kind in # (a note: no commas)
    recurrent)
      described="$network recurrent: unrolled over $max_steps steps with targets at every step"
      [ $targets = last ] && described="$network recurrent: unrolled over $max_steps steps with a target at the last step"
      ;;
    hf) described="$network trained with HF: gradients on $batch cases and Gauss-Newton products on $ceiling_batch" ;;
    *) described=$network ;;
    esac
    csv workload "$name" $precision "" "" "$THREADS" gflop_per_$per "$gflop" "" "" GFLOP "" "" "" "$described"
    m=$(field ms_median "$B/ceiling")
    blas=mdl_sgemm
    [ $precision = float64 ] && blas=mdl_dgemm
    csv update "$name" $precision "gemm-ceiling" "OpenBLAS via $blas" "$THREADS" ms_per_$per \
      "$m" "$(field ms_min "$B/ceiling")" "$(field ms_max "$B/ceiling")" ms "$REPS" \
      "$(field per_rep "$B/ceiling")" "$(awk -v g="$gflop" -v m="$m" 'BEGIN { printf "%.2f", g / m * 1e3 }')" "$note"

    # The program.
    : >"$B/rss"
    if [ $kind = hf ]; then
      say "$name $precision: timing $REPS HF updates after a first one"
      time_hf "$prog"
      max_cg=$(sed -n 's/^ *s\.max_cg_steps = \([0-9]*\);/\1/p' "$prog.c")
      # A CG step: CG's own time over its products, which is what the
      # ceiling of one Gauss-Newton product measures.
      awk '{ printf "%.6f\n", $3 }' "$B/hf-updates" >"$B/samples"
      set -- $(stats "$B/samples")
      note=
      awk -v m="$max_cg" '$1 != m { bad = 1 } END { exit !bad }' "$B/hf-updates" &&
        note="WARNING: not every timed update ran $max_cg CG steps (see cg_steps_per_update)" && say "$note"
      csv update "$name" $precision mdlc "$REPS HF updates after a first one" "$THREADS" ms_per_cg_step \
        "$1" "$2" "$3" ms "$REPS" 1 "$(awk -v g="$gflop" -v m="$1" 'BEGIN { printf "%.2f", g / m * 1e3 }')" "$note"
      hf_row seconds_per_update s seconds
      hf_row update_ms_per_cg_step ms "seconds * 1e3 / steps"
      hf_row cg_steps_per_update steps steps
      hf_row cg_steps_per_second steps/s "steps / seconds"
    else
      say "$name $precision: timing the generated program"
      set -- $(time_differenced "$prog")
      csv update "$name" $precision mdlc "$N1 and $((N1 + $4)) updates" "$THREADS" ms_per_update "$1" "$2" "$3" ms \
        "$REPS" "$4" "$(awk -v g="$gflop" -v m="$1" 'BEGIN { printf "%.2f", g / m * 1e3 }')" ""
      case " $THROUGHPUT " in
      *" $name "*) [ $precision = float32 ] && throughput_rows "$prog" "$1" "$2" "$3" "$4" ;;
      esac
      case " $NAG_FORMS " in
      *" $name "*)
        grep -q '^train with nag:' "$model" && [ $precision = float32 ] &&
          nag_form_rows "$program" "$prog" "$1" "$2" "$3" "$4"
        ;;
      esac
      if [ $kind = recurrent ]; then
        torch_kind=recurrent:$max_steps:$targets
      else
        torch_kind=feedforward
      fi
      echo "$name $precision $batch $cases $network $units $loss $epsilon $gflop $torch_kind" >>"$SPECS"
    fi

    # Peak resident memory against the bytes the program's buffers need,
    # laid out as the generated C allocates them (bench/README.md).
    size=4
    [ $precision = float64 ] && size=8
    vectors=$(grep -c 'alloc(sizeof([a-z]*) \* N_PARAMS)' "$prog.c" || true)
    kept=0
    if [ $kind = hf ] && grep -q '^ *s\.backtrack = 1;' "$prog.c"; then
      # CG's kept iterates for backtracking: steps ceil(5 * 1.3^j) up to max_cg
      kept=$(awk -v m="$max_cg" 'BEGIN { x = 5; for (i = 1; i <= m; i++) if (i == int(x) + (x > int(x))) { n++; x *= 1.3 } print n + 0 }')
    fi
    rss_kib=$(sort -n "$B/rss" | tail -n 1)
    echo "$network" | awk -F- -v kind=$kind -v b="$batch" -v cb="${ceiling_batch:-0}" -v s=$size \
      -v p="$n_params" -v v="$vectors" -v kept="$kept" -v steps="${max_steps:-0}" -v targets="${targets:-}" \
      -v cases="$cases" -v rss="$rss_kib" -v base="$baseline_kib" '{
      for (i = 1; i <= NF; i++) { units += $i; if ($i > widest) widest = $i }
      vec = v * p * s
      if (kind == "recurrent") {
        # x, h_0..h_M, (h_L), and z, y, t of the outputs; deltas of the
        # outputs, of every step (and of h_L); the held-out sequences
        last = targets == "last"
        o = last ? b : steps * b
        act = (steps * b * $1 + (steps + 1) * b * $2 + last * b * $2 + 3 * o * $3) * s
        del = (o * $3 + steps * b * $2 + last * b * $2) * s
        data = cases * (steps * $1 + (last ? 1 : steps) * $3) * 4
      } else if (kind == "hf") {
        # Two sets of activities (a chunk of the gradient batch, and the
        # curvature batch), R{a}, the squares of the Fisher diagonal; two
        # sets of deltas; the runtime: θ + rate p and a gradient in the
        # program precision, 11 float64 vectors of HF and CG and the kept
        # iterates
        act = (2 * cb * (units + $NF) + cb * (units - $1) + 2 * cb * widest) * s
        del = 2 * cb * (units - $1) * s
        vec += 2 * p * s + (11 + kept) * p * 8
        data = cases * $1 * 4
      } else {
        act = b * (units + $NF) * s        # every layer, and z and y of the output
        del = b * (units - $1) * s         # every layer above the input
        data = cases * $1 * 4              # the data set, float32
      }
      mib = 1048576
      printf "%.2f %.2f %.2f %.2f %.2f %.2f %.2f\n", vec / mib, act / mib, del / mib,
        data / mib, (vec + act + del + data) / mib, rss / 1024,
        rss / 1024 - (vec + act + del + data) / mib - base / 1024 }' >"$B/memory"
    read -r vec act del dat counted peak other <"$B/memory"
    case $kind in
    recurrent)
      vec_note="$vectors vectors of n_params=$n_params"
      act_note="$batch sequences of $max_steps steps"
      dat_note="$cases held-out sequences in float32"
      ;;
    hf)
      vec_note="$vectors of the program and 2 of the runtime in $precision and $((11 + kept)) float64 of HF and CG; n_params=$n_params"
      act_note="two batches of $ceiling_batch"
      dat_note="$cases cases in float32"
      ;;
    *)
      vec_note="$vectors vectors of n_params=$n_params"
      act_note="batch $batch"
      dat_note="$cases cases in float32"
      ;;
    esac
    for pair in "parameter_vectors $vec $vec_note" "activations $act $act_note" \
      "deltas $del $act_note" "data $dat $dat_note" "counted $counted" "peak_rss $peak" \
      "other $other peak - counted - baseline"; do
      set -- $pair
      metric=$1 value=$2
      shift 2
      csv memory "$name" $precision mdlc "" "$THREADS" "$metric" "$value" "" "" MiB "" "" "" "$*"
    done
  done
done 3<bench/workloads

# ---- PyTorch ----

if [ -n "$PYTHON" ]; then
  if [ -s "$SPECS" ]; then
    say "PyTorch ($PYTHON): exploring configurations, then timing"
    # The sweep-throughput workloads are timed at one thread too (at one
    # thread the main rows already are).
    one_thread=
    [ "$THREADS" != 1 ] && one_thread=$(echo $THROUGHPUT | tr ' ' ',')
    "$PYTHON" bench/torch_bench.py "$SPECS" "$CSV" "$THREADS" "$REPS" "$TARGET_S" $one_thread ||
      say "PyTorch failed (above); its columns say so"
  fi
elif [ "$torch_status" = "not installed" ]; then
  say "PyTorch is not installed: its columns say so (install it with: sh tools/deps.sh --bench, as root)"
fi

echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$META"
echo "elapsed_s=$(($(date +%s) - START))" >>"$META"
sh bench/report.sh "$CSV" "$META" >"$OUT/RESULTS.md"
[ "$CSV" = "$OUT/results.csv" ] || cp "$CSV" "$OUT/results.csv"
say "wrote $OUT/RESULTS.md and $OUT/results.csv"
