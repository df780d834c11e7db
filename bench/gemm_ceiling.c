/* gemm_ceiling.c — the time OpenBLAS needs for exactly the matrix products
 * of one update of a feed-forward net: the benchmark's ceiling for a
 * generated program, which makes these products and also everything else
 * (the units, the output deltas, the minibatch copy, the NAG update).
 *
 *   gemm_ceiling PRECISION THREADS BATCH NETWORK REPS TARGET_S [--list]
 *
 * PRECISION is float32 or float64; NETWORK the layer widths as the program's
 * header prints them, e.g. 784-400-200-100-50-25-6-25-50-100-200-400-784.
 * For each layer l = 1..L (n_{l-1} units below, n_l above, B = BATCH), one
 * update makes, through build/lib/libmdl.a's mdl_sgemm / mdl_dgemm (the
 * wrappers the generated code calls), in the generated code's order:
 *
 *   forward, l = 1..L:    z_l = a_{l-1} W_l         gemm N N  B × n_l × n_{l-1}
 *   backward, l = L..1:   g_W = a_{l-1}ᵀ δ_l        gemm T N  n_{l-1} × n_l × B
 *                         g_b = δ_lᵀ 1              gemv T    B × n_l
 *                         δ_{l-1} = δ_l W_lᵀ        gemm N T  B × n_{l-1} × n_l
 *                                                   (not for l = 1)
 *
 * It counts 2 m n k flops per gemm and 2 m n per gemv. After one warm-up
 * update it times one more to choose M, the number of updates that take
 * about TARGET_S seconds, then times REPS repetitions of M updates and
 * prints one line:
 *
 *   ms_median=... ms_min=... ms_max=... per_rep=M reps=REPS gemm_calls=...
 *   gemv_calls=... gflop=...
 *
 * (milliseconds per update; gflop per update). --list also prints every
 * call with its shape first. `gemm_ceiling --openblas-config` prints how
 * the OpenBLAS it runs on was built, and the kernels it chose here. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mdl/blas.h>

enum { MAX_LAYERS = 64, MAX_REPS = 1000 };

static int precision64; /* 1 for float64 */
static int batch;
static int n_layers; /* L: the layers above the input */
static int width[MAX_LAYERS + 1];
static void *activity[MAX_LAYERS + 1]; /* B × n_l, l = 0..L */
static void *delta[MAX_LAYERS + 1];    /* B × n_l, l = 1..L */
static void *weights[MAX_LAYERS + 1];  /* n_{l-1} × n_l */
static void *grad_w[MAX_LAYERS + 1];   /* n_{l-1} × n_l */
static void *grad_b[MAX_LAYERS + 1];   /* n_l */
static void *ones;                     /* B */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A buffer of n reals, all equal to value, or (value < 0) spread over
 * [0, 0.5). Positive inputs keep every product away from denormals (the only
 * values that slow a GEMM down); the activities grow from layer to layer but
 * stay far below overflow for nets of this size, and each update starts again
 * from the same input and output deltas. */
static void *filled(long n, double value) {
  size_t size = precision64 ? sizeof(double) : sizeof(float);
  void *p = malloc(size * (size_t)(n > 0 ? n : 1));
  if (!p) {
    fprintf(stderr, "gemm_ceiling: out of memory\n");
    exit(1);
  }
  for (long i = 0; i < n; i++) {
    double x = value >= 0 ? value : (double)((i * 7919) % 1000) / 2000;
    if (precision64)
      ((double *)p)[i] = x;
    else
      ((float *)p)[i] = (float)x;
  }
  return p;
}

static void gemm(mdl_op op_a, mdl_op op_b, int m, int n, int k, const void *a,
                 const void *b, void *c) {
  if (precision64)
    mdl_dgemm(op_a, op_b, m, n, k, 1, a, b, 0, c);
  else
    mdl_sgemm(op_a, op_b, m, n, k, 1, a, b, 0, c);
}

static void gemv(mdl_op op_a, int m, int n, const void *a, const void *x,
                 void *y) {
  if (precision64)
    mdl_dgemv(op_a, m, n, 1, a, x, 0, y);
  else
    mdl_sgemv(op_a, m, n, 1, a, x, 0, y);
}

/* The products of one update, in the order the generated code makes them. */
static void one_update(void) {
  for (int l = 1; l <= n_layers; l++)
    gemm(MDL_PLAIN, MDL_PLAIN, batch, width[l], width[l - 1], activity[l - 1],
         weights[l], activity[l]);
  for (int l = n_layers; l >= 1; l--) {
    gemm(MDL_TRANSPOSED, MDL_PLAIN, width[l - 1], width[l], batch,
         activity[l - 1], delta[l], grad_w[l]);
    gemv(MDL_TRANSPOSED, batch, width[l], delta[l], ones, grad_b[l]);
    if (l > 1)
      gemm(MDL_PLAIN, MDL_TRANSPOSED, batch, width[l - 1], width[l], delta[l],
           weights[l], delta[l - 1]);
  }
}

