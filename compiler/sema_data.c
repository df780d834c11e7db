/* sema_data.c — data sources and their arguments, and the shapes of data
 * files checked against the net where mdlc can read them. */
#include "mdlc.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "mdl/data.h"
#include "mdl/npy.h"


/* One argument of a data source: its value, by key or by position. */
static const Atom *data_arg(const Atom *args, const char *key) {
  for (const Atom *a = args; a; a = a->next)
    if (a->key && strcmp(a->key, key) == 0)
      return a;
  return NULL;
}

void check_data(Sema *S, const Item *it) {
  Program *p = S->p;
  static const char *const sources[] = {"curves", "idx", "npy", NULL};
  static const char *const keys[][6] = {
      {"cases", "seed", NULL},
      {"images", "labels", "cases", "classes", NULL},
      {"file", "inputs", "targets", "cases", NULL},
  };
  p->data_name = it->name;
  int kind = find_word(it->kind_name, sources);
  if (kind < 0) {
    diag_error(it->kind_loc, "unknown data source '%s'; expected %s%s",
               it->kind_name, one_of(sources), suggest(it->kind_name, sources));
    return;
  }
  p->data_kind = (DataKind)kind;
  int position = 0;
  for (const Atom *a = it->args; a; a = a->next) {
    if (!a->key) {
      /* A bare value is the source's first argument: npy("faces.npy"). */
      if (kind == DATA_NPY && position == 0 && a->kind == AT_STRING) {
        p->npy_path = a->text;
        position++;
        continue;
      }
      diag_error(a->loc, "this argument of %s needs a name: %s", it->kind_name,
                 one_of(keys[kind]));
      continue;
    }
    if (find_word(a->key, keys[kind]) < 0) {
      diag_error(a->key_loc, "unknown argument '%s' of %s; expected %s%s",
                 a->key, it->kind_name, one_of(keys[kind]),
                 suggest(a->key, keys[kind]));
      continue;
    }
    if (data_arg(it->args, a->key) != a) {
      diag_error(a->key_loc, "argument '%s' is given twice", a->key);
      continue;
    }
    long n;
    if (strcmp(a->key, "cases") == 0) {
      if (positive_int(a, "the number of cases", 100000000, &n))
        p->n_cases = (int)n;
    } else if (strcmp(a->key, "classes") == 0) {
      if (positive_int(a, "the number of classes", 100000, &n))
        p->n_classes = (int)n;
    } else if (strcmp(a->key, "seed") == 0) {
      if (a->kind != AT_NUMBER || !a->is_integer || a->number < 0 ||
          a->number > (double)(1L << 62))
        diag_error(a->loc, "a seed must be an integer from 0 to 2^62");
      else
        p->data_seed = (long)a->number;
    } else if (a->kind != AT_STRING) {
      diag_error(a->loc, "'%s' must be a file name in double quotes", a->key);
    } else if (strcmp(a->key, "images") == 0) {
      p->images_path = a->text;
    } else if (strcmp(a->key, "labels") == 0) {
      p->labels_path = a->text;
    } else if (strcmp(a->key, "targets") == 0) {
      p->targets_path = a->text;
    } else if (p->npy_path) {
      diag_error(a->key_loc, "npy takes one file of inputs ('file' and "
                             "'inputs' name the same thing)");
    } else {
      p->npy_path = a->text;
    }
  }
  if (kind == DATA_CURVES && p->n_cases == 0)
    p->n_cases = 20000; /* the size of the original training set */
  if (kind == DATA_IDX && !p->images_path)
    diag_error(it->kind_loc,
               "idx needs the file of images: idx(images \"...\")");
  if (kind == DATA_NPY && !p->npy_path)
    diag_error(it->kind_loc, "npy needs a file of inputs: npy(\"cases.npy\") "
                             "or npy(inputs \"x.npy\", targets \"y.npy\")");
}

/* The shape of a data file, read from its header when the file can be
 * read from here; false (and no message) when it cannot be found, since
 * the program opens it when it runs, perhaps elsewhere. A file that is
 * there but unreadable gets a warning now and an error then. */
