/* model.c — the model description every emitter works from: the layers,
 * and every parameter block as an offset into one flat parameter vector.
 *
 * Keeping θ (and the velocity v and the gradient g) as one vector with
 * named views makes the optimizer a plain loop over numbers, a checkpoint
 * three writes, and (later) conjugate gradient an algorithm on vectors. */
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

const char *method_name(Method method) {
  static const char *names[] = {"sgd", "cm", "nag"};
  return names[method];
}

static const char *upper_case(const char *s) {
  char *u = arena_strdup(s);
  for (char *c = u; *c; c++)
    *c = (char)toupper((unsigned char)*c);
  return u;
}

void model_layout(Program *p) {
  for (int l = 0; l < p->n_layers; l++)
    p->layers[l].upper = upper_case(p->layers[l].name);

  /* Each layer above the input owns two blocks: the weights that feed it
   * and its biases, in that order. */
  p->n_blocks = 2 * (p->n_layers - 1);
  p->blocks = arena_alloc(sizeof(Block) * (size_t)p->n_blocks);
  long offset = 0;
  for (int l = 1; l < p->n_layers; l++) {
    Block *w = &p->blocks[2 * (l - 1)];
    Block *b = w + 1;
    w->name =
        arena_printf("%s_to_%s", p->layers[l - 1].name, p->layers[l].name);
    w->to = l;
    w->rows = p->layers[l - 1].size;
    w->cols = p->layers[l].size;
    b->name = arena_printf("%s_bias", p->layers[l].name);
    b->to = l;
    b->is_bias = true;
    b->rows = 1;
    b->cols = p->layers[l].size;
    for (Block *blk = w; blk <= b; blk++) {
      blk->upper = upper_case(blk->name);
      blk->size = blk->rows * blk->cols;
      blk->offset = offset;
      offset += blk->size;
    }
  }
  p->n_params = offset;
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
}

static void schedule_print(FILE *out, const char *name, const Schedule *s) {
  fprintf(out, "  %s: ", name);
  if (s->base)
    expr_print(out, s->base);
  else
    fputs("(none)", out);
  fputc('\n', out);
  for (int i = 0; i < s->n_phases; i++) {
    fprintf(out, "    %s ", s->phases[i].is_first ? "first" : "last");
    expr_print(out, s->phases[i].length);
    fputs(": ", out);
    expr_print(out, s->phases[i].value);
    fputc('\n', out);
  }
}

void model_dump(FILE *out, const Program *p) {
  fprintf(out, "program %s (from %s)\n", p->program_name, p->source_name);
  fprintf(out, "data %s: ", p->data_name);
  const char *cases = p->n_cases ? arena_printf("%d cases", p->n_cases)
                                 : "every case in the file";
  if (p->data_kind == DATA_CURVES)
    fprintf(out, "curves, %s, seed %ld\n", cases, p->data_seed);
  else if (p->data_kind == DATA_IDX)
    fprintf(out, "idx images \"%s\"%s%s%s, %s\n", p->images_path,
            p->labels_path ? " labels \"" : "",
            p->labels_path ? p->labels_path : "", p->labels_path ? "\"" : "",
            cases);
  else
    fprintf(out, "npy \"%s\"%s%s%s, %s\n", p->npy_path,
            p->targets_path ? " targets \"" : "",
            p->targets_path ? p->targets_path : "", p->targets_path ? "\"" : "",
            cases);
  fprintf(out, "net %s: %s %s, loss %s\n", p->net_name,
          p->is_autoencoder ? "autoencoder" : "feedforward", model_shape(p),
          loss_name(p->loss));
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
  for (int i = 0; i < p->n_consts; i++)
    fprintf(out, "  const %s = %.17g\n", p->consts[i].name,
            p->consts[i].folded);
  schedule_print(out, "epsilon", &p->epsilon);
  if (p->method != METHOD_SGD)
    schedule_print(out, "mu", &p->mu);
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
