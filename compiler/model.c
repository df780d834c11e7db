/* model.c — the checked description of a program that sema builds and
 * every emitter works from (its types are in mdlc.h): the names of its
 * kinds, the layout of layers and parameter blocks, the questions the
 * emitters ask of it, and mdlc --dump-model. Its formulas and schedules
 * are formula.c's.
 *
 * Every parameter block is an offset into one flat parameter vector:
 * keeping θ (and the velocity v and the gradient g) as one vector with
 * named views makes the optimizer's update one loop over all N_PARAMS
 * numbers (emit_update.c), a checkpoint a few whole-vector writes, and HF's
 * conjugate gradient (runtime/cg.c) an algorithm on plain vectors. */
#include "mdlc.h"

#include <ctype.h>
#include <string.h>

const char *activation_name(Activation act) {
  static const char *names[] = {"sigmoid", "tanh", "linear", "softmax"};
  return names[act];
}

const char *loss_name(Loss loss) {
  return loss == LOSS_CROSS_ENTROPY ? "cross_entropy" : "squared";
}

const char *net_kind_name(NetKind kind) {
  static const char *const names[] = {"autoencoder", "feedforward", "recurrent",
                                      "quadratic"};
  return names[kind];
}

const char *method_name(Method method) {
  static const char *names[] = {"sgd", "cm", "nag", "hf"};
  return names[method];
}

static const char *upper_case(const char *s) {
  char *u = arena_strdup(s);
  for (char *c = u; *c; c++)
    *c = (char)toupper((unsigned char)*c);
  return u;
}

/* Appends a block to the layout being built; offsets follow in order. */
static Block *add_block(Program *p, BlockKind kind, int from, int to,
                        const char *name) {
  Block *b = &p->blocks[p->n_blocks++];
  b->kind = kind;
  b->from = from;
  b->to = to;
  b->name = name;
  b->upper = upper_case(name);
  b->rows = kind == BLOCK_WEIGHTS ? p->layers[from].size : 1;
  b->cols = p->layers[to].size;
  b->size = b->rows * b->cols;
  b->offset = p->n_params;
  p->n_params += b->size;
  return b;
}

static void add_weights(Program *p, int from, int to) {
  add_block(p, BLOCK_WEIGHTS, from, to,
            arena_printf("%s_to_%s", p->layers[from].name, p->layers[to].name));
}

static void add_biases(Program *p, int to) {
  add_block(p, BLOCK_BIAS, to, to, arena_printf("%s_bias", p->layers[to].name));
}

void model_layout(Program *p) {
  for (int l = 0; l < p->n_layers; l++)
    p->layers[l].upper = upper_case(p->layers[l].name);
  p->blocks = arena_alloc(sizeof(Block) * (size_t)(2 * p->n_layers + 2));
  p->n_blocks = 0;
  p->n_params = 0;
  if (p->is_recurrent) {
    /* input (0), hidden (1), output (2): the hidden layer also feeds
     * itself, from one step to the next. */
    add_weights(p, 0, 1);
    add_weights(p, 1, 1);
    add_biases(p, 1);
    if (p->learned_initial)
      add_block(p, BLOCK_INITIAL, 1, 1, "initial_hidden");
    add_weights(p, 1, 2);
    add_biases(p, 2);
    return;
  }
  /* Each layer above the input owns two blocks: the weights that feed it
   * and its biases, in that order. */
  for (int l = 1; l < p->n_layers; l++) {
    add_weights(p, l - 1, l);
    add_biases(p, l);
  }
}

const Block *model_block(const Program *p, const char *name) {
  for (int i = 0; i < p->n_blocks; i++)
    if (strcmp(p->blocks[i].name, name) == 0)
      return &p->blocks[i];
  return NULL;
}

const Setting *model_setting(const Program *p, const char *name) {
  for (int i = 0; i < p->n_settings; i++)
    if (strcmp(p->settings[i].name, name) == 0)
      return &p->settings[i];
  return NULL;
}

Loc model_written(const Program *p, const char *head) {
  for (int i = 0; i < p->n_written; i++)
    if (strcmp(p->written[i].head, head) == 0)
      return p->written[i].loc;
  return (Loc){0};
}

