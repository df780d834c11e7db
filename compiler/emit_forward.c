/* emit_forward.c — the layer functions, the forward pass, and the loss and
 * error of a minibatch. */
#include "mdlc.h"

#include <string.h>

/* The function for the program's precision: libm's exp and tanh in
 * float64; in float32 the runtime's inline, vectorizable mdl_expf and
 * mdl_tanhf (mdl/fastmath.h), since one libm call per element costs more
 * than the matrix products. */
static const char *fn(const Emitter *e, const char *name) {
  if (e->opt->use_double)
    return name;
  if (strcmp(name, "exp") == 0 || strcmp(name, "tanh") == 0)
    return arena_printf("mdl_%sf", name);
  return arena_printf("%sf", name);
}

/* One pass over a minibatch that adds the bias and applies φ in place. */
static void emit_units(Emitter *e, Activation act) {
  const char *r = e->real;
  const char *body;
  switch (act) {
  case ACT_SIGMOID:
    emit_line(e, "/* Logistic units: a = σ(z + b) = 1 / (1 + e^-(z + b)). */");
    body = arena_printf("row[c] = 1 / (1 + %s(-(row[c] + bias[c])));",
                        fn(e, "exp"));
    break;
  case ACT_TANH:
    emit_line(e, "/* Hyperbolic tangent units: a = tanh(z + b). */");
    body = arena_printf("row[c] = %s(row[c] + bias[c]);", fn(e, "tanh"));
    break;
  default:
    emit_line(e, "/* Linear units: a = z + b. */");
    body = "row[c] += bias[c];";
    break;
  }
  emit_line(e,
            "static void %s_units(int rows, int cols, const %s *bias, %s "
            "*a) {",
            activation_name(act), r, r);
  emit_line(e, "  for (int i = 0; i < rows; i++) {");
  emit_line(e, "    %s *row = a + (long)i * cols;", r);
  emit_line(e, "    for (int c = 0; c < cols; c++)");
  emit_line(e, "      %s", body);
  emit_line(e, "  }");
  emit_line(e, "}");
  emit_blank(e);
}

/* The output layer keeps its total input z for the loss, and writes y. */
static void emit_output_units(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  Activation act = p->layers[p->n_layers - 1].act;
  switch (act) {
  case ACT_SIGMOID:
    emit_line(e, "/* The output units, logistic: z += b, y = σ(z). z is kept "
                 "for the loss. */");
    break;
  case ACT_TANH:
    emit_line(e, "/* The output units, tanh: z += b, y = tanh(z). */");
    break;
  case ACT_LINEAR:
    emit_line(e, "/* The output units, linear: z += b, y = z. */");
    break;
  case ACT_SOFTMAX:
    emit_line(e, "/* The output units, softmax: z += b, y_c = e^z_c / Σ_k "
                 "e^z_k, computed");
    emit_line(e, " * with the row's largest z subtracted so that e^z cannot "
                 "overflow. */");
    break;
  }
  emit_line(e,
            "static void output_units(int rows, int cols, const %s *bias, "
            "%s *z, %s *y) {",
            r, r, r);
  emit_line(e, "  for (int i = 0; i < rows; i++) {");
  emit_line(e, "    %s *zr = z + (long)i * cols, *yr = y + (long)i * cols;", r);
  if (act == ACT_SOFTMAX) {
    emit_line(e, "    %s largest = zr[0] + bias[0];", r);
    emit_line(e, "    for (int c = 0; c < cols; c++) {");
    emit_line(e, "      zr[c] += bias[c];");
    emit_line(e, "      largest = %s(largest, zr[c]);", fn(e, "fmax"));
    emit_line(e, "    }");
    emit_line(e, "    %s sum = 0;", r);
    emit_line(e, "    for (int c = 0; c < cols; c++) {");
    emit_line(e, "      yr[c] = %s(zr[c] - largest);", fn(e, "exp"));
    emit_line(e, "      sum += yr[c];");
    emit_line(e, "    }");
    emit_line(e, "    for (int c = 0; c < cols; c++)");
    emit_line(e, "      yr[c] /= sum;");
  } else {
    emit_line(e, "    for (int c = 0; c < cols; c++) {");
    emit_line(e, "      zr[c] += bias[c];");
    if (act == ACT_SIGMOID)
      emit_line(e, "      yr[c] = 1 / (1 + %s(-zr[c]));", fn(e, "exp"));
    else if (act == ACT_TANH)
      emit_line(e, "      yr[c] = %s(zr[c]);", fn(e, "tanh"));
    else
      emit_line(e, "      yr[c] = zr[c];");
    emit_line(e, "    }");
  }
  emit_line(e, "  }");
  emit_line(e, "}");
  emit_blank(e);
}

