/* step_checks.h — the checks of mdl/step.h's kernels against naive loops in
 * double, on shapes that take every kind of tile (whole vectors, one
 * vector, narrow vectors, the last columns one by one, and blocks of rows
 * shorter than MDL_STEP_ROWS), in float and double. Included by
 * test_step.c (vectors as wide as this build's) and test_step_wide.c
 * (AVX-512's 64 bytes, whatever the processor), each with its own
 * STEP_SUITE. Every result lies inside a larger buffer whose other numbers
 * must stay as they were: no kernel may write past its matrix. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "mdl/rng.h"
#include "mdl/step.h"

enum { GUARD = 64 };

static const int rows_tried[] = {1, 3, 4, 5, 9, 100};
static const int cols_tried[] = {1,  2,  3,  4,  5,  7,  8,  9,  15,
                                 16, 17, 31, 32, 33, 47, 48, 65, 100};
static const int sums_tried[] = {1, 2, 7, 100};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static double *random_matrix(long n, uint64_t seed) {
  mdl_rng rng;
  mdl_rng_seed(&rng, seed);
  double *x = malloc(sizeof *x * (n > 0 ? n : 1));
  cr_assert(x);
  for (long i = 0; i < n; i++)
    x[i] = 2 * mdl_rng_uniform(&rng) - 1;
  return x;
}

/* The kernels of one type, through doubles: each function converts its
 * operands, calls the kernel and converts the result back. */
typedef struct {
  size_t size;
  void (*pack)(mdl_op, int, int, const double *, void *);
  void (*forward)(int, int, int, const double *, int, const double *,
                  const void *, double *);
  void (*add)(int, int, int, const double *, const void *, double *);
  void (*gradient)(int, int, int, const double *, const double *, double *);
  void (*column_sums)(int, int, const double *, double *);
  int padded_step; /* MDL_STEP_NARROW_LANES of the type */
  double tolerance;
} Kernels;

#define DEFINE_KERNELS(T, P)                                                   \
  static T *to_##P(const double *x, long n) {                                  \
    T *y = malloc(sizeof *y * (n > 0 ? n : 1));                                \
    cr_assert(y);                                                              \
    for (long i = 0; i < n; i++)                                               \
      y[i] = (T)x[i];                                                          \
    return y;                                                                  \
  }                                                                            \
  static void back_##P(const T *y, double *x, long n) {                        \
    for (long i = 0; i < n; i++)                                               \
      x[i] = y[i];                                                             \
  }                                                                            \
  static void pack_##P(mdl_op op, int k, int n, const double *w, void *out) {  \
    T *wt = to_##P(w, (long)k * n);                                            \
    mdl_##P##step_pack(op, k, n, wt, out);                                     \
    free(wt);                                                                  \
  }                                                                            \
  static void forward_##P(int m, int n, int kx, const double *x, int kh,       \
                          const double *h, const void *packed, double *z) {    \
    T *xt = to_##P(x, (long)m * kx), *ht = to_##P(h, (long)m * kh);            \
    T *zt = to_##P(z, (long)m * n + GUARD);                                    \
    mdl_##P##step_forward(m, n, kx, xt, kh, ht, packed, zt);                   \
    back_##P(zt, z, (long)m *n + GUARD);                                       \
    free(xt), free(ht), free(zt);                                              \
  }                                                                            \
  static void add_##P(int m, int n, int k, const double *a,                    \
                      const void *packed, double *c) {                         \
    T *at = to_##P(a, (long)m * k), *ct = to_##P(c, (long)m * n + GUARD);      \
    mdl_##P##step_add(m, n, k, at, packed, ct);                                \
    back_##P(ct, c, (long)m *n + GUARD);                                       \
    free(at), free(ct);                                                        \
  }                                                                            \
  static void gradient_##P(int m, int k, int n, const double *a,               \
                           const double *d, double *g) {                       \
    T *at = to_##P(a, (long)m * k), *dt = to_##P(d, (long)m * n);              \
    T *gt = to_##P(g, (long)k * n + GUARD);                                    \
    mdl_##P##step_gradient(m, k, n, at, dt, gt);                               \
    back_##P(gt, g, (long)k *n + GUARD);                                       \
    free(at), free(dt), free(gt);                                              \
  }                                                                            \
  static void column_sums_##P(int m, int n, const double *d, double *g) {      \
    T *dt = to_##P(d, (long)m * n), *gt = to_##P(g, n + GUARD);                \
    mdl_##P##step_column_sums(m, n, dt, gt);                                   \
    back_##P(gt, g, n + GUARD);                                                \
    free(dt), free(gt);                                                        \
  }

