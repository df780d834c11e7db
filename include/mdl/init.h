/* mdl/init.h — random initialization of parameter blocks (sec. 3.1) and
 * rescaling to a spectral radius (sec. 4.1).
 *
 * A weight block from a layer of n_in units to a layer of n_out units is
 * stored row-major as n_in × n_out: element [i * n_out + j] is the weight
 * from unit i below to unit j above, so column j holds unit j's incoming
 * weights (its fan-in). */
#ifndef MDL_INIT_H
#define MDL_INIT_H

#include "mdl/base.h"
#include "mdl/rng.h"

/* Sparse initialization (sec. 3.1): every unit j above gets exactly
 * min(fan_in, n_in) incoming connections from distinct, uniformly chosen
 * units below, with weights drawn from N(0, 1) times scale; every other
 * weight is exactly 0 (and stays trainable). */
void mdl_init_sparse(void *w, mdl_dtype type, int n_in, int n_out, int fan_in,
                     double scale, mdl_rng *rng);

/* Dense Gaussian: every element drawn from N(0, stddev^2). */
void mdl_init_gaussian(void *w, mdl_dtype type, size_t n, double stddev,
                       mdl_rng *rng);

/* Every element set to value. */
void mdl_init_constant(void *w, mdl_dtype type, size_t n, double value);

/* The spectral radius (largest |eigenvalue|) of the n × n row-major matrix
 * w, computed exactly with LAPACK's dgeev (OpenBLAS), not estimated. Fails
 * on n < 1, a non-finite element or a dgeev failure. (runtime/spectral.c,
 * apart from the rest so that only programs that use it link LAPACK.) */
int mdl_spectral_radius(const void *w, mdl_dtype type, int n, double *radius,
                        mdl_error *err);

/* Rescales w so that its spectral radius is `radius` (sec. 4.1: 1.1 for the
 * hidden-to-hidden matrix); zero weights stay exactly 0. Reports the radius
 * before and after (after is recomputed, not assumed; either pointer may be
 * NULL). Fails on a radius that is not positive and finite, on a matrix
 * whose spectral radius is 0 (all zeros, or nilpotent) and where
 * mdl_spectral_radius fails. */
int mdl_init_spectral_radius(void *w, mdl_dtype type, int n, double radius,
                             double *before, double *after, mdl_error *err);

#endif
