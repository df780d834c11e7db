/* test_parser.c — the grammar (grammar/parser.y): how expressions group,
 * the items and statements it builds, error recovery, and robustness
 * against arbitrary input. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mdlc.h"

static char *parser_diag_text;
static size_t parser_diag_size;

static void parser_setup(void) {
  diag_reset();
  diag_out = open_memstream(&parser_diag_text, &parser_diag_size);
}

static void parser_teardown(void) {
  fclose(diag_out);
  diag_out = NULL;
  free(parser_diag_text);
}

static const char *parser_diags(void) {
  fflush(diag_out);
  return parser_diag_text ? parser_diag_text : "";
}

static int count_lines_with(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
    n++;
  return n;
}

TestSuite(parser, .init = parser_setup, .fini = parser_teardown);

/* The expression of `const x = TEXT`, fully parenthesized. */
static char *grouping_of(const char *text) {
  Ast ast;
  char *source = arena_printf("const x = %s\n", text);
  bool ok = parse_source(source_from_string("p.mdl", source), &ast);
  cr_assert(ok, "[%s] did not parse:\n%s", text, parser_diags());
  cr_assert(ast.items && ast.items->kind == IT_CONST && !ast.items->next);
  char *printed = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&printed, &size);
  expr_print(out, ast.items->value);
  fclose(out);
  return printed;
}

static void expect_grouping(const char *text, const char *expected) {
  char *got = grouping_of(text);
  cr_expect_str_eq(got, expected, "[%s] grouped as %s, expected %s", text, got,
                   expected);
  free(got);
}

Test(parser, arithmetic_precedence) {
  expect_grouping("1 + 2 * 3", "(1 + (2 * 3))");
  expect_grouping("1 - 2 - 3", "((1 - 2) - 3)");
  expect_grouping("8 / 4 / 2", "((8 / 4) / 2)");
  expect_grouping("1 * 2 + 3 / 4", "((1 * 2) + (3 / 4))");
  expect_grouping("(1 + 2) * 3", "((1 + 2) * 3)");
}

Test(parser, power_binds_tightest_and_to_the_right) {
  expect_grouping("1 - 2^-x", "(1 - (2 ^ (-x)))");
  expect_grouping("-2^2", "(-(2 ^ 2))");
  expect_grouping("2^3^4", "(2 ^ (3 ^ 4))");
  expect_grouping("2 * t^2", "(2 * (t ^ 2))");
  expect_grouping("(-2)^2", "((-2) ^ 2)");
  expect_grouping("--t", "(-(-t))");
}

Test(parser, eq5_schedule) {
  expect_grouping("min(1 - 2^(-1 - log2(floor(t / 250) + 1)), mu_max)",
                  "min((1 - (2 ^ ((-1) - log2((floor((t / 250)) + 1))))), "
                  "mu_max)");
}

Test(parser, calls) {
  expect_grouping("min(a, b, c)", "min(a, b, c)");
  expect_grouping("max(1, min(t, 2))", "max(1, min(t, 2))");
  expect_grouping("floor(t / 250) + 1", "(floor((t / 250)) + 1)");
  /* Any name may be called; sema decides which names are functions. */
  expect_grouping("f(x)", "f(x)");
}

Test(parser, conditionals_nest_to_the_right) {
  expect_grouping("a if t < 3 else b if t < 5 else c",
                  "(a if (t < 3) else (b if (t < 5) else c))");
  expect_grouping("0.9 if t < 1000 else 0.995",
                  "(0.9 if (t < 1000) else 0.995)");
  /* if/else binds loosest: the arithmetic around it belongs to its arms. */
  expect_grouping("1 + a if t >= 2 else b * 2",
                  "((1 + a) if (t >= 2) else (b * 2))");
  expect_grouping("(a if t < 1 else b) + 1", "((a if (t < 1) else b) + 1)");
}

Test(parser, logic_precedence) {
  expect_grouping("not t < 3", "(not (t < 3))");
  expect_grouping("t < 1 or t > 2 and t != 5",
                  "((t < 1) or ((t > 2) and (t != 5)))");
  expect_grouping("not t < 1 and t <= 2 or t == 3",
                  "(((not (t < 1)) and (t <= 2)) or (t == 3))");
  expect_grouping("not not t >= 1", "(not (not (t >= 1)))");
  expect_grouping("1 if t < 2 and t > 0 else 2",
                  "(1 if ((t < 2) and (t > 0)) else 2)");
}

