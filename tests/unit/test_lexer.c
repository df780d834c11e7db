/* test_lexer.c — the tokens of .mdl text (grammar/lexer.re), as
 * lexer_dump_tokens prints them: "LINE:COL<tab>TOKEN[<tab>VALUE]". */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mdlc.h"
#include "parser.h"

static char *lexer_diag_text;
static size_t lexer_diag_size;

static void lexer_setup(void) {
  diag_reset();
  diag_out = open_memstream(&lexer_diag_text, &lexer_diag_size);
}

static void lexer_teardown(void) {
  fclose(diag_out);
  diag_out = NULL;
  free(lexer_diag_text);
}

/* The diagnostics printed so far. */
static const char *lexer_diags(void) {
  fflush(diag_out);
  return lexer_diag_text;
}

static char *tokens_of(const char *text) {
  char *dump = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&dump, &size);
  lexer_dump_tokens(out, source_from_string("lex.mdl", text));
  fclose(out);
  return dump;
}

static void expect_tokens(const char *text, const char *expected) {
  char *got = tokens_of(text);
  cr_expect_str_eq(got, expected, "tokens of [%s]:\n%s\nexpected:\n%s", text,
                   got, expected);
  free(got);
}

TestSuite(lexer, .init = lexer_setup, .fini = lexer_teardown);

Test(lexer, integers_and_reals) {
  expect_tokens("1 784 007 1e-4 .5 2. 2.5E3 0.005 1E+2\n",
                "1:1\tinteger\t1\n"
                "1:3\tinteger\t784\n"
                "1:7\tinteger\t007\n"
                "1:11\tnumber\t1e-4\n"
                "1:16\tnumber\t.5\n"
                "1:19\tnumber\t2.\n"
                "1:22\tnumber\t2.5E3\n"
                "1:28\tnumber\t0.005\n"
                "1:34\tnumber\t1E+2\n"
                "1:38\tend of line\n"
                "2:1\tend of file\n");
  cr_expect_eq(diag_error_count, 0);
}

Test(lexer, exponent_needs_digits) {
  /* "1e" is the integer 1 followed by the name e; "1.e3" is one number. */
  expect_tokens("1e x 1.e3", "1:1\tinteger\t1\n"
                             "1:2\tname\te\n"
                             "1:4\tname\tx\n"
                             "1:6\tnumber\t1.e3\n"
                             "1:10\tend of line\n"
                             "1:10\tend of file\n");
}

Test(lexer, names_and_keywords) {
  expect_tokens("const data net init train on with first last report",
                "1:1\t'const'\n"
                "1:7\t'data'\n"
                "1:12\t'net'\n"
                "1:16\t'init'\n"
                "1:21\t'train'\n"
                "1:27\t'on'\n"
                "1:30\t'with'\n"
                "1:35\t'first'\n"
                "1:41\t'last'\n"
                "1:46\t'report'\n"
                "1:52\tend of line\n"
                "1:52\tend of file\n");
  expect_tokens("if else and or not", "1:1\t'if'\n"
                                      "1:4\t'else'\n"
                                      "1:9\t'and'\n"
                                      "1:13\t'or'\n"
                                      "1:16\t'not'\n"
                                      "1:19\tend of line\n"
                                      "1:19\tend of file\n");
  /* A keyword inside a longer word is a name; names may hold digits and _. */
  expect_tokens("constant _x enc1 sigmoid dataset Net", "1:1\tname\tconstant\n"
                                                        "1:10\tname\t_x\n"
                                                        "1:13\tname\tenc1\n"
                                                        "1:18\tname\tsigmoid\n"
                                                        "1:26\tname\tdataset\n"
                                                        "1:34\tname\tNet\n"
                                                        "1:37\tend of line\n"
                                                        "1:37\tend of file\n");
}

/* parser.y's %token lines are the one list of keywords: docs/language.md
 * names the same ones, in the same order. */
