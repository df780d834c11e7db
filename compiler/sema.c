/* sema.c — semantic checks: names, sizes, initializations, schedules.
 *
 * The parser accepts any line of words in a net or init body; this pass
 * decides what the words mean, says precisely what is wrong when they mean
 * nothing, and builds the Program that the emitters read. It reports as many
 * errors as it can find in one run. */
#include "mdlc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mdl/data.h"
#include "mdl/npy.h"

typedef struct {
  Program *p;
  const Item *data, *net, *init, *train;
  int errors_before; /* diag_error_count when the check began */
  /* Consts whose declaration was in error (already reported): their uses
   * are not reported again as unknown names. */
  const char **bad_consts;
  int n_bad_consts;
} Sema;

/* ---- small helpers ---- */

/* Insertions, deletions, substitutions and swaps of neighbours
 * ("caess" is one edit from "cases"). */
static int edit_distance(const char *a, const char *b) {
  int la = (int)strlen(a), lb = (int)strlen(b);
  if (la > 30 || lb > 30)
    return 99;
  int d[32][32];
  for (int i = 0; i <= la; i++)
    d[i][0] = i;
  for (int j = 0; j <= lb; j++)
    d[0][j] = j;
  for (int i = 1; i <= la; i++)
    for (int j = 1; j <= lb; j++) {
      int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < best)
        best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best)
        best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[la][lb];
}

/* "; did you mean 'sigmoid'?" when a candidate is close, else "": within
 * one edit for words of up to five letters, two for longer ones, none for
 * words of one or two letters (every short name is close to them). */
static const char *suggest(const char *word, const char *const *candidates) {
  const char *best = NULL;
  size_t length = strlen(word);
  int best_distance = length < 3 ? 0 : length <= 5 ? 2 : 3;
  for (int i = 0; candidates[i]; i++) {
    int d = edit_distance(word, candidates[i]);
    if (d < best_distance) {
      best_distance = d;
      best = candidates[i];
    }
  }
  return best ? arena_printf("; did you mean '%s'?", best) : "";
}

/* "a, b or c" */
static const char *one_of(const char *const *candidates) {
  const char *s = "";
  for (int i = 0; candidates[i]; i++)
    s = arena_printf("%s%s%s", s,
                     i == 0              ? ""
                     : candidates[i + 1] ? ", "
                                         : " or ",
                     candidates[i]);
  return s;
}

static int find_word(const char *word, const char *const *candidates) {
  for (int i = 0; candidates[i]; i++)
    if (strcmp(word, candidates[i]) == 0)
      return i;
  return -1;
}

static const char *atom_text(const Atom *a) {
  switch (a->kind) {
  case AT_NAME:
    return a->text;
  case AT_NUMBER:
    return arena_printf("%g", a->number);
  case AT_STRING:
    return "a string";
  case AT_LIST:
    return "a list";
  case AT_CALL:
    return arena_printf("%s(...)", a->text);
  }
  return "?";
}

/* An atom after "unexpected": 28, softmax, list, string. */
static const char *atom_noun(const Atom *a) {
  return a->kind == AT_LIST     ? "list"
         : a->kind == AT_STRING ? "string"
                                : atom_text(a);
}

/* A positive integer such as a layer size; reports and returns false if not. */
static bool positive_int(const Atom *a, const char *what, long max, long *out) {
  if (!a) {
    return false;
  }
  if (a->kind != AT_NUMBER) {
    diag_error(a->loc, "%s must be a positive integer, not %s", what,
               atom_text(a));
    return false;
  }
  if (a->number < 1 || a->number != floor(a->number)) {
    diag_error(a->loc, "%s must be a positive integer, not %g", what,
               a->number);
    return false;
  }
  if (a->number > (double)max) {
    diag_error(a->loc, "%s of %.15g is too large (at most %ld)", what,
               a->number, max);
    return false;
  }
  if (!a->is_integer) {
    diag_error(a->loc,
               "%s must be written as an integer (%.15g), without '.' or an "
               "exponent",
               what, a->number);
    return false;
  }
  *out = (long)a->number;
  return true;
}

static bool positive_real(const Atom *a, const char *what, double *out) {
  if (a->kind != AT_NUMBER || !(a->number > 0) || !isfinite(a->number)) {
    diag_error(a->loc, "%s must be a positive number, not %s", what,
               atom_text(a));
    return false;
  }
  *out = a->number;
  return true;
}

static int count_atoms(const Atom *a) {
  int n = 0;
  for (; a; a = a->next)
    n++;
  return n;
}

/* Reports a statement whose head has been seen before in the same body. */
static bool repeated(const Stmt *s, const Stmt *body) {
  for (const Stmt *prev = body; prev != s; prev = prev->next)
    if (strcmp(prev->head, s->head) == 0) {
      diag_error(s->loc, "'%s' is given twice", s->head);
      diag_note(prev->loc, "first given here");
      return true;
    }
  return false;
}

/* ---- expressions ---- */

static const char *const functions1[] = {"floor", "ceil", "log2", "log",
                                         "exp",   "sqrt", "abs",  NULL};
static const char *const functions_n[] = {"min", "max", NULL};

static const Const *find_const(const Program *p, const char *name) {
  for (int i = 0; i < p->n_consts; i++)
    if (strcmp(p->consts[i].name, name) == 0)
      return &p->consts[i];
  return NULL;
}

bool expr_uses_t(const Expr *e) {
  if (!e)
    return false;
  if (e->kind == EX_NAME)
    return strcmp(e->name, "t") == 0;
  if (expr_uses_t(e->lhs) || expr_uses_t(e->rhs) || expr_uses_t(e->cond))
    return true;
  for (const Expr *a = e->args; a; a = a->next)
    if (expr_uses_t(a))
      return true;
  return false;
}

typedef enum { TY_ERROR, TY_NUMBER, TY_BOOL } Type;

static bool is_comparison(BinaryOp op) { return op >= OP_LT && op <= OP_NE; }

/* Checks names, calls and types. `fixed` is NULL where the expression may
 * use t and steps, else what it is for, in messages ("a const"). */
