/* sema_init.c — initialization: which block each line of an init item
 * sets, and how (sparse, Gaussian, constants, the mean target). */
#include "mdlc.h"

#include <string.h>

/* A positive number, or a const's name: the scale of a sparse
 * initialization can then be swept with mdlc -D (Table 3). */
static bool init_number(Sema *S, const Atom *a, const char *what, double *out) {
  if (a->kind != AT_NAME)
    return positive_real(a, what, out);
  Const *c = sema_const(S->p, a->text);
  if (!c) {
    for (int i = 0; i < S->n_bad_consts; i++)
      if (strcmp(S->bad_consts[i], a->text) == 0)
        return false; /* its declaration was reported */
    const char **names =
        arena_alloc(sizeof(char *) * (size_t)(S->p->n_consts + 1));
    for (int i = 0; i < S->p->n_consts; i++)
      names[i] = S->p->consts[i].name;
    diag_error(a->loc, "unknown name '%s'; %s must be a number or a const%s",
               a->text, what, suggest(a->text, names));
    return false;
  }
  c->compile_time = true;
  if (!(c->folded > 0)) {
    diag_error(a->loc, "%s must be a positive number; const '%s' is %g", what,
               c->name, c->folded);
    return false;
  }
  *out = c->folded;
  return true;
}

static bool check_init_value(Sema *S, const Atom *a, bool is_bias,
                             bool is_output_bias, InitSpec *spec) {
  if (a->kind == AT_NUMBER) {
    spec->kind = a->number == 0 ? INIT_ZERO : INIT_CONSTANT;
    spec->value = a->number;
    return true;
  }
  if (a->kind != AT_CALL) {
    diag_error(a->loc, "expected an initialization: a number, sparse(...), "
                       "gaussian(...) or mean(targets)");
    return false;
  }
  Loc name_loc = a->loc;
  name_loc.length = (int)strlen(a->text);
  if (strcmp(a->text, "mean") == 0) {
    if (!is_output_bias) {
      diag_error(a->loc, "mean(targets) initializes output biases only");
      return false;
    }
    if (count_atoms(a->items) != 1 || a->items->kind != AT_NAME ||
        strcmp(a->items->text, "targets") != 0) {
      diag_error(a->loc, "write mean(targets)");
      return false;
    }
    spec->kind = INIT_TARGET_MEAN;
    return true;
  }
  bool sparse = strcmp(a->text, "sparse") == 0;
  if (!sparse && strcmp(a->text, "gaussian") != 0) {
    const char *const *inits = initialization_names();
    diag_error(name_loc, "unknown initialization '%s'; expected %s%s", a->text,
               one_of(inits), suggest(a->text, inits));
    return false;
  }
  if (is_bias && sparse) {
    diag_error(name_loc, "biases cannot be sparse; give a number");
    return false;
  }
  spec->kind = sparse ? INIT_SPARSE : INIT_GAUSSIAN;
  spec->fan_in = 15; /* sec. 3.1 */
  spec->scale = 1;
  bool have_fan_in = false, have_scale = false;
  int position = 0;
  for (const Atom *arg = a->items; arg; arg = arg->next, position++) {
    const char *key = arg->key;
    if (!key && position >= (sparse ? 2 : 1)) {
      diag_error(arg->loc, "%s takes at most %s; write: %s", a->text,
                 sparse ? "two arguments" : "one argument",
                 sparse ? "sparse(fan_in 15, scale 1.0)" : "gaussian(0.01)");
      return false;
    }
    if (!key) /* positional: sparse(15), sparse(15, 0.5), gaussian(0.01) */
      key = sparse ? (position == 0 ? "fan_in" : "scale") : "std";
    bool is_fan_in = sparse && strcmp(key, "fan_in") == 0;
    if (!is_fan_in && strcmp(key, sparse ? "scale" : "std") != 0) {
      diag_error(arg->key_loc, "unknown argument '%s' of %s; expected %s", key,
                 a->text, sparse ? "fan_in and scale" : "std");
      return false;
    }
    if (is_fan_in ? have_fan_in : have_scale) {
      diag_error(arg->key ? arg->key_loc : arg->loc,
                 "argument '%s' is given twice", key);
      return false;
    }
    long n;
    if (is_fan_in) {
      if (!positive_int(arg, "fan_in", 1000000, &n))
        return false;
      spec->fan_in = (int)n;
      have_fan_in = true;
    } else {
      if (!init_number(S, arg, key, &spec->scale))
        return false;
      have_scale = true;
    }
  }
  if (!sparse && !have_scale) {
    diag_error(a->loc, "gaussian needs its standard deviation: gaussian(0.01)");
    return false;
  }
  return true;
}

/* The paper's defaults: sparse weights and zero biases for feed-forward
 * nets (sec. 3.1); for recurrent nets Table 4, with the input-to-hidden
 * scale of the addition and multiplication problems. */
