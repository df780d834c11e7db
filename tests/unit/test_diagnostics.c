/* test_diagnostics.c — the messages mdlc gives for bad programs.
 *
 * Each file in tests/diag/ is a small bad program that states, in comments
 * at its top, the diagnostics it must get, in order, one per line:
 *
 *   # expect: 7:13: error: unknown activation 'sigmod'; expected ...
 *   # expect: 9:5: note: first given here
 *
 * The runner parses and checks each file in-process and compares every
 * "file:line:col: kind: message" line (with the file name stripped) with
 * the expectations: exactly those, in that order, each followed by the
 * source line and a caret line. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mdlc.h"

#define DIAG_DIR TESTS_DIR "/diag"

static char *diag_test_text;
static size_t diag_test_size;

static void diag_test_setup(void) {
  diag_reset();
  diag_out = open_memstream(&diag_test_text, &diag_test_size);
}

static void diag_test_teardown(void) {
  fclose(diag_out);
  diag_out = NULL;
  free(diag_test_text);
}

/* Everything reported since the last call, which starts a new capture. */
static char *take_diags(void) {
  fclose(diag_out);
  char *text = diag_test_text;
  diag_out = open_memstream(&diag_test_text, &diag_test_size);
  return text;
}

TestSuite(diagnostics, .init = diag_test_setup, .fini = diag_test_teardown);

/* Parses and checks a file as mdlc does; the program, or NULL. */
static Program *compile(const SourceFile *file, bool *parsed) {
  Ast ast;
  *parsed = parse_source(file, &ast);
  return *parsed ? sema_check(&ast) : NULL;
}

typedef struct {
  char **items;
  int n;
} Lines;

static Lines split_lines(const char *text) {
  Lines lines = {0};
  for (const char *p = text; *p;) {
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    lines.items = realloc(lines.items, sizeof(char *) * (size_t)(lines.n + 1));
    lines.items[lines.n++] = arena_strndup(p, len);
    p += len + (end != NULL);
  }
  return lines;
}