Test(parser, comparisons_do_not_chain) {
  Ast ast;
  bool ok =
      parse_source(source_from_string("p.mdl", "const x = 0 < t < 5\n"), &ast);
  cr_expect_not(ok);
  cr_expect_eq(diag_error_count, 1, "%s", parser_diags());
}

Test(parser, numbers_print_in_their_shortest_form) {
  expect_grouping("0.9 + 0.005", "(0.9 + 0.005)");
  expect_grouping("1e-4 * 2.5E3", "(0.0001 * 2500)");
  expect_grouping("1e300 + 1e-300", "(1e+300 + 1e-300)");
  expect_grouping("0.3333333333333333", "0.3333333333333333");
  expect_grouping("0.30000000000000004", "0.30000000000000004");
}

Test(parser, parentheses_widen_the_location) {
  Ast ast;
  cr_assert(
      parse_source(source_from_string("p.mdl", "const x = -(t + 1)\n"), &ast));
  const Expr *neg = ast.items->value;
  cr_assert_eq(neg->kind, EX_NEG);
  cr_expect_eq(neg->loc.col, 11);
  cr_expect_eq(neg->loc.length, 8, "'-(t + 1)' is 8 long, not %d",
               neg->loc.length);
  cr_expect_eq(neg->lhs->loc.col, 12);
  cr_expect_eq(neg->lhs->loc.length, 7);
}

static char *dump_of(const char *source) {
  Ast ast;
  bool ok = parse_source(source_from_string("p.mdl", source), &ast);
  cr_assert(ok, "did not parse:\n%s", parser_diags());
  char *dump = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&dump, &size);
  ast_dump(out, &ast);
  fclose(out);
  return dump;
}

static void expect_dump(const char *source, const char *expected) {
  char *got = dump_of(source);
  cr_expect_str_eq(got, expected, "AST:\n%s\nexpected:\n%s", got, expected);
  free(got);
}

Test(parser, items_and_statements) {
  expect_dump("# an experiment\n"
              "data curves = curves(cases 20000, seed 1)\n"
              "\n"
              "net ae : autoencoder {\n"
              "    input 784\n"
              "    encoder sigmoid [400, 200, 100]\n"
              "    code linear 6\n"
              "    decoder mirror\n"
              "    output sigmoid; loss cross_entropy\n"
              "}\n"
              "init ae { weights sparse(fan_in 15, scale 1.0); biases 0 }\n"
              "const mu_max = 0.999\n"
              "train ae on curves with nag {\n"
              "    batch 200\n"
              "    epsilon 0.005\n"
              "    mu min(0.9, mu_max)\n"
              "    log \"curve.csv\"\n"
              "    first 10 { epsilon 0.001 }\n"
              "    last 1000 {\n"
              "        mu 0.9\n"
              "        epsilon 0.0001\n"
              "    }\n"
              "    report every 5000 train_error\n"
              "}\n",
              "2:1 data curves kind=curves cases=20000 seed=1\n"
              "4:1 net ae kind=autoencoder\n"
              "  5:5 input 784\n"
              "  6:5 encoder sigmoid [400, 200, 100]\n"
              "  7:5 code linear 6\n"
              "  8:5 decoder mirror\n"
              "  9:5 output sigmoid\n"
              "  9:21 loss cross_entropy\n"
              "11:1 init ae\n"
              "  11:11 weights sparse(fan_in=15, scale=1)\n"
              "  11:49 biases 0\n"
              "12:1 const mu_max = 0.999\n"
              "13:1 train ae kind=nag on=curves\n"
              "  14:5 batch 200\n"
              "  15:5 epsilon 0.005\n"
              "  16:5 mu min(0.9, mu_max)\n"
              "  17:5 log \"curve.csv\"\n"
              "  18:5 first 10\n"
              "    18:16 epsilon 0.001\n"
              "  19:5 last 1000\n"
              "    20:9 mu 0.9\n"
              "    21:9 epsilon 0.0001\n"
              "  23:5 report every 5000 train_error\n");
}