Test(lexer, the_docs_name_every_keyword) {
  char *keywords = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&keywords, &size);
  for (int t = 0; t < 1024; t++)
    if (token_is_keyword(t)) {
      const char *quoted = token_name(t); /* 'const' */
      fprintf(out, "%s%.*s", size ? " " : "", (int)strlen(quoted) - 2,
              quoted + 1);
      fflush(out);
    }
  fclose(out);
  FILE *docs = fopen(TESTS_DIR "/../docs/language.md", "r");
  cr_assert_not_null(docs);
  char text[65536];
  size_t n = fread(text, 1, sizeof text - 1, docs);
  text[n] = '\0';
  fclose(docs);
  const char *start = strstr(text, "**Keywords**: `");
  cr_assert_not_null(start, "language.md lists no keywords");
  start += strlen("**Keywords**: `");
  char listed[512];
  size_t k = 0;
  for (const char *c = start; *c && *c != '`' && k < sizeof listed - 1; c++)
    if (*c != '\n' && !(*c == ' ' && (k == 0 || listed[k - 1] == ' ')))
      listed[k++] = *c;
  listed[k] = '\0';
  cr_expect_str_eq(listed, keywords);
  free(keywords);
}

Test(lexer, operators) {
  expect_tokens("<= >= == != < > = + - * / ^ ( ) [ ] , :",
                "1:1\t'<='\n"
                "1:4\t'>='\n"
                "1:7\t'=='\n"
                "1:10\t'!='\n"
                "1:13\t'<'\n"
                "1:15\t'>'\n"
                "1:17\t'='\n"
                "1:19\t'+'\n"
                "1:21\t'-'\n"
                "1:23\t'*'\n"
                "1:25\t'/'\n"
                "1:27\t'^'\n"
                "1:29\t'('\n"
                "1:31\t')'\n"
                "1:33\t'['\n"
                "1:35\t']'\n"
                "1:37\t','\n"
                "1:39\t':'\n"
                "1:40\tend of line\n"
                "1:40\tend of file\n");
  /* Two-character operators win over their first character. */
  expect_tokens("t<=3", "1:1\tname\tt\n"
                        "1:2\t'<='\n"
                        "1:4\tinteger\t3\n"
                        "1:5\tend of line\n"
                        "1:5\tend of file\n");
}

Test(lexer, strings_and_escapes) {
  expect_tokens("log \"a\\\"b\\\\c\\nd\\te\"",
                "1:1\tname\tlog\n"
                "1:5\tstring\t\"a\"b\\c\nd\te\"\n"
                "1:20\tend of line\n"
                "1:20\tend of file\n");
  /* '#' and non-ASCII characters are plain characters inside a string. */
  expect_tokens("\"# caf\xc3\xa9\" \"\"", "1:1\tstring\t\"# caf\xc3\xa9\"\n"
                                          "1:11\tstring\t\"\"\n"
                                          "1:13\tend of line\n"
                                          "1:13\tend of file\n");
  cr_expect_eq(diag_error_count, 0, "%s", lexer_diags());
}

Test(lexer, comments) {
  expect_tokens(
      "# a comment\nx # a trailing one, with ( and \"\n# caf\xc3\xa9\ny",
      "2:1\tname\tx\n"
      "2:33\tend of line\n"
      "4:1\tname\ty\n"
      "4:2\tend of line\n"
      "4:2\tend of file\n");
  cr_expect_eq(diag_error_count, 0, "%s", lexer_diags());
}

Test(lexer, blank_lines_and_comments_give_one_eol) {
  /* Leading blank lines give none; a run of them gives one. */
  expect_tokens("\n\n  \t\na\n\n# c\n   # d\n\r\nb;;\n;c\n",
                "4:1\tname\ta\n"
                "4:2\tend of line\n"
                "9:1\tname\tb\n"
                "9:2\tend of line\n"
                "10:2\tname\tc\n"
                "10:3\tend of line\n"
                "11:1\tend of file\n");
}

