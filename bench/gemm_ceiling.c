/* gemm_ceiling.c — the time OpenBLAS needs for exactly the matrix products
 * of one update of a generated program: the benchmark's ceiling for that
 * program, which makes these products and also everything else (the units,
 * the output deltas, the minibatch, the update of the parameters).
 *
 *   gemm_ceiling PRECISION THREADS BATCH NETWORK REPS TARGET_S [MODE] [--list]
 *
 * PRECISION is float32 or float64; NETWORK the layer widths as the program's
 * header prints them, e.g. 784-400-200-100-50-25-6-25-50-100-200-400-784 or,
 * for a recurrent net, 2-100-1 (inputs, hidden units, outputs). MODE says
 * which products make "one update"; with B = BATCH, and the transposes given
 * as BLAS flags (A · B), all through build/lib/libmdl.a's mdl_sgemm /
 * mdl_dgemm and mdl_sgemv / mdl_dgemv (the wrappers the generated code
 * calls), in the generated code's order:
 *
 * (no MODE) one gradient of a feed-forward net, layers l = 1..L with
 * n_{l-1} units below and n_l above (forward() and backward()):
 *
 *   forward, l = 1..L:    z_l = a_{l-1} W_l         gemm N N  B × n_l × n_{l-1}
 *   backward, l = L..1:   g_W = a_{l-1}ᵀ δ_l        gemm T N  n_{l-1} × n_l × B
 *                         g_b = δ_lᵀ 1              gemv T    B × n_l
 *                         δ_{l-1} = δ_l W_lᵀ        gemm N T  B × n_{l-1} × n_l
 *                                                   (not for l = 1)
 *
 * --recurrent STEPS last|every: one gradient of a recurrent net (n_in
 * inputs, H hidden units, n_out outputs) over STEPS steps, the longest
 * sequence of the minibatch, with targets at the last step of each
 * sequence or at every step; R = STEPS · B rows, O = B (last) or R (every):
 *
 *   forward:   x W_ih, all steps at once        gemm N N  R × H × n_in
 *              += h_{s-1} W_hh, s = 1..STEPS    gemm N N  B × H × H
 *              outputs z = h W_ho               gemm N N  O × n_out × H
 *   backward:  g_W_ho = hᵀ δ_out                gemm T N  H × n_out × O
 *              g_b_o = δ_outᵀ 1                 gemv T    O × n_out
 *              ∂L/∂h = δ_out W_hoᵀ              gemm N T  O × H × n_out
 *              += δ_{s+1} W_hhᵀ, s = STEPS-1..1 gemm N T  B × H × H
 *              g_W_hh = h_{0..STEPS-1}ᵀ δ       gemm T N  H × H × R
 *              g_W_ih = xᵀ δ                    gemm T N  n_in × H × R
 *              g_b_h = δᵀ 1                     gemv T    R × H
 *
 * (+= is a gemm with beta 1.)
 *
 * --gauss-newton: one Gauss-Newton product G v of HF on B cases (B is the
 * curvature batch), which is one CG step: the R-operator's forward pass
 * (r_forward()), then backpropagation of the output curvature
 * (backpropagate(), the backward pass above):
 *
 *   l = 1..L:  R{z_l} = a_{l-1} V_l           gemm N N  B × n_l × n_{l-1}
 *              += R{a_{l-1}} W_l (l > 1)     gemm N N  B × n_l × n_{l-1}
 *
 * then the backward pass of a feed-forward gradient.
 *
 * It counts 2 m n k flops per gemm and 2 m n per gemv. After one warm-up
 * update it times one more to choose M, the number of updates that take
 * about TARGET_S seconds, then times REPS repetitions of M updates and
 * prints one line:
 *
 *   ms_median=... ms_min=... ms_max=... per_rep=M reps=REPS gemm_calls=...
 *   gemv_calls=... gemm_sites=... gemv_sites=... gflop=...
 *
 * (milliseconds per update; gflop per update). The calls are those of one
 * update; the sites, the calls as written in the generated C, where a loop
 * over the steps is one (the benchmark compares those with the C). --list
 * also prints every call with its shape first. `gemm_ceiling
 * --openblas-config` prints how the OpenBLAS it runs on was built, and the
 * kernels it chose here. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mdl/blas.h>

enum { MAX_LAYERS = 64, MAX_REPS = 1000, MAX_STEPS = 100000 };

static int precision64; /* 1 for float64 */
static int batch;
static int n_layers; /* L: the layers above the input */
static int width[MAX_LAYERS + 1];

