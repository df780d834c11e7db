/* mdl/helper.h — a second thread for work that can run beside the main
 * thread's: a recurrent net's forward and backward passes through time,
 * whose minibatch splits into two bands of sequences that never meet, one
 * band on each thread.
 *
 * A program makes its helper once, before training, and uses it in passes
 * (one per forward or backward pass): mdl_helper_begin names the work, the
 * main thread posts items (a band's number) in order, and the helper runs
 * fn(context, item) for each, in the order posted, so what it makes is the
 * same numbers whatever the threads; mdl_helper_wait ends the pass. Between passes the
 * thread sleeps. With one thread (--threads 1, or when no thread can be
 * started) there is no second thread, and mdl_helper_post runs the item
 * itself, at once. The helper takes no signals (the main thread does,
 * runtime/stop.c). */
#ifndef MDL_HELPER_H
#define MDL_HELPER_H

typedef struct mdl_helper mdl_helper;
typedef void (*mdl_helper_fn)(void *context, int item);

/* A helper for passes of at most max_items posts each, on a thread of its
 * own when mdl_threads() is more than 1. The thread starts with the
 * calling thread's floating-point environment (mdl_flush_subnormals). */
mdl_helper *mdl_helper_new(int max_items);

/* Begins a pass: the items posted until mdl_helper_wait run
 * fn(context, item). */
void mdl_helper_begin(mdl_helper *helper, mdl_helper_fn fn, void *context);

/* Hands item to the helper (or, without a thread, runs it now). What the
 * item reads must not change until mdl_helper_wait. */
void mdl_helper_post(mdl_helper *helper, int item);

/* Waits until every item posted in this pass has run. */
void mdl_helper_wait(mdl_helper *helper);

/* Ends the helper's thread (after the pass it may be in) and frees it. */
void mdl_helper_free(mdl_helper *helper);

#endif
