/* mdl/cg.h — preconditioned linear conjugate gradient on a matrix-free
 * operator, as Hessian-free optimization uses it (Martens 2010, his
 * conjgrad_1.m).
 *
 * CG minimizes φ(x) = ½ xᵀAx − bᵀx, i.e. solves A x = b, for a symmetric
 * positive definite A that it sees only through products A v. Besides the
 * textbook iteration it does three things for HF:
 *   - it stops by Martens' relative-progress rule (mdl_cg_progress_stop);
 *   - it bails out when it meets non-positive curvature pᵀAp <= 0;
 *   - it keeps the iterates of steps ceil(5·1.3^j) and the last one, which
 *     HF's backtracking walks back through.
 * All its vectors are double: in float32 CG loses conjugacy. */
#ifndef MDL_CG_H
#define MDL_CG_H

/* out = A v, for vectors of the solver's dimension. */
typedef struct {
  void (*apply)(const double *v, double *out, void *ctx);
  void *ctx;
} mdl_cg_operator;

/* When one solve may stop. */
typedef struct {
  int max_steps;    /* at most this many steps (<= the solver's capacity) */
  int min_steps;    /* the progress rule may stop CG only from this step on */
  double tolerance; /* of the progress rule (Martens: 5e-4); 0 turns it off */
  double residual_tolerance; /* stop when ‖r‖ <= this · ‖b‖ (0: only when
                                r is exactly 0); checked before each step */
} mdl_cg_limits;

/* The residual_tolerance HF uses: by ‖r‖ <= 1e-12 ‖b‖ nothing is left to
 * gain, and the next α would be a ratio of rounding errors. */
#define MDL_CG_RESIDUAL_FLOOR 1e-12

/* Why the last solve stopped. */
typedef enum {
  MDL_CG_MAX_STEPS,         /* took max_steps steps */
  MDL_CG_PROGRESS,          /* Martens' relative-progress rule */
  MDL_CG_CONVERGED,         /* the residual fell below its tolerance */
  MDL_CG_NEGATIVE_CURVATURE /* pᵀAp <= 0 (or NaN): bailed out */
} mdl_cg_stop;

/* "max steps", "progress", "converged" or "negative curvature", for
 * progress lines. */
const char *mdl_cg_stop_name(mdl_cg_stop stop);

typedef struct {
  long n;       /* dimension */
  int capacity; /* the most steps a solve may take */

  /* The result of the last solve. */
  double *x; /* the last iterate */
  int steps; /* CG steps completed (each one product A p) */
  mdl_cg_stop stop;
  double *values; /* φ(x_i) for i = 0..steps, as ½(r_i − b)ᵀx_i */
  long products;  /* operator applications, the one for r_0 included */
  /* The kept iterates in step order: those of the schedule steps reached,
   * then the last iterate (x) unless its step was a schedule step. */
  int n_iterates;
  const double **iterates;
  int *iterate_steps;

  /* Workspace. */
  double *r, *y, *p, *ap; /* residual Ax − b, M⁻¹r, direction, A p */
  int n_schedule;         /* schedule steps <= capacity (0 if not kept) */
  int *schedule;
  double **kept; /* one vector per schedule step */
} mdl_cg;

/* Allocates a solver for dimension n and up to `capacity` steps; with
 * keep_iterates 0 it keeps only the last iterate (no backtracking memory). */
void mdl_cg_init(mdl_cg *cg, long n, int capacity, int keep_iterates);
void mdl_cg_free(mdl_cg *cg);

/* Runs CG on A x = b from x0 (NULL or all zeros: from 0, which saves the
 * product for r_0), preconditioned by the diagonal precon (M: y = r / M;
 * NULL: none). The results are in cg's fields. */
void mdl_cg_solve(mdl_cg *cg, const mdl_cg_operator *a, const double *b,
                  const double *x0, const double *precon,
                  const mdl_cg_limits *limits);

/* Martens' stopping rule after step i, given values[j] = φ(x_j) for
 * j = 0..i: with k = max(10, ceil(i/10)), stop when i > k, φ(x_{i−k}) < 0
 * and (φ(x_i) − φ(x_{i−k})) / φ(x_i) < k · tolerance. (The paper states the
 * sign test on φ(x_i); his code, followed here, on φ(x_{i−k}). The two
 * decide alike whenever k · tolerance < 1, as with 5e-4.) */
int mdl_cg_progress_stop(const double *values, int i, double tolerance);

/* The steps whose iterates CG keeps, up to max_steps: i = ceil(next) with
 * next = 5, 5·1.3, 5·1.3², … by repeated multiplication, as in Martens'
 * code (5, 7, 9, 11, 15, 19, 25, 32, 41, 54, 69, 90, 117, 152, 197, …).
 * Writes them to steps (if not NULL) and returns how many there are. */
int mdl_cg_schedule(int max_steps, int *steps);

#endif