static Type check_expr(Sema *S, const Expr *e, const char *fixed) {
  switch (e->kind) {
  case EX_NUMBER:
    if (!isfinite(e->number)) {
      diag_error(e->loc, "this number is too large");
      return TY_ERROR;
    }
    return TY_NUMBER;
  case EX_NAME:
    if (strcmp(e->name, "t") == 0 || strcmp(e->name, "steps") == 0) {
      if (fixed) {
        diag_error(e->loc,
                   "%s must be known when compiling, so it cannot use '%s'",
                   fixed, e->name);
        return TY_ERROR;
      }
      return TY_NUMBER;
    }
    if (find_const(S->p, e->name))
      return TY_NUMBER;
    for (int i = 0; i < S->n_bad_consts; i++)
      if (strcmp(S->bad_consts[i], e->name) == 0)
        return TY_ERROR;
    const char **names =
        arena_alloc(sizeof(char *) * (size_t)(S->p->n_consts + 3));
    names[0] = "t";
    names[1] = "steps";
    for (int i = 0; i < S->p->n_consts; i++)
      names[2 + i] = S->p->consts[i].name;
    diag_error(e->loc,
               "unknown name '%s'; an expression may use t (the update "
               "counter), steps (the number of updates) and consts declared "
               "above it%s",
               e->name, suggest(e->name, names));
    return TY_ERROR;
  case EX_NEG:
  case EX_NOT: {
    Type t = check_expr(S, e->lhs, fixed);
    Type want = e->kind == EX_NEG ? TY_NUMBER : TY_BOOL;
    if (t != TY_ERROR && t != want) {
      diag_error(e->loc, e->kind == EX_NEG ? "cannot negate a condition"
                                           : "'not' needs a condition");
      return TY_ERROR;
    }
    return t;
  }
  case EX_BINARY: {
    Type l = check_expr(S, e->lhs, fixed);
    Type r = check_expr(S, e->rhs, fixed);
    if (l == TY_ERROR || r == TY_ERROR)
      return TY_ERROR;
    Type want = (e->op == OP_AND || e->op == OP_OR) ? TY_BOOL : TY_NUMBER;
    if (l != want || r != want) {
      diag_error(e->loc, "'%s' needs %s on both sides", binary_op_text(e->op),
                 want == TY_BOOL ? "conditions" : "numbers");
      return TY_ERROR;
    }
    return is_comparison(e->op) || want == TY_BOOL ? TY_BOOL : TY_NUMBER;
  }
  case EX_CALL: {
    int n = 0;
    Type result = TY_NUMBER;
    for (const Expr *a = e->args; a; a = a->next, n++) {
      Type t = check_expr(S, a, fixed);
      if (t == TY_ERROR)
        result = TY_ERROR;
      else if (t == TY_BOOL) {
        diag_error(a->loc, "'%s' needs numbers, not a condition", e->name);
        result = TY_ERROR;
      }
    }
    Loc name_loc = e->loc;
    name_loc.length = (int)strlen(e->name);
    if (find_word(e->name, functions1) >= 0) {
      if (n != 1) {
        diag_error(name_loc, "'%s' takes one argument, not %d", e->name, n);
        return TY_ERROR;
      }
    } else if (find_word(e->name, functions_n) >= 0) {
      if (n < 2) {
        diag_error(name_loc, "'%s' takes two or more arguments", e->name);
        return TY_ERROR;
      }
    } else {
      static const char *const all[] = {"min", "max", "floor", "ceil", "log2",
                                        "log", "exp", "sqrt",  "abs",  NULL};
      diag_error(name_loc, "unknown function '%s'%s", e->name,
                 suggest(e->name, all));
      return TY_ERROR;
    }
    return result;
  }
  case EX_COND: {
    Type c = check_expr(S, e->cond, fixed);
    Type l = check_expr(S, e->lhs, fixed);
    Type r = check_expr(S, e->rhs, fixed);
    if (c == TY_NUMBER) {
      diag_error(e->cond->loc,
                 "the condition after 'if' must be a comparison such as "
                 "t < 1000");
      return TY_ERROR;
    }
    if (c == TY_ERROR || l == TY_ERROR || r == TY_ERROR)
      return TY_ERROR;
    if (l != TY_NUMBER || r != TY_NUMBER) {
      diag_error(e->loc, "both branches of 'if ... else' must be numbers");
      return TY_ERROR;
    }
    return TY_NUMBER;
  }
  }
  return TY_ERROR;
}

double expr_eval(const Program *p, const Expr *e, double t) {
  switch (e->kind) {
  case EX_NUMBER:
    return e->number;
  case EX_NAME:
    if (strcmp(e->name, "t") == 0)
      return t;
    if (strcmp(e->name, "steps") == 0)
      return (double)p->steps;
    return find_const(p, e->name)->folded;
  case EX_NEG:
    return -expr_eval(p, e->lhs, t);
  case EX_NOT:
    return !expr_eval(p, e->lhs, t);
  case EX_BINARY: {
    double a = expr_eval(p, e->lhs, t), b = expr_eval(p, e->rhs, t);
    switch (e->op) {
    case OP_ADD:
      return a + b;
    case OP_SUB:
      return a - b;
    case OP_MUL:
      return a * b;
    case OP_DIV:
      return a / b;
    case OP_POW:
      return pow(a, b);
    case OP_LT:
      return a < b;
    case OP_LE:
      return a <= b;
    case OP_GT:
      return a > b;
    case OP_GE:
      return a >= b;
    case OP_EQ:
      return a == b;
    case OP_NE:
      return a != b;
    case OP_AND:
      return a && b;
    case OP_OR:
      return a || b;
    }
    return NAN;
  }
  case EX_CALL: {
    double x = expr_eval(p, e->args, t);
    const char *f = e->name;
    if (strcmp(f, "min") == 0 || strcmp(f, "max") == 0) {
      for (const Expr *a = e->args->next; a; a = a->next)
        x = f[1] == 'i' ? fmin(x, expr_eval(p, a, t))
                        : fmax(x, expr_eval(p, a, t));
      return x;
    }
    if (strcmp(f, "floor") == 0)
      return floor(x);
    if (strcmp(f, "ceil") == 0)
      return ceil(x);
    if (strcmp(f, "log2") == 0)
      return log2(x);
    if (strcmp(f, "log") == 0)
      return log(x);
    if (strcmp(f, "exp") == 0)
      return exp(x);
    if (strcmp(f, "sqrt") == 0)
      return sqrt(x);
    return fabs(x);
  }
  case EX_COND:
    return expr_eval(p, e->cond, t) ? expr_eval(p, e->lhs, t)
                                    : expr_eval(p, e->rhs, t);
  }
  return NAN;
}