Test(lexer, newlines_inside_brackets_are_space) {
  expect_tokens("f(1,\n  2)\n[3,\n\n 4]\n", "1:1\tname\tf\n"
                                            "1:2\t'('\n"
                                            "1:3\tinteger\t1\n"
                                            "1:4\t','\n"
                                            "2:3\tinteger\t2\n"
                                            "2:4\t')'\n"
                                            "2:5\tend of line\n"
                                            "3:1\t'['\n"
                                            "3:2\tinteger\t3\n"
                                            "3:3\t','\n"
                                            "5:2\tinteger\t4\n"
                                            "5:3\t']'\n"
                                            "5:4\tend of line\n"
                                            "6:1\tend of file\n");
  /* Nested brackets: the newline ends the statement only when all close. */
  expect_tokens("m(f(1)\n)\nx", "1:1\tname\tm\n"
                                "1:2\t'('\n"
                                "1:3\tname\tf\n"
                                "1:4\t'('\n"
                                "1:5\tinteger\t1\n"
                                "1:6\t')'\n"
                                "2:1\t')'\n"
                                "2:2\tend of line\n"
                                "3:1\tname\tx\n"
                                "3:2\tend of line\n"
                                "3:2\tend of file\n");
}

Test(lexer, eol_supplied_before_brace_and_at_eof) {
  /* None after '{'; one before '}' when the statement has none; one at the
   * end of a file without a final newline. */
  expect_tokens("last 10 { mu 0.9 }", "1:1\t'last'\n"
                                      "1:6\tinteger\t10\n"
                                      "1:9\t'{'\n"
                                      "1:11\tname\tmu\n"
                                      "1:14\tnumber\t0.9\n"
                                      "1:18\tend of line\n"
                                      "1:18\t'}'\n"
                                      "1:19\tend of line\n"
                                      "1:19\tend of file\n");
  expect_tokens("a {\n\n  b\n}\n", "1:1\tname\ta\n"
                                   "1:3\t'{'\n"
                                   "3:3\tname\tb\n"
                                   "3:4\tend of line\n"
                                   "4:1\t'}'\n"
                                   "4:2\tend of line\n"
                                   "5:1\tend of file\n");
  /* Nothing to end: an empty file or a comment gives only the end. */
  expect_tokens("", "1:1\tend of file\n");
  expect_tokens("# only\n", "2:1\tend of file\n");
  expect_tokens("{}", "1:1\t'{'\n"
                      "1:2\t'}'\n"
                      "1:3\tend of line\n"
                      "1:3\tend of file\n");
}

Test(lexer, unclosed_bracket_ends_with_its_statement) {
  /* A missing ')' must not turn the rest of the file into one statement:
   * a keyword that starts an item ends it, at the newline before it. */
  expect_tokens("data d = curves(cases 5\n\nnet n", "1:1\t'data'\n"
                                                    "1:6\tname\td\n"
                                                    "1:8\t'='\n"
                                                    "1:10\tname\tcurves\n"
                                                    "1:16\t'('\n"
                                                    "1:17\tname\tcases\n"
                                                    "1:23\tinteger\t5\n"
                                                    "1:24\tend of line\n"
                                                    "3:1\t'net'\n"
                                                    "3:5\tname\tn\n"
                                                    "3:6\tend of line\n"
                                                    "3:6\tend of file\n");
  /* Any keyword but those that join expressions ends it too, so that a
   * new keyword needs no list of its own here: `with` does, `and` does
   * not. */
  expect_tokens("f(a\nwith b\ng(x\nand y)", "1:1\tname\tf\n"
                                            "1:2\t'('\n"
                                            "1:3\tname\ta\n"
                                            "1:4\tend of line\n"
                                            "2:1\t'with'\n"
                                            "2:6\tname\tb\n"
                                            "2:7\tend of line\n"
                                            "3:1\tname\tg\n"
                                            "3:2\t'('\n"
                                            "3:3\tname\tx\n"
                                            "4:1\t'and'\n"
                                            "4:5\tname\ty\n"
                                            "4:6\t')'\n"
                                            "4:7\tend of line\n"
                                            "4:7\tend of file\n");
  /* ... and so does a ';' or a '}', after which newlines count again. */
  expect_tokens("a [1; b\nc\nd (e\n}\nf", "1:1\tname\ta\n"
                                          "1:3\t'['\n"
                                          "1:4\tinteger\t1\n"
                                          "1:5\tend of line\n"
                                          "1:7\tname\tb\n"
                                          "1:8\tend of line\n"
                                          "2:1\tname\tc\n"
                                          "2:2\tend of line\n"
                                          "3:1\tname\td\n"
                                          "3:3\t'('\n"
                                          "3:4\tname\te\n"
                                          "3:5\tend of line\n"
                                          "4:1\t'}'\n"
                                          "4:2\tend of line\n"
                                          "5:1\tname\tf\n"
                                          "5:2\tend of line\n"
                                          "5:2\tend of file\n");
}

