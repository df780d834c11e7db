/* data_idx.c — IDX files (MNIST, Fashion-MNIST); see mdl/data.h.
 *
 * An IDX file is a big-endian header followed by raw bytes: the magic
 * 0x00000803 (unsigned bytes, 3 dimensions) then the image count, rows and
 * columns for an image file; the magic 0x00000801 then the count for a label
 * file. Everything is read through zlib's gzread, which passes plain files
 * through unchanged, so "x.gz" and its unpacked "x" both work. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mdl/data.h"

enum {
  IDX_IMAGE_MAGIC = 0x00000803,
  IDX_LABEL_MAGIC = 0x00000801,
  READ_CHUNK = 1 << 16,   /* bytes converted at a time */
  GZREAD_MAX = 1 << 30,   /* gzread takes an unsigned count, returns an int */
  MAX_LABEL_CLASSES = 256 /* a label is one byte */
};

/* No real image set comes near this; a header claiming more is corrupt. */
static const double MAX_IDX_BYTES = 1e10;

/* An open IDX file and its header. */
typedef struct {
  const char *path;
  gzFile gz;
  uint32_t count; /* images or labels in the file */
  uint32_t rows;  /* image files only */
  uint32_t cols;  /* image files only */
} idx_file;

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* Reads up to n bytes into buf, storing how many arrived in *got. A stream
 * that ends early (plain EOF, or a gzip stream cut short) is not an error
 * here: the caller reports it as truncation with the sizes it expected. */
static int read_bytes(idx_file *f, void *buf, size_t n, size_t *got,
                      mdl_error *err) {
  *got = 0;
  while (*got < n) {
    size_t want = n - *got < GZREAD_MAX ? n - *got : GZREAD_MAX;
    int r = gzread(f->gz, (char *)buf + *got, (unsigned)want);
    if (r > 0) {
      *got += (size_t)r;
      continue;
    }
    if (r == 0)
      break;
    int errnum;
    const char *message = gzerror(f->gz, &errnum);
    if (errnum == Z_BUF_ERROR) /* zlib's "unexpected end of file" */
      break;
    /* zlib's message may already start with the path it was opened on. */
    size_t n = strlen(f->path);
    if (strncmp(message, f->path, n) == 0 && strncmp(message + n, ": ", 2) == 0)
      message += n + 2;
    return mdl_fail(err, "%s: read error: %s", f->path,
                    errnum == Z_ERRNO ? strerror(errno) : message);
  }
  return 0;
}

static uint32_t big_endian_u32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         (uint32_t)p[3];
}

/* Opens path and reads its header: the magic, then n_dims sizes. */
static int idx_open(idx_file *f, const char *path, uint32_t magic,
                    mdl_error *err) {
  int is_images = magic == IDX_IMAGE_MAGIC;
  size_t header_bytes = is_images ? 16 : 8;
  memset(f, 0, sizeof *f);
  f->path = path;
  errno = 0;
  f->gz = gzopen(path, "rb");
  if (!f->gz)
    return mdl_fail(err, "cannot open %s: %s", path,
                    errno ? strerror(errno) : "out of memory");
  unsigned char header[16];
  size_t got;
  if (read_bytes(f, header, header_bytes, &got, err) < 0)
    return -1;
  if (got >= 4 && big_endian_u32(header) != magic)
    return mdl_fail(err,
                    "%s: not an IDX %s file: magic 0x%08x, expected 0x%08x",
                    path, is_images ? "image" : "label",
                    (unsigned)big_endian_u32(header), (unsigned)magic);
  if (got < header_bytes)
    return mdl_fail(
        err, "%s: truncated: expected a %zu-byte IDX header, found %zu bytes",
        path, header_bytes, got);
  f->count = big_endian_u32(header + 4);
  if (is_images) {
    f->rows = big_endian_u32(header + 8);
    f->cols = big_endian_u32(header + 12);
  }
  return 0;
}

static void idx_close(idx_file *f) {
  if (f->gz)
    gzclose(f->gz);
  f->gz = NULL;
}

/* Rejects sizes that are empty, do not fit our int fields, or are absurd. */
static int check_image_dims(const idx_file *f, mdl_error *err) {
  uint64_t pixels = (uint64_t)f->rows * f->cols; /* < 2^64: no overflow */
  if (f->count == 0 || pixels == 0)
    return mdl_fail(err, "%s: IDX file holds no pixels (%u images of %u × %u)",
                    f->path, (unsigned)f->count, (unsigned)f->rows,
                    (unsigned)f->cols);
  if (pixels > INT_MAX || f->count > INT_MAX ||
      (double)pixels * f->count > MAX_IDX_BYTES)
    return mdl_fail(
        err, "%s: implausible IDX dimensions %u × %u × %u (corrupt header?)",
        f->path, (unsigned)f->count, (unsigned)f->rows, (unsigned)f->cols);
  return 0;
}

int mdl_idx_image_shape(const char *path, int *n_images, int *n_pixels,
                        mdl_error *err) {
  idx_file f;
  int rc = idx_open(&f, path, IDX_IMAGE_MAGIC, err);
  if (rc == 0)
    rc = check_image_dims(&f, err);
  if (rc == 0) {
    *n_images = (int)f.count;
    *n_pixels = (int)(f.rows * f.cols);
  }
  idx_close(&f);
  return rc;
}

