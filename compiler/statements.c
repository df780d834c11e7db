/* statements.c — the grammar of net and init bodies, as one table.
 *
 * The parser reads a net or init body as lines of words (parser.y), so
 * that sema can say precisely what is wrong with one. This table says
 * which statements each kind of body takes: the words of each as the
 * docs write them, what it means, whether it must be given, may be given
 * once or may be repeated, and one example. sema_net.c and sema_init.c
 * take the statements a body may have, which must be there, which may not
 * be repeated and the examples of their messages from here;
 * docs/language.md's tables of them are printed from here (mdlc
 * --dump-syntax, make syntax-docs), and tests/unit/test_statements.c
 * checks that every example is accepted and that the docs are up to date.
 *
 * A new statement is a row here and its check in sema_net.c or
 * sema_init.c; a new kind of net is a body here, a NetKind (mdlc.h, in
 * the order of the kinds here) and its checks. */
#include "mdlc.h"

#include <string.h>

static const Body bodies[] = {
    {"autoencoder",
     "autoencoder",
     "an encoder, a code layer, and a decoder that usually mirrors the "
     "encoder",
     {{"input",
       STMT_REQUIRED,
       "size",
       "input 784",
       {{"`input N`", "N input units (the data's width)"}}},
      {"encoder",
       STMT_OPTIONAL,
       "layers",
       "encoder sigmoid [400, 200]",
       {{"`encoder ACT [N1, N2, ...]`",
         "hidden layers `enc1`, `enc2`, ... of the given sizes, all with "
         "activation ACT (`encoder ACT N` for one)"}}},
      {"code",
       STMT_REQUIRED,
       "layer",
       "code linear 6",
       {{"`code ACT N`", "the code layer, named `code`"}}},
      {"decoder",
       STMT_OPTIONAL,
       "layers",
       "decoder mirror",
       {{"`decoder mirror`",
         "the encoder's sizes and activations in reverse order: layers "
         "`dec1`, `dec2`, ... (the default)"},
        {"`decoder ACT [N1, ...]`", "an explicit decoder"}}},
      {"output",
       STMT_REQUIRED,
       "layer",
       "output sigmoid",
       {{"`output ACT`", "the output layer, as wide as the input"}}},
      {"loss",
       STMT_OPTIONAL,
       "loss",
       "loss cross_entropy",
       {{"`loss LOSS`", "the loss minimized"}}}}},
    {"feedforward",
     "feed-forward net",
     "input, hidden layers, output",
     {{"input",
       STMT_REQUIRED,
       "size",
       "input 784",
       {{"`input N`", "N input units"}}},
      {"layer",
       STMT_REPEATABLE,
       "layer",
       "layer sigmoid 500",
       {{"`layer ACT N`",
         "one hidden layer of N units; the hidden layers are `hid1`, "
         "`hid2`, ... in order"}}},
      {"hidden",
       STMT_REPEATABLE,
       "layers",
       "hidden sigmoid [500, 500]",
       {{"`hidden ACT [N1, N2, ...]`", "several hidden layers at once"}}},
      {"output",
       STMT_REQUIRED,
       "layer",
       "output softmax 10",
       {{"`output ACT N`", "N output units"}}},
      {"loss",
       STMT_OPTIONAL,
       "loss",
       "loss cross_entropy",
       {{"`loss LOSS`", "the loss"}}}}},
    {"recurrent",
     "recurrent net",
     "a hidden layer that feeds itself from one step to the next, unrolled "
     "over the steps of each sequence (sec. 4)",
     {{"input",
       STMT_REQUIRED,
       "size",
       "input 784",
       {{"`input N`", "N inputs per step"}}},
      {"hidden",
       STMT_REQUIRED,
       "layer",
       "hidden tanh 100",
       {{"`hidden ACT N`",
         "the hidden layer, named `hidden`: N units (`tanh` in the paper)"}}},
      {"initial",
       STMT_OPTIONAL,
       "state",
       "initial zero",
       {{"`initial zero` or `initial learned`",
         "the hidden state before the first step, h_0: zero (the default) "
         "or a parameter block `initial_hidden` trained like the others"}}},
      {"output",
       STMT_REQUIRED,
       "layer",
       "output linear 1 at last",
       {{"`output ACT N at last`",
         "N output units, with a target only at the last step of each "
         "sequence (addition, multiplication)"},
        {"`output ACT N at every`", "a target at every step (memorization)"},
        {"`output ACT N at recall`",
         "memorization only: outputs at every step, but only the recall "
         "steps (the last K, after the trigger) carry loss"}}},
      {"loss",
       STMT_OPTIONAL,
       "loss",
       "loss squared per sequence",
       {{"`loss LOSS`", "the loss, summed over the steps that carry it"},
        {"`loss LOSS per sequence`",
         "the objective is the mean over sequences of each one's summed "
         "loss (the default for `at last`)"},
        {"`loss LOSS per target`",
         "the objective is the mean per target step: the summed loss "
         "divided by sequences × steps with targets (the default for `at "
         "every` and `at recall`)"}}}}},
    /* A quadratic's body is checked by sema_quadratic.c, which takes its
     * statements and examples from here too. */
    {"quadratic",
     "quadratic",
     "f(θ) = ½ θᵀAθ with A diagonal, an objective in closed form with no "
     "data ([Quadratics](#quadratics))",
     {{"curvatures",
       STMT_REQUIRED,
       "list",
       "curvatures [1, 0.01]",
       {{"`curvatures [λ1, λ2, ...]`",
         "A = diag(λ1, λ2, ...): one positive curvature per coordinate of "
         "θ, at most 100 (or one number); the minimum is θ = 0"}}}}},
    {"init",
     "init",
     "Each line names what it initializes and how (INIT, below); later "
     "lines override earlier ones.",
     {{"weights",
       STMT_OPTIONAL,
       "initialization",
       "weights sparse(fan_in 15, scale 1.0)",
       {{"`weights INIT`", "every weight block"}}},
      {"biases",
       STMT_OPTIONAL,
       "initialization",
       "biases 0",
       {{"`biases INIT`", "every bias"}}},
      {"output_bias",
       STMT_OPTIONAL,
       "initialization",
       "output_bias 0",
       {{"`output_bias INIT`", "the output layer's biases"}}},
      /* Any block of the net by its name: sema_init.c knows them. */
      {"BLOCK",
       STMT_OPTIONAL,
       "initialization",
       "hidden_to_hidden sparse(fan_in 15) spectral_radius 1.1",
       {{"`BLOCK INIT`",
         "one block by name (`input_to_enc1`, `enc1_bias`, ...: below)"},
        {"`BLOCK INIT spectral_radius R`",
         "a square block, rescaled so that its largest absolute eigenvalue "
         "is R (sec. 4.1)"}}}}},
};

