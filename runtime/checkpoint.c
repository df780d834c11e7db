/* checkpoint.c — saving and restoring a training run; see
 * mdl/checkpoint.h for the format. */
#include "mdl/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char MAGIC[8] = {'M', 'D', 'L', 'C', 'K', 'P', 'T', '2'};
static const char OLD_MAGIC[8] = {'M', 'D', 'L', 'C', 'K', 'P', 'T', '1'};

enum { N_FIELDS = 7, MAX_MODEL = 4096 };

static const char *const STATE_NAMES[] = {
    "parameters only", "parameters and velocity",
    "a look-ahead point and velocity", "parameters and a Hessian-free state"};

/* What the program is, for telling its checkpoints from another's. */
static const char *program_model = "";

void mdl_checkpoint_set_model(const char *model) {
  program_model = model ? model : "";
}

/* A file written or read with a running CRC-32 of everything after the
 * magic. */
typedef struct {
  FILE *f;
  uLong crc;
} crc_file;

static int write_all(crc_file *c, const void *data, size_t bytes) {
  if (bytes == 0)
    return 0;
  c->crc = crc32(c->crc, data, (uInt)bytes);
  return fwrite(data, 1, bytes, c->f) == bytes ? 0 : -1;
}

static int read_all(crc_file *c, void *data, size_t bytes) {
  if (bytes == 0)
    return 0;
  if (fread(data, 1, bytes, c->f) != bytes)
    return -1;
  c->crc = crc32(c->crc, data, (uInt)bytes);
  return 0;
}

/* 0: θ; 1: θ and v; 2: φ and v. */
static int64_t state_kind(const void *velocity, int lookahead) {
  return velocity == NULL ? 0 : lookahead ? 2 : 1;
}

int mdl_checkpoint_save(const char *path, long t, const void *point,
                        const void *velocity, int lookahead, mdl_dtype type,
                        long n_params, const mdl_batcher *batches,
                        mdl_error *err) {
  return mdl_checkpoint_save_state(
      path, t, point, type, n_params, (int)state_kind(velocity, lookahead),
      velocity, velocity ? (size_t)n_params * mdl_dtype_size(type) : 0, batches,
      err);
}

int mdl_checkpoint_load(const char *path, long *t, void *point, void *velocity,
                        int lookahead, mdl_dtype type, long n_params,
                        mdl_batcher *batches, mdl_error *err) {
  return mdl_checkpoint_load_state(
      path, t, point, type, n_params, (int)state_kind(velocity, lookahead),
      velocity, velocity ? (size_t)n_params * mdl_dtype_size(type) : 0, batches,
      err);
}

/* fsync of the directory that holds path, so that a rename survives a
 * power loss as well as a crash. */
