/* sema_data.c — data sources and their arguments, and the shapes of data
 * files checked against the net where mdlc can read them. */
#include "mdlc.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "mdl/data.h"
#include "mdl/npy.h"
#include "mdl/sequences.h"

/* One argument of a data source: its value, by key or by position. */
static const Atom *data_arg(const Atom *args, const char *key) {
  for (const Atom *a = args; a; a = a->next)
    if (a->key && strcmp(a->key, key) == 0)
      return a;
  return NULL;
}

/* `center inputs`, `center targets` or `center [inputs, targets]`. */
static void check_center(Program *p, const Atom *a) {
  static const char *const what[] = {"inputs", "targets", NULL};
  const Atom *first = a->kind == AT_LIST ? a->items : a;
  for (const Atom *w = first; w; w = a->kind == AT_LIST ? w->next : NULL) {
    int i = w->kind == AT_NAME ? find_word(w->text, what) : -1;
    if (i < 0) {
      diag_error(
          w->loc, "center takes inputs, targets or [inputs, targets], not %s%s",
          atom_text(w), w->kind == AT_NAME ? suggest(w->text, what) : "");
      continue;
    }
    if (i == 0)
      p->center_inputs = true;
    else
      p->center_targets = true;
  }
}

/* The sequence problem as the runtime defines it. */
static mdl_seq_spec sequence_spec(const Program *p) {
  static const mdl_seq_problem problems[] = {
      [DATA_ADDITION] = MDL_SEQ_ADDITION,
      [DATA_MULTIPLICATION] = MDL_SEQ_MULTIPLICATION,
      [DATA_MEMORIZATION] = MDL_SEQ_MEMORIZATION};
  return (mdl_seq_spec){.problem = problems[p->data_kind],
                        .T = p->seq_T,
                        .symbols = p->seq_symbols,
                        .alphabet = p->seq_alphabet,
                        .target_sum = p->target_sum};
}

/* A generated sequence problem: its defaults, and the runtime's own check
 * of its sizes, so that a bad T is a compile-time error with a place. */
static void check_sequence_problem(Program *p, const Item *it) {
  if (p->data_kind == DATA_MEMORIZATION) {
    if (!data_arg(it->args, "symbols") || !data_arg(it->args, "alphabet")) {
      diag_error(it->kind_loc,
                 "memorization needs its symbols and their alphabet: "
                 "memorization(symbols 5, alphabet 2, T 200)");
      return;
    }
    if (p->center_targets)
      diag_error(data_arg(it->args, "center")->loc,
                 "the targets of memorization are one-hot symbols for "
                 "softmax outputs, and centered they would no longer be "
                 "distributions (center inputs only)");
  }
  if (!data_arg(it->args, "T")) {
    diag_error(it->kind_loc, "%s needs its length: %s(T 80)", it->kind_name,
               it->kind_name);
    return;
  }
  if (p->n_test == 0)
    p->n_test = 10000; /* sec. 4.2: at least 10,000 held-out sequences */
  mdl_seq_spec spec = sequence_spec(p);
  mdl_error err;
  if (mdl_seq_check(&spec, &err) != 0) {
    diag_error(it->kind_loc, "%s", err.message);
    return;
  }
  p->max_steps = mdl_seq_max_steps(&spec);
  p->every_step = mdl_seq_every_step(&spec);
}

/* The width of the problem's inputs and outputs (0 for files). */
static void sequence_widths(const Program *p, int *inputs, int *outputs) {
  *inputs = *outputs = 0;
  if (!model_is_sequence_problem(p->data_kind))
    return;
  mdl_seq_spec spec = sequence_spec(p);
  *inputs = mdl_seq_n_inputs(&spec);
  *outputs = mdl_seq_n_outputs(&spec);
}

