/* rnn_step.c — the steps of a recurrent net's forward and backward pass,
 * BPTT's weight gradients included, timed the ways listed at `enum {
 * OPENBLAS, ...` below: the program as mdlc wrote it before mdl/step.h,
 * with libxsmm's JIT kernels for the steps' products (where the build
 * found libxsmm), with mdl/step.h's kernel, as mdlc writes it now, and two
 * fusions that were tried and left out (their figures are why).
 *
 *   rnn_step [BATCH INPUTS HIDDEN STEPS REPS]   (default 100 2 100 88 200)
 *
 * Forward, for s = 1 .. STEPS:   h_s = tanh(x_s W_ih + h_{s-1} W + b)
 * backward, for s = STEPS .. 1:  δ_s = (δ_s + δ_{s+1} Wᵀ) ⊙ (1 - h_s²)
 *   (no product at s = STEPS; δ_s starts as the deltas from the outputs),
 * then g_W_ih = Σ x_sᵀ δ_s, g_W = Σ h_{s-1}ᵀ δ_s, g_b = Σ δ_sᵀ 1.
 * Times include packing the weights once per pass. Every repetition runs
 * every variant, in turn, on the same inputs, so that a load that changes
 * slowly slows them alike; printed: the minimum and the median over the
 * repetitions in µs per step, the median of each variant's time over
 * OpenBLAS's in the same repetition, and each variant's largest difference
 * from OpenBLAS's h and gradients. One thread. Built twice (make
 * bench-step), with RNN_REAL float (rnn_step32) and double (rnn_step64), by
 * clang -O2 -march=native like a generated program. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mdl/blas.h>
#include <mdl/fastmath.h>
#include <mdl/step.h>
#ifdef MDL_BENCH_LIBXSMM
#include <libxsmm.h>
#endif

#ifndef RNN_REAL
#define RNN_REAL float
#endif
typedef RNN_REAL real;

#define IS_FLOAT (sizeof(real) == sizeof(float))

static int batch, n_in, hidden, steps;
static real *w_ih, *w, *wt, *packed, *bias, *x;
static real *grad_ih, *grad_hh, *grad_b, *ones;

static void gemm(mdl_op op_a, mdl_op op_b, int m, int n, int k, const real *a,
                 const real *b, real beta, real *c) {
  if (IS_FLOAT)
    mdl_sgemm(op_a, op_b, m, n, k, 1, (const float *)a, (const float *)b,
              (float)beta, (float *)c);
  else
    mdl_dgemm(op_a, op_b, m, n, k, 1, (const double *)a, (const double *)b,
              beta, (double *)c);
}

/* y = Aᵀ x, A m × n */
static void gemv(int m, int n, const real *a, const real *x, real *y) {
  if (IS_FLOAT)
    mdl_sgemv(MDL_TRANSPOSED, m, n, 1, (const float *)a, (const float *)x, 0,
              (float *)y);
  else
    mdl_dgemv(MDL_TRANSPOSED, m, n, 1, (const double *)a, (const double *)x, 0,
              (double *)y);
}

static void pack(mdl_op op, int k, int n, const real *weights, real *into) {
  if (IS_FLOAT)
    mdl_sstep_pack(op, k, n, (const float *)weights, (float *)into);
  else
    mdl_dstep_pack(op, k, n, (const double *)weights, (double *)into);
}

static void step_add(int m, int n, int k, const real *a, const real *from,
                     real *c) {
  if (IS_FLOAT)
    mdl_sstep_add(m, n, k, (const float *)a, (const float *)from, (float *)c);
  else
    mdl_dstep_add(m, n, k, (const double *)a, (const double *)from,
                  (double *)c);
}

static void step_forward(int m, int n, int k_x, const real *xs, int k_h,
                         const real *h, const real *from, real *z) {
  if (IS_FLOAT)
    mdl_sstep_forward(m, n, k_x, (const float *)xs, k_h, (const float *)h,
                      (const float *)from, (float *)z);
  else
    mdl_dstep_forward(m, n, k_x, (const double *)xs, k_h, (const double *)h,
                      (const double *)from, (double *)z);
}

/* The weights' gradients step by step, as the program sums them. */
static mdl_sstep_gradients float_gradients;
static mdl_dstep_gradients double_gradients;

static void gradients_start(const real *h, const real *delta) {
  if (IS_FLOAT)
    mdl_sstep_gradients_start(&float_gradients, batch, batch, n_in, hidden,
                              (const float *)x, (const float *)h,
                              (const float *)delta, (float *)grad_ih,
                              (float *)grad_hh, (float *)grad_b);
  else
    mdl_dstep_gradients_start(&double_gradients, batch, batch, n_in, hidden,
                              (const double *)x, (const double *)h,
                              (const double *)delta, (double *)grad_ih,
                              (double *)grad_hh, (double *)grad_b);
}

