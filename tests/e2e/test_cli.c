/* test_cli.c — mdlc's command line: help and version, bad usage, output
 * names, --keep-c, the dump options, -v, a failing C compiler,
 * $MDLC_CFLAGS, and diagnostics in the form file:line:col: error:. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "e2e.h"

/* A small valid program: 4-5-2, 4*5 + 5 + 5*2 + 2 = 37 parameters. Its data
 * is only opened by the generated program, never by mdlc. */
static const char *const small_program =
    "# small.mdl\n"
    "data pairs = npy(inputs \"x.npy\", targets \"y.npy\")\n"
    "\n"
    "net fit : feedforward {\n"
    "    input 4\n"
    "    layer tanh 5\n"
    "    output linear 2\n"
    "    loss squared\n"
    "}\n"
    "\n"
    "const mu0 = 0.9\n"
    "\n"
    "train fit on pairs with cm {\n"
    "    batch 10\n"
    "    steps 50\n"
    "    epsilon 0.01\n"
    "    mu mu0\n"
    "}\n";

static int exists(const char *dir, const char *file) {
  char path[1024];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, file);
  return stat(path, &st) == 0;
}

/* The number of lines of text that contain needle. */
static int count_lines_with(const char *text, const char *needle) {
  int n = 0;
  for (const char *line = text; *line;) {
    const char *end = strchr(line, '\n');
    size_t length = end ? (size_t)(end - line) : strlen(line);
    char buffer[4096];
    snprintf(buffer, sizeof buffer, "%.*s", (int)length, line);
    n += strstr(buffer, needle) != NULL;
    line += length + (end != NULL);
  }
  return n;
}

Test(cli, version) {
  e2e_result r = e2e_run("%s --version", MDLC);
  cr_assert_eq(r.status, 0);
  int major = -1, minor = -1, patch = -1;
  char rest = 0;
  int n = sscanf(r.output, "mdlc %d.%d.%d%c", &major, &minor, &patch, &rest);
  cr_expect(n == 4 && rest == '\n' && major >= 0,
            "--version should print 'mdlc X.Y.Z', got: %s", r.output);
  cr_expect_eq(count_lines_with(r.output, ""), 1, "got: %s", r.output);
  free(r.output);
}

Test(cli, help_lists_every_option) {
  e2e_result r = e2e_run("%s --help", MDLC);
  cr_assert_eq(r.status, 0);
  cr_expect(strncmp(r.output, "usage: mdlc", 11) == 0, "got: %s", r.output);
  const char *options[] = {"-o FILE",      "--emit-c",      "--keep-c",
                           "--cc",         "--precision",   "--nag-form",
                           "--no-format",  "--dump-tokens", "--dump-ast",
                           "--dump-model", "-v, --verbose", "--help",
                           "--version",    "MDLC_HOME",     "--march"};
  for (size_t i = 0; i < sizeof options / sizeof *options; i++)
    cr_expect(strstr(r.output, options[i]), "--help does not mention %s",
              options[i]);
  free(r.output);
  /* -h is the same. */
  e2e_result h = e2e_run("%s -h", MDLC);
  cr_expect_eq(h.status, 0);
  cr_expect(strncmp(h.output, "usage: mdlc", 11) == 0);
  free(h.output);
}

