/* program.c — the services every generated training program shares: the
 * command line, the header, progress lines and the CSV learning curve,
 * schedule checks, and the finite-difference gradient check. */
#include "mdl/program.h"
#include "mdl/checkpoint.h"
#include "mdl/plot.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mdl/blas.h"
#include "mdl/rng.h"

/* ---- Command line ------------------------------------------------------ */

typedef enum {
  OPT_HELP,
  OPT_STEPS,
  OPT_SCHEDULE_STEPS,
  OPT_SEED,
  OPT_THREADS,
  OPT_SET,
  OPT_LOG,
  OPT_SAVE_PARAMS,
  OPT_LOAD_PARAMS,
  OPT_CHECK_GRADIENTS,
  OPT_REPORT_EVERY,
  OPT_CHECKPOINT,
  OPT_RESUME,
  OPT_SAVE_IMAGES,
  OPT_QUIET,
  OPT_CHECK_GAUSS_NEWTON,
  OPT_COMPARE_CG_NAG,
  OPT_SAVE_BEST,
  OPT_PREDICT,
  OPT_OUTPUTS,
  OPT_PLOT
} option_id;

typedef struct {
  const char *name; /* without the leading "--" */
  option_id id;
  const char *argument; /* NULL for a flag */
  const char *help;
} option_spec;

/* One table drives both parsing and --help, so the usage lists exactly the
 * options the parser accepts from this program. */
static const option_spec option_specs[] = {
    {"help", OPT_HELP, NULL, "show this help and exit"},
    {"steps", OPT_STEPS, "N", "make the first N updates of the schedule"},
    {"schedule-steps", OPT_SCHEDULE_STEPS, "N",
     "a schedule of N updates, as if the program said `steps N`"},
    {"seed", OPT_SEED, "S", "random seed"},
    {"threads", OPT_THREADS, "N", "BLAS threads, 0 for OpenBLAS's default"},
    {"set", OPT_SET, "NAME=VALUE", "change a setting (below); repeatable"},
    {"log", OPT_LOG, "FILE.csv", "write the learning curve to FILE.csv"},
    {"save-params", OPT_SAVE_PARAMS, "FILE.npy",
     "save the final parameters to FILE.npy"},
    {"load-params", OPT_LOAD_PARAMS, "FILE.npy",
     "start from the parameters in FILE.npy"},
    {"check-gradients", OPT_CHECK_GRADIENTS, NULL,
     "compare backpropagation with finite differences"},
    {"report-every", OPT_REPORT_EVERY, "N", "updates between progress lines"},
    {"checkpoint", OPT_CHECKPOINT, "FILE",
     "save the training state to FILE at every progress line"},
    {"resume", OPT_RESUME, "FILE", "continue the run saved in FILE"},
    {"plot", OPT_PLOT, "FILE.png",
     "draw the learning curves to FILE.png or FILE.svg at the end and at "
     "every checkpoint"},
    {"save-images", OPT_SAVE_IMAGES, "FILE.png",
     "save inputs and reconstructions as a picture at the end"},
    {"save-best", OPT_SAVE_BEST, "FILE.npy",
     "keep the parameters with the lowest held-out error in FILE.npy"},
    {"predict", OPT_PREDICT, "INPUTS.npy",
     "at the end, run the net on INPUTS.npy (one case per row)"},
    {"outputs", OPT_OUTPUTS, "FILE.npy",
     "where --predict writes the outputs (one row per case)"},
    {"quiet", OPT_QUIET, NULL, "print only the final line"},
    {"check-gauss-newton", OPT_CHECK_GAUSS_NEWTON, NULL,
     "compare the Gauss-Newton product with Jᵀ H J"},
    {"compare-cg-nag", OPT_COMPARE_CG_NAG, "FILE.csv",
     "at the end, minimize one HF quadratic by CG and by NAG (Figure 5)"},
};

enum { N_OPTIONS = sizeof option_specs / sizeof option_specs[0] };

/* A bad command line is the user's mistake, not a failure of the run: exit
 * status 2 and a pointer to --help, as command-line tools usually do. */
