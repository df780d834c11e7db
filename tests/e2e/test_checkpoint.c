/* test_checkpoint.c — --checkpoint and --resume: a run that stops and goes
 * on ends bit for bit where an uninterrupted run ends, and a checkpoint that
 * does not belong to the program is refused with a message. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* A `last` phase and `steps` in an expression: --steps only cuts the
 * schedule short, so the first half of the run is the same whether it stops
 * at 150 or goes on, and a resumed run makes the whole run's updates. */
static const char *program(const char *method) {
  static char text[1024];
  snprintf(text, sizeof text,
           "data d = curves(cases 120, seed 5)\n"
           "net ae : autoencoder {\n"
           "  input 784\n"
           "  encoder sigmoid [16]\n"
           "  code linear 4\n"
           "  output sigmoid\n"
           "}\n"
           "train ae on d with %s {\n"
           "  batch 40; steps 300; epsilon 0.02 * (1 - t / (2 * steps))\n"
           "  last 60 { epsilon 0.005 }\n"
           "%s"
           "  report every 50\n"
           "}\n",
           method,
           strcmp(method, "sgd") == 0
               ? ""
               : "  mu min(1 - 2^(-1 - log2(floor(t / 20) + 1)), 0.99)\n");
  return text;
}

static void check_resume_is_exact(const char *name, const char *method,
                                  const char *flags) {
  const char *dir = e2e_dir(name);
  const char *exe = e2e_compile(dir, "prog", flags, program(method));
  cr_assert_not_null(exe);
  /* 150 updates, then on to 250 (into the last phase), then to the end. */
  e2e_result r = e2e_run(
      "cd %s && %s --threads 1 --steps 150 --checkpoint half.ckpt --quiet && "
      "%s --threads 1 --resume half.ckpt --steps 250 --checkpoint half.ckpt "
      "--quiet && %s --threads 1 --resume half.ckpt --save-params resumed.npy "
      "--quiet && %s --threads 1 --save-params whole.npy --quiet && cmp "
      "resumed.npy whole.npy",
      dir, exe, exe, exe, exe);
  cr_assert_eq(r.status, 0, "%s: resumed and whole runs differ:\n%s", name,
               r.output);
  free(r.output);
  /* The checkpoint is not a no-op: starting from scratch for 150 updates
   * ends elsewhere. */
  r = e2e_run("cd %s && %s --threads 1 --steps 150 --save-params half.npy "
              "--quiet && cmp -s half.npy whole.npy",
              dir, exe);
  cr_assert_neq(r.status, 0, "150 and 300 updates ended at the same place");
  free(r.output);
}

/* The learning curve of a run resumed after a stop (and after a kill that
 * left rows past the checkpoint, or a crash that left a row without its
 * end) is the uninterrupted run's, row for row
 * except the seconds: --resume keeps the rows before the checkpoint's
 * update and appends. */
Test(checkpoint, resume_keeps_every_log_row) {
  const char *dir = e2e_dir("resume_log");
  const char *exe = e2e_compile(dir, "prog", "", program("nag"));
  cr_assert_not_null(exe);
  e2e_result r = e2e_run(
      "cd %s && rm -f *.csv && %s --threads 1 --steps 150 --checkpoint "
      "half.ckpt --log resumed.csv --quiet && echo '200,0.9,0.02,1,1,1' >> "
      "resumed.csv && printf '100,0.9' >> resumed.csv && %s --threads 1 "
      "--resume half.ckpt --log resumed.csv "
      "--quiet && %s --threads 1 --log whole.csv --quiet && "
      "cut -d, -f1-5,7- resumed.csv > a && cut -d, -f1-5,7- whole.csv > b && "
      "cmp a b && echo lines: $(wc -l < resumed.csv)",
      dir, exe, exe, exe);
  cr_assert_eq(r.status, 0, "the resumed run's log differs:\n%s", r.output);
  cr_expect_eq(e2e_number_after(r.output, "lines:"), 1 + 7,
               "header and updates 0, 50 .. 300:\n%s", r.output);
  free(r.output);
  /* A log with a line longer than any row is not a learning curve. */
  r = e2e_run("cd %s && head -c 5000 /dev/zero | tr '\\0' x > long.csv && "
              "%s --threads 1 --resume half.ckpt --log long.csv --quiet",
              dir, exe);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "the log 'long.csv' has a line longer than 4095 "
                             "characters"),
            "%s", r.output);
  free(r.output);
  /* A log of another program is not continued. */
  r = e2e_run("cd %s && echo 'update,other' > other.csv && %s --threads 1 "
              "--resume half.ckpt --log other.csv --quiet",
              dir, exe);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "the log 'other.csv' does not have this "
                             "program's columns"),
            "%s", r.output);
  free(r.output);
}

