/* sema.c — semantic checks: names, sizes, initializations, schedules.
 *
 * The parser accepts any line of words in a net or init body; this pass
 * decides what the words mean, says precisely what is wrong when they mean
 * nothing, and builds the Program that the emitters read. It reports as many
 * errors as it can find in one run. */
#include "mdlc.h"

#include <stddef.h>
#include <string.h>

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

/* ---- mdlc's command line: --method and -D ---- */

/* A statement list without its `mu` settings, and without the phases that
 * set nothing else. */
static Stmt *without_mu(Stmt *body) {
  Stmt *kept = NULL, **tail = &kept;
  for (Stmt *s = body; s; s = s->next) {
    if (s->kind == ST_SET && strcmp(s->head, "mu") == 0)
      continue;
    Stmt *copy = arena_alloc(sizeof *copy);
    *copy = *s;
    copy->next = NULL;
    if (s->kind == ST_PHASE) {
      copy->body = without_mu(s->body);
      if (!copy->body && s->body)
        continue;
    }
    *tail = copy;
    tail = &copy->next;
  }
  return kept;
}

/* Rewrites the AST as the command line asks. */
static void apply_overrides(const Ast *ast, const SemaOverrides *o) {
  for (int i = 0; i < o->n_defines; i++) {
    const Define *d = &o->defines[i];
    const char *names[64];
    int n = 0;
    bool found = false;
    for (Item *it = ast->items; it; it = it->next) {
      if (it->kind != IT_CONST)
        continue;
      if (n < 63)
        names[n++] = it->name;
      if (strcmp(it->name, d->name) == 0) {
        Expr *value = expr_new(EX_NUMBER, it->value->loc);
        value->number = d->value;
        it->value = value;
        found = true;
      }
    }
    names[n] = NULL;
    if (!found)
      diag_plain_error("-D %s: %s has no const '%s'%s", d->name,
                       ast->file->name, d->name, suggest(d->name, names));
  }
  if (!o->method)
    return;
  for (Item *it = ast->items; it; it = it->next)
    if (it->kind == IT_TRAIN) {
      it->kind_name = o->method;
      it->methods = NULL; /* one method, even where the program compares */
      if (strcmp(o->method, "sgd") == 0 || strcmp(o->method, "hf") == 0)
        it->body = without_mu(it->body);
    }
}

/* The held-out set a `test on NAME` or `validate on NAME` names, or NULL. */
static const Stmt *held_out_stmt(const Item *train, const char *which) {
  for (const Stmt *s = train->body; s; s = s->next)
    if (s->kind == ST_SET && s->atoms && strcmp(s->head, which) == 0)
      return s;
  return NULL;
}

static bool is_held_out(const Item *train, const char *name) {
  const Stmt *test = held_out_stmt(train, "test");
  const Stmt *valid = held_out_stmt(train, "validate");
  return (test && strcmp(test->atoms->text, name) == 0) ||
         (valid && strcmp(valid->atoms->text, name) == 0);
}

/* `test on NAME`, `validate on NAME`: a data set measured at every report
 * and never trained on. It is checked as the training set is, its files'
 * widths against the net's (a different Program receives what the data
 * check fills in), except that it may be smaller than a minibatch. */
