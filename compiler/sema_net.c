/* sema_net.c — nets: their statements become layers (input, hidden,
 * output), activations and a loss. Which statements a kind of net takes,
 * and their examples, are statements.c's table. */
#include "mdlc.h"

#include <string.h>

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

/* The example of a statement of this net's kind (statements.c). */
static const char *example(const Item *net, const char *head) {
  return body_statement(body_named(net->kind_name), head)->example;
}

/* A recurrent net: one hidden layer that also feeds itself from one step
 * to the next, its initial state, and an output read at every step or only
 * at the last step of each sequence. */
static bool check_recurrent_layers(Sema *S, const Item *net, const Stmt *output,
                                   LayerList *list, Activation *out_act,
                                   long *out_size) {
  Program *p = S->p;
  const Stmt *hidden = find_stmt(net->body, "hidden");
  Activation act;
  long size;
  if (!word_count(hidden, 2, example(net, "hidden")) ||
      !check_activation(hidden->atoms, &act) ||
      !hidden_activation(hidden->atoms, act))
    return false;
  if (hidden->atoms->next->kind == AT_LIST) {
    diag_error(hidden->atoms->next->loc,
               "a recurrent net has one hidden layer; write: hidden %s 100",
               hidden->atoms->text);
    return false;
  }
  if (!positive_int(hidden->atoms->next, "the hidden size", 1000000, &size))
    return false;
  add_layer(list, "hidden", (int)size, act);

  const Stmt *initial = find_stmt(net->body, "initial");
  if (initial) {
    static const char *const states[] = {"zero", "learned", NULL};
    if (!word_count(initial, 1, example(net, "initial")))
      return false;
    const Atom *a = initial->atoms;
    int i = a->kind == AT_NAME ? find_word(a->text, states) : -1;
    if (i < 0) {
      diag_error(
          a->loc, "the initial hidden state is zero or learned, not %s%s",
          atom_text(a), a->kind == AT_NAME ? suggest(a->text, states) : "");
      return false;
    }
    p->learned_initial = i == 1;
  }

  /* output ACT N, or output ACT N at last|every|recall */
  int n = count_atoms(output->atoms);
  if (n != 2 && n != 4) {
    word_count(output, n < 2 ? 2 : 4, example(net, "output"));
    return false;
  }
  if (!check_activation(output->atoms, out_act) ||
      !positive_int(output->atoms->next, "the output size", 1000000, out_size))
    return false;
  if (n == 4) {
    const Atom *at = output->atoms->next->next, *when = at->next;
    static const char *const whens[] = {"last", "every", "recall", NULL};
    int i = when->kind == AT_NAME ? find_word(when->text, whens) : -1;
    if (at->kind != AT_NAME || strcmp(at->text, "at") != 0 || i < 0) {
      diag_error(loc_span(at->loc, when->loc),
                 "say when the targets come: at last (the last step of each "
                 "sequence), at every (every step) or at recall (the recall "
                 "steps of a memorization problem)");
      return false;
    }
    S->output_at = when;
    S->output_every = i >= 1; /* the recall is read from every step */
    S->output_recall = i == 2;
  }
  return true;
}

/* `per sequence` or `per target`: what a recurrent net's objective is the
 * mean over. */
static bool check_loss_per(Sema *S, const Atom *per) {
  static const char *const units[] = {"sequence", "target", NULL};
  const Atom *unit = per->next;
  int i = unit->kind == AT_NAME ? find_word(unit->text, units) : -1;
  if (per->kind != AT_NAME || strcmp(per->text, "per") != 0 || i < 0) {
    diag_error(loc_span(per->loc, unit->loc),
               "say what the loss is the mean over: per sequence (the "
               "summed loss of each sequence) or per target (each step "
               "that carries a target)");
    return false;
  }
  S->loss_per = per;
  S->loss_per_target = i == 1;
  return true;
}

