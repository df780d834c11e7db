/* mdl/sequences.h — sequence data for recurrent nets: the four
 * long-term-dependency problems of sec. 4 and appendix A.3 (addition,
 * multiplication, 5-bit and 20-bit memorization, in the format of Sutskever's
 * own generators), sequences read from .npy files, centering, and the
 * zero-one losses of Table 5.
 *
 * A minibatch is time-major, so that one step of every sequence is one
 * contiguous matrix: channel c of step s of sequence b lies at
 *   [(s * batch + b) * width + c].
 * Inputs are max_steps × batch × n_inputs. Targets are max_steps × batch ×
 * n_outputs when the problem has a target at every step, and 1 × batch ×
 * n_outputs (one row per sequence) when only the last step of each sequence
 * has one. lengths[b] is the number of steps of sequence b (1 ..
 * max_steps); every entry of a step at or beyond a sequence's length is 0.
 *
 * The problems, precisely (f(x) = floor(x · T / 100)):
 *
 *   addition, multiplication: 2 input channels. A sequence has Tseq + 1
 *   steps, Tseq drawn uniformly from [f(100), f(110)), so max_steps is
 *   f(110). Channel 0 holds a value drawn from U[0, 1) at every step (a
 *   multiple of 2^-24, so that it is the same number in float32 and
 *   float64);
 *   channel 1 is the marker: 0, except -1 at step 0 and at step Tseq - 3, and
 *   +1 at step I drawn from [f(1), f(10)) and at step J drawn from [f(10),
 *   f(50)) (+1 wins where it falls on step 0). The target, at the last step
 *   (index Tseq) only, is computed from the values A and B at I and J:
 *   (A + B) / 2 for addition (A + B with target_sum), A · B for
 *   multiplication. One linear output.
 *
 *   memorization: `symbols` symbols (K) from an alphabet of `alphabet` (A),
 *   total length T (symbols, trigger and recall included). Inputs have A + 2
 *   channels: the symbols one-hot at steps 0 .. K-1, the trigger (channel
 *   A + 1) at step T - K - 1, the blank (channel A) at every other step.
 *   Targets have A + 1 channels, one at every step: the blank (channel A),
 *   except the last K steps, which carry the K symbols in order. Each symbol
 *   is uniform over the alphabet.
 *
 * runtime/data_seq.c documents the order of the random draws.
 *
 * The zero-one loss (Table 5): for addition and multiplication the fraction
 * of sequences whose final prediction is off by more than a tolerance (0.04
 * in the paper); for memorization the number of wrongly recalled symbols per
 * sequence, a recalled symbol being the most probable of the A symbol
 * channels at a recall step. Centering moves targets and predictions alike,
 * so the differences are in the target's own units either way. */
#ifndef MDL_SEQUENCES_H
#define MDL_SEQUENCES_H

#include <stdint.h>

#include "mdl/base.h"
#include "mdl/data.h"
#include "mdl/rng.h"

typedef enum {
  MDL_SEQ_ADDITION,
  MDL_SEQ_MULTIPLICATION,
  MDL_SEQ_MEMORIZATION,
  MDL_SEQ_NPY /* sequences read from .npy files */
} mdl_seq_problem;

/* The paper's widest problem has 7 input channels; larger alphabets and
 * .npy sequences may be wider, up to this. */
enum { MDL_SEQ_MAX_CHANNELS = 4096 };

/* What a generated problem is. */
typedef struct {
  mdl_seq_problem problem;
  int T;          /* the problem's length (80, 200) */
  int symbols;    /* memorization: K, the symbols to remember */
  int alphabet;   /* memorization: A, the size of their alphabet */
  int target_sum; /* addition: the target is A + B, not (A + B) / 2 */
} mdl_seq_spec;

/* Bounds that keep every size and index well inside an int. */
enum {
  MDL_SEQ_MAX_T = 100000,
  MDL_SEQ_MAX_ALPHABET = 1000,
  MDL_SEQ_MAX_SYMBOLS = 10000
};

