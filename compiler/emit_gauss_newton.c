/* emit_gauss_newton.c — the Gauss-Newton matrix-vector product G v that
 * Hessian-free optimization (sec. 5) builds its quadratic models from, for
 * feed-forward and recurrent nets, and the empirical Fisher diagonal of its
 * preconditioner.
 *
 * G = Jᵀ H_L J, with J the Jacobian of the output units' total input with
 * respect to θ and H_L the Hessian of the loss with respect to that input
 * (Martens 2010). G v takes three passes and forms no matrix: the
 * R-operator forward pass R{·} = J v, the output curvature δ = H_L R{z},
 * and backpropagation of δ, which computes Jᵀ δ exactly as it computes the
 * gradient from the loss's output deltas. */
#include "mdlc.h"

/* (H_L R{z})_c / rows for one output, as a C expression of y (the output
 * y_c), rz_c (R{z_c}) and, for softmax, yrz = Σ_k y_k R{z_k}. */
static const char *curvature_value(const Program *p) {
  Activation act = p->layers[p->n_layers - 1].act;
  if (act == ACT_SOFTMAX)
    return "y * (rz_c - yrz) * scale";
  if (act == ACT_LINEAR)
    return "rz_c * scale";
  if (p->loss == LOSS_CROSS_ENTROPY) /* logistic units */
    return "y * (1 - y) * rz_c * scale";
  if (act == ACT_SIGMOID) /* squared error: H = φ'(z)² on z */
    return "y * (1 - y) * y * (1 - y) * rz_c * scale";
  return "(1 - y * y) * (1 - y * y) * rz_c * scale";
}

static void emit_curvature_comment(Emitter *e, const char *what) {
  const Program *p = e->p;
  Activation act = p->layers[p->n_layers - 1].act;
  emit_line(e,
            "/* The output curvature δ = H_L R{z} / %s for the mean loss "
            "over rows %s.",
            emit_loss_divisor(p), what);
  if (act == ACT_SOFTMAX)
    emit_line(e, " * Softmax with cross-entropy: H_L = diag(y) - y yᵀ, so δ_c "
                 "= y_c (R{z_c} - yᵀR{z}). */");
  else if (act == ACT_LINEAR)
    emit_line(e, " * Linear units with squared error: H_L = I. */");
  else if (p->loss == LOSS_CROSS_ENTROPY)
    emit_line(e, " * Logistic units with cross-entropy: H_L = diag(y (1 - "
                 "y)). */");
  else
    emit_line(e,
              " * Squared error on %s units does not match them: the "
              "Gauss-Newton H_L is\n * then φ'(z)² (the Hessian of ½(y - "
              "t)² through y, without its φ'' term). */",
              activation_name(act));
}

/* The loop body of one row of outputs: δ from y and R{z}. */
static void emit_curvature_row(Emitter *e, const char *indent,
                               const char *counts) {
  const Program *p = e->p;
  const char *r = e->real;
  bool softmax = p->layers[p->n_layers - 1].act == ACT_SOFTMAX;
  if (softmax) {
    emit_line(e, "%s%s yrz = 0;", indent, r);
    emit_line(e, "%sfor (int c = 0; c < N_OUTPUT; c++)", indent);
    emit_line(e, "%s  yrz += a->output[row + c] * rz[row + c];", indent);
  }
  emit_line(e, "%sfor (int c = 0; c < N_OUTPUT; c++) {", indent);
  if (p->layers[p->n_layers - 1].act == ACT_LINEAR)
    emit_line(e, "%s  %s rz_c = rz[row + c];", indent, r);
  else
    emit_line(e, "%s  %s y = a->output[row + c], rz_c = rz[row + c];", indent,
              r);
  const char *use = curvature_value(p);
  if (counts)
    emit_line(e, "%s  delta[row + c] = %s ? %s : 0;", indent, counts, use);
  else
    emit_line(e, "%s  delta[row + c] = %s;", indent, use);
  emit_line(e, "%s}", indent);
}

static void emit_add_bias(Emitter *e) {
  const char *r = e->real;
  emit_line(e, "/* z += b on every row: the bias part of a direction. */");
  emit_line(e,
            "static void add_bias(int rows, int cols, const %s *bias, %s *z) "
            "{",
            r, r);
  emit_line(e, "  for (int i = 0; i < rows; i++)");
  emit_line(e, "    for (int c = 0; c < cols; c++)");
  emit_line(e, "      z[(long)i * cols + c] += bias[c];");
  emit_line(e, "}");
  emit_blank(e);
}

