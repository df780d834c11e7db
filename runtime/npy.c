/* npy.c — NumPy .npy files; see mdl/npy.h.
 *
 * The format (numpy.lib.format): the magic "\x93NUMPY", a major and a minor
 * version byte, the length of the header (2 bytes little-endian in version
 * 1.0, 4 bytes in 2.0 and 3.0), then the header itself: a Python dict
 * literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and ended by '\n'. The raw array data follows.
 *
 * We read versions 1.0, 2.0 and 3.0 (3.0 only differs by allowing UTF-8 in
 * the header, which our dtypes never use) and always write 1.0, padding the
 * header so that the data starts at a multiple of 64 bytes, as NumPy does. */
#include "mdl/npy.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The data is read and written as raw little-endian bytes. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "mdl's .npy reader and writer assume a little-endian host"
#endif

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* Headers longer than this are not written by NumPy for 1-D or 2-D arrays;
 * anything bigger is a corrupt length field. */
enum { MAX_HEADER_BYTES = 1 << 16, DATA_ALIGNMENT = 64 };

/* What a body of unknown size (a pipe's) is first given room for. */
enum { FIRST_READ_BYTES = 1 << 20 };

/* ---------------------------------------------------------------- parsing */

/* What the header dict says. */
typedef struct {
  char descr[32];
  int has_descr, has_fortran_order, has_shape;
  int fortran_order;
  int ndim;
  long shape[3]; /* enough to recognise (and reject) 3-D arrays */
} npy_header;

/* A cursor over the header text, with the file name for error messages. */
typedef struct {
  const char *p;
  const char *path;
  mdl_error *err;
} header_cursor;

static void skip_space(header_cursor *c) {
  while (*c->p && isspace((unsigned char)*c->p))
    c->p++;
}

static int expect_char(header_cursor *c, char want) {
  skip_space(c);
  if (*c->p != want)
    return mdl_fail(c->err,
                    "%s: malformed .npy header: expected '%c' near \"%.20s\"",
                    c->path, want, c->p);
  c->p++;
  return 0;
}

/* Reads a quoted Python string ('...' or "...") into out. */
static int parse_string(header_cursor *c, char *out, size_t size) {
  skip_space(c);
  char quote = *c->p;
  if (quote != '\'' && quote != '"')
    return mdl_fail(
        c->err, "%s: malformed .npy header: expected a string near \"%.20s\"",
        c->path, c->p);
  const char *start = ++c->p;
  while (*c->p && *c->p != quote)
    c->p++;
  if (!*c->p)
    return mdl_fail(c->err, "%s: malformed .npy header: unterminated string",
                    c->path);
  size_t len = (size_t)(c->p - start);
  if (len >= size)
    return mdl_fail(
        c->err, "%s: malformed .npy header: string \"%.20s...\" is too long",
        c->path, start);
  memcpy(out, start, len);
  out[len] = '\0';
  c->p++;
  return 0;
}

static int parse_bool(header_cursor *c, int *out) {
  skip_space(c);
  if (strncmp(c->p, "True", 4) == 0) {
    *out = 1;
    c->p += 4;
  } else if (strncmp(c->p, "False", 5) == 0) {
    *out = 0;
    c->p += 5;
  } else {
    return mdl_fail(
        c->err,
        "%s: malformed .npy header: expected True or False near \"%.20s\"",
        c->path, c->p);
  }
  return 0;
}

/* Reads a tuple of non-negative integers: (), (N,), (N, M), (N, M, K), ... */
static int parse_shape(header_cursor *c, npy_header *h) {
  if (expect_char(c, '(') < 0)
    return -1;
  h->ndim = 0;
  for (;;) {
    skip_space(c);
    if (*c->p == ')')
      break;
    if (!isdigit((unsigned char)*c->p))
      return mdl_fail(c->err,
                      "%s: malformed .npy header: bad shape near \"%.20s\"",
                      c->path, c->p);
    errno = 0;
    char *end;
    long value = strtol(c->p, &end, 10);
    if (errno == ERANGE)
      return mdl_fail(c->err, "%s: .npy shape dimension %.20s is too large",
                      c->path, c->p);
    c->p = end;
    /* Python writes 2-D shapes as (2L, 3L) in some old NumPy versions. */
    if (*c->p == 'L')
      c->p++;
    if (h->ndim < 3)
      h->shape[h->ndim] = value;
    h->ndim++;
    skip_space(c);
    if (*c->p == ',')
      c->p++;
    else if (*c->p != ')')
      return mdl_fail(c->err,
                      "%s: malformed .npy header: bad shape near \"%.20s\"",
                      c->path, c->p);
  }
  c->p++;
  return 0;
}