/* Checks a spec: T large enough for the problem's markers (addition and
 * multiplication need f(100) < f(110), f(1) < f(10) < f(50) and Tseq - 3 >
 * J, which hold for T >= 10), memorization with K >= 1, A >= 2 and T >= 2K +
 * 1; T, K and A at most the bounds above. Fields a problem does not use
 * (target_sum outside addition, symbols and alphabet outside memorization)
 * are ignored. The message is one line, fit for a user, e.g. "addition
 * needs T of at least 10, not 5". MDL_SEQ_NPY has no spec to check. */
int mdl_seq_check(const mdl_seq_spec *spec, mdl_error *err);

/* The widths and lengths a valid spec implies (mdl_die for MDL_SEQ_NPY,
 * whose sizes come from its files). */
int mdl_seq_n_inputs(const mdl_seq_spec *spec);
int mdl_seq_n_outputs(const mdl_seq_spec *spec);
int mdl_seq_max_steps(const mdl_seq_spec *spec);
int mdl_seq_every_step(const mdl_seq_spec *spec); /* targets at every step */

/* Draws `rows` fresh sequences (rows <= batch) into columns 0 .. rows-1 of
 * a time-major minibatch of `batch` columns, uncentered. Columns rows ..
 * batch-1 are left as they are. Deterministic in the rng's state. */
void mdl_seq_draw(const mdl_seq_spec *spec, mdl_rng *rng, int rows, int batch,
                  void *inputs, void *targets, int *lengths, mdl_dtype type);

/* A problem as a training program uses it: a stream of fresh training
 * minibatches, a fixed held-out set, and the centering. */
typedef struct {
  mdl_seq_spec spec;
  int n_inputs, n_outputs, max_steps, every_step;
  int center_inputs, center_targets;
  /* The means subtracted when centering (0 where not centered), measured on
   * a fixed sample of MDL_SEQ_STATS_CASES sequences of the problem's own
   * distribution (for .npy sequences: on the whole file). */
  double input_mean[MDL_SEQ_MAX_CHANNELS];
  double target_mean[MDL_SEQ_MAX_CHANNELS];
  double raw_target_mean[MDL_SEQ_MAX_CHANNELS]; /* before centering */
  /* The training minibatches: for a generated problem the rng of the
   * stream (n_cases = 0, no permutation), for .npy sequences a sampler over
   * the file's cases. Saved and restored by mdl_checkpoint_*. */
  mdl_batcher sampler;
  /* The held-out set (for .npy sequences: the training set itself),
   * sequence-major float32, uncentered: sequence i, step s, channel c of
   * the inputs at [(i * max_steps + s) * n_inputs + c]; targets likewise
   * with n_outputs, and one row per sequence when !every_step. */
  int n_test;
  float *test_inputs;
  float *test_targets;
  int *test_lengths;
  char source[256]; /* for the program's header */
} mdl_seq_data;

enum { MDL_SEQ_STATS_CASES = 10000 };

/* Sets up a generated problem: the held-out set of n_test >= 1 sequences
 * and the centering sample, drawn from two streams of their own derived from
 * data_seed (so they are the same in every run of a program, whatever its
 * train_seed, and differ from the training stream even when the two seeds
 * are equal; runtime/data_seq.c gives the derivation), and the training
 * stream, sampler.rng, seeded by train_seed. The sampler has n_cases = 0,
 * no permutation, next = 0 and batch = batch (>= 1). Centering the targets
 * of memorization is refused: softmax targets must stay distributions. */
int mdl_seq_open(mdl_seq_data *d, const mdl_seq_spec *spec, uint64_t data_seed,
                 int n_test, int center_inputs, int center_targets, int batch,
                 uint64_t train_seed, mdl_error *err);

/* Sequences from .npy files: inputs a 2-D array of n_cases rows of steps ×
 * n_inputs values (step-major: row[s * n_inputs + c]); targets n_cases rows
 * of n_outputs values (last step only) or of steps × n_outputs (every
 * step). Every sequence has the same length, cols / n_inputs. n_cases <= 0
 * takes every row. Minibatches are drawn by an mdl_batcher seeded by
 * train_seed; evaluation runs over the same cases. Fails, with a message
 * naming the file, on a file that cannot be read, rows that are not whole
 * steps of n_inputs, targets of the wrong width or with fewer rows than
 * the cases, n_inputs or n_outputs outside 1 .. MDL_SEQ_MAX_CHANNELS, or a
 * batch larger than the number of cases. spec.problem is MDL_SEQ_NPY and
 * spec.T the number of steps. */
