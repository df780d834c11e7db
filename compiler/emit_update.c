/* emit_update.c — the optimizer's update, each line under the equation of
 * the paper it implements.
 *
 * Every parameter block has the same μ_t and ε_t (the language has no
 * per-block settings), and θ, v and g are each one flat vector
 * (model.c), so the update is one loop over all N_PARAMS numbers. Only
 * weight decay, which spares the biases, is written per block. */
#include "mdlc.h"

#include <string.h>

/* Weight decay: g += λW on every weight block, before the update. */
static void emit_weight_decay(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  const char *where =
      p->method == METHOD_NAG ? "the look-ahead point θ_t + μ_t v_t" : "θ_t";
  emit_line(e, "/* Weight decay (L2): the objective is f(θ) + (λ/2)‖W‖², W "
               "every weight (the");
  emit_line(e, " * biases are not decayed), so its gradient adds λW to the "
               "minibatch's:");
  emit_line(e, " *   g ← ∇f + λW, taken at %s like ∇f,", where);
  emit_line(e, " * and the update below uses g in place of ∇f. */");
  emit_line(e,
            "static void decay_weights(long n, const %s *w, %s *grad, %s "
            "lambda) {",
            r, r, r);
  emit_line(e, "  for (long i = 0; i < n; i++)");
  emit_line(e, "    grad[i] += lambda * w[i]; /* ∇ (λ/2)‖W‖² = λW */");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "/* g ← g + λW for every weight block; at is where g was "
               "taken. */");
  emit_line(e, "static void add_weight_decay(const %s *at, %s *grad) {", r, r);
  if (strcmp(r, "double") == 0)
    emit_line(e, "  double lambda = weight_decay;");
  else
    emit_line(e, "  %s lambda = (%s)weight_decay;", r, r);
  for (int i = 0; i < p->n_blocks; i++) {
    const Block *b = &p->blocks[i];
    if (b->kind != BLOCK_WEIGHTS)
      continue;
    emit_line(e, "  decay_weights(%s, at + %s, grad + %s, lambda);",
              emit_block_size(p, b), b->upper, b->upper);
  }
  emit_line(e, "}");
  emit_blank(e);
}

/* With weight decay, the equation the update makes with grad = ∇f + λW
 * (add_weight_decay), for update()'s comment. */
static void emit_weight_decay_equation(Emitter *e) {
  switch (e->p->method) {
  case METHOD_SGD:
    emit_line(e, " * With weight decay grad is ∇f(θ_t) + λW_t "
                 "(add_weight_decay), so this is");
    emit_line(e, " *   θ_{t+1} = θ_t - ε_t (∇f(θ_t) + λ W_t).");
    break;
  case METHOD_CM:
    emit_line(e, " * With weight decay grad is ∇f(θ_t) + λW_t "
                 "(add_weight_decay), so eq. 1 is");
    emit_line(e, " *   v_{t+1} = μ_t v_t - ε_t (∇f(θ_t) + λ W_t).");
    break;
  case METHOD_NAG:
    emit_line(e, " * With weight decay grad is ∇f + λW at the look-ahead "
                 "point φ_t = θ_t + μ_t v_t");
    emit_line(e, " * (add_weight_decay), so eq. 3 is");
    emit_line(e, " *   v_{t+1} = μ_t v_t - ε_t (∇f(φ_t) + λ W(φ_t)), W(φ) "
                 "the weights of φ.");
    break;
  case METHOD_HF: /* HF's weight cost is the runtime's (emit_hf.c) */
    break;
  }
}

/* The end of update()'s comment: the weight decay's equation, why one loop
 * does, and in float32 where μ and ε become floats. */
static void emit_end_of_update_comment(Emitter *e) {
  if (e->p->has_weight_decay)
    emit_weight_decay_equation(e);
  const char *rates = e->p->method == METHOD_SGD ? "ε_t" : "μ_t and ε_t";
  emit_line(e,
            " * All N_PARAMS parameters share %s, so the update is one loop "
            "over",
            rates);
  if (strcmp(e->real, "double") == 0) {
    emit_line(e, " * the flat vectors. */");
    return;
  }
  emit_line(e, " * the flat vectors. The call rounds the schedules' doubles to "
               "float, the");
  emit_line(e, " * parameters' precision. */");
}

static void emit_sgd_update(Emitter *e, const char *name) {
  const char *r = e->real;
  emit_line(e, "/* Stochastic gradient descent:");
  emit_line(e, " *   θ_{t+1} = θ_t - ε_t ∇f(θ_t)");
  emit_end_of_update_comment(e);
  emit_line(e, "static void %s(%s *theta, const %s *grad, %s epsilon) {", name,
            r, r, r);
  emit_line(e, "  for (long i = 0; i < N_PARAMS; i++)");
  emit_line(e, "    theta[i] -= epsilon * grad[i];");
  emit_line(e, "}");
}

static void emit_cm_update(Emitter *e, const char *name) {
  const char *r = e->real;
  emit_line(e, "/* Classical momentum (CM):");
  emit_line(e, " *   v_{t+1} = μ_t v_t - ε_t ∇f(θ_t)     (1)");
  emit_line(e, " *   θ_{t+1} = θ_t + v_{t+1}             (2)");
  emit_end_of_update_comment(e);
  emit_line(e,
            "static void %s(%s *theta, %s *velocity, const %s *grad, %s "
            "mu, %s epsilon) {",
            name, r, r, r, r, r);
  emit_line(e, "  for (long i = 0; i < N_PARAMS; i++) {");
  emit_line(e, "    velocity[i] = mu * velocity[i] - epsilon * grad[i]; /* "
               "eq. 1 */");
  emit_line(e, "    theta[i] += velocity[i];                            /* "
               "eq. 2 */");
  emit_line(e, "  }");
  emit_line(e, "}");
}

