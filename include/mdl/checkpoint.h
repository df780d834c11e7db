/* mdl/checkpoint.h — the state of a training run on disk, so that a long
 * run can stop and go on exactly where it was (--checkpoint, --resume).
 *
 * A checkpoint holds the update counter t, the parameters θ_t — or, for
 * NAG programs that keep the look-ahead point, φ_t = θ_t + μ_t v_t, which is
 * what they hold, so that resuming repeats their arithmetic bit for bit —
 * the velocity v_t (when the method has one) and the minibatch sampler, so
 * that a resumed run draws the same minibatches and makes the same updates
 * as one that was never interrupted. The file format (little-endian):
 *
 *   "MDLCKPT2"                 8 bytes
 *   length, model              int64, then that many bytes: the program's
 *                              identity (mdl_checkpoint_set_model), so that
 *                              another program of the same size is refused
 *                              with what differs
 *   n_params, element size (4 or 8), state (0: θ; 1: θ and v;
 *   2: φ and v; 3: θ and an HF state), t,
 *   n_cases, batch, next       7 × int64
 *   sampler RNG state          4 × uint64
 *   θ                          n_params elements
 *   v                          n_params elements, for states 1 and 2
 *   HF state                   for state 3: λ, then the hot start of CG,
 *                              1 + n_params float64
 *   sampler permutation        n_cases × int32 (none for a generated
 *                              sequence problem: n_cases is 0)
 *   CRC-32                     uint64: zlib's crc32 of every byte between
 *                              the magic and it; nothing may follow
 *
 * It is written to FILE.tmp, synced, renamed over FILE and its directory
 * synced, so a crash or a power loss while writing leaves the previous
 * checkpoint intact; FILE may only be a regular file (a link, a FIFO or a
 * device is refused). Reading refuses a wrong checksum, trailing bytes,
 * another program's identity and parameters that are not finite. */
#ifndef MDL_CHECKPOINT_H
#define MDL_CHECKPOINT_H

#include "mdl/base.h"
#include "mdl/data.h"

/* The identity every checkpoint of this program carries: a description of
 * its model (sizes, units, loss, method, precision) that two programs share
 * only if one can resume the other's run. mdl_parse_options sets it from
 * mdl_program_info's model. */
void mdl_checkpoint_set_model(const char *model);

/* point is θ_t, or φ_t when lookahead is 1; velocity may be NULL (SGD). */
int mdl_checkpoint_save(const char *path, long t, const void *point,
                        const void *velocity, int lookahead, mdl_dtype type,
                        long n_params, const mdl_batcher *batches,
                        mdl_error *err);

/* Restores what mdl_checkpoint_save wrote into the caller's buffers and
 * sampler (already initialized for the same data set and batch size);
 * returns 0 and sets *t, or -1 with a message when the file is missing,
 * damaged, or belongs to a different program (sizes or state that do not
 * match). */
int mdl_checkpoint_load(const char *path, long *t, void *point, void *velocity,
                        int lookahead, mdl_dtype type, long n_params,
                        mdl_batcher *batches, mdl_error *err);

/* The general form: `state` as in the format above, and the section that
 * follows θ (v, or the HF state) as extra_bytes of raw bytes. */
int mdl_checkpoint_save_state(const char *path, long t, const void *point,
                              mdl_dtype type, long n_params, int state,
                              const void *extra, size_t extra_bytes,
                              const mdl_batcher *batches, mdl_error *err);
int mdl_checkpoint_load_state(const char *path, long *t, void *point,
                              mdl_dtype type, long n_params, int state,
                              void *extra, size_t extra_bytes,
                              mdl_batcher *batches, mdl_error *err);

#endif
