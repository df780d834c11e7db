/* emit_backward.c — backpropagation: the gradient of the mean loss over a
 * minibatch, layer by layer from the output down. */
#include "mdlc.h"

/* x ⊙= φ'(z), written with the layer's activities a = φ(z): the deltas on
 * the way down (δ = (δ_above Wᵀ) ⊙ φ'(z)) and, in HF programs, the
 * R-operator on the way up (R{a} = R{z} ⊙ φ'(z)). Emitted beside the units
 * themselves (emit_forward.c). */
void emit_units_derivative(Emitter *e, Activation act) {
  const char *r = e->real;
  if (act == ACT_SIGMOID)
    emit_line(e, "/* x ⊙= σ'(z), where σ'(z) = a (1 - a) with a = σ(z). */");
  else
    emit_line(e, "/* x ⊙= tanh'(z), where tanh'(z) = 1 - a^2 with a = "
                 "tanh(z). */");
  emit_line(e,
            "static void times_%s_derivative(int rows, int cols, const %s "
            "*a, %s *x) {",
            activation_name(act), r, r);
  emit_line(e, "  for (long i = 0; i < (long)rows * cols; i++)");
  if (act == ACT_SIGMOID)
    emit_line(e, "    x[i] *= a[i] * (1 - a[i]);");
  else
    emit_line(e, "    x[i] *= 1 - a[i] * a[i];");
  emit_line(e, "}");
  emit_blank(e);
}

static void emit_output_delta(Emitter *e) {
  const Program *p = e->p;
  emit_output_delta_comment(e, "cases", NULL);
  emit_line(e,
            "static void output_delta(const Activations *a, int rows, %s "
            "*delta) {",
            e->real);
  emit_line(e, "  %s scale = (%s)1 / rows;", e->real, e->real);
  emit_line(e, "  for (long i = 0; i < (long)rows * N_OUTPUT; i++) {");
  emit_line(e, "    %s y = a->output[i];", e->real);
  emit_line(e, "    delta[i] = %s;",
            emit_output_delta_value(p, "y", "a->target[i]"));
  emit_line(e, "  }");
  emit_line(e, "}");
  emit_blank(e);
}

void emit_backward(Emitter *e) {
  const Program *p = e->p;
  emit_line(e, "/* ---- Backpropagation ----");
  emit_line(e, " * From the output down, with δ = ∂L/∂z the deltas of a "
               "layer and a_below");
  emit_line(e, " * the activities of the layer under it:");
  emit_line(e, " *   g_W = a_belowᵀ δ                  one matrix product");
  emit_line(e, " *   g_b = δᵀ 1                        the sum over cases, "
               "as a matrix-vector");
  emit_line(e, " *                                     product with a column "
               "of ones");
  emit_line(e, " *   δ_below = (δ Wᵀ) ⊙ φ'(z_below)    one product, then one "
               "pass");
  emit_line(e, " * The transposes are BLAS flags, not copies. */");
  emit_blank(e);
  emit_line(e, "/* The deltas of every layer above the input. */");
  emit_line(e, "typedef struct {");
  for (int l = 1; l < p->n_layers; l++)
    emit_line(e, "  %s *%s; /* BATCH × N_%s */", e->real, p->layers[l].name,
              p->layers[l].upper);
  emit_line(e, "} Deltas;");
  emit_blank(e);
  emit_line(e, "static %s ones[BATCH]; /* filled with 1 before training */",
            e->real);
  emit_blank(e);
  emit_output_delta(e);

  /* An HF program backpropagates two kinds of output deltas, the loss's
   * and the curvature's (the Gauss-Newton product), so the layer loop is a
   * function of its own there. */
  bool split = p->method == METHOD_HF;
  if (split) {
    emit_line(e, "/* From the output deltas in d->output down: the gradient of "
                 "whatever they are");
    emit_line(e, " * the derivatives of (the loss, for backward()). */");
    emit_line(e,
              "static void backpropagate(const %s *theta, const Activations "
              "*a, Deltas *d, %s *grad, int rows) {",
              e->real, e->real);
  } else {
    emit_line(e,
              "static void backward(const %s *theta, const Activations *a, "
              "Deltas *d, %s *grad, int rows) {",
              e->real, e->real);
  }
  if (p->n_layers == 2)
    emit_line(e, "  (void)theta; /* one layer: no deltas below it to "
                 "propagate */");
  if (!split)
    emit_line(e, "  output_delta(a, rows, d->output);");
  for (int l = p->n_layers - 1; l >= 1; l--) {
    const Layer *L = &p->layers[l], *below = &p->layers[l - 1];
    const Block *w = model_weights_into(p, l), *b = w + 1;
    if (!split || l < p->n_layers - 1)
      emit_blank(e);
    emit_line(e, "  /* ∂L/∂%s = a_%sᵀ δ_%s */", w->name, below->name, L->name);
    emit_line(e,
              "  %s(MDL_TRANSPOSED, MDL_PLAIN, N_%s, N_%s, rows, 1, a->%s, "
              "d->%s, 0, grad + %s);",
              e->gemm, below->upper, L->upper, below->name, L->name, w->upper);
    emit_line(e, "  /* ∂L/∂%s = δ_%sᵀ 1, the sum over the cases */", b->name,
              L->name);
    emit_line(e,
              "  %s(MDL_TRANSPOSED, rows, N_%s, 1, d->%s, ones, 0, grad + "
              "%s);",
              e->gemv, L->upper, L->name, b->upper);
    if (l == 1)
      break;
    if (below->act == ACT_LINEAR)
      emit_line(e, "  /* δ_%s = δ_%s %sᵀ (linear units: φ' = 1) */",
                below->name, L->name, w->name);
    else
      emit_line(e, "  /* δ_%s = (δ_%s %sᵀ) ⊙ %s'(z_%s) */", below->name,
                L->name, w->name,
                below->act == ACT_SIGMOID ? "σ" : activation_name(below->act),
                below->name);
    emit_line(e,
              "  %s(MDL_PLAIN, MDL_TRANSPOSED, rows, N_%s, N_%s, 1, d->%s, "
              "theta + %s, 0, d->%s);",
              e->gemm, below->upper, L->upper, L->name, w->upper, below->name);
    if (below->act != ACT_LINEAR)
      emit_line(e, "  times_%s_derivative(rows, N_%s, a->%s, d->%s);",
                activation_name(below->act), below->upper, below->name,
                below->name);
  }
  emit_line(e, "}");
  emit_blank(e);
  if (!split)
    return;
  emit_line(e, "/* The gradient of the mean loss over rows cases. */");
  emit_line(e,
            "static void backward(const %s *theta, const Activations *a, "
            "Deltas *d, %s *grad, int rows) {",
            e->real, e->real);
  emit_line(e, "  output_delta(a, rows, d->output);");
  emit_line(e, "  backpropagate(theta, a, d, grad, rows);");
  emit_line(e, "}");
  emit_blank(e);
}