/* The first line of the diagnostics, without the file name. */
static void expect_first_diag(const char *expected) {
  const char *all = lexer_diags();
  cr_assert(all && strncmp(all, "lex.mdl:", 8) == 0, "diagnostics: [%s]",
            all ? all : "");
  const char *end = strchr(all, '\n');
  cr_expect_eq((size_t)(end - all - 8), strlen(expected),
               "got [%.*s], expected [%s]", (int)(end - all), all, expected);
  cr_expect(strncmp(all + 8, expected, strlen(expected)) == 0,
            "got [%.*s], expected [%s]", (int)(end - all), all, expected);
}

Test(lexer, stray_character) {
  expect_tokens("a $ b", "1:1\tname\ta\n"
                         "1:5\tname\tb\n"
                         "1:6\tend of line\n"
                         "1:6\tend of file\n");
  cr_expect_eq(diag_error_count, 1);
  expect_first_diag("1:3: error: stray '$' in program");
}

Test(lexer, stray_control_character_is_shown_as_hex) {
  expect_tokens("\n a\x01", "2:2\tname\ta\n"
                            "2:4\tend of line\n"
                            "2:4\tend of file\n");
  expect_first_diag("2:3: error: stray character 0x01 in program");
}

Test(lexer, single_quotes_make_a_string_with_an_error) {
  expect_tokens("log 'a b' 1", "1:1\tname\tlog\n"
                               "1:5\tstring\t\"a b\"\n"
                               "1:11\tinteger\t1\n"
                               "1:12\tend of line\n"
                               "1:12\tend of file\n");
  cr_expect_eq(diag_error_count, 1);
  expect_first_diag("1:5: error: strings are written in double quotes: "
                    "\"a b\"");
}

Test(lexer, lone_single_quote_is_stray) {
  free(tokens_of("x ' y"));
  cr_expect_eq(diag_error_count, 1);
  expect_first_diag(
      "1:3: error: stray \"'\" in program; strings use double quotes");
}

Test(lexer, bang_alone_is_stray) {
  free(tokens_of("t ! 3"));
  expect_first_diag("1:3: error: stray '!' in program");
}

Test(lexer, unterminated_string) {
  expect_tokens("log \"curve.csv\nx", "1:1\tname\tlog\n"
                                      "1:5\tstring\t\"curve.csv\"\n"
                                      "1:15\tend of line\n"
                                      "2:1\tname\tx\n"
                                      "2:2\tend of line\n"
                                      "2:2\tend of file\n");
  cr_expect_eq(diag_error_count, 1);
  expect_first_diag("1:5: error: missing closing '\"' of this string");
}

Test(lexer, unterminated_string_ending_in_backslash) {
  expect_tokens("\"ab\\\n", "1:1\tstring\t\"ab\"\n"
                            "1:5\tend of line\n"
                            "2:1\tend of file\n");
  cr_expect_eq(diag_error_count, 1, "%s", lexer_diags());
  expect_first_diag("1:1: error: missing closing '\"' of this string");
}

Test(lexer, unknown_escape) {
  expect_tokens("x \"a\\qb\"", "1:1\tname\tx\n"
                               "1:3\tstring\t\"ab\"\n"
                               "1:9\tend of line\n"
                               "1:9\tend of file\n");
  cr_expect_eq(diag_error_count, 1);
  expect_first_diag("1:5: error: unknown escape sequence '\\q' in string");
}

Test(lexer, non_ascii_outside_comments_and_strings) {
  expect_tokens("mu \xce\xbc 1", "1:1\tname\tmu\n"
                                 "1:7\tinteger\t1\n"
                                 "1:8\tend of line\n"
                                 "1:8\tend of file\n");
  cr_expect_eq(diag_error_count, 1);
  expect_first_diag("1:4: error: non-ASCII characters are only allowed in "
                    "comments and strings");
  /* The caret spans the whole character. */
  cr_expect(strstr(lexer_diags(), "      |    ^~\n"), "%s", lexer_diags());
}
