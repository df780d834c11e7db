/* data_idx.c — IDX files (MNIST, Fashion-MNIST); see mdl/data.h.
 *
 * An IDX file is a big-endian header followed by raw bytes: the magic
 * 0x00000803 (unsigned bytes, 3 dimensions) then the image count, rows and
 * columns for an image file; the magic 0x00000801 then the count for a label
 * file. A file that starts with gzip's first byte is inflated as it is read
 * (an IDX file starts with 0), so "x.gz" and its unpacked "x" both work.
 *
 * A header is only a claim, and nothing is allocated on its word alone: a
 * plain file must be exactly as long as its header and the data it declares,
 * which fstat tells before anything is read; a gzip stream's length is known
 * only by inflating it, so its data goes into buffers that grow as it
 * arrives, and the stream must end (its trailer checked) where the data does,
 * with nothing after it in the file. zlib's gzread would skip garbage after
 * the stream and join a second gzip member on silently, so the stream is
 * inflated here with inflate itself. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "mdl/data.h"

enum {
  IDX_IMAGE_MAGIC = 0x00000803,
  IDX_LABEL_MAGIC = 0x00000801,
  GZIP_FIRST_BYTE = 0x1f,
  GZIP_SECOND_BYTE = 0x8b,
  READ_CHUNK = 1 << 16,   /* bytes read, inflated or converted at a time */
  MAX_LABEL_CLASSES = 256 /* a label is one byte */
};

/* The reader holds every pixel as a 4-byte float; no real image set comes
 * near this many bytes of them, and a header claiming more is corrupt. */
static const double MAX_IDX_FLOAT_BYTES = 1e10;

/* An open IDX file and its header. */
typedef struct {
  const char *path;
  FILE *file;
  int gzip;       /* inflated as read */
  int stream_end; /* inflate has reached the end of the gzip stream */
  int has_size;   /* a plain regular file, of file_size bytes */
  uintmax_t file_size;
  z_stream z;        /* gzip only */
  unsigned char *in; /* READ_CHUNK bytes of compressed input, gzip only */
  size_t header_bytes;
  uint32_t count; /* images or labels in the file */
  uint32_t rows;  /* image files only */
  uint32_t cols;  /* image files only */
} idx_file;

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static int read_error(const idx_file *f, mdl_error *err) {
  return mdl_fail(err, "%s: read error: %s", f->path, strerror(errno));
}

/* Inflates up to n bytes into buf; see read_bytes. */
static int inflate_bytes(idx_file *f, unsigned char *buf, size_t n, size_t *got,
                         mdl_error *err) {
  while (*got < n && !f->stream_end) {
    if (f->z.avail_in == 0) {
      size_t r = fread(f->in, 1, READ_CHUNK, f->file);
      if (r == 0)
        return ferror(f->file) ? read_error(f, err) : 0; /* cut short */
      f->z.next_in = f->in;
      f->z.avail_in = (uInt)r;
    }
    size_t want = n - *got < READ_CHUNK ? n - *got : READ_CHUNK;
    f->z.next_out = buf + *got;
    f->z.avail_out = (uInt)want;
    int rc = inflate(&f->z, Z_NO_FLUSH);
    *got += want - f->z.avail_out;
    if (rc == Z_STREAM_END)
      f->stream_end = 1;
    else if (rc == Z_MEM_ERROR)
      return mdl_fail(err, "%s: out of memory inflating the gzip stream",
                      f->path);
    else if (rc != Z_OK && rc != Z_BUF_ERROR) /* BUF: needs more input */
      return mdl_fail(err, "%s: corrupt gzip data: %s", f->path,
                      f->z.msg ? f->z.msg : "inflate failed");
  }
  return 0;
}

/* Reads up to n bytes into buf, storing how many arrived in *got. A stream
 * that ends early (plain EOF, or a gzip stream cut short) is not an error
 * here: the caller reports it as truncation with the sizes it expected. */
static int read_bytes(idx_file *f, void *buf, size_t n, size_t *got,
                      mdl_error *err) {
  *got = 0;
  if (f->gzip)
    return inflate_bytes(f, buf, n, got, err);
  *got = fread(buf, 1, n, f->file);
  return *got < n && ferror(f->file) ? read_error(f, err) : 0;
}

