/* emit_recurrent.c — a recurrent net unrolled over time: the activities of
 * a minibatch of sequences, the forward pass, and backpropagation through
 * time (BPTT), with every product batched over the minibatch.
 *
 * Sequences are stored time-major: step s of every sequence in the
 * minibatch is one BATCH × N matrix, so one step of the recurrence is one
 * matrix product, and all steps stacked are one tall matrix, so that the
 * products that do not depend on the recurrence (the input weights, the
 * output layer when there are targets at every step, and every weight
 * gradient) are single products over all steps at once. */
#include "mdlc.h"

/* The rows of the output matrices that this minibatch's recurrence fills:
 * one per step it ran of every sequence, or one per sequence (its last
 * step). An expression of `steps`, the steps run. */
static const char *output_rows_run(const Program *p) {
  return p->every_step ? "steps * BATCH" : "BATCH";
}

/* The name of mdl/step.h's function for the program's precision. */
static const char *step_function(const Emitter *e, const char *name) {
  return arena_printf("mdl_%sstep_%s", e->opt->use_double ? "d" : "s", name);
}

/* Where the minibatch splits into its two bands: about half, rounded up to
 * mdl/step.h's tile of 4 rows, so that both bands are whole tiles when
 * BATCH allows (52 and 48 for 100); no more than the minibatch. */
static int band_split(const Program *p) {
  int batch = p->method == METHOD_HF ? p->hf.curvature_batch : p->batch;
  int split = (batch + 7) / 8 * 4;
  return split < batch ? split : batch;
}

/* The two bands of rows, their thread, and run_bands(). */
static void emit_bands(Emitter *e) {
  emit_line(e, "/* The sequences of a minibatch never meet, so the "
               "recurrence runs in two bands");
  emit_line(e, " * of them: rows 0 .. BAND_SPLIT - 1 of every step, and "
               "BAND_SPLIT .. BATCH - 1,");
  emit_line(e, " * side by side on two threads (mdl/helper.h; with one "
               "thread, one after the");
  emit_line(e, " * other). A band's numbers are the same whichever thread "
               "makes them. The");
  emit_line(e, " * split is about half, in whole tiles of mdl/step.h's 4 "
               "rows. */");
  emit_line(e, "enum { BAND_SPLIT = %d };", band_split(e->p));
  emit_blank(e);
  emit_line(e, "/* The first row of a band, and its number of rows */");
  emit_line(e, "static int band_first(int band) { return band ? BAND_SPLIT : "
               "0; }");
  emit_line(e, "static int band_rows(int band) { return band ? BATCH - "
               "BAND_SPLIT : BAND_SPLIT; }");
  emit_blank(e);
  emit_line(e, "/* The second thread, which runs band 1 while this one runs "
               "band 0: made once");
  emit_line(e, " * before training, asleep between passes */");
  emit_line(e, "static mdl_helper *band_helper;");
  emit_blank(e);
  emit_line(e, "/* fn(context, band) for both bands, band 1 on the second "
               "thread */");
  emit_line(e, "static void run_bands(mdl_helper_fn fn, void *context) {");
  emit_line(e, "  mdl_helper_begin(band_helper, fn, context);");
  emit_line(e, "  mdl_helper_post(band_helper, 1);");
  emit_line(e, "  fn(context, 0);");
  emit_line(e, "  mdl_helper_wait(band_helper);");
  emit_line(e, "}");
  emit_blank(e);
}

