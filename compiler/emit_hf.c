/* emit_hf.c — a Hessian-free program's training: the cases of each update,
 * the callbacks through which the runtime's HF driver (mdl/hf.h) asks for
 * losses, gradients and Gauss-Newton products, the training loop, and the
 * checks and experiment only HF programs have (--check-gauss-newton,
 * --compare-cg-nag). */
#include "mdlc.h"

/* forward(θ, a, rows) and measure(a, rows, &loss, &error) of feed-forward
 * nets; a recurrent net's forward runs a whole chunk and its measure has
 * no error (the runtime's). */
static const char *forward_call(const Emitter *e, const char *theta,
                                const char *a) {
  return e->p->is_recurrent ? arena_printf("forward(%s, %s);", theta, a)
                            : arena_printf("forward(%s, %s, BATCH);", theta, a);
}

static const char *measure_call(const Emitter *e, const char *a) {
  return e->p->is_recurrent
             ? arena_printf("measure(%s, BATCH, &loss);", a)
             : arena_printf("measure(%s, BATCH, &loss, &error);", a);
}

static void emit_work_struct(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  bool seq = p->is_recurrent;
  emit_line(e, "/* ---- Hessian-free optimization (sec. 5) ----");
  emit_line(e, " * The runtime's driver makes each update (mdl/hf.h): the "
               "gradient, CG on the");
  emit_line(e, " * damped quadratic model started from its decayed previous "
               "solution (the hot");
  emit_line(e, " * start that the paper likens to momentum), backtracking "
               "over CG's iterates,");
  emit_line(e, " * the Levenberg-Marquardt rule for the damping λ, and the "
               "step. What depends");
  emit_line(e, " * on the net it asks of this program through the callbacks "
               "below. An update");
  emit_line(e,
            " * has a gradient batch of GRADIENT_BATCH %s, N_CHUNKS chunks "
            "of BATCH;",
            seq ? "sequences" : "cases");
  emit_line(e, " * the first chunk is also the curvature batch of its "
               "Gauss-Newton products. */");
  emit_blank(e);
  emit_line(e,
            "enum { GRADIENT_BATCH = %d, N_CHUNKS = GRADIENT_BATCH / BATCH "
            "};",
            p->batch);
  emit_blank(e);
  emit_line(e, "/* What the callbacks work on. */");
  emit_line(e, "typedef struct {");
  if (seq) {
    emit_line(e, "  mdl_seq_data *data;");
    emit_line(e, "  /* this update's sequences, chunk by chunk, as drawn */");
    emit_line(e, "  %s *input[N_CHUNKS], *target[N_CHUNKS];", r);
    emit_line(e, "  int length[N_CHUNKS][BATCH];");
  } else {
    emit_line(e, "  const mdl_dataset *data;");
    emit_line(e, "  mdl_batcher batches;");
    emit_line(e, "  const int *cases; /* this update's gradient batch */");
  }
  emit_line(e, "  Activations *a; /* one chunk at a time */");
  emit_line(e, "  Deltas *d;");
  emit_line(e, "  %s *chunk_gradient;", r);
  emit_line(e, "  Activations curvature; /* the curvature batch at the "
               "prepared point */");
  emit_line(e, "  Deltas curvature_deltas;");
  emit_line(e, "  RActivations ra;");
  emit_line(e, "  const %s *point; /* θ of the prepared point */", r);
  if (p->hf.precondition) {
    emit_line(e, "  %s *fisher; /* Σ of squared per-case gradients */", r);
    emit_line(e,
              "  %s *below, *above; /* squares of a chunk's activities and "
              "deltas */",
              r);
  }
  emit_line(e, "} HfWork;");
  emit_blank(e);
}

static void emit_r_activations_alloc(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  if (p->is_recurrent) {
    emit_line(e, "  w.ra = new_r_activations();");
    return;
  }
  for (int l = 1; l < p->n_layers; l++)
    emit_line(e, "  w.ra.%s = mdl_alloc(sizeof(%s) * BATCH * N_%s);",
              p->layers[l].name, r, p->layers[l].upper);
}