static bool file_shape(const char *path, bool idx, Loc loc, long *rows,
                       long *cols) {
  if (access(path, R_OK) != 0)
    return false;
  mdl_error err;
  if (idx) {
    int n, pixels;
    if (mdl_idx_image_shape(path, &n, &pixels, &err) == 0) {
      *rows = n;
      *cols = pixels;
      return true;
    }
  } else {
    mdl_npy a;
    if (mdl_npy_read_shape(path, &a, &err) == 0) {
      *rows = a.rows;
      *cols = a.ndim == 2 ? a.cols : 0;
      return true;
    }
  }
  diag_warning(loc, "%s", err.message);
  return false;
}

/* The data files' widths and case counts against the net, where the files
 * can be read now; the generated program checks them again when it loads. */
static void check_file_shapes(Sema *S) {
  Program *p = S->p;
  Loc at = S->data->kind_loc;
  long rows, cols;
  const char *inputs = p->data_kind == DATA_IDX ? p->images_path : p->npy_path;
  if (inputs &&
      file_shape(inputs, p->data_kind == DATA_IDX, at, &rows, &cols)) {
    if (cols && cols != p->layers[0].size)
      diag_error(S->net->name_loc,
                 "net '%s' has %d inputs but %s has %ld values per case",
                 p->net_name, p->layers[0].size, inputs, cols);
    if (p->n_cases > rows)
      diag_error(at, "data set '%s' asks for %d cases but %s holds %ld",
                 p->data_name, p->n_cases, inputs, rows);
    else if (p->batch > (p->n_cases ? p->n_cases : rows))
      diag_error(S->train->data_loc,
                 "the minibatch (%d cases) is larger than data set '%s' (%ld "
                 "cases in %s)",
                 p->batch, p->data_name, rows, inputs);
  }
  if (p->targets_path && !p->is_autoencoder &&
      file_shape(p->targets_path, false, at, &rows, &cols) && cols &&
      cols != p->layers[p->n_layers - 1].size)
    diag_error(S->net->name_loc,
               "net '%s' has %d outputs but %s has %ld target values per case",
               p->net_name, p->layers[p->n_layers - 1].size, p->targets_path,
               cols);
}

/* Compares the data set's width with the network's input when it can be
 * known now; otherwise the generated program checks it when it loads. */
void check_data_shape(Sema *S) {
  Program *p = S->p;
  int width = 0;
  if (p->data_kind == DATA_CURVES)
    width = 784;
  if (width && width != p->layers[0].size)
    diag_error(S->net->name_loc,
               "net '%s' has %d inputs but data set '%s' has %d values per "
               "case",
               p->net_name, p->layers[0].size, p->data_name, width);
  if (p->data_kind != DATA_CURVES)
    check_file_shapes(S);
  bool has_targets = p->labels_path || p->targets_path;
  if (!p->is_autoencoder && p->data_kind == DATA_CURVES)
    diag_error(S->train->data_loc,
               "a feedforward net needs targets: data set '%s' has none "
               "(idx(..., labels \"...\") or npy(..., targets \"...\") "
               "provide them)",
               p->data_name);
  if (!p->is_autoencoder && p->data_kind == DATA_NPY && !has_targets)
    diag_error(S->train->data_loc,
               "a feedforward net needs targets: give npy(inputs \"...\", "
               "targets \"...\")");
  if (p->is_autoencoder && has_targets)
    diag_warning(S->train->data_loc,
                 "an autoencoder's targets are its inputs; the targets of "
                 "data set '%s' are not used",
                 p->data_name);
  if (!p->is_autoencoder && p->data_kind == DATA_IDX && !p->labels_path)
    diag_error(S->train->data_loc,
               "a feedforward net needs targets: give idx(..., labels "
               "\"...\")");
  const Stmt *batch = find_stmt(S->train->body, "batch");
  if (p->n_cases && p->batch > p->n_cases)
    diag_error(batch && batch->expr ? batch->expr->loc : S->train->data_loc,
               "the minibatch (%d cases) is larger than data set '%s' (%d "
               "cases)",
               p->batch, p->data_name, p->n_cases);
}