static uint32_t big_endian_u32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         (uint32_t)p[3];
}

/* Opens path, gzip or plain, and reads its header: the magic, then n_dims
 * sizes. */
static int idx_open(idx_file *f, const char *path, uint32_t magic,
                    mdl_error *err) {
  int is_images = magic == IDX_IMAGE_MAGIC;
  memset(f, 0, sizeof *f);
  f->path = path;
  f->header_bytes = is_images ? 16 : 8;
  f->file = fopen(path, "rb");
  if (!f->file)
    return mdl_fail(err, "cannot open %s: %s", path, strerror(errno));
  int first = fgetc(f->file);
  if (first == GZIP_FIRST_BYTE) {
    ungetc(first, f->file);
    f->in = mdl_alloc(READ_CHUNK);
    if (inflateInit2(&f->z, 16 + MAX_WBITS) != Z_OK) /* 16: gzip only */
      return mdl_fail(err, "%s: cannot start inflating: out of memory", path);
    f->gzip = 1;
  } else {
    if (first != EOF)
      ungetc(first, f->file);
    struct stat st;
    f->has_size = fstat(fileno(f->file), &st) == 0 && S_ISREG(st.st_mode);
    f->file_size = f->has_size ? (uintmax_t)st.st_size : 0;
  }
  unsigned char header[16];
  size_t got;
  if (read_bytes(f, header, f->header_bytes, &got, err) < 0)
    return -1;
  if (got >= 4 && big_endian_u32(header) != magic)
    return mdl_fail(err,
                    "%s: not an IDX %s file: magic 0x%08x, expected 0x%08x",
                    path, is_images ? "image" : "label",
                    (unsigned)big_endian_u32(header), (unsigned)magic);
  if (got < f->header_bytes)
    return mdl_fail(
        err, "%s: truncated: expected a %zu-byte IDX header, found %zu bytes",
        path, f->header_bytes, got);
  f->count = big_endian_u32(header + 4);
  if (is_images) {
    f->rows = big_endian_u32(header + 8);
    f->cols = big_endian_u32(header + 12);
  }
  return 0;
}

static void idx_close(idx_file *f) {
  if (f->gzip)
    inflateEnd(&f->z);
  if (f->file)
    fclose(f->file);
  free(f->in);
  memset(f, 0, sizeof *f);
}

/* What the header declares, for messages: " (the header declares 3 images
 * of 2 × 2)", or nothing for labels. */
static const char *declared(const idx_file *f, char *text, size_t size) {
  if (f->header_bytes == 16)
    snprintf(text, size, " (the header declares %u images of %u × %u)",
             (unsigned)f->count, (unsigned)f->rows, (unsigned)f->cols);
  else
    text[0] = '\0';
  return text;
}

/* Before anything is allocated on the header's word: a plain file must hold
 * its header and exactly the payload bytes the header declares. A gzip
 * stream is checked as it is inflated (read_payload, expect_end). */
static int check_file_size(const idx_file *f, uintmax_t payload,
                           const char *what, mdl_error *err) {
  if (!f->has_size)
    return 0;
  uintmax_t held = f->file_size - f->header_bytes; /* the header was read */
  char text[96];
  if (held < payload)
    return mdl_fail(
        err, "%s: truncated: expected %ju bytes of %s data, found %ju%s",
        f->path, payload, what, held, declared(f, text, sizeof text));
  if (held > payload)
    return mdl_fail(err,
                    "%s: %ju byte%s of trailing data after the %ju bytes of "
                    "%s data%s",
                    f->path, held - payload, held - payload == 1 ? "" : "s",
                    payload, what, declared(f, text, sizeof text));
  return 0;
}

/* After the payload the data must end: a plain file at its end, a gzip
 * stream at its end (inflate checks the trailer's CRC and length), with
 * nothing after the stream in the file. */
