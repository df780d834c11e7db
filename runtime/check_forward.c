/* check_forward.c — --check-gradients with forward mode on the other side:
 * backpropagation's ⟨∇L, d⟩ = gᵀd against the directional derivative that
 * the R-operator computes by running forward along d. Both are exact, so
 * they agree to rounding whatever the sequence length, where a finite
 * difference of a loss that depends on θ like 1.1^T does not. */
#include <mdl/program.h>
#include <mdl/rng.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { COORDINATES_PER_BLOCK = 3 };

typedef struct {
  const void *theta;
  const void *grad; /* backpropagation's gradient at θ */
  void *direction;  /* n_params numbers, zero outside the block checked */
  mdl_dtype type;
  mdl_directional_fn directional;
  void *ctx;
  mdl_rng rng;
} forward_check;

static double relative_error(double a, double b) {
  double scale = fmax(fabs(a), fabs(b));
  return scale == 0 ? 0 : fabs(a - b) / scale;
}

/* Along a random direction inside the block whose components have the
 * signs of the gradient's, so that gᵀd is a sum of positive terms and
 * cannot cancel to nothing; a wrong derivative still changes it. */
static double check_direction(forward_check *c, const mdl_block *block) {
  long n = block->rows * block->cols;
  double analytic = 0;
  for (long i = 0; i < n; i++) {
    size_t k = (size_t)(block->offset + i);
    double g = mdl_get(c->grad, c->type, k);
    double d = fabs(mdl_rng_gaussian(&c->rng)) * (g < 0 ? -1 : 1);
    mdl_set(c->direction, c->type, k, d);
    analytic += g * mdl_get(c->direction, c->type, k);
  }
  double forward = c->directional(c->theta, c->direction, c->ctx);
  for (long i = 0; i < n; i++)
    mdl_set(c->direction, c->type, (size_t)(block->offset + i), 0);
  return relative_error(analytic, forward);
}

static double check_coordinate(forward_check *c, size_t k) {
  mdl_set(c->direction, c->type, k, 1);
  double forward = c->directional(c->theta, c->direction, c->ctx);
  mdl_set(c->direction, c->type, k, 0);
  return relative_error(mdl_get(c->grad, c->type, k), forward);
}

/* The coordinates gradient_check.c's check picks: a far smaller derivative than
 * the block's largest is mostly the rounding of the larger terms it is
 * summed from, on both sides. */
static double check_coordinates(forward_check *c, const mdl_block *block) {
  long chosen[COORDINATES_PER_BLOCK];
  int n_chosen = mdl_check_pick_coordinates(c->grad, c->type, block, &c->rng,
                                            chosen, COORDINATES_PER_BLOCK);
  if (n_chosen == 0 ||
      mdl_get(c->grad, c->type, (size_t)(block->offset + chosen[0])) == 0)
    return 0; /* a block with no gradient: nothing to compare but 0 = 0 */
  double worst = 0;
  for (int j = 0; j < n_chosen; j++)
    worst =
        fmax(worst, check_coordinate(c, (size_t)(block->offset + chosen[j])));
  return worst;
}

double mdl_check_gradients_forward(void *theta, mdl_dtype type, long n_params,
                                   const mdl_block *blocks, int n_blocks,
                                   mdl_grad_fn grad,
                                   mdl_directional_fn directional, void *ctx,
                                   uint64_t seed) {
  size_t bytes = (size_t)n_params * mdl_dtype_size(type);
  forward_check c = {.theta = theta,
                     .grad = mdl_zalloc(bytes),
                     .direction = mdl_zalloc(bytes),
                     .type = type,
                     .directional = directional,
                     .ctx = ctx};
  mdl_rng_seed(&c.rng, seed);
  grad(theta, (void *)c.grad, ctx);
  int width = 5;
  for (int b = 0; b < n_blocks; b++)
    if ((int)strlen(blocks[b].name) > width)
      width = (int)strlen(blocks[b].name);
  printf("# gradient check: backpropagation against forward-mode derivatives "
         "(the R-operator, exact up to rounding), %s\n",
         type == MDL_F32 ? "float32" : "float64");
  printf("  %-*s  %-12s  %9s  %10s\n", width, "block", "shape", "direction",
         "coordinate");
  double max_error = 0;
  for (int b = 0; b < n_blocks; b++) {
    const mdl_block *block = &blocks[b];
    double direction_error = check_direction(&c, block);
    double coordinate_error = check_coordinates(&c, block);
    char shape[48];
    snprintf(shape, sizeof shape, "%ld x %ld", block->rows, block->cols);
    printf("  %-*s  %-12s  %9.2e  %10.2e\n", width, block->name, shape,
           direction_error, coordinate_error);
    max_error = fmax(max_error, fmax(direction_error, coordinate_error));
  }
  printf("max relative error: %.2e\n", max_error);
  fflush(stdout);
  free((void *)c.grad);
  free(c.direction);
  return max_error;
}
