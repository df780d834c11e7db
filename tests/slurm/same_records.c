/* same_records.c — do two mdlc sweep results folders hold the same runs with
 * the same outcome? Used by test_sweep.sh to hold a Slurm run against a local
 * one: same seeds, same numbers.
 *
 *   same_records LOCAL_RESULTS SLURM_RESULTS
 *
 * Every record (LOCAL/runs/ID.json) must have a twin of the same name in
 * SLURM/runs, and the other way round, with the same status and the same
 * final metrics, compared exactly: the last CSV row, less its timings
 * (`seconds`, and an HF program's `seconds_per_update` and
 * `ms_per_cg_step`). Prints each difference; exits 0 when there is none. */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_RUNS = 4096 };

/* Keys of `final` that measure the machine, not the training (the last two
 * are an HF program's). */
static int is_timing(const char *key) {
  return strcmp(key, "seconds") == 0 ||
         strcmp(key, "seconds_per_update") == 0 ||
         strcmp(key, "ms_per_cg_step") == 0;
}

/* The names of the .json files in DIR/runs; their count, or -1. */
static int list_records(const char *dir, char **names) {
  char path[4096];
  snprintf(path, sizeof path, "%s/runs", dir);
  DIR *d = opendir(path);
  if (!d) {
    perror(path);
    return -1;
  }
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < MAX_RUNS) {
    size_t len = strlen(e->d_name);
    if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0)
      names[n++] = strdup(e->d_name);
  }
  closedir(d);
  return n;
}

static json_t *load(const char *dir, const char *name) {
  char path[4096];
  json_error_t error;
  snprintf(path, sizeof path, "%s/runs/%s", dir, name);
  json_t *record = json_load_file(path, 0, &error);
  if (!record)
    fprintf(stderr, "%s:%d: %s\n", path, error.line, error.text);
  return record;
}

static const char *text_of(json_t *value) {
  static char text[2][256];
  static int which;
  which ^= 1;
  char *dumped =
      value ? json_dumps(value, JSON_ENCODE_ANY | JSON_REAL_PRECISION(9))
            : NULL;
  snprintf(text[which], sizeof text[which], "%s", dumped ? dumped : "none");
  free(dumped);
  return text[which];
}

/* Prints and counts the differences between two records of one run. */
static int compare(const char *name, json_t *a, json_t *b) {
  int differences = 0;
  json_t *status_a = json_object_get(a, "status");
  json_t *status_b = json_object_get(b, "status");
  if (!json_equal(status_a, status_b)) {
    printf("%s: status %s here, %s on Slurm\n", name, text_of(status_a),
           text_of(status_b));
    differences++;
  }
  json_t *final_a = json_object_get(a, "final");
  json_t *final_b = json_object_get(b, "final");
  const char *key;
  json_t *value;
  json_object_foreach(final_a, key, value) {
    json_t *other = json_object_get(final_b, key);
    if (is_timing(key) || json_equal(value, other))
      continue;
    printf("%s: final %s %s here, %s on Slurm\n", name, key, text_of(value),
           text_of(other));
    differences++;
  }
  json_object_foreach(final_b, key, value) {
    if (!is_timing(key) && !json_object_get(final_a, key)) {
      printf("%s: final %s only on Slurm\n", name, key);
      differences++;
    }
  }
  return differences;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: same_records LOCAL_RESULTS SLURM_RESULTS\n");
    return 2;
  }
  static char *here[MAX_RUNS], *there[MAX_RUNS];
  int n_here = list_records(argv[1], here);
  int n_there = list_records(argv[2], there);
  if (n_here < 0 || n_there < 0)
    return 1;
  if (n_here == 0) {
    printf("no records in %s/runs\n", argv[1]);
    return 1;
  }
  qsort(here, (size_t)n_here, sizeof *here, by_name);
  qsort(there, (size_t)n_there, sizeof *there, by_name);
  int differences = 0;
  for (int i = 0, j = 0; i < n_here || j < n_there;) {
    int order = i == n_here ? 1 : j == n_there ? -1 : strcmp(here[i], there[j]);
    if (order != 0) {
      printf("%s: only %s\n", order < 0 ? here[i] : there[j],
             order < 0 ? "here" : "on Slurm");
      differences++;
      order < 0 ? i++ : j++;
      continue;
    }
    json_t *a = load(argv[1], here[i]), *b = load(argv[2], there[j]);
    differences += a && b ? compare(here[i], a, b) : 1;
    json_decref(a);
    json_decref(b);
    i++, j++;
  }
  if (differences == 0)
    printf("same records: %d runs, the same final metrics\n", n_here);
  return differences != 0;
}