static int parse_entry(header_cursor *c, npy_header *h) {
  char key[32];
  if (parse_string(c, key, sizeof key) < 0 || expect_char(c, ':') < 0)
    return -1;
  if (strcmp(key, "descr") == 0) {
    h->has_descr = 1;
    return parse_string(c, h->descr, sizeof h->descr);
  }
  if (strcmp(key, "fortran_order") == 0) {
    h->has_fortran_order = 1;
    return parse_bool(c, &h->fortran_order);
  }
  if (strcmp(key, "shape") == 0) {
    h->has_shape = 1;
    return parse_shape(c, h);
  }
  return mdl_fail(c->err, "%s: .npy header has an unknown key '%s'", c->path,
                  key);
}

/* Parses the dict: '{' then key: value pairs separated by commas (a trailing
 * comma is allowed), then '}'. */
static int parse_header(const char *text, const char *path, npy_header *h,
                        mdl_error *err) {
  header_cursor c = {text, path, err};
  memset(h, 0, sizeof *h);
  if (expect_char(&c, '{') < 0)
    return -1;
  for (;;) {
    skip_space(&c);
    if (*c.p == '}')
      break;
    if (parse_entry(&c, h) < 0)
      return -1;
    skip_space(&c);
    if (*c.p == ',')
      c.p++;
    else if (*c.p != '}')
      return mdl_fail(
          err, "%s: malformed .npy header: expected ',' or '}' near \"%.20s\"",
          path, c.p);
  }
  if (!h->has_descr || !h->has_fortran_order || !h->has_shape)
    return mdl_fail(err, "%s: .npy header lacks '%s'", path,
                    !h->has_descr           ? "descr"
                    : !h->has_fortran_order ? "fortran_order"
                                            : "shape");
  return 0;
}

/* ------------------------------------------------------------- validation */

static int kind_of_descr(const char *descr, mdl_npy_kind *kind) {
  if (strcmp(descr, "<f4") == 0)
    *kind = MDL_NPY_F32;
  else if (strcmp(descr, "<f8") == 0)
    *kind = MDL_NPY_F64;
  else if (strcmp(descr, "|u1") == 0 || strcmp(descr, "<u1") == 0 ||
           strcmp(descr, ">u1") == 0 || strcmp(descr, "u1") == 0)
    *kind = MDL_NPY_U8; /* byte order means nothing for single bytes */
  else
    return -1;
  return 0;
}

static size_t kind_size(mdl_npy_kind kind) {
  return kind == MDL_NPY_U8 ? 1 : kind == MDL_NPY_F32 ? 4 : 8;
}

/* Checks the header and fills the shape and kind of out. */
static int check_header(const npy_header *h, const char *path, mdl_npy *out,
                        mdl_error *err) {
  if (kind_of_descr(h->descr, &out->kind) < 0)
    return mdl_fail(
        err,
        "%s: unsupported .npy dtype '%s' (mdl reads '<f4', '<f8' and '|u1')",
        path, h->descr);
  if (h->fortran_order)
    return mdl_fail(err,
                    "%s: .npy array is in Fortran order; save it in C order "
                    "(numpy.ascontiguousarray)",
                    path);
  if (h->ndim < 1 || h->ndim > 2)
    return mdl_fail(
        err, "%s: .npy array has %d dimensions; mdl reads 1-D and 2-D arrays",
        path, h->ndim);
  out->ndim = h->ndim;
  out->rows = h->shape[0];
  out->cols = h->ndim == 2 ? h->shape[1] : 1;
  return 0;
}

static const char *kind_descr(mdl_npy_kind kind) {
  return kind == MDL_NPY_U8 ? "|u1" : kind == MDL_NPY_F32 ? "<f4" : "<f8";
}

/* "(3, 4) of '<f4'" or "(7,) of '<f8'": the shape as NumPy prints it, and
 * the type, for messages about the size of the data. */
static void describe_array(const mdl_npy *a, char *text, size_t size) {
  if (a->ndim == 2)
    snprintf(text, size, "(%ld, %ld) of '%s'", a->rows, a->cols,
             kind_descr(a->kind));
  else
    snprintf(text, size, "(%ld,) of '%s'", a->rows, kind_descr(a->kind));
}

/* rows * cols * element size, or -1 when it does not fit the address space. */
static int data_bytes(const mdl_npy *a, const char *path, size_t *bytes,
                      mdl_error *err) {
  size_t size = kind_size(a->kind);
  size_t rows = (size_t)a->rows, cols = (size_t)a->cols;
  if (cols != 0 && rows > SIZE_MAX / size / cols)
    return mdl_fail(err, "%s: .npy shape (%ld, %ld) is too large", path,
                    a->rows, a->cols);
  *bytes = rows * cols * size;
  return 0;
}

/* A header is only a claim: before anything is allocated for the body, a
 * regular file must hold exactly the bytes its shape declares after the
 * header. A pipe has no size to ask; read_body checks it as data arrives. */
