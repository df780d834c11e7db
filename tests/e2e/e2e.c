/* e2e.c — see e2e.h. */
#include "e2e.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mdl/npy.h"

e2e_result e2e_run(const char *format, ...) {
  char command[8192];
  va_list ap;
  va_start(ap, format);
  vsnprintf(command, sizeof command, format, ap);
  va_end(ap);
  char full[8300];
  snprintf(full, sizeof full, "(%s) 2>&1", command);
  FILE *pipe = popen(full, "r");
  e2e_result r = {-1, NULL};
  size_t cap = 4096, len = 0;
  r.output = malloc(cap);
  size_t n;
  while (pipe && (n = fread(r.output + len, 1, cap - len - 1, pipe)) > 0) {
    len += n;
    if (cap - len < 2)
      r.output = realloc(r.output, cap *= 2);
  }
  r.output[len] = '\0';
  int status = pipe ? pclose(pipe) : -1;
  r.status = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const char *e2e_dir(const char *name) {
  static char paths[64][512];
  static int next;
  char *path = paths[next++ % 64];
  snprintf(path, 512, "%s/%s", WORK_DIR, name);
  mkdir(WORK_DIR, 0755);
  mkdir(path, 0755);
  return path;
}

const char *e2e_write(const char *dir, const char *file, const char *text) {
  char *path = malloc(strlen(dir) + strlen(file) + 2);
  sprintf(path, "%s/%s", dir, file);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  return path;
}

const char *e2e_compile(const char *dir, const char *name, const char *flags,
                        const char *program) {
  char file[256];
  snprintf(file, sizeof file, "%s.mdl", name);
  const char *source = e2e_write(dir, file, program);
  char *exe = malloc(strlen(dir) + strlen(name) + 2);
  sprintf(exe, "%s/%s", dir, name);
  e2e_result r =
      e2e_run("%s %s %s -o %s", MDLC, flags ? flags : "", source, exe);
  if (r.status != 0) {
    fprintf(stderr, "mdlc failed on %s:\n%s\n", source, r.output);
    free(r.output);
    return NULL;
  }
  free(r.output);
  return exe;
}

double e2e_number_after(const char *text, const char *key) {
  const char *at = strstr(text, key);
  if (!at)
    return NAN;
  return strtod(at + strlen(key), NULL);
}

long e2e_read_f64(const char *path, double **values) {
  mdl_npy a;
  mdl_error err;
  if (mdl_npy_read(path, &a, &err) != 0 || a.kind != MDL_NPY_F64)
    return -1;
  *values = a.data;
  return a.rows * a.cols;
}

void e2e_write_f64(const char *path, const double *values, long rows,
                   long cols) {
  mdl_error err;
  mdl_npy_write(path, values, MDL_F64, rows, cols, &err);
}

char *e2e_write_grid(const char *dir, const char *file, int rows, int cols,
                     double lo, double hi, uint32_t seed) {
  double *x = malloc(sizeof(double) * (size_t)rows * cols);
  int steps = (int)((hi - lo) * 16);
  for (long i = 0; i < (long)rows * cols; i++)
    x[i] = lo + e2e_draw(&seed, steps + 1) / 16.0;
  char *path = e2e_join(dir, file);
  e2e_write_f64(path, x, rows, cols);
  free(x);
  return path;
}

char *e2e_write_one_hot(const char *dir, const char *file, int rows, int groups,
                        int classes, uint32_t seed) {
  double *y = calloc((size_t)rows * groups * classes, sizeof(double));
  for (int i = 0; i < rows * groups; i++)
    y[(long)i * classes + e2e_draw(&seed, classes)] = 1;
  char *path = e2e_join(dir, file);
  e2e_write_f64(path, y, rows, (long)groups * classes);
  free(y);
  return path;
}

const char *e2e_fresh_dir(const char *name) {
  const char *dir = e2e_dir(name);
  e2e_result r = e2e_run("rm -rf '%s' && mkdir -p '%s'", dir, dir);
  free(r.output);
  return dir;
}

char *e2e_join(const char *dir, const char *file) {
  char *path = malloc(strlen(dir) + strlen(file) + 2);
  sprintf(path, "%s/%s", dir, file);
  return path;
}

const char *e2e_once(const char *name, int (*build)(const char *dir, void *ctx),
                     void *ctx) {
  const char *dir = e2e_dir(name);
  char *lock_path = e2e_join(dir, "lock"), *stamp_path = e2e_join(dir, "stamp");
  char stamp[32] = "", want[32];
  snprintf(want, sizeof want, "%ld\n", (long)getppid());
  int fd = open(lock_path, O_CREAT | O_RDWR, 0644);
  if (fd < 0 || flock(fd, LOCK_EX) != 0) {
    fprintf(stderr, "cannot lock %s\n", lock_path);
    return NULL;
  }
  FILE *f = fopen(stamp_path, "r");
  if (f) {
    if (!fgets(stamp, sizeof stamp, f))
      stamp[0] = '\0';
    fclose(f);
  }
  int ok = 1;
  if (strcmp(stamp, want) != 0) {
    remove(stamp_path);
    ok = build(dir, ctx) == 0;
    if (ok && (f = fopen(stamp_path, "w"))) {
      fputs(want, f);
      fclose(f);
    }
  }
  flock(fd, LOCK_UN);
  close(fd);
  free(lock_path);
  free(stamp_path);
  return ok ? dir : NULL;
}

int e2e_draw(uint32_t *state, int n) {
  *state = *state * 1664525u + 1013904223u;
  return (int)((*state >> 8) % (uint32_t)n);
}

char *e2e_mutant_cc(const char *dir, const char *edit) {
  char script[1024];
  snprintf(script, sizeof script,
           "#!/bin/sh\n"
           "for a in \"$@\"; do\n"
           "  case \"$a\" in *.c)\n"
           "    cp \"$a\" \"$a.orig\"\n"
           "    sed -i '%s' \"$a\"\n"
           "    if cmp -s \"$a\" \"$a.orig\"; then\n"
           "      echo 'mutant: the edit %s matched nothing' >&2; exit 1\n"
           "    fi\n"
           "    rm -f \"$a.orig\" ;;\n"
           "  esac\n"
           "done\n"
           "exec clang \"$@\"\n",
           edit, edit);
  const char *path = e2e_write(dir, "mutant-cc.sh", script);
  e2e_result r = e2e_run("chmod +x %s", path);
  free(r.output);
  return (char *)path;
}