static void check_held_out(Sema *S, const Ast *ast, const char *which,
                           DataFiles *out) {
  const Stmt *s = held_out_stmt(S->train, which);
  if (!s)
    return;
  const Atom *name = s->atoms;
  const Item *item = find_item(ast, IT_DATA, name->text);
  if (!item) {
    unknown_item(ast, IT_DATA, "data set", name->text, name->loc);
    return;
  }
  if (item == S->data) {
    diag_error(name->loc,
               "'%s' is the training set; a held-out set must be another "
               "data set, whose cases are never trained on",
               name->text);
    return;
  }
  if (S->p->is_recurrent && model_is_sequence_problem(S->p->data_kind)) {
    diag_error(s->loc,
               "'%s on' is for data from files; %s draws its own held-out "
               "sequences (set their number with test_cases N in data set "
               "'%s')",
               which, S->data->kind_name, S->p->data_name);
    return;
  }
  /* The program as checked so far (the net's layers, for the widths),
   * with the data part, from data_name up to the network's, as a fresh
   * Program has it: the data check fills it in. */
  Program held = *S->p;
  size_t from = offsetof(Program, data_name), to = offsetof(Program, net_name);
  memset((char *)&held + from, 0, to - from);
  Item train = *S->train;
  train.data_name = name->text;
  train.data_loc = name->loc;
  Sema H = *S;
  H.p = &held;
  H.data = item;
  H.train = &train;
  int errors = diag_error_count;
  check_data(&H, item);
  if (diag_error_count > errors)
    return;
  if (S->p->is_recurrent && held.data_kind != DATA_NPY) {
    diag_error(item->kind_loc,
               "a held-out set of sequences comes from .npy files, as the "
               "training set '%s' does: npy(inputs \"...\", targets "
               "\"...\", length %d)",
               S->p->data_name, S->p->seq_length);
    return;
  }
  held.batch = 1; /* evaluated a slice at a time: any size will do */
  check_data_shape(&H);
  /* A recurrent net's held-out sequences run through it as the training
   * sequences do: as long, centered with the training set's means. */
  if (S->p->is_recurrent && held.data_kind == DATA_NPY &&
      (held.seq_length != S->p->seq_length ||
       held.center_inputs != S->p->center_inputs ||
       held.center_targets != S->p->center_targets))
    diag_error(item->kind_loc,
               "held-out sequences are read as the training set's are: "
               "data set '%s' must have the same length and center as '%s' "
               "(length %d%s)",
               name->text, S->p->data_name, S->p->seq_length,
               S->p->center_inputs && S->p->center_targets
                   ? ", center [inputs, targets]"
               : S->p->center_inputs  ? ", center inputs"
               : S->p->center_targets ? ", center targets"
                                      : " and no center");
  *out = model_training_files(&held);
}

static Program *check_program(const Ast *ast, const SemaOverrides *o) {
  Program *p = arena_alloc(sizeof *p);
  Sema S = {.p = p, .errors_before = diag_error_count};
  p->source_name = ast->file->name;

  if (o)
    apply_overrides(ast, o);
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
  /* `train NET with ...` names no data: a quadratic's form. */
  S.data =
      S.train->data_name ? find_item(ast, IT_DATA, S.train->data_name) : NULL;
  if (!S.net)
    unknown_item(ast, IT_NET, "net", S.train->name, S.train->name_loc);
  if (!S.data && S.train->data_name)
    unknown_item(ast, IT_DATA, "data set", S.train->data_name,
                 S.train->data_loc);
  for (const Item *it = ast->items; it; it = it->next) {
    if (it->kind == IT_INIT && !find_item(ast, IT_NET, it->name))
      unknown_item(ast, IT_NET, "net", it->name, it->name_loc);
    if (it->kind == IT_DATA && it != S.data &&
        !is_held_out(S.train, it->name) &&
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
    if (p->net_kind == NET_QUADRATIC)
      check_quadratic_train(&S, S.train);
    else if (!S.train->data_name)
      diag_error(S.train->name_loc,
                 "net '%s' learns from data: write train %s on DATA with %s",
                 S.train->name, S.train->name, S.train->kind_name);
    else if (S.data)
      check_data_shape(&S);
    if (S.data && p->net_kind != NET_QUADRATIC) {
      check_held_out(&S, ast, "validate", &p->valid);
      check_held_out(&S, ast, "test", &p->test);
    }
  }
  if (diag_error_count > S.errors_before)
    return NULL;
  fold_const_uses(p);
  list_settings(p);
  return p;
}

/* The checks run by topic, not by line; their diagnostics come out in the
 * order of the file. */
Program *sema_check_with(const Ast *ast, const SemaOverrides *o) {
  diag_hold();
  Program *p = check_program(ast, o);
  diag_release();
  return p;
}

Program *sema_check(const Ast *ast) { return sema_check_with(ast, NULL); }