/* The "# expect: " lines of the comment block that opens a file. */
static Lines expectations(const char *text) {
  Lines all = split_lines(text), expected = {0};
  static const char prefix[] = "# expect: ";
  for (int i = 0; i < all.n && all.items[i][0] == '#'; i++)
    if (strncmp(all.items[i], prefix, sizeof prefix - 1) == 0) {
      expected.items =
          realloc(expected.items, sizeof(char *) * (size_t)(expected.n + 1));
      expected.items[expected.n++] = all.items[i] + sizeof prefix - 1;
    }
  free(all.items);
  return expected;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .mdl files of tests/diag, sorted. */
static Lines diag_files(void) {
  Lines files = {0};
  DIR *dir = opendir(DIAG_DIR);
  cr_assert_not_null(dir, "cannot open %s", DIAG_DIR);
  for (struct dirent *e; (e = readdir(dir));) {
    size_t len = strlen(e->d_name);
    if (len > 4 && strcmp(e->d_name + len - 4, ".mdl") == 0) {
      files.items =
          realloc(files.items, sizeof(char *) * (size_t)(files.n + 1));
      files.items[files.n++] = arena_strdup(e->d_name);
    }
  }
  closedir(dir);
  qsort(files.items, (size_t)files.n, sizeof(char *), compare_names);
  return files;
}

/* Checks one file; returns the number of problems found (each reported). */
static int check_file(const char *name) {
  const char *path = arena_printf("%s/%s", DIAG_DIR, name);
  SourceFile *file = source_read(path);
  cr_assert_not_null(file, "cannot read %s", path);
  Lines expected = expectations(file->text);
  int problems = 0;
  if (expected.n == 0) {
    cr_expect_fail("%s states no '# expect:' lines", name);
    return 1;
  }

  diag_reset();
  bool parsed;
  Program *p = compile(file, &parsed);
  char *output = take_diags();
  Lines got = split_lines(output);

  /* Every header line is followed by the source line and the caret. */
  size_t prefix = strlen(path) + 1;
  int next = 0;
  bool any_error = false;
  for (int i = 0; i < got.n; i++) {
    const char *line = got.items[i];
    if (strncmp(line, path, prefix - 1) != 0 || line[prefix - 1] != ':') {
      cr_expect_fail("%s: unexpected output line [%s]", name, line);
      problems++;
      continue;
    }
    const char *header = line + prefix;
    any_error |= strstr(header, ": error: ") != NULL;
    if (next >= expected.n) {
      cr_expect_fail("%s: unexpected diagnostic [%s]", name, header);
      problems++;
    } else if (strcmp(header, expected.items[next]) != 0) {
      cr_expect_fail("%s: diagnostic %d is\n  [%s]\nexpected\n  [%s]", name,
                     next + 1, header, expected.items[next]);
      problems++;
    }
    next++;
    int line_number = atoi(header);
    char *source_prefix = arena_printf("%5d | ", line_number);
    if (i + 2 >= got.n ||
        strncmp(got.items[i + 1], source_prefix, strlen(source_prefix)) != 0 ||
        strncmp(got.items[i + 2], "      | ", 8) != 0 ||
        !strchr(got.items[i + 2], '^')) {
      cr_expect_fail("%s: [%s] is not followed by its source line and a "
                     "caret:\n%s",
                     name, header, output);
      problems++;
    }
    i += 2;
  }
  for (; next < expected.n; next++) {
    cr_expect_fail("%s: missing diagnostic [%s]", name, expected.items[next]);
    problems++;
  }

  /* Errors, and only errors, withhold the program. */
  if (any_error && p) {
    cr_expect_fail("%s: errors were reported but sema_check gave a program",
                   name);
    problems++;
  }
  if (!any_error && (!parsed || !p)) {
    cr_expect_fail("%s: no error was reported but there is no program", name);
    problems++;
  }
  if (any_error != (diag_error_count > 0)) {
    cr_expect_fail("%s: %d errors counted", name, diag_error_count);
    problems++;
  }
  free(got.items);
  free(expected.items);
  free(output);
  return problems;
}

Test(diagnostics, every_file_gets_exactly_its_expected_messages) {
  Lines files = diag_files();
  cr_assert_geq(files.n, 60, "only %d files in %s", files.n, DIAG_DIR);
  int failed = 0;
  for (int i = 0; i < files.n; i++)
    failed += check_file(files.items[i]) > 0;
  cr_expect_eq(failed, 0, "%d of %d files in tests/diag failed", failed,
               files.n);
  free(files.items);
}

Test(diagnostics, the_full_three_line_format) {
  const char *path = DIAG_DIR "/unknown_activation.mdl";
  SourceFile *file = source_read(path);
  cr_assert_not_null(file);
  bool parsed;
  cr_expect_null(compile(file, &parsed));
  cr_expect(parsed);
  char *output = take_diags();
  char *expected = arena_printf(
      "%s:7:13: error: unknown activation 'sigmod'; expected sigmoid, tanh, "
      "linear or softmax; did you mean 'sigmoid'?\n"
      "    7 |     encoder sigmod [100, 25]\n"
      "      |             ^~~~~~\n",
      path);
  cr_expect_str_eq(output, expected, "got:\n%s\nexpected:\n%s", output,
                   expected);
  free(output);
}

Test(diagnostics, caret_lines_keep_tabs_and_stop_at_the_line_end) {
  SourceFile *file =
      source_from_string("tab.mdl", "const x =\t1 +\t\n\tconst y = 2\n");
  Ast ast;
  cr_expect_not(parse_source(file, &ast));
  char *output = take_diags();
  /* The error is at the end of line 1 (col 15, past the tab): the caret
   * line repeats the tab so that the caret lines up under it. */
  cr_expect_str_eq(output,
                   "tab.mdl:1:15: error: syntax error, unexpected "
                   "end of line\n"
                   "    1 | const x =\t1 +\t\n"
                   "      |          \t   \t^\n",
                   "%s", output);
  free(output);
}

Test(diagnostics, a_long_location_is_cut_at_the_end_of_its_line) {
  SourceFile *file = source_from_string("long.mdl", "ab\ncd\n");
  diag_error((Loc){.file = file, .line = 1, .col = 2, .length = 40}, "x");
  diag_warning((Loc){.file = file, .line = 2, .col = 1, .length = 2}, "y");
  diag_note((Loc){.file = file, .line = 3, .col = 1, .length = 1}, "z");
  char *output = take_diags();
  cr_expect_str_eq(output,
                   "long.mdl:1:2: error: x\n"
                   "    1 | ab\n"
                   "      |  ^\n"
                   "long.mdl:2:1: warning: y\n"
                   "    2 | cd\n"
                   "      | ^~\n"
                   "long.mdl:3:1: note: z\n"
                   "    3 | \n"
                   "      | ^\n",
                   "%s", output);
  cr_expect_eq(diag_error_count, 1, "warnings and notes are not errors");
  free(output);
}

Test(diagnostics, plain_errors_have_no_place) {
  diag_plain_error("cannot open '%s'", "x.mdl");
  char *output = take_diags();
  cr_expect_str_eq(output, "mdlc: error: cannot open 'x.mdl'\n");
  cr_expect_eq(diag_error_count, 1);
  free(output);
  cr_expect_null(source_read(TESTS_DIR "/diag/no such file.mdl"));
  output = take_diags();
  cr_expect(strstr(output, "mdlc: error: cannot open '") == output, "%s",
            output);
  free(output);
}

Test(diagnostics, notes_and_warnings_past_the_error_limit_are_dropped) {
  /* 22 declarations of one const: 21 errors, each with a note; 20 are
   * shown, with their notes. The unused data set's warning comes after
   * them and is dropped too. */
  char *source = arena_strdup("");
  for (int i = 0; i < 22; i++)
    source = arena_printf("%sconst rate = 1\n", source);
  source = arena_printf(
      "%sdata spare = curves()\n"
      "data d = curves(cases 1000)\n"
      "net n : autoencoder { input 784; code linear 6; output sigmoid }\n"
      "train n on d with sgd { epsilon 0.01 }\n",
      source);
  bool parsed;
  cr_expect_null(compile(source_from_string("many.mdl", source), &parsed));
  cr_expect(parsed);
  char *output = take_diags();
  int errors = 0, notes = 0, warnings = 0, stops = 0;
  Lines lines = split_lines(output);
  for (int i = 0; i < lines.n; i++) {
    errors += strstr(lines.items[i], ": error: ") != NULL;
    notes += strstr(lines.items[i], ": note: ") != NULL;
    warnings += strstr(lines.items[i], ": warning: ") != NULL;
    stops +=
        strcmp(lines.items[i], "mdlc: too many errors; stopping here") == 0;
  }
  cr_expect_eq(diag_error_count, 21);
  cr_expect_eq(errors, 20, "%s", output);
  cr_expect_eq(notes, 20, "%s", output);
  cr_expect_eq(warnings, 0, "%s", output);
  cr_expect_eq(stops, 1, "%s", output);
  /* The stop line comes after the last note shown. */
  cr_expect(strstr(output, "stopping here\n") + strlen("stopping here\n") ==
                output + strlen(output),
            "%s", output);
  free(lines.items);
  free(output);
}

static const char sparse_program[] =
    "data d = curves(cases 1000)\n"
    "net n : autoencoder {\n"
    "    input 784\n"
    "    encoder sigmoid [100, 25]\n"
    "    code linear 6\n"
    "    output sigmoid\n"
    "}\n"
    "init n {\n"
    "    weights sparse(15)\n"
    "%s"
    "}\n"
    "train n on d with nag { epsilon 0.01; mu 0.9; steps 100 }\n";

Test(diagnostics, sparse_weights_meeting_a_small_layer_are_not_warned) {
  /* enc2 (25 units) and code (6 units) are below fan_in 15 for code and
   * dec1: the sparse initialization clamps them, silently. */
  bool parsed;
  Program *p = compile(
      source_from_string("ok.mdl", arena_printf(sparse_program, "")), &parsed);
  char *output = take_diags();
  cr_expect_not_null(p, "%s", output);
  cr_expect_str_eq(output, "", "expected no diagnostics:\n%s", output);
  free(output);
  cr_assert_not_null(p);
  for (int i = 0; i < p->n_blocks; i++)
    if (p->blocks[i].kind == BLOCK_WEIGHTS) {
      cr_expect_eq(p->blocks[i].init.kind, INIT_SPARSE);
      cr_expect_eq(p->blocks[i].init.fan_in, 15, "%s", p->blocks[i].name);
    }
}

Test(diagnostics, naming_the_small_block_is_warned_but_compiles) {
  bool parsed;
  Program *p =
      compile(source_from_string("warn.mdl",
                                 arena_printf(sparse_program,
                                              "    code_to_dec1 sparse(15)\n")),
              &parsed);
  char *output = take_diags();
  cr_expect_not_null(p, "a warning is not an error:\n%s", output);
  cr_expect(strstr(output, "warn.mdl:10:18: warning: fan_in 15 is larger "
                           "than layer 'code' (6 units); each unit of "
                           "'dec1' gets all 6 connections\n"),
            "%s", output);
  cr_expect_eq(diag_error_count, 0);
  free(output);
}

Test(diagnostics, the_example_programs_compile_cleanly) {
  static const char *examples[] = {"curves.mdl",
                                   "mnist.mdl",
                                   "faces.mdl",
                                   "fashion_mnist.mdl",
                                   "fashion_mnist_autoencoder.mdl",
                                   "quadratic.mdl"};
  for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
    SourceFile *file =
        source_read(arena_printf("%s/../examples/%s", TESTS_DIR, examples[i]));
    cr_assert_not_null(file, "examples/%s", examples[i]);
    bool parsed;
    Program *p = compile(file, &parsed);
    char *output = take_diags();
    cr_expect_not_null(p, "examples/%s:\n%s", examples[i], output);
    cr_expect_str_eq(output, "", "examples/%s:\n%s", examples[i], output);
    free(output);
  }
}