static _Noreturn void usage_error(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

static void usage_error(const char *format, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s: error: ", mdl_program_name());
  va_start(ap, format);
  vfprintf(stderr, format, ap);
  va_end(ap);
  fprintf(stderr, "\nTry '%s --help'.\n", mdl_program_name());
  exit(2);
}

/* Whether this program takes the option: a few are for some programs only,
 * and --help lists only those the program takes. */
static int offered(const option_spec *spec, const mdl_program_info *info) {
  if (info->quadratic)
    switch (spec->id) {
    case OPT_HELP:
    case OPT_STEPS:
    case OPT_SCHEDULE_STEPS:
    case OPT_SET:
    case OPT_LOG:
    case OPT_REPORT_EVERY:
    case OPT_PLOT:
    case OPT_QUIET:
      return 1;
    default:
      return 0;
    }
  switch (spec->id) {
  case OPT_SAVE_IMAGES: /* autoencoders of square images */
    return info->square_images;
  case OPT_SAVE_BEST: /* programs with a held-out set */
    return info->best_of != NULL;
  case OPT_CHECK_GAUSS_NEWTON:
  case OPT_COMPARE_CG_NAG:
    return strcmp(info->method, "hf") == 0;
  default:
    return 1;
  }
}

/* An option of other programs: say whose it is. */
static _Noreturn void not_offered(const option_spec *spec,
                                  const mdl_program_info *info) {
  if (info->quadratic)
    usage_error("--%s is for programs that train a net on data; this one "
                "minimizes a quadratic",
                spec->name);
  if (spec->id == OPT_SAVE_IMAGES)
    usage_error("--%s shows an autoencoder's reconstructions of square "
                "images; this program has none",
                spec->name);
  if (spec->id == OPT_SAVE_BEST)
    usage_error("--save-best keeps the parameters with the lowest held-out "
                "error; this program has no held-out set (declare one in "
                "its train item: test on DATA, validate on DATA)");
  usage_error("--%s is for programs that train with hf; this one trains with "
              "%s",
              spec->name, info->method);
}

static const option_spec *find_option(const char *name, size_t length) {
  for (int i = 0; i < N_OPTIONS; i++)
    if (strlen(option_specs[i].name) == length &&
        strncmp(option_specs[i].name, name, length) == 0)
      return &option_specs[i];
  return NULL;
}

/* strtol and friends skip leading blanks and accept a sign; we want the
 * whole text to be the number and nothing else. */
static int starts_like_number(const char *text) {
  return *text != '\0' && !isspace((unsigned char)*text);
}

static long parse_whole(const char *option, const char *text, long min,
                        long max) {
  char *end;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (!starts_like_number(text) || *end != '\0')
    usage_error("--%s needs a whole number, not '%s'", option, text);
  if (errno == ERANGE || value < min || value > max)
    usage_error("--%s must be between %ld and %ld, not '%s'", option, min, max,
                text);
  return value;
}

static uint64_t parse_seed(const char *text) {
  char *end;
  errno = 0;
  /* strtoull would silently wrap "-1" around to 2^64 - 1. */
  unsigned long long value = strtoull(text, &end, 10);
  if (!isdigit((unsigned char)*text) || *end != '\0')
    usage_error("--seed needs a whole number >= 0, not '%s'", text);
  if (errno == ERANGE)
    usage_error("--seed must be below 2^64, not '%s'", text);
  return (uint64_t)value;
}

static void print_setting_names(FILE *out, const mdl_setting *settings,
                                int n_settings) {
  for (int i = 0; i < n_settings; i++)
    fprintf(out, "%s%s", i ? ", " : "", settings[i].name);
}

static _Noreturn void unknown_setting(const char *name, size_t length,
                                      const mdl_setting *settings,
                                      int n_settings) {
  fflush(stdout);
  fprintf(stderr, "%s: error: unknown setting '%.*s'; ", mdl_program_name(),
          (int)length, name);
  if (n_settings == 0) {
    fprintf(stderr, "this program has no settings");
  } else {
    fprintf(stderr, "settings are: ");
    print_setting_names(stderr, settings, n_settings);
  }
  fprintf(stderr, "\nTry '%s --help'.\n", mdl_program_name());
  exit(2);
}

/* --set NAME=VALUE */
static void apply_setting(const char *assignment, mdl_setting *settings,
                          int n_settings) {
  const char *equals = strchr(assignment, '=');
  if (!equals || equals == assignment)
    usage_error("--set needs NAME=VALUE, not '%s'", assignment);
  size_t name_length = (size_t)(equals - assignment);
  mdl_setting *setting = NULL;
  for (int i = 0; i < n_settings && !setting; i++)
    if (strlen(settings[i].name) == name_length &&
        strncmp(settings[i].name, assignment, name_length) == 0)
      setting = &settings[i];
  if (!setting)
    unknown_setting(assignment, name_length, settings, n_settings);
  if (setting->fixed)
    usage_error("setting '%s' cannot be changed with --set: %s", setting->name,
                setting->fixed);
  const char *text = equals + 1;
  char *end;
  errno = 0;
  double value = strtod(text, &end);
  if (!starts_like_number(text) || *end != '\0' || errno == ERANGE ||
      !isfinite(value))
    usage_error("setting '%s' needs a finite number, not '%s'", setting->name,
                text);
  *setting->value = value;
  setting->given = 1;
}

int mdl_was_set(const mdl_setting *settings, int n_settings,
                const double *value) {
  for (int i = 0; i < n_settings; i++)
    if (settings[i].value == value)
      return settings[i].given;
  return 0;
}

static void print_option_line(const option_spec *spec,
                              const mdl_program_info *info,
                              const mdl_options *opts) {
  char left[64];
  if (spec->id == OPT_HELP)
    snprintf(left, sizeof left, "-h, --help");
  else if (spec->argument)
    snprintf(left, sizeof left, "--%s %s", spec->name, spec->argument);
  else
    snprintf(left, sizeof left, "--%s", spec->name);
  if (spec->id == OPT_PLOT && info->quadratic)
    printf("  %-24s %s", left,
           "draw the paths of the methods to FILE.png or FILE.svg");
  else
    printf("  %-24s %s", left, spec->help);
  switch (spec->id) {
  case OPT_STEPS:
    printf(" (default %ld)", opts->steps);
    break;
  case OPT_SCHEDULE_STEPS:
    printf(" (default %ld)", opts->schedule_steps);
    break;
  case OPT_SEED:
    printf(" (default %llu)", (unsigned long long)opts->seed);
    break;
  case OPT_THREADS:
    printf(" (default %d)", opts->threads);
    break;
  case OPT_REPORT_EVERY:
    printf(" (default %ld)", opts->report_every);
    break;
  default:
    break;
  }
  putchar('\n');
}

static void print_settings_help(const mdl_setting *settings, int n_settings) {
  int width = 0;
  for (int i = 0; i < n_settings; i++) {
    int length = (int)strlen(settings[i].name);
    if (length > width)
      width = length;
  }
  printf("\nSettings (change with --set NAME=VALUE):\n");
  for (int i = 0; i < n_settings; i++)
    printf("  %-*s = %-12g %s%s\n", width, settings[i].name, *settings[i].value,
           settings[i].help ? settings[i].help : "",
           settings[i].fixed ? " (fixed when compiling: mdlc -D)" : "");
}

static _Noreturn void print_help(const mdl_program_info *info,
                                 const mdl_options *opts,
                                 const mdl_setting *settings, int n_settings) {
  printf("Usage: %s [OPTIONS]\n\n", mdl_program_name());
  printf("%s\n", info->title);
  printf("  network:   %s\n", info->network);
  printf("  method:    %s (%s, %ld parameters)\n", info->method,
         info->precision, info->n_params);
  printf("\nOptions:\n");
  for (int i = 0; i < N_OPTIONS; i++)
    if (offered(&option_specs[i], info))
      print_option_line(&option_specs[i], info, opts);
  if (n_settings > 0)
    print_settings_help(settings, n_settings);
  exit(0);
}

/* Finds the option's value: after '=' in the same word, or the next word. */
static const char *option_value(const option_spec *spec,
                                const char *inline_value, int argc, char **argv,
                                int *i) {
  if (inline_value)
    return inline_value;
  if (*i + 1 >= argc)
    usage_error("--%s needs a value (%s)", spec->name, spec->argument);
  return argv[++*i];
}

static void apply_option(const option_spec *spec, const char *value,
                         const mdl_program_info *info, mdl_options *opts,
                         mdl_setting *settings, int n_settings) {
  if (!offered(spec, info))
    not_offered(spec, info);
  if (spec->argument && *value == '\0')
    usage_error("--%s needs a non-empty value (%s)", spec->name,
                spec->argument);
  switch (spec->id) {
  case OPT_HELP:
    print_help(info, opts, settings, n_settings);
  case OPT_STEPS:
    opts->steps = parse_whole(spec->name, value, 0, LONG_MAX);
    break;
  case OPT_SCHEDULE_STEPS:
    opts->schedule_steps = parse_whole(spec->name, value, 1, LONG_MAX);
    break;
  case OPT_SEED:
    opts->seed = parse_seed(value);
    break;
  case OPT_THREADS:
    opts->threads = (int)parse_whole(spec->name, value, 0, INT_MAX);
    break;
  case OPT_SET:
    apply_setting(value, settings, n_settings);
    break;
  case OPT_LOG:
    opts->log_path = value;
    break;
  case OPT_SAVE_PARAMS:
    opts->save_params = value;
    break;
  case OPT_LOAD_PARAMS:
    opts->load_params = value;
    break;
  case OPT_CHECK_GRADIENTS:
    opts->check_gradients = 1;
    break;
  case OPT_REPORT_EVERY:
    opts->report_every = parse_whole(spec->name, value, 1, LONG_MAX);
    break;
  case OPT_CHECKPOINT:
    opts->checkpoint = value;
    break;
  case OPT_RESUME:
    opts->resume = value;
    break;
  case OPT_PLOT:
    if (!mdl_plot_device(value))
      usage_error("--plot draws a PNG or an SVG file, chosen by the "
                  "extension: FILE.png or FILE.svg, not '%s'",
                  value);
    opts->plot = value;
    break;
  case OPT_SAVE_IMAGES:
    opts->save_images = value;
    break;
  case OPT_QUIET:
    opts->quiet = 1;
    break;
  case OPT_SAVE_BEST:
    opts->save_best = value;
    break;
  case OPT_PREDICT:
    opts->predict = value;
    break;
  case OPT_OUTPUTS:
    opts->outputs = value;
    break;
  case OPT_CHECK_GAUSS_NEWTON:
    opts->check_gauss_newton = 1;
    break;
  case OPT_COMPARE_CG_NAG:
    opts->compare_cg_nag = value;
    break;
  }
}

/* A file the run will write at its end (or along the way) must be
 * writable from the start: a typo should not cost a long run. */
static void check_writable(const char *option, const char *path) {
  if (!path)
    return;
  /* What is there already must be a file to replace, or a device such as
   * /dev/null: not a directory, and not a FIFO that would block the run
   * at its end. */
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    mdl_die("cannot write %s (--%s): it is a directory", path, option);
  if (stat(path, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
    mdl_die("cannot write %s (--%s): it is a FIFO or socket, not a file", path,
            option);
  char dir[4096];
  mdl_directory_of(path, dir, sizeof dir);
  if (access(dir, W_OK) != 0)
    mdl_die("cannot open %s for writing (--%s): directory '%s': %s", path,
            option, dir, strerror(errno));
}

void mdl_parse_options(int argc, char **argv, const mdl_program_info *info,
                       mdl_options *opts, mdl_setting *settings,
                       int n_settings) {
  if (argc > 0 && argv[0])
    mdl_set_program_name(argv[0]);
  mdl_checkpoint_set_model(info->model);
  if (opts->schedule_steps <= 0)
    opts->schedule_steps = opts->steps;
  int steps_given = 0, schedule_given = 0;
  for (int i = 1; i < argc; i++) {
    const char *word = argv[i];
    if (strcmp(word, "-h") == 0)
      word = "--help";
    if (word[0] == '-' && word[1] != '-' && word[1] != '\0')
      usage_error("unknown option '%s'", word);
    if (strncmp(word, "--", 2) != 0 || word[2] == '\0')
      usage_error("unexpected argument '%s'", word);
    const char *name = word + 2;
    const char *equals = strchr(name, '=');
    size_t length = equals ? (size_t)(equals - name) : strlen(name);
    const option_spec *spec = find_option(name, length);
    if (!spec)
      usage_error("unknown option '--%.*s'", (int)length, name);
    if (!spec->argument && equals)
      usage_error("--%s takes no value", spec->name);
    const char *value =
        spec->argument
            ? option_value(spec, equals ? equals + 1 : NULL, argc, argv, &i)
            : "";
    apply_option(spec, value, info, opts, settings, n_settings);
    steps_given |= spec->id == OPT_STEPS;
    schedule_given |= spec->id == OPT_SCHEDULE_STEPS;
  }
  /* A schedule of N updates is a run of N updates unless --steps cuts it
   * short (or runs past its end). */
  if (schedule_given && !steps_given)
    opts->steps = opts->schedule_steps;
  /* A resumed run takes θ from its checkpoint: starting parameters too
   * would be silently ignored. */
  if (opts->resume && opts->load_params)
    usage_error("--resume continues a run from its checkpoint; it cannot "
                "also start from --load-params");
  if (opts->predict && !opts->outputs)
    usage_error("--predict needs --outputs FILE.npy: where to write the "
                "outputs");
  if (opts->outputs && !opts->predict)
    usage_error("--outputs names where --predict writes; give --predict "
                "INPUTS.npy too");
  check_writable("log", opts->log_path);
  check_writable("save-params", opts->save_params);
  check_writable("save-best", opts->save_best);
  check_writable("outputs", opts->outputs);
  check_writable("checkpoint", opts->checkpoint);
  check_writable("save-images", opts->save_images);
  check_writable("compare-cg-nag", opts->compare_cg_nag);
  check_writable("plot", opts->plot);
  mdl_error err;
  if (opts->plot && mdl_plot_check_device(mdl_plot_device(opts->plot), &err))
    mdl_die("--plot %s: %s", opts->plot, err.message);
  opts->title = info->title;
  /* Done here so that the header, which reports mdl_threads(), is right. */
  mdl_set_threads(opts->threads);
}

/* ---- Header -------------------------------------------------------------- */

void mdl_print_header(const mdl_program_info *info, const mdl_options *opts,
                      const char *data_source, int n_cases) {
  if (opts->quiet)
    return;
  printf("# program     %s\n", info->title);
  printf("# network     %s\n", info->network);
  printf("# method      %s, %s, %ld parameters\n", info->method,
         info->precision, info->n_params);
  if (data_source && n_cases)
    printf("# data        %s, %d case%s\n", data_source, n_cases,
           mdl_plural(n_cases));
  else if (data_source)
    printf("# data        %s\n", data_source);
  /* --steps cuts the schedule short, or runs on past its end: say which,
   * since μ_t and ε_t follow the schedule, not the run. */
  long schedule = opts->schedule_steps > 0 ? opts->schedule_steps : opts->steps;
  char run[160];
  if (opts->steps < schedule)
    snprintf(run, sizeof run,
             "%ld of %ld updates (--steps: the first %ld of the schedule)",
             opts->steps, schedule, opts->steps);
  else if (opts->steps > schedule)
    snprintf(run, sizeof run,
             "%ld updates (--steps: %ld past the end of the schedule's %ld)",
             opts->steps, opts->steps - schedule, schedule);
  else
    snprintf(run, sizeof run, "%ld update%s", opts->steps,
             mdl_plural(opts->steps));
  printf("# run         %s, seed %llu, %d BLAS thread%s\n", run,
         (unsigned long long)opts->seed, mdl_threads(),
         mdl_plural(mdl_threads()));
  fflush(stdout);
}

void mdl_print_note(const mdl_options *opts, const char *format, ...) {
  if (opts->quiet)
    return;
  va_list ap;
  va_start(ap, format);
  fputs("# ", stdout);
  vprintf(format, ap);
  putchar('\n');
  va_end(ap);
  fflush(stdout);
}

double mdl_now(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

/* ---- Progress and the learning curve ----------------------------------- */

void mdl_progress_start(mdl_progress *p, const mdl_options *opts,
                        long first_step, const char *error_name) {
  mdl_progress_start_with_gradients(p, opts, first_step, error_name, NULL);
}

void mdl_progress_start_with_gradients(mdl_progress *p, const mdl_options *opts,
                                       long first_step, const char *error_name,
                                       mdl_gradient_stats *gradients) {
  mdl_progress_start_with_figures(p, opts, first_step, error_name, gradients,
                                  NULL);
}

int mdl_figure_width(const char *name) {
  int width = (int)strlen(name);
  return width > 12 ? width : 12;
}

void mdl_progress_start_with_figures(mdl_progress *p, const mdl_options *opts,
                                     long first_step, const char *error_name,
                                     mdl_gradient_stats *gradients,
                                     const mdl_figures *figures) {
  mdl_catch_stop_signals();
  p->figures = figures;
  p->gradients = gradients;
  p->steps = opts->steps;
  p->first_step = first_step;
  p->start_time = mdl_now();
  p->last_time = p->start_time;
  p->last_t = first_step;
  p->quiet = opts->quiet;
  p->error_name = error_name;
  p->csv = NULL;
  const mdl_gradient_stats *g = p->gradients;
  p->log_path = opts->log_path;
  if (opts->log_path) {
    char header[512];
    int n = snprintf(
        header, sizeof header, "update,mu,epsilon,%s,loss,seconds%s",
        error_name, g ? ",grad_norm_mean,grad_norm_max,clipped,saturated" : "");
    for (int i = 0; figures && i < figures->n; i++)
      n += snprintf(header + n, sizeof header - (size_t)n, ",%s",
                    figures->name[i]);
    int kept_first;
    p->csv = mdl_log_open(opts->log_path, header, first_step, &kept_first);
    p->logged = kept_first ? first_step : -1;
  }
  mdl_progress_plot_start(p, opts);
  if (!p->quiet) {
    printf("%8s  %8s  %8s  %12s", "update", "mu", "epsilon", error_name);
    for (int i = 0; figures && i < figures->n; i++)
      printf("  %*s", mdl_figure_width(figures->name[i]), figures->name[i]);
    printf("  %10s", "loss");
    if (g)
      printf("  %9s  %9s", "|g| mean", "|g| max");
    if (g && g->clip > 0)
      printf("  %7s", "clipped");
    if (g && g->track_saturation)
      printf("  %5s", "sat");
    printf("  %6s  %8s\n", "upd/s", "ETA");
    fflush(stdout);
  }
}

/* The gradient statistics' part of a progress line and CSV row; "-" (or an
 * empty field) before the first update. */
static void print_gradients(FILE *out, const mdl_gradient_stats *g) {
  if (g->count)
    fprintf(out, "  %9.3g  %9.3g", g->norm_sum / (double)g->count, g->norm_max);
  else
    fprintf(out, "  %9s  %9s", "-", "-");
  if (g->clip > 0)
    fprintf(out, "  %6.1f%%",
            g->count ? 100.0 * (double)g->clipped / (double)g->count : 0.0);
  if (g->track_saturation)
    fprintf(out, "  %4.0f%%", 100 * g->saturated);
}

static void log_gradients(FILE *csv, const mdl_gradient_stats *g) {
  if (g->count)
    fprintf(csv, ",%.6g,%.6g,%ld,", g->norm_sum / (double)g->count, g->norm_max,
            g->clipped);
  else
    fprintf(csv, ",,,,");
  if (g->track_saturation)
    fprintf(csv, "%.6g", g->saturated);
}

void mdl_format_duration(char *out, size_t size, double seconds) {
  if (!isfinite(seconds) || seconds < 0) {
    snprintf(out, size, "-");
    return;
  }
  long s = lround(seconds);
  if (s >= 3600)
    snprintf(out, size, "%ldh%02ldm", s / 3600, s % 3600 / 60);
  else if (s >= 60)
    snprintf(out, size, "%ldm%02lds", s / 60, s % 60);
  else
    snprintf(out, size, "%lds", s);
}

static double rate(long updates, double seconds) {
  return updates > 0 && seconds > 0 ? (double)updates / seconds : NAN;
}

void mdl_progress_report(mdl_progress *p, long t, double mu, double epsilon,
                         double error, double loss) {
  /* A divergence stops the run before its row: no line of nan. */
  if (!isfinite(error))
    mdl_die("training diverged at update %ld: the training error is %g; "
            "try a smaller epsilon",
            t, fabs(error)); /* fabs: "nan", not "-nan" */
  if (!isfinite(loss))
    mdl_die("training diverged at update %ld: the loss is %g; "
            "try a smaller epsilon",
            t, fabs(loss));
  double now = mdl_now();
  mdl_gradient_stats *g = p->gradients;
  if (p->csv && t != p->logged) {
    fprintf(p->csv, "%ld,%.9g,%.9g,%.9g,%.9g,%.3f", t, mu, epsilon, error, loss,
            now - p->start_time);
    if (g)
      log_gradients(p->csv, g);
    for (int i = 0; p->figures && i < p->figures->n; i++)
      fprintf(p->csv, ",%.9g", p->figures->value[i]);
    fputc('\n', p->csv);
    mdl_log_flush(p->csv, p->log_path);
  }
  if (!p->quiet) {
    double recent_rate = rate(t - p->last_t, now - p->last_time);
    /* The ETA uses the whole run's rate: steadier than the last interval. */
    double overall_rate = rate(t - p->first_step, now - p->start_time);
    long left = p->steps > t ? p->steps - t : 0;
    char eta[32], speed[32];
    mdl_format_duration(eta, sizeof eta,
                        left == 0 ? 0.0 : (double)left / overall_rate);
    if (isnan(recent_rate))
      snprintf(speed, sizeof speed, "-");
    else
      snprintf(speed, sizeof speed, "%.0f", recent_rate);
    printf("%8ld  %8.6f  %8.3g  %12.6g", t, mu, epsilon, error);
    for (int i = 0; p->figures && i < p->figures->n; i++)
      printf("  %*.6g", mdl_figure_width(p->figures->name[i]),
             p->figures->value[i]);
    printf("  %10.6g", loss);
    if (g)
      print_gradients(stdout, g);
    printf("  %6s  %8s\n", speed, eta);
    fflush(stdout);
  }
  if (g) { /* the next line reports the updates after this one */
    g->count = g->clipped = 0;
    g->norm_sum = g->norm_max = 0;
  }
  p->last_t = t;
  p->last_time = now;
  mdl_progress_plot_add(p, t, error, loss);
}

void mdl_progress_finish(mdl_progress *p, long t, double error, double loss) {
  double elapsed = mdl_now() - p->start_time;
  long updates = t - p->first_step;
  double speed = rate(updates, elapsed);
  printf("# done: %ld update%s in %.1f s (%.0f upd/s), final %s %.6g, ",
         updates, mdl_plural(updates), elapsed, isnan(speed) ? 0.0 : speed,
         p->error_name, error);
  for (int i = 0; p->figures && i < p->figures->n; i++)
    printf("%s %.6g, ", p->figures->name[i], p->figures->value[i]);
  printf("loss %.6g\n", loss);
  fflush(stdout);
  if (p->csv) {
    mdl_log_close(p->csv, p->log_path);
    p->csv = NULL;
  }
  mdl_progress_plot_draw(p, 1);
}

void mdl_check_schedule(long t, double mu, double epsilon) {
  if (!(mu >= 0 && mu < 1))
    mdl_die("at update %ld the momentum schedule gives mu = %g, outside "
            "[0, 1)",
            t, mu);
  if (!isfinite(epsilon))
    mdl_die("at update %ld the learning-rate schedule gives epsilon = %g, "
            "which is not a finite number",
            t, epsilon);
  if (epsilon <= 0)
    mdl_die("at update %ld the learning-rate schedule gives epsilon = %g, "
            "which must be > 0",
            t, epsilon);
}

void mdl_check_schedules(long steps, mdl_schedule_fn mu,
                         mdl_schedule_fn epsilon, mdl_schedule_fn decay) {
  /* Each value costs a few nanoseconds: all of them for runs up to ten
   * million updates (as mdlc checks the declared run), a sample beyond. */
  long stride = steps <= 10000000 ? 1 : steps / 10000000 + 1;
  for (long t = 0; t < steps; t += stride) {
    mdl_check_schedule(t, mu ? mu((double)t) : 0, epsilon((double)t));
    double d = decay ? decay((double)t) : 0;
    if (!(d >= 0 && d <= 1))
      mdl_die("at update %ld the decay schedule gives decay = %g, outside "
              "[0, 1]",
              t, d);
  }
}

/* ---- Gradient check ---------------------------------------------------- */

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
