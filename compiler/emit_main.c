/* emit_main.c — the start of the Training section (its buffers and
 * evaluate()), and what surrounds the algorithm after it: the gradient
 * check, pictures, predictions, loading the data, and main(), which reads
 * the options and puts the other parts to work. */
#include "mdlc.h"

#include <stdlib.h>
#include <string.h>

/* What a checkpoint must have been written by to be resumed by this
 * program: the layers with their units, the loss and what it is taken
 * over, the method and its form, the precision. */
static const char *model_identity(const Emitter *e) {
  const Program *p = e->p;
  /* Written into a memory stream: one arena_printf per layer would copy
   * the string so far each time, in time quadratic in the layers. */
  char *layers;
  size_t size;
  FILE *f = open_memstream(&layers, &size);
  if (!f) {
    fprintf(stderr, "mdlc: error: out of memory\n");
    exit(1);
  }
  fprintf(f, "%d", p->layers[0].size);
  for (int l = 1; l < p->n_layers; l++)
    fprintf(f, "-%d %s", p->layers[l].size, activation_name(p->layers[l].act));
  fclose(f);
  const char *recurrent =
      !p->is_recurrent
          ? ""
          : arena_printf(", %s, per %s, initial %s",
                         p->loss_recall  ? "at recall"
                         : p->every_step ? "at every"
                                         : "at last",
                         p->loss_per_target ? "target" : "sequence",
                         p->learned_initial ? "learned" : "zero");
  const char *identity =
      arena_printf("%s %s, %s%s, %s%s, %s", net_kind_name(p->net_kind), layers,
                   loss_name(p->loss), recurrent, method_name(p->method),
                   p->method != METHOD_NAG ? ""
                   : e->opt->nag_direct    ? " direct"
                                           : " carried",
                   e->opt->use_double ? "float64" : "float32");
  free(layers); /* the stream's, not the arena's */
  return identity;
}

static void emit_buffers(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  emit_line(e, "/* ---- Training ----");
  emit_line(e, " * Every buffer is allocated once, before the first update. "
               "*/");
  emit_blank(e);
  if (p->is_recurrent) {
    emit_sequence_buffers(e);
    return;
  }
  emit_line(e, "static Activations new_activations(void) {");
  emit_line(e, "  Activations a;");
  for (int l = 0; l < p->n_layers - 1; l++)
    emit_line(e, "  a.%s = mdl_alloc(sizeof(%s) * BATCH * N_%s);",
              p->layers[l].name, r, p->layers[l].upper);
  emit_line(e, "  a.output_z = mdl_alloc(sizeof(%s) * BATCH * N_OUTPUT);", r);
  emit_line(e, "  a.output = mdl_alloc(sizeof(%s) * BATCH * N_OUTPUT);", r);
  if (p->is_autoencoder)
    emit_line(e, "  a.target = a.input; /* an autoencoder reconstructs its "
                 "input */");
  else
    emit_line(e, "  a.target = mdl_alloc(sizeof(%s) * BATCH * N_OUTPUT);", r);
  emit_line(e, "  return a;");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "static Deltas new_deltas(void) {");
  emit_line(e, "  Deltas d;");
  for (int l = 1; l < p->n_layers; l++)
    emit_line(e, "  d.%s = mdl_alloc(sizeof(%s) * BATCH * N_%s);",
              p->layers[l].name, r, p->layers[l].upper);
  emit_line(e, "  return d;");
  emit_line(e, "}");
  emit_blank(e);
}

static void emit_evaluate(Emitter *e) {
  const Program *p = e->p;
  if (p->is_recurrent) {
    emit_sequence_evaluate(e);
    return;
  }
  emit_line(e, "/* The error as the paper reports it, and the mean loss, over "
               "the whole");
  emit_line(e, " * training set, a minibatch-sized slice at a time. */");
  emit_line(e,
            "static void evaluate(const %s *theta, const mdl_dataset "
            "*data, Activations *a, double *error, double *loss) {",
            e->real);
  emit_line(e, "  double error_sum = 0, loss_sum = 0;");
  emit_line(e, "  for (int first = 0; first < data->n_cases; first += BATCH) "
               "{");
  emit_line(e, "    int rows = data->n_cases - first < BATCH ? data->n_cases "
               "- first : BATCH;");
  emit_line(e, "    mdl_data_rows(data, 0, first, rows, a->input, %s);",
            e->dtype);
  if (!p->is_autoencoder)
    emit_line(e, "    mdl_data_rows(data, 1, first, rows, a->target, %s);",
              e->dtype);
  emit_line(e, "    forward(theta, a, rows);");
  emit_line(e, "    measure(a, rows, &loss_sum, &error_sum);");
  emit_line(e, "  }");
  emit_line(e, "  *error = error_sum / data->n_cases;");
  emit_line(e, "  *loss = loss_sum / data->n_cases;");
  emit_line(e, "}");
  emit_blank(e);
}