static void emit_new_work(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  bool seq = p->is_recurrent;
  emit_line(e,
            "static HfWork new_hf_work(%s%s *data, Activations *a, Deltas "
            "*d, uint64_t seed) {",
            seq ? "" : "const ", emit_data_type(p));
  emit_line(e, "  HfWork w = {.data = data, .a = a, .d = d};");
  if (seq) {
    emit_line(e, "  (void)seed; /* the data's stream draws the sequences */");
    emit_line(e, "  for (int k = 0; k < N_CHUNKS; k++) {");
    emit_line(e,
              "    w.input[k] = mdl_alloc(sizeof(%s) * MAX_STEPS * BATCH * "
              "N_INPUT);",
              r);
    emit_line(e, "    w.target[k] = mdl_alloc(sizeof(%s) * %s * N_OUTPUT);", r,
              p->every_step ? "MAX_STEPS * BATCH" : "BATCH");
    emit_line(e, "  }");
  } else {
    emit_line(e, "  mdl_batcher_init(&w.batches, data->n_cases, "
                 "GRADIENT_BATCH, seed);");
  }
  emit_line(e, "  w.chunk_gradient = mdl_alloc(sizeof(%s) * N_PARAMS);", r);
  emit_line(e, "  w.curvature = new_activations();");
  emit_line(e, "  w.curvature_deltas = new_deltas();");
  emit_r_activations_alloc(e);
  if (p->hf.precondition) {
    int widest = 0;
    for (int l = 0; l < p->n_layers; l++)
      widest = p->layers[l].size > widest ? p->layers[l].size : widest;
    emit_line(e, "  w.fisher = mdl_alloc(sizeof(%s) * N_PARAMS);", r);
    emit_line(e,
              "  w.below = mdl_alloc(sizeof(%s) * BATCH * %d); /* the "
              "widest layer */",
              r, widest);
    emit_line(e, "  w.above = mdl_alloc(sizeof(%s) * BATCH * %d);", r, widest);
  }
  emit_line(e, "  return w;");
  emit_line(e, "}");
  emit_blank(e);
}

static void emit_batches(Emitter *e) {
  const Program *p = e->p;
  bool seq = p->is_recurrent;
  emit_line(e, "/* A fresh gradient batch for the next update. */");
  emit_line(e, "static void next_gradient_batch(HfWork *w) {");
  if (seq) {
    emit_line(e, "  for (int k = 0; k < N_CHUNKS; k++)");
    emit_line(e,
              "    mdl_seq_next_batch(w->data, BATCH, w->input[k], "
              "w->target[k], w->length[k], %s);",
              e->dtype);
  } else {
    emit_line(e, "  w->cases = mdl_batcher_next(&w->batches);");
  }
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "/* Chunk k of the gradient batch into a. */");
  emit_line(e, "static void load_chunk(const HfWork *w, int k, Activations "
               "*a) {");
  if (seq) {
    const char *rows = p->every_step ? "MAX_STEPS * BATCH" : "BATCH";
    emit_line(e, "  for (long i = 0; i < (long)MAX_STEPS * BATCH * N_INPUT; "
                 "i++)");
    emit_line(e, "    a->input[i] = w->input[k][i];");
    emit_line(e, "  for (long i = 0; i < (long)%s * N_OUTPUT; i++)", rows);
    emit_line(e, "    a->target[i] = w->target[k][i];");
    emit_line(e, "  for (int b = 0; b < BATCH; b++)");
    emit_line(e, "    a->length[b] = w->length[k][b];");
  } else {
    emit_line(e, "  const int *cases = w->cases + (long)k * BATCH;");
    emit_line(e, "  mdl_data_gather(w->data, 0, cases, BATCH, a->input, %s);",
              e->dtype);
    if (!p->is_autoencoder)
      emit_line(e,
                "  mdl_data_gather(w->data, 1, cases, BATCH, a->target, %s);",
                e->dtype);
  }
  emit_line(e, "}");
  emit_blank(e);
}