Test(parser, words_negative_numbers_lists_and_calls) {
  expect_dump("net n : feedforward {\n"
              "  layer tanh -3\n"
              "  hidden sigmoid [-2.5, 7, x]\n"
              "  output f(g(1), key [1, 2], k2 h(k3 \"s\"), -1e-3)\n"
              "  loss \"file\" name 1.5\n"
              "  input\n"
              "}\n",
              "1:1 net n kind=feedforward\n"
              "  2:3 layer tanh -3\n"
              "  3:3 hidden sigmoid [-2.5, 7, x]\n"
              "  4:3 output f(g(1), key=[1, 2], k2=h(k3=\"s\"), -0.001)\n"
              "  5:3 loss \"file\" name 1.5\n"
              "  6:3 input\n");
}

Test(parser, word_atoms_and_their_locations) {
  Ast ast;
  cr_assert(parse_source(
      source_from_string("p.mdl",
                         "init n {\n  w sparse(fan_in 15, 2.) -4 [1]\n}\n"),
      &ast));
  const Stmt *s = ast.items->body;
  cr_assert(s && s->kind == ST_WORDS);
  cr_expect_str_eq(s->head, "w");
  const Atom *call = s->atoms;
  cr_assert_eq(call->kind, AT_CALL);
  cr_expect_str_eq(call->text, "sparse");
  cr_expect_eq(call->loc.col, 5);
  cr_expect_eq(call->loc.length, 21);
  const Atom *fan_in = call->items;
  cr_expect_str_eq(fan_in->key, "fan_in");
  cr_expect_eq(fan_in->key_loc.col, 12);
  cr_expect(fan_in->is_integer);
  cr_expect_eq(fan_in->number, 15);
  cr_expect_null(fan_in->next->key);
  cr_expect_not(fan_in->next->is_integer, "'2.' is not an integer");
  const Atom *neg = call->next;
  cr_assert_eq(neg->kind, AT_NUMBER);
  cr_expect_eq(neg->number, -4);
  cr_expect(neg->is_integer);
  cr_expect_eq(neg->loc.col, 27);
  cr_expect_eq(neg->loc.length, 2, "'-4' spans the sign too");
  cr_assert_eq(neg->next->kind, AT_LIST);
  cr_expect_null(neg->next->next);
}

Test(parser, train_settings_and_strings) {
  Ast ast;
  cr_assert(parse_source(
      source_from_string("p.mdl", "train n on d with cm { log \"a\\\"b\"; "
                                  "seed 1 + 2; report every 10 }"),
      &ast));
  const Item *train = ast.items;
  cr_assert_eq(train->kind, IT_TRAIN);
  cr_expect_str_eq(train->name, "n");
  cr_expect_str_eq(train->data_name, "d");
  cr_expect_str_eq(train->kind_name, "cm");
  cr_expect_eq(train->kind_loc.col, 19);
  const Stmt *log = train->body;
  cr_assert_eq(log->kind, ST_SET);
  cr_assert_not_null(log->string);
  cr_expect_null(log->expr);
  cr_expect_str_eq(log->string->text, "a\"b");
  const Stmt *seed = log->next;
  cr_assert_eq(seed->kind, ST_SET);
  cr_assert_not_null(seed->expr);
  cr_expect_eq(seed->expr->kind, EX_BINARY);
  cr_expect_eq(seed->next->kind, ST_REPORT);
}

Test(parser, empty_and_blank_programs) {
  const char *sources[] = {"", "\n\n", "# nothing\n", ";;;", "\n  ;\n# x"};
  for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
    Ast ast;
    cr_expect(parse_source(source_from_string("p.mdl", sources[i]), &ast),
              "source %zu", i);
    cr_expect_null(ast.items);
  }
  cr_expect_eq(diag_error_count, 0);
}