/* The end of check_gradients(): passed or FAILED against the tolerance, as
 * the exit status too. */
static void emit_check_verdict(Emitter *e) {
  emit_line(e, "  printf(\"gradient check %%s (tolerance %%g)\\n\", worst < "
               "tolerance ? \"passed\" : \"FAILED\", tolerance);");
  emit_line(e, "  return worst < tolerance ? 0 : 1;");
  emit_line(e, "}");
}

/* A recurrent net's --check-gradients: backpropagation through time against
 * forward mode (the R-operator), exact at any length. */
static void emit_recurrent_check_gradients(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  bool hf = p->method == METHOD_HF;
  emit_line(e, "/* --check-gradients: backpropagation through time against "
               "forward mode.");
  if (hf) {
    emit_line(e, " * Along a direction v of θ, the R-operator of the "
                 "Gauss-Newton product above");
    emit_line(e, " * gives R{o} = J v,");
  } else {
    emit_line(e, " * Along a direction v of θ, the R-operator R{·} = J v runs "
                 "forward through");
    emit_line(e, " * time like the net itself:");
    emit_line(e,
              " *   R{z_s} = x_s V_ih + h_{s-1} V_hh + R{h_{s-1}} W_hh + V_b  "
              "  (R{h_0} = %s)",
              p->learned_initial ? "V_h0" : "0");
    emit_line(e, " *   R{h_s} = φ'(z_s) ⊙ R{z_s}");
    emit_line(e, " *   R{o_s} = h_s V_ho + R{h_s} W_ho + V_bo");
  }
  emit_line(e, " * and Σ ∂L/∂o ⊙ R{o} is the derivative of the loss along v, "
               "with no step to");
  emit_line(e, " * choose: it agrees with backpropagation's gᵀv to rounding "
               "however long the");
  emit_line(e, " * sequences, where a finite difference of dynamics that grow "
               "like 1.1^T");
  emit_line(e, " * cannot. The cases are the first few held-out sequences. */");
  emit_blank(e);
  if (!hf)
    emit_recurrent_r_forward(e);
  emit_line(e, "typedef struct {");
  emit_line(e, "  Activations *a;");
  emit_line(e, "  Deltas *d;");
  emit_line(e, "  RActivations *ra;");
  emit_line(e, "  int rows;");
  emit_line(e, "} CheckCases;");
  emit_blank(e);
  emit_line(e, "static void check_gradient(const void *theta, void *grad, "
               "void *cases) {");
  emit_line(e, "  CheckCases *c = cases;");
  emit_line(e, "  forward(theta, c->a);");
  emit_line(e, "  backward(theta, c->a, c->d, grad, c->rows);");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "/* ⟨∇L, v⟩ = Σ ∂L/∂o ⊙ R{o}, from the output deltas of the "
               "mean loss. */");
  emit_line(e, "static double check_directional(const void *theta, const void "
               "*v, void *cases) {");
  emit_line(e, "  CheckCases *c = cases;");
  emit_line(e, "  int steps = longest(c->a->length);");
  emit_line(e, "  forward(theta, c->a);");
  emit_line(e, "  r_forward(theta, v, c->a, c->ra);");
  if (p->every_step) {
    emit_line(e, "  output_delta(c->a, c->rows, steps, c->d->output);");
    emit_line(e, "  long n = (long)steps * BATCH * N_OUTPUT;");
  } else {
    emit_line(e, "  output_delta(c->a, c->rows, c->d->output);");
    emit_line(e, "  long n = (long)BATCH * N_OUTPUT;");
    emit_line(e, "  (void)steps;");
  }
  emit_line(e, "  long double derivative = 0;");
  emit_line(e, "  for (long i = 0; i < n; i++)");
  emit_line(e, "    derivative += (long double)c->d->output[i] * "
               "c->ra->output[i];");
  emit_line(e, "  return (double)derivative;");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e,
            "static int check_gradients(%s *theta, const mdl_seq_data *data, "
            "Activations *a, Deltas *d, uint64_t seed) {",
            r);
  emit_line(e, "  RActivations ra = new_r_activations();");
  emit_line(e, "  CheckCases c = {a, d, &ra, data->n_test < 10 ? data->n_test "
               ": 10};");
  emit_line(e, "  if (c.rows > BATCH)");
  emit_line(e, "    c.rows = BATCH;");
  emit_line(e,
            "  mdl_seq_test_batch(data, 0, c.rows, BATCH, a->input, "
            "a->target, a->length, %s);",
            e->dtype);
  emit_line(e,
            "  double worst = mdl_check_gradients_forward(theta, %s, "
            "N_PARAMS, blocks, %d, check_gradient, check_directional, &c, "
            "seed);",
            e->dtype, p->n_blocks);
  emit_line(e, "  double tolerance = %s;",
            e->opt->use_double ? "1e-7" : "1e-2");
  emit_check_verdict(e);
  emit_blank(e);
}