Test(cli, bad_usage) {
  const char *dir = e2e_fresh_dir("cli_bad_usage");
  const char *source = e2e_write(dir, "small.mdl", small_program);
  struct {
    const char *args, *message;
  } cases[] = {
      {"", "mdlc: error: no input file"},
      {"--bogus small.mdl", "mdlc: error: unknown option '--bogus'"},
      {"--precision bogus small.mdl",
       "mdlc: error: --precision is float or double, not 'bogus'"},
      {"--nag-form sideways small.mdl",
       "mdlc: error: --nag-form is carried or direct, not 'sideways'"},
      {"small.mdl -o", "mdlc: error: -o needs a value"},
      {"--march 'x;y' small.mdl",
       "mdlc: error: --march takes a processor name such as native or "
       "x86-64-v3, not 'x;y'"},
      {"small.mdl other.mdl", "one .mdl file at a time"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    e2e_result r = e2e_run("cd '%s' && %s %s", dir, MDLC, cases[i].args);
    cr_expect_eq(r.status, 1, "mdlc %s: exit status %d, output:\n%s",
                 cases[i].args, r.status, r.output);
    cr_expect(strstr(r.output, cases[i].message),
              "mdlc %s should say \"%s\", got:\n%s", cases[i].args,
              cases[i].message, r.output);
    cr_expect(strstr(r.output, "Try 'mdlc --help'."), "mdlc %s, got:\n%s",
              cases[i].args, r.output);
    free(r.output);
  }
  /* Nothing was written by any of them. */
  cr_expect(!exists(dir, "small") && !exists(dir, "small.c"));
  (void)source;
}

Test(cli, missing_file) {
  const char *dir = e2e_fresh_dir("cli_missing_file");
  e2e_result r = e2e_run("cd '%s' && %s nothere.mdl", dir, MDLC);
  cr_expect_eq(r.status, 1, "exit status %d", r.status);
  cr_expect(strstr(r.output, "cannot open 'nothere.mdl'"), "got: %s", r.output);
  cr_expect_eq(count_lines_with(r.output, ""), 1, "got: %s", r.output);
  free(r.output);
}

Test(cli, directory_as_input) {
  const char *dir = e2e_fresh_dir("cli_directory_input");
  e2e_result r =
      e2e_run("cd '%s' && mkdir -p sub.mdl && %s sub.mdl", dir, MDLC);
  cr_expect_eq(r.status, 1, "exit status %d", r.status);
  cr_expect(strstr(r.output, "cannot read 'sub.mdl': Is a directory"),
            "got: %s", r.output);
  free(r.output);
}

/* --emit-c writes FILE.c by default, -o elsewhere; the header names the C
 * file after the output and the source as given. */
Test(cli, emit_c_output_names) {
  const char *dir = e2e_fresh_dir("cli_emit_c");
  e2e_write(dir, "small.mdl", small_program);
  e2e_result r = e2e_run("cd '%s' && %s --emit-c small.mdl", dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect_str_empty(r.output);
  free(r.output);
  cr_assert(exists(dir, "small.c"), "--emit-c did not write small.c");
  cr_expect(!exists(dir, "small"), "--emit-c should not build a program");
  r = e2e_run("head -n 1 '%s/small.c'", dir);
  cr_expect(strstr(r.output, "/* small.c — generated by mdlc ") == r.output &&
                strstr(r.output, " from small.mdl."),
            "header: %s", r.output);
  free(r.output);

  r = e2e_run("cd '%s' && mkdir -p sub && %s --emit-c small.mdl -o sub/other.c",
              dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  cr_assert(exists(dir, "sub/other.c"), "-o sub/other.c was not written");
  r = e2e_run("head -n 1 '%s/sub/other.c'", dir);
  cr_expect(strstr(r.output, "/* other.c — generated by mdlc ") == r.output,
            "header: %s", r.output);
  free(r.output);
  /* Apart from the C file's own name, the two are the same program. */
  r = e2e_run("cd '%s' && diff small.c sub/other.c | grep -c '^[<>]'", dir);
  cr_expect_eq(atoi(r.output), 2, "only the first line should differ:\n%s",
               r.output);
  free(r.output);
}

/* No -o: the program is named after the .mdl; --keep-c leaves PROG.c, the
 * same C that --emit-c writes. */
Test(cli, keep_c_and_default_program_name) {
  const char *dir = e2e_fresh_dir("cli_keep_c");
  e2e_write(dir, "small.mdl", small_program);
  e2e_result r = e2e_run("cd '%s' && %s --keep-c small.mdl", dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  cr_expect(exists(dir, "small"), "no program 'small'");
  cr_expect(exists(dir, "small.c"), "--keep-c did not leave small.c");
  r = e2e_run("cd '%s' && mkdir -p emitted && %s --emit-c small.mdl -o "
              "emitted/small.c && cmp small.c emitted/small.c",
              dir, MDLC);
  cr_expect_eq(r.status, 0, "--keep-c and --emit-c differ: %s", r.output);
  free(r.output);
  r = e2e_run("cd '%s' && ./small --help", dir);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "Usage: "), "%s", r.output);
  free(r.output);
}

/* -o names the program; without --keep-c no C is left behind, neither beside
 * the program nor in the temporary directory; -v prints the clang command. */
/* No output may clobber the input, under any name, nor land on a
 * directory or a device; the source is left as it was. */
Test(cli, outputs_never_clobber_the_input) {
  const char *dir = e2e_fresh_dir("cli_clobber");
  e2e_write(dir, "r.mdl", small_program);
  e2e_write(dir, "regprog", small_program); /* no .mdl: default output */
  e2e_run("mkdir -p '%s/sub' && ln -s r.mdl '%s/link.mdl'", dir, dir);
  struct {
    const char *args, *message;
  } cases[] = {
      {"r.mdl -o r.mdl", "the output 'r.mdl' is the input file"},
      {"--emit-c r.mdl -o r.mdl", "the output 'r.mdl' is the input file"},
      {"r.mdl -o link.mdl", "the output 'link.mdl' is the input file"},
      {"regprog", "the output 'regprog' is the input file"},
      {"r.mdl -o sub", "the output 'sub' is a directory"},
      {"r.mdl -o /dev/null", "the output '/dev/null' is not a file"},
      {"--emit-c r.mdl -o /nonexistent/r.c", "cannot write '/nonexistent/r.c'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    e2e_result r = e2e_run("cd '%s' && %s %s", dir, MDLC, cases[i].args);
    cr_expect_eq(r.status, 1, "mdlc %s: status %d\n%s", cases[i].args, r.status,
                 r.output);
    cr_expect(strstr(r.output, cases[i].message),
              "mdlc %s should say \"%s\", got:\n%s", cases[i].args,
              cases[i].message, r.output);
    free(r.output);
  }
  e2e_result r = e2e_run("cd '%s' && cmp r.mdl regprog && ls", dir);
  cr_expect_eq(r.status, 0, "a source was changed:\n%s", r.output);
  cr_expect(!strstr(r.output, ".tmp"), "a temporary was left:\n%s", r.output);
  free(r.output);
}

Test(cli, output_and_verbose) {
  const char *dir = e2e_fresh_dir("cli_verbose");
  e2e_write(dir, "small.mdl", small_program);
  e2e_result r = e2e_run("cd '%s' && mkdir -p bin tmp && TMPDIR='%s/tmp' %s -v "
                         "small.mdl -o bin/trainer",
                         dir, dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  const char *cc_line = strstr(r.output, "-std=c11");
  cr_expect(cc_line, "-v should print the compiler's command line:\n%s",
            r.output);
  const char *words[] = {
      "-o bin/trainer", "/tmp/mdlc-", "/trainer.c", "libmdl.a",
      "-lopenblas",     "-lz",        "-lm",        "-I"};
  for (size_t i = 0; i < sizeof words / sizeof *words; i++)
    cr_expect(strstr(r.output, words[i]), "-v output lacks '%s':\n%s", words[i],
              r.output);
  cr_expect(strstr(r.output, "clang"), "%s", r.output);
  cr_expect(strstr(r.output, "-march=native"), "%s", r.output);
  free(r.output);
  /* --march picks the processors the program is for */
  r = e2e_run("cd '%s' && %s -v --march x86-64 small.mdl -o bin/portable", dir,
              MDLC);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "-march=x86-64 "), "%s", r.output);
  free(r.output);
  cr_expect(exists(dir, "bin/portable"));
  cr_expect(exists(dir, "bin/trainer"), "-o bin/trainer was not written");
  cr_expect(!exists(dir, "bin/trainer.c") && !exists(dir, "small.c") &&
                !exists(dir, "bin/portable.c") && !exists(dir, "small"),
            "only bin/trainer should have been written");
  r = e2e_run("ls -A '%s/tmp' | wc -l", dir);
  cr_expect_eq(atoi(r.output), 0, "mdlc left its temporary C behind");
  free(r.output);
  r = e2e_run("'%s/bin/trainer' --help", dir);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "Usage: "), "%s", r.output);
  free(r.output);
}

