/* emit_train.c — the training loop of sgd, cm and nag: train(), which
 * takes a minibatch's gradient where the method says and makes the update
 * of emit_update.c, with the minibatches and the checkpoint it keeps.
 *
 * train() is one skeleton for every method. What the methods do
 * differently is one row each of `methods` below, with the step each one
 * makes in a function of its own; what feed-forward and recurrent nets do
 * differently, one row each of `minibatch_sources`. */
#include "mdlc.h"

/* How a feed-forward net's and a recurrent net's train() differ: where
 * their minibatches come from. Indexed by Program.is_recurrent. */
typedef struct {
  const char *data_const; /* "const " when train() only reads the data */
  const char *sampler;    /* what a checkpoint saves of the data's order */
  const char *order;      /* that order, in words */
  const char *minibatch;  /* a minibatch, in words */
  const char *rows;       /* forward()'s rows argument, if it has one */
} MinibatchSource;

static const MinibatchSource minibatch_sources[] = {
    /* A feed-forward net samples cases of its data set. */
    {.data_const = "const ",
     .sampler = "&batches",
     .order = "minibatch order",
     .minibatch = "A minibatch",
     .rows = ", BATCH"},
    /* A recurrent net draws fresh sequences from its data set, whose
     * stream is the sampler. */
    {.data_const = "",
     .sampler = "&data->sampler",
     .order = "stream of minibatches",
     .minibatch = "A fresh minibatch of sequences",
     .rows = ""},
};

static void emit_load_cases(Emitter *e) {
  const Program *p = e->p;
  emit_line(e, "/* Copies the listed cases into the minibatch buffers. */");
  emit_line(e, "static void load_cases(const mdl_dataset *data, const int "
               "*cases, Activations *a) {");
  emit_line(e, "  mdl_data_gather(data, 0, cases, BATCH, a->input, %s);",
            e->dtype);
  if (!p->is_autoencoder)
    emit_line(e, "  mdl_data_gather(data, 1, cases, BATCH, a->target, %s);",
              e->dtype);
  emit_line(e, "}");
  emit_blank(e);
}

/* The next minibatch into the activations' input (and target) rows. */
static void emit_next_minibatch(Emitter *e) {
  if (e->p->is_recurrent)
    emit_line(e,
              "    mdl_seq_next_batch(data, BATCH, a->input, a->target, "
              "a->length, %s);",
              e->dtype);
  else
    emit_line(e, "    load_cases(data, mdl_batcher_next(&batches), a);");
}

/* The minibatch's gradient at the parameters `at`, into grad. */
static void emit_gradient_at(Emitter *e, const char *at) {
  emit_line(e, "    forward(%s, a%s);", at,
            minibatch_sources[e->p->is_recurrent].rows);
  emit_line(e, "    backward(%s, a, d, grad, BATCH);", at);
}

/* The gradient's norm into the statistics of the progress line, clipping
 * when the program asks for it, and the weight decay's gradient. A NaN or
 * Inf stops the run there, before the update, keeping θ_t: theta_t is
 * where it is, after the line `rebuild` when that is not NULL; at is where
 * the gradient was taken. */
static void emit_gradient_norm(Emitter *e, const char *theta_t,
                               const char *rebuild, const char *at) {
  emit_line(e, "    double norm = mdl_gradient_norm(grad, %s, N_PARAMS);",
            e->dtype);
  emit_line(e, "    /* A NaN or Inf in the gradient stops the run at this "
               "update, before it");
  emit_line(e, "     * changes θ: --save-params keeps θ_t. */");
  if (rebuild) {
    emit_line(e, "    if (!isfinite(norm)) {");
    emit_line(e, "      %s", rebuild);
    emit_line(e,
              "      mdl_diverged(opts, t, \"the gradient's norm\", norm, "
              "%s, %s, N_PARAMS);",
              theta_t, e->dtype);
    emit_line(e, "    }");
  } else {
    emit_line(e, "    if (!isfinite(norm))");
    emit_line(e,
              "      mdl_diverged(opts, t, \"the gradient's norm\", norm, "
              "%s, %s, N_PARAMS);",
              theta_t, e->dtype);
  }
  emit_line(e, "    mdl_gradient_stats_add(&gradients, norm);");
  if (e->p->clip > 0) {
    emit_line(e, "    /* Clipping, not the paper's (Pascanu et al. 2013): g is "
                 "scaled back to");
    emit_line(e, "     * the norm CLIP when it is longer, keeping its "
                 "direction. */");
    emit_line(e, "    if (norm > CLIP) {");
    emit_line(e, "      mdl_scale(grad, %s, N_PARAMS, CLIP / norm);", e->dtype);
    emit_line(e, "      gradients.clipped++;");
    emit_line(e, "    }");
  }
  if (e->p->has_weight_decay) {
    emit_line(e, "    /* Weight decay: g ← g + λW, W where g was taken "
                 "(‖g‖ above, and");
    emit_line(e, "     * clipping, are the minibatch's gradient's alone). "
                 "*/");
    emit_line(e, "    add_weight_decay(%s, grad);", at);
  }
}