static void emit_check_gradients(Emitter *e) {
  const Program *p = e->p;
  bool seq = p->is_recurrent;
  if (seq) {
    emit_recurrent_check_gradients(e);
    return;
  }
  emit_line(e,
            "/* --check-gradients: backpropagation%s against centred "
            "finite differences of",
            seq ? " through time" : "");
  emit_line(e, " * the mean loss over the first few %s. */",
            seq ? "held-out sequences" : "training cases");
  emit_line(e, "typedef struct {");
  emit_line(e, "  Activations *a;");
  emit_line(e, "  Deltas *d;");
  emit_line(e, "  int rows;");
  emit_line(e, "} CheckCases;");
  emit_blank(e);
  emit_line(e, "static double check_loss(const void *theta, void *cases) {");
  emit_line(e, "  CheckCases *c = cases;");
  emit_line(e, "  double loss = 0%s;", seq ? "" : ", error = 0");
  emit_line(e, "  forward(theta, c->a%s);", seq ? "" : ", c->rows");
  emit_line(e, "  measure(c->a, c->rows, &loss%s);", seq ? "" : ", &error");
  emit_line(e, "  return loss / c->rows;");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "static void check_gradient(const void *theta, void *grad, "
               "void *cases) {");
  emit_line(e, "  CheckCases *c = cases;");
  emit_line(e, "  forward(theta, c->a%s);", seq ? "" : ", c->rows");
  emit_line(e, "  backward(theta, c->a, c->d, grad, c->rows);");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e,
            "static int check_gradients(%s *theta, const %s *data, "
            "Activations *a, Deltas *d, uint64_t seed) {",
            e->real, emit_data_type(p));
  const char *count = seq ? "data->n_test" : "data->n_cases";
  emit_line(e, "  CheckCases c = {a, d, %s < 10 ? %s : 10};", count, count);
  emit_line(e, "  if (c.rows > BATCH)");
  emit_line(e, "    c.rows = BATCH;");
  if (seq) {
    emit_line(e,
              "  mdl_seq_test_batch(data, 0, c.rows, BATCH, a->input, "
              "a->target, a->length, %s);",
              e->dtype);
  } else {
    emit_line(e, "  mdl_data_rows(data, 0, 0, c.rows, a->input, %s);",
              e->dtype);
    if (!p->is_autoencoder)
      emit_line(e, "  mdl_data_rows(data, 1, 0, c.rows, a->target, %s);",
                e->dtype);
  }
  emit_line(e,
            "  double worst = mdl_check_gradients(theta, %s, N_PARAMS, "
            "blocks, %d, check_loss, check_gradient, &c, seed);",
            e->dtype, p->n_blocks);
  emit_line(e, "  double tolerance = %s;",
            e->opt->use_double ? "1e-6" : "5e-2");
  emit_check_verdict(e);
  emit_blank(e);
}

