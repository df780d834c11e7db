/* progress_plot.c — --plot: the learning curves of a run, kept in memory as
 * the reports come, and drawn with PLplot (runtime/plot.c); see
 * mdl/program.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/plot.h"
#include "mdl/program.h"

/* The training error and at most every figure. */
enum { MAX_CURVES = 1 + MDL_MAX_FIGURES };
enum { TRAINING_ERROR = -1, TRAINING_LOSS = -2 }; /* curves not figures */

struct mdl_progress_plot {
  const char *path, *device, *title;
  char *tmp;          /* path.tmp: drawn there, then renamed */
  int redraw_reports; /* --checkpoint: drawn at every report */
  int n_curves;
  const char *name[MAX_CURVES]; /* the log's column titles */
  int figure[MAX_CURVES]; /* the figure's index, TRAINING_ERROR or _LOSS */
  const char *y_label;    /* "error", or "loss" when only it is drawn */
  long n, capacity;       /* reports kept */
  double *t, *y[MAX_CURVES];
};

/* The run whose figure is not drawn yet: a run that mdl_die ends (a
 * gradient gone NaN, a file it cannot write) draws it on the way out. */
static mdl_progress *unfinished;
static int drawing; /* a failure while drawing is not drawn again */

static int draw(struct mdl_progress_plot *h, mdl_error *err);

static void draw_at_exit(void) {
  if (!unfinished || !unfinished->plot || drawing)
    return;
  mdl_error err;
  if (draw(unfinished->plot, &err) != 0)
    fprintf(stderr, "%s: --plot: %s\n", mdl_program_name(), err.message);
}

static void grow(struct mdl_progress_plot *h) {
  if (h->n < h->capacity)
    return;
  h->capacity = h->capacity ? 2 * h->capacity : 64;
  size_t bytes = (size_t)h->capacity * sizeof(double);
  h->t = realloc(h->t, bytes);
  int ok = h->t != NULL;
  for (int k = 0; k < h->n_curves; k++)
    ok &= (h->y[k] = realloc(h->y[k], bytes)) != NULL;
  if (!ok)
    mdl_die("--plot: out of memory for the learning curves");
}

static void keep(struct mdl_progress_plot *h, long t, const double *y) {
  grow(h);
  h->t[h->n] = (double)t;
  for (int k = 0; k < h->n_curves; k++)
    h->y[k][h->n] = y[k];
  h->n++;
}

static int ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), m = strlen(tail);
  return n >= m && strcmp(s + n - m, tail) == 0;
}

/* The next comma-separated field of *line (which moves past it), cut off
 * in place; NULL past the last. */
static char *next_field(char **line) {
  if (!*line)
    return NULL;
  char *field = *line, *comma = strchr(field, ',');
  if (comma)
    *comma = '\0';
  *line = comma ? comma + 1 : NULL;
  return field;
}

/* A resumed run's log, already cut back to the rows up to its first update
 * (mdl_log_open), holds the curves before it: they are read back by their
 * columns' titles. The rows of first and after are the run's own. */
static void read_log(struct mdl_progress_plot *h, const char *path,
                     long first) {
  FILE *f = fopen(path, "r");
  if (!f)
    mdl_die("--plot: cannot read the log '%s' back: %s", path, strerror(errno));
  char *line = NULL;
  size_t size = 0;
  int column[MAX_CURVES];
  for (int k = 0; k < h->n_curves; k++)
    column[k] = -1;
  if (getline(&line, &size, f) > 0) {
    line[strcspn(line, "\r\n")] = '\0';
    char *rest = line, *title;
    for (int c = 0; (title = next_field(&rest)); c++)
      for (int k = 0; k < h->n_curves; k++)
        if (strcmp(title, h->name[k]) == 0)
          column[k] = c;
  }
  while (getline(&line, &size, f) > 0) {
    line[strcspn(line, "\r\n")] = '\0';
    double y[MAX_CURVES];
    for (int k = 0; k < h->n_curves; k++)
      y[k] = NAN; /* an empty field is a gap */
    char *rest = line, *field, *end;
    long t = strtol(line, &end, 10);
    if (end == line || *end != ',' || t >= first)
      continue;
    for (int c = 0; (field = next_field(&rest)); c++)
      for (int k = 0; k < h->n_curves; k++)
        if (column[k] == c && *field)
          y[k] = strtod(field, NULL);
    keep(h, t, y);
  }
  free(line);
  fclose(f);
}

