/* gradient_check.c — --check-gradients: the backpropagated gradient
 * against centred finite differences of the loss, per parameter block,
 * along a random direction and on a few coordinates (with Richardson
 * extrapolation in float64). The forward-mode check of recurrent nets is
 * runtime/check_forward.c. */
#include "mdl/program.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/rng.h"

enum { COORDINATES_PER_BLOCK = 3 };

/* Everything the per-block checks share. */
typedef struct {
  void *theta;
  const void *saved; /* θ as it was on entry, for exact restores */
  const void *grad;  /* the backpropagated gradient at θ */
  mdl_dtype type;
  mdl_loss_fn loss;
  void *ctx;
  double step; /* finite-difference step (relative for coordinates) */
  double tiny; /* derivatives both below this are indistinguishable from 0 */
  mdl_rng rng;
} grad_check;

static double relative_error(double a, double b) {
  double scale = fmax(fabs(a), fabs(b));
  return scale == 0 ? 0 : fabs(a - b) / scale;
}

static void restore_range(grad_check *c, long offset, long count) {
  size_t size = mdl_dtype_size(c->type);
  memcpy((char *)c->theta + (size_t)offset * size,
         (const char *)c->saved + (size_t)offset * size, (size_t)count * size);
}

/* The centred difference along d / norm with half the step, in float64. */
static double half_step_along(grad_check *c, const mdl_block *block,
                              const double *d, double norm) {
  long n = block->rows * block->cols;
  double h = c->step / 2, loss[2];
  for (int side = 0; side < 2; side++) {
    for (long i = 0; i < n; i++) {
      size_t k = (size_t)(block->offset + i);
      mdl_set(c->theta, c->type, k,
              mdl_get(c->saved, c->type, k) + (side ? h : -h) * d[i] / norm);
    }
    loss[side] = c->loss(c->theta, c->ctx);
  }
  restore_range(c, block->offset, n);
  return (loss[1] - loss[0]) / (2 * h);
}

/* Centred difference along d (unit norm) within one block. The analytic
 * side uses the displacement θ actually received after rounding to its
 * dtype, so that float32 rounding of θ ± h d does not count as error. */
static double check_direction(grad_check *c, const mdl_block *block,
                              double *d) {
  long n = block->rows * block->cols;
  if (n <= 0)
    return 0;
  /* A random direction whose every component has the sign of the
   * backpropagated derivative: g·d is then a sum of positive terms, so it
   * cannot cancel to near zero (which would make any relative error
   * meaningless), and a derivative with the wrong sign or size still
   * changes it. */
  double norm = 0;
  for (long i = 0; i < n; i++) {
    double g = mdl_get(c->grad, c->type, (size_t)(block->offset + i));
    d[i] = fabs(mdl_rng_gaussian(&c->rng)) * (g < 0 ? -1 : 1);
    norm += d[i] * d[i];
  }
  norm = sqrt(norm);
  double analytic = 0;
  for (long i = 0; i < n; i++) {
    size_t k = (size_t)(block->offset + i);
    double x = mdl_get(c->saved, c->type, k);
    mdl_set(c->theta, c->type, k, x + c->step * d[i] / norm);
    double up = mdl_get(c->theta, c->type, k);
    mdl_set(c->theta, c->type, k, x - c->step * d[i] / norm);
    double down = mdl_get(c->theta, c->type, k);
    analytic += mdl_get(c->grad, c->type, k) * (up - down);
  }
  double loss_down = c->loss(c->theta, c->ctx);
  for (long i = 0; i < n; i++) {
    size_t k = (size_t)(block->offset + i);
    mdl_set(c->theta, c->type, k,
            mdl_get(c->saved, c->type, k) + c->step * d[i] / norm);
  }
  double loss_up = c->loss(c->theta, c->ctx);
  restore_range(c, block->offset, n);
  analytic /= 2 * c->step;
  double numeric = (loss_up - loss_down) / (2 * c->step);
  if (c->type == MDL_F64) {
    /* Richardson extrapolation: D(h) and D(h/2) cancel the h^2 term of
     * the centred difference, so a step large enough to keep rounding
     * noise small (1e-3) still leaves truncation near h^4. */
    double half = half_step_along(c, block, d, norm);
    numeric = (4 * half - numeric) / 3;
    analytic = 0;
    for (long i = 0; i < n; i++)
      analytic +=
          mdl_get(c->grad, c->type, (size_t)(block->offset + i)) * d[i] / norm;
  }
  if (fabs(analytic) < c->tiny && fabs(numeric) < c->tiny)
    return 0;
  return relative_error(analytic, numeric);
}