static int expect_end(idx_file *f, uintmax_t payload, const char *what,
                      mdl_error *err) {
  unsigned char probe;
  size_t got;
  if (read_bytes(f, &probe, 1, &got, err) < 0)
    return -1;
  char text[96];
  if (got > 0)
    return mdl_fail(err, "%s: trailing data after the %ju bytes of %s data%s",
                    f->path, payload, what, declared(f, text, sizeof text));
  if (!f->gzip)
    return 0;
  if (!f->stream_end)
    return mdl_fail(err,
                    "%s: truncated: the gzip stream ends early (its data is "
                    "whole, its trailer is missing)",
                    f->path);
  /* What the file holds after the stream: input inflate did not take, and
   * whatever is still unread. */
  unsigned char head[2];
  size_t head_n = 0;
  uintmax_t after = 0;
  const unsigned char *p = f->z.next_in;
  size_t n = f->z.avail_in;
  for (;;) {
    for (size_t i = 0; i < n && head_n < 2; i++)
      head[head_n++] = p[i];
    after += n;
    n = fread(f->in, 1, READ_CHUNK, f->file);
    if (n == 0)
      break;
    p = f->in;
  }
  if (ferror(f->file))
    return read_error(f, err);
  if (after == 0)
    return 0;
  if (head_n == 2 && head[0] == GZIP_FIRST_BYTE && head[1] == GZIP_SECOND_BYTE)
    return mdl_fail(err,
                    "%s: %ju byte%s of trailing data after the gzip stream (a "
                    "second gzip member; mdl reads files of one)",
                    f->path, after, after == 1 ? "" : "s");
  return mdl_fail(err, "%s: %ju byte%s of trailing data after the gzip stream",
                  f->path, after, after == 1 ? "" : "s");
}

/* Makes room for `needed` of at most `limit` elements of `size` bytes in
 * *buffer: all `limit` at once when the file's size vouched for its header,
 * otherwise doubling as data arrives, so that a gzip header's claim alone
 * never allocates. */
static int reserve(const idx_file *f, void **buffer, size_t *capacity,
                   size_t needed, size_t limit, size_t size, mdl_error *err) {
  if (needed <= *capacity)
    return 0;
  size_t grown = f->has_size ? limit : 2 * *capacity;
  if (grown < needed)
    grown = needed;
  if (grown < READ_CHUNK)
    grown = READ_CHUNK;
  if (grown > limit)
    grown = limit;
  void *p = mdl_realloc_for(f->path, *buffer, grown * size, err);
  if (!p)
    return -1;
  *buffer = p;
  *capacity = grown;
  return 0;
}

/* Reads the payload of `payload` bytes a chunk at a time. The first n_keep
 * go to *kept (allocated here, see reserve), as floats scaled by 1/255 when
 * as_floats is set, else as bytes; the rest are read and dropped, to check
 * that the file holds no more and no less than its header says (a plain file
 * whose size vouched for it is left unread past n_keep). */
static int read_payload(idx_file *f, size_t n_keep, size_t payload,
                        const char *what, int as_floats, void **kept,
                        mdl_error *err) {
  unsigned char *chunk = mdl_alloc(READ_CHUNK);
  size_t to_read = f->has_size ? n_keep : payload;
  size_t size = as_floats ? sizeof(float) : 1;
  size_t capacity = 0, done = 0;
  int rc = 0;
  *kept = NULL;
  while (rc == 0 && done < to_read) {
    size_t want = to_read - done < READ_CHUNK ? to_read - done : READ_CHUNK;
    size_t got;
    rc = read_bytes(f, chunk, want, &got, err);
    size_t keep = done >= n_keep        ? 0
                  : got < n_keep - done ? got
                                        : n_keep - done;
    if (rc == 0 && keep > 0)
      rc = reserve(f, kept, &capacity, done + keep, n_keep, size, err);
    for (size_t i = 0; rc == 0 && i < keep; i++) {
      if (as_floats)
        ((float *)*kept)[done + i] = chunk[i] / 255.0f;
      else
        ((unsigned char *)*kept)[done + i] = chunk[i];
    }
    done += got;
    char text[96];
    if (rc == 0 && got < want)
      rc = mdl_fail(
          err, "%s: truncated: expected %zu bytes of %s data, found %zu%s",
          f->path, payload, what, done, declared(f, text, sizeof text));
  }
  free(chunk);
  if (rc == 0 && to_read == payload)
    rc = expect_end(f, payload, what, err);
  return rc;
}

