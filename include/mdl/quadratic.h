/* mdl/quadratic.h — what a program that minimizes a quadratic shares
 * (net kind `quadratic`, examples/quadratic.mdl): the path each method
 * takes, the progress table and CSV made of the paths, the rate at which a
 * path closes in on the minimum along each eigendirection, the table of
 * those rates beside Theorem 2.1's, and the figure of the paths (sec. 2.1,
 * the appendix's Figure 2). The algorithm itself, the objective, the
 * update and the theory's rates, is in the generated program. */
#ifndef MDL_QUADRATIC_H
#define MDL_QUADRATIC_H

#include "mdl/base.h"
#include "mdl/program.h"

/* f(θ) = ½ θᵀAθ with A = diag(curvature): the minimum is θ = 0. */
typedef struct {
  int n;                   /* coordinates of θ */
  const double *curvature; /* λ_i, the eigenvalues of A */
  const double *start;     /* θ_0 */
} mdl_quadratic;

/* Every point θ_0, θ_1, ..., θ_steps one method visits. */
typedef struct {
  const char *method; /* "sgd", "cm" or "nag" */
  int n;
  long steps;
  double *theta;   /* (steps + 1) × n: row t is θ_t */
  mdl_dtype dtype; /* the precision the method computed in */
} mdl_path;

/* Room for a run of `steps` updates (dies with a message if there is none). */
void mdl_path_start(mdl_path *path, const char *method, int n, long steps);

/* Keeps θ_t, n numbers of the given type. */
void mdl_path_keep(mdl_path *path, long t, const void *theta, mdl_dtype dtype);

/* f(θ_t) = ½ Σ λ_i θ_i² along a path. */
double mdl_quadratic_value(const mdl_quadratic *q, const mdl_path *path,
                           long t);

/* The rate at which coordinate i of the path closes in on 0, as the path
 * shows it: |θ_i| shrinks by about this factor per update (above 1: it
 * grows). Measured over the second half of the updates before |θ_i| falls
 * to the precision's floor (1e-30 in float32, 1e-290 in float64; below it
 * are rounding and subnormals) or stops being finite, as exp of the
 * least-squares slope of log |θ_i,t| against t: through the peaks of
 * |θ_i,t| (its local maxima) when the path oscillates there, whose heights
 * follow the decay whatever the phase, else through every point. NaN when
 * fewer than 4 updates are left to measure (a coordinate that starts at 0,
 * or reaches it at once). */
double mdl_path_rate(const mdl_path *path, int i);

/* The header: program, objective, methods, precision, the run. Nothing
 * with --quiet. */
void mdl_quadratic_header(const mdl_program_info *info, const mdl_options *opts,
                          const mdl_quadratic *q);

/* The progress table, made from the paths: at every opts->report_every
 * updates and the last, μ_t and ε_t (mu may be NULL: no method has
 * momentum), then each path's f(θ_t) and, for up to 2 coordinates, θ_t.
 * The CSV (--log, or the program's log) has every coordinate. Then the
 * final line, also with --quiet. */
void mdl_quadratic_progress(const mdl_options *opts, const mdl_quadratic *q,
                            const mdl_path *paths, int n_paths,
                            mdl_schedule_fn mu, mdl_schedule_fn epsilon);

/* The table of rates: for each eigendirection, its curvature, and for each
 * path the theory's rate (predicted, n_paths × q->n, row-major) beside the
 * measured one. mu and epsilon are the values the theory used. */
void mdl_quadratic_rates(const mdl_quadratic *q, const mdl_path *paths,
                         int n_paths, const double *predicted, double mu,
                         double epsilon);

/* The paths in the plane of the first two coordinates (θ_1 against t when
 * there is one), as a PNG or an SVG by the file's extension, written whole
 * or not at all; the title says μ and ε (μ NaN: no method has momentum).
 * 0, or -1 with a message in err. */
int mdl_quadratic_plot(const char *file, const char *title,
                       const mdl_path *paths, int n_paths, double mu,
                       double epsilon, mdl_error *err);

#endif