/* ---- One update of each method, inside the loop ---- */

/* SGD: the gradient at θ_t, and θ_{t+1} = θ_t - ε_t g. */
static void emit_sgd_step(Emitter *e) {
  emit_line(e, "    /* %s, its gradient at θ_t, the update. */",
            minibatch_sources[e->p->is_recurrent].minibatch);
  emit_next_minibatch(e);
  emit_gradient_at(e, "theta");
  emit_gradient_norm(e, "theta", NULL, "theta");
  emit_line(e, "    update(theta, grad, epsilon);");
}

/* CM: the gradient at θ_t, and eqs. 1-2. */
static void emit_cm_step(Emitter *e) {
  emit_line(e,
            "    /* %s, its gradient at θ_t, the update (eqs. "
            "1-2). */",
            minibatch_sources[e->p->is_recurrent].minibatch);
  emit_next_minibatch(e);
  emit_gradient_at(e, "theta");
  emit_gradient_norm(e, "theta", NULL, "theta");
  emit_line(e, "    update(theta, velocity, grad, mu, epsilon);");
}

/* NAG as eqs. 3-4 are printed: the look-ahead point θ_t + μ_t v_t formed
 * anew, the gradient there, and the update of θ. */
static void emit_nag_direct_step(Emitter *e) {
  emit_line(e,
            "    /* %s, its gradient at θ_t + μ_t v_t, the "
            "update (eqs. 3-4). */",
            minibatch_sources[e->p->is_recurrent].minibatch);
  emit_next_minibatch(e);
  emit_line(e, "    lookahead_point(theta, velocity, (%s)mu, ahead);", e->real);
  emit_gradient_at(e, "ahead");
  emit_gradient_norm(e, "theta", NULL, "ahead");
  emit_line(e, "    update(theta, velocity, grad, mu, epsilon);");
}

/* NAG with the look-ahead point carried: the loop keeps φ_t = θ_t + μ_t v_t
 * in place of θ_t, takes the gradient there (eq. 3), and moves φ to
 * φ_{t+1} (emit_update.c); θ_t is rebuilt from φ_t where it is needed. */
static void emit_nag_carried_step(Emitter *e) {
  emit_line(e,
            "    /* %s, its gradient at φ_t (eq. 3), the update "
            "(eqs. 3-4). */",
            minibatch_sources[e->p->is_recurrent].minibatch);
  emit_next_minibatch(e);
  emit_gradient_at(e, "lookahead");
  emit_gradient_norm(
      e, "params",
      "parameters_from_lookahead(lookahead, velocity, mu, params);",
      "lookahead");
  emit_line(e, "    update(lookahead, velocity, grad, mu, mu_at(t + 1), "
               "epsilon);");
}

/* How the methods' train() differ, one row each. */
typedef struct {
  bool momentum; /* keeps a velocity v, and μ_t */
  /* What the updates change, and a checkpoint saves: theta, or when
   * `carried` the look-ahead point φ_t (φ_0 = θ_0, since v_0 = 0). */
  const char *state;
  bool carried;
  /* One more vector, with what it holds, or NULL. */
  const char *extra, *extra_holds;
  /* Where θ_t is at a report, after the line `rebuild` when that is not
   * NULL; and the line that leaves θ_n in theta at the end, or NULL. */
  const char *theta_t, *rebuild, *finish;
  void (*step)(Emitter *e);
} MethodForm;

enum { FORM_SGD, FORM_CM, FORM_NAG_DIRECT, FORM_NAG_CARRIED };