void emit_layer_functions(Emitter *e) {
  const Program *p = e->p;
  emit_line(e, "/* ---- Layers ----");
  emit_line(e, " * A layer's total input z = a_below W is one matrix product "
               "over the whole");
  emit_line(e, " * minibatch (BLAS); then a single pass adds the bias and "
               "applies the units'");
  emit_line(e, " * nonlinearity φ, while the numbers are still in cache. */");
  emit_blank(e);
  static const Activation hidden[] = {ACT_SIGMOID, ACT_TANH, ACT_LINEAR};
  for (int i = 0; i < 3; i++)
    if (model_hidden_uses(p, hidden[i])) {
      emit_units(e, hidden[i]);
      if (hidden[i] != ACT_LINEAR)
        emit_units_derivative(e, hidden[i]);
    }
  emit_output_units(e);
}

static void emit_activations_struct(Emitter *e) {
  const Program *p = e->p;
  emit_line(e, "/* The activities of every layer for one minibatch, a row "
               "per case. */");
  emit_line(e, "typedef struct {");
  for (int l = 0; l < p->n_layers - 1; l++)
    emit_line(e, "  %s *%s; /* BATCH × N_%s */", e->real, p->layers[l].name,
              p->layers[l].upper);
  emit_line(e, "  %s *output_z; /* the output units' total input */", e->real);
  emit_line(e, "  %s *output;", e->real);
  emit_line(e, "  %s *target; /* what the output should be%s */", e->real,
            p->is_autoencoder ? ": the input itself" : "");
  emit_line(e, "} Activations;");
  emit_blank(e);
}

void emit_forward(Emitter *e) {
  const Program *p = e->p;
  emit_line(e, "/* ---- The forward pass ---- */");
  emit_blank(e);
  emit_activations_struct(e);
  emit_line(e,
            "static void forward(const %s *theta, Activations *a, int "
            "rows) {",
            e->real);
  for (int l = 1; l < p->n_layers; l++) {
    const Layer *below = &p->layers[l - 1], *L = &p->layers[l];
    const Block *w = model_weights_into(p, l), *b = w + 1;
    bool is_output = l == p->n_layers - 1;
    const char *z = arena_printf("a_%s %s + %s", below->name, w->name, b->name);
    if (L->act != ACT_LINEAR)
      z = arena_printf(
          "%s(%s)", L->act == ACT_SIGMOID ? "σ" : activation_name(L->act), z);
    const char *what = arena_printf("%s: %d %s units", L->name, L->size,
                                    activation_name(L->act));
    const char *formula = arena_printf("a_%s = %s", L->name, z);
    /* One line when it fits in 80 columns (σ is two bytes, one column). */
    if (strlen(what) + strlen(formula) + 10 <= 81)
      emit_line(e, "  /* %s, %s */", what, formula);
    else
      emit_line(e, "  /* %s,\n   *   %s */", what, formula);
    emit_line(e,
              "  %s(MDL_PLAIN, MDL_PLAIN, rows, N_%s, N_%s, 1, a->%s, "
              "theta + %s, 0, a->%s);",
              e->gemm, L->upper, below->upper, below->name, w->upper,
              is_output ? "output_z" : L->name);
    if (is_output)
      emit_line(e,
                "  output_units(rows, N_%s, theta + %s, a->output_z, "
                "a->output);",
                L->upper, b->upper);
    else
      emit_line(e, "  %s_units(rows, N_%s, theta + %s, a->%s);",
                activation_name(L->act), L->upper, b->upper, L->name);
  }
  emit_line(e, "}");
  emit_blank(e);
}

