/* test_man.c — docs/mdlc.1 and the --help texts cannot drift apart: every
 * option that `mdlc --help`, `mdlc sweep --help` and a generated program's
 * --help name is in the rendered man page, and every --option the page
 * names is one of theirs. The program is one that takes every option a
 * program can: HF, an autoencoder of square images, a held-out set. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define PAGE TESTS_DIR "/../docs/mdlc.1"

enum { MAX_OPTIONS = 64, MAX_NAME = 40 };

typedef struct {
  int n;
  char name[MAX_OPTIONS][MAX_NAME];
} option_list;

static const char *const all_options_program =
    "# every option a generated program can take\n"
    "data train_set = curves(cases 40, seed 1)\n"
    "data valid_set = curves(cases 10, seed 2)\n"
    "\n"
    "net ae : autoencoder {\n"
    "    input 784\n"
    "    encoder sigmoid [4]\n"
    "    code linear 2\n"
    "    decoder mirror\n"
    "    output sigmoid\n"
    "    loss cross_entropy\n"
    "}\n"
    "\n"
    "train ae on train_set with hf {\n"
    "    batch 40\n"
    "    steps 1\n"
    "    validate on valid_set\n"
    "}\n";

static int build_program(const char *dir, void *unused) {
  (void)unused;
  return e2e_compile(dir, "all", "", all_options_program) ? 0 : -1;
}

/* The page as man shows it, on lines too long to wrap an option, the
 * minus signs that some groff devices draw for \- made hyphens again. */
static char *rendered_page(void) {
  e2e_result r = e2e_run("groff -man -Tutf8 -P-cbou -rLL=1000n '%s' | "
                         "sed 's/\\xe2\\x88\\x92/-/g'",
                         PAGE);
  cr_assert_eq(r.status, 0, "groff cannot render %s:\n%s", PAGE, r.output);
  cr_assert(strstr(r.output, "SYNOPSIS"), "not a man page:\n%s", r.output);
  return r.output;
}

static int is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-';
}

/* Whether text names the option as a word of its own: "--steps" is not
 * in "--schedule-steps", nor "-o" in "-output". */
static int names(const char *text, const char *option) {
  size_t length = strlen(option);
  for (const char *at = strstr(text, option); at; at = strstr(at + 1, option))
    if ((at == text || !is_name_char(at[-1])) && !is_name_char(at[length]))
      return 1;
  return 0;
}

/* The options a text names: each word that starts with "-" and a letter
 * (with double_only, "--" and a letter) after the start of a line, a
 * blank, a comma, a quote or a parenthesis. Each once. */
static option_list options_in(const char *text, int double_only) {
  option_list list = {0};
  for (const char *p = text; *p; p++) {
    if (*p != '-' || (p > text && !strchr(" \t\n,'`(", p[-1])))
      continue;
    const char *letter = p[1] == '-' ? p + 2 : p + 1;
    if (!((*letter >= 'a' && *letter <= 'z') ||
          (*letter >= 'A' && *letter <= 'Z')) ||
        (double_only && letter != p + 2))
      continue;
    const char *end = letter;
    while (is_name_char(*end))
      end++;
    char name[MAX_NAME];
    snprintf(name, sizeof name, "%.*s", (int)(end - p), p);
    int seen = 0;
    for (int i = 0; i < list.n; i++)
      seen |= strcmp(list.name[i], name) == 0;
    if (!seen && list.n < MAX_OPTIONS)
      snprintf(list.name[list.n++], MAX_NAME, "%s", name);
    p = end - 1;
  }
  return list;
}

static char *help_of(const char *command) {
  e2e_result r = e2e_run("%s --help", command);
  cr_assert_eq(r.status, 0, "%s --help failed:\n%s", command, r.output);
  return r.output;
}

static char *program_help(void) {
  const char *dir = e2e_once("man_program", build_program, NULL);
  cr_assert_not_null(dir, "mdlc failed on the program of every option");
  char *help = help_of(e2e_join(dir, "all"));
  /* Else the program test below would check fewer options than exist. */
  const char *rare[] = {"--save-images", "--save-best", "--check-gauss-newton",
                        "--compare-cg-nag"};
  for (size_t i = 0; i < sizeof rare / sizeof *rare; i++)
    cr_assert(names(help, rare[i]), "the program does not take %s:\n%s",
              rare[i], help);
  return help;
}

/* The entries' headings of a rendered page: the lines that start, at the
 * indentation of a .TP tag, with an option ("       -v, --verbose"). */
static char *entry_headings(const char *page) {
  static const char tag[] = "       -";
  char *headings = calloc(strlen(page) + 1, 1);
  cr_assert_not_null(headings);
  size_t n = 0;
  for (const char *line = page; *line;) {
    size_t length = strcspn(line, "\n");
    if (strncmp(line, tag, sizeof tag - 1) == 0) {
      memcpy(headings + n, line, length);
      n += length;
      headings[n++] = '\n';
    }
    line += length + (line[length] == '\n');
  }
  return headings;
}

/* Every option of the help has an entry of its own on the page; the help
 * names at least `least`, so that a help this test cannot read fails it
 * rather than passing it. */
static void expect_on_page(const char *what, const char *help, int least) {
  char *page = rendered_page();
  char *headings = entry_headings(page);
  option_list options = options_in(help, 0);
  cr_expect_geq(options.n, least, "only %d options found in %s --help:\n%s",
                options.n, what, help);
  for (int i = 0; i < options.n; i++)
    cr_expect(names(headings, options.name[i]),
              "%s --help names %s, which has no entry in docs/mdlc.1", what,
              options.name[i]);
  free(headings);
  free(page);
}

Test(man_page, has_every_option_of_mdlc) {
  char *help = help_of(MDLC);
  expect_on_page("mdlc", help, 15);
  free(help);
}

Test(man_page, has_every_option_of_mdlc_sweep) {
  char *help = help_of(MDLC " sweep");
  expect_on_page("mdlc sweep", help, 10);
  free(help);
}

Test(man_page, has_every_option_of_a_program, .timeout = 120) {
  char *help = program_help();
  expect_on_page("a generated program", help, 18);
  free(help);
}

Test(man_page, names_no_option_that_nothing_takes, .timeout = 120) {
  char *helps[] = {help_of(MDLC), help_of(MDLC " sweep"), program_help()};
  char *page = rendered_page();
  option_list options = options_in(page, 1);
  cr_expect_geq(options.n, 40, "only %d --options on the page", options.n);
  for (int i = 0; i < options.n; i++) {
    int taken = 0;
    for (int h = 0; h < 3; h++)
      taken |= names(helps[h], options.name[i]);
    cr_expect(taken,
              "docs/mdlc.1 names %s, which no --help of mdlc, mdlc sweep or "
              "a program names",
              options.name[i]);
  }
  free(page);
  for (int h = 0; h < 3; h++)
    free(helps[h]);
}