static void gradients_add(int s) {
  if (IS_FLOAT)
    mdl_sstep_gradients_add(&float_gradients, s);
  else
    mdl_dstep_gradients_add(&double_gradients, s);
}

/* The units' passes, as the generated program writes them. */
static void tanh_units(int rows, int cols, const real *bias, real *a) {
  for (int i = 0; i < rows; i++) {
    real *row = a + (long)i * cols;
    for (int c = 0; c < cols; c++)
      row[c] = IS_FLOAT ? mdl_tanhf((float)(row[c] + bias[c]))
                        : tanh(row[c] + bias[c]);
  }
}

static void times_tanh_derivative(int rows, int cols, const real *a, real *x) {
  for (long i = 0; i < (long)rows * cols; i++)
    x[i] *= 1 - a[i] * a[i];
}

#ifdef MDL_BENCH_LIBXSMM
/* libxsmm is column-major: C (B × H, row-major) += A W is, column-major,
 * Cᵀ (H × B) += Wᵀ Aᵀ, with W's and A's storage read as Wᵀ and Aᵀ. */
static void xsmm(const real *a, const real *weights, real *c) {
  static libxsmm_smmfunction s;
  static libxsmm_dmmfunction d;
  if (IS_FLOAT) {
    if (!s) {
      float one = 1;
      s = libxsmm_smmdispatch(hidden, batch, hidden, NULL, NULL, NULL, &one,
                              &one, NULL, NULL);
      if (!s) {
        fprintf(stderr, "rnn_step: libxsmm made no float kernel\n");
        exit(1);
      }
    }
    s((const float *)weights, (const float *)a, (float *)c);
  } else {
    if (!d) {
      double one = 1;
      d = libxsmm_dmmdispatch(hidden, batch, hidden, NULL, NULL, NULL, &one,
                              &one, NULL, NULL);
      if (!d) {
        fprintf(stderr, "rnn_step: libxsmm made no double kernel\n");
        exit(1);
      }
    }
    d((const double *)weights, (const double *)a, (double *)c);
  }
}
#endif

/* OPENBLAS: the program before mdl/step.h, OpenBLAS for every product.
 * XSMM: the same with libxsmm for the products of the steps. STEP: the same
 * with mdl/step.h's kernel for them (step_add over W packed once per pass).
 * PROGRAM: what mdlc writes now, at one thread (at two, each of two bands
 * of sequences runs it): the forward pass of STEP; backward, step_add over
 * W_hhᵀ packed once and each step's terms of the weights' gradients added
 * as soon as δ_s is made (step_gradients_add, on this thread). FUSED:
 * PROGRAM with the forward pass's step_forward, x_s W_ih + h_{s-1} W_hh in one
 * call with both packed (no product over all the steps for x W_ih).
 * FUSED_UNITS: FUSED with the units' pass (tanh, tanh') applied to each block
 * of MDL_STEP_ROWS rows as soon as the kernel has made it, while it is in L1.
 */
enum { OPENBLAS, XSMM, STEP, PROGRAM, FUSED, FUSED_UNITS, VARIANTS };
static const char *variant_name[VARIANTS] = {
    "openblas",      "libxsmm steps",   "mdl/step.h steps",
    "program (new)", "+ fused forward", "+ fused units"};

static void forward(int variant, real *h) {
  long size = (long)batch * hidden;
  if (variant >= FUSED) {
    pack(MDL_PLAIN, n_in, hidden, w_ih, packed);
    pack(MDL_PLAIN, hidden, hidden, w,
         packed + MDL_STEP_PACKED_SIZE(real, n_in, hidden));
  } else {
    gemm(MDL_PLAIN, MDL_PLAIN, steps * batch, hidden, n_in, x, w_ih, 0,
         h + size);
    if (variant == STEP || variant == PROGRAM)
      pack(MDL_PLAIN, hidden, hidden, w, packed);
  }
  for (int s = 1; s <= steps; s++) {
    const real *before = h + (s - 1) * size;
    const real *x_s = x + (long)(s - 1) * batch * n_in;
    real *h_s = h + s * size;
    switch (variant) {
    case OPENBLAS:
      gemm(MDL_PLAIN, MDL_PLAIN, batch, hidden, hidden, before, w, 1, h_s);
      break;
#ifdef MDL_BENCH_LIBXSMM
    case XSMM:
      xsmm(before, w, h_s);
      break;
#endif
    case STEP:
    case PROGRAM:
      step_add(batch, hidden, hidden, before, packed, h_s);
      break;
    case FUSED:
      step_forward(batch, hidden, n_in, x_s, hidden, before, packed, h_s);
      break;
    case FUSED_UNITS:
      for (int b = 0; b < batch; b += MDL_STEP_ROWS) {
        int rows = batch - b < MDL_STEP_ROWS ? batch - b : MDL_STEP_ROWS;
        step_forward(rows, hidden, n_in, x_s + (long)b * n_in, hidden,
                     before + (long)b * hidden, packed, h_s + (long)b * hidden);
        tanh_units(rows, hidden, bias, h_s + (long)b * hidden);
      }
      continue;
    }
    tanh_units(batch, hidden, bias, h_s);
  }
}