/* One BLAS call of an update. */
typedef struct {
  int gemv; /* 0: gemm C = op(A) op(B) + beta C; 1: gemv y = op(A) x + beta y */
  mdl_op op_a, op_b;
  int m, n, k; /* gemv: A is m × n */
  const void *a, *b;
  void *c;
  int beta;      /* 0 or 1 */
  int site;      /* which call of the generated C makes it */
  char what[64]; /* for --list */
} product;

static product *plan;
static int n_plan, plan_capacity;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A buffer of n reals, all equal to value, or (value < 0) spread over
 * [0, -value / 2). Positive inputs keep every product away from denormals
 * (the only values that slow a GEMM down). In a feed-forward net the
 * activities grow from layer to layer but stay far below overflow for nets
 * of this size, and each update starts again from the same input and output
 * deltas; a recurrent net's W_hh is scaled down (below) so that the
 * recurrence, which has no tanh here, cannot grow without bound. */
static void *filled(long n, double value) {
  size_t size = precision64 ? sizeof(double) : sizeof(float);
  void *p = malloc(size * (size_t)(n > 0 ? n : 1));
  if (!p) {
    fprintf(stderr, "gemm_ceiling: out of memory\n");
    exit(1);
  }
  for (long i = 0; i < n; i++) {
    double x = value >= 0 ? value : -value * ((i * 7919) % 1000) / 2000;
    if (precision64)
      ((double *)p)[i] = x;
    else
      ((float *)p)[i] = (float)x;
  }
  return p;
}

/* p + i reals. */
static void *at(void *p, long i) {
  return (char *)p + i * (long)(precision64 ? sizeof(double) : sizeof(float));
}

/* Appends a call of the given site to the plan, zeroed. */
static product *add(int site, const char *what) {
  if (n_plan == plan_capacity) {
    plan_capacity = plan_capacity ? 2 * plan_capacity : 64;
    plan = realloc(plan, sizeof *plan * (size_t)plan_capacity);
    if (!plan) {
      fprintf(stderr, "gemm_ceiling: out of memory\n");
      exit(1);
    }
  }
  product *p = &plan[n_plan++];
  memset(p, 0, sizeof *p);
  p->site = site;
  snprintf(p->what, sizeof p->what, "%s", what);
  return p;
}

static void gemm(int site, mdl_op op_a, mdl_op op_b, int m, int n, int k,
                 const void *a, const void *b, int beta, void *c,
                 const char *what) {
  product *p = add(site, what);
  p->op_a = op_a;
  p->op_b = op_b;
  p->m = m;
  p->n = n;
  p->k = k;
  p->a = a;
  p->b = b;
  p->beta = beta;
  p->c = c;
}

/* y = Aᵀ x, A m × n: the generated code's only gemv, a sum over rows. */
static void gemv(int site, int m, int n, const void *a, const void *x, void *y,
                 const char *what) {
  product *p = add(site, what);
  p->gemv = 1;
  p->op_a = MDL_TRANSPOSED;
  p->m = m;
  p->n = n;
  p->a = a;
  p->b = x;
  p->c = y;
}

/* ---- The plans ---- */

/* A feed-forward net's buffers: a_l and δ_l are B × n_l, W_l and g_W_l
 * n_{l-1} × n_l; V_l (a direction) and R{a_l} for the Gauss-Newton product. */
