/* emit_sequences.c — what a recurrent net's program does with its data: the
 * buffers of a minibatch of sequences, the evaluation on held-out
 * sequences, and opening the data set in main(). */
#include "mdlc.h"

/* The rows the output buffers hold: one per step of the longest sequence
 * of every column, or one per sequence. */
static const char *output_rows_held(const Program *p) {
  return p->every_step ? "MAX_STEPS * BATCH" : "BATCH";
}

void emit_sequence_buffers(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real, *rows = output_rows_held(p);
  emit_line(e, "static Activations new_activations(void) {");
  emit_line(e, "  Activations a;");
  emit_line(e,
            "  a.input = mdl_zalloc(sizeof(%s) * MAX_STEPS * BATCH * "
            "N_INPUT);",
            r);
  emit_line(e,
            "  a.hidden = mdl_zalloc(sizeof(%s) * (MAX_STEPS + 1) * BATCH "
            "* N_HIDDEN);",
            r);
  if (!p->every_step)
    emit_line(e, "  a.last = mdl_zalloc(sizeof(%s) * BATCH * N_HIDDEN);", r);
  emit_line(e, "  a.output_z = mdl_zalloc(sizeof(%s) * %s * N_OUTPUT);", r,
            rows);
  emit_line(e, "  a.output = mdl_zalloc(sizeof(%s) * %s * N_OUTPUT);", r, rows);
  emit_line(e, "  a.target = mdl_zalloc(sizeof(%s) * %s * N_OUTPUT);", r, rows);
  emit_line(e, "  for (int b = 0; b < BATCH; b++)");
  emit_line(e, "    a.length[b] = 1; /* until the first minibatch */");
  emit_line(e, "  return a;");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "static Deltas new_deltas(void) {");
  emit_line(e, "  Deltas d;");
  emit_line(e, "  d.output = mdl_alloc(sizeof(%s) * %s * N_OUTPUT);", r, rows);
  emit_line(e,
            "  d.hidden = mdl_alloc(sizeof(%s) * MAX_STEPS * BATCH * "
            "N_HIDDEN);",
            r);
  if (!p->every_step)
    emit_line(e, "  d.last = mdl_alloc(sizeof(%s) * BATCH * N_HIDDEN);", r);
  if (p->learned_initial)
    emit_line(e, "  d.initial = mdl_alloc(sizeof(%s) * N_HIDDEN);", r);
  emit_line(e, "  return d;");
  emit_line(e, "}");
  emit_blank(e);
}

/* Whether a recurrent net's progress lines show how many of its hidden
 * units are saturated (linear units never are). */
bool emit_tracks_saturation(const Program *p) {
  return p->is_recurrent && p->layers[1].act != ACT_LINEAR;
}

/* A saturated unit passes almost no gradient back: tanh' = 1 - h² < 0.02
 * when |h| > 0.99, the logistic's h (1 - h) < 0.01 when h < 0.01 or
 * h > 0.99. A net whose hidden state is all saturated has stopped
 * learning (sec. 4's "dying" oscillations). */
static void emit_count_saturated(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  bool tanh_units = p->layers[1].act == ACT_TANH;
  const char *abs = e->opt->use_double ? "fabs" : "fabsf";
  const char *limit = e->opt->use_double ? "0.99" : "0.99f";
  emit_line(e, "/* Counts the hidden activities of the first rows sequences, "
               "at their real");
  emit_line(e,
            " * steps, that are saturated: %s, where %s and almost no "
            "gradient",
            tanh_units ? "|h| > 0.99" : "|2h - 1| > 0.98",
            tanh_units ? "tanh' = 1 - h² < 0.02" : "h (1 - h) < 0.01");
  emit_line(e, " * passes back. */");
  emit_line(e, "static void count_saturated(const Activations *a, int rows, "
               "double *saturated, double *activities) {");
  emit_line(e, "  for (int b = 0; b < rows; b++) {");
  emit_line(e, "    for (int s = 1; s <= a->length[b]; s++) {");
  emit_line(e,
            "      const %s *h_s = a->hidden + ((long)s * BATCH + b) * "
            "N_HIDDEN;",
            r);
  emit_line(e, "      for (int j = 0; j < N_HIDDEN; j++)");
  if (tanh_units)
    emit_line(e, "        *saturated += %s(h_s[j]) > %s;", abs, limit);
  else
    emit_line(e, "        *saturated += %s(2 * h_s[j] - 1) > %s;", abs,
              e->opt->use_double ? "0.98" : "0.98f");
  emit_line(e, "    }");
  emit_line(e, "    *activities += (double)a->length[b] * N_HIDDEN;");
  emit_line(e, "  }");
  emit_line(e, "}");
  emit_blank(e);
}