/* Checks an expression whose value must be a number. */
static bool check_number(Sema *S, const Expr *e, const char *what,
                         const char *fixed) {
  Type t = check_expr(S, e, fixed);
  if (t == TY_BOOL)
    diag_error(e->loc, "%s must be a number, not a condition", what);
  return t == TY_NUMBER;
}

/* ---- consts ---- */

/* Consts become C variables of the generated program; these names are
 * taken there (C's keywords, the math library, the program's own). */
static bool reserved_name(const char *name) {
  static const char *const taken[] = {"auto",
                                      "break",
                                      "case",
                                      "char",
                                      "const",
                                      "continue",
                                      "default",
                                      "do",
                                      "double",
                                      "else",
                                      "enum",
                                      "extern",
                                      "float",
                                      "for",
                                      "goto",
                                      "if",
                                      "inline",
                                      "int",
                                      "long",
                                      "register",
                                      "restrict",
                                      "return",
                                      "short",
                                      "signed",
                                      "sizeof",
                                      "static",
                                      "struct",
                                      "switch",
                                      "typedef",
                                      "union",
                                      "unsigned",
                                      "void",
                                      "volatile",
                                      "while",
                                      "main",
                                      "exp",
                                      "log",
                                      "log2",
                                      "log1p",
                                      "pow",
                                      "floor",
                                      "ceil",
                                      "sqrt",
                                      "fabs",
                                      "fmin",
                                      "fmax",
                                      "tanh",
                                      "atanh",
                                      "printf",
                                      "epsilon",
                                      "mu",
                                      "n_steps",
                                      "blocks",
                                      "ones",
                                      "settings",
                                      "info",
                                      "opts",
                                      "data",
                                      "err",
                                      "theta",
                                      "a",
                                      "d",
                                      "forward",
                                      "backward",
                                      "measure",
                                      "initialize",
                                      "update",
                                      "train",
                                      "evaluate",
                                      "epsilon_at",
                                      "mu_at",
                                      "output_units",
                                      "output_delta",
                                      "load_cases",
                                      "new_activations",
                                      "new_deltas",
                                      "check_loss",
                                      "check_gradient",
                                      "check_gradients",
                                      "sgd_step",
                                      "cm_step",
                                      "nag_step",
                                      "lookahead_point",
                                      "parameters_from_lookahead",
                                      NULL};
  return find_word(name, taken) >= 0 || strncmp(name, "mdl_", 4) == 0 ||
         name[0] == '_';
}

static void check_consts(Sema *S, const Ast *ast) {
  int n = 0;
  for (const Item *it = ast->items; it; it = it->next)
    n += it->kind == IT_CONST;
  S->p->consts = arena_alloc(sizeof(Const) * (size_t)(n + 1));
  S->bad_consts = arena_alloc(sizeof(char *) * (size_t)(n + 1));
  for (const Item *it = ast->items; it; it = it->next) {
    if (it->kind != IT_CONST)
      continue;
    if (strcmp(it->name, "t") == 0 || strcmp(it->name, "steps") == 0) {
      diag_error(it->name_loc, "'%s' is a built-in name; choose another",
                 it->name);
      continue;
    }
    if (reserved_name(it->name)) {
      diag_error(it->name_loc,
                 "'%s' is a name the generated C uses; choose another",
                 it->name);
      S->bad_consts[S->n_bad_consts++] = it->name;
      continue;
    }
    const Const *old = find_const(S->p, it->name);
    if (old) {
      diag_error(it->name_loc, "const '%s' is declared twice", it->name);
      diag_note(old->loc, "first declared here");
      continue;
    }
    if (!check_number(S, it->value, "a const", "a const")) {
      S->bad_consts[S->n_bad_consts++] = it->name;
      continue;
    }
    double v = expr_eval(S->p, it->value, 0);
    if (!isfinite(v)) {
      diag_error(it->value->loc, "const '%s' evaluates to %g", it->name, v);
      S->bad_consts[S->n_bad_consts++] = it->name;
      continue;
    }
    Const *c = &S->p->consts[S->p->n_consts++];
    c->name = it->name;
    c->loc = it->name_loc;
    c->value = it->value;
    c->folded = v;
  }
}

/* ---- data ---- */

/* One argument of a data source: its value, by key or by position. */
static const Atom *data_arg(const Atom *args, const char *key) {
  for (const Atom *a = args; a; a = a->next)
    if (a->key && strcmp(a->key, key) == 0)
      return a;
  return NULL;
}