static void *activity[MAX_LAYERS + 1], *delta[MAX_LAYERS + 1],
    *weights[MAX_LAYERS + 1], *grad_w[MAX_LAYERS + 1], *grad_b[MAX_LAYERS + 1],
    *direction[MAX_LAYERS + 1], *r_activity[MAX_LAYERS + 1], *ones;

static void feedforward_buffers(int gauss_newton) {
  for (int l = 0; l <= n_layers; l++) {
    activity[l] = filled((long)batch * width[l], -1);
    if (l == 0)
      continue;
    delta[l] = filled((long)batch * width[l], -1);
    weights[l] = filled((long)width[l - 1] * width[l], -1);
    grad_w[l] = filled((long)width[l - 1] * width[l], 0);
    grad_b[l] = filled(width[l], 0);
    if (gauss_newton) {
      direction[l] = filled((long)width[l - 1] * width[l], -1);
      r_activity[l] = filled((long)batch * width[l], 0);
    }
  }
  ones = filled(batch, 1);
}

static void forward_plan(int *site) {
  char what[64];
  for (int l = 1; l <= n_layers; l++) {
    snprintf(what, sizeof what, "forward, layer %d", l);
    gemm((*site)++, MDL_PLAIN, MDL_PLAIN, batch, width[l], width[l - 1],
         activity[l - 1], weights[l], 0, activity[l], what);
  }
}

static void backward_plan(int *site) {
  char what[64];
  for (int l = n_layers; l >= 1; l--) {
    snprintf(what, sizeof what, "weight gradient, layer %d", l);
    gemm((*site)++, MDL_TRANSPOSED, MDL_PLAIN, width[l - 1], width[l], batch,
         activity[l - 1], delta[l], 0, grad_w[l], what);
    snprintf(what, sizeof what, "bias gradient, layer %d", l);
    gemv((*site)++, batch, width[l], delta[l], ones, grad_b[l], what);
    if (l > 1) {
      snprintf(what, sizeof what, "deltas of layer %d", l - 1);
      gemm((*site)++, MDL_PLAIN, MDL_TRANSPOSED, batch, width[l - 1], width[l],
           delta[l], weights[l], 0, delta[l - 1], what);
    }
  }
}

static void gauss_newton_plan(int *site) {
  char what[64];
  for (int l = 1; l <= n_layers; l++) {
    snprintf(what, sizeof what, "R-forward a V, layer %d", l);
    gemm((*site)++, MDL_PLAIN, MDL_PLAIN, batch, width[l], width[l - 1],
         activity[l - 1], direction[l], 0, r_activity[l], what);
    if (l > 1) {
      snprintf(what, sizeof what, "R-forward R{a} W, layer %d", l);
      gemm((*site)++, MDL_PLAIN, MDL_PLAIN, batch, width[l], width[l - 1],
           r_activity[l - 1], weights[l], 1, r_activity[l], what);
    }
  }
}

/* A recurrent net's products over `steps` steps; at_every: targets at every
 * step. Buffers laid out as the generated code's: step s of sequence b is
 * row (s - 1) B + b of the inputs and deltas, row s B + b of the hidden
 * states, whose first B rows hold h_0. */
