/* checkpoint.c — saving and restoring a training run; see
 * mdl/checkpoint.h for the format. */
#include "mdl/checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char MAGIC[8] = {'M', 'D', 'L', 'C', 'K', 'P', 'T', '1'};

enum { N_FIELDS = 7 };

static const char *const STATE_NAMES[] = {
    "parameters only", "parameters and velocity",
    "a look-ahead point and velocity", "parameters and a Hessian-free state"};

static int write_all(FILE *f, const void *data, size_t bytes) {
  return fwrite(data, 1, bytes, f) == bytes ? 0 : -1;
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

int mdl_checkpoint_save_state(const char *path, long t, const void *point,
                              mdl_dtype type, long n_params, int state,
                              const void *extra, size_t extra_bytes,
                              const mdl_batcher *batches, mdl_error *err) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  if (!f)
    return mdl_fail(err, "cannot write checkpoint %s: %s", tmp,
                    strerror(errno));
  size_t element = mdl_dtype_size(type);
  int64_t fields[N_FIELDS] = {
      n_params,         (int64_t)element, state,        t,
      batches->n_cases, batches->batch,   batches->next};
  /* A generated sequence problem's sampler is only its rng: n_cases 0 and
   * perm NULL, which fwrite and fread must not be given even for 0 bytes. */
  int failed =
      write_all(f, MAGIC, sizeof MAGIC) ||
      write_all(f, fields, sizeof fields) ||
      write_all(f, batches->rng.state, sizeof batches->rng.state) ||
      write_all(f, point, (size_t)n_params * element) ||
      (extra_bytes && write_all(f, extra, extra_bytes)) ||
      (batches->n_cases > 0 &&
       write_all(f, batches->perm, (size_t)batches->n_cases * sizeof(int)));
  if (fclose(f) != 0 || failed) {
    remove(tmp);
    return mdl_fail(err, "cannot write checkpoint %s: %s", tmp,
                    strerror(errno));
  }
  if (rename(tmp, path) != 0) {
    remove(tmp);
    return mdl_fail(err, "cannot replace checkpoint %s: %s", path,
                    strerror(errno));
  }
  return 0;
}

static int read_all(FILE *f, void *data, size_t bytes) {
  return fread(data, 1, bytes, f) == bytes ? 0 : -1;
}

int mdl_checkpoint_load_state(const char *path, long *t, void *point,
                              mdl_dtype type, long n_params, int kind,
                              void *extra, size_t extra_bytes,
                              mdl_batcher *batches, mdl_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return mdl_fail(err, "cannot open checkpoint %s: %s", path,
                    strerror(errno));
  char magic[8];
  int64_t fields[N_FIELDS];
  uint64_t state[4];
  int rc = 0;
  size_t element = mdl_dtype_size(type);
  if (read_all(f, magic, sizeof magic) || memcmp(magic, MAGIC, sizeof magic))
    rc = mdl_fail(err, "%s is not an mdl checkpoint", path);
  else if (read_all(f, fields, sizeof fields) ||
           read_all(f, state, sizeof state))
    rc = mdl_fail(err, "checkpoint %s is truncated", path);
  else if (fields[0] != n_params || fields[1] != (int64_t)element)
    rc = mdl_fail(err,
                  "checkpoint %s holds %lld parameters of %lld bytes; this "
                  "program has %ld of %zu",
                  path, (long long)fields[0], (long long)fields[1], n_params,
                  element);
  else if (fields[2] != kind)
    rc = mdl_fail(err,
                  "checkpoint %s holds %s, but this program keeps %s (was it "
                  "written by another method or --nag-form?)",
                  path,
                  STATE_NAMES[fields[2] >= 0 && fields[2] <= 3 ? fields[2] : 0],
                  STATE_NAMES[kind]);
  else if (fields[4] != batches->n_cases || fields[5] != batches->batch ||
           fields[6] < 0 || fields[6] > fields[4] || fields[3] < 0)
    rc = mdl_fail(err,
                  "checkpoint %s was written for %lld cases in minibatches of "
                  "%lld; this run has %d and %d",
                  path, (long long)fields[4], (long long)fields[5],
                  batches->n_cases, batches->batch);
  else if (read_all(f, point, (size_t)n_params * element) ||
           (extra_bytes && read_all(f, extra, extra_bytes)) ||
           (batches->n_cases > 0 &&
            read_all(f, batches->perm, (size_t)batches->n_cases * sizeof(int))))
    rc = mdl_fail(err, "checkpoint %s is truncated", path);
  if (rc == 0) {
    /* The permutation must be one, or the sampler would index out of the
     * data set. */
    char *seen = calloc((size_t)batches->n_cases, 1);
    for (int i = 0; seen && i < batches->n_cases && rc == 0; i++) {
      int c = batches->perm[i];
      if (c < 0 || c >= batches->n_cases || seen[c]++)
        rc =
            mdl_fail(err, "checkpoint %s is damaged (bad sampler state)", path);
    }
    free(seen);
  }
  fclose(f);
  if (rc == 0) {
    *t = (long)fields[3];
    batches->next = (int)fields[6];
    memcpy(batches->rng.state, state, sizeof state);
    batches->rng.has_spare = 0;
  }
  return rc;
}