static void emit_callbacks(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  bool seq = p->is_recurrent;
  bool structural = p->hf.structural > 0;
  emit_line(e, "/* The mean loss on the gradient batch or the curvature "
               "batch. It computes in");
  emit_line(e, " * w->a, leaving the prepared curvature batch alone. */");
  emit_line(e, "static double hf_loss(const void *theta, mdl_hf_batch batch, "
               "void *ctx) {");
  emit_line(e, "  HfWork *w = ctx;");
  emit_line(e, "  int chunks = batch == MDL_HF_CURVATURE_BATCH ? 1 : "
               "N_CHUNKS;");
  emit_line(e, "  double loss = 0%s;", seq ? "" : ", error = 0");
  emit_line(e, "  for (int k = 0; k < chunks; k++) {");
  emit_line(e, "    load_chunk(w, k, w->a);");
  emit_line(e, "    %s", forward_call(e, "theta", "w->a"));
  emit_line(e, "    %s", measure_call(e, "w->a"));
  emit_line(e, "  }");
  emit_line(e, "  return loss / ((double)chunks * BATCH);");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e,
            "/* The gradient of the mean loss on the gradient batch: the "
            "mean of its chunks'%s */",
            p->hf.precondition ? "\n * gradients; and the sum of squared "
                                 "per-case gradients for the preconditioner."
                               : ".");
  emit_line(e, "static double hf_gradient(const void *theta, void *grad, void "
               "*ctx) {");
  emit_line(e, "  HfWork *w = ctx;");
  emit_line(e, "  %s *g = grad;", r);
  emit_line(e, "  double loss = 0%s;", seq ? "" : ", error = 0");
  emit_line(e, "  for (long i = 0; i < N_PARAMS; i++)");
  if (p->hf.precondition) {
    emit_line(e, "    g[i] = w->fisher[i] = 0;");
  } else {
    emit_line(e, "    g[i] = 0;");
  }
  emit_line(e, "  for (int k = 0; k < N_CHUNKS; k++) {");
  emit_line(e, "    load_chunk(w, k, w->a);");
  emit_line(e, "    %s", forward_call(e, "theta", "w->a"));
  emit_line(e, "    %s", measure_call(e, "w->a"));
  emit_line(e, "    backward(theta, w->a, w->d, w->chunk_gradient, BATCH);");
  emit_line(e, "    for (long i = 0; i < N_PARAMS; i++)");
  emit_line(e, "      g[i] += w->chunk_gradient[i] / N_CHUNKS;");
  if (p->hf.precondition)
    emit_line(e, "    add_fisher(w->a, w->d, BATCH, w->fisher, w->below, "
                 "w->above);");
  emit_line(e, "  }");
  emit_line(e, "  return loss / GRADIENT_BATCH;");
  emit_line(e, "}");
  emit_blank(e);
  if (p->hf.precondition) {
    emit_line(e, "/* The empirical Fisher diagonal, the mean of the squared "
                 "per-case gradients:");
    emit_line(e, " * hf_gradient summed them at the same θ just before. */");
    emit_line(e, "static void hf_fisher_diagonal(const void *theta, void "
                 "*diagonal, void *ctx) {");
    emit_line(e, "  HfWork *w = ctx;");
    emit_line(e, "  %s *f = diagonal;", r);
    emit_line(e, "  (void)theta;");
    emit_line(e, "  for (long i = 0; i < N_PARAMS; i++)");
    emit_line(e, "    f[i] = w->fisher[i] / GRADIENT_BATCH;");
    emit_line(e, "}");
    emit_blank(e);
  }
  emit_line(e, "/* The curvature batch's forward pass at θ, kept for the "
               "products. */");
  emit_line(e, "static void hf_prepare_curvature(const void *theta, void "
               "*ctx) {");
  emit_line(e, "  HfWork *w = ctx;");
  emit_line(e, "  load_chunk(w, 0, &w->curvature);");
  emit_line(e, "  %s", forward_call(e, "theta", "&w->curvature"));
  emit_line(e, "  w->point = theta;");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "/* G v on the curvature batch at the prepared point%s. */",
            structural ? ", plus structural damping of the given weight" : "");
  emit_line(e, "static void hf_gauss_newton(const void *v, double "
               "structural_weight, void *gv, void *ctx) {");
  emit_line(e, "  HfWork *w = ctx;");
  if (structural)
    emit_line(e,
              "  gauss_newton(w->point, v, &w->curvature, &w->ra, "
              "&w->curvature_deltas, gv, BATCH, (%s)structural_weight);",
              r);
  else {
    emit_line(e, "  (void)structural_weight; /* no structural damping */");
    emit_line(e, "  gauss_newton(w->point, v, &w->curvature, &w->ra, "
                 "&w->curvature_deltas, gv, BATCH);");
  }
  emit_line(e, "}");
  emit_blank(e);
}