static const MethodForm methods[] = {
    [FORM_SGD] = {.state = "theta", .theta_t = "theta", .step = emit_sgd_step},
    [FORM_CM] = {.momentum = true,
                 .state = "theta",
                 .theta_t = "theta",
                 .step = emit_cm_step},
    [FORM_NAG_DIRECT] = {.momentum = true,
                         .state = "theta",
                         .extra = "ahead",
                         .extra_holds = "θ_t + μ_t v_t",
                         .theta_t = "theta",
                         .step = emit_nag_direct_step},
    [FORM_NAG_CARRIED] = {.momentum = true,
                          .state = "lookahead",
                          .carried = true,
                          .extra = "params",
                          .extra_holds = "θ_t for reports",
                          .theta_t = "params",
                          .rebuild = "parameters_from_lookahead(lookahead, "
                                     "velocity, mu_at(t), params);",
                          .finish = "parameters_from_lookahead(lookahead, "
                                    "velocity, mu_at(n_steps), theta);",
                          .step = emit_nag_carried_step},
};

static const MethodForm *method_form(const Emitter *e) {
  switch (e->p->method) {
  case METHOD_SGD:
    return &methods[FORM_SGD];
  case METHOD_CM:
    return &methods[FORM_CM];
  default:
    return &methods[e->opt->nag_direct ? FORM_NAG_DIRECT : FORM_NAG_CARRIED];
  }
}

/* save_checkpoint(), or only its declaration: train() calls it, and its
 * body waits below with the rest of what surrounds the algorithm. */
static void emit_checkpoint(Emitter *e, bool declaration) {
  const char *r = e->real;
  const MethodForm *m = method_form(e);
  if (declaration)
    emit_line(e, "/* --checkpoint: saves the state after t updates (below, "
                 "with the other options). */");
  else
    emit_line(e,
              "/* --checkpoint: the state after t updates, for --resume. */");
  emit_line(e,
            "static void save_checkpoint(const char *path, long t, const %s "
            "*%s, const %s *velocity, const mdl_batcher *batches)%s",
            r, m->state, r, declaration ? ";" : " {");
  if (declaration) {
    emit_blank(e);
    return;
  }
  emit_line(e, "  mdl_error err;");
  emit_line(e,
            "  if (mdl_checkpoint_save(path, t, %s, velocity, %d, %s, "
            "N_PARAMS, batches, &err) != 0)",
            m->state, m->carried, e->dtype);
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "}");
  emit_blank(e);
}

/* train()'s vectors, and where the run starts: update 0, or a checkpoint's
 * (--resume). */
static void emit_train_start(Emitter *e, const MethodForm *m,
                             const MinibatchSource *d) {
  const char *r = e->real;
  const char *velocity = m->momentum ? "velocity" : "NULL";
  if (m->momentum)
    emit_line(e,
              "  %s *velocity = mdl_zalloc(sizeof(%s) * N_PARAMS); /* v_0 "
              "= 0 */",
              r, r);
  emit_line(e, "  %s *grad = mdl_alloc(sizeof(%s) * N_PARAMS);", r, r);
  if (m->extra)
    emit_line(e, "  %s *%s = mdl_alloc(sizeof(%s) * N_PARAMS); /* %s */", r,
              m->extra, r, m->extra_holds);
  if (!e->p->is_recurrent) {
    emit_line(e, "  mdl_batcher batches;");
    emit_line(e, "  mdl_batcher_init(&batches, data->n_cases, BATCH, "
                 "opts->seed + 1);");
  }
  emit_blank(e);
  emit_line(e, "  /* The first update of this run: 0, or where --resume left "
               "off (with θ, v");
  emit_line(e, "   * and the %s as they were then). */", d->order);
  emit_line(e, "  long first = 0;");
  emit_line(e, "  mdl_error err;");
  if (m->carried)
    emit_line(e, "  %s *%s = theta; /* φ_0 = θ_0 since v_0 = 0 */", r,
              m->state);
  emit_line(e,
            "  if (opts->resume && mdl_checkpoint_load(opts->resume, "
            "&first, %s, %s, %d, %s, N_PARAMS, %s, &err) != 0)",
            m->state, velocity, m->carried, e->dtype, d->sampler);
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "  if (first > n_steps)");
  emit_line(e, "    mdl_die(\"the checkpoint is at update %%ld, past the "
               "end of the run (%%ld update%%s)\", first, n_steps, "
               "mdl_plural(n_steps));");
  emit_blank(e);
}

/* What the progress lines show: the gradient's statistics and the
 * figures beside the error and loss. */