/* A log that cannot be written stops the run with the file's name. */
Test(checkpoint, an_unwritable_log_is_an_error) {
  const char *dir = e2e_dir("log_full");
  const char *exe = e2e_compile(dir, "prog", "", program("nag"));
  cr_assert_not_null(exe);
  e2e_result r =
      e2e_run("cd %s && %s --threads 1 --steps 10 --log /dev/full", dir, exe);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "cannot write log file '/dev/full': No space "
                             "left on device"),
            "%s", r.output);
  free(r.output);
}

Test(checkpoint, resume_nag_carried_is_exact) {
  check_resume_is_exact("ckpt_nag", "nag", "");
}

Test(checkpoint, resume_nag_direct_is_exact) {
  check_resume_is_exact("ckpt_nag_direct", "nag", "--nag-form direct");
}

Test(checkpoint, resume_cm_is_exact) {
  check_resume_is_exact("ckpt_cm", "cm", "--precision double");
}

Test(checkpoint, resume_sgd_is_exact) {
  check_resume_is_exact("ckpt_sgd", "sgd", "");
}

Test(checkpoint, foreign_checkpoints_are_refused) {
  const char *dir = e2e_dir("ckpt_foreign");
  const char *nag = e2e_compile(dir, "nag", "", program("nag"));
  const char *direct =
      e2e_compile(dir, "direct", "--nag-form direct", program("nag"));
  const char *sgd = e2e_compile(dir, "sgd", "", program("sgd"));
  /* The same sizes and method, tanh units in place of logistic ones. */
  char text[1100];
  snprintf(text, sizeof text, "%s", program("nag"));
  char *units = strstr(text, "encoder sigmoid");
  memcpy(units, "encoder tanh   ", 15);
  const char *tanh_net = e2e_compile(dir, "tanh", "", text);
  cr_assert(nag && direct && sgd && tanh_net);
  e2e_result r =
      e2e_run("cd %s && %s --steps 50 --checkpoint nag.ckpt --quiet", dir, nag);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);

  struct {
    const char *exe, *file, *message;
  } cases[] = {
      {direct, "nag.ckpt",
       "checkpoint nag.ckpt belongs to another program: it was written by "
       "[autoencoder 784-16 sigmoid-4 linear-16 sigmoid-784 sigmoid, "
       "cross_entropy, nag carried, float32], this program is [autoencoder "
       "784-16 sigmoid-4 linear-16 sigmoid-784 sigmoid, cross_entropy, nag "
       "direct, float32]"},
      {sgd, "nag.ckpt",
       "this program is [autoencoder 784-16 sigmoid-4 "
       "linear-16 sigmoid-784 sigmoid, cross_entropy, sgd, "
       "float32]"},
      {tanh_net, "nag.ckpt",
       "this program is [autoencoder 784-16 tanh-4 "
       "linear-16 tanh-784 sigmoid"},
      {nag, "missing.ckpt", "cannot open checkpoint missing.ckpt"},
      {nag, "nag.mdl", "nag.mdl is not an mdl checkpoint"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    r = e2e_run("cd %s && %s --resume %s", dir, cases[i].exe, cases[i].file);
    cr_assert_eq(r.status, 1, "case %zu: status %d\n%s", i, r.status, r.output);
    cr_assert(strstr(r.output, cases[i].message), "case %zu: got\n%s", i,
              r.output);
    free(r.output);
  }

  /* A truncated checkpoint, and one from past the end of the run. */
  r = e2e_run("cd %s && head -c 100 nag.ckpt > cut.ckpt && %s --resume "
              "cut.ckpt",
              dir, nag);
  cr_assert_eq(r.status, 1);
  cr_assert(strstr(r.output, "checkpoint cut.ckpt is truncated"), "%s",
            r.output);
  free(r.output);
  r = e2e_run("cd %s && %s --steps 20 --resume nag.ckpt", dir, nag);
  cr_assert_eq(r.status, 1);
  cr_assert(strstr(r.output, "past the end of the run"), "%s", r.output);
  free(r.output);
}

/* Checkpoints of another shape: a net of another size, another number of
 * cases, a damaged sampler; and output paths that cannot be written. */