static void emit_settings_function(Emitter *e) {
  const Program *p = e->p;
  const HfSettings *s = &p->hf;
  FILE *out = e->out;
  static const char *const heads[] = {
      "max_cg",       "min_cg",       "cg_tolerance",
      "lambda",       "weight_decay", "structural_damping",
      "precondition", "backtrack",    "line_search"};
  enum { N_HEADS = sizeof heads / sizeof *heads };
  Loc given[N_HEADS];
  for (int i = 0; i < N_HEADS; i++)
    given[i] = model_written(p, heads[i]);
  emit_source_lines(e, "",
                    "HF's settings, as the program gives them (mdl/hf.h says "
                    "what each does).",
                    given, N_HEADS);
  emit_line(e, "static mdl_hf_settings hf_settings(void) {");
  emit_line(e, "  mdl_hf_settings s;");
  emit_line(e, "  mdl_hf_default_settings(&s);");
  emit_line(e, "  s.max_cg_steps = %d;", s->max_cg);
  emit_line(e, "  s.min_cg_steps = %d;", s->min_cg);
  fputs("  s.cg_tolerance = ", out);
  emit_number(out, s->cg_tolerance);
  fputs(";\n  s.initial_lambda = ", out);
  emit_number(out, s->lambda);
  fputs(";\n  s.weight_cost = ", out);
  emit_number(out, s->weight_decay);
  fputs(";\n  s.structural_damping = ", out);
  emit_number(out, s->structural);
  fputs(";\n", out);
  emit_line(e, "  s.precondition = %d;", s->precondition);
  emit_line(e, "  s.backtrack = %d;", s->backtrack);
  emit_line(e, "  s.line_search = %d;", s->line_search);
  emit_line(e, "  return s;");
  emit_line(e, "}");
  emit_blank(e);
}

static void emit_checkpoint(Emitter *e) {
  const char *r = e->real;
  emit_line(e, "/* --checkpoint: θ, HF's λ and hot start, and the sampler "
               "after t updates. */");
  emit_line(e,
            "static void save_checkpoint(const char *path, long t, const %s "
            "*theta, const mdl_hf *hf, const mdl_batcher *batches) {",
            r);
  emit_line(e, "  mdl_error err;");
  emit_line(e, "  if (mdl_hf_checkpoint_save(path, t, theta, hf, batches, "
               "&err) != 0)");
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "}");
  emit_blank(e);
}

/* --compare-cg-nag: Figure 5, at the end of the run. */
static void emit_compare(Emitter *e) {
  const char *r = e->real;
  emit_line(e, "/* --compare-cg-nag (Figure 5): the damped quadratic of a "
               "fresh batch at θ,");
  emit_line(e, " * minimized from zero by CG and by NAG, one Gauss-Newton "
               "product per iteration");
  emit_line(e, " * each; q after every iteration goes to a CSV file. */");
  emit_line(e,
            "static void compare_cg_nag(mdl_hf *hf, HfWork *w, const %s "
            "*theta, const char *path) {",
            r);
  emit_line(e, "  mdl_hf_compare_settings settings;");
  emit_line(e, "  mdl_hf_compare_default_settings(&settings);");
  emit_line(e, "  settings.iterations = hf->settings.max_cg_steps;");
  emit_line(e, "  long n = settings.iterations + 1;");
  emit_line(e, "  mdl_hf_comparison result = {");
  emit_line(e, "      .cg = mdl_alloc(sizeof(double) * n),");
  emit_line(e, "      .cg_preconditioned = hf->settings.precondition ? "
               "mdl_alloc(sizeof(double) * n) : NULL,");
  emit_line(e, "      .nag = mdl_alloc(sizeof(double) * n),");
  emit_line(e, "  };");
  emit_line(e, "  mdl_error err;");
  emit_line(e, "  next_gradient_batch(w);");
  emit_line(e, "  if (mdl_hf_compare_cg_nag(hf, theta, hf->lambda, &settings, "
               "&result, &err) != 0 ||");
  emit_line(e, "      mdl_hf_comparison_write(path, &settings, &result, 10, "
               "&err) != 0)");
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "}");
  emit_blank(e);
}