/* R{a} = φ'(z) ⊙ R{z} in place: the same product as backpropagation's. */
static void emit_times_derivative(Emitter *e, const Layer *L, const char *z) {
  if (L->act == ACT_LINEAR)
    return;
  emit_line(e, "  times_%s_derivative(rows, N_%s, a->%s, %s);",
            activation_name(L->act), L->upper, L->name, z);
}

static void emit_feedforward_gauss_newton(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  emit_line(e, "/* ---- The Gauss-Newton product (sec. 5, Martens 2010) ----");
  emit_line(e, " * HF's quadratic model has the curvature G = Jᵀ H_L J: J "
               "the Jacobian of the");
  emit_line(e, " * output units' total input z with respect to θ, H_L the "
               "Hessian of the loss");
  emit_line(e, " * with respect to z. G is positive semi-definite, unlike "
               "the Hessian, and G v");
  emit_line(e, " * costs about one gradient. With V the direction v laid out "
               "like θ:");
  emit_line(e, " *   R{z_l} = a_{l-1} V_l + R{a_{l-1}} W_l + V_b   the "
               "R-operator: R{·} = J v");
  emit_line(e, " *   R{a_l} = φ'(z_l) ⊙ R{z_l}                     "
               "(R{a_input} = 0)");
  emit_line(e, " *   δ      = H_L R{z_output} / rows               the output "
               "curvature");
  emit_line(e, " *   G v    = backpropagate(δ)                     = Jᵀ δ */");
  emit_blank(e);
  emit_line(e, "/* R{z}, then R{a} in its place, of every layer above the "
               "input. */");
  emit_line(e, "typedef struct {");
  for (int l = 1; l < p->n_layers; l++)
    emit_line(e, "  %s *%s; /* BATCH × N_%s */", r, p->layers[l].name,
              p->layers[l].upper);
  emit_line(e, "} RActivations;");
  emit_blank(e);
  emit_add_bias(e);
  emit_line(e,
            "static void r_forward(const %s *theta, const %s *v, "
            "const Activations *a, RActivations *ra, int rows) {",
            r, r);
  if (p->n_layers == 2)
    emit_line(e, "  (void)theta; /* one layer: the inputs do not move */");
  for (int l = 1; l < p->n_layers; l++) {
    const Layer *below = &p->layers[l - 1], *L = &p->layers[l];
    const Block *w = model_weights_into(p, l), *b = w + 1;
    emit_line(e, "  /* %s: R{z} = a_%s V%s + V_b */", L->name, below->name,
              l > 1 ? arena_printf(" + R{a_%s} W", below->name) : "");
    emit_line(e,
              "  %s(MDL_PLAIN, MDL_PLAIN, rows, N_%s, N_%s, 1, a->%s, v + %s, "
              "0, ra->%s);",
              e->gemm, L->upper, below->upper, below->name, w->upper, L->name);
    if (l > 1)
      emit_line(e, "  /* + R{a_%s} W */", below->name);
    if (l > 1)
      emit_line(e,
                "  %s(MDL_PLAIN, MDL_PLAIN, rows, N_%s, N_%s, 1, ra->%s, "
                "theta + %s, 1, ra->%s);",
                e->gemm, L->upper, below->upper, below->name, w->upper,
                L->name);
    emit_line(e, "  add_bias(rows, N_%s, v + %s, ra->%s);", L->upper, b->upper,
              L->name);
    if (l < p->n_layers - 1)
      emit_times_derivative(e, L, arena_printf("ra->%s", L->name));
  }
  emit_line(e, "}");
  emit_blank(e);
  emit_curvature_comment(e, "cases");
  emit_line(e,
            "static void output_curvature(const Activations *a, const %s *rz, "
            "int rows, %s *delta) {",
            r, r);
  emit_line(e, "  %s scale = (%s)1 / rows;", r, r);
  if (p->layers[p->n_layers - 1].act == ACT_LINEAR)
    emit_line(e, "  (void)a; /* H_L = I needs nothing of the forward pass */");
  emit_line(e, "  for (int i = 0; i < rows; i++) {");
  emit_line(e, "    long row = (long)i * N_OUTPUT;");
  emit_curvature_row(e, "    ", NULL);
  emit_line(e, "  }");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "/* gv = G v for the first rows cases, from their forward pass "
               "in a. */");
  emit_line(e,
            "static void gauss_newton(const %s *theta, const %s *v, const "
            "Activations *a, RActivations *ra, Deltas *d, %s *gv, int rows) {",
            r, r, r);
  emit_line(e, "  r_forward(theta, v, a, ra, rows);");
  emit_line(e, "  output_curvature(a, ra->output, rows, d->output);");
  emit_line(e, "  backpropagate(theta, a, d, gv, rows);");
  emit_line(e, "}");
  emit_blank(e);
}

