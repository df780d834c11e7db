/* test_checkpoint.c — --checkpoint and --resume: a run that stops and goes
 * on ends bit for bit where an uninterrupted run ends, and a checkpoint that
 * does not belong to the program is refused with a message. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* No `last` phase: the schedule must not depend on --steps, so that the
 * first half of the run is the same whether it stops at 150 or goes on. */
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
           "  batch 40; steps 300; epsilon 0.02\n"
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
  e2e_result r = e2e_run("cd %s && %s --threads 1 --steps 150 --checkpoint "
                         "half.ckpt --quiet && %s --threads 1 --resume "
                         "half.ckpt --save-params resumed.npy --quiet && %s "
                         "--threads 1 --save-params whole.npy --quiet && cmp "
                         "resumed.npy whole.npy",
                         dir, exe, exe, exe);
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
  cr_assert(nag && direct && sgd);
  e2e_result r =
      e2e_run("cd %s && %s --steps 50 --checkpoint nag.ckpt --quiet", dir, nag);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);

  struct {
    const char *exe, *file, *message;
  } cases[] = {
      {direct, "nag.ckpt",
       "holds a look-ahead point and velocity, but this "
       "program keeps parameters and velocity"},
      {sgd, "nag.ckpt", "but this program keeps parameters only"},
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