/* Centred difference on coordinate k; returns -1 when both derivatives are
 * too small to compare. */
static double check_coordinate(grad_check *c, size_t k) {
  double x = mdl_get(c->saved, c->type, k);
  double h = c->step * fmax(1, fabs(x));
  mdl_set(c->theta, c->type, k, x + h);
  double up = mdl_get(c->theta, c->type, k);
  double loss_up = c->loss(c->theta, c->ctx);
  mdl_set(c->theta, c->type, k, x - h);
  double down = mdl_get(c->theta, c->type, k);
  double loss_down = c->loss(c->theta, c->ctx);
  restore_range(c, (long)k, 1);
  double analytic = mdl_get(c->grad, c->type, k);
  double numeric = (loss_up - loss_down) / (up - down);
  if (c->type == MDL_F64) { /* Richardson, as in check_direction */
    mdl_set(c->theta, c->type, k, x + h / 2);
    loss_up = c->loss(c->theta, c->ctx);
    mdl_set(c->theta, c->type, k, x - h / 2);
    loss_down = c->loss(c->theta, c->ctx);
    restore_range(c, (long)k, 1);
    numeric = (4 * (loss_up - loss_down) / h - numeric) / 3;
  }
  if (fabs(analytic) < c->tiny && fabs(numeric) < c->tiny)
    return -1;
  return relative_error(analytic, numeric);
}

/* Three coordinates of the block: the one with the largest backpropagated
 * derivative and two drawn at random among those at least a tenth as large.
 * A derivative far smaller than the block's largest is swamped by rounding
 * in the loss, so comparing it would measure noise, not backpropagation;
 * the random direction of check_direction covers every coordinate. Returns
 * the worst relative error (-1 if none could be compared) and counts the
 * coordinates skipped because both derivatives were indistinguishable from
 * zero. */
int mdl_check_pick_coordinates(const void *grad, mdl_dtype type,
                               const mdl_block *block, mdl_rng *rng,
                               long *chosen, int most) {
  long n = block->rows * block->cols;
  if (n <= 0 || most <= 0)
    return 0;
  double largest = 0;
  chosen[0] = 0; /* a block of zeros: its first */
  for (long i = 0; i < n; i++) {
    double g = fabs(mdl_get(grad, type, (size_t)(block->offset + i)));
    if (g > largest) {
      largest = g;
      chosen[0] = i;
    }
  }
  int n_chosen = 1;
  for (int tries = 0; tries < 200 && n_chosen < most; tries++) {
    long i = (long)mdl_rng_below(rng, (uint64_t)n);
    double g = fabs(mdl_get(grad, type, (size_t)(block->offset + i)));
    int seen = 0;
    for (int j = 0; j < n_chosen; j++)
      seen |= chosen[j] == i;
    if (!seen && g >= 0.1 * largest)
      chosen[n_chosen++] = i;
  }
  return n_chosen;
}