Test(checkpoint, mismatched_and_damaged_checkpoints_are_refused) {
  const char *dir = e2e_dir("ckpt_mismatch");
  const char *nag = e2e_compile(dir, "nag", "", program("nag"));
  char other[1024];
  snprintf(other, sizeof other, "%s", program("nag"));
  *strstr(other, "[16]") = '\0'; /* a wider encoder: another size */
  char wider[1100];
  snprintf(wider, sizeof wider, "%s[17]%s", other,
           strstr(program("nag"), "[16]") + 4);
  const char *wide = e2e_compile(dir, "wide", "", wider);
  char fewer[1100];
  snprintf(fewer, sizeof fewer, "%s", program("nag"));
  memcpy(strstr(fewer, "cases 120"), "cases 080", 9);
  const char *small = e2e_compile(dir, "small", "", fewer);
  cr_assert(nag && wide && small);
  e2e_result r =
      e2e_run("cd %s && %s --steps 50 --checkpoint nag.ckpt --quiet", dir, nag);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);

  r = e2e_run("cd %s && %s --resume nag.ckpt", dir, wide);
  cr_expect_eq(r.status, 1);
  cr_expect(strstr(r.output, "this program is [autoencoder 784-17 sigmoid"),
            "%s", r.output);
  free(r.output);
  r = e2e_run("cd %s && %s --resume nag.ckpt", dir, small);
  cr_expect_eq(r.status, 1);
  cr_expect(strstr(r.output, "was written for 120 cases in minibatches of 40; "
                             "this run has 80 and 40"),
            "%s", r.output);
  free(r.output);
  /* One flipped bit anywhere (here in θ, and in the sampler's
   * permutation near the end) breaks the checksum; bytes after the end are
   * refused; the old format says so. */
  struct {
    const char *damage, *message;
  } damaged[] = {
      {"printf '\\001' | dd of=bad.ckpt bs=1 seek=400 conv=notrunc",
       "checkpoint bad.ckpt is damaged: its checksum does not match its "
       "contents"},
      {"printf '\\000\\001' | dd of=bad.ckpt bs=1 "
       "seek=$(( $(stat -c %%s bad.ckpt) - 20 )) conv=notrunc",
       "checkpoint bad.ckpt is damaged: its checksum does not match its "
       "contents"},
      {"echo junk >> bad.ckpt",
       "checkpoint bad.ckpt is damaged: it has bytes after its end"},
      {"printf 'MDLCKPT1' | dd of=bad.ckpt bs=1 conv=notrunc",
       "checkpoint bad.ckpt is in an older format"},
  };
  for (size_t i = 0; i < sizeof damaged / sizeof *damaged; i++) {
    char command[512];
    snprintf(command, sizeof command,
             "cd %%s && cp nag.ckpt bad.ckpt && %s 2>/dev/null && %%s "
             "--resume bad.ckpt",
             damaged[i].damage);
    r = e2e_run(command, dir, nag);
    cr_expect_eq(r.status, 1, "%s", r.output);
    cr_expect(strstr(r.output, damaged[i].message), "case %zu:\n%s", i,
              r.output);
    free(r.output);
  }
  /* A checkpoint path that is a link or a FIFO is not replaced. */
  r = e2e_run("cd %s && ln -sf nag.ckpt link.ckpt && %s --steps 10 "
              "--checkpoint link.ckpt --quiet",
              dir, nag);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "checkpoint link.ckpt is not a regular file"),
            "%s", r.output);
  free(r.output);

  const char *options[] = {"--checkpoint", "--save-images", "--save-params"};
  for (int i = 0; i < 3; i++) {
    r = e2e_run("cd %s && %s %s no/such/dir/file", dir, nag, options[i]);
    cr_expect_eq(r.status, 1, "%s: %s", options[i], r.output);
    cr_expect(strstr(r.output, "cannot open no/such/dir/file for writing"),
              "%s: %s", options[i], r.output);
    cr_expect(!strstr(r.output, "# program"), "it started: %s", r.output);
    free(r.output);
  }
}

/* A shell function for the tests below: waits (up to 60 s) until the log
 * $1 has more than $2 lines, that is, until the run has reported past the
 * point where it started; fails if the run ended first. */
static const char *wait_rows =
    "wait_rows() { i=0; while [ \"$(cat $1 2>/dev/null | wc -l)\" -le $2 ]; "
    "do kill -0 $pid 2>/dev/null || return 1; i=$((i+1)); "
    "[ $i -gt 6000 ] && return 1; sleep 0.01; done; }; ";

/* SIGTERM (kill, scancel) and SIGINT (Ctrl-C) between two reports (env
 * --default-signal: a shell without job control starts background jobs with
 * SIGINT ignored, and the program leaves an ignored signal ignored): the run
 * saves its checkpoint where it is, closes its log, says how to go on and
 * exits 128 + the signal; resumed, it ends byte for byte where an
 * uninterrupted run ends, with every row of its learning curve (the
 * gradient statistics of the row after the stop cover only the updates
 * since the resume, so the rows are compared up to the loss). */