Test(parser, errors_on_several_lines_are_all_reported) {
  Ast ast;
  bool ok = parse_source(source_from_string("p.mdl", "const a = 1 +\n"
                                                     "const b = 2\n"
                                                     "data d = = curves()\n"
                                                     "net n : autoencoder {\n"
                                                     "  input 784\n"
                                                     "  code linear 6 ]\n"
                                                     "  output sigmoid\n"
                                                     "}\n"
                                                     "train n on d with nag {\n"
                                                     "  epsilon 0.01 0.02\n"
                                                     "  batch = 3\n"
                                                     "  last { mu 0.9 }\n"
                                                     "  mu 0.9\n"
                                                     "}\n"
                                                     "const c = (1\n"),
                         &ast);
  cr_expect_not(ok);
  const char *d = parser_diags();
  cr_expect_eq(diag_error_count, 7, "%s", d);
  const char *lines[] = {
      "p.mdl:1:14: ", "p.mdl:3:10: ", "p.mdl:6:17: ", "p.mdl:10:16: ",
      "p.mdl:11:9: ", "p.mdl:12:8: ", "p.mdl:15:13: "};
  const char *at = d;
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    const char *found = strstr(at, lines[i]);
    cr_expect(found, "no error at %s (in order) in:\n%s", lines[i], d);
    if (found)
      at = found;
  }
  /* The good items between the bad lines are all there. */
  int items = 0;
  for (const Item *it = ast.items; it; it = it->next)
    items++;
  cr_expect_eq(items, 3, "const b, net n and train n");
}

Test(parser, error_in_an_item_header_skips_its_body) {
  Ast ast;
  bool ok =
      parse_source(source_from_string("p.mdl", "net ae autoencoder {\n"
                                               "  input 784\n"
                                               "  encoder sigmoid [400, 200]\n"
                                               "  output sigmoid { x }\n"
                                               "}\n"
                                               "const a = 1 1\n"),
                   &ast);
  cr_expect_not(ok);
  const char *d = parser_diags();
  cr_expect_eq(diag_error_count, 2, "%s", d);
  cr_expect(strstr(d, "p.mdl:1:8: error: syntax error, unexpected name, "
                      "expecting ':'\n"),
            "%s", d);
  cr_expect(strstr(d, "p.mdl:6:13: error:"), "%s", d);
}

/* The body skipped after a bad first line may hold braces, keywords and
 * lines that would each be an error: none is reported, its '}' closes it,
 * and the items after it are read. */
Test(parser, a_skipped_body_may_nest_braces_and_keywords) {
  Ast ast;
  bool ok =
      parse_source(source_from_string(
                       "p.mdl", "train n on d with nag x {\n"
                                "  first 10 { mu 0.9; last 3 { epsilon 1 } }\n"
                                "  { { } }\n"
                                "  const data net init ) ( ]\n"
                                "}\n"
                                "net m : autoencoder {\n"
                                "  input 5\n"
                                "}\n"),
                   &ast);
  cr_expect_not(ok);
  const char *d = parser_diags();
  cr_expect_eq(diag_error_count, 1, "%s", d);
  cr_expect(strstr(d, "p.mdl:1:23: error: syntax error, unexpected name"), "%s",
            d);
  cr_assert_not_null(ast.items);
  cr_expect_eq(ast.items->kind, IT_NET, "the net after the skipped body");
  cr_expect_null(ast.items->next);
}

Test(parser, missing_close_paren_does_not_swallow_the_file) {
  Ast ast;
  bool ok = parse_source(source_from_string("p.mdl", "data d = curves(cases 5\n"
                                                     "net n : autoencoder {\n"
                                                     "  input 784\n"
                                                     "}\n"
                                                     "const a = 1 1\n"),
                         &ast);
  cr_expect_not(ok);
  const char *d = parser_diags();
  cr_expect_eq(diag_error_count, 2, "%s", d);
  cr_expect(strstr(d, "p.mdl:1:24: error: syntax error, unexpected end of "
                      "line, expecting ')' or ','\n"),
            "%s", d);
  cr_expect(strstr(d, "p.mdl:5:13: error:"), "%s", d);
  cr_assert_not_null(ast.items);
  cr_expect_eq(ast.items->kind, IT_NET, "the net after the bad line");
}

Test(parser, lexical_error_gives_one_message_per_line) {
  Ast ast;
  bool ok = parse_source(
      source_from_string("p.mdl", "const a = 1 $ 2\nconst b = 1 2\n"), &ast);
  cr_expect_not(ok);
  const char *d = parser_diags();
  cr_expect_eq(count_lines_with(d, "p.mdl:1:"), 1, "%s", d);
  cr_expect(strstr(d, "p.mdl:1:13: error: stray '$' in program\n"), "%s", d);
  cr_expect_eq(count_lines_with(d, "p.mdl:2:"), 1, "%s", d);
}