static void check_data(Sema *S, const Item *it) {
  Program *p = S->p;
  static const char *const sources[] = {"curves", "idx", "npy", NULL};
  static const char *const keys[][6] = {
      {"cases", "seed", NULL},
      {"images", "labels", "cases", "classes", NULL},
      {"file", "inputs", "targets", "cases", NULL},
  };
  p->data_name = it->name;
  int kind = find_word(it->kind_name, sources);
  if (kind < 0) {
    diag_error(it->kind_loc, "unknown data source '%s'; expected %s%s",
               it->kind_name, one_of(sources), suggest(it->kind_name, sources));
    return;
  }
  p->data_kind = (DataKind)kind;
  int position = 0;
  for (const Atom *a = it->args; a; a = a->next) {
    if (!a->key) {
      /* A bare value is the source's first argument: npy("faces.npy"). */
      if (kind == DATA_NPY && position == 0 && a->kind == AT_STRING) {
        p->npy_path = a->text;
        position++;
        continue;
      }
      diag_error(a->loc, "this argument of %s needs a name: %s", it->kind_name,
                 one_of(keys[kind]));
      continue;
    }
    if (find_word(a->key, keys[kind]) < 0) {
      diag_error(a->key_loc, "unknown argument '%s' of %s; expected %s%s",
                 a->key, it->kind_name, one_of(keys[kind]),
                 suggest(a->key, keys[kind]));
      continue;
    }
    if (data_arg(it->args, a->key) != a) {
      diag_error(a->key_loc, "argument '%s' is given twice", a->key);
      continue;
    }
    long n;
    if (strcmp(a->key, "cases") == 0) {
      if (positive_int(a, "the number of cases", 100000000, &n))
        p->n_cases = (int)n;
    } else if (strcmp(a->key, "classes") == 0) {
      if (positive_int(a, "the number of classes", 100000, &n))
        p->n_classes = (int)n;
    } else if (strcmp(a->key, "seed") == 0) {
      if (a->kind != AT_NUMBER || !a->is_integer || a->number < 0 ||
          a->number > (double)(1L << 62))
        diag_error(a->loc, "a seed must be an integer from 0 to 2^62");
      else
        p->data_seed = (long)a->number;
    } else if (a->kind != AT_STRING) {
      diag_error(a->loc, "'%s' must be a file name in double quotes", a->key);
    } else if (strcmp(a->key, "images") == 0) {
      p->images_path = a->text;
    } else if (strcmp(a->key, "labels") == 0) {
      p->labels_path = a->text;
    } else if (strcmp(a->key, "targets") == 0) {
      p->targets_path = a->text;
    } else if (p->npy_path) {
      diag_error(a->key_loc, "npy takes one file of inputs ('file' and "
                             "'inputs' name the same thing)");
    } else {
      p->npy_path = a->text;
    }
  }
  if (kind == DATA_CURVES && p->n_cases == 0)
    p->n_cases = 20000; /* the size of the original training set */
  if (kind == DATA_IDX && !p->images_path)
    diag_error(it->kind_loc,
               "idx needs the file of images: idx(images \"...\")");
  if (kind == DATA_NPY && !p->npy_path)
    diag_error(it->kind_loc, "npy needs a file of inputs: npy(\"cases.npy\") "
                             "or npy(inputs \"x.npy\", targets \"y.npy\")");
}

/* ---- nets ---- */

static const char *const activations[] = {"sigmoid", "tanh", "linear",
                                          "softmax", NULL};

static bool check_activation(const Atom *a, Activation *act) {
  if (!a || a->kind != AT_NAME) {
    diag_error(a->loc, "expected an activation (%s), not %s",
               one_of(activations), atom_text(a));
    return false;
  }
  int i = find_word(a->text, activations);
  if (i < 0) {
    diag_error(a->loc, "unknown activation '%s'; expected %s%s", a->text,
               one_of(activations), suggest(a->text, activations));
    return false;
  }
  *act = (Activation)i;
  return true;
}

/* Softmax couples the units of a layer; as a hidden layer it would need a
 * Jacobian-vector product in backprop that no experiment here uses. */
static bool hidden_activation(const Atom *a, Activation act) {
  if (act != ACT_SOFTMAX)
    return true;
  diag_error(a->loc, "softmax units are only supported in the output layer");
  return false;
}

/* Layers being collected; the net's checks add to it in order. */
typedef struct {
  Layer *layers;
  int n, cap;
} LayerList;

static void add_layer(LayerList *list, const char *name, int size,
                      Activation act) {
  if (list->n == list->cap) {
    list->cap = list->cap ? 2 * list->cap : 16;
    Layer *grown = arena_alloc(sizeof(Layer) * (size_t)list->cap);
    if (list->n)
      memcpy(grown, list->layers, sizeof(Layer) * (size_t)list->n);
    list->layers = grown;
  }
  list->layers[list->n++] = (Layer){.name = name, .size = size, .act = act};
}

/* `ACT [n, n, ...]` or `ACT n`: hidden layers named prefix1, prefix2, ... */
static bool check_layer_group(const Stmt *s, const char *prefix, int *count,
                              LayerList *list) {
  Activation act;
  const Atom *a = s->atoms;
  if (!a) {
    diag_error(s->loc,
               "'%s' needs an activation and sizes, e.g. %s sigmoid "
               "[400, 200]",
               s->head, s->head);
    return false;
  }
  if (!check_activation(a, &act) || !hidden_activation(a, act))
    return false;
  const Atom *sizes = a->next;
  if (!sizes) {
    diag_error(s->loc, "'%s %s' needs layer sizes", s->head, a->text);
    return false;
  }
  if (sizes->next) {
    diag_error(sizes->next->loc, "unexpected %s after the sizes",
               atom_noun(sizes->next));
    return false;
  }
  const Atom *first = sizes->kind == AT_LIST ? sizes->items : sizes;
  bool ok = true;
  for (const Atom *n = first; n; n = sizes->kind == AT_LIST ? n->next : NULL) {
    long size;
    if (!positive_int(n, "a layer size", 1000000, &size)) {
      ok = false;
      continue;
    }
    add_layer(list, arena_printf("%s%d", prefix, ++*count), (int)size, act);
  }
  return ok;
}

static const Stmt *find_stmt(const Stmt *body, const char *head) {
  for (const Stmt *s = body; s; s = s->next)
    if (strcmp(s->head, head) == 0)
      return s;
  return NULL;
}

/* Checks that a statement has exactly `want` words after its head. */
static bool word_count(const Stmt *s, int want, const char *example) {
  int n = count_atoms(s->atoms);
  if (n == want)
    return true;
  if (n > want) {
    const Atom *extra = s->atoms;
    for (int i = 0; i < want; i++)
      extra = extra->next;
    diag_error(extra->loc, "unexpected %s; write: %s", atom_noun(extra),
               example);
  } else {
    diag_error(s->loc, "'%s' is incomplete; write: %s", s->head, example);
  }
  return false;
}

