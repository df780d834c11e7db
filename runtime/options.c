/* options.c — a generated program's command line: the table of options
 * that drives both parsing and --help, --set NAME=VALUE for the program's
 * settings, and the checks made before the run starts (values in range,
 * output files writable), so that a mistake costs no training. */
#include "mdl/checkpoint.h"
#include "mdl/plot.h"
#include "mdl/program.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mdl/blas.h"

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