Test(cli, dumps) {
  const char *dir = e2e_fresh_dir("cli_dumps");
  e2e_write(dir, "small.mdl", small_program);
  e2e_result r = e2e_run("cd '%s' && %s --dump-tokens small.mdl", dir, MDLC);
  cr_expect_eq(r.status, 0, "%s", r.output);
  /* One token a line, with its position: 'data' opens line 2. */
  cr_expect(strstr(r.output, "2:1\t'data'"), "--dump-tokens:\n%s", r.output);
  cr_expect(strstr(r.output, "\"x.npy\""), "--dump-tokens:\n%s", r.output);
  cr_expect(strstr(r.output, "tanh"), "--dump-tokens:\n%s", r.output);
  cr_expect_gt(count_lines_with(r.output, "\t"), 40);
  free(r.output);

  r = e2e_run("cd '%s' && %s --dump-ast small.mdl", dir, MDLC);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "net fit kind=feedforward"), "--dump-ast:\n%s",
            r.output);
  cr_expect(strstr(r.output, "train fit kind=cm on=pairs"), "--dump-ast:\n%s",
            r.output);
  cr_expect(strstr(r.output, "const mu0"), "--dump-ast:\n%s", r.output);
  free(r.output);

  r = e2e_run("cd '%s' && %s --dump-model small.mdl", dir, MDLC);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "4-5-2"), "--dump-model:\n%s", r.output);
  cr_expect_eq(e2e_number_after(r.output, "parameters:"), 37,
               "--dump-model:\n%s", r.output);
  const char *blocks[] = {"input_to_hid1", "hid1_bias", "hid1_to_output",
                          "output_bias"};
  for (size_t i = 0; i < sizeof blocks / sizeof *blocks; i++)
    cr_expect(strstr(r.output, blocks[i]), "--dump-model lacks %s:\n%s",
              blocks[i], r.output);
  free(r.output);
  /* None of them wrote a program or C. */
  cr_expect(!exists(dir, "small") && !exists(dir, "small.c"));
}