/* The recurrence of one band, h_s = φ(z_s + h_{s-1} W_hh + b_h). */
static void emit_band_recurrence(Emitter *e) {
  const char *r = e->real;
  const Layer *hidden = &e->p->layers[1];
  emit_line(e, "/* W_hh, packed once per forward pass for the product of "
               "every step");
  emit_line(e, " * (mdl/step.h) */");
  emit_line(e,
            "static %s hidden_to_hidden_packed[MDL_STEP_PACKED_SIZE(%s, "
            "N_HIDDEN, N_HIDDEN)];",
            r, r);
  emit_blank(e);
  emit_line(e, "/* What the recurrence of a band reads and writes */");
  emit_line(e, "typedef struct {");
  emit_line(e, "  const %s *theta;", r);
  emit_line(e, "  %s *hidden; /* h_0 .. h_steps, with z_s = x_s W_ih in h_s */",
            r);
  emit_line(e, "  int steps;");
  emit_line(e, "} Recurrence;");
  emit_blank(e);
  emit_line(e, "/* h_s = φ(z_s + h_{s-1} W_hh + b_h) for s = 1 .. steps, for "
               "the rows of one band */");
  emit_line(e, "static void run_recurrence(void *context, int band) {");
  emit_line(e, "  const Recurrence *rec = context;");
  emit_line(e, "  int first = band_first(band), rows = band_rows(band);");
  emit_line(e, "  for (int s = 1; s <= rec->steps; s++) {");
  emit_line(e,
            "    const %s *h_before = rec->hidden + ((long)(s - 1) * BATCH + "
            "first) * N_HIDDEN;",
            r);
  emit_line(e,
            "    %s *h_s = rec->hidden + ((long)s * BATCH + first) * N_HIDDEN;",
            r);
  emit_line(e, "    /* z_s += h_{s-1} W_hh */");
  emit_line(e,
            "    %s(rows, N_HIDDEN, N_HIDDEN, h_before, "
            "hidden_to_hidden_packed, h_s);",
            step_function(e, "add"));
  emit_line(e, "    /* + b_h, then φ: %d %s units */", hidden->size,
            activation_name(hidden->act));
  emit_line(e, "    %s_units(rows, N_HIDDEN, rec->theta + HIDDEN_BIAS, h_s);",
            activation_name(hidden->act));
  emit_line(e, "  }");
  emit_line(e, "}");
  emit_blank(e);
}

static void emit_activations_struct(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  emit_line(e, "/* The activities of a minibatch of sequences. Step s (from "
               "1) of sequence b");
  emit_line(e, " * is row (s - 1) * BATCH + b of the inputs and row s * BATCH "
               "+ b of the");
  emit_line(e, " * hidden states, whose first BATCH rows hold the initial "
               "state h_0. */");
  emit_line(e, "typedef struct {");
  emit_line(e,
            "  %s *input;    /* x_1 .. x_MAX_STEPS, MAX_STEPS × BATCH × "
            "N_INPUT */",
            r);
  emit_line(e,
            "  %s *hidden;   /* h_0 .. h_MAX_STEPS, (MAX_STEPS + 1) × "
            "BATCH × N_HIDDEN */",
            r);
  if (!p->every_step)
    emit_line(e,
              "  %s *last;     /* each sequence's final state h_L, BATCH × "
              "N_HIDDEN */",
              r);
  emit_line(e,
            "  %s *output_z; /* the output units' total input, one row "
            "per %s */",
            r, p->every_step ? "step" : "sequence");
  emit_line(e, "  %s *output;", r);
  emit_line(e, "  %s *target;", r);
  emit_line(e, "  int length[BATCH]; /* the steps L of each sequence */");
  emit_line(e, "} Activations;");
  emit_blank(e);
  emit_line(e, "/* The number of steps of the longest sequence in the "
               "minibatch: the steps");
  emit_line(e, " * the recurrence runs for. A shorter sequence runs on past "
               "its end, on zero");
  emit_line(e, " * inputs; nothing after its end reaches its loss, so "
               "nothing there reaches");
  emit_line(e, " * its gradient either. */");
  emit_line(e, "static int longest(const int *length) {");
  emit_line(e, "  int steps = 1;");
  emit_line(e, "  for (int b = 0; b < BATCH; b++)");
  emit_line(e, "    steps = length[b] > steps ? length[b] : steps;");
  emit_line(e, "  return steps;");
  emit_line(e, "}");
  emit_blank(e);
}