void emit_sequence_evaluate(Emitter *e) {
  const Program *p = e->p;
  bool problem = model_is_sequence_problem(p->data_kind);
  bool saturation = emit_tracks_saturation(p);
  if (saturation)
    emit_count_saturated(e);
  if (problem)
    emit_line(e, "/* The zero-one error of Table 5 and the mean loss over the "
                 "held-out");
  else
    emit_line(e, "/* The squared error and the mean loss over the training");
  emit_line(e, " * sequences, a minibatch at a time%s. */",
            saturation ? "; and, unless saturated is NULL,\n * the fraction "
                         "of their hidden activities that are saturated"
                       : "");
  emit_line(e,
            "static void evaluate(const %s *theta, const mdl_seq_data *data, "
            "Activations *a, double *error, double *loss%s) {",
            e->real, saturation ? ", double *saturated" : "");
  emit_line(e, "  double error_sum = 0, loss_sum = 0%s;",
            saturation ? ", saturated_sum = 0, activities = 0" : "");
  emit_line(e, "  for (int first = 0; first < data->n_test; first += BATCH) "
               "{");
  emit_line(e, "    int rows = data->n_test - first < BATCH ? data->n_test - "
               "first : BATCH;");
  emit_line(e,
            "    mdl_seq_test_batch(data, first, rows, BATCH, a->input, "
            "a->target, a->length, %s);",
            e->dtype);
  emit_line(e, "    forward(theta, a);");
  emit_line(e, "    measure(a, rows, &loss_sum);");
  FILE *out = e->out;
  bool tolerance = problem && p->data_kind != DATA_MEMORIZATION;
  if (tolerance) {
    fputs("    /* a prediction is wrong when |y - t| > ", out);
    emit_number(out, p->zero_one_tolerance);
    fputs(" (sec. 4.2) */\n", out);
  }
  fprintf(out,
          "    error_sum += mdl_seq_error(data, rows, BATCH, a->length, "
          "a->output, a->target, %s, ",
          e->dtype);
  emit_number(out, tolerance ? p->zero_one_tolerance : 0);
  fputs(");\n", out);
  if (saturation) {
    emit_line(e, "    if (saturated)");
    emit_line(e, "      count_saturated(a, rows, &saturated_sum, "
                 "&activities);");
  }
  emit_line(e, "  }");
  emit_line(e, "  *error = error_sum / data->n_test;");
  emit_line(e, "  *loss = loss_sum / data->n_test;");
  if (saturation) {
    emit_line(e, "  if (saturated)");
    emit_line(e, "    *saturated = saturated_sum / activities;");
  }
  emit_line(e, "}");
  emit_blank(e);
}

static const char *problem_constant(DataKind kind) {
  return kind == DATA_ADDITION         ? "MDL_SEQ_ADDITION"
         : kind == DATA_MULTIPLICATION ? "MDL_SEQ_MULTIPLICATION"
                                       : "MDL_SEQ_MEMORIZATION";
}

