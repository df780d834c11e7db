/* sema_quadratic.c — a quadratic, f(θ) = ½ θᵀAθ with A = diag(curvatures):
 * the objective of sec. 2.1, on which the paper compares CM and NAG (the
 * appendix's Figure 2) and Theorem 2.1 gives their rates. It has no data and
 * no layers; its net body names A's eigenvalues, its init the start θ_0,
 * and its train item may name several methods, each run from θ_0. The
 * methods a train item names are checked here for every kind of net. */
#include "mdlc.h"

#include <math.h>
#include <string.h>

/* The coordinates of θ: the path of each method is kept whole, and a few
 * dozen eigendirections already make a table too long to read. */
enum { MAX_CURVATURES = 100 };
/* A path is (steps + 1) × coordinates numbers, kept in memory. */
static const long MAX_QUADRATIC_STEPS = 100000;

bool check_quadratic_net(Sema *S, const Item *net) {
  Program *p = S->p;
  /* Its statements and their example: statements.c's table. */
  const Body *body = body_named("quadratic");
  const char *const *words = body_heads(body);
  const char *example = body_statement(body, "curvatures")->example;
  bool ok = true;
  for (const Stmt *s = net->body; s; s = s->next) {
    if (find_word(s->head, words) < 0) {
      diag_error(s->loc,
                 "unknown statement '%s' in quadratic '%s'; expected "
                 "%s%s",
                 s->head, net->name, one_of(words), suggest(s->head, words));
      ok = false;
    } else if (repeated(s, net->body)) {
      ok = false; /* the first is checked below all the same */
    }
  }
  const Stmt *c = find_stmt(net->body, "curvatures");
  if (!c) {
    diag_error(net->name_loc,
               "quadratic '%s' has no 'curvatures': the eigenvalues of A, "
               "one per coordinate of θ (e.g. %s)",
               net->name, example);
    return false;
  }
  if (!word_count(c, 1, example))
    return false;
  const Atom *list = c->atoms;
  const Atom *first = list->kind == AT_LIST ? list->items : list;
  int n = list->kind == AT_LIST ? count_atoms(first) : 1;
  if (n > MAX_CURVATURES) {
    diag_error(list->loc, "a quadratic has at most %d curvatures, not %d",
               MAX_CURVATURES, n);
    return false;
  }
  p->curvatures = arena_alloc(sizeof(double) * (size_t)n);
  int k = 0;
  for (const Atom *a = first; a; a = list->kind == AT_LIST ? a->next : NULL)
    ok &= positive_real(a, "a curvature", &p->curvatures[k++]);
  p->n_params = n;
  return ok;
}

/* θ_0: `start [x1, x2, ...]`, one number per curvature; all ones when the
 * program has no init item. */
void check_quadratic_init(Sema *S, const Item *init) {
  Program *p = S->p;
  p->start = arena_alloc(sizeof(double) * (size_t)p->n_params);
  for (long i = 0; i < p->n_params; i++)
    p->start[i] = 1;
  if (!init)
    return;
  static const char *const words[] = {"start", NULL};
  for (const Stmt *s = init->body; s; s = s->next) {
    if (find_word(s->head, words) < 0) {
      diag_error(s->loc,
                 "unknown statement '%s' in the init of quadratic '%s'; a "
                 "quadratic's init says where θ starts: start [1, 1]%s",
                 s->head, p->net_name, suggest(s->head, words));
      continue;
    }
    if (repeated(s, init->body) || !word_count(s, 1, "start [1, 1]"))
      continue;
    const Atom *list = s->atoms;
    const Atom *first = list->kind == AT_LIST ? list->items : list;
    int n = list->kind == AT_LIST ? count_atoms(first) : 1;
    if (n != p->n_params) {
      diag_error(list->loc, "start has %s, but quadratic '%s' has %s",
                 count_of(n, "value"), p->net_name,
                 count_of(p->n_params, "curvature"));
      continue;
    }
    int k = 0;
    for (const Atom *a = first; a; a = list->kind == AT_LIST ? a->next : NULL) {
      if (a->kind != AT_NUMBER || !isfinite(a->number))
        diag_error(a->loc, "a coordinate of start must be a number, not %s",
                   atom_noun(a));
      else
        p->start[k] = a->number;
      k++;
    }
  }
}

