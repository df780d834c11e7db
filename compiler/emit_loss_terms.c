/* emit_loss_terms.c — the loss as the passes that differentiate it see it:
 * the output deltas δ = ∂L/∂z (their value and the comment that says why
 * it is so simple), and what the summed loss is divided by. Shared by
 * backpropagation, backpropagation through time and the Gauss-Newton
 * product, so that they agree and none of them depends on another. */
#include "mdlc.h"

/* δ = ∂L/∂z of one output for the mean loss over rows cases, from y and the
 * target t, as a C expression. */
const char *emit_output_delta_value(const Program *p, const char *y,
                                    const char *t) {
  Activation act = p->layers[p->n_layers - 1].act;
  if (p->loss == LOSS_CROSS_ENTROPY || act == ACT_LINEAR)
    return arena_printf("(%s - %s) * scale", y, t);
  if (act == ACT_SIGMOID)
    return arena_printf("(%s - %s) * %s * (1 - %s) * scale", y, t, y, y);
  return arena_printf("(%s - %s) * (1 - %s * %s) * scale", y, t, y, y);
}

/* The comment above output_delta: what δ is, and why it is so simple for
 * matching pairs of units and loss. */
void emit_output_delta_comment(Emitter *e, const char *what, const char *more) {
  const Program *p = e->p;
  Activation act = p->layers[p->n_layers - 1].act;
  bool matched = p->loss == LOSS_CROSS_ENTROPY || act == ACT_LINEAR;
  emit_line(e,
            "/* The output deltas δ = ∂L/∂z for the mean loss over rows "
            "%s.",
            what);
  if (matched) {
    emit_line(e,
              " * %s units with %s form a matching pair: the derivative "
              "of the",
              act == ACT_SIGMOID   ? "Logistic"
              : act == ACT_SOFTMAX ? "Softmax"
                                   : "Linear",
              p->loss == LOSS_CROSS_ENTROPY ? "cross-entropy"
                                            : "squared error");
    emit_line(e, " * nonlinearity cancels, and δ = (y - t) / %s.%s",
              emit_loss_divisor(p), more ? "" : " */");
  } else {
    emit_line(e, " * Squared error on %s units: δ = (y - t) φ'(z) / %s.%s",
              activation_name(act), emit_loss_divisor(p), more ? "" : " */");
  }
  if (more)
    emit_line(e, " * %s */", more);
}

/* What the summed loss of rows cases or sequences is divided by, as a
 * comment writes it. */
const char *emit_loss_divisor(const Program *p) {
  return p->is_recurrent && p->loss_per_target ? "(rows · TARGET_STEPS)"
                                               : "rows";
}

/* The same divisor as a C expression. */
const char *emit_loss_divisor_c(const Program *p) {
  return p->loss_per_target ? "(rows * TARGET_STEPS)" : "rows";
}

/* Whether step s of sequence b carries loss, as a C condition. */
const char *emit_loss_counts(const Program *p) {
  if (!p->every_step)
    return "b < rows";
  if (p->loss_recall)
    return "b < rows && s < a->length[b] && s >= a->length[b] - TARGET_STEPS";
  return "b < rows && s < a->length[b]";
}

/* 1 / the divisor, as a C initializer. */
const char *emit_loss_scale(const Emitter *e) {
  return arena_printf("(%s)1 / %s", e->real, emit_loss_divisor_c(e->p));
}
