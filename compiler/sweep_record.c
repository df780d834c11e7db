/* sweep_record.c — a run's record: one line of JSON (jansson) beside its CSV
 * log, saying what ran, how it ended and its final figures.
 *
 * A record is written to a temporary file and renamed into place, so a
 * record that exists is whole; one that does not parse, or belongs to
 * another run, counts as missing and the run is made again. */
#include "sweep.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const status_names[] = {"missing", "ok", "diverged",
                                           "failed", NULL};

/* ---- the CSV log ---- */

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *text = NULL;
  size_t size = 0;
  FILE *mem = open_memstream(&text, &size);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    fwrite(buf, 1, n, mem);
  fclose(f);
  fclose(mem);
  return text;
}

/* The fields of one CSV line, split in place. */
static int split(char *line, char **fields, int max) {
  int n = 0;
  for (char *p = line; n < max;) {
    fields[n++] = p;
    p = strchr(p, ',');
    if (!p)
      break;
    *p++ = '\0';
  }
  return n;
}

enum { MAX_COLUMNS = 32 };

/* The header and the last full row of a log, as a JSON object. */
static json_t *final_row(const char *path) {
  char *text = read_text(path);
  if (!text)
    return NULL;
  char *header = text, *last = NULL;
  char *nl = strchr(text, '\n');
  if (nl) {
    *nl = '\0';
    /* the last line that ends with a newline: a whole row */
    for (char *line = nl + 1; *line;) {
      char *end = strchr(line, '\n');
      if (!end)
        break;
      *end = '\0';
      if (*line)
        last = line;
      line = end + 1;
    }
  }
  json_t *row = NULL;
  if (last) {
    char *names[MAX_COLUMNS], *values[MAX_COLUMNS];
    int n = split(header, names, MAX_COLUMNS);
    int m = split(last, values, MAX_COLUMNS);
    row = json_object();
    for (int i = 0; i < n && i < m; i++) {
      char *end;
      double v = strtod(values[i], &end);
      bool number = end != values[i] && isfinite(v);
      /* update 300, not 300.0 */
      bool whole = number && v == floor(v) && fabs(v) < 9e15;
      json_object_set_new(row, names[i],
                          whole    ? json_integer((json_int_t)v)
                          : number ? json_real(v)
                                   : json_null());
    }
  }
  free(text);
  return row;
}

int sweep_read_curve(const char *path, const char *column, double **x,
                     double **y) {
  char *text = read_text(path);
  if (!text)
    return -1;
  char *line = text, *end = strchr(line, '\n');
  int col = -1, n = 0, cap = 0;
  *x = *y = NULL;
  if (end) {
    *end = '\0';
    char *names[MAX_COLUMNS];
    int k = split(line, names, MAX_COLUMNS);
    for (int i = 0; i < k; i++)
      if (strcmp(names[i], column) == 0)
        col = i;
  }
  while (col >= 0 && end && (line = end + 1, end = strchr(line, '\n'))) {
    *end = '\0';
    char *values[MAX_COLUMNS];
    if (split(line, values, MAX_COLUMNS) <= col)
      continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      *x = realloc(*x, sizeof(double) * (size_t)cap);
      *y = realloc(*y, sizeof(double) * (size_t)cap);
    }
    (*x)[n] = strtod(values[0], NULL);
    (*y)[n++] = strtod(values[col], NULL);
  }
  free(text);
  return col < 0 ? -1 : n;
}

/* ---- writing ---- */

static const char *iso_time(double seconds) {
  time_t t = (time_t)seconds;
  struct tm tm;
  gmtime_r(&t, &tm);
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return arena_strdup(text);
}