static bool check_net_body(Sema *S, const Item *net) {
  Program *p = S->p;
  static const char *const kinds[] = {"autoencoder", "feedforward", NULL};
  int kind = find_word(net->kind_name, kinds);
  if (kind < 0) {
    diag_error(net->kind_loc, "unknown kind of net '%s'; expected %s%s",
               net->kind_name, one_of(kinds), suggest(net->kind_name, kinds));
    return false;
  }
  p->is_autoencoder = kind == 0;
  p->net_name = net->name;
  static const char *const ae_words[] = {"input",  "encoder", "code", "decoder",
                                         "output", "loss",    NULL};
  static const char *const ff_words[] = {"input",  "layer", "hidden",
                                         "output", "loss",  NULL};
  const char *const *words = p->is_autoencoder ? ae_words : ff_words;

  bool ok = true;
  for (const Stmt *s = net->body; s; s = s->next) {
    if (find_word(s->head, words) < 0) {
      diag_error(s->loc, "unknown statement '%s' in %s '%s'; expected %s%s",
                 s->head, net->kind_name, net->name, one_of(words),
                 suggest(s->head, words));
      ok = false;
    } else if (strcmp(s->head, "layer") && strcmp(s->head, "hidden") &&
               repeated(s, net->body)) {
      ok = false;
    }
  }
  if (!ok)
    return false;

  LayerList list = {0};
  long input_size = 0;
  const Stmt *input = find_stmt(net->body, "input");
  if (!input) {
    diag_error(net->name_loc, "net '%s' has no 'input' size", net->name);
    return false;
  }
  if (!word_count(input, 1, "input 784") ||
      !positive_int(input->atoms, "the input size", 1000000, &input_size))
    return false;
  add_layer(&list, "input", (int)input_size, ACT_LINEAR);

  Activation out_act = ACT_SIGMOID;
  long out_size = 0;
  const Stmt *output = find_stmt(net->body, "output");
  if (!output) {
    diag_error(net->name_loc, "net '%s' has no 'output' layer", net->name);
    return false;
  }

  if (p->is_autoencoder) {
    const Stmt *enc = find_stmt(net->body, "encoder");
    const Stmt *code = find_stmt(net->body, "code");
    const Stmt *dec = find_stmt(net->body, "decoder");
    int n_enc = 0, n_dec = 0;
    if (enc && !check_layer_group(enc, "enc", &n_enc, &list))
      return false;
    Activation code_act;
    long code_size;
    if (!code) {
      diag_error(net->name_loc,
                 "autoencoder '%s' has no 'code' layer (e.g. code linear 6)",
                 net->name);
      return false;
    }
    if (!word_count(code, 2, "code linear 6") ||
        !check_activation(code->atoms, &code_act) ||
        !hidden_activation(code->atoms, code_act) ||
        !positive_int(code->atoms->next, "the code size", 1000000, &code_size))
      return false;
    add_layer(&list, "code", (int)code_size, code_act);
    if (!dec || (dec->atoms && dec->atoms->kind == AT_NAME &&
                 strcmp(dec->atoms->text, "mirror") == 0)) {
      if (dec && !word_count(dec, 1, "decoder mirror"))
        return false;
      /* The decoder mirrors the encoder: its layers in reverse order. */
      for (int i = n_enc; i >= 1; i--)
        add_layer(&list, arena_printf("dec%d", n_enc - i + 1),
                  list.layers[i].size, list.layers[i].act);
    } else if (!check_layer_group(dec, "dec", &n_dec, &list)) {
      return false;
    }
    if (!output->atoms || count_atoms(output->atoms) > 2) {
      word_count(output, output->atoms ? 2 : 1, "output sigmoid");
      return false;
    }
    if (!check_activation(output->atoms, &out_act))
      return false;
    out_size = input_size;
    if (output->atoms->next) {
      long n;
      if (!positive_int(output->atoms->next, "the output size", 1000000, &n))
        return false;
      if (n != input_size) {
        diag_error(output->atoms->next->loc,
                   "an autoencoder reconstructs its input: its output must "
                   "have %ld units like its input, not %ld",
                   input_size, n);
        return false;
      }
    }
  } else {
    int n_hid = 0;
    for (const Stmt *s = net->body; s; s = s->next) {
      if (strcmp(s->head, "hidden") == 0 &&
          !check_layer_group(s, "hid", &n_hid, &list))
        return false;
      if (strcmp(s->head, "layer") == 0) {
        if (!word_count(s, 2, "layer sigmoid 500"))
          return false;
        if (s->atoms->next->kind == AT_LIST) {
          diag_error(s->atoms->next->loc,
                     "'layer' takes one size; for several layers write: "
                     "hidden %s [...]",
                     atom_text(s->atoms));
          return false;
        }
        if (!check_layer_group(s, "hid", &n_hid, &list))
          return false;
      }
    }
    if (!word_count(output, 2, "output softmax 10") ||
        !check_activation(output->atoms, &out_act) ||
        !positive_int(output->atoms->next, "the output size", 1000000,
                      &out_size))
      return false;
  }
  add_layer(&list, "output", (int)out_size, out_act);

  /* The loss: given, or the one that matches the output units. */
  p->loss = out_act == ACT_SIGMOID || out_act == ACT_SOFTMAX
                ? LOSS_CROSS_ENTROPY
                : LOSS_SQUARED;
  const Stmt *loss = find_stmt(net->body, "loss");
  if (loss) {
    static const char *const losses[] = {"cross_entropy", "squared", NULL};
    if (!word_count(loss, 1, "loss cross_entropy"))
      return false;
    const Atom *a = loss->atoms;
    int i = a->kind == AT_NAME ? find_word(a->text, losses) : -1;
    if (i < 0) {
      diag_error(a->loc, "unknown loss '%s'; expected %s%s", atom_text(a),
                 one_of(losses),
                 a->kind == AT_NAME ? suggest(a->text, losses) : "");
      return false;
    }
    p->loss = (Loss)i;
    if (p->loss == LOSS_CROSS_ENTROPY && out_act != ACT_SIGMOID &&
        out_act != ACT_SOFTMAX) {
      diag_error(a->loc,
                 "cross_entropy needs sigmoid or softmax output units, but "
                 "the output layer is %s; use loss squared",
                 activation_name(out_act));
      return false;
    }
    if (p->loss == LOSS_SQUARED && out_act == ACT_SOFTMAX) {
      diag_error(a->loc, "softmax outputs are trained with cross_entropy, "
                         "not squared error");
      return false;
    }
  }
  if (out_act == ACT_SOFTMAX && out_size < 2) {
    diag_error(output->loc, "a softmax output needs at least 2 units");
    return false;
  }
  p->layers = list.layers;
  p->n_layers = list.n;
  model_layout(p);
  if (p->n_params > 400000000L) {
    diag_error(net->name_loc,
               "net '%s' has %ld parameters; mdlc allows at "
               "most 400 million",
               net->name, p->n_params);
    return false;
  }
  return true;
}

