/* mdl/helper.h — a second thread for work that can run beside the main
 * thread's: BPTT's weight gradients, whose term of step s can be summed as
 * soon as δ_s is made while the main thread goes on to δ_{s-1}.
 *
 * The main thread posts items (step numbers) in order; the helper runs
 * fn(context, item) for each, in the order posted, so the sums it makes are
 * the same numbers whatever the threads. With one thread (--threads 1, or
 * when no thread can be started) there is no helper, and mdl_helper_post
 * runs the item itself, at once. The helper lives from mdl_helper_start to
 * mdl_helper_finish, which waits for every item posted; it takes no
 * signals (the main thread does, runtime/stop.c). */
#ifndef MDL_HELPER_H
#define MDL_HELPER_H

typedef struct mdl_helper mdl_helper;
typedef void (*mdl_helper_fn)(void *context, int item);

/* A helper for at most max_items posts, on a thread of its own when
 * mdl_threads() is more than 1. */
mdl_helper *mdl_helper_start(mdl_helper_fn fn, void *context, int max_items);

/* Hands item to the helper (or, without a thread, runs it now). What the
 * item reads must not change until mdl_helper_finish. */
void mdl_helper_post(mdl_helper *helper, int item);

/* Waits until every posted item has run, and ends the helper. */
void mdl_helper_finish(mdl_helper *helper);

#endif