void emit_sequence_data(Emitter *e) {
  const Program *p = e->p;
  FILE *out = e->out;
  if (model_is_sequence_problem(p->data_kind)) {
    emit_line(e,
              "  /* The data set '%s': a problem of appendix A.3, fresh "
              "minibatches from",
              p->data_name);
    emit_line(e,
              "   * the seed of the run, %d held-out sequences from the "
              "data's own seed. */",
              p->n_test);
    fprintf(out, "  mdl_seq_spec spec = {.problem = %s, .T = %d",
            problem_constant(p->data_kind), p->seq_T);
    if (p->data_kind == DATA_MEMORIZATION)
      fprintf(out, ", .symbols = %d, .alphabet = %d", p->seq_symbols,
              p->seq_alphabet);
    if (p->target_sum)
      fputs(", .target_sum = 1", out);
    fputs("};\n", out);
    emit_line(e, "  uint64_t data_seed = %ld;", p->data_seed);
    emit_line(e, "  int held_out = %d;", p->n_test);
    emit_line(e, "  int center_inputs = %d, center_targets = %d;",
              p->center_inputs, p->center_targets);
    emit_line(e, "  mdl_seq_data data;");
    emit_line(e, "  mdl_error err;");
    emit_line(e, "  if (mdl_seq_open(&data, &spec, data_seed, held_out, "
                 "center_inputs, center_targets, BATCH, opts.seed + 1, &err) "
                 "!= 0)");
  } else {
    emit_line(e, "  /* The data set '%s': sequences of %s from .npy files. */",
              p->data_name, count_of(p->seq_length, "step"));
    emit_line(e, "  int cases = %d; /* 0: every row of the files */",
              p->n_cases);
    emit_line(e, "  int targets_at_every_step = %d;", p->every_step);
    emit_line(e, "  int center_inputs = %d, center_targets = %d;",
              p->center_inputs, p->center_targets);
    emit_line(e, "  mdl_seq_data data;");
    emit_line(e, "  mdl_error err;");
    fputs("  if (mdl_seq_open_npy(&data, ", out);
    emit_string_literal(out, p->npy_path);
    fputs(", ", out);
    emit_string_literal(out, p->targets_path);
    fputs(", cases, N_INPUT, N_OUTPUT, targets_at_every_step, center_inputs, "
          "center_targets, BATCH, opts.seed + 1, &err) != 0)\n",
          out);
  }
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "  if (data.n_inputs != N_INPUT || data.n_outputs != N_OUTPUT "
               "|| data.max_steps != MAX_STEPS)");
  emit_die_naming(
      e, "    ", model_is_sequence_problem(p->data_kind) ? NULL : p->npy_path,
      arena_printf("the sequences have %%d input%%s, %%d target%%s and up to "
                   "%%d step%%s, but the network has %s and %s over %s",
                   count_of(p->layers[0].size, "input"),
                   count_of(p->layers[p->n_layers - 1].size, "output"),
                   count_of(p->max_steps, "step")),
      "data.n_inputs, mdl_plural(data.n_inputs), data.n_outputs, "
      "mdl_plural(data.n_outputs), data.max_steps, mdl_plural(data.max_steps)");
}

/* `test on DATA`, `validate on DATA` of a net trained on .npy sequences:
 * the held-out files, read after the training set, whose form and means
 * they take. */
void emit_sequence_held_out(Emitter *e) {
  const Program *p = e->p;
  FILE *out = e->out;
  const DataFiles *sets[] = {&p->valid, &p->test};
  const char *vars[] = {"valid", "test"};
  const char *what[] = {"validation", "test"};
  for (int i = 0; i < 2; i++) {
    if (!sets[i]->name)
      continue;
    emit_line(e,
              "  /* The %s set '%s': measured at every report, never "
              "trained on,",
              what[i], sets[i]->name);
    emit_line(e, "   * centered with the training set's means. */");
    emit_line(e, "  mdl_seq_data %s;", vars[i]);
    fprintf(out, "  if (mdl_seq_open_npy_held_out(&%s, &data, ", vars[i]);
    emit_string_literal(out, sets[i]->npy_path);
    fputs(", ", out);
    emit_string_literal(out, sets[i]->targets_path);
    fprintf(out, ", %d, &err) != 0)\n", sets[i]->n_cases);
    emit_line(e, "    mdl_die(\"%%s\", err.message);");
  }
}