static void emit_save_images(Emitter *e) {
  emit_line(e, "/* --save-images: the first training cases above what the "
               "network makes of");
  emit_line(e, " * them, as a picture a person can look at. */");
  emit_line(e,
            "static void save_images(const char *path, const %s *theta, "
            "const mdl_dataset *data, Activations *a) {",
            e->real);
  emit_line(e, "  int rows = data->n_cases < 10 ? data->n_cases : 10;");
  emit_line(e, "  if (rows > BATCH)");
  emit_line(e, "    rows = BATCH;");
  emit_line(e, "  mdl_data_rows(data, 0, 0, rows, a->input, %s);", e->dtype);
  emit_line(e, "  forward(theta, a, rows);");
  emit_line(e, "  mdl_error err;");
  emit_line(e,
            "  if (mdl_save_image_pairs(path, a->input, a->output, %s, "
            "rows, IMAGE_SIDE, IMAGE_SIDE, &err) != 0)",
            e->dtype);
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "}");
  emit_blank(e);
}

static const char *held_out_args(const Program *p) {
  return arena_printf("%s%s", p->valid.name ? ", &valid" : "",
                      p->test.name ? ", &test" : "");
}

/* Loads one feed-forward data set into the mdl_dataset `var` and checks
 * it against the net. The training set must hold a minibatch; a held-out
 * set, evaluated a slice at a time, may be any size, and its labels become
 * one-hot rows as wide as the net's output. */
static void emit_load_dataset(Emitter *e, const DataFiles *f, const char *var,
                              bool training) {
  const Program *p = e->p;
  FILE *out = e->out;
  emit_line(e, "  mdl_dataset %s;", var);
  switch (f->kind) {
  case DATA_CURVES:
    emit_line(e, "  if (mdl_data_curves(&%s, %d, %ld, &err) != 0)", var,
              f->n_cases, f->seed);
    break;
  case DATA_IDX:
    fprintf(out, "  if (mdl_data_idx(&%s, ", var);
    emit_string_literal(out, f->images_path);
    fputs(", ", out);
    if (f->labels_path)
      emit_string_literal(out, f->labels_path);
    else
      fputs("NULL", out);
    if (!training && f->labels_path && !f->n_classes)
      fprintf(out, ", N_OUTPUT, %d, &err) != 0)\n", f->n_cases);
    else
      fprintf(out, ", %d, %d, &err) != 0)\n", f->n_classes, f->n_cases);
    break;
  case DATA_NPY:
  default: /* the sequence problems are a recurrent net's (sema) */
    fprintf(out, "  if (mdl_data_npy(&%s, ", var);
    emit_string_literal(out, f->npy_path);
    fprintf(out, ", %d, &err) != 0)\n", f->n_cases);
    break;
  }
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  if (f->kind == DATA_NPY && f->targets_path && !p->is_autoencoder) {
    fprintf(out, "  if (mdl_data_npy_targets(&%s, ", var);
    emit_string_literal(out, f->targets_path);
    fputs(", &err) != 0)\n", out);
    emit_line(e, "    mdl_die(\"%%s\", err.message);");
  }
  if (p->is_autoencoder)
    emit_line(e, "  mdl_data_autoencode(&%s);", var);
  /* The files the checks name: CURVES is generated and has none. */
  const char *inputs = f->kind == DATA_IDX   ? f->images_path
                       : f->kind == DATA_NPY ? f->npy_path
                                             : NULL;
  const char *targets = p->is_autoencoder     ? inputs
                        : f->kind == DATA_IDX ? f->labels_path
                                              : f->targets_path;
  emit_line(e, "  if (%s.n_inputs != N_INPUT)", var);
  emit_die_naming(
      e, "    ", inputs,
      arena_printf("%s%%d value%%s per case, but the network's "
                   "input has %s",
                   inputs ? "" : "the data set has ",
                   count_of(p->layers[0].size, "unit")),
      arena_printf("%s.n_inputs, mdl_plural(%s.n_inputs)", var, var));
  if (!p->is_autoencoder) {
    int n_out = p->layers[p->n_layers - 1].size;
    const char *outputs = count_of(n_out, "output");
    emit_line(e, "  if (%s.n_targets != N_OUTPUT)", var);
    if (f->kind == DATA_IDX && training && !f->n_classes)
      /* As many classes as the largest label + 1: say how to have more. */
      emit_die_naming(
          e, "    ", targets,
          arena_printf("%%d class%%s of labels, but the network has %s, one "
                       "per class; if the data has %s that its labels do "
                       "not all show, say so with idx(..., classes %d)",
                       outputs, count_of(n_out, "class"), n_out),
          arena_printf("%s.n_targets, %s.n_targets == 1 ? \"\" : \"es\"", var,
                       var));
    else if (f->kind == DATA_IDX)
      emit_die_naming(
          e, "    ", targets,
          arena_printf("%%d class%%s of labels, but the network has %s",
                       outputs),
          arena_printf("%s.n_targets, %s.n_targets == 1 ? \"\" : \"es\"", var,
                       var));
    else
      emit_die_naming(
          e, "    ", targets,
          arena_printf("%%d target value%%s per case, but the "
                       "network has %s",
                       outputs),
          arena_printf("%s.n_targets, mdl_plural(%s.n_targets)", var, var));
  }
  if (p->layers[p->n_layers - 1].act == ACT_SOFTMAX) {
    fprintf(out, "  if (mdl_data_check_distributions(&%s, ", var);
    if (targets)
      emit_string_literal(out, targets);
    else
      fputs("NULL", out);
    fputs(", &err) != 0)\n", out);
    emit_line(e, "    mdl_die(\"%%s\", err.message);");
  }
  if (training) {
    emit_line(e, "  if (%s.n_cases < BATCH)", var);
    emit_die_naming(
        e, "    ", inputs,
        inputs ? "%d case%s, fewer than a minibatch (%d)"
               : "the data set has %d case%s, fewer than a "
                 "minibatch (%d)",
        arena_printf("%s.n_cases, mdl_plural(%s.n_cases), BATCH", var, var));
  }
}

