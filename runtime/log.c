/* log.c — the CSV learning curve: opened so that a resumed run keeps every
 * row of the run it continues, and written so that a failed write stops
 * the program with the file's name instead of losing rows in silence. */
#include <mdl/program.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One line of a file into line (without its newline); false at the end. A
 * line longer than the buffer is refused as not a learning curve; a last
 * line without its newline, cut short by a crash, is returned empty. */
static int read_line(FILE *f, char *line, size_t size, const char *path) {
  if (!fgets(line, (int)size, f))
    return 0;
  size_t n = strlen(line);
  if (n && line[n - 1] == '\n')
    line[--n] = '\0';
  else if (!feof(f))
    mdl_die("the log '%s' has a line longer than %zu characters: it is not "
            "a learning curve of this program",
            path, size - 1);
  else
    line[0] = '\0';
  return 1;
}

/* Rewrites path with its header and the rows of updates up to first;
 * whether it kept the row of first itself. */
static int keep_rows_to(const char *path, const char *header, long first) {
  FILE *in = fopen(path, "r");
  if (!in)
    mdl_die("cannot read log file '%s' to continue it: %s", path,
            strerror(errno));
  char line[4096];
  if (!read_line(in, line, sizeof line, path) || strcmp(line, header) != 0)
    mdl_die("the log '%s' does not have this program's columns (%s); "
            "continue the run with its own log, or give --log a new file",
            path, header);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
  FILE *out = fopen(tmp, "w");
  if (!out)
    mdl_die("cannot write log file '%s': %s", tmp, strerror(errno));
  fprintf(out, "%s\n", header);
  int kept_first = 0;
  while (read_line(in, line, sizeof line, path)) {
    char *end;
    long t = strtol(line, &end, 10);
    if (end == line || *end != ',')
      continue; /* a row cut short by a kill: dropped */
    if (t <= first && !(t == first && kept_first))
      fprintf(out, "%s\n", line);
    kept_first |= t == first;
  }
  fclose(in);
  if (fflush(out) != 0 || fsync(fileno(out)) != 0 || fclose(out) != 0 ||
      rename(tmp, path) != 0) {
    int saved = errno;
    remove(tmp);
    mdl_die("cannot write log file '%s': %s", path, strerror(saved));
  }
  return kept_first;
}

void *mdl_log_open(const char *path, const char *header, long first,
                   int *kept_first) {
  FILE *csv;
  *kept_first = 0;
  if (first > 0 && access(path, F_OK) == 0) {
    *kept_first = keep_rows_to(path, header, first);
    csv = fopen(path, "a");
  } else {
    csv = fopen(path, "w");
    if (csv)
      fprintf(csv, "%s\n", header);
  }
  if (!csv)
    mdl_die("cannot open log file '%s': %s", path, strerror(errno));
  mdl_log_flush(csv, path);
  return csv;
}

void mdl_log_flush(void *csv, const char *path) {
  FILE *f = csv;
  if (fflush(f) != 0 || ferror(f))
    mdl_die("cannot write log file '%s': %s", path, strerror(errno));
}

void mdl_log_close(void *csv, const char *path) {
  FILE *f = csv;
  int failed = fflush(f) != 0 || ferror(f);
  int saved = errno;
  if (fclose(f) != 0 && !failed) {
    failed = 1;
    saved = errno;
  }
  if (failed)
    mdl_die("cannot write log file '%s': %s", path, strerror(saved));
}