static void emit_nag_equations(Emitter *e) {
  emit_line(e, "/* Nesterov's accelerated gradient (NAG):");
  emit_line(e, " *   v_{t+1} = μ_t v_t - ε_t ∇f(θ_t + μ_t v_t)     (3)");
  emit_line(e, " *   θ_{t+1} = θ_t + v_{t+1}                       (4)");
}

/* NAG as printed: train() forms θ_t + μ_t v_t and takes the gradient
 * there, and the update is eqs. 3-4 line for line. */
static void emit_nag_direct_update(Emitter *e, const char *name) {
  const char *r = e->real;
  emit_nag_equations(e);
  emit_line(e, " * The gradient was taken at the look-ahead point θ_t + μ_t "
               "v_t, which");
  emit_line(e, " * lookahead_point() formed; this is eqs. 3-4 as written.");
  emit_end_of_update_comment(e);
  emit_line(e,
            "static void %s(%s *theta, %s *velocity, const %s *grad, %s "
            "mu, %s epsilon) {",
            name, r, r, r, r, r);
  emit_line(e, "  for (long i = 0; i < N_PARAMS; i++) {");
  emit_line(e, "    velocity[i] = mu * velocity[i] - epsilon * grad[i]; /* "
               "eq. 3 */");
  emit_line(e, "    theta[i] += velocity[i];                            /* "
               "eq. 4 */");
  emit_line(e, "  }");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "/* The look-ahead point θ_t + μ_t v_t, where eq. 3 takes the "
               "gradient. */");
  emit_line(e,
            "static void lookahead_point(const %s *theta, const %s "
            "*velocity, %s mu, %s *ahead) {",
            r, r, r, r);
  emit_line(e, "  for (long i = 0; i < N_PARAMS; i++)");
  emit_line(e, "    ahead[i] = theta[i] + mu * velocity[i];");
  emit_line(e, "}");
}

/* NAG with the look-ahead point carried between updates in place of θ:
 * the derivation from eqs. 3-4 stands above the loop. */
static void emit_nag_carried_update(Emitter *e, const char *name) {
  const char *r = e->real;
  emit_nag_equations(e);
  emit_line(e, " * The gradient is taken at the look-ahead point");
  emit_line(e, " *   φ_t = θ_t + μ_t v_t.");
  emit_line(e, " * This program keeps φ in place of θ, so forming it costs no "
               "pass over");
  emit_line(e, " * the parameters. From (3) and (4),");
  emit_line(e, " *   φ_{t+1} = θ_{t+1} + μ_{t+1} v_{t+1}");
  emit_line(e, " *           = φ_t - μ_t v_t + (1 + μ_{t+1}) v_{t+1},");
  emit_line(e, " * exact for any schedule because it uses both μ_t and "
               "μ_{t+1} (the");
  emit_line(e, " * constant-μ rewriting common in libraries is not). θ = φ - "
               "μ_t v is");
  emit_line(e, " * recovered whenever θ itself is needed: %s.",
            e->p->net_kind == NET_QUADRATIC ? "the path"
                                            : "reports and --save-params");
  emit_end_of_update_comment(e);
  emit_line(e,
            "static void %s(%s *lookahead, %s *velocity, const %s *grad, "
            "%s mu, %s mu_next, %s epsilon) {",
            name, r, r, r, r, r, r);
  emit_line(e, "  for (long i = 0; i < N_PARAMS; i++) {");
  emit_line(e, "    %s v = velocity[i];", r);
  emit_line(e, "    velocity[i] = mu * v - epsilon * grad[i]; /* eq. 3 */");
  emit_line(e, "    /* eq. 4, carried to the next look-ahead point */");
  emit_line(e, "    lookahead[i] += (1 + mu_next) * velocity[i] - mu * v;");
  emit_line(e, "  }");
  emit_line(e, "}");
  emit_blank(e);
  emit_line(e, "/* θ_t = φ_t - μ_t v_t: the parameters behind the look-ahead "
               "point. */");
  emit_line(e,
            "static void parameters_from_lookahead(const %s *lookahead, "
            "const %s *velocity, %s mu, %s *theta) {",
            r, r, r, r);
  emit_line(e, "  for (long i = 0; i < N_PARAMS; i++)");
  emit_line(e, "    theta[i] = lookahead[i] - mu * velocity[i];");
  emit_line(e, "}");
}

void emit_update_function(Emitter *e, const char *name) {
  switch (e->p->method) {
  case METHOD_SGD:
    emit_sgd_update(e, name);
    break;
  case METHOD_CM:
    emit_cm_update(e, name);
    break;
  case METHOD_NAG:
    if (e->opt->nag_direct)
      emit_nag_direct_update(e, name);
    else
      emit_nag_carried_update(e, name);
    break;
  case METHOD_HF: /* the runtime's driver updates (emit_hf.c) */
    break;
  }
}

void emit_update(Emitter *e) {
  emit_line(e, "/* ---- The update ---- */");
  emit_blank(e);
  if (e->p->has_weight_decay)
    emit_weight_decay(e);
  emit_update_function(e, "update");
  emit_blank(e);
}