/* ---- initialization ---- */

static bool check_init_value(const Atom *a, bool is_bias, bool is_output_bias,
                             InitSpec *spec) {
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
    static const char *const inits[] = {"sparse", "gaussian", "mean", NULL};
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
      if (!positive_real(arg, key, &spec->scale))
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

static void check_init(Sema *S, const Item *init) {
  Program *p = S->p;
  /* The paper's defaults (sec. 3.1): sparse weights, zero biases. */
  for (int i = 0; i < p->n_blocks; i++) {
    Block *b = &p->blocks[i];
    b->init = b->is_bias
                  ? (InitSpec){.kind = INIT_ZERO}
                  : (InitSpec){.kind = INIT_SPARSE, .fan_in = 15, .scale = 1};
  }
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
      const char **names =
          arena_alloc(sizeof(char *) * (size_t)(p->n_blocks + 4));
      names[0] = "weights";
      names[1] = "biases";
      names[2] = "output_bias";
      for (int i = 0; i < p->n_blocks; i++)
        names[3 + i] = p->blocks[i].name;
      diag_error(s->loc,
                 "unknown parameter '%s' in init; expected weights, biases, "
                 "output_bias or a block of net '%s' such as %s%s",
                 s->head, p->net_name, p->blocks[0].name,
                 suggest(s->head, names));
      continue;
    }
    bool is_bias = all_biases || (named && named->is_bias);
    const char *example =
        is_bias ? arena_printf("%s 0", s->head)
                : arena_printf("%s sparse(fan_in 15, scale 1.0)", s->head);
    if (!word_count(s, 1, example))
      continue;
    InitSpec spec;
    if (!check_init_value(s->atoms, is_bias, named == out_bias, &spec))
      continue;
    for (int i = 0; i < p->n_blocks; i++) {
      Block *b = &p->blocks[i];
      if ((all_weights && !b->is_bias) || (all_biases && b->is_bias) ||
          b == named)
        b->init = spec;
    }
    /* A sparse fan-in above the layer below is clamped: each unit then
     * connects to every unit below (sec. 3.1). Said aloud only when one
     * block was named, since `weights sparse(15)` meets small layers (the
     * code layer of CURVES) by design. */
    if (named && spec.kind == INIT_SPARSE && spec.fan_in > named->rows)
      diag_warning(s->atoms->loc,
                   "fan_in %d is larger than layer '%s' (%ld units); each "
                   "unit of '%s' gets all %ld connections",
                   spec.fan_in, p->layers[named->to - 1].name, named->rows,
                   p->layers[named->to].name, named->rows);
  }
}

/* ---- training ---- */

/* Every t at which a schedule is checked: all of them for runs up to ten
 * million updates, else an even sample (the bound keeps mdlc fast). */
static long check_stride(long steps) {
  return steps <= 10000000 ? 1 : steps / 10000000 + 1;
}

/* The value of a schedule at t, and which expression gave it. */
static double schedule_eval(const Program *p, const Schedule *s, double t,
                            const Expr **source) {
  for (int i = 0; i < s->n_phases; i++) {
    const Phase *ph = &s->phases[i];
    double n = expr_eval(p, ph->length, 0);
    bool active = ph->is_first ? t < n : t >= (double)p->steps - n;
    if (active) {
      *source = ph->value;
      return expr_eval(p, ph->value, t);
    }
  }
  *source = s->base;
  return expr_eval(p, s->base, t);
}

static void check_schedule_range(const Program *p, const Schedule *s,
                                 bool is_mu) {
  long stride = check_stride(p->steps);
  for (long t = 0; t < p->steps; t += stride) {
    const Expr *source;
    double v = schedule_eval(p, s, (double)t, &source);
    bool bad = is_mu ? !(v >= 0 && v < 1) : !(v > 0 && isfinite(v));
    if (bad) {
      diag_error(source->loc,
                 is_mu ? "mu must be in [0, 1), but at t = %ld this gives %g"
                       : "epsilon must be positive, but at t = %ld this "
                         "gives %g",
                 t, v);
      return;
    }
  }
}

static void add_phase(Schedule *s, bool is_first, Expr *length, Expr *value,
                      Loc loc) {
  Phase *grown = arena_alloc(sizeof(Phase) * (size_t)(s->n_phases + 1));
  if (s->n_phases)
    memcpy(grown, s->phases, sizeof(Phase) * (size_t)s->n_phases);
  grown[s->n_phases++] = (Phase){
      .is_first = is_first, .length = length, .value = value, .loc = loc};
  s->phases = grown;
}

/* A setting whose value must be a whole number known when compiling. */
static bool setting_int(Sema *S, const Stmt *s, long min, long max, long *out) {
  const char *what = s->kind == ST_PHASE
                         ? arena_printf("the length of a '%s' phase", s->head)
                         : arena_printf("'%s'", s->head);
  if (!check_number(S, s->expr, what, what))
    return false;
  double v = expr_eval(S->p, s->expr, 0);
  if (v != floor(v) || v < (double)min || v > (double)max) {
    diag_error(s->expr->loc,
               "%s must be a whole number from %ld to %ld, not %.15g", what,
               min, max, v);
    return false;
  }
  *out = (long)v;
  return true;
}

static void check_phase(Sema *S, const Stmt *s) {
  Program *p = S->p;
  long n;
  if (!setting_int(S, s, 1, 1000000000000L, &n))
    return;
  if (!s->body)
    diag_warning(s->loc, "this '%s' phase sets nothing", s->head);
  for (const Stmt *b = s->body; b; b = b->next) {
    bool mu = b->kind == ST_SET && strcmp(b->head, "mu") == 0;
    bool eps = b->kind == ST_SET && strcmp(b->head, "epsilon") == 0;
    if (!mu && !eps) {
      diag_error(b->loc, "a '%s' phase can set mu and epsilon only", s->head);
      continue;
    }
    if (!b->expr) {
      diag_error(b->loc, "'%s' needs an expression", b->head);
      continue;
    }
    if (mu && p->method == METHOD_SGD) {
      diag_error(b->loc, "sgd has no momentum; use cm or nag to set mu");
      continue;
    }
    if (!check_number(S, b->expr, arena_printf("'%s'", b->head), NULL))
      continue;
    add_phase(mu ? &p->mu : &p->epsilon, strcmp(s->head, "first") == 0, s->expr,
              b->expr, s->loc);
  }
}

