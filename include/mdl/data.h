/* mdl/data.h — training sets: the built-in CURVES generator, IDX files
 * (MNIST, Fashion-MNIST; plain or gzip-compressed) and .npy matrices, and
 * the minibatch sampler.
 *
 * A data set holds n_cases cases as rows of a float32 matrix of inputs and,
 * separately, of targets. For an autoencoder the targets are the inputs
 * (targets == inputs, n_targets == n_inputs, nothing is copied). */
#ifndef MDL_DATA_H
#define MDL_DATA_H

#include <stdint.h>

#include "mdl/base.h"
#include "mdl/rng.h"

typedef struct {
  int n_cases;
  int n_inputs;     /* values per case */
  int n_targets;    /* values per target; 0 when the set has no targets */
  float *inputs;    /* n_cases × n_inputs, row-major */
  float *targets;   /* n_cases × n_targets, or == inputs, or NULL */
  char source[256]; /* where it came from, for the program's header */
} mdl_dataset;

/* CURVES, re-synthesised (the original file cannot be downloaded here):
 * 28 × 28 images in [0, 1] of a smooth curve through three random points.
 * runtime/data_curves.c and docs/data.md describe the exact recipe.
 * Deterministic in seed. */
int mdl_data_curves(mdl_dataset *ds, int n_cases, uint64_t seed,
                    mdl_error *err);

/* IDX images (magic 0x00000803, unsigned bytes, scaled by 1/255 into [0, 1])
 * and, when labels_path is not NULL, IDX labels (0x00000801) turned into
 * one-hot targets of width n_classes (labels must be < n_classes; pass 0 to
 * use max label + 1). A gzip-compressed file (one gzip member) is inflated
 * as it is read, whatever its name. A file must hold exactly the data its
 * header declares, no less and nothing after it; a plain file's size is
 * checked before anything is allocated, a gzip stream as it is inflated.
 * n_cases <= 0 takes every case; a larger n_cases than the file holds is an
 * error. */
int mdl_data_idx(mdl_dataset *ds, const char *images_path,
                 const char *labels_path, int n_classes, int n_cases,
                 mdl_error *err);

/* Reads the header of an IDX image file: the number of images and the
 * pixels of each (mdlc uses it to check shapes when compiling). The file is
 * held to its header as mdl_data_idx holds it: a plain file by its size, a
 * gzip file by inflating it through (keeping nothing). */
int mdl_idx_image_shape(const char *path, int *n_images, int *n_pixels,
                        mdl_error *err);

/* Reads an IDX label file: the number of labels and the largest (mdlc uses
 * it to check a classifier's output width when compiling). */
int mdl_idx_label_range(const char *path, int *n_labels, int *max_label,
                        mdl_error *err);

/* A 2-D .npy array (float32, float64 or uint8; uint8 is scaled by 1/255),
 * one case per row. n_cases <= 0 takes every row. */
int mdl_data_npy(mdl_dataset *ds, const char *path, int n_cases,
                 mdl_error *err);

/* Adds targets to a data set from a 2-D .npy array with (at least) as many
 * rows as the set has cases: row i is the target of case i. */
int mdl_data_npy_targets(mdl_dataset *ds, const char *path, mdl_error *err);

/* Checks that every target row is a probability distribution (entries in
 * [0, 1] summing to 1 within 1e-4), as softmax outputs with cross-entropy
 * require: their output deltas y - t assume it. path, the file the targets
 * came from, starts the message (NULL: generated data, no file). */
int mdl_data_check_distributions(const mdl_dataset *ds, const char *path,
                                 mdl_error *err);

/* Makes the data set an autoencoder's: targets = inputs. */
void mdl_data_autoencode(mdl_dataset *ds);

void mdl_data_free(mdl_dataset *ds);

/* Mean of each target column over all cases, written to mean[0..n_targets)
 * as the given type (the output-bias initialization of Table 4). */
void mdl_data_target_mean(const mdl_dataset *ds, void *mean, mdl_dtype type);

/* Copies the rows listed in cases[0..rows) into dst (rows × width), from the
 * inputs (which = 0) or the targets (which = 1), converting to type. */
void mdl_data_gather(const mdl_dataset *ds, int which, const int *cases,
                     int rows, void *dst, mdl_dtype type);

/* Copies the consecutive cases first .. first + rows - 1, like
 * mdl_data_gather (used to evaluate the whole set a slice at a time). */
void mdl_data_rows(const mdl_dataset *ds, int which, int first, int rows,
                   void *dst, mdl_dtype type);

/* Minibatches that sweep the data set in a fresh random order each epoch:
 * consecutive batches of a shuffled permutation; when fewer than `batch`
 * cases remain, they are skipped and a freshly shuffled epoch begins, so
 * each case is used at most once per epoch. batch must be in 1..n_cases. */
typedef struct {
  int n_cases;
  int batch;
  int next;   /* position of the next batch in perm */
  int *perm;  /* a permutation of 0..n_cases-1 */
  int *cases; /* the current batch: batch case indices */
  mdl_rng rng;
} mdl_batcher;

void mdl_batcher_init(mdl_batcher *b, int n_cases, int batch, uint64_t seed);
const int *mdl_batcher_next(mdl_batcher *b);
void mdl_batcher_free(mdl_batcher *b);

#endif