/* The comment that says what is minimized: the loss of one case. */
static void emit_loss_comment(Emitter *e) {
  const Program *p = e->p;
  const Layer *out = &p->layers[p->n_layers - 1];
  if (p->loss == LOSS_CROSS_ENTROPY && out->act == ACT_SIGMOID) {
    emit_line(e, " * The loss minimized is the cross-entropy of the logistic "
                 "outputs,");
    emit_line(e, " *   L = -Σ t log y + (1 - t) log(1 - y) = Σ log(1 + e^z) "
                 "- t z,");
    emit_line(e, " * computed from z as max(z, 0) + log(1 + e^-|z|) - t z, "
                 "which never");
    emit_line(e, " * takes the log of 0.");
  } else if (p->loss == LOSS_CROSS_ENTROPY) {
    emit_line(e, " * The loss minimized is the cross-entropy of the softmax "
                 "outputs,");
    emit_line(e, " *   L = -Σ_c t_c log y_c = log Σ_k e^z_k - Σ_c t_c z_c "
                 "(when Σ t = 1).");
  } else {
    emit_line(e, " * The loss minimized is the squared error L = ½ Σ (y - "
                 "t)^2.");
  }
}

/* output_loss(z, y, t): the loss of one row of outputs. Its terms are
 * summed in long double, which keeps their rounding far below what
 * --check-gradients differentiates. */
static void emit_output_loss(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  Activation act = p->layers[p->n_layers - 1].act;
  emit_line(e, "/* L for one row of outputs, summed in long double: its "
               "rounding stays far");
  emit_line(e, " * below what --check-gradients differentiates. */");
  emit_line(e,
            "static long double output_loss(const %s *z, const %s *y, const "
            "%s *t) {",
            r, r, r);
  if (act == ACT_SOFTMAX) {
    emit_line(e, "  (void)y;");
    emit_line(e, "  long double largest = z[0], sum = 0, tz = 0;");
    emit_line(e, "  for (int c = 0; c < N_OUTPUT; c++)");
    emit_line(e, "    largest = fmaxl(largest, z[c]);");
    emit_line(e, "  for (int c = 0; c < N_OUTPUT; c++) {");
    emit_line(e, "    sum += expl(z[c] - largest);");
    emit_line(e, "    tz += t[c] * (z[c] - largest);");
    emit_line(e, "  }");
    emit_line(e, "  return logl(sum) - tz;");
  } else {
    emit_line(e, "  long double loss = 0;");
    if (p->loss == LOSS_CROSS_ENTROPY) {
      emit_line(e, "  (void)y;");
      emit_line(e, "  for (int c = 0; c < N_OUTPUT; c++)");
      emit_line(e, "    loss += fmax(z[c], 0) + log1p(exp(-fabs(z[c]))) - t[c] "
                   "* z[c];");
    } else {
      emit_line(e, "  (void)z;");
      emit_line(e, "  for (int c = 0; c < N_OUTPUT; c++)");
      emit_line(e, "    loss += 0.5 * ((double)y[c] - t[c]) * ((double)y[c] - "
                   "t[c]);");
    }
    emit_line(e, "  return loss;");
  }
  emit_line(e, "}");
  emit_blank(e);
}