static void emit_load_data(Emitter *e) {
  const Program *p = e->p;
  DataFiles training = model_training_files(p);
  emit_line(e, "  /* The training set '%s'. */", p->data_name);
  emit_line(e, "  mdl_error err;");
  emit_load_dataset(e, &training, "data", true);
  if (p->valid.name) {
    emit_line(e,
              "  /* The validation set '%s': measured at every report, "
              "never trained on. */",
              p->valid.name);
    emit_load_dataset(e, &p->valid, "valid", false);
  }
  if (p->test.name) {
    emit_line(e,
              "  /* The test set '%s': measured at every report, never "
              "trained on. */",
              p->test.name);
    emit_load_dataset(e, &p->test, "test", false);
  }
}

/* A const computed from others is computed again from the values --set
 * gave them, in the order declared (a const given its own --set keeps
 * it). */
static void emit_derived_consts(Emitter *e, int n_settings) {
  const Program *p = e->p;
  bool any = false;
  for (int i = 0; i < p->n_consts; i++) {
    const Const *c = &p->consts[i];
    if (!c->recomputed)
      continue;
    if (!any)
      emit_line(e, "  /* Consts computed from other consts follow a --set of "
                   "those (one given its own --set keeps it). */");
    any = true;
    emit_line(e, "  if (!mdl_was_set(settings, %d, &%s))", n_settings, c->name);
    fprintf(e->out, "    %s = ", c->name);
    emit_formula(e, c->value);
    fputs(";\n", e->out);
  }
}

/* The settings --set may change, the command line parsed into them and
 * the options, and the consts computed again from the settings; shared
 * with a quadratic's main() (emit_quadratic.c). */
void emit_parse_options(Emitter *e) {
  const Program *p = e->p;
  FILE *out = e->out;
  /* The settings --set may change (the model's list of them). */
  int n_settings = p->n_settings;
  if (n_settings) {
    emit_line(e, "  mdl_setting settings[] = {");
    for (int i = 0; i < n_settings; i++) {
      const Setting *s = &p->settings[i];
      fputs("      {.name = ", out);
      emit_string_literal(out, s->name);
      fprintf(out, ", .value = &%s, .help = ", s->name);
      emit_string_literal(out, s->help);
      if (s->c && s->c->compile_time) {
        /* Folded into the program: --set could not reach it. */
        fputs(", .fixed = ", out);
        emit_string_literal(out,
                            arena_printf("mdlc folded it into the program "
                                         "when compiling; compile with mdlc "
                                         "-D %s=VALUE",
                                         s->name));
      }
      fputs("},\n", out);
    }
    emit_line(e, "  };");
    emit_line(e,
              "  mdl_parse_options(argc, argv, &info, &opts, settings, "
              "%d);",
              n_settings);
  } else {
    emit_line(e, "  mdl_parse_options(argc, argv, &info, &opts, NULL, 0);");
  }
  emit_line(e, "  n_steps = opts.steps;");
  emit_line(e, "  schedule_steps = opts.schedule_steps;");
  emit_derived_consts(e, n_settings);
}