void emit_recurrent_forward(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  emit_line(e, "/* ---- The forward pass through time ----");
  emit_line(e, " * For each step s = 1 .. L of a sequence x_1 .. x_L,");
  emit_line(e, " *   h_s = φ(x_s W_ih + h_{s-1} W_hh + b_h)     the hidden "
               "state");
  emit_line(e, " *   y_s = φ_out(h_s W_ho + b_o)                the output");
  emit_line(e,
            " * starting from h_0 = %s. The term x_s W_ih does not depend "
            "on the",
            p->learned_initial ? "the learned initial state" : "0");
  emit_line(e, " * recurrence, so it is one product for all steps at once; "
               "the recurrence");
  emit_line(e, " * itself is one product per step (mdl/step.h's, with W_hh "
               "packed once). */");
  emit_blank(e);
  emit_activations_struct(e);
  emit_bands(e);
  emit_band_recurrence(e);
  emit_line(e, "static void forward(const %s *theta, Activations *a) {", r);
  emit_line(e, "  int steps = longest(a->length);");
  emit_line(e, "  %s *h = a->hidden;", r);
  if (p->learned_initial) {
    emit_line(e, "  /* h_0, the learned initial state, for every sequence */");
    emit_line(e, "  for (int b = 0; b < BATCH; b++)");
    emit_line(e, "    for (int j = 0; j < N_HIDDEN; j++)");
    emit_line(e, "      h[b * N_HIDDEN + j] = theta[INITIAL_HIDDEN + j];");
  } else {
    emit_line(e, "  /* h_0 = 0 */");
    emit_line(e, "  for (int i = 0; i < BATCH * N_HIDDEN; i++)");
    emit_line(e, "    h[i] = 0;");
  }
  emit_line(e, "  /* z_s = x_s W_ih for every step s, into the rows of h_1 .. "
               "h_steps */");
  emit_line(e,
            "  %s(MDL_PLAIN, MDL_PLAIN, steps * BATCH, N_HIDDEN, N_INPUT, 1, "
            "a->input, theta + INPUT_TO_HIDDEN, 0, h + BATCH * N_HIDDEN);",
            e->gemm);
  emit_line(e, "  /* the recurrence, a band of the minibatch on each thread */");
  emit_line(e,
            "  %s(MDL_PLAIN, N_HIDDEN, N_HIDDEN, theta + HIDDEN_TO_HIDDEN, "
            "hidden_to_hidden_packed);",
            step_function(e, "pack"));
  emit_line(e, "  Recurrence recurrence = {theta, h, steps};");
  emit_line(e, "  run_bands(run_recurrence, &recurrence);");
  if (p->every_step) {
    emit_line(
        e, "  /* The outputs of every step, o_s = h_s W_ho: one product over "
           "all steps */");
    emit_line(e,
              "  %s(MDL_PLAIN, MDL_PLAIN, steps * BATCH, N_OUTPUT, N_HIDDEN, "
              "1, h + BATCH * N_HIDDEN, theta + HIDDEN_TO_OUTPUT, 0, "
              "a->output_z);",
              e->gemm);
    emit_line(e, "  output_units(steps * BATCH, N_OUTPUT, theta + "
                 "OUTPUT_BIAS, a->output_z, a->output);");
  } else {
    emit_line(e, "  /* The output comes from each sequence's final state "
                 "h_L: gathered into");
    emit_line(e, "   * one matrix, the output layer is one product. */");
    emit_line(e, "  for (int b = 0; b < BATCH; b++) {");
    emit_line(e,
              "    const %s *h_last = h + ((long)a->length[b] * BATCH + b) "
              "* N_HIDDEN;",
              r);
    emit_line(e, "    for (int j = 0; j < N_HIDDEN; j++)");
    emit_line(e, "      a->last[b * N_HIDDEN + j] = h_last[j];");
    emit_line(e, "  }");
    emit_line(e, "  /* o = h_L W_ho */");
    emit_line(e,
              "  %s(MDL_PLAIN, MDL_PLAIN, BATCH, N_OUTPUT, N_HIDDEN, 1, "
              "a->last, theta + HIDDEN_TO_OUTPUT, 0, a->output_z);",
              e->gemm);
    emit_line(e, "  output_units(BATCH, N_OUTPUT, theta + OUTPUT_BIAS, "
                 "a->output_z, a->output);");
  }
  emit_line(e, "}");
  emit_blank(e);
}