/* The empirical Fisher diagonal of Martens' preconditioner. */
static void emit_fisher(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  emit_line(e, "/* The diagonal of the empirical Fisher, for Martens' "
               "preconditioner: the");
  emit_line(e, " * sum over cases of each parameter's squared gradient for "
               "that case alone.");
  emit_line(e, " * A case's gradient of W is rows · a_belowᵀ δ (δ carries 1 / "
               "rows), so the sum");
  emit_line(e, " * over the cases is rows² (a_below ⊙ a_below)ᵀ (δ ⊙ δ): one "
               "product per block. */");
  emit_line(e, "static void square(long n, const %s *x, %s *squared) {", r, r);
  emit_line(e, "  for (long i = 0; i < n; i++)");
  emit_line(e, "    squared[i] = x[i] * x[i];");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e,
            "static void add_fisher(const Activations *a, const Deltas *d, int "
            "rows, %s *fisher, %s *below, %s *above) {",
            r, r, r);
  emit_line(e, "  %s weight = (%s)rows * rows;", r, r);
  for (int l = p->n_layers - 1; l >= 1; l--) {
    const Layer *L = &p->layers[l], *lower = &p->layers[l - 1];
    const Block *w = model_weights_into(p, l), *b = w + 1;
    emit_line(e, "  /* %s and %s: the squares of a_%s and δ_%s */", w->name,
              b->name, lower->name, L->name);
    emit_line(e, "  square((long)rows * N_%s, a->%s, below);", lower->upper,
              lower->name);
    emit_line(e, "  square((long)rows * N_%s, d->%s, above);", L->upper,
              L->name);
    emit_line(e, "  /* diag F_%s += rows² belowᵀ above */", w->name);
    emit_line(e,
              "  %s(MDL_TRANSPOSED, MDL_PLAIN, N_%s, N_%s, rows, weight, "
              "below, above, 1, fisher + %s);",
              e->gemm, lower->upper, L->upper, w->upper);
    emit_line(e, "  /* diag F_%s += rows² aboveᵀ 1 */", b->name);
    emit_line(e,
              "  %s(MDL_TRANSPOSED, rows, N_%s, weight, above, ones, 1, fisher "
              "+ %s);",
              e->gemv, L->upper, b->upper);
  }
  emit_line(e, "}");
  emit_blank(e);
}

/* The R-operator R{·} = J v of a recurrent net, forward through time: the
 * directional derivative of every activity along a direction v of θ. HF's
 * Gauss-Newton product starts with it; --check-gradients compares it with
 * backpropagation through time. */
