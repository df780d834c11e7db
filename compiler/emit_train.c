/* emit_train.c — the training loop of sgd, cm and nag: train(), which
 * takes a minibatch's gradient where the method says and makes the update
 * of emit_update.c, with the minibatches and the checkpoint it keeps. */
#include "mdlc.h"

static bool nag_carried(const Emitter *e) {
  return e->p->method == METHOD_NAG && !e->opt->nag_direct;
}

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

/* save_checkpoint(), or only its declaration: train() calls it, and its
 * body waits below with the rest of what surrounds the algorithm. */
static void emit_checkpoint(Emitter *e, bool declaration) {
  const char *r = e->real;
  if (declaration)
    emit_line(e, "/* --checkpoint: saves the state after t updates (below, "
                 "with the other options). */");
  else
    emit_line(e,
              "/* --checkpoint: the state after t updates, for --resume. */");
  emit_line(e,
            "static void save_checkpoint(const char *path, long t, const %s "
            "*%s, const %s *velocity, const mdl_batcher *batches)%s",
            r, nag_carried(e) ? "lookahead" : "theta", r,
            declaration ? ";" : " {");
  if (declaration) {
    emit_blank(e);
    return;
  }
  emit_line(e, "  mdl_error err;");
  emit_line(e,
            "  if (mdl_checkpoint_save(path, t, %s, velocity, %d, %s, "
            "N_PARAMS, batches, &err) != 0)",
            nag_carried(e) ? "lookahead" : "theta", nag_carried(e), e->dtype);
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "}");
  emit_blank(e);
}

/* The gradient's norm into the statistics of the progress line, clipping
 * when the program asks for it, and the weight decay's gradient. A NaN or
 * Inf stops the run there, before the update; theta is where θ_t is (the
 * current parameters), at where the gradient was taken. */
