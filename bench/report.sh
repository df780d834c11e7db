#!/bin/sh
# bench/report.sh — turns the benchmark's results.csv and its notes on the
# machine into RESULTS.md (on standard output). bench/run.sh calls it; run it
# by hand to re-render a CSV:  sh bench/report.sh results.csv meta.txt
set -eu
[ $# -eq 2 ] || { echo "usage: sh bench/report.sh RESULTS.csv META.txt" >&2; exit 2; }

awk -F, -v meta="$2" '
function cell(ms, lo, hi) {
  return sprintf("%s (%s–%s)", fmt(ms), fmt(lo), fmt(hi))
}
function fmt(x) {
  if (x == "") return "—"
  return x >= 100 ? sprintf("%.0f", x) : x >= 10 ? sprintf("%.1f", x) : sprintf("%.2f", x)
}
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "—" : sprintf("%.2f", a / b) }
function pct(a, b) { return (a == "" || b == "" || b == 0) ? "—" : sprintf("%.0f %%", 100 * a / b) }
function key(w, p, impl) { return w SUBSEP p SUBSEP impl }

BEGIN {
  while ((getline line < meta) > 0) {
    eq = index(line, "=")
    m[substr(line, 1, eq - 1)] = substr(line, eq + 1)
  }
}
NR == 1 { next }
{
  section = $1; w = $2; p = $3; impl = $4
  if (section == "workload") {
    if (!(w in seen)) { seen[w] = 1; order[++n_work] = w }
    network[w] = $15; gflop[w, p] = $8
  } else if (section == "later") {
    if (!(w in seen)) { seen[w] = 1; order[++n_work] = w }
    later[w] = $15
  } else if (section == "update") {
    k = key(w, p, impl)
    med[k] = $8; lo[k] = $9; hi[k] = $10; gflops[k] = $14; config[k] = $5; note[k] = $15
    per_rep[k] = $13
  } else if (section == "explore") {
    if (!(($5) in cfg_seen)) { cfg_seen[$5] = 1; cfgs[++n_cfg] = $5 }
    if (!((w, p) in col_seen)) { col_seen[w, p] = 1; cols[++n_col] = w SUBSEP p }
    explore[$5, w, p] = $8; settings[$5, w, p] = $15
  } else if (section == "compile") {
    if (!(w in ex_seen)) { ex_seen[w] = 1; examples[++n_ex] = w }
    comp[w, impl] = cell($8, $9, $10)
  } else if (section == "memory") {
    if (w == "baseline") { baseline = $8; next }
    mem[w, p, $7] = $8; memnote[w, p, $7] = $15
  }
}
END {
  torch = m["torch_status"] == "measured"
  absent = torch ? "failed" : m["torch_status"] ~ /^left out/ ? "left out" : "not installed"
  print "# mdlc benchmark results"
  print ""
  if (m["quick"] == "yes") {
    print "**Quick mode (BENCH_QUICK=1): too few and too short repetitions to be"
    print "measurements. They only show that the harness runs.**"
    print ""
  }
  printf "Written by `%s` (bench/run.sh; bench/README.md says what is measured\n", m["command"]
  printf "and how) on %s: %s repetitions of about %s s of updates each; the\n", m["date"], m["reps"], m["target_s"]
  printf "whole run took %.1f minutes.\n", m["elapsed_s"] / 60
  print ""
  print "| | |"
  print "|---|---|"
  printf "| machine | %s, %s cores |\n", m["cpu"], m["cores"]
  printf "| threads | %s: mdlc’s --threads, the ceiling’s OpenBLAS threads, and the thread settings of every PyTorch configuration but the default one, which keeps its own |\n", m["threads"]
  printf "| load average (1, 5, 15 min) | %s at the start, %s at the end |\n", m["load_start"], m["load_end"]
  printf "| mdlc | %s |\n", m["mdlc"]
  printf "| clang | %s |\n", m["clang"]
  printf "| OpenBLAS | %s |\n", m["openblas"]
  printf "| PyTorch | %s |\n", m["torch"]
  print ""
  print "## Time per update"
  print ""
  print "Milliseconds per update (minibatch 200, NAG), the median of the repetitions"
  print "with their min–max. mdlc: (time(N1 + D) − time(N1)) / D over pairs of runs of"
  print "the generated program, which cancels start-up and the two evaluations of the"
  print "training error. PyTorch: the same net, loss and NAG update timed in-process"
  print "after a warm-up. GEMM ceiling: OpenBLAS alone making exactly the update’s"
  print "GEMM and bias-GEMV calls (bench/gemm_ceiling.c). GFLOP/s counts 2mnk per GEMM"
  print "and 2mn per GEMV. mdlc ÷ PyTorch is a ratio of times: below 1, mdlc is"
  print "faster. Ceiling ÷ mdlc is the fraction of the ceiling mdlc reaches."
  split("float32 float64", precisions, " ")
  for (pi = 1; pi <= 2; pi++) {
    p = precisions[pi]
    print ""
    print "### " p
    print ""
    print "| workload | GFLOP / update | mdlc ms | PyTorch default ms | PyTorch best ms | GEMM ceiling ms | mdlc ÷ PyTorch default | mdlc ÷ PyTorch best | ceiling ÷ mdlc | GFLOP/s mdlc · PyTorch best · ceiling |"
    print "|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= n_work; i++) {
      w = order[i]
      if (w in later) {
        printf "| %s | *not measured yet: %s* | | | | | | | | |\n", w, later[w]
        continue
      }
      if (!((w, p) in gflop)) continue
      a = key(w, p, "mdlc"); d = key(w, p, "torch-default"); b = key(w, p, "torch-best")
      c = key(w, p, "gemm-ceiling")
      td = (d in med) ? cell(med[d], lo[d], hi[d]) : absent
      tb = (b in med) ? cell(med[b], lo[b], hi[b]) : absent
      printf "| %s | %.3f | %s | %s | %s | %s | %s | %s | %s | %s · %s · %s |\n", w, gflop[w, p],
        cell(med[a], lo[a], hi[a]), td, tb, cell(med[c], lo[c], hi[c]),
        ratio(med[a], med[d]), ratio(med[a], med[b]), pct(med[c], med[a]),
        fmt(gflops[a]), (b in gflops) ? fmt(gflops[b]) : "—", fmt(gflops[c])
    }
    for (i = 1; i <= n_work; i++) {
      c = key(order[i], p, "gemm-ceiling")
      if ((c in note) && note[c] ~ /^WARNING/) printf "\n%s: %s.\n", order[i], note[c]
    }
  }
  print ""
  print "The nets (layer widths, input to output):"
  print ""
  for (i = 1; i <= n_work; i++)
    if (order[i] in network) printf "- %s: %s\n", order[i], network[order[i]]
  print ""
  print "mdlc’s D (updates in the longer run minus the shorter), per workload:"
  sep = ""
  line = ""
  for (i = 1; i <= n_work; i++)
    for (pi = 1; pi <= 2; pi++) {
      a = key(order[i], precisions[pi], "mdlc")
      if (a in per_rep) { line = line sep order[i] " " precisions[pi] " " per_rep[a]; sep = ", " }
    }
  print line "."

  if (torch) {
    print ""
    print "### PyTorch’s configurations"
    print ""
    print "The best configuration of each row, chosen by a short exploration and then"
    print "timed afresh at full length:"
    print ""
    print "| workload | precision | best configuration | what it ran with |"
    print "|---|---|---|---|"
    for (i = 1; i <= n_work; i++)
      for (pi = 1; pi <= 2; pi++) {
        b = key(order[i], precisions[pi], "torch-best")
        if (b in config) printf "| %s | %s | %s | %s |\n", order[i], precisions[pi], config[b], note[b]
      }
    d = key(order[1], "float32", "torch-default")
    if (d in note) printf "\nOut of the box (`import torch` and nothing else): %s.\n", note[d]
    print ""
    print "The exploration (median ms per update of short repetitions; bold: the fastest):"
    print ""
    header = "| configuration |"
    rule = "|---|"
    print "The last column is the geometric mean of the configuration’s time over the"
    print "fastest of each column."
    print ""
    for (j = 1; j <= n_col; j++) {
      split(cols[j], wp, SUBSEP)
      header = header " " wp[1] " " wp[2] " |"
      rule = rule "---|"
    }
    print header " ÷ fastest |"
    print rule "---|"
    for (j = 1; j <= n_col; j++) {
      best[j] = ""
      for (i = 1; i <= n_cfg; i++) {
        split(cols[j], wp, SUBSEP)
        x = explore[cfgs[i], wp[1], wp[2]]
        if (x != "" && (best[j] == "" || x + 0 < best[j] + 0)) best[j] = x
      }
    }
    # One configuration for every row: the smallest geometric mean of its
    # time over the fastest of each row.
    overall = ""
    for (i = 1; i <= n_cfg; i++) {
      logsum = 0; count = 0
      for (j = 1; j <= n_col; j++) {
        split(cols[j], wp, SUBSEP)
        x = explore[cfgs[i], wp[1], wp[2]]
        if (x != "" && best[j] > 0) { logsum += log(x / best[j]); count++ }
      }
      gm[i] = count ? exp(logsum / count) : ""
      if (gm[i] != "" && (overall == "" || gm[i] < gm[overall])) overall = i
    }
    for (i = 1; i <= n_cfg; i++) {
      row = "| " cfgs[i] " |"
      for (j = 1; j <= n_col; j++) {
        split(cols[j], wp, SUBSEP)
        x = explore[cfgs[i], wp[1], wp[2]]
        row = row " " (x == best[j] ? "**" fmt(x) "**" : fmt(x)) " |"
      }
      print row " " (gm[i] == "" ? "—" : sprintf("%.2f", gm[i])) " |"
    }
    if (overall != "")
      printf "\nThe best single configuration for every row: %s (its time is on average %.2f times the fastest of each row).\n", cfgs[overall], gm[overall]
  }

  print ""
  print "## Compile time"
  print ""
  print "Seconds for `mdlc FILE.mdl -o PROG` (parse, check, emit, clang-format, clang"
  print "-O2 and the link) and for `mdlc --emit-c` (everything before clang), median"
  print "of 3 runs with min–max:"
  print ""
  print "| example | mdlc + clang | mdlc --emit-c |"
  print "|---|---|---|"
  for (i = 1; i <= n_ex; i++)
    printf "| %s | %s | %s |\n", examples[i], comp[examples[i], "mdlc"], comp[examples[i], "mdlc --emit-c"]

  print ""
  print "## Peak memory"
  print ""
  print "Peak resident memory (ru_maxrss) of each generated program over its timing"
  print "runs, against the bytes its buffers need: the vectors of n_params numbers it"
  print "allocates (counted in its C: θ, the velocity, the gradient, and θ_t for the"
  print "reports), the activations of a minibatch (every layer, the output’s z and y"
  print "apart), the deltas of every layer above the input, and the data set, which"
  print "the runtime holds in float32. Other = peak − counted − the baseline, the peak"
  printf "of an OpenBLAS program that holds next to nothing (%s MiB: libraries,\n", baseline
  print "OpenBLAS’s buffers). MiB."
  print ""
  print "| program | peak RSS | counted | n_params vectors | activations | deltas | data | other |"
  print "|---|---|---|---|---|---|---|---|"
  for (i = 1; i <= n_work; i++)
    for (pi = 1; pi <= 2; pi++) {
      w = order[i]; p = precisions[pi]
      if (!((w, p, "peak_rss") in mem)) continue
      printf "| %s %s | %s | %s | %s (%s) | %s | %s | %s | %s |\n", w, p, mem[w, p, "peak_rss"],
        mem[w, p, "counted"], mem[w, p, "parameter_vectors"], memnote[w, p, "parameter_vectors"],
        mem[w, p, "activations"], mem[w, p, "deltas"], mem[w, p, "data"], mem[w, p, "other"]
    }
}' "$1"