enum { N_BODIES = sizeof bodies / sizeof bodies[0] };

const Initialization initializations[] = {
    {"sparse", "`sparse(fan_in K, scale S)`",
     "sparse initialization (sec. 3.1): every unit gets exactly K incoming "
     "weights from distinct, uniformly chosen units of the layer below, "
     "drawn from N(0, 1) × S; all other weights are exactly 0 and stay "
     "trainable. Positional form: `sparse(15)`, `sparse(15, 0.5)`. S may be "
     "a const's name (folded when compiling: `mdlc -D` changes it, `--set` "
     "refuses to)."},
    {"gaussian", "`gaussian(SD)`",
     "every weight from N(0, SD²) (also `gaussian(std 0.01)`)"},
    {NULL, "a number", "every element that value"},
    {"mean", "`mean(targets)`",
     "output biases only: the bias that makes an output unit with no input "
     "from below output the mean training target (for linear units the "
     "mean itself; for logistic units its logit; Table 4)"},
    {NULL, NULL, NULL},
};

const Body *body_named(const char *name) {
  for (int i = 0; i < N_BODIES; i++)
    if (strcmp(bodies[i].name, name) == 0)
      return &bodies[i];
  return NULL;
}

const Statement *body_statement(const Body *body, const char *head) {
  for (const Statement *s = body->statements; s->head; s++)
    if (strcmp(s->head, head) == 0)
      return s;
  return NULL;
}

const char *const *body_heads(const Body *body) {
  int n = 0;
  while (body->statements[n].head)
    n++;
  const char **heads = arena_alloc(sizeof(char *) * (size_t)(n + 1));
  for (int i = 0; i < n; i++)
    heads[i] = body->statements[i].head;
  return heads;
}

const char *const *net_kinds(void) {
  static const char *kinds[N_BODIES + 1];
  int n = 0;
  for (int i = 0; i < N_BODIES; i++)
    if (strcmp(bodies[i].name, "init") != 0)
      kinds[n++] = bodies[i].name;
  kinds[n] = NULL;
  return kinds;
}

const char *const *initialization_names(void) {
  static const char *names[8];
  int n = 0;
  for (const Initialization *i = initializations; i->form; i++)
    if (i->name && n < 7)
      names[n++] = i->name;
  names[n] = NULL;
  return names;
}

/* A body's table, as docs/language.md shows it. */
static void body_print(FILE *out, const Body *b) {
  static const char *const given[] = {[STMT_OPTIONAL] = "at most once",
                                      [STMT_REQUIRED] = "once",
                                      [STMT_REPEATABLE] = "any number"};
  fputs("| statement | given | meaning |\n|---|---|---|\n", out);
  for (const Statement *s = b->statements; s->head; s++)
    for (int i = 0; i < 3 && s->forms[i].form; i++)
      fprintf(out, "| %s | %s | %s |\n", s->forms[i].form,
              i ? "" : given[s->occurs], s->forms[i].meaning);
}

void bodies_print(FILE *out) {
  fputs("<!-- net bodies: printed by mdlc --dump-syntax from "
        "compiler/statements.c -->\n",
        out);
  for (int i = 0; i < N_BODIES; i++) {
    const Body *b = &bodies[i];
    if (strcmp(b->name, "init") == 0)
      continue;
    fprintf(out, "%s**`%s`** — %s:\n\n", i ? "\n" : "", b->name, b->summary);
    body_print(out, b);
  }
  fputs("<!-- end of net bodies -->\n", out);
  fputs("<!-- init bodies: printed by mdlc --dump-syntax from "
        "compiler/statements.c -->\n",
        out);
  const Body *init = body_named("init");
  fprintf(out, "%s\n\n", init->summary);
  body_print(out, init);
  fputs("\nINIT, the initializations:\n\n| form | meaning |\n|---|---|\n", out);
  for (const Initialization *i = initializations; i->form; i++)
    fprintf(out, "| %s | %s |\n", i->form, i->meaning);
  fputs("<!-- end of init bodies -->\n", out);
}
