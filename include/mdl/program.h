/* mdl/program.h — the services every generated training program shares:
 * its command line (runtime/options.c), its header and progress lines
 * (runtime/progress.c), the CSV learning curve (runtime/log.c), the
 * schedules' range checks (runtime/schedule_check.c), and the gradient
 * checks (runtime/gradient_check.c, runtime/check_forward.c). */
#ifndef MDL_PROGRAM_H
#define MDL_PROGRAM_H

#include <stdint.h>

#include "mdl/base.h"
#include "mdl/rng.h"

/* One named block of the flat parameter vector θ (and of v and g). */
typedef struct {
  const char *name; /* e.g. "input_to_enc1" */
  long offset;      /* first element inside θ */
  long rows, cols;  /* a weight block is rows × cols; a bias is 1 × cols */
} mdl_block;

/* A declared constant of the program that --set NAME=VALUE may change. */
typedef struct {
  const char *name;
  double *value;
  const char *help;
  /* Why --set cannot change it (a const that mdlc folded into the program
   * when compiling: its -D can), or NULL. */
  const char *fixed;
  int given; /* set by mdl_parse_options: --set gave it a value */
} mdl_setting;

/* Whether --set gave a value to the setting at *value. */
int mdl_was_set(const mdl_setting *settings, int n_settings,
                const double *value);

typedef struct {
  long steps;                 /* --steps N: make the first N updates */
  long schedule_steps;        /* --schedule-steps N: the schedule's `steps` */
  uint64_t seed;              /* --seed S */
  int threads;                /* --threads N (0: OpenBLAS's default) */
  long report_every;          /* updates between progress lines */
  const char *log_path;       /* --log FILE.csv, or NULL */
  const char *save_params;    /* --save-params FILE.npy, or NULL */
  const char *load_params;    /* --load-params FILE.npy, or NULL */
  const char *checkpoint;     /* --checkpoint FILE, or NULL */
  const char *resume;         /* --resume FILE, or NULL */
  const char *save_images;    /* --save-images FILE.png, or NULL */
  int check_gradients;        /* --check-gradients */
  int check_gauss_newton;     /* --check-gauss-newton (HF programs) */
  const char *compare_cg_nag; /* --compare-cg-nag FILE.csv (HF), or NULL */
  int quiet;                  /* --quiet: only the final line */
  const char *save_best;      /* --save-best FILE.npy, or NULL */
  const char *predict;        /* --predict INPUTS.npy, or NULL */
  const char *outputs;        /* --outputs OUTPUTS.npy (with --predict) */
  const char *plot;           /* --plot FILE.png or FILE.svg, or NULL */
  const char *title;          /* info->title, for the plot: set by parsing */
} mdl_options;

/* What the program says about itself in --help and in its header. */
typedef struct {
  const char *title;     /* e.g. "curves.mdl: nag on ae" */
  const char *network;   /* e.g. "784-400-200-100-50-25-6-25-...-784" */
  const char *method;    /* "sgd", "cm" or "nag" */
  const char *precision; /* "float32" or "float64" */
  long n_params;
  /* What a checkpoint must have been written by to be resumed here: every
   * size, unit, loss and the method (mdl/checkpoint.h), or NULL. */
  const char *model;
  /* The held-out error --save-best minimizes ("valid_error", or
   * "test_error" without a validation set), or NULL: no held-out set. */
  const char *best_of;
  /* Whether the inputs are square images an autoencoder reconstructs: the
   * program then takes --save-images. (--check-gauss-newton and
   * --compare-cg-nag are for method "hf".) */
  int square_images;
  /* Whether it minimizes a quadratic (mdl/quadratic.h): no data, no
   * randomness, no state to save, so it takes only the options of the
   * run's length, its settings, its log and its figure. */
  int quadratic;
} mdl_program_info;