bool model_uses_spectral_radius(const Program *p) {
  for (int i = 0; i < p->n_blocks; i++)
    if (p->blocks[i].init.radius)
      return true;
  return false;
}

bool model_is_sequence_problem(DataKind kind) {
  return kind == DATA_ADDITION || kind == DATA_MULTIPLICATION ||
         kind == DATA_MEMORIZATION;
}

const char *model_shape(const Program *p) {
  size_t cap = 16;
  for (int l = 0; l < p->n_layers; l++)
    cap += 12;
  char *s = arena_alloc(cap);
  size_t len = 0;
  for (int l = 0; l < p->n_layers; l++)
    len += (size_t)snprintf(s + len, cap - len, "%s%d", l ? "-" : "",
                            p->layers[l].size);
  return s;
}

static void init_print(FILE *out, const InitSpec *init) {
  switch (init->kind) {
  case INIT_ZERO:
    fprintf(out, "0");
    break;
  case INIT_CONSTANT:
    fprintf(out, "%g", init->value);
    break;
  case INIT_SPARSE:
    fprintf(out, "sparse(fan_in %d, scale %g)", init->fan_in, init->scale);
    break;
  case INIT_GAUSSIAN:
    fprintf(out, "gaussian(%g)", init->scale);
    break;
  case INIT_TARGET_MEAN:
    fprintf(out, "mean(targets)");
    break;
  }
  if (init->radius)
    fprintf(out, " spectral_radius %g", init->radius);
}

static void schedule_print(FILE *out, const char *name, const Schedule *s) {
  fprintf(out, "  %s: ", name);
  if (s->base)
    formula_print(out, s->base);
  else
    fputs("(none)", out);
  fputc('\n', out);
  for (int i = 0; i < s->n_phases; i++) {
    fprintf(out, "    %s ", s->phases[i].is_first ? "first" : "last");
    formula_print(out, s->phases[i].length);
    fputs(": ", out);
    formula_print(out, s->phases[i].value);
    fputc('\n', out);
  }
}

/* The consts and the schedules of μ and ε. */
static void schedules_dump(FILE *out, const Program *p) {
  for (int i = 0; i < p->n_consts; i++)
    fprintf(out, "  const %s = %.17g\n", p->consts[i].name,
            p->consts[i].folded);
  schedule_print(out, "epsilon", &p->epsilon);
  if (p->method != METHOD_SGD)
    schedule_print(out, "mu", &p->mu);
}

/* A quadratic has no data and no layers: its curvatures, start and the
 * methods it compares. */
static void quadratic_dump(FILE *out, const Program *p) {
  fprintf(out, "net %s: quadratic, f = 1/2 theta' A theta, A = diag(",
          p->net_name);
  for (long i = 0; i < p->n_params; i++)
    fprintf(out, "%s%g", i ? ", " : "", p->curvatures[i]);
  fputs(")\nstart (", out);
  for (long i = 0; i < p->n_params; i++)
    fprintf(out, "%s%g", i ? ", " : "", p->start[i]);
  fputs(")\ntrain with", out);
  for (int m = 0; m < p->n_methods; m++)
    fprintf(out, "%s %s",
            m == 0                  ? ""
            : m == p->n_methods - 1 ? " and"
                                    : ",",
            method_name(p->methods[m]));
  fprintf(out, ": steps %ld, report every %ld\n", p->steps, p->report_every);
}