bool sweep_record_write(const SweepPlan *plan, int k,
                        const RunOutcome *outcome) {
  const SweepRun *run = &plan->runs[k];
  const SweepProgram *prog = &plan->programs[run->program];
  json_t *r = json_object();
  json_object_set_new(r, "run", json_string(run->id));
  json_object_set_new(r, "sweep", json_string(plan->sweep_path));
  json_object_set_new(r, "program", json_string(prog->source));
  json_object_set_new(r, "binary", json_string(prog->key));
  json_object_set_new(r, "method", json_string(prog->optimizer));
  json_t *defines = json_object(), *settings = json_object();
  for (int i = 0; i < prog->n_defines; i++)
    json_object_set_new(defines, prog->defines[i].name,
                        json_real(prog->defines[i].value));
  for (int i = 0; i < run->n_sets; i++)
    json_object_set_new(settings, run->sets[i].name,
                        json_real(run->sets[i].value));
  json_object_set_new(r, "defines", defines);
  json_object_set_new(r, "settings", settings);
  json_object_set_new(r, "seed", json_integer(run->seed));
  json_object_set_new(r, "steps", json_integer(run->steps));
  json_object_set_new(r, "report_every", json_integer(run->report_every));
  json_object_set_new(r, "threads", json_integer(plan->threads));
  json_object_set_new(r, "scale", json_real(plan->scale));
  json_object_set_new(r, "status", json_string(status_names[outcome->status]));
  json_object_set_new(r, "message",
                      outcome->message ? json_string(outcome->message)
                                       : json_null());
  json_object_set_new(r, "exit_status", json_integer(outcome->exit_status));
  json_t *final = final_row(sweep_run_path(plan, k, ".csv"));
  json_object_set_new(r, "final", final ? final : json_object());
  json_object_set_new(r, "wall_seconds",
                      json_real(outcome->finished - outcome->started));
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  json_object_set_new(r, "host", json_string(host));
  /* The runs inherit it, and it picks the BLAS kernels that round their
   * products (null: OpenBLAS chose them for the host's CPU). */
  const char *coretype = getenv("OPENBLAS_CORETYPE");
  json_object_set_new(r, "openblas_coretype",
                      coretype && *coretype ? json_string(coretype)
                                            : json_null());
  json_object_set_new(r, "mdlc_version", json_string(MDLC_VERSION));
  json_object_set_new(r, "started", json_string(iso_time(outcome->started)));
  json_object_set_new(r, "finished", json_string(iso_time(outcome->finished)));

  const char *path = sweep_run_path(plan, k, ".json");
  const char *tmp = arena_printf("%s.tmp%ld", path, (long)getpid());
  /* 15 digits: 0.9 reads 0.9, and every figure of the CSV is whole */
  char *line = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                 JSON_REAL_PRECISION(15));
  json_decref(r);
  FILE *f = fopen(tmp, "w");
  bool ok = f && line && fprintf(f, "%s\n", line) > 0;
  ok = f && fclose(f) == 0 && ok;
  free(line);
  if (!ok || rename(tmp, path) != 0) {
    diag_plain_error("cannot write the record %s: %s", path, strerror(errno));
    remove(tmp);
    return false;
  }
  return true;
}

/* ---- reading ---- */

RunRecord sweep_record_read(const SweepPlan *plan, int k, const char *score) {
  RunRecord rec = {.status = RUN_MISSING, .score = NAN};
  json_t *r = json_load_file(sweep_run_path(plan, k, ".json"), 0, NULL);
  if (!r)
    return rec;
  const char *id = json_string_value(json_object_get(r, "run"));
  const char *status = json_string_value(json_object_get(r, "status"));
  json_t *final = json_object_get(r, "final");
  int s = status ? find_word(status, status_names) : -1;
  if (!id || strcmp(id, plan->runs[k].id) != 0 || s <= 0 ||
      !json_is_object(final)) {
    json_decref(r);
    return rec;
  }
  rec.status = (RunStatus)s;
  const char *message = json_string_value(json_object_get(r, "message"));
  rec.message = message ? arena_strdup(message) : NULL;
  rec.wall_seconds = json_number_value(json_object_get(r, "wall_seconds"));
  json_t *value = json_object_get(final, score);
  if (rec.status == RUN_OK && json_is_number(value))
    rec.score = json_number_value(value);
  char *text = json_dumps(final, JSON_COMPACT | JSON_PRESERVE_ORDER);
  rec.final_json = arena_strdup(text ? text : "{}");
  free(text);
  json_decref(r);
  return rec;
}