static void check_stop_signal(const char *name, const char *signal,
                              int status) {
  const char *dir = e2e_fresh_dir(name);
  const char *exe = e2e_compile(dir, "prog", "", program("nag"));
  cr_assert_not_null(exe);
  const char *run = "--threads 1 --steps 6000 --report-every 200 --quiet";
  e2e_result r =
      e2e_run("cd %s && %s (env --default-signal=INT %s %s --checkpoint s.ckpt "
              "--log s.csv & pid=$!; "
              "wait_rows s.csv 3 || exit 99; kill -%s $pid; wait $pid; "
              "echo status: $?) && ls",
              dir, wait_rows, exe, run, signal);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect_eq(e2e_number_after(r.output, "status:"), status, "%s", r.output);
  char said[128];
  snprintf(said, sizeof said, "stopped by SIG%s after ", signal);
  cr_expect(strstr(r.output, said), "%s", r.output);
  cr_expect(strstr(r.output, "updates; the checkpoint 's.ckpt' holds them: "
                             "go on with --resume s.ckpt"),
            "%s", r.output);
  /* Stopped after the log's third row (update 400) and before the end;
   * where exactly depends on when the signal came. */
  double at = e2e_number_after(r.output, "after");
  cr_expect(at >= 400 && at < 6000, "stopped at update %g:\n%s", at, r.output);
  free(r.output);
  r = e2e_run("cd %s && %s %s --resume s.ckpt --log s.csv --save-params "
              "resumed.npy && %s %s --log whole.csv --save-params whole.npy && "
              "cmp resumed.npy whole.npy && cut -d, -f1-5 s.csv > a && "
              "cut -d, -f1-5 whole.csv > b && cmp a b && echo same",
              dir, exe, run, exe, run);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "same"), "%s", r.output);
  free(r.output);
}

Test(checkpoint, sigterm_saves_and_resumes_exactly) {
  check_stop_signal("stop_term", "TERM", 143);
}

Test(checkpoint, sigint_saves_and_resumes_exactly) {
  check_stop_signal("stop_int", "INT", 130);
}

/* Without --checkpoint, a stopped run says that it cannot go on. */
Test(checkpoint, a_stop_without_checkpoint_says_so) {
  const char *dir = e2e_fresh_dir("stop_bare");
  const char *exe = e2e_compile(dir, "prog", "", program("nag"));
  cr_assert_not_null(exe);
  e2e_result r = e2e_run(
      "cd %s && %s (%s --threads 1 --steps 6000 --report-every 200 --quiet "
      "--log s.csv & pid=$!; wait_rows s.csv 3 || exit 99; kill -TERM $pid; "
      "wait $pid; echo status: $?)",
      dir, wait_rows, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect_eq(e2e_number_after(r.output, "status:"), 143, "%s", r.output);
  cr_expect(strstr(r.output, "(without --checkpoint this run cannot be "
                             "continued)"),
            "%s", r.output);
  free(r.output);
}

/* kill -9 at three moments of a run, each time resumed from the last
 * checkpoint: the parameters at the end are byte for byte an uninterrupted
 * run's, and the learning curve has every row once. */
Test(checkpoint, kill_9_three_times_loses_nothing) {
  const char *dir = e2e_fresh_dir("kill9");
  const char *exe = e2e_compile(dir, "prog", "", program("nag"));
  cr_assert_not_null(exe);
  const char *run = "--threads 1 --steps 6000 --report-every 200 --quiet";
  e2e_result r = e2e_run(
      "cd %s && %s for k in 1 2 3; do "
      "  rows=$(cat k.csv 2>/dev/null | wc -l); "
      "  if [ -e k.ckpt ]; then resume='--resume k.ckpt'; else resume=; fi; "
      "  %s %s --checkpoint k.ckpt --log k.csv $resume & pid=$!; "
      "  wait_rows k.csv $((rows + 1)) || exit 99; "
      "  sleep 0.0$((RANDOM %% 10)); kill -9 $pid; wait $pid; "
      "done; "
      "%s %s --resume k.ckpt --log k.csv --save-params resumed.npy && "
      "%s %s --log whole.csv --save-params whole.npy && "
      "cmp resumed.npy whole.npy && cut -d, -f1-5,7- k.csv > a && "
      "cut -d, -f1-5,7- whole.csv > b && cmp a b && echo same",
      dir, wait_rows, exe, run, exe, run, exe, run);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "same"), "%s", r.output);
  free(r.output);
}