void model_dump(FILE *out, const Program *p) {
  fprintf(out, "program %s (from %s)\n", p->program_name, p->source_name);
  if (p->net_kind == NET_QUADRATIC) {
    quadratic_dump(out, p);
    schedules_dump(out, p);
    return;
  }
  fprintf(out, "data %s: ", p->data_name);
  const char *cases =
      p->n_cases ? count_of(p->n_cases, "case") : "every case in the file";
  if (p->data_kind == DATA_CURVES)
    fprintf(out, "curves, %s, seed %ld\n", cases, p->data_seed);
  else if (p->data_kind == DATA_IDX)
    fprintf(out, "idx images \"%s\"%s%s%s, %s\n", p->images_path,
            p->labels_path ? " labels \"" : "",
            p->labels_path ? p->labels_path : "", p->labels_path ? "\"" : "",
            cases);
  else if (model_is_sequence_problem(p->data_kind))
    fprintf(out, "%s T %d%s, %d to %d steps, %s, seed %ld%s%s\n",
            p->data_kind == DATA_ADDITION         ? "addition"
            : p->data_kind == DATA_MULTIPLICATION ? "multiplication"
                                                  : "memorization",
            p->seq_T,
            p->data_kind == DATA_MEMORIZATION
                ? arena_printf(" (%d symbols of %d)", p->seq_symbols,
                               p->seq_alphabet)
            : p->target_sum ? " (target A + B)"
                            : "",
            p->data_kind == DATA_MEMORIZATION ? p->max_steps : p->seq_T + 1,
            p->max_steps, count_of(p->n_test, "held-out sequence"),
            p->data_seed, p->center_inputs ? ", centered inputs" : "",
            p->center_targets ? ", centered targets" : "");
  else
    fprintf(out, "npy \"%s\"%s%s%s, %s\n", p->npy_path,
            p->targets_path ? " targets \"" : "",
            p->targets_path ? p->targets_path : "", p->targets_path ? "\"" : "",
            cases);
  fprintf(out, "net %s: %s %s, loss %s", p->net_name,
          net_kind_name(p->net_kind), model_shape(p), loss_name(p->loss));
  if (p->is_recurrent)
    fprintf(out,
            ", targets at %s, mean loss per %s, initial state %s, at most "
            "%s",
            p->loss_recall  ? "the recall steps"
            : p->every_step ? "every step"
                            : "the last step",
            p->loss_per_target ? "target step" : "sequence",
            p->learned_initial ? "learned" : "zero",
            count_of(p->max_steps, "step"));
  fputc('\n', out);
  for (int l = 0; l < p->n_layers; l++)
    fprintf(out, "  layer %-8s %5d%s%s\n", p->layers[l].name, p->layers[l].size,
            l ? " " : "", l ? activation_name(p->layers[l].act) : "");
  fprintf(out, "parameters: %ld in %d blocks\n", p->n_params, p->n_blocks);
  for (int i = 0; i < p->n_blocks; i++) {
    const Block *b = &p->blocks[i];
    fprintf(out, "  %-16s offset %8ld  %4ld x %-4ld  init ", b->name, b->offset,
            b->rows, b->cols);
    init_print(out, &b->init);
    fputc('\n', out);
  }
  fprintf(out,
          "train with %s: batch %d, steps %ld, seed %ld, report every %ld\n",
          method_name(p->method), p->batch, p->steps, p->seed, p->report_every);
  schedules_dump(out, p);
}

const Block *model_weights_into(const Program *p, int l) {
  /* model_layout lays a feed-forward net's blocks out in pairs, the
   * weights into a layer and then its biases, layer by layer upwards. */
  return &p->blocks[2 * (l - 1)];
}

DataFiles model_training_files(const Program *p) {
  return (DataFiles){
      .name = p->data_name,
      .kind = p->data_kind,
      .n_cases = p->n_cases,
      .seed = p->data_seed,
      .images_path = p->images_path,
      .labels_path = p->labels_path,
      .n_classes = p->n_classes,
      .npy_path = p->npy_path,
      .targets_path = p->targets_path,
  };
}

bool model_is_classifier(const Program *p) {
  /* n_layers is 0 when the net's own errors left it without layers */
  return p->net_kind == NET_FEEDFORWARD && p->n_layers > 0 &&
         p->layers[p->n_layers - 1].act == ACT_SOFTMAX;
}

bool model_hidden_uses(const Program *p, Activation act) {
  for (int l = 1; l < p->n_layers - 1; l++)
    if (p->layers[l].act == act)
      return true;
  return false;
}

int model_image_side(const Program *p) {
  if (!p->is_autoencoder)
    return 0;
  int n = p->layers[0].size, side = 1;
  while (side * side < n)
    side++;
  return side * side == n && side >= 2 ? side : 0;
}