DEFINE_KERNELS(float, s)
DEFINE_KERNELS(double, d)

static const Kernels float_kernels = {sizeof(float),
                                      pack_s,
                                      forward_s,
                                      add_s,
                                      gradient_s,
                                      column_sums_s,
                                      MDL_STEP_NARROW_LANES(float),
                                      1e-5};
static const Kernels double_kernels = {sizeof(double),
                                       pack_d,
                                       forward_d,
                                       add_d,
                                       gradient_d,
                                       column_sums_d,
                                       MDL_STEP_NARROW_LANES(double),
                                       1e-13};

/* Each element of got[0..n) against want's, relative to the largest of
 * want's magnitude and 1; the GUARD numbers after them must be untouched
 * (they hold 1000 + i). */
static void expect_close(const char *what, const double *got,
                         const double *want, long n, double tolerance, int m,
                         int cols, int k) {
  for (long i = 0; i < n; i++) {
    double scale = fmax(1, fabs(want[i]));
    cr_expect(fabs(got[i] - want[i]) <= tolerance * scale * (k + 1),
              "%s %d × %d (sums of %d): element %ld is %.17g, not %.17g", what,
              m, cols, k, i, got[i], want[i]);
  }
  for (long i = n; i < n + GUARD; i++)
    cr_expect(got[i] == 1000 + (i - n),
              "%s %d × %d (sums of %d): wrote past the matrix, at %ld", what, m,
              cols, k, i - n);
}

static double *result_buffer(long n, uint64_t seed) {
  double *c = random_matrix(n + GUARD, seed);
  for (long i = n; i < n + GUARD; i++)
    c[i] = 1000 + (i - n);
  return c;
}

static size_t packed_bytes(const Kernels *t, int k, int n) {
  int padded = (n + t->padded_step - 1) / t->padded_step * t->padded_step;
  return t->size * (size_t)k * padded + 1;
}

/* Z = X W_x + H W_h, the two packed one above the other. */
static void check_forward(const Kernels *t) {
  for (int a = 0; a < COUNT(rows_tried); a++)
    for (int b = 0; b < COUNT(cols_tried); b++)
      for (int c = 0; c < COUNT(sums_tried); c++) {
        int m = rows_tried[a], n = cols_tried[b], kh = sums_tried[c], kx = 2;
        double *x = random_matrix((long)m * kx, 1),
               *h = random_matrix((long)m * kh, 2);
        double *wx = random_matrix((long)kx * n, 3),
               *wh = random_matrix((long)kh * n, 4);
        double *z = result_buffer((long)m * n, 5),
               *want = result_buffer((long)m * n, 6);
        size_t above = packed_bytes(t, kx, n) - 1;
        char *packed = malloc(above + packed_bytes(t, kh, n));
        cr_assert(packed);
        t->pack(MDL_PLAIN, kx, n, wx, packed);
        t->pack(MDL_PLAIN, kh, n, wh, packed + above);
        t->forward(m, n, kx, x, kh, h, packed, z);
        for (int i = 0; i < m; i++)
          for (int j = 0; j < n; j++) {
            double sum = 0;
            for (int p = 0; p < kx; p++)
              sum += x[i * kx + p] * wx[p * n + j];
            for (int p = 0; p < kh; p++)
              sum += h[i * kh + p] * wh[p * n + j];
            want[i * n + j] = sum;
          }
        expect_close("step_forward", z, want, (long)m * n, t->tolerance, m, n,
                     kx + kh);
        free(x), free(h), free(wx), free(wh), free(z), free(want), free(packed);
      }
}

/* C += A Wᵀ, W packed transposed (the backward pass's δ_{s+1} W_hhᵀ), and
 * C += A W with W packed plain. */