/* Reads n_cases × n_inputs pixel bytes, scaling each by 1/255 into inputs. */
static int read_pixels(idx_file *f, float *inputs, size_t n_values,
                       mdl_error *err) {
  unsigned char *chunk = mdl_alloc(READ_CHUNK);
  size_t done = 0;
  int rc = 0;
  while (rc == 0 && done < n_values) {
    size_t want = n_values - done < READ_CHUNK ? n_values - done : READ_CHUNK;
    size_t got;
    rc = read_bytes(f, chunk, want, &got, err);
    for (size_t i = 0; rc == 0 && i < got; i++)
      inputs[done + i] = chunk[i] / 255.0f;
    done += got;
    if (rc == 0 && got < want)
      rc = mdl_fail(
          err, "%s: truncated: expected %zu bytes of pixel data, found %zu",
          f->path, n_values, done);
  }
  free(chunk);
  return rc;
}

/* Reads every label of the file (they are small) into *labels. */
static int read_labels(idx_file *f, unsigned char **labels, mdl_error *err) {
  *labels = mdl_alloc(f->count);
  size_t got;
  if (read_bytes(f, *labels, f->count, &got, err) < 0)
    return -1;
  if (got < f->count)
    return mdl_fail(err,
                    "%s: truncated: expected %u bytes of label data, found %zu",
                    f->path, (unsigned)f->count, got);
  return 0;
}

int mdl_idx_label_range(const char *path, int *n_labels, int *max_label,
                        mdl_error *err) {
  idx_file f;
  unsigned char *labels = NULL;
  int rc = idx_open(&f, path, IDX_LABEL_MAGIC, err);
  if (rc == 0 && f.count > INT_MAX)
    rc = mdl_fail(err, "%s: implausible IDX label count %u (corrupt header?)",
                  path, (unsigned)f.count);
  if (rc == 0)
    rc = read_labels(&f, &labels, err);
  if (rc == 0) {
    *n_labels = (int)f.count;
    *max_label = 0;
    for (uint32_t i = 0; i < f.count; i++)
      if (labels[i] > *max_label)
        *max_label = labels[i];
  }
  free(labels);
  idx_close(&f);
  return rc;
}

/* Settles the number of classes: max label + 1 when asked for 0, otherwise
 * checks that every label is below the given number. */
static int resolve_classes(const idx_file *f, const unsigned char *labels,
                           int *n_classes, mdl_error *err) {
  if (*n_classes < 0 || *n_classes > MAX_LABEL_CLASSES)
    return mdl_fail(err, "%s: number of classes %d is out of range (0 to %d)",
                    f->path, *n_classes, MAX_LABEL_CLASSES);
  int max_label = 0;
  for (uint32_t i = 0; i < f->count; i++) {
    if (*n_classes > 0 && labels[i] >= *n_classes)
      return mdl_fail(
          err, "%s: label %d of case %u is out of range (%d class%s)", f->path,
          labels[i], (unsigned)i, *n_classes, *n_classes == 1 ? "" : "es");
    if (labels[i] > max_label)
      max_label = labels[i];
  }
  if (*n_classes == 0)
    *n_classes = max_label + 1;
  return 0;
}

static float *one_hot(const unsigned char *labels, int n_cases, int n_classes) {
  float *targets =
      mdl_zalloc((size_t)n_cases * (size_t)n_classes * sizeof(float));
  for (int i = 0; i < n_cases; i++)
    targets[(size_t)i * (size_t)n_classes + labels[i]] = 1.0f;
  return targets;
}

/* Opens the label file and checks it against the images; fills *labels and
 * *n_classes. */
static int load_labels(const idx_file *images, const char *labels_path,
                       unsigned char **labels, int *n_classes, mdl_error *err) {
  idx_file f;
  int rc = idx_open(&f, labels_path, IDX_LABEL_MAGIC, err);
  if (rc == 0 && f.count != images->count)
    rc = mdl_fail(
        err,
        "image and label counts differ: %s holds %u image%s, %s holds %u "
        "label%s",
        images->path, (unsigned)images->count, mdl_plural(images->count),
        labels_path, (unsigned)f.count, mdl_plural(f.count));
  if (rc == 0)
    rc = read_labels(&f, labels, err);
  if (rc == 0)
    rc = resolve_classes(&f, *labels, n_classes, err);
  idx_close(&f);
  return rc;
}

int mdl_data_idx(mdl_dataset *ds, const char *images_path,
                 const char *labels_path, int n_classes, int n_cases,
                 mdl_error *err) {
  memset(ds, 0, sizeof *ds);
  idx_file images;
  unsigned char *labels = NULL;
  int rc = idx_open(&images, images_path, IDX_IMAGE_MAGIC, err);
  if (rc == 0)
    rc = check_image_dims(&images, err);
  if (rc == 0 && n_cases > (int64_t)images.count)
    rc = mdl_fail(err, "%s: asked for %d cases but the file holds only %u",
                  images_path, n_cases, (unsigned)images.count);
  if (rc == 0 && n_cases <= 0)
    n_cases = (int)images.count;
  /* Labels first: a bad label file then fails before the slow pixel read. */
  if (rc == 0 && labels_path)
    rc = load_labels(&images, labels_path, &labels, &n_classes, err);
  if (rc == 0) {
    ds->n_cases = n_cases;
    ds->n_inputs = (int)(images.rows * images.cols);
    ds->inputs =
        mdl_alloc((size_t)n_cases * (size_t)ds->n_inputs * sizeof(float));
    rc = read_pixels(&images, ds->inputs,
                     (size_t)n_cases * (size_t)ds->n_inputs, err);
  }
  if (rc == 0 && labels) {
    ds->n_targets = n_classes;
    ds->targets = one_hot(labels, n_cases, n_classes);
  }
  if (rc == 0)
    snprintf(ds->source, sizeof ds->source, "idx %s (%d × %d)",
             base_name(images_path), ds->n_cases, ds->n_inputs);
  idx_close(&images);
  free(labels);
  if (rc < 0)
    mdl_data_free(ds);
  return rc;
}