void mdl_progress_plot_start(mdl_progress *p, const mdl_options *opts) {
  p->plot = NULL;
  if (!opts->plot)
    return;
  struct mdl_progress_plot *h = calloc(1, sizeof *h);
  size_t tmp_size = strlen(opts->plot) + 5;
  if (!h || !(h->tmp = malloc(tmp_size)))
    mdl_die("--plot: out of memory");
  snprintf(h->tmp, tmp_size, "%s.tmp", opts->plot);
  h->path = opts->plot;
  h->device = mdl_plot_device(opts->plot);
  h->title = opts->title ? opts->title : mdl_program_name();
  h->redraw_reports = opts->checkpoint != NULL;
  /* The errors the report shows: the training error (unless the chosen
   * metrics leave it out; a resumed run could not read it back from its
   * log), then the held-out errors, not the accuracies, which are
   * 1 - an error and would crowd the figure. Without any, the training
   * loss, which every report shows. */
  h->y_label = "error";
  if (mdl_shows_error(p)) {
    h->name[h->n_curves] = p->error_name;
    h->figure[h->n_curves++] = TRAINING_ERROR;
  }
  for (int i = 0; p->figures && i < p->figures->n; i++)
    if (ends_with(p->figures->name[i], "_error")) {
      h->name[h->n_curves] = p->figures->name[i];
      h->figure[h->n_curves++] = i;
    }
  if (h->n_curves == 0) {
    h->name[0] = "loss";
    h->figure[0] = TRAINING_LOSS;
    h->n_curves = 1;
    h->y_label = "loss";
  }
  if (p->first_step > 0 && p->csv)
    read_log(h, p->log_path, p->first_step);
  p->plot = h;
  static int registered;
  if (!registered && atexit(draw_at_exit) == 0)
    registered = 1;
  unfinished = p;
}

void mdl_progress_plot_add(mdl_progress *p, long t, double error, double loss) {
  struct mdl_progress_plot *h = p->plot;
  if (!h)
    return;
  double y[MAX_CURVES];
  for (int k = 0; k < h->n_curves; k++)
    y[k] = h->figure[k] == TRAINING_ERROR  ? error
           : h->figure[k] == TRAINING_LOSS ? loss
                                           : p->figures->value[h->figure[k]];
  keep(h, t, y); /* a diverged run's figure is drawn by draw_at_exit */
  if (h->redraw_reports)
    mdl_progress_plot_draw(p, 0);
}

/* Draws into path.tmp and renames it over path. */
static int draw(struct mdl_progress_plot *h, mdl_error *err) {
  mdl_plot_line lines[MAX_CURVES];
  for (int k = 0; k < h->n_curves; k++)
    lines[k] = (mdl_plot_line){h->name[k], (int)h->n, h->t, h->y[k]};
  mdl_plot plot = {h->title,    "updates", h->y_label, MDL_PLOT_LOG_IF_POSITIVE,
                   h->n_curves, lines};
  drawing = 1;
  int rc = mdl_plot_write(h->tmp, h->device, &plot, err);
  drawing = 0;
  if (rc == 0 && rename(h->tmp, h->path) != 0)
    rc = mdl_fail(err, "cannot write %s: %s", h->path, strerror(errno));
  if (rc != 0)
    remove(h->tmp);
  return rc;
}

void mdl_progress_plot_draw(mdl_progress *p, int last) {
  struct mdl_progress_plot *h = p->plot;
  if (!h)
    return;
  mdl_error err;
  if (draw(h, &err) != 0) {
    drawing = 1; /* not again at the exit */
    mdl_die("--plot: %s", err.message);
  }
  if (!last)
    return;
  if (unfinished == p)
    unfinished = NULL;
  free(h->t);
  for (int k = 0; k < h->n_curves; k++)
    free(h->y[k]);
  free(h->tmp);
  free(h);
  p->plot = NULL;
}