Test(parser, lexical_error_alone_fails_the_parse) {
  /* The parser can make sense of the line, but the program is wrong. */
  Ast ast;
  bool ok = parse_source(source_from_string("p.mdl", "const a = 1 ?\n"), &ast);
  cr_expect_not(ok);
  cr_expect_eq(diag_error_count, 1, "%s", parser_diags());
}

Test(parser, many_errors_stop_at_the_limit) {
  char *source = arena_strdup("");
  for (int i = 0; i < 30; i++)
    source = arena_printf("%sconst c%d = = 1\nconst d%d = 1\n", source, i, i);
  Ast ast;
  cr_expect_not(parse_source(source_from_string("p.mdl", source), &ast));
  const char *d = parser_diags();
  cr_expect_eq(diag_error_count, 30);
  cr_expect_eq(count_lines_with(d, ": error: "), 20, "%s", d);
  cr_expect_eq(count_lines_with(d, "mdlc: too many errors; stopping here\n"), 1,
               "%s", d);
  int items = 0;
  for (const Item *it = ast.items; it; it = it->next)
    items++;
  cr_expect_eq(items, 30, "every good line is still parsed");
}

/* ---- robustness: mutated programs never crash or hang the front end ---- */

/* A small deterministic generator (xorshift64*), independent of the
 * runtime's. */
static unsigned long long fuzz_state;

static unsigned fuzz_next(unsigned n) {
  fuzz_state ^= fuzz_state >> 12;
  fuzz_state ^= fuzz_state << 25;
  fuzz_state ^= fuzz_state >> 27;
  return (unsigned)((fuzz_state * 2685821657736338717ULL) >> 33) % n;
}

static char *read_example(const char *name) {
  SourceFile *f =
      source_read(arena_printf("%s/../examples/%s", TESTS_DIR, name));
  cr_assert_not_null(f, "cannot read examples/%s", name);
  return (char *)f->text;
}

Test(parser, fuzzed_programs_never_crash) {
  /* Mostly curves.mdl, with a shorter run so that schedule checks stay
   * fast; no digits are inserted, so no mutant trains for long. */
  char *base = read_example("curves.mdl");
  char *steps = strstr(base, "steps 750000");
  cr_assert_not_null(steps);
  memcpy(steps, "steps   2000", 12);
  static const char pieces[] = "(){}[],;:=+-*/^<>!\"\\#\n \t.eab_\x80\xc3";
  size_t n = strlen(base);
  char *text = malloc(n + 64);
  FILE *sink = fopen("/dev/null", "w");
  cr_assert_not_null(sink);
  fclose(diag_out);
  diag_out = sink;
  int accepted = 0;
  fuzz_state = 88172645463325252ULL;
  for (int round = 0; round < 3000; round++) {
    size_t len = n;
    memcpy(text, base, n + 1);
    int edits = 1 + (int)fuzz_next(4);
    for (int e = 0; e < edits; e++) {
      size_t at = fuzz_next((unsigned)len);
      switch (fuzz_next(3)) {
      case 0: /* delete */
        memmove(text + at, text + at + 1, len - at);
        len--;
        break;
      case 1: /* insert */
        memmove(text + at + 1, text + at, len - at + 1);
        text[at] = pieces[fuzz_next(sizeof pieces - 1)];
        len++;
        break;
      default: { /* swap */
        size_t other = fuzz_next((unsigned)len);
        char c = text[at];
        text[at] = text[other];
        text[other] = c;
      }
      }
    }
    diag_reset();
    Ast ast;
    bool parsed = parse_source(source_from_string("fuzz.mdl", text), &ast);
    cr_assert(parsed || diag_error_count > 0,
              "round %d: a failed parse reported nothing", round);
    if (!parsed)
      continue;
    Program *p = sema_check(&ast);
    if (diag_error_count > 0)
      cr_assert_null(p, "round %d: errors but a program:\n%s", round, text);
    else
      cr_assert_not_null(p, "round %d: no program, no error:\n%s", round, text);
    accepted += p != NULL;
  }
  free(text);
  /* Some mutants (in comments, say) are still good programs. */
  cr_expect_gt(accepted, 100);
  cr_expect_lt(accepted, 2900);
  diag_out = open_memstream(&parser_diag_text, &parser_diag_size);
  fclose(sink);
}