void emit_recurrent_r_forward(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  const Layer *hidden = &p->layers[1];
  bool structural = p->method == METHOD_HF && p->hf.structural > 0;
  emit_line(e, "/* The R-operator's activities, laid out like the net's. */");
  emit_line(e, "typedef struct {");
  emit_line(e,
            "  %s *z;      /* R{z_1} .. R{z_MAX_STEPS}, MAX_STEPS × BATCH × "
            "N_HIDDEN */",
            r);
  emit_line(e, "  %s *h;      /* R{h_0} .. R{h_MAX_STEPS} */", r);
  if (!p->every_step)
    emit_line(e, "  %s *last;   /* R{h_L} of each sequence */", r);
  emit_line(e, "  %s *output; /* R{z} of the outputs */", r);
  emit_line(e, "} RActivations;");
  emit_blank(e);
  emit_line(e, "static RActivations new_r_activations(void) {");
  emit_line(e, "  RActivations ra;");
  emit_line(e, "  ra.z = mdl_alloc(sizeof(%s) * MAX_STEPS * BATCH * N_HIDDEN);",
            r);
  emit_line(e,
            "  ra.h = mdl_alloc(sizeof(%s) * (MAX_STEPS + 1) * BATCH * "
            "N_HIDDEN);",
            r);
  if (!p->every_step)
    emit_line(e, "  ra.last = mdl_alloc(sizeof(%s) * BATCH * N_HIDDEN);", r);
  emit_line(e, "  ra.output = mdl_alloc(sizeof(%s) * %s * N_OUTPUT);", r,
            p->every_step ? "MAX_STEPS * BATCH" : "BATCH");
  emit_line(e, "  return ra;");
  emit_line(e, "}");
  emit_blank(e);
  emit_add_bias(e);
  emit_line(e,
            "static void r_forward(const %s *theta, const %s *v, "
            "const Activations *a, RActivations *ra) {",
            r, r);
  emit_line(e, "  int steps = longest(a->length);");
  emit_line(e, "  const %s *h = a->hidden;", r);
  if (p->learned_initial) {
    emit_line(e, "  /* R{h_0} = the direction of the initial state */");
    emit_line(e, "  for (int b = 0; b < BATCH; b++)");
    emit_line(e, "    for (int j = 0; j < N_HIDDEN; j++)");
    emit_line(e, "      ra->h[b * N_HIDDEN + j] = v[INITIAL_HIDDEN + j];");
  } else {
    emit_line(e, "  for (int i = 0; i < BATCH * N_HIDDEN; i++)");
    emit_line(e, "    ra->h[i] = 0; /* R{h_0} = 0 */");
  }
  emit_line(e, "  /* R{z_s} = x_s V_ih for every step s: one product */");
  emit_line(e,
            "  %s(MDL_PLAIN, MDL_PLAIN, steps * BATCH, N_HIDDEN, N_INPUT, 1, "
            "a->input, v + INPUT_TO_HIDDEN, 0, ra->z);",
            e->gemm);
  emit_line(e, "  for (int s = 1; s <= steps; s++) {");
  emit_line(e, "    %s *rz_s = ra->z + (long)(s - 1) * BATCH * N_HIDDEN;", r);
  emit_line(e, "    %s *rh_s = ra->h + (long)s * BATCH * N_HIDDEN;", r);
  emit_line(e, "    /* R{z_s} += h_{s-1} V_hh */");
  emit_line(e,
            "    %s(MDL_PLAIN, MDL_PLAIN, BATCH, N_HIDDEN, N_HIDDEN, 1, h + "
            "(long)(s - 1) * BATCH * N_HIDDEN, v + HIDDEN_TO_HIDDEN, 1, "
            "rz_s);",
            e->gemm);
  emit_line(e, "    /* + R{h_{s-1}} W_hh */");
  emit_line(e,
            "    %s(MDL_PLAIN, MDL_PLAIN, BATCH, N_HIDDEN, N_HIDDEN, 1, rh_s - "
            "BATCH * N_HIDDEN, theta + HIDDEN_TO_HIDDEN, 1, rz_s);",
            e->gemm);
  emit_line(e, "    add_bias(BATCH, N_HIDDEN, v + HIDDEN_BIAS, rz_s);");
  /* φ' written out here rather than borrowed from backpropagation, so
   * that --check-gradients compares two independent computations. */
  const char *derivative = hidden->act == ACT_TANH ? "(1 - h_s[i] * h_s[i]) * "
                           : hidden->act == ACT_SIGMOID
                               ? "h_s[i] * (1 - h_s[i]) * "
                               : "";
  emit_line(e, "    /* R{h_s} = φ'(z_s) ⊙ R{z_s}, keeping R{z_s}%s */",
            structural ? " for structural damping" : "");
  if (hidden->act != ACT_LINEAR)
    emit_line(e, "    const %s *h_s = h + (long)s * BATCH * N_HIDDEN;", r);
  emit_line(e, "    for (int i = 0; i < BATCH * N_HIDDEN; i++)");
  emit_line(e, "      rh_s[i] = %srz_s[i];", derivative);
  emit_line(e, "  }");
  if (p->every_step) {
    emit_line(e, "  /* The outputs of every step: R{o} = h V_ho + R{h} W_ho + "
                 "V_bo */");
    emit_line(e,
              "  %s(MDL_PLAIN, MDL_PLAIN, steps * BATCH, N_OUTPUT, N_HIDDEN, "
              "1, h + BATCH * N_HIDDEN, v + HIDDEN_TO_OUTPUT, 0, ra->output);",
              e->gemm);
    emit_line(e, "  /* + R{h} W_ho */");
    emit_line(e,
              "  %s(MDL_PLAIN, MDL_PLAIN, steps * BATCH, N_OUTPUT, N_HIDDEN, "
              "1, ra->h + BATCH * N_HIDDEN, theta + HIDDEN_TO_OUTPUT, 1, "
              "ra->output);",
              e->gemm);
    emit_line(e, "  add_bias(steps * BATCH, N_OUTPUT, v + OUTPUT_BIAS, "
                 "ra->output);");
  } else {
    emit_line(e, "  /* Each sequence's output from its last step: R{o} = h_L "
                 "V_ho + R{h_L} W_ho + V_bo */");
    emit_line(e, "  for (int b = 0; b < BATCH; b++)");
    emit_line(e, "    for (int j = 0; j < N_HIDDEN; j++)");
    emit_line(e, "      ra->last[b * N_HIDDEN + j] = ra->h[((long)a->length[b] "
                 "* BATCH + b) * N_HIDDEN + j];");
    emit_line(e, "  /* R{o} = h_L V_ho */");
    emit_line(e,
              "  %s(MDL_PLAIN, MDL_PLAIN, BATCH, N_OUTPUT, N_HIDDEN, 1, "
              "a->last, v + HIDDEN_TO_OUTPUT, 0, ra->output);",
              e->gemm);
    emit_line(e, "  /* + R{h_L} W_ho */");
    emit_line(e,
              "  %s(MDL_PLAIN, MDL_PLAIN, BATCH, N_OUTPUT, N_HIDDEN, 1, "
              "ra->last, theta + HIDDEN_TO_OUTPUT, 1, ra->output);",
              e->gemm);
    emit_line(e, "  add_bias(BATCH, N_OUTPUT, v + OUTPUT_BIAS, ra->output);");
  }
  emit_line(e, "}");
  emit_blank(e);
}

