/* test_golden.c — the C that mdlc emits for the programs in tests/golden/ is
 * exactly the committed X.c (regenerate them with `make golden-update` after
 * an intended change to an emitter), and that C is clang-format clean and
 * compiles without a warning.
 *
 * A golden X.mdl may start with `# mdlc-flags: FLAGS`; the test passes FLAGS
 * to mdlc as the Makefile's golden-update rule does. mdlc always runs from
 * the repository root with the path tests/golden/X.mdl, since the emitted
 * header names the source as given. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "e2e.h"

#define REPO TESTS_DIR "/.."

/* Every golden program; golden.listed checks this list against the
 * directory, so a new file cannot be forgotten here. */
static const char *const golden_names[] = {
    "tiny_ae_nag",          "ff_softmax_cm",    "regression_sgd",
    "tanh_mean_bias",       "ae_double",        "nag_direct",
    "rnn_addition",         "rnn_memorization", "hf_autoencoder",
    "hf_recurrent",         "cm_weight_decay",  "quadratic_cm_nag",
    "quadratic_sgd_direct",
};
enum { N_GOLDEN = sizeof golden_names / sizeof golden_names[0] };

/* The flags after `# mdlc-flags:` on the first line of the .mdl, or "". */
static const char *golden_flags(const char *name) {
  static char flags[512];
  char path[512];
  snprintf(path, sizeof path, "%s/golden/%s.mdl", TESTS_DIR, name);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "cannot open %s", path);
  char line[512] = "";
  if (!fgets(line, sizeof line, f))
    line[0] = '\0';
  fclose(f);
  flags[0] = '\0';
  const char *prefix = "# mdlc-flags:";
  if (strncmp(line, prefix, strlen(prefix)) == 0) {
    snprintf(flags, sizeof flags, "%s", line + strlen(prefix));
    flags[strcspn(flags, "\n")] = '\0';
  }
  return flags;
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void check_golden(const char *name) {
  char dir_name[128];
  snprintf(dir_name, sizeof dir_name, "golden_%s", name);
  const char *dir = e2e_dir(dir_name);
  const char *flags = golden_flags(name);
  e2e_result r = e2e_run("cd '%s' && '%s' %s --emit-c tests/golden/%s.mdl -o "
                         "'%s/%s.c'",
                         REPO, MDLC, flags, name, dir, name);
  cr_assert_eq(r.status, 0, "mdlc %s --emit-c tests/golden/%s.mdl failed:\n%s",
               flags, name, r.output);
  free(r.output);

  r = e2e_run("diff -u '%s/golden/%s.c' '%s/%s.c'", TESTS_DIR, name, dir, name);
  cr_expect_eq(r.status, 0,
               "the C emitted for tests/golden/%s.mdl differs from "
               "tests/golden/%s.c (run `make golden-update` if the change "
               "is intended):\n%s",
               name, name, r.output);
  free(r.output);

  r = e2e_run("clang-format --style=LLVM --dry-run -Werror '%s/golden/%s.c'",
              TESTS_DIR, name);
  cr_expect_eq(r.status, 0, "tests/golden/%s.c is not clang-format clean:\n%s",
               name, r.output);
  free(r.output);

  r = e2e_run("clang -std=c11 -Wall -Wextra -Werror -fsyntax-only "
              "-I'%s/include' '%s/golden/%s.c'",
              REPO, TESTS_DIR, name);
  cr_expect_eq(r.status, 0, "tests/golden/%s.c does not compile cleanly:\n%s",
               name, r.output);
  free(r.output);
}

/* Criterion hands each parameter to the test's own process by value, so
 * the name travels as characters, not as a pointer. */
typedef struct {
  char name[64];
} golden_case;

ParameterizedTestParameters(golden, emit) {
  static golden_case cases[N_GOLDEN];
  for (int i = 0; i < N_GOLDEN; i++)
    snprintf(cases[i].name, sizeof cases[i].name, "%s", golden_names[i]);
  return cr_make_param_array(golden_case, cases, N_GOLDEN);
}

ParameterizedTest(golden_case *c, golden, emit) { check_golden(c->name); }

/* Every .mdl in tests/golden is in golden_names and has its .c beside it,
 * and every .c has its .mdl. */
Test(golden, listed) {
  DIR *d = opendir(TESTS_DIR "/golden");
  cr_assert_not_null(d);
  int n_mdl = 0;
  struct dirent *entry;
  while ((entry = readdir(d))) {
    const char *file = entry->d_name;
    size_t n = strlen(file);
    char stem[256], other[512];
    if (n > 4 && strcmp(file + n - 4, ".mdl") == 0) {
      snprintf(stem, sizeof stem, "%.*s", (int)(n - 4), file);
      int listed = 0;
      for (int i = 0; i < N_GOLDEN; i++)
        listed |= strcmp(golden_names[i], stem) == 0;
      cr_expect(listed, "tests/golden/%s is not in golden_names", file);
      snprintf(other, sizeof other, "%s/golden/%s.c", TESTS_DIR, stem);
      cr_expect(file_exists(other),
                "tests/golden/%s has no %s.c (run `make golden-update`)", file,
                stem);
      n_mdl++;
    } else if (n > 2 && strcmp(file + n - 2, ".c") == 0) {
      snprintf(other, sizeof other, "%s/golden/%.*s.mdl", TESTS_DIR,
               (int)(n - 2), file);
      cr_expect(file_exists(other), "tests/golden/%s has no .mdl", file);
    }
  }
  closedir(d);
  cr_expect_eq(n_mdl, N_GOLDEN);
}

/* The `# mdlc-flags:` lines took effect in the committed files (the
 * golden-update rule honours them too). */
Test(golden, flags_applied) {
  e2e_result r = e2e_run("grep -c 'MDL_F64' '%s/golden/ae_double.c'; "
                         "grep -c -E '\\<float\\>|MDL_F32' "
                         "'%s/golden/ae_double.c'",
                         TESTS_DIR, TESTS_DIR);
  long doubles = 0, floats = -1;
  sscanf(r.output, "%ld %ld", &doubles, &floats);
  free(r.output);
  cr_expect_gt(doubles, 0, "ae_double.c does not compute in double");
  cr_expect_eq(floats, 0, "ae_double.c still computes in float");
  r = e2e_run("grep -c 'lookahead_point(' '%s/golden/nag_direct.c'", TESTS_DIR);
  cr_expect_gt(atoi(r.output), 0,
               "nag_direct.c does not form the look-ahead point anew");
  free(r.output);
  r = e2e_run("grep -c 'lookahead_point(' '%s/golden/tiny_ae_nag.c'",
              TESTS_DIR);
  cr_expect_eq(atoi(r.output), 0, "tiny_ae_nag.c should carry the look-ahead");
  free(r.output);
}