static void emit_deltas_struct(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  emit_line(e, "/* The deltas of a minibatch of sequences, laid out like the "
               "activities. */");
  emit_line(e, "typedef struct {");
  emit_line(e, "  %s *output; /* ∂L/∂z of the outputs, one row per %s */", r,
            p->every_step ? "step" : "sequence");
  emit_line(e,
            "  %s *hidden; /* δ_1 .. δ_MAX_STEPS, MAX_STEPS × BATCH × "
            "N_HIDDEN */",
            r);
  if (!p->every_step)
    emit_line(e,
              "  %s *last;   /* ∂L/∂h_L of each sequence, BATCH × N_HIDDEN "
              "*/",
              r);
  if (p->learned_initial)
    emit_line(e, "  %s *initial; /* Σ over the minibatch of δ_1, N_HIDDEN */",
              r);
  emit_line(e, "} Deltas;");
  emit_blank(e);
  emit_line(e, "/* A column of ones, as long as every step of a minibatch: "
               "sums over rows as");
  emit_line(e, " * matrix-vector products. Filled with 1 before training. */");
  emit_line(e, "static %s ones[MAX_STEPS * BATCH];", r);
  emit_blank(e);
  emit_line(e, "/* W_hhᵀ, packed once per backward pass for the product of "
               "every step");
  emit_line(e, " * (mdl/step.h) */");
  emit_line(e,
            "static %s hidden_to_hidden_transposed[MDL_STEP_PACKED_SIZE(%s, "
            "N_HIDDEN, N_HIDDEN)];",
            r, r);
  emit_blank(e);
  emit_line(e, "/* Band 1's terms of g_W_ih, g_W_hh and g_b_h, laid out as "
               "in θ, where the");
  emit_line(e, " * three follow each other; added to band 0's at the end of "
               "a backward pass */");
  emit_line(e, "enum { RECURRENT_WEIGHTS = N_INPUT * N_HIDDEN + N_HIDDEN * "
               "N_HIDDEN + N_HIDDEN };");
  emit_line(e, "static %s second_band_gradients[RECURRENT_WEIGHTS];", r);
  emit_blank(e);
}

static void emit_recurrent_output_delta(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  emit_output_delta_comment(
      e, "sequences",
      p->loss_recall  ? "Only the first rows sequences count, each at its "
                        "recall steps;\n * every other delta is 0."
      : p->every_step ? "Only the first rows sequences count, each at its own "
                        "steps;\n * every other delta is 0."
                      : "Only the first rows sequences count; every other "
                        "delta is 0.");
  emit_line(e,
            "static void output_delta(const Activations *a, int rows, %s%s "
            "*delta) {",
            p->every_step ? "int steps, " : "", r);
  emit_line(e, "  %s scale = %s;", r, emit_loss_scale(e));
  if (p->every_step) {
    emit_line(e, "  for (int s = 0; s < steps; s++)");
    emit_line(e, "    for (int b = 0; b < BATCH; b++) {");
    emit_line(e, "      long row = ((long)s * BATCH + b) * N_OUTPUT;");
    emit_line(e, "      int counts = %s;", emit_loss_counts(p));
  } else {
    emit_line(e, "  for (int b = 0; b < BATCH; b++) {");
    emit_line(e, "    long row = (long)b * N_OUTPUT;");
    emit_line(e, "    int counts = b < rows;");
  }
  const char *in = p->every_step ? "      " : "    ";
  emit_line(e, "%sfor (int c = 0; c < N_OUTPUT; c++) {", in);
  emit_line(e, "%s  %s y = a->output[row + c];", in, r);
  emit_line(e, "%s  delta[row + c] = counts ? %s : 0;", in,
            emit_output_delta_value(p, "y", "a->target[row + c]"));
  emit_line(e, "%s}", in);
  emit_line(e, "%s}", p->every_step ? "    " : "  ");
  emit_line(e, "}");
  emit_blank(e);
}

/* The gradient of the output layer, and ∂L/∂h_s from the outputs. */
static void emit_output_layer_backward(Emitter *e) {
  const Program *p = e->p;
  const char *rows = output_rows_run(p);
  emit_line(e, "  /* ∂L/∂W_ho = %s */",
            p->every_step ? "Σ_s h_sᵀ δ_o,s" : "h_Lᵀ δ_o");
  emit_line(e,
            "  %s(MDL_TRANSPOSED, MDL_PLAIN, N_HIDDEN, N_OUTPUT, %s, 1, %s, "
            "d->output, 0, grad + HIDDEN_TO_OUTPUT);",
            e->gemm, rows,
            p->every_step ? "a->hidden + BATCH * N_HIDDEN" : "a->last");
  emit_line(e, "  /* ∂L/∂b_o = δ_oᵀ 1, the sum over the rows */");
  emit_line(e,
            "  %s(MDL_TRANSPOSED, %s, N_OUTPUT, 1, d->output, ones, 0, grad + "
            "OUTPUT_BIAS);",
            e->gemv, rows);
  if (p->every_step) {
    emit_line(e, "  /* ∂L/∂h_s = δ_o,s W_hoᵀ from the output of every step: "
                 "one product */");
    emit_line(e,
              "  %s(MDL_PLAIN, MDL_TRANSPOSED, steps * BATCH, N_HIDDEN, "
              "N_OUTPUT, 1, d->output, theta + HIDDEN_TO_OUTPUT, 0, delta);",
              e->gemm);
    return;
  }
  emit_line(e, "  /* ∂L/∂h_L = δ_o W_hoᵀ from each sequence's output, added "
               "at its last step");
  emit_line(e, "   * on the way back; the other steps get nothing from an "
               "output */");
  emit_line(e,
            "  %s(MDL_PLAIN, MDL_TRANSPOSED, BATCH, N_HIDDEN, N_OUTPUT, 1, "
            "d->output, theta + HIDDEN_TO_OUTPUT, 0, d->last);",
            e->gemm);
}