static int check_file_size(FILE *f, const char *path, size_t data_offset,
                           const mdl_npy *a, size_t bytes, int *size_known,
                           mdl_error *err) {
  struct stat st;
  *size_known = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
  if (!*size_known)
    return 0;
  uintmax_t size = (uintmax_t)st.st_size;
  uintmax_t held = size > data_offset ? size - data_offset : 0;
  char array[96];
  describe_array(a, array, sizeof array);
  if (held < bytes)
    return mdl_fail(err,
                    "%s: file is truncated: expected %zu bytes of data, "
                    "found %ju (shape %s)",
                    path, bytes, held, array);
  if (held > bytes)
    return mdl_fail(err,
                    "%s: %ju byte%s of trailing data after the array (shape "
                    "%s: %zu bytes)",
                    path, held - bytes, held - bytes == 1 ? "" : "s", array,
                    bytes);
  return 0;
}

/* ---------------------------------------------------------------- reading */

/* Reads the preamble and header text; leaves f at the start of the data,
 * data_offset bytes into the file. */
static int read_header_text(FILE *f, const char *path, char **text,
                            size_t *data_offset, mdl_error *err) {
  unsigned char pre[12];
  size_t got = fread(pre, 1, 10, f);
  if (got < 10 || memcmp(pre, npy_magic, sizeof npy_magic) != 0)
    return mdl_fail(err, "%s: not a .npy file (bad magic)", path);
  int major = pre[6];
  unsigned long len;
  if (major == 1) {
    len = pre[8] | (unsigned long)pre[9] << 8;
    *data_offset = 10 + len;
  } else if (major == 2 || major == 3) {
    if (fread(pre + 10, 1, 2, f) < 2)
      return mdl_fail(err, "%s: .npy header is truncated", path);
    len = pre[8] | (unsigned long)pre[9] << 8 | (unsigned long)pre[10] << 16 |
          (unsigned long)pre[11] << 24;
    *data_offset = 12 + len;
  } else {
    return mdl_fail(err, "%s: unsupported .npy format version %d.%d", path,
                    major, pre[7]);
  }
  if (len > MAX_HEADER_BYTES)
    return mdl_fail(err, "%s: .npy header length %lu is implausible", path,
                    len);
  *text = mdl_alloc(len + 1);
  if (fread(*text, 1, len, f) < len) {
    free(*text);
    *text = NULL;
    return mdl_fail(err, "%s: .npy header is truncated", path);
  }
  (*text)[len] = '\0';
  return 0;
}

/* Reads the body, then makes sure nothing follows it. The buffer takes the
 * header's word for its size only when the file's size vouched for it
 * (size_known); from a pipe it grows as the data arrives. */
static int read_body(FILE *f, const char *path, size_t bytes, int size_known,
                     mdl_npy *out, mdl_error *err) {
  size_t capacity =
      size_known || bytes < FIRST_READ_BYTES ? bytes : FIRST_READ_BYTES;
  out->data = mdl_alloc_for(path, capacity, err);
  if (!out->data)
    return -1;
  size_t got = 0;
  for (;;) {
    got += fread((char *)out->data + got, 1, capacity - got, f);
    if (got < capacity || capacity == bytes)
      break;
    size_t grown = capacity > bytes / 2 ? bytes : 2 * capacity;
    void *data = mdl_realloc_for(path, out->data, grown, err);
    if (!data)
      return -1;
    out->data = data;
    capacity = grown;
  }
  if (ferror(f))
    return mdl_fail(err, "%s: read error: %s", path, strerror(errno));
  char array[96];
  describe_array(out, array, sizeof array);
  if (got < bytes)
    return mdl_fail(err,
                    "%s: file is truncated: expected %zu bytes of data, "
                    "found %zu (shape %s)",
                    path, bytes, got, array);
  if (fgetc(f) != EOF)
    return mdl_fail(err,
                    "%s: trailing data after the array (shape %s: %zu bytes)",
                    path, array, bytes);
  return 0;
}

/* Opens path, reads its header into out (kind and shape) and checks the
 * file's size against it; on success *file is left at the first byte of
 * the body, whose size is *bytes (size_known: vouched for by the file's
 * size). */
static int read_header(const char *path, FILE **file, size_t *bytes,
                       int *size_known, mdl_npy *out, mdl_error *err) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f)
    return mdl_fail(err, "cannot open %s: %s", path, strerror(errno));
  char *text = NULL;
  size_t data_offset = 0;
  npy_header h;
  int rc = read_header_text(f, path, &text, &data_offset, err);
  if (rc == 0)
    rc = parse_header(text, path, &h, err);
  if (rc == 0)
    rc = check_header(&h, path, out, err);
  if (rc == 0)
    rc = data_bytes(out, path, bytes, err);
  if (rc == 0)
    rc = check_file_size(f, path, data_offset, out, *bytes, size_known, err);
  free(text);
  if (rc < 0)
    fclose(f);
  else
    *file = f;
  return rc;
}