/* A C compiler that fails: exit 1, a message, the C kept for a look. */
Test(cli, failing_cc) {
  const char *dir = e2e_fresh_dir("cli_failing_cc");
  e2e_write(dir, "small.mdl", small_program);
  e2e_result r = e2e_run("cd '%s' && mkdir -p tmp && TMPDIR='%s/tmp' %s --cc "
                         "false small.mdl -o prog",
                         dir, dir, MDLC);
  cr_expect_eq(r.status, 1, "exit status %d:\n%s", r.status, r.output);
  cr_expect(strstr(r.output, "mdlc: error: false failed"), "got:\n%s",
            r.output);
  cr_expect(!exists(dir, "prog"));
  /* The message names where the C was kept, and it is there. */
  const char *at = strstr(r.output, "the generated C is in ");
  cr_expect(at, "got:\n%s", r.output);
  if (at) {
    char path[1024];
    if (sscanf(at + strlen("the generated C is in "), "%1023s", path) == 1) {
      struct stat st;
      cr_expect(stat(path, &st) == 0, "%s does not exist", path);
    }
  }
  free(r.output);

  r = e2e_run("cd '%s' && TMPDIR='%s/tmp' %s --cc ./no-such-cc small.mdl -o "
              "prog",
              dir, dir, MDLC);
  cr_expect_eq(r.status, 1, "exit status %d:\n%s", r.status, r.output);
  cr_expect(strstr(r.output, "cannot run './no-such-cc'"), "got:\n%s",
            r.output);
  free(r.output);
}