int mdl_seq_open_npy(mdl_seq_data *d, const char *inputs_path,
                     const char *targets_path, int n_cases, int n_inputs,
                     int n_outputs, int every_step, int center_inputs,
                     int center_targets, int batch, uint64_t train_seed,
                     mdl_error *err);

/* A held-out set for a net trained on .npy sequences (`test on DATA`): its
 * sequences in d, read and checked like the training set's but of any
 * number, with train's length, widths and kind of targets, centered with
 * train's means. Fails, naming the file, when they differ. Its n_test
 * sequences are measured with mdl_seq_test_batch; it has no minibatches. */
int mdl_seq_open_npy_held_out(mdl_seq_data *d, const mdl_seq_data *train,
                              const char *inputs_path, const char *targets_path,
                              int n_cases, mdl_error *err);

void mdl_seq_close(mdl_seq_data *d);

/* --predict: new input sequences from a 2-D .npy file, one sequence per
 * row of max_steps × n_inputs values (step-major, like a training file),
 * into in; fails, naming the file, on rows of another width. */
int mdl_seq_read_inputs(const mdl_seq_data *d, mdl_dataset *in,
                        const char *path, mdl_error *err);

/* Sequences first .. first + rows - 1 of in (rows <= batch) into columns
 * 0 .. rows-1 of a time-major minibatch of `batch` columns, centered with
 * the training data's means as every minibatch is; every length is
 * max_steps, and the columns past rows are zeros. */
void mdl_seq_input_batch(const mdl_seq_data *d, const mdl_dataset *in,
                         int first, int rows, int batch, void *inputs,
                         int *lengths, mdl_dtype type);

/* The next training minibatch of `batch` sequences (the batch given to
 * mdl_seq_open or _open_npy), centered: the means are subtracted at every
 * step within each sequence's length; the padding beyond it stays 0. */
void mdl_seq_next_batch(mdl_seq_data *d, int batch, void *inputs, void *targets,
                        int *lengths, mdl_dtype type);

/* Held-out sequences first .. first + rows - 1 (rows <= batch) into columns
 * 0 .. rows-1 of a time-major minibatch of `batch` columns, centered like
 * mdl_seq_next_batch. Columns rows .. batch-1 (and their lengths) are left
 * as they are. */
void mdl_seq_test_batch(const mdl_seq_data *d, int first, int rows, int batch,
                        void *inputs, void *targets, int *lengths,
                        mdl_dtype type);

/* The mean target per output channel as the net sees it (after centering:
 * 0 where the targets are centered), for `out_bias mean(targets)`. */
void mdl_seq_target_mean(const mdl_seq_data *d, void *mean, mdl_dtype type);

/* The problem's error summed over columns 0 .. rows-1 of a minibatch of
 * predictions (laid out like the targets): for addition and multiplication
 * the number of sequences off by more than tolerance at the last step; for
 * memorization the number of wrongly recalled symbols at the last K steps
 * of each sequence, the recalled symbol being the largest of the A symbol
 * channels (the blank excluded; the lowest channel on a tie); for .npy
 * sequences the squared error Σ (y - t)^2 over every target value. In the
 * zero-one losses a NaN prediction counts as wrong. Divided by the number
 * of sequences it is the figure Table 5 reports. */
double mdl_seq_error(const mdl_seq_data *d, int rows, int batch,
                     const int *lengths, const void *outputs,
                     const void *targets, mdl_dtype type, double tolerance);

/* What the error is, for headers and logs: "zero_one" for the problems,
 * "train_error" for .npy sequences (their squared error on the file, as a
 * feed-forward net reports it). */
const char *mdl_seq_error_name(const mdl_seq_data *d);

#endif