/* Parses argv into opts (whose fields hold the program's defaults on entry)
 * and the settings. --help prints the usage with every setting and its
 * default and exits 0; a bad option or value prints a message and exits 2. */
void mdl_parse_options(int argc, char **argv, const mdl_program_info *info,
                       mdl_options *opts, mdl_setting *settings,
                       int n_settings);

/* The header: program, method, network, parameter count, data (with its
 * number of cases, unless n_cases is 0), seed, threads, precision. */
void mdl_print_header(const mdl_program_info *info, const mdl_options *opts,
                      const char *data_source, int n_cases);

/* One more "# ..." line of the header (nothing with --quiet). */
void mdl_print_note(const mdl_options *opts, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Wall-clock seconds since an arbitrary origin. */
double mdl_now(void);

/* "1h02m", "12m30s" or "45s"; "-" when seconds is not a finite number >= 0. */
void mdl_format_duration(char *out, size_t size, double seconds);

/* The CSV learning curve (runtime/log.c), a FILE *. For a run that starts
 * at update first > 0 (--resume) an existing log keeps its header and its
 * rows of updates up to first (*kept_first says whether the row of first
 * itself was there, so the run need not write it again), and the run
 * appends after them; otherwise a new file gets the header. Any failure,
 * here or at a flush or the close, stops the program with a message naming
 * the file. */
void *mdl_log_open(const char *path, const char *header, long first,
                   int *kept_first);
void mdl_log_flush(void *csv, const char *path);
void mdl_log_close(void *csv, const char *path);

/* What the gradients since the last progress line looked like, for the
 * progress line and the CSV log: a recurrent net that is dying shows itself
 * here first (runtime/gradient.c). */
typedef struct {
  long count;           /* gradients since the last progress line */
  double norm_sum;      /* the sum of their norms ‖g‖ */
  double norm_max;      /* the largest ‖g‖ */
  long clipped;         /* how many were clipped */
  double clip;          /* the clipping threshold, or 0 for none */
  int track_saturation; /* a recurrent net: report `saturated` */
  double saturated; /* the fraction of hidden activities with |φ'| nearly 0,
                       at the last evaluation */
} mdl_gradient_stats;

/* ‖g‖, the Euclidean norm of a gradient of n numbers, summed in double;
 * NaN or Inf when an element is (or the minibatch's loss was): the caller
 * then stops with mdl_diverged, at the update where it happened. */
double mdl_gradient_norm(const void *grad, mdl_dtype dtype, long n);

/* Stops a run whose update t met a NaN or Inf (what names it: "the
 * gradient's norm"), before that update changed θ: with --save-params the
 * parameters before it, θ_t (the n numbers at theta), are saved when they
 * are finite, and the message says where; exit status 1. */
_Noreturn void mdl_diverged(const mdl_options *opts, long t, const char *what,
                            double value, const void *theta, mdl_dtype dtype,
                            long n);

/* Adds one gradient's norm to the statistics of this report interval. */
void mdl_gradient_stats_add(mdl_gradient_stats *s, double norm);

/* g ← g · factor (clipping's rescaling). */
void mdl_scale(void *x, mdl_dtype dtype, long n, double factor);

/* Figures a progress line shows beside the training error and loss: a
 * classifier's accuracy and the held-out sets' error (and accuracy), or
 * the metrics `report every N ...` chose. The program names them once and
 * sets their values before each report; the CSV log has them as its last
 * columns. no_error_column: the chosen metrics leave the training error's
 * column out (it is still checked for a divergence, but not plotted). */
enum { MDL_MAX_FIGURES = 8 };
typedef struct {
  int n;
  int no_error_column;
  const char *name[MDL_MAX_FIGURES];
  double value[MDL_MAX_FIGURES];
} mdl_figures;

typedef struct {
  long steps;      /* total updates of the run */
  long first_step; /* t of the first update of this run */
  double start_time;
  double last_time;
  long last_t;
  void *csv;            /* FILE * of the learning curve, or NULL */
  const char *log_path; /* its name, for messages */
  long logged;          /* an update whose row the log has already */
  int quiet;
  const char *error_name; /* the error column's title */
  /* The gradient statistics reported and reset at each line, or NULL. */
  mdl_gradient_stats *gradients;
  const mdl_figures *figures; /* or NULL */
  /* --plot: the errors of every report so far, and the figure they are
   * drawn into (runtime/progress_plot.c), or NULL. */
  struct mdl_progress_plot *plot;
} mdl_progress;

/* Opens the CSV log when opts names one (dies with a message if it cannot)
 * and prints the column titles; error_name names the error column
 * ("train_error", or "zero_one" for the sequence problems). */
void mdl_progress_start(mdl_progress *p, const mdl_options *opts,
                        long first_step, const char *error_name);

/* The same, with the gradient statistics of the updates between two lines
 * as more columns: the mean and largest ‖g‖, and as s->clip and
 * s->track_saturation say, how often clipping fired and the fraction of
 * saturated hidden units. Each progress line resets the counts. */
void mdl_progress_start_with_gradients(mdl_progress *p, const mdl_options *opts,
                                       long first_step, const char *error_name,
                                       mdl_gradient_stats *gradients);

/* Whether the progress line and log have the training error's column. */
int mdl_shows_error(const mdl_progress *p);

/* A figure's column in a progress line: as wide as its title, at least 12. */
int mdl_figure_width(const char *name);

/* The same, with figures (NULL for none) shown after the error. */
void mdl_progress_start_with_figures(mdl_progress *p, const mdl_options *opts,
                                     long first_step, const char *error_name,
                                     mdl_gradient_stats *gradients,
                                     const mdl_figures *figures);

/* One progress line (and CSV row) after t updates: μ_t, ε_t, the error as
 * the paper reports it, the minimized loss, updates/s and the
 * estimated time left. A NaN or Inf error or loss stops the program with a
 * message naming the update and exit status 1, before the line is printed. */
void mdl_progress_report(mdl_progress *p, long t, double mu, double epsilon,
                         double error, double loss);

/* Closes the log and prints the final line. */
void mdl_progress_finish(mdl_progress *p, long t, double error, double loss);

/* --plot FILE.png or FILE.svg: the learning curves — the training error
 * and each held-out error (figures named "..._error") against updates, as
 * far as the report shows them (the training loss when it shows none) —
 * drawn at the end of the run (also one ended by a signal, or by mdl_die:
 * a divergence) and, with --checkpoint, at every report, where a
 * checkpoint is saved. The figure is written to FILE.tmp, then renamed.
 * The progress functions call these; a failure stops the program with a
 * message.
 *
 * Start keeps the rows of updates before first_step that a resumed run's
 * log holds (call it after opening the log), so that the figure shows the
 * whole run; without a log it starts at the resumed update. Until the last
 * draw, an exit (mdl_die) draws the figure on the way out. */
void mdl_progress_plot_start(mdl_progress *p, const mdl_options *opts);
/* Keeps the errors of the report of update t (the figures' values as they
 * are now), and redraws when the run checkpoints. */
void mdl_progress_plot_add(mdl_progress *p, long t, double error, double loss);
/* Draws the figure (nothing without --plot) and, when last, lets go of it. */
void mdl_progress_plot_draw(mdl_progress *p, int last);

/* --save-best: the parameters at the report with the lowest held-out
 * error so far, written (to FILE.tmp, then renamed) whenever a report beats
 * the best before it (runtime/best.c). */
typedef struct {
  const char *path; /* --save-best FILE.npy, or NULL: nothing is kept */
  const char *what; /* the error minimized, e.g. "valid_error" */
  double error;     /* the lowest so far; +inf before the first report */
  long t;           /* its update */
} mdl_best;

void mdl_best_start(mdl_best *b, const mdl_options *opts, const char *what);
void mdl_best_offer(mdl_best *b, long t, double error, const void *theta,
                    mdl_dtype type, long n_params);
/* "# best valid_error 0.0812 at update 45000, saved to best.npy" */
void mdl_best_finish(const mdl_best *b);

/* Stopping on request (runtime/stop.c). The progress functions catch
 * SIGINT, SIGTERM and SIGHUP (unless they are ignored): the handler only
 * notes the signal, and the training loop asks between two updates. */
void mdl_catch_stop_signals(void);

/* The signal that asked the run to stop, or 0. */
int mdl_stop_requested(void);

/* Ends a run stopped by a signal after t updates: closes the log, says
 * where it stopped and whether --resume can continue it (checkpoint is the
 * file the caller has just written, or NULL), and exits with 128 + the
 * signal's number, as a shell reports a program that the signal ended. */
_Noreturn void mdl_progress_stop(mdl_progress *p, long t,
                                 const char *checkpoint);

/* Stops the program (exit 1) when a schedule gives μ outside [0, 1) or
 * ε <= 0, or a non-finite value, naming the update and the value. */
void mdl_check_schedule(long t, double mu, double epsilon);

/* A schedule of the program: μ_t, ε_t or HF's d_t at update t. */
typedef double (*mdl_schedule_fn)(double t);

/* The same checks at every update of a run of `steps` updates (an even
 * sample of ten million of them in a longer run), made before the run
 * reads its data: a --set that takes a schedule out of its range stops the
 * program at once, naming the first bad update. mu and decay may be NULL
 * (sgd and hf have no μ, only hf has d_t, which must be in [0, 1]). */
void mdl_check_schedules(long steps, mdl_schedule_fn mu,
                         mdl_schedule_fn epsilon, mdl_schedule_fn decay);

/* The loss of a fixed set of check cases at θ, and its gradient by
 * backpropagation, as the generated program computes them. */
typedef double (*mdl_loss_fn)(const void *theta, void *ctx);
typedef void (*mdl_grad_fn)(const void *theta, void *grad, void *ctx);

/* Compares the backpropagated gradient with centred finite differences:
 * for each block, along a random direction confined to the block, and on a
 * few single coordinates. Prints one line per block and returns the largest
 * relative error |a - b| / max(|a|, |b|). In float32 the step is larger and
 * the agreement correspondingly looser (the header of the output says so). */
double mdl_check_gradients(void *theta, mdl_dtype type, long n_params,
                           const mdl_block *blocks, int n_blocks,
                           mdl_loss_fn loss, mdl_grad_fn grad, void *ctx,
                           uint64_t seed);

/* The coordinates of a block that the gradient checks compare: the one
 * with the largest derivative and up to most - 1 drawn at random among
 * those at least a tenth as large (a far smaller derivative is swamped by
 * rounding). Returns how many it put in chosen (offsets in the block). */
int mdl_check_pick_coordinates(const void *grad, mdl_dtype type,
                               const mdl_block *block, mdl_rng *rng,
                               long *chosen, int most);

/* ⟨∇L(θ), d⟩ computed by forward-mode differentiation (the R-operator's
 * pass, J d), which involves no step and no truncation error. */
typedef double (*mdl_directional_fn)(const void *theta, const void *direction,
                                     void *ctx);

/* The same comparison with the exact forward-mode derivative in place of
 * finite differences (runtime/check_forward.c): for each block, along a
 * random direction confined to it, and along a few coordinates. A finite
 * difference of a recurrent net's loss cannot follow dynamics that grow
 * like 1.1^T; forward mode can, so a long sequence is checked as tightly as
 * a short one. Returns the largest relative error. */
double mdl_check_gradients_forward(void *theta, mdl_dtype type, long n_params,
                                   const mdl_block *blocks, int n_blocks,
                                   mdl_grad_fn grad,
                                   mdl_directional_fn directional, void *ctx,
                                   uint64_t seed);

#endif