static void sync_directory(const char *path) {
  char dir[4096];
  mdl_directory_of(path, dir, sizeof dir);
  int fd = open(dir, O_RDONLY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

int mdl_checkpoint_save_state(const char *path, long t, const void *point,
                              mdl_dtype type, long n_params, int state,
                              const void *extra, size_t extra_bytes,
                              const mdl_batcher *batches, mdl_error *err) {
  /* The rename would replace whatever is there: only a regular file may
   * be, not a link (whose target would be left behind), a FIFO or a
   * device. */
  struct stat st;
  if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
    return mdl_fail(err,
                    "checkpoint %s is not a regular file (a link, a "
                    "directory or a device); give --checkpoint another path",
                    path);
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  crc_file c = {fopen(tmp, "wb"), crc32(0L, Z_NULL, 0)};
  if (!c.f)
    return mdl_fail(err, "cannot write checkpoint %s: %s", tmp,
                    strerror(errno));
  size_t element = mdl_dtype_size(type);
  int64_t model_length = (int64_t)strlen(program_model);
  int64_t fields[N_FIELDS] = {
      n_params,         (int64_t)element, state,        t,
      batches->n_cases, batches->batch,   batches->next};
  /* A generated sequence problem's sampler is only its rng: n_cases 0 and
   * perm NULL, which fwrite and fread must not be given even for 0 bytes. */
  int failed =
      fwrite(MAGIC, 1, sizeof MAGIC, c.f) != sizeof MAGIC ||
      write_all(&c, &model_length, sizeof model_length) ||
      write_all(&c, program_model, (size_t)model_length) ||
      write_all(&c, fields, sizeof fields) ||
      write_all(&c, batches->rng.state, sizeof batches->rng.state) ||
      write_all(&c, point, (size_t)n_params * element) ||
      (extra_bytes && write_all(&c, extra, extra_bytes)) ||
      (batches->n_cases > 0 &&
       write_all(&c, batches->perm, (size_t)batches->n_cases * sizeof(int)));
  uint64_t crc = c.crc;
  failed = failed || fwrite(&crc, 1, sizeof crc, c.f) != sizeof crc ||
           fflush(c.f) != 0 || fsync(fileno(c.f)) != 0;
  if (fclose(c.f) != 0 || failed) {
    int saved = errno;
    remove(tmp);
    return mdl_fail(err, "cannot write checkpoint %s: %s", tmp,
                    strerror(saved));
  }
  if (rename(tmp, path) != 0) {
    int saved = errno;
    remove(tmp);
    return mdl_fail(err, "cannot replace checkpoint %s: %s", path,
                    strerror(saved));
  }
  sync_directory(path);
  return 0;
}

/* Whether n elements of the type are all finite numbers. */
static int all_finite(const void *values, mdl_dtype type, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(mdl_get(values, type, i)))
      return 0;
  return 1;
}

/* The header up to the fields: the magic and the model's identity. */
static int read_identity(crc_file *c, const char *path, mdl_error *err) {
  char magic[8];
  if (fread(magic, 1, sizeof magic, c->f) != sizeof magic ||
      (memcmp(magic, MAGIC, sizeof magic) &&
       memcmp(magic, OLD_MAGIC, sizeof magic)))
    return mdl_fail(err, "%s is not an mdl checkpoint", path);
  if (memcmp(magic, OLD_MAGIC, sizeof magic) == 0)
    return mdl_fail(err,
                    "checkpoint %s is in an older format with no checksum "
                    "and no record of its program; start the run again",
                    path);
  int64_t length;
  char model[MAX_MODEL + 1];
  if (read_all(c, &length, sizeof length))
    return mdl_fail(err, "checkpoint %s is truncated", path);
  if (length < 0 || length > MAX_MODEL)
    return mdl_fail(err, "checkpoint %s is damaged (its header)", path);
  if (read_all(c, model, (size_t)length))
    return mdl_fail(err, "checkpoint %s is truncated", path);
  model[length] = '\0';
  if (strcmp(model, program_model) != 0)
    return mdl_fail(err,
                    "checkpoint %s belongs to another program: it was written "
                    "by [%s], this program is [%s]",
                    path, model, program_model);
  return 0;
}

int mdl_checkpoint_load_state(const char *path, long *t, void *point,
                              mdl_dtype type, long n_params, int kind,
                              void *extra, size_t extra_bytes,
                              mdl_batcher *batches, mdl_error *err) {
  crc_file c = {fopen(path, "rb"), crc32(0L, Z_NULL, 0)};
  if (!c.f)
    return mdl_fail(err, "cannot open checkpoint %s: %s", path,
                    strerror(errno));
  int64_t fields[N_FIELDS];
  uint64_t state[4], crc;
  size_t element = mdl_dtype_size(type);
  int rc = read_identity(&c, path, err);
  if (rc == 0 && (read_all(&c, fields, sizeof fields) ||
                  read_all(&c, state, sizeof state)))
    rc = mdl_fail(err, "checkpoint %s is truncated", path);
  else if (rc == 0 && (fields[0] != n_params || fields[1] != (int64_t)element))
    rc = mdl_fail(err,
                  "checkpoint %s holds %lld parameters of %lld bytes; this "
                  "program has %ld of %zu",
                  path, (long long)fields[0], (long long)fields[1], n_params,
                  element);
  else if (rc == 0 && fields[2] != kind)
    rc = mdl_fail(err,
                  "checkpoint %s holds %s, but this program keeps %s (was it "
                  "written by another method or --nag-form?)",
                  path,
                  STATE_NAMES[fields[2] >= 0 && fields[2] <= 3 ? fields[2] : 0],
                  STATE_NAMES[kind]);
  else if (rc == 0 &&
           (fields[4] != batches->n_cases || fields[5] != batches->batch ||
            fields[6] < 0 || fields[6] > fields[4] || fields[3] < 0))
    rc = mdl_fail(err,
                  "checkpoint %s was written for %lld cases in minibatches of "
                  "%lld; this run has %d and %d",
                  path, (long long)fields[4], (long long)fields[5],
                  batches->n_cases, batches->batch);
  else if (rc == 0 && (read_all(&c, point, (size_t)n_params * element) ||
                       (extra_bytes && read_all(&c, extra, extra_bytes)) ||
                       (batches->n_cases > 0 &&
                        read_all(&c, batches->perm,
                                 (size_t)batches->n_cases * sizeof(int)))))
    rc = mdl_fail(err, "checkpoint %s is truncated", path);
  /* The checksum, and nothing after it. */
  uLong computed = c.crc;
  if (rc == 0 && fread(&crc, 1, sizeof crc, c.f) != sizeof crc)
    rc = mdl_fail(err, "checkpoint %s is truncated", path);
  else if (rc == 0 && crc != computed)
    rc = mdl_fail(err,
                  "checkpoint %s is damaged: its checksum does not match "
                  "its contents",
                  path);
  else if (rc == 0 && fgetc(c.f) != EOF)
    rc = mdl_fail(err, "checkpoint %s is damaged: it has bytes after its end",
                  path);
  /* A sound file can still hold what no run should resume from. */
  if (rc == 0 && !all_finite(point, type, (size_t)n_params))
    rc = mdl_fail(err,
                  "checkpoint %s is damaged: its parameters hold a value "
                  "that is not a finite number",
                  path);
  if (rc == 0) {
    /* The permutation must be one, or the sampler would index out of the
     * data set. */
    char *seen = calloc((size_t)batches->n_cases, 1);
    for (int i = 0; seen && i < batches->n_cases && rc == 0; i++) {
      int p = batches->perm[i];
      if (p < 0 || p >= batches->n_cases || seen[p]++)
        rc =
            mdl_fail(err, "checkpoint %s is damaged (bad sampler state)", path);
    }
    free(seen);
  }
  fclose(c.f);
  if (rc == 0) {
    *t = (long)fields[3];
    batches->next = (int)fields[6];
    memcpy(batches->rng.state, state, sizeof state);
    batches->rng.has_spare = 0;
  }
  return rc;
}