/* The same calls, listed, with their counts and flops. */
static double count_calls(int list, int *n_gemm, int *n_gemv) {
  double flops = 0;
  *n_gemm = *n_gemv = 0;
  for (int l = 1; l <= n_layers; l++) {
    if (list)
      printf("gemm N N  m=%d n=%d k=%d  (forward, layer %d)\n", batch, width[l],
             width[l - 1], l);
    flops += 2.0 * batch * width[l] * width[l - 1];
    ++*n_gemm;
  }
  for (int l = n_layers; l >= 1; l--) {
    if (list) {
      printf("gemm T N  m=%d n=%d k=%d  (weight gradient, layer %d)\n",
             width[l - 1], width[l], batch, l);
      printf("gemv T    m=%d n=%d  (bias gradient, layer %d)\n", batch,
             width[l], l);
    }
    flops += 2.0 * width[l - 1] * width[l] * batch + 2.0 * batch * width[l];
    *n_gemm += 1;
    *n_gemv += 1;
    if (l > 1) {
      if (list)
        printf("gemm N T  m=%d n=%d k=%d  (deltas of layer %d)\n", batch,
               width[l - 1], width[l], l - 1);
      flops += 2.0 * batch * width[l - 1] * width[l];
      ++*n_gemm;
    }
  }
  return flops;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int parse_network(const char *text) {
  char *copy = strdup(text), *save = NULL;
  int n = 0;
  for (char *w = strtok_r(copy, "-", &save); w;
       w = strtok_r(NULL, "-", &save)) {
    if (n > MAX_LAYERS || atoi(w) <= 0) {
      free(copy);
      return -1;
    }
    width[n++] = atoi(w);
  }
  free(copy);
  n_layers = n - 1;
  return n_layers >= 1 ? 0 : -1;
}

/* OpenBLAS's own description of itself (declared in its cblas.h, which
 * mdl/blas.h does not include). */
char *openblas_get_config(void);
char *openblas_get_corename(void);

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--openblas-config") == 0) {
    printf("%s; core %s\n", openblas_get_config(), openblas_get_corename());
    return 0;
  }
  if (argc < 7) {
    fprintf(stderr, "usage: gemm_ceiling float32|float64 THREADS BATCH "
                    "NETWORK REPS TARGET_S [--list]\n");
    return 2;
  }
  precision64 = strcmp(argv[1], "float64") == 0;
  if (!precision64 && strcmp(argv[1], "float32") != 0) {
    fprintf(stderr, "gemm_ceiling: precision must be float32 or float64\n");
    return 2;
  }
  int threads = atoi(argv[2]);
  batch = atoi(argv[3]);
  int reps = atoi(argv[5]);
  double target = atof(argv[6]);
  int list = argc > 7 && strcmp(argv[7], "--list") == 0;
  if (batch <= 0 || parse_network(argv[4]) != 0 || reps < 1 ||
      reps > MAX_REPS || !(target > 0)) {
    fprintf(stderr, "gemm_ceiling: bad batch, network, reps or target\n");
    return 2;
  }
  mdl_set_threads(threads);

  for (int l = 0; l <= n_layers; l++) {
    activity[l] = filled((long)batch * width[l], -1);
    if (l == 0)
      continue;
    delta[l] = filled((long)batch * width[l], -1);
    weights[l] = filled((long)width[l - 1] * width[l], -1);
    grad_w[l] = filled((long)width[l - 1] * width[l], 0);
    grad_b[l] = filled(width[l], 0);
  }
  ones = filled(batch, 1);

  int n_gemm, n_gemv;
  double flops = count_calls(list, &n_gemm, &n_gemv);

  one_update(); /* warm-up: page faults, thread start */
  double t0 = now();
  one_update();
  double one = now() - t0;
  long per_rep = (long)(target / (one > 1e-6 ? one : 1e-6));
  if (per_rep < 1)
    per_rep = 1;

  double ms[MAX_REPS];
  for (int r = 0; r < reps; r++) {
    double start = now();
    for (long i = 0; i < per_rep; i++)
      one_update();
    ms[r] = (now() - start) * 1e3 / per_rep;
  }
  qsort(ms, reps, sizeof ms[0], compare);
  double median =
      reps % 2 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2;
  printf("ms_median=%.4f ms_min=%.4f ms_max=%.4f per_rep=%ld reps=%d "
         "gemm_calls=%d gemv_calls=%d gflop=%.6f\n",
         median, ms[0], ms[reps - 1], per_rep, reps, n_gemm, n_gemv,
         flops * 1e-9);
  return 0;
}