static void emit_main_function(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  FILE *out = e->out;
  emit_line(e, "int main(int argc, char **argv) {");
  emit_line(e, "  mdl_program_info info = {");
  fputs("      .title = ", out);
  const char *slash = strrchr(p->source_name, '/');
  const char *source = slash ? slash + 1 : p->source_name;
  emit_string_literal(out, arena_printf("%s: %s on %s", source,
                                        method_name(p->method), p->net_name));
  fputs(",\n", out);
  fputs("      .network = ", out);
  emit_string_literal(out, model_shape(p));
  fputs(",\n", out);
  emit_line(e, "      .method = \"%s\",", method_name(p->method));
  emit_line(e, "      .precision = \"%s\",",
            e->opt->use_double ? "float64" : "float32");
  emit_line(e, "      .n_params = N_PARAMS,");
  if (p->valid.name || p->test.name)
    emit_line(e, "      .best_of = \"%s\",",
              p->valid.name ? "valid_error" : "test_error");
  fputs("      .model = ", out);
  emit_string_literal(out, model_identity(e));
  fputs(",\n", out);
  if (model_image_side(p))
    emit_line(e, "      .square_images = 1, /* --save-images */");
  emit_line(e, "  };");
  Loc given[] = {model_written(p, "seed"), model_written(p, "report")};
  emit_source_lines(e, "  ", NULL, given, 2);
  emit_line(e,
            "  mdl_options opts = {.steps = n_steps, .schedule_steps = "
            "schedule_steps, .seed = %ld, .report_every = %ld};",
            p->seed, p->report_every);
  if (p->log_path) {
    fputs("  opts.log_path = ", out);
    emit_string_literal(out, p->log_path);
    fputs(";\n", out);
  }
  emit_parse_options(e);
  if (p->has_weight_decay) {
    emit_line(e, "  if (!(weight_decay >= 0))");
    emit_line(e, "    mdl_die(\"weight_decay must be >= 0, not %%g\", "
                 "weight_decay);");
  }
  emit_line(e, "  /* %s of every update, before any data is read: a --set that",
            p->method == METHOD_SGD  ? "ε_t"
            : p->method == METHOD_HF ? "ε_t and d_t"
                                     : "μ_t and ε_t");
  emit_line(e, "   * takes a schedule out of its range stops the program "
               "here. */");
  emit_line(e, "  mdl_check_schedules(n_steps, %s, epsilon_at, %s);",
            p->method == METHOD_SGD || p->method == METHOD_HF ? "NULL"
                                                              : "mu_at",
            p->method == METHOD_HF ? "decay_at" : "NULL");
  if (!e->opt->use_double) {
    emit_line(e,
              "  /* Subnormal floats (below 1.2e-38) are taken as 0, in this "
              "thread and");
    emit_line(e, "   * BLAS's: on x86 each operation that meets one takes a "
                 "microcode assist,");
    emit_line(e, "   * and no value a network learns from lives there. */");
    emit_line(e, "  mdl_flush_subnormals();");
  }
  emit_blank(e);
  if (p->is_recurrent) {
    emit_sequence_data(e);
    emit_sequence_held_out(e);
  } else
    emit_load_data(e);
  emit_line(e, "  mdl_dataset new_inputs;");
  emit_line(e, "  if (opts.predict)");
  emit_line(e, "    read_inputs_to_predict(&new_inputs, opts.predict%s);",
            p->is_recurrent ? ", &data" : "");
  emit_blank(e);
  emit_line(e, "  %s *theta = mdl_alloc(sizeof(%s) * N_PARAMS);", r, r);
  if (model_uses_spectral_radius(p))
    emit_line(e, "  double radius_before = 0, radius_after = 0;");
  emit_line(e, "  if (opts.load_params) {");
  emit_line(e,
            "    if (mdl_npy_load_vector(opts.load_params, theta, %s, "
            "N_PARAMS, &err) != 0)",
            e->dtype);
  emit_line(e, "      mdl_die(\"%%s\", err.message);");
  emit_line(e, "  } else {");
  bool radius = model_uses_spectral_radius(p);
  emit_line(e, "    initialize(theta, opts.seed, &data%s);",
            radius ? ", &radius_before, &radius_after" : "");
  emit_line(e, "  }");
  emit_line(e, "  Activations a = new_activations();");
  emit_line(e, "  Deltas d = new_deltas();");
  emit_line(e, "  for (int i = 0; i < %s; i++)",
            p->is_recurrent ? "MAX_STEPS * BATCH" : "BATCH");
  emit_line(e, "    ones[i] = 1;");
  if (p->is_recurrent)
    emit_line(e, "  band_helper = mdl_helper_new(1);");
  emit_line(e, "  if (opts.check_gradients)");
  emit_line(e, "    return check_gradients(theta, &data, &a, &d, opts.seed);");
  if (p->method == METHOD_HF) {
    emit_line(e, "  if (opts.check_gauss_newton)");
    emit_line(e, "    return check_gauss_newton(theta, &data, &a, &d, "
                 "opts.seed);");
  }
  emit_blank(e);
  emit_line(e, "  mdl_print_header(&info, &opts, data.source, %s);",
            p->is_recurrent ? "0" : "data.n_cases");
  /* A file of sequences says how many in its source. */
  const char *count = p->is_recurrent ? "" : ", %d cases";
  if (p->valid.name)
    emit_line(e,
              "  mdl_print_note(&opts, \"validation  %%s%s\", valid.source%s);",
              count, p->is_recurrent ? "" : ", valid.n_cases");
  if (p->test.name)
    emit_line(e,
              "  mdl_print_note(&opts, \"test        %%s%s\", test.source%s);",
              count, p->is_recurrent ? "" : ", test.n_cases");
  for (int i = 0; i < p->n_blocks; i++)
    if (p->blocks[i].init.radius) {
      emit_line(e, "  if (!opts.load_params)");
      emit_line(e,
                "    mdl_print_note(&opts, \"%s: spectral radius %%.6g, "
                "rescaled to %%.6g\", radius_before, radius_after);",
                p->blocks[i].name);
    }
  emit_line(e, "  train(theta, &data%s, &opts, &a, &d);", held_out_args(p));
  if (model_image_side(p)) {
    emit_line(e, "  if (opts.save_images)");
    emit_line(e, "    save_images(opts.save_images, theta, &data, &a);");
  }
  emit_line(e,
            "  if (opts.save_params && mdl_npy_write(opts.save_params, "
            "theta, %s, N_PARAMS, 0, &err) != 0)",
            e->dtype);
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "  if (opts.predict)");
  emit_line(e, "    predict(theta, %s&new_inputs, opts.outputs, &a);",
            p->is_recurrent ? "&data, " : "");
  emit_line(e, "  return 0;");
  emit_line(e, "}");
}