static void check_report(Sema *S, const Stmt *s) {
  const Atom *a = s->atoms;
  long n;
  if (!a || a->kind != AT_NAME || strcmp(a->text, "every") != 0 || !a->next) {
    diag_error(s->loc, "write: report every 1000");
    return;
  }
  if (!positive_int(a->next, "the report interval", 1000000000000L, &n))
    return;
  S->p->report_every = n;
  for (const Atom *m = a->next->next; m; m = m->next) {
    static const char *const metrics[] = {"train_error", "loss", NULL};
    if (m->kind != AT_NAME)
      diag_error(m->loc, "expected the name of a measurement, not %s",
                 atom_text(m));
    else if (find_word(m->text, metrics) < 0)
      diag_error(m->loc,
                 "unknown measurement '%s'; a report always shows "
                 "train_error and loss%s",
                 m->text, suggest(m->text, metrics));
  }
}

static void check_train(Sema *S, const Item *train) {
  Program *p = S->p;
  static const char *const methods[] = {"sgd", "cm", "nag", NULL};
  int m = find_word(train->kind_name, methods);
  if (m < 0) {
    if (strcmp(train->kind_name, "hf") == 0)
      diag_error(train->kind_loc, "Hessian-free optimization (hf) is not "
                                  "available yet; use sgd, cm or nag");
    else
      diag_error(train->kind_loc, "unknown optimizer '%s'; expected %s%s",
                 train->kind_name, one_of(methods),
                 suggest(train->kind_name, methods));
    return;
  }
  p->method = (Method)m;
  p->batch = 100;
  p->steps = 10000;
  p->seed = 1;
  static const char *const settings[] = {"batch", "steps", "seed", "epsilon",
                                         "mu",    "log",   NULL};
  for (const Stmt *s = train->body; s; s = s->next) {
    if (s->kind == ST_PHASE || s->kind == ST_REPORT) {
      if (s->kind == ST_REPORT && !repeated(s, train->body))
        check_report(S, s);
      continue;
    }
    if (find_word(s->head, settings) < 0) {
      diag_error(s->loc, "unknown setting '%s'; expected %s%s", s->head,
                 one_of(settings), suggest(s->head, settings));
      continue;
    }
    if (repeated(s, train->body))
      continue;
    if (strcmp(s->head, "log") == 0) {
      if (!s->string)
        diag_error(s->loc, "write: log \"curve.csv\"");
      else
        p->log_path = s->string->text;
      continue;
    }
    if (s->string) {
      diag_error(s->string->loc, "'%s' needs a number, not a string", s->head);
      continue;
    }
    long n;
    if (strcmp(s->head, "batch") == 0) {
      if (setting_int(S, s, 1, 1000000, &n))
        p->batch = (int)n;
    } else if (strcmp(s->head, "steps") == 0) {
      if (setting_int(S, s, 1, 1000000000000L, &n))
        p->steps = n;
    } else if (strcmp(s->head, "seed") == 0) {
      if (setting_int(S, s, 0, 1L << 62, &n))
        p->seed = n;
    } else if (strcmp(s->head, "mu") == 0 && p->method == METHOD_SGD) {
      diag_error(s->loc, "sgd has no momentum; use cm or nag to set mu");
    } else if (check_number(S, s->expr, arena_printf("'%s'", s->head), NULL)) {
      if (strcmp(s->head, "mu") == 0)
        p->mu.base = s->expr;
      else
        p->epsilon.base = s->expr;
    }
  }
  /* Phases after the settings, so they know the method and steps. */
  for (const Stmt *s = train->body; s; s = s->next)
    if (s->kind == ST_PHASE)
      check_phase(S, s);
  if (!p->epsilon.base && !find_stmt(train->body, "epsilon"))
    diag_error(train->kind_loc, "training needs a learning rate: epsilon 0.01");
  if (p->method != METHOD_SGD && !p->mu.base && !find_stmt(train->body, "mu"))
    diag_error(train->kind_loc, "%s needs a momentum schedule: mu 0.9",
               method_name(p->method));
  if (p->report_every == 0)
    p->report_every = p->steps / 20 > 0 ? p->steps / 20 : 1;
  if (diag_error_count > S->errors_before)
    return;
  check_schedule_range(p, &p->epsilon, false);
  if (p->method != METHOD_SGD)
    check_schedule_range(p, &p->mu, true);
}

/* ---- the program ---- */

static const Item *find_item(const Ast *ast, ItemKind kind, const char *name) {
  for (const Item *it = ast->items; it; it = it->next)
    if (it->kind == kind && strcmp(it->name, name) == 0)
      return it;
  return NULL;
}

/* Reports a reference to a missing net or data set, with a suggestion. */
static void unknown_item(const Ast *ast, ItemKind kind, const char *what,
                         const char *name, Loc loc) {
  const char *names[64];
  int n = 0;
  for (const Item *it = ast->items; it && n < 63; it = it->next)
    if (it->kind == kind)
      names[n++] = it->name;
  names[n] = NULL;
  diag_error(loc, "unknown %s '%s'%s", what, name, suggest(name, names));
}

static bool check_unique_items(const Ast *ast) {
  bool ok = true;
  for (const Item *it = ast->items; it; it = it->next) {
    if (it->kind == IT_CONST || it->kind == IT_TRAIN)
      continue;
    const Item *first = find_item(ast, it->kind, it->name);
    if (first != it) {
      static const char *what[] = {"const", "data set", "net", "init block",
                                   "train"};
      diag_error(it->name_loc, "%s '%s' is declared twice", what[it->kind],
                 it->name);
      diag_note(first->name_loc, "first declared here");
      ok = false;
    }
  }
  return ok;
}

/* The shape of a data file, read from its header when the file can be
 * read from here; false (and no message) when it cannot be found, since
 * the program opens it when it runs, perhaps elsewhere. A file that is
 * there but unreadable gets a warning now and an error then. */
