/* test_install.c — `make install PREFIX=...` gives an mdlc that works from
 * any directory without MDLC_HOME: it finds the installed runtime beside
 * itself and builds a program from examples/curves.mdl; `man mdlc` finds
 * the installed page, which names the installed version and renders
 * without a warning; `make uninstall` removes what install put there. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e.h"

#define REPO TESTS_DIR "/.."

static int is_file(const char *dir, const char *file) {
  char path[PATH_MAX + 64];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, file);
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

Test(install, prefix_works_from_elsewhere, .timeout = 120) {
  const char *work = e2e_dir("install");
  char prefix[PATH_MAX];
  snprintf(prefix, sizeof prefix, "%s/prefix", work);
  e2e_result r = e2e_run("rm -rf '%s'", prefix);
  free(r.output);

  /* The sub-make must not inherit the flags of a make that runs the
   * tests (its jobserver, -k, ...). */
  r = e2e_run("env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C '%s' install "
              "PREFIX='%s'",
              REPO, prefix);
  cr_assert_eq(r.status, 0, "make install failed:\n%s", r.output);
  free(r.output);
  char given[PATH_MAX];
  snprintf(given, sizeof given, "%s", prefix);
  cr_assert(realpath(given, prefix), "no %s", given);
  const char *installed[] = {
      "bin/mdlc",           "lib/libmdl.a",       "include/mdl/program.h",
      "include/mdl/base.h", "include/mdl/blas.h", "include/mdl/data.h",
      "include/mdl/init.h", "include/mdl/npy.h",  "include/mdl/rng.h"};
  for (size_t i = 0; i < sizeof installed / sizeof *installed; i++)
    cr_expect(is_file(prefix, installed[i]), "make install left no %s/%s",
              prefix, installed[i]);
  r = e2e_run("test -x '%s/bin/mdlc'", prefix);
  cr_expect_eq(r.status, 0, "the installed mdlc is not executable");
  free(r.output);

  /* The same mdlc as the one built. */
  e2e_result built = e2e_run("%s --version", MDLC);
  r = e2e_run("'%s/bin/mdlc' --version", prefix);
  cr_expect_eq(r.status, 0);
  cr_expect_str_eq(r.output, built.output);
  free(r.output);
  free(built.output);

  /* man finds the page where make install put it, renders it without a
   * warning (man-db's --warnings passes groff's -w), and its footer names
   * the installed mdlc's version, not the Makefile's placeholder. */
  r = e2e_run("man -M '%s/share/man' -w mdlc", prefix);
  cr_expect_eq(r.status, 0, "man cannot find the installed page:\n%s",
               r.output);
  char page[PATH_MAX + 64];
  snprintf(page, sizeof page, "%s/share/man/man1/mdlc.1\n", prefix);
  cr_expect_str_eq(r.output, page);
  free(r.output);
  r = e2e_run("man --warnings -l '%s/share/man/man1/mdlc.1' 2>&1 >/dev/null",
              prefix);
  cr_expect_eq(r.status, 0, "man failed:\n%s", r.output);
  cr_expect_str_eq(r.output, "", "the man page has warnings:\n%s", r.output);
  free(r.output);
  e2e_result version = e2e_run("%s --version", MDLC);
  cr_assert_eq(version.status, 0);
  version.output[strcspn(version.output, "\n")] = '\0';
  r = e2e_run("MANWIDTH=80 man -l '%s/share/man/man1/mdlc.1'", prefix);
  cr_expect_eq(r.status, 0, "man failed:\n%s", r.output);
  cr_expect(strstr(r.output, "mdlc sweep [options] FILE.sweep"), "%s",
            r.output);
  cr_expect(strstr(r.output, version.output), "the page does not name %s",
            version.output);
  cr_expect(!strstr(r.output, "@VERSION@"), "%s", r.output);
  free(r.output);
  free(version.output);

  /* From a directory outside the repository, without MDLC_HOME. */
  char elsewhere[] = "/tmp/mdlc-install-test-XXXXXX";
  cr_assert(mkdtemp(elsewhere), "cannot make a directory under /tmp");
  r = e2e_run("cd '%s' && env -u MDLC_HOME -u MDLC_CC '%s/bin/mdlc' -v "
              "'%s/examples/curves.mdl' -o prog",
              elsewhere, prefix, REPO);
  int status = r.status;
  cr_expect_eq(status, 0, "the installed mdlc failed:\n%s", r.output);
  /* It used the installed runtime, not the build tree's. */
  char want[PATH_MAX + 64];
  snprintf(want, sizeof want, "-I %s/include ", prefix);
  cr_expect(strstr(r.output, want), "-v should show '%s':\n%s", want, r.output);
  snprintf(want, sizeof want, " %s/lib/libmdl.a ", prefix);
  cr_expect(strstr(r.output, want), "-v should show '%s':\n%s", want, r.output);
  free(r.output);
  if (status == 0) {
    r = e2e_run("cd '%s' && ./prog --help", elsewhere);
    cr_expect_eq(r.status, 0, "%s", r.output);
    cr_expect(strstr(r.output, "Usage: prog [OPTIONS]"), "%s", r.output);
    cr_expect(strstr(r.output, "curves.mdl: nag on ae"), "%s", r.output);
    cr_expect(strstr(r.output, "784-400-200-100-50-25-6-25-50-100-200-400-784"),
              "%s", r.output);
    cr_expect(strstr(r.output, "mu_max"), "%s", r.output);
    free(r.output);
  }
  r = e2e_run("rm -rf '%s'", elsewhere);
  free(r.output);

  r = e2e_run("env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C '%s' uninstall "
              "PREFIX='%s'",
              REPO, prefix);
  cr_expect_eq(r.status, 0, "make uninstall failed:\n%s", r.output);
  free(r.output);
  cr_expect(!is_file(prefix, "bin/mdlc") && !is_file(prefix, "lib/libmdl.a") &&
                !is_file(prefix, "include/mdl/program.h") &&
                !is_file(prefix, "share/man/man1/mdlc.1"),
            "make uninstall left files under %s", prefix);
}