void emit_loss(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  bool classify = model_is_classifier(p);
  emit_line(e, "/* ---- The loss and the error ----");
  emit_loss_comment(e);
  if (classify)
    emit_line(e, " * The error reported is the fraction of cases whose "
                 "largest output is not the target's class. */");
  else
    emit_line(e, " * The error reported is the paper's: the squared error Σ "
                 "(y - t)^2 summed\n * over the output units (no ½), averaged "
                 "over cases. */");
  emit_blank(e);
  emit_output_loss(e);
  if (classify) {
    emit_line(e, "/* 1 when the largest output is not the target's class. */");
    emit_line(e, "static int output_error(const %s *y, const %s *t) {", r, r);
    emit_line(e, "  int guess = 0, truth = 0;");
    emit_line(e, "  for (int c = 1; c < N_OUTPUT; c++) {");
    emit_line(e, "    guess = y[c] > y[guess] ? c : guess;");
    emit_line(e, "    truth = t[c] > t[truth] ? c : truth;");
    emit_line(e, "  }");
    emit_line(e, "  return guess != truth;");
  } else {
    emit_line(e, "/* The squared error Σ (y - t)^2 of one row of outputs. */");
    emit_line(e, "static long double output_error(const %s *y, const %s *t) {",
              r, r);
    emit_line(e, "  long double error = 0;");
    emit_line(e, "  for (int c = 0; c < N_OUTPUT; c++)");
    emit_line(e, "    error += ((double)y[c] - t[c]) * ((double)y[c] - t[c]);");
    emit_line(e, "  return error;");
  }
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "/* Adds the loss and the error of the first rows cases. */");
  emit_line(e, "static void measure(const Activations *a, int rows, double "
               "*loss, double *error) {");
  emit_line(e, "  long double loss_sum = 0, error_sum = 0;");
  emit_line(e, "  for (int i = 0; i < rows; i++) {");
  emit_line(e, "    long row = (long)i * N_OUTPUT;");
  emit_line(e, "    loss_sum += output_loss(a->output_z + row, a->output + "
               "row, a->target + row);");
  emit_line(e, "    error_sum += output_error(a->output + row, a->target + "
               "row);");
  emit_line(e, "  }");
  emit_line(e, "  *loss += (double)loss_sum;");
  emit_line(e, "  *error += (double)error_sum;");
  emit_line(e, "}");
  emit_blank(e);
}

/* The loss of a recurrent net, summed over the steps that have targets:
 * every step, or only the last of each sequence. The error (zero-one) is
 * the runtime's, since it depends on the problem. */
void emit_recurrent_loss(Emitter *e) {
  const Program *p = e->p;
  emit_line(e, "/* ---- The loss ----");
  emit_loss_comment(e);
  emit_line(e,
            " * A sequence's loss is the sum of L over its %s; the "
            "objective is the",
            p->loss_recall  ? "recall steps (the blanks before them carry "
                              "none)"
            : p->every_step ? "steps"
                            : "last step (its only target)");
  if (p->loss_per_target) {
    emit_line(e, " * mean per target step: the summed loss of a minibatch "
                 "divided by its");
    emit_line(e, " * sequences × TARGET_STEPS, as Sutskever's code divides by "
                 "the count of its");
    emit_line(e, " * mask (docs/data.md says what this means for ε). */");
  } else {
    emit_line(e, " * mean over the sequences of a minibatch. */");
  }
  emit_blank(e);
  emit_output_loss(e);
  emit_line(e, "/* Adds the loss of the first rows sequences%s. */",
            p->loss_per_target ? ", each divided by TARGET_STEPS" : "");
  emit_line(e, "static void measure(const Activations *a, int rows, double "
               "*loss) {");
  emit_line(e, "  long double loss_sum = 0;");
  emit_line(e, "  for (int b = 0; b < rows; b++) {");
  if (p->every_step) {
    emit_line(e, "    for (int s = %s; s < a->length[b]; s++) {",
              p->loss_recall ? "a->length[b] - TARGET_STEPS" : "0");
    emit_line(e, "      long row = ((long)s * BATCH + b) * N_OUTPUT;");
    emit_line(e, "      loss_sum += output_loss(a->output_z + row, a->output "
                 "+ row, a->target + row);");
    emit_line(e, "    }");
  } else {
    emit_line(e, "    long row = (long)b * N_OUTPUT;");
    emit_line(e, "    loss_sum += output_loss(a->output_z + row, a->output + "
                 "row, a->target + row);");
  }
  emit_line(e, "  }");
  emit_line(e, "  *loss += (double)loss_sum%s;",
            p->loss_per_target ? " / TARGET_STEPS" : "");
  emit_line(e, "}");
  emit_blank(e);
}