static bool file_shape(const char *path, bool idx, Loc loc, long *rows,
                       long *cols) {
  if (access(path, R_OK) != 0)
    return false;
  mdl_error err;
  if (idx) {
    int n, pixels;
    if (mdl_idx_image_shape(path, &n, &pixels, &err) == 0) {
      *rows = n;
      *cols = pixels;
      return true;
    }
  } else {
    mdl_npy a;
    if (mdl_npy_read_shape(path, &a, &err) == 0) {
      *rows = a.rows;
      *cols = a.ndim == 2 ? a.cols : 0;
      return true;
    }
  }
  diag_warning(loc, "%s", err.message);
  return false;
}

/* The data files' widths and case counts against the net, where the files
 * can be read now; the generated program checks them again when it loads. */
static void check_file_shapes(Sema *S) {
  Program *p = S->p;
  Loc at = S->data->kind_loc;
  long rows, cols;
  const char *inputs = p->data_kind == DATA_IDX ? p->images_path : p->npy_path;
  if (inputs &&
      file_shape(inputs, p->data_kind == DATA_IDX, at, &rows, &cols)) {
    if (cols && cols != p->layers[0].size)
      diag_error(S->net->name_loc,
                 "net '%s' has %d inputs but %s has %ld values per case",
                 p->net_name, p->layers[0].size, inputs, cols);
    if (p->n_cases > rows)
      diag_error(at, "data set '%s' asks for %d cases but %s holds %ld",
                 p->data_name, p->n_cases, inputs, rows);
    else if (p->batch > (p->n_cases ? p->n_cases : rows))
      diag_error(S->train->data_loc,
                 "the minibatch (%d cases) is larger than data set '%s' (%ld "
                 "cases in %s)",
                 p->batch, p->data_name, rows, inputs);
  }
  if (p->targets_path && !p->is_autoencoder &&
      file_shape(p->targets_path, false, at, &rows, &cols) && cols &&
      cols != p->layers[p->n_layers - 1].size)
    diag_error(S->net->name_loc,
               "net '%s' has %d outputs but %s has %ld target values per case",
               p->net_name, p->layers[p->n_layers - 1].size, p->targets_path,
               cols);
}

/* Compares the data set's width with the network's input when it can be
 * known now; otherwise the generated program checks it when it loads. */
static void check_data_shape(Sema *S) {
  Program *p = S->p;
  int width = 0;
  if (p->data_kind == DATA_CURVES)
    width = 784;
  if (width && width != p->layers[0].size)
    diag_error(S->net->name_loc,
               "net '%s' has %d inputs but data set '%s' has %d values per "
               "case",
               p->net_name, p->layers[0].size, p->data_name, width);
  if (p->data_kind != DATA_CURVES)
    check_file_shapes(S);
  bool has_targets = p->labels_path || p->targets_path;
  if (!p->is_autoencoder && p->data_kind == DATA_CURVES)
    diag_error(S->train->data_loc,
               "a feedforward net needs targets: data set '%s' has none "
               "(idx(..., labels \"...\") or npy(..., targets \"...\") "
               "provide them)",
               p->data_name);
  if (!p->is_autoencoder && p->data_kind == DATA_NPY && !has_targets)
    diag_error(S->train->data_loc,
               "a feedforward net needs targets: give npy(inputs \"...\", "
               "targets \"...\")");
  if (p->is_autoencoder && has_targets)
    diag_warning(S->train->data_loc,
                 "an autoencoder's targets are its inputs; the targets of "
                 "data set '%s' are not used",
                 p->data_name);
  if (!p->is_autoencoder && p->data_kind == DATA_IDX && !p->labels_path)
    diag_error(S->train->data_loc,
               "a feedforward net needs targets: give idx(..., labels "
               "\"...\")");
  const Stmt *batch = find_stmt(S->train->body, "batch");
  if (p->n_cases && p->batch > p->n_cases)
    diag_error(batch && batch->expr ? batch->expr->loc : S->train->data_loc,
               "the minibatch (%d cases) is larger than data set '%s' (%d "
               "cases)",
               p->batch, p->data_name, p->n_cases);
}

static Program *check_program(const Ast *ast) {
  Program *p = arena_alloc(sizeof *p);
  Sema S = {.p = p, .errors_before = diag_error_count};
  p->source_name = ast->file->name;

  check_consts(&S, ast);
  check_unique_items(ast);
  for (const Item *it = ast->items; it; it = it->next)
    if (it->kind == IT_TRAIN) {
      if (S.train) {
        diag_error(it->loc, "a program trains one net; this is a second "
                            "'train'");
        diag_note(S.train->loc, "the first is here");
      } else {
        S.train = it;
      }
    }
  if (!S.train) {
    diag_error((Loc){.file = ast->file, .line = 1, .col = 1, .length = 1},
               "nothing to do: the program has no 'train' item");
    return NULL;
  }
  S.net = find_item(ast, IT_NET, S.train->name);
  S.data = find_item(ast, IT_DATA, S.train->data_name);
  if (!S.net)
    unknown_item(ast, IT_NET, "net", S.train->name, S.train->name_loc);
  if (!S.data)
    unknown_item(ast, IT_DATA, "data set", S.train->data_name,
                 S.train->data_loc);
  for (const Item *it = ast->items; it; it = it->next) {
    if (it->kind == IT_INIT && !find_item(ast, IT_NET, it->name))
      unknown_item(ast, IT_NET, "net", it->name, it->name_loc);
    if (it->kind == IT_DATA && it != S.data &&
        find_item(ast, IT_DATA, it->name) == it) {
      diag_warning(it->name_loc, "data set '%s' is not used", it->name);
      /* Checked all the same, so that its mistakes are found now. */
      Sema unused = {.p = arena_alloc(sizeof(Program))};
      check_data(&unused, it);
    }
  }
  S.init = S.net ? find_item(ast, IT_INIT, S.net->name) : NULL;
  if (S.data)
    check_data(&S, S.data);
  bool net_ok = S.net && check_net_body(&S, S.net);
  check_train(&S, S.train);
  if (net_ok) {
    check_init(&S, S.init);
    if (S.data)
      check_data_shape(&S);
  }
  if (diag_error_count > S.errors_before)
    return NULL;
  return p;
}

/* The checks run by topic, not by line; their diagnostics come out in the
 * order of the file. */
Program *sema_check(const Ast *ast) {
  diag_hold();
  Program *p = check_program(ast);
  diag_release();
  return p;
}