/* `with nag`, or for a quadratic `with cm and nag` (or `sgd, cm and nag`):
 * each method is run from the same start at the same μ and ε. */
bool check_methods(Sema *S, const Item *train) {
  Program *p = S->p;
  static const char *const names[] = {"sgd", "cm", "nag", "hf", NULL};
  bool quadratic = p->net_kind == NET_QUADRATIC;
  Atom single = {
      .kind = AT_NAME, .loc = train->kind_loc, .text = train->kind_name};
  const Atom *list = train->methods ? train->methods : &single;
  bool ok = true;
  p->n_methods = 0;
  for (const Atom *a = list; a; a = a->next) {
    int m = find_word(a->text, names);
    if (m < 0) {
      diag_error(a->loc, "unknown optimizer '%s'; expected %s%s", a->text,
                 one_of(names), suggest(a->text, names));
      ok = false;
      continue;
    }
    if (a != list && !quadratic) {
      diag_error(a->loc,
                 "a net trains with one method; only a quadratic compares "
                 "methods in one program (mdlc sweep compares a net's: its "
                 "columns can say method cm, method nag)");
      return false;
    }
    if (m == METHOD_HF && quadratic) {
      diag_error(a->loc, "hf is not for a quadratic: its CG would minimize "
                         "this one exactly in as many steps as it has "
                         "curvatures; compare sgd, cm and nag");
      ok = false;
      continue;
    }
    const Atom *before = list;
    while (before != a && strcmp(before->text, a->text) != 0)
      before = before->next;
    if (before != a) {
      diag_error(a->loc, "'%s' is named twice", a->text);
      diag_note(before->loc, "first named here");
      ok = false;
      continue;
    }
    p->methods[p->n_methods++] = (Method)m;
  }
  if (!ok)
    return false;
  /* The settings the train item takes are those of a momentum method when
   * one of them has momentum: `with sgd and nag` needs mu (for nag). */
  p->method = p->methods[0];
  for (int i = 0; i < p->n_methods; i++)
    if (p->methods[i] == METHOD_CM || p->methods[i] == METHOD_NAG) {
      p->method = p->methods[i];
      break;
    }
  return true;
}

Loc method_loc(const Item *train, Method method) {
  for (const Atom *a = train->methods; a; a = a->next)
    if (strcmp(a->text, method_name(method)) == 0)
      return a->loc;
  return train->kind_loc;
}

/* Whether a train setting is one a quadratic takes (phases and `report`
 * are checked as for any program); reports the others. */
bool quadratic_setting(Sema *S, const Stmt *s) {
  static const char *const settings[] = {"steps", "epsilon", "mu", "log", NULL};
  static const char *const for_data[] = {
      "batch", "seed",     "clip",  "weight_decay",
      "test",  "validate", "decay", "curvature_batch",
      NULL};
  if (find_word(s->head, settings) >= 0)
    return true;
  if (find_word(s->head, for_data) >= 0)
    diag_error(s->loc,
               "'%s' is not a setting of a quadratic, which has no data and "
               "no randomness: it takes steps, epsilon, mu, report and log",
               s->head);
  else
    diag_error(s->loc,
               "unknown setting '%s'; a quadratic takes steps, epsilon, mu, "
               "report and log%s",
               s->head, suggest(s->head, settings));
  (void)S;
  return false;
}

void check_quadratic_train(Sema *S, const Item *train) {
  Program *p = S->p;
  if (train->data_name)
    diag_error(train->data_loc,
               "a quadratic has no data: its objective is the quadratic "
               "itself; write: train %s with %s",
               train->name, train->kind_name);
  const Stmt *steps = find_stmt(train->body, "steps");
  if (p->steps > MAX_QUADRATIC_STEPS)
    diag_error(steps ? steps->expr->loc : train->kind_loc,
               "a quadratic keeps every step of its path: steps must be at "
               "most %ld, not %ld",
               MAX_QUADRATIC_STEPS, p->steps);
}