bool check_net_body(Sema *S, const Item *net) {
  Program *p = S->p;
  const char *const *kinds = net_kinds();
  int kind = find_word(net->kind_name, kinds);
  if (kind < 0) {
    diag_error(net->kind_loc, "unknown kind of net '%s'; expected %s%s",
               net->kind_name, one_of(kinds), suggest(net->kind_name, kinds));
    return false;
  }
  p->net_kind = (NetKind)kind;
  p->is_autoencoder = p->net_kind == NET_AUTOENCODER;
  p->is_recurrent = p->net_kind == NET_RECURRENT;
  p->net_name = net->name;
  if (p->net_kind == NET_QUADRATIC)
    return check_quadratic_net(S, net); /* no layers: sema_quadratic.c */

  /* The statements, against the table of this kind's. */
  const Body *body = body_named(net->kind_name);
  const char *const *words = body_heads(body);
  bool ok = true;
  for (const Stmt *s = net->body; s; s = s->next) {
    const Statement *st = body_statement(body, s->head);
    if (!st) {
      diag_error(s->loc, "unknown statement '%s' in %s '%s'; expected %s%s",
                 s->head, net->kind_name, net->name, one_of(words),
                 suggest(s->head, words));
      ok = false;
    } else if (st->occurs != STMT_REPEATABLE && repeated(s, net->body)) {
      ok = false;
    }
  }
  for (const Statement *st = body->statements; st->head; st++)
    if (st->occurs == STMT_REQUIRED && !find_stmt(net->body, st->head)) {
      diag_error(net->name_loc, "%s '%s' has no '%s' %s (e.g. %s)", body->noun,
                 net->name, st->head, st->what, st->example);
      ok = false;
    }
  if (!ok)
    return false;

  LayerList list = {0};
  long input_size = 0;
  const Stmt *input = find_stmt(net->body, "input");
  if (!word_count(input, 1, example(net, "input")) ||
      !positive_int(input->atoms, "the input size", 1000000, &input_size))
    return false;
  add_layer(&list, "input", (int)input_size, ACT_LINEAR);

  Activation out_act = ACT_SIGMOID;
  long out_size = 0;
  const Stmt *output = find_stmt(net->body, "output");

  if (p->is_autoencoder) {
    const Stmt *enc = find_stmt(net->body, "encoder");
    const Stmt *code = find_stmt(net->body, "code");
    const Stmt *dec = find_stmt(net->body, "decoder");
    int n_enc = 0, n_dec = 0;
    if (enc && !check_layer_group(enc, "enc", &n_enc, &list))
      return false;
    Activation code_act;
    long code_size;
    if (!word_count(code, 2, example(net, "code")) ||
        !check_activation(code->atoms, &code_act) ||
        !hidden_activation(code->atoms, code_act) ||
        !positive_int(code->atoms->next, "the code size", 1000000, &code_size))
      return false;
    add_layer(&list, "code", (int)code_size, code_act);
    if (!dec || (dec->atoms && dec->atoms->kind == AT_NAME &&
                 strcmp(dec->atoms->text, "mirror") == 0)) {
      if (dec && !word_count(dec, 1, example(net, "decoder")))
        return false;
      /* The decoder mirrors the encoder: its layers in reverse order. */
      for (int i = n_enc; i >= 1; i--)
        add_layer(&list, arena_printf("dec%d", n_enc - i + 1),
                  list.layers[i].size, list.layers[i].act);
    } else if (!check_layer_group(dec, "dec", &n_dec, &list)) {
      return false;
    }
    if (!output->atoms || count_atoms(output->atoms) > 2) {
      word_count(output, output->atoms ? 2 : 1, example(net, "output"));
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
                   "have %s like its input, not %ld",
                   count_of(input_size, "unit"), n);
        return false;
      }
    }
  } else if (p->is_recurrent) {
    if (!check_recurrent_layers(S, net, output, &list, &out_act, &out_size))
      return false;
  } else {
    int n_hid = 0;
    for (const Stmt *s = net->body; s; s = s->next) {
      if (strcmp(s->head, "hidden") == 0 &&
          !check_layer_group(s, "hid", &n_hid, &list))
        return false;
      if (strcmp(s->head, "layer") == 0) {
        if (!word_count(s, 2, example(net, "layer")))
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
    if (!word_count(output, 2, example(net, "output")) ||
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
    int n_words = count_atoms(loss->atoms);
    if (!word_count(loss, n_words >= 2 && p->is_recurrent ? 3 : 1,
                    example(net, "loss")))
      return false;
    const Atom *a = loss->atoms;
    if (n_words == 3 && !check_loss_per(S, a->next))
      return false;
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
  /* Each layer is some 25 lines of C for clang-format and clang to read:
   * a list of sizes of a few bytes a layer would otherwise make a compile
   * of minutes. The paper's deepest net has 13 layers. */
  if (list.n > 1000) {
    diag_error(net->name_loc,
               "net '%s' has %d layers; mdlc allows at most 1000", net->name,
               list.n);
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