/* sema checks by topic, yet its errors and warnings come out in the order
 * of the file (each note right after the message it belongs to): in every
 * bad program the positions of the errors and warnings never go back. */
Test(diagnostics, errors_come_in_the_order_of_the_file) {
  Lines files = diag_files();
  for (int f = 0; f < files.n; f++) {
    Lines expected = expectations(
        source_read(arena_printf("%s/%s", DIAG_DIR, files.items[f]))->text);
    int last_line = 0, last_col = 0;
    for (int i = 0; i < expected.n; i++) {
      int line, col;
      char kind[16];
      if (sscanf(expected.items[i], "%d:%d: %15[a-z]", &line, &col, kind) != 3)
        continue; /* a message with no place */
      if (strcmp(kind, "note") == 0)
        continue;
      cr_expect(line > last_line || (line == last_line && col >= last_col),
                "%s: %s comes after %d:%d", files.items[f], expected.items[i],
                last_line, last_col);
      last_line = line;
      last_col = col;
    }
  }
}

/* A program whose checks run in an order unlike the file's: the init block
 * (checked after the train block) comes first here. */
Test(diagnostics, a_late_check_of_an_early_line_comes_first) {
  SourceFile *file = source_from_string(
      "order.mdl", "data d = curves(cases 100)\n"
                   "net ae : autoencoder { input 784; code linear 6; output "
                   "sigmoid }\n"
                   "init ae { weigths 0 }\n"
                   "train ae on d with nag { epsilon 0.1; mu 1.5 }\n");
  bool parsed;
  cr_assert_null(compile(file, &parsed));
  cr_assert(parsed);
  char *text = take_diags();
  const char *init = strstr(text, "order.mdl:3:");
  const char *train = strstr(text, "order.mdl:4:");
  cr_assert(init && train, "%s", text);
  cr_expect(init < train, "line 3 should be reported before line 4:\n%s", text);
  free(text);
}