static void check_add(const Kernels *t, mdl_op op) {
  for (int a = 0; a < COUNT(rows_tried); a++)
    for (int b = 0; b < COUNT(cols_tried); b++)
      for (int c = 0; c < COUNT(sums_tried); c++) {
        int m = rows_tried[a], n = cols_tried[b], k = sums_tried[c];
        double *x = random_matrix((long)m * k, 7),
               *w = random_matrix((long)k * n, 8);
        double *got = result_buffer((long)m * n, 9),
               *want = result_buffer((long)m * n, 9);
        char *packed = malloc(packed_bytes(t, k, n));
        cr_assert(packed);
        t->pack(op, k, n, w, packed);
        t->add(m, n, k, x, packed, got);
        for (int i = 0; i < m; i++)
          for (int j = 0; j < n; j++) {
            double sum = want[i * n + j];
            for (int p = 0; p < k; p++) /* W stored n × k when transposed */
              sum += x[i * k + p] *
                     (op == MDL_PLAIN ? w[p * n + j] : w[j * k + p]);
            want[i * n + j] = sum;
          }
        expect_close("step_add", got, want, (long)m * n, t->tolerance, m, n, k);
        free(x), free(w), free(got), free(want), free(packed);
      }
}

/* G += Aᵀ D, and g += Dᵀ 1. */
static void check_gradient(const Kernels *t) {
  for (int a = 0; a < COUNT(rows_tried); a++)
    for (int b = 0; b < COUNT(cols_tried); b++)
      for (int c = 0; c < COUNT(sums_tried); c++) {
        int m = rows_tried[a], n = cols_tried[b], k = sums_tried[c];
        double *x = random_matrix((long)m * k, 10),
               *d = random_matrix((long)m * n, 11);
        double *got = result_buffer((long)k * n, 12),
               *want = result_buffer((long)k * n, 12);
        t->gradient(m, k, n, x, d, got);
        for (int p = 0; p < k; p++)
          for (int j = 0; j < n; j++) {
            double sum = want[p * n + j];
            for (int i = 0; i < m; i++)
              sum += x[i * k + p] * d[i * n + j];
            want[p * n + j] = sum;
          }
        expect_close("step_gradient", got, want, (long)k * n, t->tolerance, k,
                     n, m);
        double *sums = result_buffer(n, 13), *sums_want = result_buffer(n, 13);
        t->column_sums(m, n, d, sums);
        for (int j = 0; j < n; j++)
          for (int i = 0; i < m; i++)
            sums_want[j] += d[i * n + j];
        expect_close("step_column_sums", sums, sums_want, n, t->tolerance, m, n,
                     m);
        free(x), free(d), free(got), free(want), free(sums), free(sums_want);
      }
}

/* The padding of a packed matrix is zero, and its numbers are op(W)'s. */
static void check_pack(const Kernels *t) {
  int k = 3, n = 5,
      padded = (n + t->padded_step - 1) / t->padded_step * t->padded_step;
  double *w = random_matrix((long)k * n, 14);
  for (int transposed = 0; transposed < 2; transposed++) {
    char *packed = malloc(packed_bytes(t, k, n));
    cr_assert(packed);
    t->pack(transposed ? MDL_TRANSPOSED : MDL_PLAIN, k, n, w, packed);
    for (int i = 0; i < k; i++)
      for (int j = 0; j < padded; j++) {
        double want = j >= n ? 0 : transposed ? w[j * k + i] : w[i * n + j];
        double got = t->size == sizeof(float)
                         ? ((float *)packed)[i * padded + j]
                         : ((double *)packed)[i * padded + j];
        cr_expect(got == (t->size == sizeof(float) ? (float)want : want),
                  "pack %s: (%d, %d) is %g, not %g",
                  transposed ? "transposed" : "plain", i, j, got, want);
      }
    free(packed);
  }
  free(w);
}

Test(STEP_SUITE, pack_pads_with_zeros) {
  check_pack(&float_kernels);
  check_pack(&double_kernels);
}

Test(STEP_SUITE, forward_is_x_w_ih_plus_h_w_hh) {
  check_forward(&float_kernels);
  check_forward(&double_kernels);
}

Test(STEP_SUITE, add_is_a_w_transposed_or_plain) {
  check_add(&float_kernels, MDL_TRANSPOSED);
  check_add(&float_kernels, MDL_PLAIN);
  check_add(&double_kernels, MDL_TRANSPOSED);
  check_add(&double_kernels, MDL_PLAIN);
}

Test(STEP_SUITE, gradient_is_a_transposed_d) {
  check_gradient(&float_kernels);
  check_gradient(&double_kernels);
}
