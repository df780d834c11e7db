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
    if ($7 == "gflop_per_cg_step") is_hf[w] = 1
  } else if (section == "later") {
    if (!(w in seen)) { seen[w] = 1; order[++n_work] = w }
    later[w] = $15
  } else if (section == "update") {
    k = key(w, p, impl)
    med[k] = $8; lo[k] = $9; hi[k] = $10; gflops[k] = $14; config[k] = $5; note[k] = $15
    per_rep[k] = $13
  } else if (section == "explore") {
    # A column per workload, precision and implementation (the RNN rows
    # time two: "torch loop" and "torch nn.RNN").
    col = w " " p (impl == "torch" ? "" : " " substr(impl, 7))
    if (!(($5) in cfg_seen)) { cfg_seen[$5] = 1; cfgs[++n_cfg] = $5 }
    if (!(col in col_seen)) { col_seen[col] = 1; cols[++n_col] = col }
    explore[$5, col] = $8
  } else if (section == "hf") {
    hf[w, p, $7] = cell($8, $9, $10)
    if ($7 == "cg_steps_per_update" && $9 == $10) hf[w, p, $7] = sprintf("%d", $8)
  } else if (section == "compile") {
    if (!(w in ex_seen)) { ex_seen[w] = 1; examples[++n_ex] = w }
    comp[w, impl] = cell($8, $9, $10)
  } else if (section == "throughput" && impl == "torch") {
    # PyTorch at one thread; its note ends with the faster variant
    tp_torch[w] = cell($8, $9, $10); tp_torchv[w] = $8
    tp_variant[w] = $15; sub(/.*; /, "", tp_variant[w])
    if (tp_variant[w] ~ /^mkldnn/) tp_variant[w] = ""
  } else if (section == "throughput") {
    if (!(w in tp_seen)) { tp_seen[w] = 1; tp_order[++n_tp] = w }
    tp[w, $5, $7] = cell($8, $9, $10); tpv[w, $5, $7] = $8
  } else if (section == "nag_form") {
    if (!(w in nf_seen)) { nf_seen[w] = 1; nf_order[++n_nf] = w }
    nf[w, $5] = cell($8, $9, $10); nfv[w, $5] = $8
  } else if (section == "memory") {
    if (w == "baseline") { baseline = $8; next }
    mem[w, p, $7] = $8; memnote[w, p, $7] = $15
  }
}
END {
  # PyTorch’s best is the faster, timed at full length, of the
  # exploration’s pick and the default: a short exploration can pick a
  # configuration that the longer timing then finds slower.
  for (k in config) {
    split(k, part, SUBSEP)
    if (part[3] != "torch-best") continue
    d = key(part[1], part[2], "torch-default")
    if ((d in med) && med[d] + 0 < med[k] + 0) {
      med[k] = med[d]; lo[k] = lo[d]; hi[k] = hi[d]; gflops[k] = gflops[d]
      note[k] = note[d]
      config[k] = config[d] " (the exploration picked " config[k] ", slower at full length)"
    }
  }
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
  print "Milliseconds per update (NAG; minibatch 200 for the autoencoders, 100"
  print "sequences for the RNNs), the median of the repetitions with their min–max."
  print "mdlc: (time(N1 + D) − time(N1)) / D over pairs of runs of the generated"
  print "program, which cancels start-up and the two evaluations of the error."
  print "PyTorch: the same net, loss and NAG update timed in-process after a"
  print "warm-up (for an RNN the faster of a Python loop over the steps and"
  print "torch.nn.RNN, named below). GEMM ceiling: OpenBLAS alone making exactly the"
  print "update’s GEMM and bias-GEMV calls (bench/gemm_ceiling.c). GFLOP/s counts"
  print "2mnk per GEMM and 2mn per GEMV. mdlc ÷ PyTorch is a ratio of times: below 1,"
  print "mdlc is faster. Ceiling ÷ mdlc is the fraction of the ceiling mdlc reaches."
  print "The hf row is per CG step, not per update (see “Hessian-free” below)."
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
      td = (d in med) ? cell(med[d], lo[d], hi[d]) : w in is_hf ? "no counterpart" : absent
      tb = (b in med) ? cell(med[b], lo[b], hi[b]) : w in is_hf ? "no counterpart" : absent
      printf "| %s | %.3f | %s | %s | %s | %s | %s | %s | %s | %s · %s · %s |\n",
        (w in is_hf ? w ", per CG step" : w), gflop[w, p],
        cell(med[a], lo[a], hi[a]), td, tb, cell(med[c], lo[c], hi[c]),
        ratio(med[a], med[d]), ratio(med[a], med[b]), pct(med[c], med[a]),
        fmt(gflops[a]), (b in gflops) ? fmt(gflops[b]) : "—", fmt(gflops[c])
    }
    for (i = 1; i <= n_work; i++) {
      c = key(order[i], p, "gemm-ceiling"); a = key(order[i], p, "mdlc")
      if ((c in note) && note[c] ~ /^WARNING/) printf "\n%s: %s.\n", order[i], note[c]
      if ((a in note) && note[a] ~ /^WARNING/) printf "\n%s: %s.\n", order[i], note[a]
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
      if ((a in per_rep) && !(order[i] in is_hf)) { line = line sep order[i] " " precisions[pi] " " per_rep[a]; sep = ", " }
    }
  print line "."

  if (n_tp) {
    t = m["threads"]
    one = "1 run × 1 thread"; all = "1 run × " t " threads"; side = t " runs × 1 thread"
    print ""
    print "### Sweep throughput"
    print ""
    print "`mdlc sweep` runs several programs at once (its help: `--jobs N` " m["sweep_jobs"] ";"
    print "`--threads T` " m["sweep_threads"] "). What a sweep gets from the machine’s " m["cores"] " cores,"
    printf "float32: ms per update by differencing as above, for one run with one\n"
    printf "thread, one run with %s threads, and %s runs of one thread started\n", t, t
    printf "together (each run’s ms per update while all run: the pair of runs is\n"
    printf "timed from their start to the end of the last), and the updates per\n"
    printf "second of the whole machine: 1000 / ms for one run, %s × 1000 / ms for %s.\n", t, t
    print ""
    if (t == 1) {
      print "With 1 thread there is nothing to compare: only the one-thread rows."
      print ""
    }
    printf "| workload | %s ms | %s ms | %s: ms per update of each | updates / s: %s | updates / s: %s | faster for a sweep |\n", one, all, side, all, side
    print "|---|---|---|---|---|---|---|"
    for (i = 1; i <= n_tp; i++) {
      w = tp_order[i]
      a = tpv[w, all, "updates_per_second"]; b = tpv[w, side, "updates_per_second"]
      verdict = (a == "" || b == "") ? "—" : b + 0 > a + 0 ? sprintf("%s (%.2f×)", side, b / a) : sprintf("%s (%.2f×)", all, a / b)
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", w,
        ((w, one, "ms_per_update") in tp) ? tp[w, one, "ms_per_update"] : "—",
        ((w, all, "ms_per_update") in tp) ? tp[w, all, "ms_per_update"] : "—",
        ((w, side, "ms_per_update") in tp) ? tp[w, side, "ms_per_update"] : "—",
        ((w, all, "updates_per_second") in tp) ? tp[w, all, "updates_per_second"] : "—",
        ((w, side, "updates_per_second") in tp) ? tp[w, side, "updates_per_second"] : "—", verdict
    }
    n_torch = 0
    for (i = 1; i <= n_tp; i++) if (tp_order[i] in tp_torch) n_torch++
    if (n_torch) {
      print ""
      print "At one thread against PyTorch at one thread (torch.set_num_threads(1),"
      print "OMP_NUM_THREADS=1 and OPENBLAS_NUM_THREADS=1; for an RNN the faster of"
      print "its two implementations, named), float32, ms per update:"
      print ""
      print "| workload | mdlc, 1 thread | PyTorch, 1 thread | mdlc ÷ PyTorch |"
      print "|---|---|---|---|"
      for (i = 1; i <= n_tp; i++) {
        w = tp_order[i]
        if (!(w in tp_torch)) continue
        printf "| %s | %s | %s%s | %s |\n", w,
          ((w, one, "ms_per_update") in tp) ? tp[w, one, "ms_per_update"] : "—",
          tp_torch[w], tp_variant[w] == "" ? "" : " · " tp_variant[w],
          ratio(tpv[w, one, "ms_per_update"], tp_torchv[w])
      }
    }
  }

  if (n_nf) {
    print ""
    print "### NAG form"
    print ""
    print "mdlc writes NAG with the look-ahead point φ = θ + μv carried between updates"
    print "(`--nag-form carried`, the default); `--nag-form direct` forms θ + μv anew"
    print "each update, as eqs. 3–4 are printed. The same .mdl compiled both ways,"
    print "float32, ms per update by differencing with the main row’s D: the carried"
    print "form (the main row), the direct form, then the carried form timed again"
    print "after it, so that a drift of the machine between the two shows."
    print ""
    print "| workload | carried ms | direct ms | carried again ms | direct ÷ carried (both carried timings) |"
    print "|---|---|---|---|---|"
    for (i = 1; i <= n_nf; i++) {
      w = nf_order[i]
      printf "| %s | %s | %s | %s | %s · %s |\n", w,
        ((w, "carried") in nf) ? nf[w, "carried"] : "—",
        ((w, "direct") in nf) ? nf[w, "direct"] : "—",
        ((w, "carried again") in nf) ? nf[w, "carried again"] : "—",
        ratio(nfv[w, "direct"], nfv[w, "carried"]), ratio(nfv[w, "direct"], nfv[w, "carried again"])
    }
  }

  hf_rows = 0
  for (i = 1; i <= n_work; i++) if (order[i] in is_hf) hf_rows++
  if (hf_rows) {
    print ""
    print "### Hessian-free"
    print ""
    print "An HF update (sec. 5): the gradient on its gradient batch, CG on the damped"
    print "Gauss-Newton model, one Gauss-Newton product on the curvature batch per CG"
    print "step, backtracking over CG’s iterates, the λ rule and the line search. Each"
    print "repetition is one update, timed by the program itself inside the update (so"
    print "its evaluations of the training error do not count), as its --log CSV gives"
    print "it; the first update of the run is left out. mdlc ms / CG step is CG’s own"
    print "time over the Gauss-Newton products it made (the log’s ms_per_cg_step): one"
    print "product and CG’s vector work, which is what the ceiling of one product"
    print "measures. Update ms / CG step is the whole update’s time over its CG steps:"
    print "it also holds the update’s gradient (on four times the curvature batch),"
    print "the backtracking over CG’s iterates and the line search. There is no"
    print "PyTorch counterpart."
    print ""
    print "| workload | precision | CG steps / update | s / update | CG steps / s | update ms / CG step | mdlc ms / CG step | GEMM ceiling ms / Gauss-Newton product | ceiling ÷ mdlc |"
    print "|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= n_work; i++) {
      w = order[i]
      if (!(w in is_hf)) continue
      for (pi = 1; pi <= 2; pi++) {
        p = precisions[pi]
        if (!((w, p, "seconds_per_update") in hf)) continue
        a = key(w, p, "mdlc"); c = key(w, p, "gemm-ceiling")
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w, p, hf[w, p, "cg_steps_per_update"],
          hf[w, p, "seconds_per_update"], hf[w, p, "cg_steps_per_second"], hf[w, p, "update_ms_per_cg_step"],
          cell(med[a], lo[a], hi[a]), cell(med[c], lo[c], hi[c]), pct(med[c], med[a])
      }
    }
  }

  if (torch) {
    print ""
    print "### PyTorch’s configurations"
    print ""
    print "The best configuration of each row, chosen by a short exploration and then"
    print "timed afresh at full length (where the default came out faster at full"
    print "length, the default):"
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
      header = header " " cols[j] " |"
      rule = rule "---|"
    }
    print header " ÷ fastest |"
    print rule "---|"
    for (j = 1; j <= n_col; j++) {
      best[j] = ""
      for (i = 1; i <= n_cfg; i++) {
        x = explore[cfgs[i], cols[j]]
        if (x != "" && (best[j] == "" || x + 0 < best[j] + 0)) best[j] = x
      }
    }
    # One configuration for every row: the smallest geometric mean of its
    # time over the fastest of each row.
    overall = ""
    for (i = 1; i <= n_cfg; i++) {
      logsum = 0; count = 0
      for (j = 1; j <= n_col; j++) {
        x = explore[cfgs[i], cols[j]]
        if (x != "" && best[j] > 0) { logsum += log(x / best[j]); count++ }
      }
      gm[i] = count ? exp(logsum / count) : ""
      if (gm[i] != "" && (overall == "" || gm[i] < gm[overall])) overall = i
    }
    for (i = 1; i <= n_cfg; i++) {
      row = "| " cfgs[i] " |"
      for (j = 1; j <= n_col; j++) {
        x = explore[cfgs[i], cols[j]]
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
  print "reports; for HF those of the program and of the runtime’s HF and CG, most"
  print "of them float64), the activations of a minibatch (every layer, the output’s"
  print "z and y apart; for an RNN every step), the deltas, and the data set (an"
  print "RNN’s held-out sequences), which the runtime holds in float32;"
  print "bench/README.md has the details. Other = peak − counted − the baseline, the"
  printf "peak of an OpenBLAS program that holds next to nothing (%s MiB: libraries,\n", baseline
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
  print ""
  print "What a small net’s peak holds beyond its buffers is code, not data: the"
  print "shared libraries’ pages the program runs (OpenBLAS’s kernels, libc, libm,"
  print "libgfortran, PLplot’s stack; 6.6 MiB for an RNN on 2026-12-04), file-backed and"
  print "shared with every process that maps them. The memory a program allocates"
  print "(its private anonymous pages, /proc/PID/smaps) is within a few percent of"
  print "the counted buffers; bench/README.md has the measurement."
}' "$1"