/* δ_s += weight · D_s ⊙ R{z_s} / rows at the real steps of the first rows
 * sequences, in one band. D_s is Sutskever's: 0.25 (1 - h²) for tanh
 * units, h (1 - h) for logistic ones, 1 for linear ones. */
static void emit_structural_damping(Emitter *e) {
  const Program *p = e->p;
  Activation act = p->layers[1].act;
  const char *curvature = act == ACT_TANH      ? "0.25f * (1 - h_s * h_s)"
                          : act == ACT_SIGMOID ? "h_s * (1 - h_s)"
                                               : "1";
  if (e->opt->use_double && act == ACT_TANH)
    curvature = "0.25 * (1 - h_s * h_s)";
  emit_line(e, "    if (rz) /* structural damping */");
  emit_line(e, "      for (int b = first; b < first + count && b < rows; b++) "
               "{");
  emit_line(e, "        if (s > a->length[b])");
  emit_line(e, "          continue;");
  emit_line(e, "        long row = ((long)s * BATCH + b) * N_HIDDEN;");
  emit_line(e, "        for (int j = 0; j < N_HIDDEN; j++) {");
  emit_line(e, "          %s h_s = h[row + j];", e->real);
  emit_line(e,
            "          delta_s[(b - first) * N_HIDDEN + j] += weight * %s * "
            "rz[row - BATCH * N_HIDDEN + j] / %s;",
            curvature, emit_loss_divisor_c(p));
  emit_line(e, "        }");
  emit_line(e, "      }");
}

