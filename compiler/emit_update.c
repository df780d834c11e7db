/* emit_update.c — the optimizer's update, written out per parameter block,
 * each line under the equation of the paper it implements. */
#include "mdlc.h"

static void emit_step_function(Emitter *e) {
  const char *r = e->real;
  switch (e->p->method) {
  case METHOD_SGD:
    emit_line(e, "/* Stochastic gradient descent: θ_{t+1} = θ_t - ε_t "
                 "∇f(θ_t). */");
    emit_line(e,
              "static void sgd_step(long n, %s *theta, const %s *grad, %s "
              "epsilon) {",
              r, r, r);
    emit_line(e, "  for (long i = 0; i < n; i++)");
    emit_line(e, "    theta[i] -= epsilon * grad[i];");
    emit_line(e, "}");
    break;
  case METHOD_CM:
    emit_line(e, "/* Classical momentum (CM):");
    emit_line(e, " *   v_{t+1} = μ_t v_t - ε_t ∇f(θ_t)     (1)");
    emit_line(e, " *   θ_{t+1} = θ_t + v_{t+1}             (2) */");
    emit_line(e,
              "static void cm_step(long n, %s *theta, %s *velocity, const "
              "%s *grad, %s mu, %s epsilon) {",
              r, r, r, r, r);
    emit_line(e, "  for (long i = 0; i < n; i++) {");
    emit_line(e, "    velocity[i] = mu * velocity[i] - epsilon * grad[i]; /* "
                 "eq. 1 */");
    emit_line(e, "    theta[i] += velocity[i];                            /* "
                 "eq. 2 */");
    emit_line(e, "  }");
    emit_line(e, "}");
    break;
  case METHOD_HF: /* the runtime's driver updates (emit_hf.c) */
    break;
  case METHOD_NAG:
    emit_line(e, "/* Nesterov's accelerated gradient (NAG):");
    emit_line(e, " *   v_{t+1} = μ_t v_t - ε_t ∇f(θ_t + μ_t v_t)     (3)");
    emit_line(e, " *   θ_{t+1} = θ_t + v_{t+1}                       (4)");
    if (e->opt->nag_direct) {
      emit_line(e, " * The gradient was taken at the look-ahead point θ_t + "
                   "μ_t v_t, which");
      emit_line(e, " * lookahead_point() formed; this is eqs. 3-4 as "
                   "written. */");
      emit_line(e,
                "static void nag_step(long n, %s *theta, %s *velocity, "
                "const %s *grad, %s mu, %s epsilon) {",
                r, r, r, r, r);
      emit_line(e, "  for (long i = 0; i < n; i++) {");
      emit_line(e, "    velocity[i] = mu * velocity[i] - epsilon * grad[i]; "
                   "/* eq. 3 */");
      emit_line(e, "    theta[i] += velocity[i];                            "
                   "/* eq. 4 */");
      emit_line(e, "  }");
      emit_line(e, "}");
      emit_blank(e);
      emit_line(e, "/* The look-ahead point θ_t + μ_t v_t, where eq. 3 takes "
                   "the gradient. */");
      emit_line(e,
                "static void lookahead_point(const %s *theta, const %s "
                "*velocity, %s mu, %s *ahead) {",
                r, r, r, r);
      emit_line(e, "  for (long i = 0; i < N_PARAMS; i++)");
      emit_line(e, "    ahead[i] = theta[i] + mu * velocity[i];");
      emit_line(e, "}");
      break;
    }
    emit_line(e, " * The gradient is taken at the look-ahead point");
    emit_line(e, " *   φ_t = θ_t + μ_t v_t.");
    emit_line(e, " * This program keeps φ in place of θ, so forming it "
                 "costs no pass over");
    emit_line(e, " * the parameters. From (3) and (4),");
    emit_line(e, " *   φ_{t+1} = θ_{t+1} + μ_{t+1} v_{t+1}");
    emit_line(e, " *           = φ_t - μ_t v_t + (1 + μ_{t+1}) v_{t+1},");
    emit_line(e, " * exact for any schedule because it uses both μ_t and "
                 "μ_{t+1} (the");
    emit_line(e, " * constant-μ rewriting common in libraries is not). θ = φ "
                 "- μ_t v is");
    emit_line(e, " * recovered whenever θ itself is needed: reports and "
                 "--save-params. */");
    emit_line(e,
              "static void nag_step(long n, %s *lookahead, %s *velocity, "
              "const %s *grad, %s mu, %s mu_next, %s epsilon) {",
              r, r, r, r, r, r);
    emit_line(e, "  for (long i = 0; i < n; i++) {");
    emit_line(e, "    %s v = velocity[i];", r);
    emit_line(e, "    velocity[i] = mu * v - epsilon * grad[i]; /* eq. 3 */");
    emit_line(e, "    /* eq. 4, carried to the next look-ahead point */");
    emit_line(e, "    lookahead[i] += (1 + mu_next) * velocity[i] - mu * v;");
    emit_line(e, "  }");
    emit_line(e, "}");
    emit_blank(e);
    emit_line(e, "/* θ_t = φ_t - μ_t v_t: the parameters behind the "
                 "look-ahead point. */");
    emit_line(e,
              "static void parameters_from_lookahead(const %s *lookahead, "
              "const %s *velocity, %s mu, %s *theta) {",
              r, r, r, r);
    emit_line(e, "  for (long i = 0; i < N_PARAMS; i++)");
    emit_line(e, "    theta[i] = lookahead[i] - mu * velocity[i];");
    emit_line(e, "}");
    break;
  }
  emit_blank(e);
}

void emit_update(Emitter *e) {
  const Program *p = e->p;
  const char *r = e->real;
  bool carried = p->method == METHOD_NAG && !e->opt->nag_direct;
  emit_line(e, "/* ---- The update ---- */");
  emit_blank(e);
  emit_step_function(e);
  emit_line(e, "/* One update of every parameter block. */");
  if (p->method == METHOD_SGD)
    emit_line(e,
              "static void update(%s *theta, const %s *grad, double "
              "epsilon) {",
              r, r);
  else if (carried)
    emit_line(e,
              "static void update(%s *lookahead, %s *velocity, const %s "
              "*grad, double mu, double mu_next, double epsilon) {",
              r, r, r);
  else
    emit_line(e,
              "static void update(%s *theta, %s *velocity, const %s "
              "*grad, double mu, double epsilon) {",
              r, r, r);
  for (int i = 0; i < p->n_blocks; i++) {
    const Block *b = &p->blocks[i];
    const char *size = emit_block_size(p, b);
    const char *at = b->upper;
    switch (p->method) {
    case METHOD_SGD:
      emit_line(e, "  sgd_step(%s, theta + %s, grad + %s, (%s)epsilon);", size,
                at, at, r);
      break;
    case METHOD_CM:
      emit_line(e,
                "  cm_step(%s, theta + %s, velocity + %s, grad + %s, "
                "(%s)mu, (%s)epsilon);",
                size, at, at, at, r, r);
      break;
    case METHOD_HF: /* emit_program does not call emit_update for hf */
      break;
    case METHOD_NAG:
      if (carried)
        emit_line(e,
                  "  nag_step(%s, lookahead + %s, velocity + %s, grad + "
                  "%s, (%s)mu, (%s)mu_next, (%s)epsilon);",
                  size, at, at, at, r, r, r);
      else
        emit_line(e,
                  "  nag_step(%s, theta + %s, velocity + %s, grad + %s, "
                  "(%s)mu, (%s)epsilon);",
                  size, at, at, at, r, r);
      break;
    }
  }
  emit_line(e, "}");
  emit_blank(e);
}