/* --predict: the net run forward on new inputs, a slice at a time, its
 * outputs written one row per case. The inputs are read before training,
 * so that a wrong file is found before the run, not after it. */
static void emit_predict(Emitter *e) {
  const char *r = e->real;
  emit_line(e, "/* --predict: new inputs, one case per row of a .npy file, "
               "read and checked");
  emit_line(e, " * before training starts. */");
  emit_line(e, "static void read_inputs_to_predict(mdl_dataset *inputs, "
               "const char *path) {");
  emit_line(e, "  mdl_error err;");
  emit_line(e, "  if (mdl_data_npy(inputs, path, 0, &err) != 0)");
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "  if (inputs->n_inputs != N_INPUT)");
  emit_line(e, "    mdl_die(\"%%s has %%d values per case, but the "
               "network's input has %%d units\", path, inputs->n_inputs, "
               "N_INPUT);");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "/* The net's outputs for them, one row per case, written to "
               "a .npy file. */");
  emit_line(e,
            "static void predict(const %s *theta, const mdl_dataset *inputs, "
            "const char *outputs_path, Activations *a) {",
            r);
  emit_line(e,
            "  %s *outputs = mdl_alloc(sizeof(%s) * (size_t)inputs->n_cases * "
            "N_OUTPUT);",
            r, r);
  emit_line(e, "  for (int first = 0; first < inputs->n_cases; first += "
               "BATCH) {");
  emit_line(e, "    int rows = inputs->n_cases - first < BATCH ? "
               "inputs->n_cases - first : BATCH;");
  emit_line(e, "    mdl_data_rows(inputs, 0, first, rows, a->input, %s);",
            e->dtype);
  emit_line(e, "    forward(theta, a, rows);");
  emit_line(e,
            "    memcpy(outputs + (size_t)first * N_OUTPUT, a->output, "
            "sizeof(%s) * (size_t)rows * N_OUTPUT);",
            r);
  emit_line(e, "  }");
  emit_line(e, "  mdl_error err;");
  emit_line(e,
            "  if (mdl_npy_write(outputs_path, outputs, %s, inputs->n_cases, "
            "N_OUTPUT, &err) != 0)",
            e->dtype);
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "  printf(\"# predict: %%d cases, outputs in %%s\\n\", "
               "inputs->n_cases, outputs_path);");
  emit_line(e, "  free(outputs);");
  emit_line(e, "}");
  emit_blank(e);
}