void check_data(Sema *S, const Item *it) {
  Program *p = S->p;
  static const char *const sources[] = {
      "curves",         "idx",          "npy", "addition",
      "multiplication", "memorization", NULL};
  static const char *const keys[][9] = {
      {"cases", "seed", NULL},
      {"images", "labels", "cases", "classes", NULL},
      {"file", "inputs", "targets", "cases", "length", "center", NULL},
      {"T", "seed", "test_cases", "center", "target", NULL},
      {"T", "seed", "test_cases", "center", NULL},
      {"symbols", "alphabet", "T", "seed", "test_cases", "center", NULL},
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
    } else if (strcmp(a->key, "T") == 0) {
      if (positive_int(a, "the length T", 100000, &n))
        p->seq_T = (int)n;
    } else if (strcmp(a->key, "symbols") == 0) {
      if (positive_int(a, "the number of symbols", 10000, &n))
        p->seq_symbols = (int)n;
    } else if (strcmp(a->key, "alphabet") == 0) {
      if (positive_int(a, "the alphabet size", 1000, &n))
        p->seq_alphabet = (int)n;
    } else if (strcmp(a->key, "test_cases") == 0) {
      if (positive_int(a, "the number of held-out sequences", 10000000, &n))
        p->n_test = (int)n;
    } else if (strcmp(a->key, "length") == 0) {
      if (positive_int(a, "the sequence length", 100000, &n))
        p->seq_length = (int)n;
    } else if (strcmp(a->key, "center") == 0) {
      check_center(p, a);
    } else if (strcmp(a->key, "target") == 0) {
      static const char *const targets[] = {"average", "sum", NULL};
      int i = a->kind == AT_NAME ? find_word(a->text, targets) : -1;
      if (i < 0)
        diag_error(a->loc,
                   "the target of addition is average ((A + B) / 2, the "
                   "default) or sum (A + B), not %s",
                   atom_text(a));
      else
        p->target_sum = i == 1;
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
  if (model_is_sequence_problem(p->data_kind))
    check_sequence_problem(p, it);
}

/* The shape of a data file, read from its header when the file can be
 * read from here; false (and no message) when it cannot be found, since
 * the program opens it when it runs, perhaps elsewhere. The runtime's
 * readers hold the file to its header (its size, or for gzip its inflated
 * length, with nothing after the data), so a file that is there but
 * unreadable or does not fit its header gets a warning now and an error
 * then. */
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
/* "784 inputs"; for a recurrent net's sequences "2 inputs per step (60
 * values over 30 steps)" or "1 output at the last step". */
static const char *units_per_case(const Program *p, int units, int steps,
                                  const char *what) {
  if (!p->is_recurrent)
    return count_of(units, what);
  if (steps == 1)
    return arena_printf("%s at the last step", count_of(units, what));
  return arena_printf("%s per step (%s over %s)", count_of(units, what),
                      count_of((long)units * steps, "value"),
                      count_of(steps, "step"));
}

static void check_file_shapes(Sema *S) {
  Program *p = S->p;
  Loc at = S->data->kind_loc;
  long rows, cols;
  int steps = p->is_recurrent ? p->seq_length : 1;
  int n_in = p->layers[0].size, n_out = p->layers[p->n_layers - 1].size;
  int out_steps = p->is_recurrent && !p->every_step ? 1 : steps;
  long in_width = (long)steps * n_in, out_width = (long)out_steps * n_out;
  const char *inputs = p->data_kind == DATA_IDX ? p->images_path : p->npy_path;
  const char *cases = p->is_recurrent ? "sequence" : "case";
  if (inputs &&
      file_shape(inputs, p->data_kind == DATA_IDX, at, &rows, &cols)) {
    if (cols && cols != in_width)
      diag_error(S->net->name_loc, "net '%s' has %s but %s has %s per case",
                 p->net_name, units_per_case(p, n_in, steps, "input"), inputs,
                 count_of(cols, "value"));
    if (p->n_cases > rows)
      diag_error(at, "data set '%s' asks for %s but %s holds %ld", p->data_name,
                 count_of(p->n_cases, "case"), inputs, rows);
    else if (!p->n_cases && p->batch > rows) /* a declared count: below */
      diag_error(S->train->data_loc,
                 "the minibatch (%s) is larger than data set '%s' (%s in %s)",
                 count_of(p->batch, cases), p->data_name, count_of(rows, cases),
                 inputs);
  }
  if (p->targets_path && !p->is_autoencoder &&
      file_shape(p->targets_path, false, at, &rows, &cols) && cols &&
      cols != out_width)
    diag_error(S->net->name_loc, "net '%s' has %s but %s has %s per case",
               p->net_name, units_per_case(p, n_out, out_steps, "output"),
               p->targets_path, count_of(cols, "target value"));
}

/* A classifier on IDX labels has one output per class: `classes K` when
 * the program says it, else the largest label + 1, which mdlc reads from
 * the label file when it can find it (the program checks again when it
 * loads the data). */
static void check_classes(Sema *S) {
  Program *p = S->p;
  const Stmt *output = find_stmt(S->net->body, "output");
  const Atom *size = output && output->atoms ? output->atoms->next : NULL;
  Loc at = size ? size->loc : S->net->name_loc;
  int n_out = p->layers[p->n_layers - 1].size;
  const Atom *classes = data_arg(S->data->args, "classes");
  if (p->n_classes && n_out != p->n_classes) {
    diag_error(at,
               "net '%s' has %s, but data set '%s' has %s (classes %d): a "
               "classifier has one output per class",
               p->net_name, count_of(n_out, "output"), p->data_name,
               count_of(p->n_classes, "class"), p->n_classes);
    return;
  }
  if (access(p->labels_path, R_OK) != 0)
    return;
  int n_labels, max_label;
  mdl_error err;
  if (mdl_idx_label_range(p->labels_path, &n_labels, &max_label, &err) != 0) {
    diag_warning(S->data->kind_loc, "%s", err.message);
    return;
  }
  int images, pixels; /* a bad image file has had its warning */
  if (mdl_idx_image_shape(p->images_path, &images, &pixels, &err) == 0 &&
      images != n_labels)
    diag_error(S->data->kind_loc,
               "%s holds %s but %s holds %s: one label per image",
               p->images_path, count_of(images, "image"), p->labels_path,
               count_of(n_labels, "label"));
  if (p->n_classes && max_label >= p->n_classes)
    diag_error(classes->loc,
               "%s has labels up to %d, but classes %d allows 0 to %d only",
               p->labels_path, max_label, p->n_classes, p->n_classes - 1);
  else if (!p->n_classes && n_out != max_label + 1)
    diag_error(at,
               "net '%s' has %s, but the labels of %s are 0 to %d: %s; if "
               "the data has %s that its labels do not all show, say so with "
               "idx(..., classes %d)",
               p->net_name, count_of(n_out, "output"), p->labels_path,
               max_label, count_of(max_label + 1, "class"),
               count_of(n_out, "class"), n_out);
}

/* A recurrent net trains on sequences: a generated problem, whose widths
 * and kind of targets are known now, or .npy sequences of a declared
 * length. Sets max_steps and every_step. */
static void check_sequences(Sema *S) {
  Program *p = S->p;
  Loc data_loc = S->train->data_loc;
  bool problem = model_is_sequence_problem(p->data_kind);
  if (!problem && p->data_kind != DATA_NPY) {
    diag_error(data_loc,
               "a recurrent net trains on sequences: addition(...), "
               "multiplication(...), memorization(...) or npy(inputs "
               "\"...\", targets \"...\", length N); data set '%s' holds "
               "%s",
               p->data_name,
               p->data_kind == DATA_CURVES ? "images" : "single cases");
    return;
  }
  const Layer *out = &p->layers[p->n_layers - 1];
  if (problem) {
    if (!p->max_steps)
      return; /* the problem itself is in error (reported) */
    int n_in, n_out;
    sequence_widths(p, &n_in, &n_out);
    if (n_in != p->layers[0].size || n_out != out->size)
      diag_error(S->net->name_loc,
                 "net '%s' has %s and %s, but %s has %s and %s per step",
                 p->net_name, count_of(p->layers[0].size, "input"),
                 count_of(out->size, "output"), S->data->kind_name,
                 count_of(n_in, "input"), count_of(n_out, "target"));
    if (S->output_recall && p->data_kind != DATA_MEMORIZATION)
      diag_error(S->output_at->loc,
                 "only a memorization problem has recall steps; %s has its "
                 "targets at %s",
                 S->data->kind_name,
                 p->every_step ? "every step" : "the last step");
    else if (S->output_at && S->output_every != p->every_step)
      diag_error(S->output_at->loc, "%s has its targets at %s, not at %s",
                 S->data->kind_name,
                 p->every_step ? "every step" : "the last step",
                 S->output_every ? "every step" : "the last step");
  } else {
    if (!p->targets_path)
      diag_error(data_loc, "a recurrent net needs targets: give "
                           "npy(inputs \"...\", targets \"...\", length N)");
    if (!p->seq_length)
      diag_error(S->data->kind_loc,
                 "say how many steps each sequence of the file has: "
                 "npy(inputs \"...\", targets \"...\", length N)");
    if (!S->output_at)
      diag_error(S->net->name_loc,
                 "say when the targets of the file come: output ... at last "
                 "or output ... at every");
    else if (S->output_recall)
      diag_error(S->output_at->loc,
                 "only a memorization problem has recall steps; the targets "
                 "of a file come at last or at every");
    p->max_steps = p->seq_length;
    p->every_step = S->output_every;
    if (p->n_cases && p->batch > p->n_cases)
      diag_error(data_loc,
                 "the minibatch (%s) is larger than data set '%s' (%s)",
                 count_of(p->batch, "sequence"), p->data_name,
                 count_of(p->n_cases, "sequence"));
    if (p->seq_length && p->targets_path)
      check_file_shapes(S);
  }
  if (p->center_targets && out->act == ACT_SOFTMAX)
    diag_error(S->data->kind_loc,
               "softmax outputs need targets that are distributions, and "
               "centered targets are not (center inputs only)");

  /* Which steps carry loss, and what the objective is the mean over: by
   * default as in Sutskever's code, which divides the summed loss by the
   * count of its mask: sequences for targets at the last step, target
   * steps for targets at every step (docs/data.md). Every sequence with
   * targets at every step has the same length (the problem's T, or the
   * file's L), so target_steps is the same for all of them. */
  p->loss_recall = S->output_recall;
  p->target_steps = !p->every_step   ? 1
                    : p->loss_recall ? p->seq_symbols
                                     : p->max_steps;
  p->loss_per_target = S->loss_per ? S->loss_per_target : p->every_step;
}

/* Compares the data set's width with the network's input when it can be
 * known now; otherwise the generated program checks it when it loads. */
void check_data_shape(Sema *S) {
  Program *p = S->p;
  if (p->is_recurrent) {
    check_sequences(S);
    return;
  }
  if (model_is_sequence_problem(p->data_kind)) {
    diag_error(S->train->data_loc,
               "data set '%s' holds sequences; train a recurrent net on it "
               "(net NAME : recurrent { ... })",
               p->data_name);
    return;
  }
  if (p->center_inputs || p->center_targets || p->seq_length) {
    diag_error(S->data->kind_loc,
               "'center' and 'length' describe sequences for a recurrent "
               "net; net '%s' is %s",
               p->net_name,
               p->is_autoencoder ? "an autoencoder" : "feed-forward");
    return;
  }
  int width = 0;
  if (p->data_kind == DATA_CURVES)
    width = 784;
  if (width && width != p->layers[0].size)
    diag_error(S->net->name_loc,
               "net '%s' has %s but data set '%s' has %d values per case",
               p->net_name, count_of(p->layers[0].size, "input"), p->data_name,
               width);
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
  if (!p->is_autoencoder && p->data_kind == DATA_IDX && p->labels_path)
    check_classes(S);
  const Stmt *batch = find_stmt(S->train->body, "batch");
  if (p->n_cases && p->batch > p->n_cases)
    diag_error(batch && batch->expr ? batch->expr->loc : S->train->data_loc,
               "the minibatch (%s) is larger than data set '%s' (%s)",
               count_of(p->batch, "case"), p->data_name,
               count_of(p->n_cases, "case"));
}