/* Rejects sizes that are empty, do not fit our int fields, are absurd as
 * floats in memory, or (for a plain file) differ from the file's size. */
static int check_image_dims(const idx_file *f, mdl_error *err) {
  uint64_t pixels = (uint64_t)f->rows * f->cols; /* < 2^64: no overflow */
  if (f->count == 0 || pixels == 0)
    return mdl_fail(err, "%s: IDX file holds no pixels (%u images of %u × %u)",
                    f->path, (unsigned)f->count, (unsigned)f->rows,
                    (unsigned)f->cols);
  double float_bytes = (double)pixels * f->count * sizeof(float);
  if (pixels > INT_MAX || f->count > INT_MAX ||
      float_bytes > MAX_IDX_FLOAT_BYTES)
    return mdl_fail(err,
                    "%s: implausible IDX dimensions %u × %u × %u: %.3g GB as "
                    "floats (corrupt header?)",
                    f->path, (unsigned)f->count, (unsigned)f->rows,
                    (unsigned)f->cols, float_bytes / 1e9);
  return check_file_size(f, pixels * f->count, "pixel", err);
}

int mdl_idx_image_shape(const char *path, int *n_images, int *n_pixels,
                        mdl_error *err) {
  idx_file f;
  int rc = idx_open(&f, path, IDX_IMAGE_MAGIC, err);
  if (rc == 0)
    rc = check_image_dims(&f, err);
  /* A gzip stream's length is known only by inflating it: through to its
   * end, keeping nothing. */
  if (rc == 0 && f.gzip) {
    void *none;
    rc = read_payload(&f, 0, (size_t)f.count * f.rows * f.cols, "pixel", 0,
                      &none, err);
  }
  if (rc == 0) {
    *n_images = (int)f.count;
    *n_pixels = (int)(f.rows * f.cols);
  }
  idx_close(&f);
  return rc;
}

int mdl_idx_label_range(const char *path, int *n_labels, int *max_label,
                        mdl_error *err) {
  idx_file f;
  void *labels = NULL;
  int rc = idx_open(&f, path, IDX_LABEL_MAGIC, err);
  if (rc == 0 && f.count > INT_MAX)
    rc = mdl_fail(err, "%s: implausible IDX label count %u (corrupt header?)",
                  path, (unsigned)f.count);
  if (rc == 0)
    rc = check_file_size(&f, f.count, "label", err);
  if (rc == 0)
    rc = read_payload(&f, f.count, f.count, "label", 0, &labels, err);
  if (rc == 0) {
    *n_labels = (int)f.count;
    *max_label = 0;
    for (uint32_t i = 0; i < f.count; i++)
      if (((unsigned char *)labels)[i] > *max_label)
        *max_label = ((unsigned char *)labels)[i];
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

/* One-hot targets of the first n_cases labels (read from path). */
static int one_hot(const char *path, const unsigned char *labels, int n_cases,
                   int n_classes, float **targets, mdl_error *err) {
  size_t n = (size_t)n_cases * (size_t)n_classes;
  *targets = mdl_alloc_for(path, n * sizeof(float), err);
  if (!*targets)
    return -1;
  memset(*targets, 0, n * sizeof(float));
  for (int i = 0; i < n_cases; i++)
    (*targets)[(size_t)i * (size_t)n_classes + labels[i]] = 1.0f;
  return 0;
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
    rc = check_file_size(&f, f.count, "label", err);
  void *kept = NULL;
  if (rc == 0)
    rc = read_payload(&f, f.count, f.count, "label", 0, &kept, err);
  *labels = kept; /* the caller frees it, whatever happened */
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
    size_t pixels = (size_t)images.rows * images.cols;
    void *inputs = NULL;
    rc = read_payload(&images, (size_t)n_cases * pixels,
                      (size_t)images.count * pixels, "pixel", 1, &inputs, err);
    ds->inputs = inputs;
  }
  if (rc == 0 && labels) {
    ds->n_targets = n_classes;
    rc = one_hot(labels_path, labels, n_cases, n_classes, &ds->targets, err);
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