/* $MDLC_CFLAGS goes onto the C compiler's command line, word by word,
 * after mdlc's own flags (make check SANITIZE=1 passes the sanitizers so);
 * a compiler that fails shows the line without a clang run. */
Test(cli, mdlc_cflags_reach_the_compiler) {
  const char *dir = e2e_fresh_dir("cli_cflags");
  e2e_write(dir, "small.mdl", small_program);
  e2e_result r = e2e_run("cd '%s' && mkdir -p tmp && TMPDIR='%s/tmp' "
                         "MDLC_CFLAGS='  -DONE=1 \t-UTWO ' %s -v --cc false "
                         "small.mdl -o prog",
                         dir, dir, MDLC);
  cr_expect_eq(r.status, 1, "exit status %d:\n%s", r.status, r.output);
  cr_expect(strstr(r.output, " -Wall -Wextra -DONE=1 -UTWO -I "), "got:\n%s",
            r.output);
  free(r.output);
}

/* Bad programs: file:line:col: error: with the line and a caret, exit 1,
 * and more than one error per run. */
Test(cli, diagnostics) {
  const char *dir = e2e_fresh_dir("cli_diagnostics");
  e2e_write(dir, "bad.mdl",
            "data pairs = npy(inputs \"x.npy\", targets \"y.npy\")\n"
            "net fit : feedforward {\n"
            "    input 4\n"
            "    layer tanh 5\n"
            "    output linear 2\n"
            "    loss cross_entropy\n"
            "}\n"
            "train fit on pairs with sgd {\n"
            "    epsilon 0.1\n"
            "    bogus 3\n"
            "}\n");
  e2e_result r = e2e_run("cd '%s' && %s bad.mdl -o bad", dir, MDLC);
  cr_expect_eq(r.status, 1, "exit status %d:\n%s", r.status, r.output);
  cr_expect(strstr(r.output, "bad.mdl:6:10: error: ") == r.output,
            "the first error should be at 6:10, got:\n%s", r.output);
  cr_expect(strstr(r.output, "\n    6 |     loss cross_entropy\n"),
            "the source line is not shown:\n%s", r.output);
  cr_expect(strstr(r.output, "|          ^~~~~~~~~~~~~\n"),
            "no caret under cross_entropy:\n%s", r.output);
  cr_expect(strstr(r.output, "bad.mdl:10:5: error: "),
            "the second error (bogus, 10:5) is not reported:\n%s", r.output);
  cr_expect(!exists(dir, "bad") && !exists(dir, "bad.c"));
  free(r.output);

  /* A syntax error, given by a path with a directory. */
  e2e_write(dir, "syntax.mdl", "const a = 1 +\n");
  r = e2e_run("cd '%s/..' && %s cli_diagnostics/syntax.mdl", dir, MDLC);
  cr_expect_eq(r.status, 1);
  cr_expect(strstr(r.output, "cli_diagnostics/syntax.mdl:1:") == r.output,
            "got:\n%s", r.output);
  cr_expect(strstr(r.output, ": error: "), "got:\n%s", r.output);
  free(r.output);
}

/* The unit tests check each bad program of tests/diag in-process, where a
 * read past a net's layers can go unnoticed; the real mdlc must also end
 * each one with exit status 1 and its messages, never a signal. */
Test(cli, every_bad_program_ends_in_a_message) {
  e2e_result r = e2e_run(
      "cd '%s/diag' && for f in *.mdl; do %s --dump-model \"$f\" "
      ">/dev/null 2>&1; s=$?; [ $s -le 1 ] || echo \"$f: exit $s\"; done",
      TESTS_DIR, MDLC);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect_str_empty(r.output, "mdlc did not end these with a message:\n%s",
                      r.output);
  free(r.output);
}