static void emit_net_literal(Emitter *e) {
  emit_line(e, "  mdl_hf_net net = {.type = %s,", e->dtype);
  emit_line(e, "                    .n_params = N_PARAMS,");
  emit_line(e, "                    .ctx = &w,");
  emit_line(e, "                    .loss = hf_loss,");
  emit_line(e, "                    .gradient = hf_gradient,");
  emit_line(e,
            "                    .prepare_curvature = hf_prepare_curvature,");
  emit_line(e, "                    .gauss_newton = hf_gauss_newton,");
  emit_line(e, "                    .fisher_diagonal = %s};",
            e->p->hf.precondition ? "hf_fisher_diagonal" : "NULL");
}

static void emit_hf_train(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  bool seq = p->is_recurrent;
  const char *sampler = seq ? "&data->sampler" : "&w.batches";
  emit_line(e,
            "static void train(%s *theta, %s%s *data%s, const mdl_options "
            "*opts, Activations *a, Deltas *d) {",
            r, seq ? "" : "const ", emit_data_type(p), emit_held_out_params(p));
  emit_line(e, "  HfWork w = new_hf_work(data, a, d, opts->seed + 1);");
  emit_net_literal(e);
  emit_line(e, "  mdl_hf_settings settings = hf_settings();");
  emit_line(e, "  mdl_hf hf;");
  emit_line(e, "  mdl_error err;");
  emit_line(e, "  if (mdl_hf_init(&hf, &net, &settings, &err) != 0)");
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_blank(e);
  emit_line(e, "  /* The first update of this run: 0, or where --resume left "
               "off (with θ, λ,");
  emit_line(e, "   * CG's hot start and the %s as they were then). */",
            seq ? "stream of sequences" : "minibatch order");
  emit_line(e, "  long first = 0;");
  emit_line(e,
            "  if (opts->resume && mdl_hf_checkpoint_load(opts->resume, "
            "&first, theta, &hf, %s, &err) != 0)",
            sampler);
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "  if (first > n_steps)");
  emit_line(e, "    mdl_die(\"the checkpoint is at update %%ld, past the "
               "end of the run (%%ld update%%s)\", first, n_steps, "
               "mdl_plural(n_steps));");
  emit_blank(e);
  emit_line(e, "  mdl_hf_progress progress;");
  const char *error_name = seq ? "mdl_seq_error_name(data)" : "\"train_error\"";
  if (emit_figures(e))
    emit_line(e,
              "  mdl_hf_progress_start_with_figures(&progress, opts, first, "
              "%s, &figures);",
              error_name);
  else
    emit_line(e, "  mdl_hf_progress_start(&progress, opts, first, %s);",
              error_name);
  emit_line(e, "  double error = 0, loss = 0;");
  emit_line(e, "  for (long t = first;; t++) {");
  emit_line(e, "    if (t %% opts->report_every == 0 || t == n_steps) {");
  emit_line(e, "      evaluate(theta, data, a, &error, &loss%s);",
            emit_tracks_saturation(p) ? ", NULL" : "");
  emit_held_out_report(e, "theta");
  emit_line(e, "      mdl_hf_progress_report(&progress, t, decay_at(t), error, "
               "loss);");
  if (p->valid.name || p->test.name)
    emit_line(e,
              "      mdl_best_offer(&best, t, %s_error, theta, %s, N_PARAMS);",
              p->valid.name ? "valid" : "test", e->dtype);
  emit_line(e, "      if (opts->checkpoint)");
  emit_line(e, "        save_checkpoint(opts->checkpoint, t, theta, &hf, %s);",
            sampler);
  emit_line(e, "    }");
  emit_line(e, "    if (t == n_steps)");
  emit_line(e, "      break;");
  emit_stop_check(e, arena_printf("theta, &hf, %s", sampler));
  emit_line(e, "    double epsilon = epsilon_at(t), decay = decay_at(t);");
  emit_line(e, "    /* This update's cases; then the driver: the gradient, CG "
               "from the decayed");
  emit_line(e,
            "     * previous solution, backtracking, λ, and θ += rate p with "
            "rate %s. */",
            p->hf.line_search ? "from the line search, starting at ε_t"
                              : "ε_t");
  emit_line(e, "    next_gradient_batch(&w);");
  emit_line(e, "    mdl_hf_report report;");
  emit_line(e, "    if (mdl_hf_update(&hf, theta, epsilon, decay, &report, "
               "&err) != 0)");
  emit_line(e, "      mdl_die(\"update %%ld: %%s\", t, err.message);");
  emit_line(e, "    mdl_hf_progress_add(&progress, &report);");
  emit_line(e, "  }");
  emit_line(e, "  mdl_hf_progress_finish(&progress, n_steps, error, loss);");
  if (p->valid.name || p->test.name)
    emit_line(e, "  mdl_best_finish(&best);");
  emit_line(e, "  if (opts->compare_cg_nag)");
  emit_line(e, "    compare_cg_nag(&hf, &w, theta, opts->compare_cg_nag);");
  emit_line(e, "  mdl_hf_free(&hf);");
  emit_line(e, "}");
  emit_blank(e);
}