/* The backward pass through time of one band, with its struct. */
static void emit_band_back_through_time(Emitter *e, bool structural) {
  const char *r = e->real;
  bool every_step = e->p->every_step;
  const Layer *hidden = &e->p->layers[1];
  emit_line(e, "/* What the backward pass through time of a band reads and "
               "writes */");
  emit_line(e, "typedef struct {");
  emit_line(e, "  const Activations *a;");
  if (every_step) {
    emit_line(e,
              "  %s *delta; /* δ_1 .. δ_steps, holding ∂L/∂h_s from the "
              "outputs */",
              r);
  } else {
    emit_line(e, "  %s *delta;      /* δ_1 .. δ_steps */", r);
    emit_line(e, "  const %s *last; /* ∂L/∂h_L of each sequence */", r);
  }
  emit_line(e,
            "  %s *gradient[2]; /* each band's g_W_ih, g_W_hh and g_b_h, in a "
            "row */",
            r);
  emit_line(e, "  int steps;");
  if (structural) {
    emit_line(e, "  const %s *rz; /* structural damping's R{z}, or NULL */", r);
    emit_line(e, "  %s weight;", r);
    emit_line(e, "  int rows;");
  }
  emit_line(e, "} ThroughTime;");
  emit_blank(e);
  emit_line(e, "/* δ_s for s = steps .. 1 for the rows of one band, each "
               "step's terms of the");
  emit_line(e, " * gradients added while δ_s is in cache */");
  emit_line(e, "static void back_through_time(void *context, int band) {");
  emit_line(e, "  const ThroughTime *t = context;");
  emit_line(e, "  const Activations *a = t->a;");
  emit_line(e, "  const %s *h = a->hidden;", r);
  emit_line(e, "  int first = band_first(band), count = band_rows(band);");
  if (structural) {
    emit_line(e, "  const %s *rz = t->rz;", r);
    emit_line(e, "  %s weight = t->weight;", r);
    emit_line(e, "  int rows = t->rows;");
  }
  emit_line(e, "  %s *g = t->gradient[band];", r);
  emit_line(e, "  %s gradients; /* from 0, a step's terms at a time */",
            step_function(e, "gradients"));
  emit_line(e,
            "  %s(&gradients, count, BATCH, N_INPUT, N_HIDDEN, a->input + "
            "first * N_INPUT, h + first * N_HIDDEN, t->delta + first * "
            "N_HIDDEN, g, g + N_INPUT * N_HIDDEN, g + N_INPUT * N_HIDDEN + "
            "N_HIDDEN * N_HIDDEN);",
            step_function(e, "gradients_start"));
  emit_line(e, "  for (int s = t->steps; s >= 1; s--) {");
  emit_line(e,
            "    %s *delta_s = t->delta + ((long)(s - 1) * BATCH + first) * "
            "N_HIDDEN;",
            r);
  if (every_step) {
    emit_line(e, "    if (s < t->steps) /* + δ_{s+1} W_hhᵀ */");
    emit_line(e,
              "      %s(count, N_HIDDEN, N_HIDDEN, delta_s + BATCH * N_HIDDEN, "
              "hidden_to_hidden_transposed, delta_s);",
              step_function(e, "add"));
  } else {
    emit_line(e, "    if (s < t->steps) /* δ_{s+1} W_hhᵀ */");
    emit_line(e,
              "      %s(count, N_HIDDEN, N_HIDDEN, delta_s + BATCH * N_HIDDEN, "
              "hidden_to_hidden_transposed, delta_s);",
              step_function(e, "multiply"));
    emit_line(e, "    else /* nothing comes back from after the last step */");
    emit_line(e, "      for (long i = 0; i < (long)count * N_HIDDEN; i++)");
    emit_line(e, "        delta_s[i] = 0;");
    emit_line(e, "    /* + ∂L/∂h_L of the sequences whose last step is s */");
    emit_line(e, "    for (int b = first; b < first + count; b++)");
    emit_line(e, "      if (a->length[b] == s)");
    emit_line(e, "        for (int j = 0; j < N_HIDDEN; j++)");
    emit_line(e,
              "          delta_s[(b - first) * N_HIDDEN + j] += t->last[b * "
              "N_HIDDEN + j];");
  }
  if (hidden->act != ACT_LINEAR) {
    emit_line(e, "    /* ⊙ φ'(z_s), from h_s */");
    emit_line(e,
              "    times_%s_derivative(count, N_HIDDEN, h + ((long)s * BATCH "
              "+ first) * N_HIDDEN, delta_s);",
              activation_name(hidden->act));
  }
  if (structural)
    emit_structural_damping(e);
  emit_line(e, "    /* step s's terms of g_W_ih, g_W_hh and g_b_h */");
  emit_line(e, "    %s(&gradients, s);", step_function(e, "gradients_add"));
  emit_line(e, "  }");
  emit_line(e, "}");
  emit_blank(e);
}