static void backward(int variant, const real *h, real *delta) {
  long size = (long)batch * hidden;
  if (variant == XSMM) /* libxsmm's JIT takes no transposed operand */
    for (int i = 0; i < hidden; i++)
      for (int j = 0; j < hidden; j++)
        wt[(long)i * hidden + j] = w[(long)j * hidden + i];
  if (variant >= STEP)
    pack(MDL_TRANSPOSED, hidden, hidden, w, packed);
  if (variant >= PROGRAM)
    gradients_start(h, delta);
  for (int s = steps; s >= 1; s--) {
    real *delta_s = delta + (s - 1) * size;
    const real *h_s = h + s * size;
    if (s < steps) {
      const real *after = delta_s + size;
      switch (variant) {
      case OPENBLAS:
        gemm(MDL_PLAIN, MDL_TRANSPOSED, batch, hidden, hidden, after, w, 1,
             delta_s);
        break;
#ifdef MDL_BENCH_LIBXSMM
      case XSMM:
        xsmm(after, wt, delta_s);
        break;
#endif
      case STEP:
      case PROGRAM:
      case FUSED:
        step_add(batch, hidden, hidden, after, packed, delta_s);
        break;
      case FUSED_UNITS:
        for (int b = 0; b < batch; b += MDL_STEP_ROWS) {
          int rows = batch - b < MDL_STEP_ROWS ? batch - b : MDL_STEP_ROWS;
          step_add(rows, hidden, hidden, after + (long)b * hidden, packed,
                   delta_s + (long)b * hidden);
          times_tanh_derivative(rows, hidden, h_s + (long)b * hidden,
                                delta_s + (long)b * hidden);
        }
        break;
      }
    }
    if (variant != FUSED_UNITS || s == steps)
      times_tanh_derivative(batch, hidden, h_s, delta_s);
    if (variant >= PROGRAM)
      gradients_add(s);
  }
  if (variant < PROGRAM) {
    gemm(MDL_TRANSPOSED, MDL_PLAIN, hidden, hidden, steps * batch, h, delta, 0,
         grad_hh);
    gemm(MDL_TRANSPOSED, MDL_PLAIN, n_in, hidden, steps * batch, x, delta, 0,
         grad_ih);
    gemv(steps * batch, hidden, delta, ones, grad_b);
  }
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double uniform(void) { return rand() / (RAND_MAX + 1.0); }

static void *alloc(size_t bytes) {
  void *p = malloc(bytes);
  if (!p) {
    fprintf(stderr, "rnn_step: out of memory\n");
    exit(1);
  }
  return p;
}

int main(int argc, char **argv) {
  batch = argc > 1 ? atoi(argv[1]) : 100;
  n_in = argc > 2 ? atoi(argv[2]) : 2;
  hidden = argc > 3 ? atoi(argv[3]) : 100;
  steps = argc > 4 ? atoi(argv[4]) : 88;
  int reps = argc > 5 ? atoi(argv[5]) : 200;
  if (batch < 1 || n_in < 1 || hidden < 1 || steps < 1 || reps < 1) {
    fprintf(stderr, "usage: rnn_step [BATCH INPUTS HIDDEN STEPS REPS]\n");
    return 2;
  }
  mdl_set_threads(1); /* a step's product runs on one thread (runtime/blas.c) */
  if (IS_FLOAT)
    mdl_flush_subnormals();
  long size = (long)batch * hidden, all = (steps + 1) * size;
  w_ih = alloc(sizeof(real) * n_in * hidden);
  w = alloc(sizeof(real) * hidden * hidden);
  wt = alloc(sizeof(real) * hidden * hidden);
  packed =
      alloc(sizeof(real) * MDL_STEP_PACKED_SIZE(real, n_in + hidden, hidden));
  bias = alloc(sizeof(real) * hidden);
  x = alloc(sizeof(real) * steps * batch * n_in);
  ones = alloc(sizeof(real) * steps * batch);
  grad_hh = alloc(sizeof(real) * hidden * hidden);
  grad_ih = alloc(sizeof(real) * n_in * hidden);
  grad_b = alloc(sizeof(real) * hidden);
  real *delta_in = alloc(sizeof(real) * all);
  real *h[VARIANTS], *delta[VARIANTS], *grads[VARIANTS];
  double *t_forward[VARIANTS], *t_backward[VARIANTS];
  long n_grads = (long)(n_in + hidden + 1) * hidden;
  srand(1);
  /* W at a spectral radius near 1.1, as the paper's nets start */
  for (long i = 0; i < (long)hidden * hidden; i++)
    w[i] = (real)((uniform() - 0.5) * 2 * 1.1 * sqrt(3.0 / hidden));
  for (long i = 0; i < (long)n_in * hidden; i++)
    w_ih[i] = (real)(uniform() - 0.5);
  for (int j = 0; j < hidden; j++)
    bias[j] = (real)(0.2 * (uniform() - 0.5));
  for (long i = 0; i < (long)steps * batch * n_in; i++)
    x[i] = (real)(uniform() - 0.5);
  for (long i = 0; i < (long)steps * batch; i++)
    ones[i] = 1;
  for (long i = 0; i < all; i++)
    delta_in[i] = (real)(1e-3 * (uniform() - 0.5));
  for (int v = 0; v < VARIANTS; v++) {
    h[v] = alloc(sizeof(real) * all);
    memset(h[v], 0, sizeof(real) * size); /* h_0 = 0 */
    delta[v] = alloc(sizeof(real) * all);
    grads[v] = alloc(sizeof(real) * n_grads);
    t_forward[v] = alloc(sizeof(double) * reps);
    t_backward[v] = alloc(sizeof(double) * reps);
  }
  for (int r = 0; r < reps; r++)
    for (int i = 0; i < VARIANTS; i++) {
      int v = (r + i) % VARIANTS; /* a different one first each time */
#ifndef MDL_BENCH_LIBXSMM
      if (v == XSMM)
        continue;
#endif
      memcpy(delta[v], delta_in, sizeof(real) * all);
      double start = now();
      forward(v, h[v]);
      double middle = now();
      backward(v, h[v], delta[v]);
      double end = now();
      memcpy(grads[v], grad_hh, sizeof(real) * hidden * hidden);
      memcpy(grads[v] + hidden * hidden, grad_ih, sizeof(real) * n_in * hidden);
      memcpy(grads[v] + (n_in + hidden) * hidden, grad_b,
             sizeof(real) * hidden);
      t_forward[v][r] = (middle - start) / steps * 1e6;
      t_backward[v][r] = (end - middle) / steps * 1e6;
    }
  printf("%s, batch %d, %d inputs, %d hidden, %d steps, %d repetitions; "
         "us per step, min (median); the median ratio to openblas in the same "
         "repetition, forward, backward, both; the largest difference from "
         "openblas in h and in the gradient (relative)\n",
         IS_FLOAT ? "float32" : "float64", batch, n_in, hidden, steps, reps);
  for (int v = 0; v < VARIANTS; v++) {
#ifndef MDL_BENCH_LIBXSMM
    if (v == XSMM) {
      printf("  %-18s (not built: no libxsmm)\n", variant_name[v]);
      continue;
    }
#endif
    double h_differs = 0, g_differs = 0, g_scale = 0;
    for (long i = 0; i < all; i++)
      h_differs = fmax(h_differs, fabs((double)h[v][i] - h[OPENBLAS][i]));
    for (long i = 0; i < n_grads; i++) {
      g_differs =
          fmax(g_differs, fabs((double)grads[v][i] - grads[OPENBLAS][i]));
      g_scale = fmax(g_scale, fabs((double)grads[OPENBLAS][i]));
    }
    /* The median over the repetitions of the time against OpenBLAS's in
     * the same repetition: what a load that changes slowly cancels from */
    double *ratio = alloc(sizeof(double) * reps * 3);
    for (int r = 0; r < reps; r++) {
      ratio[r] = t_forward[v][r] / t_forward[OPENBLAS][r];
      ratio[reps + r] = t_backward[v][r] / t_backward[OPENBLAS][r];
      ratio[2 * reps + r] = (t_forward[v][r] + t_backward[v][r]) /
                            (t_forward[OPENBLAS][r] + t_backward[OPENBLAS][r]);
    }
    for (int i = 0; i < 3; i++)
      qsort(ratio + i * reps, reps, sizeof(double), by_value);
    qsort(t_forward[v], reps, sizeof(double), by_value);
    qsort(t_backward[v], reps, sizeof(double), by_value);
    double f_min = t_forward[v][0], f_med = t_forward[v][reps / 2];
    double b_min = t_backward[v][0], b_med = t_backward[v][reps / 2];
    printf("  %-18s forward %6.2f (%6.2f)  backward %6.2f (%6.2f)  both "
           "%6.2f (%6.2f)  ÷ openblas %.3f %.3f %.3f  differs %.0e %.0e\n",
           variant_name[v], f_min, f_med, b_min, b_med, f_min + b_min,
           f_med + b_med, ratio[reps / 2], ratio[reps + reps / 2],
           ratio[2 * reps + reps / 2], h_differs, g_differs / g_scale);
    free(ratio);
  }
  return 0;
}