int mdl_npy_read(const char *path, mdl_npy *out, mdl_error *err) {
  FILE *f;
  size_t bytes;
  int size_known;
  if (read_header(path, &f, &bytes, &size_known, out, err) < 0)
    return -1;
  int rc = read_body(f, path, bytes, size_known, out, err);
  fclose(f);
  if (rc < 0)
    mdl_npy_free(out);
  return rc;
}

int mdl_npy_read_shape(const char *path, mdl_npy *out, mdl_error *err) {
  FILE *f;
  size_t bytes;
  int size_known;
  if (read_header(path, &f, &bytes, &size_known, out, err) < 0)
    return -1;
  fclose(f);
  return 0;
}

void mdl_npy_free(mdl_npy *a) {
  free(a->data);
  a->data = NULL;
}

/* ---------------------------------------------------------------- writing */

/* Builds the 1.0 preamble + header into buf; returns its length, a multiple
 * of DATA_ALIGNMENT. */
static size_t format_header(char buf[256], const char *descr, long rows,
                            long cols) {
  char shape[64];
  if (cols > 0)
    snprintf(shape, sizeof shape, "(%ld, %ld)", rows, cols);
  else
    snprintf(shape, sizeof shape, "(%ld,)", rows);
  char dict[160];
  int dict_len = snprintf(
      dict, sizeof dict,
      "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
  /* 10 bytes of preamble, the dict, spaces, and the final newline. */
  size_t total = 10 + (size_t)dict_len + 1;
  total = (total + DATA_ALIGNMENT - 1) / DATA_ALIGNMENT * DATA_ALIGNMENT;
  size_t header_len = total - 10;
  memcpy(buf, npy_magic, sizeof npy_magic);
  buf[6] = 1;
  buf[7] = 0;
  buf[8] = (char)(header_len & 0xff);
  buf[9] = (char)(header_len >> 8);
  memcpy(buf + 10, dict, (size_t)dict_len);
  memset(buf + 10 + dict_len, ' ', total - 10 - (size_t)dict_len - 1);
  buf[total - 1] = '\n';
  return total;
}

int mdl_npy_write(const char *path, const void *data, mdl_dtype type, long rows,
                  long cols, mdl_error *err) {
  if (rows < 0 || cols < 0)
    return mdl_fail(err, "%s: cannot write an array of shape (%ld, %ld)", path,
                    rows, cols);
  char header[256];
  size_t header_len =
      format_header(header, type == MDL_F32 ? "<f4" : "<f8", rows, cols);
  size_t count = (size_t)rows * (size_t)(cols > 0 ? cols : 1);
  /* Written beside and renamed into place (mdl_output), so a crash or a
   * full disk never leaves half an array under the name. */
  mdl_output out;
  mdl_output_open(&out, path);
  if (!out.file)
    return mdl_fail(err, "cannot open %s for writing: %s", path,
                    strerror(errno));
  int ok = fwrite(header, 1, header_len, out.file) == header_len &&
           fwrite(data, mdl_dtype_size(type), count, out.file) == count;
  if (mdl_output_close(&out, !ok) != 0)
    return mdl_fail(err, "cannot write %s: %s", path, strerror(errno));
  return 0;
}

int mdl_npy_load_vector(const char *path, void *dst, mdl_dtype type, long n,
                        mdl_error *err) {
  mdl_npy a;
  if (mdl_npy_read(path, &a, err) < 0)
    return -1;
  int rc = 0;
  if (a.kind == MDL_NPY_U8)
    rc = mdl_fail(
        err, "%s: expected a float array ('<f4' or '<f8'), found '|u1'", path);
  else if (a.ndim != 1)
    rc = mdl_fail(
        err,
        "%s: expected a 1-D array of %ld element%s, found shape (%ld, %ld)",
        path, n, mdl_plural(n), a.rows, a.cols);
  else if (a.rows != n)
    rc = mdl_fail(err, "%s: expected %ld element%s, found %ld", path, n,
                  mdl_plural(n), a.rows);
  for (long i = 0; rc == 0 && i < n; i++) {
    double v = a.kind == MDL_NPY_F32 ? ((const float *)a.data)[i]
                                     : ((const double *)a.data)[i];
    if (!isfinite(v))
      rc = mdl_fail(err, "%s: element %ld is not finite", path, i);
    else if (type == MDL_F32 && fabs(v) > FLT_MAX)
      rc = mdl_fail(err, "%s: element %ld (%g) is outside the range of float",
                    path, i, v);
    else
      mdl_set(dst, type, (size_t)i, v);
  }
  mdl_npy_free(&a);
  return rc;
}