static void emit_gradient_norm(Emitter *e, const char *theta, const char *at) {
  emit_line(e, "    double norm = mdl_gradient_norm(grad, %s, N_PARAMS);",
            e->dtype);
  emit_line(e, "    /* A NaN or Inf in the gradient stops the run at this "
               "update, before it");
  emit_line(e, "     * changes θ: --save-params keeps θ_t. */");
  if (nag_carried(e)) {
    emit_line(e, "    if (!isfinite(norm)) {");
    emit_line(e, "      parameters_from_lookahead(lookahead, velocity, mu, "
                 "params);");
    emit_line(e,
              "      mdl_diverged(opts, t, \"the gradient's norm\", norm, "
              "params, %s, N_PARAMS);",
              e->dtype);
    emit_line(e, "    }");
  } else {
    emit_line(e, "    if (!isfinite(norm))");
    emit_line(e,
              "      mdl_diverged(opts, t, \"the gradient's norm\", norm, "
              "%s, %s, N_PARAMS);",
              theta, e->dtype);
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

static void emit_train_function(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  bool carried = nag_carried(e);
  bool direct = p->method == METHOD_NAG && e->opt->nag_direct;
  bool seq = p->is_recurrent;
  /* A recurrent net draws fresh sequences from its data set, whose stream
   * is the sampler a checkpoint saves; a feed-forward net samples cases. */
  const char *sampler = seq ? "&data->sampler" : "&batches";
  const char *rows = seq ? "" : ", BATCH";
  emit_line(e,
            "static void train(%s *theta, %s%s *data%s, const "
            "mdl_options *opts, Activations *a, Deltas *d) {",
            r, seq ? "" : "const ", emit_data_type(p), emit_held_out_params(p));
  const char *velocity = p->method == METHOD_SGD ? "NULL" : "velocity";
  if (p->method != METHOD_SGD)
    emit_line(e,
              "  %s *velocity = mdl_zalloc(sizeof(%s) * N_PARAMS); /* v_0 "
              "= 0 */",
              r, r);
  emit_line(e, "  %s *grad = mdl_alloc(sizeof(%s) * N_PARAMS);", r, r);
  if (carried)
    emit_line(e,
              "  %s *params = mdl_alloc(sizeof(%s) * N_PARAMS); /* θ_t "
              "for reports */",
              r, r);
  if (direct)
    emit_line(e,
              "  %s *ahead = mdl_alloc(sizeof(%s) * N_PARAMS); /* θ_t + "
              "μ_t v_t */",
              r, r);
  if (!seq) {
    emit_line(e, "  mdl_batcher batches;");
    emit_line(e, "  mdl_batcher_init(&batches, data->n_cases, BATCH, "
                 "opts->seed + 1);");
  }
  emit_blank(e);
  emit_line(e, "  /* The first update of this run: 0, or where --resume left "
               "off (with θ, v");
  emit_line(e, "   * and the %s as they were then). */",
            seq ? "stream of minibatches" : "minibatch order");
  emit_line(e, "  long first = 0;");
  emit_line(e, "  mdl_error err;");
  if (carried)
    emit_line(e, "  %s *lookahead = theta; /* φ_0 = θ_0 since v_0 = 0 */", r);
  emit_line(e,
            "  if (opts->resume && mdl_checkpoint_load(opts->resume, "
            "&first, %s, %s, %d, %s, N_PARAMS, %s, &err) != 0)",
            carried ? "lookahead" : "theta", velocity, carried, e->dtype,
            sampler);
  emit_line(e, "    mdl_die(\"%%s\", err.message);");
  emit_line(e, "  if (first > n_steps)");
  emit_line(e, "    mdl_die(\"the checkpoint is at update %%ld, past the "
               "end of the run (%%ld update%%s)\", first, n_steps, "
               "mdl_plural(n_steps));");
  emit_blank(e);
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
  emit_line(e, "  mdl_progress progress;");
  if (figures)
    emit_line(e, "  mdl_progress_start_with_figures(&progress, opts, first, "
                 "\"train_error\", &gradients, &figures);");
  else
    emit_line(e,
              "  mdl_progress_start_with_gradients(&progress, opts, first, %s, "
              "&gradients);",
              seq ? "mdl_seq_error_name(data)" : "\"train_error\"");
  emit_line(e, "  double error = 0, loss = 0;");
  emit_line(e, "  for (long t = first;; t++) {");
  emit_line(e, "    if (t %% opts->report_every == 0 || t == n_steps) {");
  const char *current = carried ? "params" : "theta";
  if (carried)
    emit_line(e, "      parameters_from_lookahead(lookahead, velocity, "
                 "mu_at(t), params);");
  emit_line(e, "      evaluate(%s, data, a, &error, &loss%s);", current,
            saturation ? ", &gradients.saturated" : "");
  emit_held_out_report(e, current);
  emit_line(e,
            "      mdl_progress_report(&progress, t, %s, epsilon_at(t), "
            "error, loss);",
            p->method == METHOD_SGD ? "0" : "mu_at(t)");
  if (p->valid.name || p->test.name)
    emit_line(e, "      mdl_best_offer(&best, t, %s_error, %s, %s, N_PARAMS);",
              p->valid.name ? "valid" : "test", current, e->dtype);
  emit_line(e, "      if (opts->checkpoint)");
  emit_line(e, "        save_checkpoint(opts->checkpoint, t, %s, %s, %s);",
            carried ? "lookahead" : "theta", velocity, sampler);
  emit_line(e, "    }");
  emit_line(e, "    if (t == n_steps)");
  emit_line(e, "      break;");
  emit_stop_check(e, arena_printf("%s, %s, %s", carried ? "lookahead" : "theta",
                                  velocity, sampler));
  if (p->method == METHOD_SGD)
    emit_line(e, "    double epsilon = epsilon_at(t);");
  else
    emit_line(e, "    double mu = mu_at(t), epsilon = epsilon_at(t);");
  emit_line(e, "    mdl_check_schedule(t, %s, epsilon);",
            p->method == METHOD_SGD ? "0" : "mu");
  const char *batch = seq ? "A fresh minibatch of sequences" : "A minibatch";
  if (carried)
    emit_line(e,
              "    /* %s, its gradient at φ_t (eq. 3), the update "
              "(eqs. 3-4). */",
              batch);
  else if (direct)
    emit_line(e,
              "    /* %s, its gradient at θ_t + μ_t v_t, the "
              "update (eqs. 3-4). */",
              batch);
  else if (p->method == METHOD_CM)
    emit_line(e,
              "    /* %s, its gradient at θ_t, the update (eqs. "
              "1-2). */",
              batch);
  else
    emit_line(e, "    /* %s, its gradient at θ_t, the update. */", batch);
  if (seq)
    emit_line(e,
              "    mdl_seq_next_batch(data, BATCH, a->input, a->target, "
              "a->length, %s);",
              e->dtype);
  else
    emit_line(e, "    load_cases(data, mdl_batcher_next(&batches), a);");
  if (carried) {
    emit_line(e, "    forward(lookahead, a%s);", rows);
    emit_line(e, "    backward(lookahead, a, d, grad, BATCH);");
    emit_gradient_norm(e, "params", "lookahead");
    emit_line(e, "    update(lookahead, velocity, grad, mu, mu_at(t + 1), "
                 "epsilon);");
  } else if (direct) {
    emit_line(e, "    lookahead_point(theta, velocity, (%s)mu, ahead);", r);
    emit_line(e, "    forward(ahead, a%s);", rows);
    emit_line(e, "    backward(ahead, a, d, grad, BATCH);");
    emit_gradient_norm(e, "theta", "ahead");
    emit_line(e, "    update(theta, velocity, grad, mu, epsilon);");
  } else {
    emit_line(e, "    forward(theta, a%s);", rows);
    emit_line(e, "    backward(theta, a, d, grad, BATCH);");
    emit_gradient_norm(e, "theta", "theta");
    emit_line(e, "    update(theta, %sgrad, %sepsilon);",
              p->method == METHOD_SGD ? "" : "velocity, ",
              p->method == METHOD_SGD ? "" : "mu, ");
  }
  emit_line(e, "  }");
  if (carried)
    emit_line(e, "  parameters_from_lookahead(lookahead, velocity, "
                 "mu_at(n_steps), theta);");
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