void emit_recurrent_backward(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  emit_line(e, "/* ---- Backpropagation through time ----");
  emit_line(e, " * With δ_s = ∂L/∂(x_s W_ih + h_{s-1} W_hh + b_h), the deltas "
               "of the hidden");
  emit_line(e, " * units' total input at step s, from the last step down to "
               "the first:");
  emit_line(e, " *   ∂L/∂h_s = (output deltas of step s) W_hoᵀ + δ_{s+1} "
               "W_hhᵀ");
  emit_line(e, " *   δ_s     = ∂L/∂h_s ⊙ φ'                  one product per "
               "step, one pass");
  emit_line(e, " * Each weight is shared by every step, so its gradient sums "
               "over the steps:");
  emit_line(e, " *   g_W_ih = Σ_s x_sᵀ δ_s    g_W_hh = Σ_s h_{s-1}ᵀ δ_s    "
               "g_b_h = Σ_s δ_sᵀ 1");
  emit_line(e, " * Each step's terms are added as soon as δ_s is made, while "
               "it is in cache.");
  emit_line(e, " * The sequences' deltas, like their states, never meet: each "
               "band of the");
  emit_line(e, " * minibatch goes back through time on its own thread, into "
               "gradients of its");
  emit_line(e, " * own, and band 1's are added to band 0's at the end. A "
               "step's products are");
  emit_line(e, " * mdl/step.h's, made for their small shapes; the others are "
               "BLAS's, whose");
  emit_line(e, " * transposes are flags, not copies. */");
  emit_blank(e);
  emit_deltas_struct(e);
  emit_recurrent_output_delta(e);
  /* An HF program backpropagates two kinds of output deltas, the loss's and
   * the curvature's, and adds structural damping to the second. */
  bool split = p->method == METHOD_HF;
  bool structural = split && p->hf.structural > 0;
  emit_band_back_through_time(e, structural);
  if (split) {
    emit_line(e, "/* From the output deltas in d->output back through time: "
                 "the gradient of");
    emit_line(e,
              " * whatever they are the derivatives of (the loss, for "
              "backward()).%s",
              structural ? "" : " */");
    if (structural) {
      emit_line(e, " * With rz, the hidden units' R{z} of a Gauss-Newton "
                   "product, each δ_s also");
      emit_line(e, " * gets the structural damping weight · D_s ⊙ R{z_s} / "
                   "rows (Martens &");
      emit_line(e, " * Sutskever 2011), D_s the curvature of a matching loss "
                   "on the hidden units. */");
    }
    emit_line(e,
              "static void backpropagate(const %s *theta, const Activations "
              "*a, Deltas *d, %s *grad, int rows%s) {",
              r, r,
              structural ? arena_printf(", const %s *rz, %s weight", r, r)
                         : "");
  } else {
    emit_line(e,
              "static void backward(const %s *theta, const Activations *a, "
              "Deltas *d, %s *grad, int rows) {",
              r, r);
  }
  emit_line(e, "  int steps = longest(a->length);");
  emit_line(e, "  %s *delta = d->hidden;", r);
  if (!split)
    emit_line(e, "  output_delta(a, rows, %sd->output);",
              p->every_step ? "steps, " : "");
  else if (!structural)
    emit_line(e, "  (void)rows; /* the deltas carry the 1 / rows */");
  emit_blank(e);
  emit_output_layer_backward(e);
  emit_blank(e);
  emit_line(e, "  /* Back through time, a band of the minibatch on each "
               "thread */");
  emit_line(
      e,
      "  %s(MDL_TRANSPOSED, N_HIDDEN, N_HIDDEN, theta + HIDDEN_TO_HIDDEN, "
      "hidden_to_hidden_transposed);",
      step_function(e, "pack"));
  emit_line(e,
            "  ThroughTime through_time = {a, delta, %s{grad + "
            "INPUT_TO_HIDDEN, second_band_gradients}, steps%s};",
            p->every_step ? "" : "d->last, ",
            structural ? ", rz, weight, rows" : "");
  emit_line(e, "  run_bands(back_through_time, &through_time);");
  emit_line(e, "  /* g_W_ih, g_W_hh and g_b_h: band 0's terms + band 1's */");
  emit_line(e, "  for (int i = 0; i < RECURRENT_WEIGHTS; i++)");
  emit_line(e, "    grad[INPUT_TO_HIDDEN + i] += second_band_gradients[i];");
  if (p->learned_initial) {
    emit_line(e,
              "  /* initial_hidden: ∂L/∂h_0 = Σ_b δ_1,b W_hhᵀ = W_hh (δ_1ᵀ 1); "
              "first δ_1ᵀ 1, the sum over the minibatch */");
    emit_line(e,
              "  %s(MDL_TRANSPOSED, BATCH, N_HIDDEN, 1, delta, ones, 0, "
              "d->initial);",
              e->gemv);
    emit_line(e, "  /* then ∂L/∂h_0 = W_hh (δ_1ᵀ 1) */");
    emit_line(e,
              "  %s(MDL_PLAIN, N_HIDDEN, N_HIDDEN, 1, theta + "
              "HIDDEN_TO_HIDDEN, d->initial, 0, grad + INITIAL_HIDDEN);",
              e->gemv);
  }
  emit_line(e, "}");
  emit_blank(e);
  if (!split)
    return;
  emit_line(e, "/* The gradient of the mean loss over rows sequences. */");
  emit_line(e,
            "static void backward(const %s *theta, const Activations *a, "
            "Deltas *d, %s *grad, int rows) {",
            r, r);
  if (p->every_step) {
    emit_line(e, "  output_delta(a, rows, longest(a->length), d->output);");
  } else {
    emit_line(e, "  output_delta(a, rows, d->output);");
  }
  emit_line(e, "  backpropagate(theta, a, d, grad, rows%s);",
            structural ? ", NULL, 0" : "");
  emit_line(e, "}");
  emit_blank(e);
}