/* --predict for a recurrent net: each new sequence run from h_0, its
 * outputs (at every step, or at its last) one row of the output file, in
 * the targets' own units: a centered target's mean is added back. */
static void emit_recurrent_predict(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  bool every = p->every_step;
  emit_line(e, "/* --predict: new input sequences, one per row of a .npy "
               "file, read and checked");
  emit_line(e, " * before training starts. */");
  emit_line(e, "static void read_inputs_to_predict(mdl_dataset *inputs, "
               "const char *path, const mdl_seq_data *data) {");
  emit_line(e, "  mdl_error err;");
  emit_line(e, "  if (mdl_seq_read_inputs(data, inputs, path, &err) != 0)");
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e,
            "/* The net's outputs for them, one row per sequence (%s), "
            "written to a .npy file. */",
            every ? "every step's outputs, step by step" : "its last step's");
  emit_line(e, "enum { PREDICTED = %sN_OUTPUT };", every ? "MAX_STEPS * " : "");
  emit_line(e,
            "static void predict(const %s *theta, const mdl_seq_data *data, "
            "const mdl_dataset *inputs, const char *outputs_path, "
            "Activations *a) {",
            r);
  emit_line(e,
            "  %s *outputs = mdl_alloc(sizeof(%s) * (size_t)inputs->n_cases * "
            "PREDICTED);",
            r, r);
  emit_line(e, "  for (int first = 0; first < inputs->n_cases; first += "
               "BATCH) {");
  emit_line(e, "    int rows = inputs->n_cases - first < BATCH ? "
               "inputs->n_cases - first : BATCH;");
  emit_line(e,
            "    mdl_seq_input_batch(data, inputs, first, rows, BATCH, "
            "a->input, a->length, %s);",
            e->dtype);
  emit_line(e, "    forward(theta, a);");
  emit_line(e, "    for (int b = 0; b < rows; b++) {");
  emit_line(e, "      %s *row = outputs + (size_t)(first + b) * PREDICTED;", r);
  if (every) {
    emit_line(e, "      for (int s = 0; s < MAX_STEPS; s++)");
    emit_line(e, "        for (int c = 0; c < N_OUTPUT; c++)");
    emit_line(e, "          row[s * N_OUTPUT + c] = a->output[((long)s * "
                 "BATCH + b) * N_OUTPUT + c] + data->target_mean[c];");
  } else {
    emit_line(e, "      for (int c = 0; c < N_OUTPUT; c++)");
    emit_line(e, "        row[c] = a->output[(long)b * N_OUTPUT + c] + "
                 "data->target_mean[c];");
  }
  emit_line(e, "    }");
  emit_line(e, "  }");
  emit_line(e, "  mdl_error err;");
  emit_line(e,
            "  if (mdl_npy_write(outputs_path, outputs, %s, inputs->n_cases, "
            "PREDICTED, &err) != 0)",
            e->dtype);
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "  printf(\"# predict: %%d sequences, outputs in %%s\\n\", "
               "inputs->n_cases, outputs_path);");
  emit_line(e, "  free(outputs);");
  emit_line(e, "}");
  emit_blank(e);
}

void emit_training_start(Emitter *e) {
  emit_buffers(e);
  emit_evaluate(e);
}

void emit_main(Emitter *e) {
  bool hf = e->p->method == METHOD_HF;
  emit_line(e, "/* ---- Around the algorithm ----");
  emit_line(e,
            " * What the program does besides training: %sthe gradient "
            "check, pictures",
            hf ? "" : "checkpoints, ");
  emit_line(e, " * and predictions, and main(), which reads the options "
               "and runs it all. */");
  emit_blank(e);
  if (!hf)
    emit_train_checkpoint(e);
  emit_check_gradients(e);
  if (model_image_side(e->p))
    emit_save_images(e);
  if (e->p->is_recurrent)
    emit_recurrent_predict(e);
  else
    emit_predict(e);
  emit_main_function(e);
}