static void recurrent_plan(int steps, int at_every) {
  int n_in = width[0], h = width[1], n_out = width[2];
  long rows = (long)steps * batch, out_rows = at_every ? rows : batch;
  void *input = filled(rows * n_in, -1);
  void *hidden = filled(rows * h + (long)batch * h, -1);
  void *last = filled((long)batch * h, -1);
  void *output_z = filled(out_rows * n_out, 0);
  void *d_output = filled(out_rows * n_out, -1);
  void *d_hidden = filled(rows * h, -1);
  void *d_last = filled((long)batch * h, 0);
  void *w_ih = filled((long)n_in * h, -1), *g_ih = filled((long)n_in * h, 0);
  /* Entries in [0, 0.5 / H): every row of W_hh sums to less than 0.5, so
   * h_s = (x_s W_ih) + h_{s-1} W_hh stays within twice its input term. */
  void *w_hh = filled((long)h * h, -1.0 / h), *g_hh = filled((long)h * h, 0);
  void *g_bh = filled(h, 0);
  void *w_ho = filled((long)h * n_out, -1), *g_ho = filled((long)h * n_out, 0);
  void *g_bo = filled(n_out, 0);
  ones = filled(rows, 1);
  long bh = (long)batch * h;
  int site = 0;

  /* forward() */
  gemm(site++, MDL_PLAIN, MDL_PLAIN, (int)rows, h, n_in, input, w_ih, 0,
       at(hidden, bh), "forward, x W_ih over all steps");
  for (int s = 1; s <= steps; s++)
    gemm(site, MDL_PLAIN, MDL_PLAIN, batch, h, h, at(hidden, (s - 1) * bh),
         w_hh, 1, at(hidden, s * bh), "forward, + h_{s-1} W_hh, per step");
  site++;
  gemm(site++, MDL_PLAIN, MDL_PLAIN, (int)out_rows, n_out, h,
       at_every ? at(hidden, bh) : last, w_ho, 0, output_z,
       at_every ? "forward, outputs of every step" : "forward, outputs");

  /* backward() */
  gemm(site++, MDL_TRANSPOSED, MDL_PLAIN, h, n_out, (int)out_rows,
       at_every ? at(hidden, bh) : last, d_output, 0, g_ho, "gradient of W_ho");
  gemv(site++, (int)out_rows, n_out, d_output, ones, g_bo,
       "gradient of the output bias");
  gemm(site++, MDL_PLAIN, MDL_TRANSPOSED, (int)out_rows, h, n_out, d_output,
       w_ho, 0, at_every ? d_hidden : d_last, "hidden deltas from the outputs");
  for (int s = steps - 1; s >= 1; s--)
    gemm(site, MDL_PLAIN, MDL_TRANSPOSED, batch, h, h, at(d_hidden, s * bh),
         w_hh, 1, at(d_hidden, (s - 1) * bh),
         "back through time, + delta_{s+1} W_hh', per step");
  site++;
  gemm(site++, MDL_TRANSPOSED, MDL_PLAIN, h, h, (int)rows, hidden, d_hidden, 0,
       g_hh, "gradient of W_hh, all steps");
  gemm(site++, MDL_TRANSPOSED, MDL_PLAIN, n_in, h, (int)rows, input, d_hidden,
       0, g_ih, "gradient of W_ih, all steps");
  gemv(site++, (int)rows, h, d_hidden, ones, g_bh,
       "gradient of the hidden bias, all steps");
}

/* ---- Timing ---- */

static void run(const product *p) {
  if (p->gemv) {
    if (precision64)
      mdl_dgemv(p->op_a, p->m, p->n, 1, p->a, p->b, p->beta, p->c);
    else
      mdl_sgemv(p->op_a, p->m, p->n, 1, p->a, p->b, (float)p->beta, p->c);
  } else if (precision64) {
    mdl_dgemm(p->op_a, p->op_b, p->m, p->n, p->k, 1, p->a, p->b, p->beta, p->c);
  } else {
    mdl_sgemm(p->op_a, p->op_b, p->m, p->n, p->k, 1, p->a, p->b, (float)p->beta,
              p->c);
  }
}

static void one_update(void) {
  for (int i = 0; i < n_plan; i++)
    run(&plan[i]);
}

static double flops_of(const product *p) {
  return p->gemv ? 2.0 * p->m * p->n : 2.0 * p->m * p->n * p->k;
}