/* --check-gauss-newton: the loss's convex argument u is the output units'
 * total input for a matching loss and their output for squared error on
 * nonlinear units; output_loss() of a row reads only that one. */
static void emit_check_gauss_newton(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  const Layer *out = &p->layers[p->n_layers - 1];
  bool on_z = p->loss == LOSS_CROSS_ENTROPY || out->act == ACT_LINEAR;
  const char *rows =
      p->is_recurrent && p->every_step ? "MAX_STEPS * BATCH" : "BATCH";
  emit_line(e, "/* --check-gauss-newton: G v against Jᵀ H J formed by finite "
               "differences of");
  emit_line(e, " * %s, the argument in which the loss is convex. */",
            on_z ? "the output units' total input z"
                 : "the outputs y (squared error on nonlinear units)");
  emit_line(e, "enum { N_CHECKED = %s * N_OUTPUT };", rows);
  emit_blank(e);
  emit_line(e, "static void check_outputs(const void *theta, double *u, void "
               "*ctx) {");
  emit_line(e, "  HfWork *w = ctx;");
  emit_line(e, "  load_chunk(w, 0, &w->curvature);");
  emit_line(e, "  %s", forward_call(e, "theta", "&w->curvature"));
  emit_line(e, "  for (long i = 0; i < N_CHECKED; i++)");
  emit_line(e, "    u[i] = w->curvature.%s[i];", on_z ? "output_z" : "output");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "static double check_outputs_loss(const double *u, void *ctx) "
               "{");
  emit_line(e, "  HfWork *w = ctx;");
  emit_line(e, "  double loss = 0%s;", p->is_recurrent ? "" : ", error = 0");
  emit_line(e, "  for (long i = 0; i < N_CHECKED; i++)");
  emit_line(e,
            "    w->curvature.output_z[i] = w->curvature.output[i] = "
            "(%s)u[i];",
            r);
  emit_line(e, "  %s", measure_call(e, "&w->curvature"));
  emit_line(e, "  return loss / BATCH;");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "static void check_gv(const void *theta, const void *v, double "
               "structural, void *gv, void *ctx) {");
  emit_line(e, "  hf_prepare_curvature(theta, ctx);");
  emit_line(e, "  hf_gauss_newton(v, structural, gv, ctx);");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e,
            "static int check_gauss_newton(%s *theta, %s%s *data, Activations "
            "*a, Deltas *d, uint64_t seed) {",
            r, p->is_recurrent ? "" : "const ", emit_data_type(p));
  emit_line(e, "  HfWork w = new_hf_work(data, a, d, seed);");
  emit_line(e, "  next_gradient_batch(&w);");
  fprintf(e->out,
          "  double worst = mdl_check_gauss_newton(theta, %s, N_PARAMS, "
          "N_CHECKED, check_outputs, check_outputs_loss, check_gv, &w, ",
          e->dtype);
  emit_number(e->out, p->hf.structural ? 1 : 0);
  fputs(", seed);\n", e->out);
  emit_line(e, "  double tolerance = %s;",
            e->opt->use_double ? "1e-5" : "5e-2");
  emit_line(e, "  printf(\"Gauss-Newton check %%s (tolerance %%g)\\n\", "
               "worst < tolerance ? \"passed\" : \"FAILED\", tolerance);");
  emit_line(e, "  return worst < tolerance ? 0 : 1;");
  emit_line(e, "}");
  emit_blank(e);
}

void emit_hf(Emitter *e) {
  emit_work_struct(e);
  emit_new_work(e);
  emit_batches(e);
  emit_callbacks(e);
  emit_settings_function(e);
}

void emit_hf_training(Emitter *e) {
  emit_check_gauss_newton(e);
  emit_checkpoint(e);
  emit_compare(e);
  emit_hf_train(e);
}