/* A file with a NUL byte: the error points at the first one, after the
 * source line as far as it goes. Such a file cannot live in tests/diag,
 * whose files are read as text, so it is written here. */
Test(diagnostics, a_nul_byte_is_pointed_at) {
  const char *base = getenv("TMPDIR");
  char *path = arena_printf("%s/nul-XXXXXX", base && *base ? base : "/tmp");
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  static const char text[] = "data d = curves()\nnet n\0x\n\0";
  cr_assert_eq(write(fd, text, sizeof text - 1), (ssize_t)sizeof text - 1);
  close(fd);
  cr_expect_null(source_read(path));
  unlink(path);
  char *output = take_diags();
  char *expected = arena_printf("%s:2:6: error: a NUL byte; is this a text "
                                "file?\n"
                                "    2 | net n\n"
                                "      |      ^\n",
                                path);
  cr_expect_str_eq(output, expected, "got:\n%s\nexpected:\n%s", output,
                   expected);
  cr_expect_eq(diag_error_count, 1);
  free(output);
}

/* Found by tests/fuzz/fuzz_frontend.c: checking a schedule of thousands of
 * terms at each of ten million updates took minutes; the check now
 * samples the updates when the schedule is long, and still finds a value
 * out of range. */
Test(diagnostics, a_long_schedule_is_checked_in_bounded_time, .timeout = 60) {
  char *mu = arena_strdup("0.5");
  for (int i = 0; i < 1000; i++)
    mu = arena_printf("%s + 0 * t", mu);
  const char *program =
      "data d = curves(cases 100)\n"
      "net ae : autoencoder { input 784; code linear 6; output sigmoid }\n"
      "init ae { weights sparse(fan_in 15, scale 1.0); biases 0 }\n"
      "train ae on d with nag { steps 10000000; epsilon 0.1; mu %s }\n";
  bool parsed;
  SourceFile *file = source_from_string("long.mdl", arena_printf(program, mu));
  cr_expect_not_null(compile(file, &parsed), "%s", take_diags());

  file = source_from_string("long.mdl",
                            arena_printf(program, arena_printf("%s + 1", mu)));
  cr_expect_null(compile(file, &parsed));
  char *text = take_diags();
  cr_expect(strstr(text, "mu must be in [0, 1), but at t = 0 this gives 1.5"),
            "%s", text);
  free(text);
}