static void emit_recurrent_gauss_newton(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  bool structural = p->hf.structural > 0;
  emit_line(e, "/* ---- The Gauss-Newton product (sec. 5; Martens & Sutskever "
               "2011) ----");
  emit_line(e, " * HF's quadratic model has the curvature G = Jᵀ H_L J: J "
               "the Jacobian of the");
  emit_line(e, " * output units' total input with respect to θ, H_L the "
               "Hessian of the loss");
  emit_line(e, " * with respect to it. With V the direction v laid out like "
               "θ, the R-operator");
  emit_line(e, " * R{·} = J v runs forward through time like the net:");
  emit_line(e,
            " *   R{z_s} = x_s V_ih + h_{s-1} V_hh + R{h_{s-1}} W_hh + "
            "V_b      (R{h_0} = %s)",
            p->learned_initial ? "V_h0" : "0");
  emit_line(e, " *   R{h_s} = φ'(z_s) ⊙ R{z_s}");
  emit_line(e, " *   R{o_s} = h_s V_ho + R{h_s} W_ho + V_bo                  "
               "the outputs' R{z}");
  emit_line(e, " * then δ = H_L R{o} / rows, and G v is δ backpropagated "
               "through time. */");
  emit_blank(e);
  emit_recurrent_r_forward(e);
  emit_curvature_comment(e, p->loss_recall ? "sequences, at their recall steps"
                                           : "sequences, at their own steps");
  emit_line(e,
            "static void output_curvature(const Activations *a, const %s *rz, "
            "int rows, %s *delta) {",
            r, r);
  emit_line(e, "  %s scale = %s;", r, emit_loss_scale(e));
  if (p->every_step) {
    emit_line(e, "  int steps = longest(a->length);");
    emit_line(e, "  for (int s = 0; s < steps; s++)");
    emit_line(e, "    for (int b = 0; b < BATCH; b++) {");
    emit_line(e, "      long row = ((long)s * BATCH + b) * N_OUTPUT;");
    emit_line(e, "      int counts = %s;", emit_loss_counts(p));
    emit_curvature_row(e, "      ", "counts");
    emit_line(e, "    }");
  } else {
    if (p->layers[p->n_layers - 1].act == ACT_LINEAR)
      emit_line(e, "  (void)a; /* H_L = I needs nothing of the forward pass "
                   "*/");
    emit_line(e, "  for (int b = 0; b < BATCH; b++) {");
    emit_line(e, "    long row = (long)b * N_OUTPUT;");
    emit_line(e, "    int counts = b < rows;");
    emit_curvature_row(e, "    ", "counts");
    emit_line(e, "  }");
  }
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e,
            "/* gv = G v%s for the first rows sequences, from their "
            "forward pass in a. */",
            structural ? " + weight · S v (structural damping)" : "");
  emit_line(e,
            "static void gauss_newton(const %s *theta, const %s *v, const "
            "Activations *a, RActivations *ra, Deltas *d, %s *gv, int rows%s) "
            "{",
            r, r, r, structural ? arena_printf(", %s weight", r) : "");
  emit_line(e, "  r_forward(theta, v, a, ra);");
  emit_line(e, "  output_curvature(a, ra->output, rows, d->output);");
  emit_line(e, "  backpropagate(theta, a, d, gv, rows%s);",
            structural ? ", weight ? ra->z : NULL, weight" : "");
  emit_line(e, "}");
  emit_blank(e);
}

void emit_gauss_newton(Emitter *e) {
  if (e->p->is_recurrent) {
    emit_recurrent_gauss_newton(e);
    return;
  }
  emit_feedforward_gauss_newton(e);
  if (e->p->hf.precondition)
    emit_fisher(e);
}
