/* test_statements.c — compiler/statements.c, the grammar of net and init
 * bodies: every example it gives is accepted by sema, the kinds of net are
 * in NetKind's order, and docs/language.md shows its tables as they are
 * (make syntax-docs prints them there). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdlc.h"

static void statements_setup(void) {
  diag_reset();
  diag_out = stderr;
}

TestSuite(statements, .init = statements_setup);

/* The items of a source text, which must parse. */
static Item *items_of(const char *text) {
  Ast ast;
  cr_assert(parse_source(source_from_string("p.mdl", text), &ast), "%s", text);
  return ast.items;
}

/* A body whose lines are the examples of every statement of `b`. */
static const char *examples_of(const Body *b) {
  const char *lines = "";
  for (const Statement *s = b->statements; s->head; s++)
    lines = arena_printf("%s    %s\n", lines, s->example);
  return lines;
}

Test(statements, every_example_of_a_net_is_accepted) {
  for (const char *const *kind = net_kinds(); *kind; kind++) {
    const Body *b = body_named(*kind);
    cr_assert_not_null(b, "%s", *kind);
    const char *text =
        arena_printf("net n : %s {\n%s}\n", *kind, examples_of(b));
    Item *net = items_of(text);
    Sema S = {.p = arena_alloc(sizeof(Program))};
    cr_expect(check_net_body(&S, net), "%s", text);
    cr_expect_eq(diag_error_count, 0, "%s", text);
  }
}

/* The init examples name a recurrent net's blocks (spectral_radius needs
 * the square hidden_to_hidden). */
Test(statements, every_example_of_init_is_accepted) {
  const char *text = arena_printf("net n : recurrent {\n%s}\ninit n {\n%s}\n",
                                  examples_of(body_named("recurrent")),
                                  examples_of(body_named("init")));
  Item *items = items_of(text);
  Sema S = {.p = arena_alloc(sizeof(Program))};
  cr_assert(check_net_body(&S, items));
  check_init(&S, items->next);
  cr_expect_eq(diag_error_count, 0, "%s", text);
  cr_expect_eq(model_block(S.p, "hidden_to_hidden")->init.radius, 1.1);
}

Test(statements, net_kinds_are_in_netkind_order) {
  const char *const *kinds = net_kinds();
  for (int k = NET_AUTOENCODER; k <= NET_QUADRATIC; k++)
    cr_expect_str_eq(kinds[k], net_kind_name((NetKind)k));
  cr_expect_null(kinds[NET_QUADRATIC + 1]);
}

/* A statement of the table missing, or one not in it, is reported with the
 * table's words. */
Test(statements, sema_follows_the_table) {
  char *text = NULL;
  size_t size = 0;
  diag_out = open_memstream(&text, &size);
  Item *net = items_of("net r : recurrent {\n"
                       "    input 2\n"
                       "    output linear 1 at last\n"
                       "    encoder tanh 5\n"
                       "}\n");
  Sema S = {.p = arena_alloc(sizeof(Program))};
  cr_expect_not(check_net_body(&S, net));
  fclose(diag_out);
  diag_out = stderr;
  cr_expect(strstr(text, "recurrent net 'r' has no 'hidden' layer (e.g. "
                         "hidden tanh 100)"),
            "%s", text);
  cr_expect(strstr(text, "unknown statement 'encoder' in recurrent 'r'; "
                         "expected input, hidden, initial, output or loss"),
            "%s", text);
  free(text);
}

/* What --dump-syntax prints is in docs/language.md word for word. */
Test(statements, the_docs_show_the_tables) {
  char *printed = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&printed, &size);
  bodies_print(out);
  fclose(out);
  FILE *docs = fopen(TESTS_DIR "/../docs/language.md", "r");
  cr_assert_not_null(docs);
  static char text[1 << 17];
  size_t n = fread(text, 1, sizeof text - 1, docs);
  text[n] = '\0';
  fclose(docs);
  /* Each part, from its first marker to its end marker. */
  for (char *part = printed; *part;) {
    char *end = strstr(part, "<!-- end of ");
    cr_assert_not_null(end);
    end = strchr(end, '\n') + 1;
    char saved = *end;
    *end = '\0';
    cr_expect(strstr(text, part),
              "docs/language.md does not show this as compiler/statements.c "
              "has it (run make syntax-docs):\n%s",
              part);
    *end = saved;
    part = end;
  }
  free(printed);
}