static double check_coordinates(grad_check *c, const mdl_block *block,
                                int *skipped) {
  long chosen[COORDINATES_PER_BLOCK];
  int n_chosen = mdl_check_pick_coordinates(c->grad, c->type, block, &c->rng,
                                            chosen, COORDINATES_PER_BLOCK);
  double worst = -1;
  *skipped = 0;
  for (int j = 0; j < n_chosen; j++) {
    double error = check_coordinate(c, (size_t)(block->offset + chosen[j]));
    if (error < 0)
      ++*skipped;
    else if (error > worst)
      worst = error;
  }
  return worst;
}

static void print_block_line(const mdl_block *block, int name_width,
                             double direction_error, double coordinate_error,
                             int skipped) {
  char shape[48], worst[32];
  snprintf(shape, sizeof shape, "%ld x %ld", block->rows, block->cols);
  if (coordinate_error < 0)
    snprintf(worst, sizeof worst, "-");
  else
    snprintf(worst, sizeof worst, "%.2e", coordinate_error);
  printf("  %-*s  %-12s  %9.2e  %10s", name_width, block->name, shape,
         direction_error, worst);
  if (skipped)
    printf("  (%d zero coordinate%s skipped)", skipped,
           skipped == 1 ? "" : "s");
  putchar('\n');
}

static void print_check_heading(const grad_check *c, const mdl_block *blocks,
                                int n_blocks, int *name_width) {
  *name_width = 5;
  for (int b = 0; b < n_blocks; b++) {
    int length = (int)strlen(blocks[b].name);
    if (length > *name_width)
      *name_width = length;
  }
  printf("# gradient check: centred differences%s, step %g, %s\n",
         c->type == MDL_F64 ? " with Richardson extrapolation" : "", c->step,
         c->type == MDL_F32 ? "float32" : "float64");
  if (c->type == MDL_F32)
    printf("# note: in float32 the agreement is only about 1e-2; rebuild with "
           "`mdlc --precision double` for a tight check\n");
  printf("  %-*s  %-12s  %9s  %10s\n", *name_width, "block", "shape",
         "direction", "coordinate");
}

double mdl_check_gradients(void *theta, mdl_dtype type, long n_params,
                           const mdl_block *blocks, int n_blocks,
                           mdl_loss_fn loss, mdl_grad_fn grad, void *ctx,
                           uint64_t seed) {
  size_t bytes = (size_t)n_params * mdl_dtype_size(type);
  void *saved = mdl_alloc(bytes);
  void *gradient = mdl_zalloc(bytes);
  memcpy(saved, theta, bytes);
  grad(theta, gradient, ctx);
  grad_check c = {.theta = theta,
                  .saved = saved,
                  .grad = gradient,
                  .type = type,
                  .loss = loss,
                  .ctx = ctx};
  mdl_rng_seed(&c.rng, seed);
  /* float32 losses carry rounding noise of about 1e-7 |L|; a larger step
   * keeps it small next to the difference, at the price of truncation. */
  c.step = type == MDL_F32 ? 1e-2 : 3e-3;
  c.tiny = type == MDL_F32 ? 1e-5 * fmax(1, fabs(loss(theta, ctx))) : 1e-12;
  long largest = 0;
  for (int b = 0; b < n_blocks; b++)
    if (blocks[b].rows * blocks[b].cols > largest)
      largest = blocks[b].rows * blocks[b].cols;
  double *direction = mdl_alloc((size_t)largest * sizeof *direction);
  int name_width;
  print_check_heading(&c, blocks, n_blocks, &name_width);
  double max_error = 0;
  for (int b = 0; b < n_blocks; b++) {
    int skipped;
    double direction_error = check_direction(&c, &blocks[b], direction);
    double coordinate_error = check_coordinates(&c, &blocks[b], &skipped);
    print_block_line(&blocks[b], name_width, direction_error, coordinate_error,
                     skipped);
    max_error = fmax(max_error, fmax(direction_error, coordinate_error));
  }
  printf("max relative error: %.2e\n", max_error);
  fflush(stdout);
  memcpy(theta, saved, bytes);
  free(direction);
  free(gradient);
  free(saved);
  return max_error;
}