static void emit_progress_start(Emitter *e) {
  const Program *p = e->p;
  bool saturation = emit_tracks_saturation(p);
  emit_line(e, "  /* The gradient's norm at every update, shown at every "
               "progress line: a");
  emit_line(e, "   * net that is about to diverge or die shows itself there "
               "first. */");
  if (p->clip > 0 || saturation) {
    emit_line(e, "  mdl_gradient_stats gradients = {");
    if (p->clip > 0)
      emit_line(e, "      .clip = CLIP,");
    if (saturation)
      emit_line(e, "      .track_saturation = 1,");
    emit_line(e, "  };");
  } else {
    emit_line(e, "  mdl_gradient_stats gradients = {0};");
  }
  bool figures = emit_figures(e);
  const char *error_name =
      p->is_recurrent ? "mdl_seq_error_name(data)" : "\"train_error\"";
  emit_line(e, "  mdl_progress progress;");
  if (figures)
    emit_line(e,
              "  mdl_progress_start_with_figures(&progress, opts, first, %s, "
              "&gradients, &figures);",
              error_name);
  else
    emit_line(e,
              "  mdl_progress_start_with_gradients(&progress, opts, first, %s, "
              "&gradients);",
              error_name);
}

/* A report every report_every updates and at the end: θ_t measured on the
 * data (and the held-out sets), and with --checkpoint the state saved
 * (`saved`: what save_checkpoint takes after the path and t). */
static void emit_report(Emitter *e, const MethodForm *m, const char *saved) {
  const Program *p = e->p;
  emit_line(e, "    if (t %% opts->report_every == 0 || t == n_steps) {");
  if (m->rebuild)
    emit_line(e, "      %s", m->rebuild);
  emit_line(e, "      evaluate(%s, data, a, &error, &loss%s);", m->theta_t,
            emit_tracks_saturation(p) ? ", &gradients.saturated" : "");
  emit_held_out_report(e, m->theta_t);
  emit_line(e,
            "      mdl_progress_report(&progress, t, %s, epsilon_at(t), "
            "error, loss);",
            m->momentum ? "mu_at(t)" : "0");
  if (p->valid.name || p->test.name)
    emit_line(e, "      mdl_best_offer(&best, t, %s_error, %s, %s, N_PARAMS);",
              p->valid.name ? "valid" : "test", m->theta_t, e->dtype);
  emit_line(e, "      if (opts->checkpoint)");
  emit_line(e, "        save_checkpoint(opts->checkpoint, t, %s);", saved);
  emit_line(e, "    }");
}

/* train(): the skeleton every method shares, top to bottom. */
static void emit_train_function(Emitter *e) {
  const Program *p = e->p;
  const MethodForm *m = method_form(e);
  const MinibatchSource *d = &minibatch_sources[p->is_recurrent];
  /* What a checkpoint saves: the parameters, the velocity, the order. */
  const char *saved = arena_printf(
      "%s, %s, %s", m->state, m->momentum ? "velocity" : "NULL", d->sampler);
  emit_line(e,
            "static void train(%s *theta, %s%s *data%s, const "
            "mdl_options *opts, Activations *a, Deltas *d) {",
            e->real, d->data_const, emit_data_type(p), emit_held_out_params(p));
  emit_train_start(e, m, d);
  emit_progress_start(e);
  emit_line(e, "  double error = 0, loss = 0;");
  emit_line(e, "  for (long t = first;; t++) {");
  emit_report(e, m, saved);
  emit_line(e, "    if (t == n_steps)");
  emit_line(e, "      break;");
  emit_stop_check(e, saved);
  if (m->momentum)
    emit_line(e, "    double mu = mu_at(t), epsilon = epsilon_at(t);");
  else
    emit_line(e, "    double epsilon = epsilon_at(t);");
  emit_line(e, "    mdl_check_schedule(t, %s, epsilon);",
            m->momentum ? "mu" : "0");
  m->step(e);
  emit_line(e, "  }");
  if (m->finish)
    emit_line(e, "  %s", m->finish);
  emit_line(e, "  mdl_progress_finish(&progress, n_steps, error, loss);");
  if (p->valid.name || p->test.name)
    emit_line(e, "  mdl_best_finish(&best);");
  emit_line(e, "}");
  emit_blank(e);
}

void emit_train(Emitter *e) {
  if (!e->p->is_recurrent)
    emit_load_cases(e);
  emit_checkpoint(e, true);
  emit_train_function(e);
}

void emit_train_checkpoint(Emitter *e) { emit_checkpoint(e, false); }