/* Prints the plan, a run of calls of one site and shape as one line. */
static void list_plan(void) {
  for (int i = 0; i < n_plan;) {
    const product *p = &plan[i];
    int j = i + 1;
    while (j < n_plan && plan[j].site == p->site && plan[j].m == p->m &&
           plan[j].n == p->n && plan[j].k == p->k)
      j++;
    char times[32] = "";
    if (j - i > 1)
      snprintf(times, sizeof times, " x %d", j - i);
    if (p->gemv)
      printf("gemv T    m=%d n=%d%s  (%s)\n", p->m, p->n, times, p->what);
    else
      printf("gemm %c %c  m=%d n=%d k=%d%s%s  (%s)\n",
             p->op_a == MDL_TRANSPOSED ? 'T' : 'N',
             p->op_b == MDL_TRANSPOSED ? 'T' : 'N', p->m, p->n, p->k,
             p->beta ? " beta 1" : "", times, p->what);
    i = j;
  }
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

static int usage(void) {
  fprintf(stderr, "usage: gemm_ceiling float32|float64 THREADS BATCH NETWORK "
                  "REPS TARGET_S [--recurrent STEPS last|every | "
                  "--gauss-newton] [--list]\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--openblas-config") == 0) {
    printf("%s; core %s\n", openblas_get_config(), openblas_get_corename());
    return 0;
  }
  if (argc < 7)
    return usage();
  precision64 = strcmp(argv[1], "float64") == 0;
  if (!precision64 && strcmp(argv[1], "float32") != 0) {
    fprintf(stderr, "gemm_ceiling: precision must be float32 or float64\n");
    return 2;
  }
  int threads = atoi(argv[2]);
  batch = atoi(argv[3]);
  int reps = atoi(argv[5]);
  double target = atof(argv[6]);
  int list = 0, steps = 0, at_every = 0, gauss_newton = 0;
  for (int i = 7; i < argc; i++) {
    if (strcmp(argv[i], "--list") == 0) {
      list = 1;
    } else if (strcmp(argv[i], "--gauss-newton") == 0) {
      gauss_newton = 1;
    } else if (strcmp(argv[i], "--recurrent") == 0 && i + 2 < argc &&
               (strcmp(argv[i + 2], "last") == 0 ||
                strcmp(argv[i + 2], "every") == 0)) {
      steps = atoi(argv[i + 1]);
      at_every = strcmp(argv[i + 2], "every") == 0;
      if (steps < 1 || steps > MAX_STEPS)
        return usage();
      i += 2;
    } else {
      return usage();
    }
  }
  if (batch <= 0 || parse_network(argv[4]) != 0 || reps < 1 ||
      reps > MAX_REPS || !(target > 0) || (steps && gauss_newton) ||
      (steps && n_layers != 2)) {
    fprintf(stderr, "gemm_ceiling: bad batch, network, reps, target or mode "
                    "(a recurrent net is INPUTS-HIDDEN-OUTPUTS)\n");
    return 2;
  }
  mdl_set_threads(threads);

  if (steps) {
    recurrent_plan(steps, at_every);
  } else {
    int site = 0;
    feedforward_buffers(gauss_newton);
    if (gauss_newton)
      gauss_newton_plan(&site);
    else
      forward_plan(&site);
    backward_plan(&site);
  }

  double flops = 0;
  int gemm_calls = 0, gemv_calls = 0, gemm_sites = 0, gemv_sites = 0;
  for (int i = 0; i < n_plan; i++) {
    flops += flops_of(&plan[i]);
    int first = i == 0 || plan[i - 1].site != plan[i].site;
    if (plan[i].gemv) {
      gemv_calls++;
      gemv_sites += first;
    } else {
      gemm_calls++;
      gemm_sites += first;
    }
  }
  if (list)
    list_plan();

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
         "gemm_calls=%d gemv_calls=%d gemm_sites=%d gemv_sites=%d "
         "gflop=%.6f\n",
         median, ms[0], ms[reps - 1], per_rep, reps, gemm_calls, gemv_calls,
         gemm_sites, gemv_sites, flops * 1e-9);
  return 0;
}