static void default_init(Program *p) {
  for (int i = 0; i < p->n_blocks; i++) {
    Block *b = &p->blocks[i];
    b->init = b->kind != BLOCK_WEIGHTS
                  ? (InitSpec){.kind = INIT_ZERO}
                  : (InitSpec){.kind = INIT_SPARSE, .fan_in = 15, .scale = 1};
    if (!p->is_recurrent)
      continue;
    if (strcmp(b->name, "input_to_hidden") == 0)
      b->init = (InitSpec){.kind = INIT_GAUSSIAN, .scale = 0.001};
    else if (strcmp(b->name, "hidden_to_hidden") == 0)
      b->init.radius = 1.1;
    else if (strcmp(b->name, "hidden_to_output") == 0)
      b->init = (InitSpec){.kind = INIT_GAUSSIAN, .scale = 0.1};
    else if (strcmp(b->name, "output_bias") == 0)
      b->init = (InitSpec){.kind = INIT_TARGET_MEAN};
  }
}

/* `... spectral_radius R` after an initialization: only for a square
 * block (sec. 4.1 rescales the hidden-to-hidden matrix to radius 1.1). */
static bool check_spectral_radius(Sema *S, const Stmt *s, const Block *named,
                                  InitSpec *spec) {
  const Atom *key = s->atoms->next, *value = key->next;
  if (!named || named->kind != BLOCK_WEIGHTS || named->from != named->to) {
    diag_error(key->loc,
               "spectral_radius rescales a square matrix, the "
               "hidden_to_hidden weights of a recurrent net; '%s' is none",
               s->head);
    return false;
  }
  if (!value || value->next) {
    diag_error(value ? value->next->loc : key->loc,
               "write: %s sparse(fan_in 15) spectral_radius 1.1", s->head);
    return false;
  }
  return init_number(S, value, "the spectral radius", &spec->radius);
}

void check_init(Sema *S, const Item *init) {
  Program *p = S->p;
  if (p->net_kind == NET_QUADRATIC) {
    check_quadratic_init(S, init);
    return;
  }
  default_init(p);
  if (!init)
    return;
  Block *out_bias = &p->blocks[p->n_blocks - 1];
  for (const Stmt *s = init->body; s; s = s->next) {
    if (repeated(s, init->body))
      continue;
    /* The targets: every weight block, every bias, the output bias, or one
     * block by name. Later lines override earlier ones. */
    bool all_weights = strcmp(s->head, "weights") == 0;
    bool all_biases = strcmp(s->head, "biases") == 0;
    bool output_bias =
        strcmp(s->head, "output_bias") == 0 || strcmp(s->head, "out_bias") == 0;
    Block *named = NULL;
    for (int i = 0; i < p->n_blocks; i++)
      if (strcmp(p->blocks[i].name, s->head) == 0)
        named = &p->blocks[i];
    if (output_bias)
      named = out_bias;
    if (!all_weights && !all_biases && !named) {
      /* The statements of statements.c's init body, then the blocks. */
      const char *const *heads = body_heads(body_named("init"));
      const char **names =
          arena_alloc(sizeof(char *) * (size_t)(p->n_blocks + 8));
      int n = 0;
      for (; heads[n] && strcmp(heads[n], "BLOCK") != 0; n++)
        names[n] = heads[n];
      for (int i = 0; i < p->n_blocks; i++)
        names[n + i] = p->blocks[i].name;
      diag_error(s->loc,
                 "unknown parameter '%s' in init; expected weights, biases, "
                 "output_bias or a block of net '%s' such as %s%s",
                 s->head, p->net_name, p->blocks[0].name,
                 suggest(s->head, names));
      continue;
    }
    bool is_bias = all_biases || (named && named->kind != BLOCK_WEIGHTS);
    const char *example =
        is_bias ? arena_printf("%s 0", s->head)
                : arena_printf("%s sparse(fan_in 15, scale 1.0)", s->head);
    const Atom *second = s->atoms ? s->atoms->next : NULL;
    bool with_radius = second && second->kind == AT_NAME &&
                       strcmp(second->text, "spectral_radius") == 0;
    if (!with_radius && !word_count(s, 1, example))
      continue;
    InitSpec spec = {.loc = s->loc};
    if (!check_init_value(S, s->atoms, is_bias, named == out_bias, &spec))
      continue;
    if (with_radius && !check_spectral_radius(S, s, named, &spec))
      continue;
    for (int i = 0; i < p->n_blocks; i++) {
      Block *b = &p->blocks[i];
      if ((all_weights && b->kind == BLOCK_WEIGHTS) ||
          (all_biases && b->kind == BLOCK_BIAS) || b == named)
        b->init = spec;
    }
    /* A sparse fan-in above the layer below is clamped: each unit then
     * connects to every unit below (sec. 3.1). Said aloud only when one
     * block was named, since `weights sparse(15)` meets small layers (the
     * code layer of CURVES) by design. */
    if (named && spec.kind == INIT_SPARSE && spec.fan_in > named->rows)
      diag_warning(s->atoms->loc,
                   "fan_in %d is larger than layer '%s' (%s); each unit of "
                   "'%s' gets %s",
                   spec.fan_in, p->layers[named->from].name,
                   count_of(named->rows, "unit"), p->layers[named->to].name,
                   named->rows == 1
                       ? "its one connection"
                       : arena_printf("all %ld connections", named->rows));
  }
}
