/* helper.c — the second thread of mdl/helper.h.
 *
 * Two counters tell the threads apart: the main thread publishes `posted`,
 * the helper publishes `done`, each the number of items since the helper
 * was made, so a pass needs no reset. Items sit in a ring of max_items
 * slots, which a pass cannot overrun because the main thread waits for
 * the last pass's items before it begins the next.
 *
 * Either thread spins for a while before it sleeps: within a pass the next
 * item usually comes within tens of microseconds (one step of the
 * recurrence), and waking a sleeping thread costs about as much. Between
 * passes (a forward pass, an update: milliseconds) the helper sleeps. */
#include "mdl/helper.h"

#include "mdl/base.h"
#include "mdl/blas.h"

#include <fenv.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Polls of a counter before a thread sleeps: some tens of microseconds. */
enum { SPINS = 4000 };

struct mdl_helper {
  mdl_helper_fn fn;
  void *context;
  int *items; /* a ring: item k of all time sits in items[k % max_items] */
  int max_items;
  long begun;           /* posted when this pass began (main thread only) */
  atomic_long posted;   /* items posted since the helper was made */
  atomic_long done;     /* of them, the items run */
  atomic_int quitting;  /* the thread is to end */
  atomic_int sleeping;  /* the helper waits on wake */
  atomic_int waiting;   /* the main thread waits on idle */
  pthread_mutex_t lock; /* for both conditions */
  pthread_cond_t wake;
  pthread_cond_t idle;
  pthread_t thread;
  int threaded;
  fenv_t environment; /* the main thread's: flushing subnormals, rounding */
};

static void pause_briefly(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Whether the helper has an item to run, or is to end. */
static int has_work(mdl_helper *h) {
  return atomic_load(&h->done) < atomic_load(&h->posted) ||
         atomic_load(&h->quitting);
}

static int all_done(mdl_helper *h) {
  return atomic_load(&h->done) == atomic_load(&h->posted);
}

/* Spins until ready(h), then sleeps on cond with *flag set, so that the
 * other thread knows to signal it. Both threads wait so, and it is safe for
 * the same reason: each sets its own flag before it reads the other's
 * counter once more, and publishes its own counter before it reads the
 * other's flag (all sequentially consistent), so one of the two always
 * sees the other. */
static void await(mdl_helper *h, int (*ready)(mdl_helper *), atomic_int *flag,
                  pthread_cond_t *cond) {
  for (int i = 0; i < SPINS && !ready(h); i++)
    pause_briefly();
  if (ready(h))
    return;
  pthread_mutex_lock(&h->lock);
  atomic_store(flag, 1);
  while (!ready(h))
    pthread_cond_wait(cond, &h->lock);
  atomic_store(flag, 0);
  pthread_mutex_unlock(&h->lock);
}

/* Wakes the other thread if its flag says it sleeps on cond. */
static void signal_sleeper(mdl_helper *h, atomic_int *flag,
                           pthread_cond_t *cond) {
  if (atomic_load(flag)) {
    pthread_mutex_lock(&h->lock);
    pthread_cond_signal(cond);
    pthread_mutex_unlock(&h->lock);
  }
}

static void *run(void *arg) {
  mdl_helper *h = arg;
  fesetenv(&h->environment);
  for (;;) {
    long next = atomic_load(&h->done);
    if (next < atomic_load(&h->posted)) {
      h->fn(h->context, h->items[next % h->max_items]);
      atomic_store(&h->done, next + 1);
      signal_sleeper(h, &h->waiting, &h->idle);
      continue;
    }
    if (atomic_load(&h->quitting))
      return NULL;
    await(h, has_work, &h->sleeping, &h->wake);
  }
}

static void wake(mdl_helper *h) { signal_sleeper(h, &h->sleeping, &h->wake); }

mdl_helper *mdl_helper_new(int max_items) {
  mdl_helper *h = mdl_zalloc(sizeof *h);
  h->max_items = max_items > 0 ? max_items : 1;
  h->items = mdl_alloc(sizeof *h->items * h->max_items);
  atomic_init(&h->posted, 0);
  atomic_init(&h->done, 0);
  atomic_init(&h->quitting, 0);
  atomic_init(&h->sleeping, 0);
  atomic_init(&h->waiting, 0);
  if (mdl_threads() <= 1)
    return h;
  fegetenv(&h->environment);
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->wake, NULL);
  pthread_cond_init(&h->idle, NULL);
  /* The helper takes no signals: they go to the main thread, which acts
   * on them (runtime/stop.c). It inherits the mask it starts with. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  h->threaded = pthread_create(&h->thread, NULL, run, h) == 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (!h->threaded) {
    pthread_cond_destroy(&h->idle);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
  }
  return h;
}

void mdl_helper_begin(mdl_helper *h, mdl_helper_fn fn, void *context) {
  /* The helper reads fn and context only after it sees a post of this
   * pass, which publishes them. */
  h->fn = fn;
  h->context = context;
  h->begun = atomic_load(&h->posted);
}

void mdl_helper_post(mdl_helper *h, int item) {
  if (!h->threaded) {
    h->fn(h->context, item);
    return;
  }
  long n = atomic_load(&h->posted);
  if (n - h->begun >= h->max_items)
    mdl_die("mdl_helper_post: more than the %d items of a pass", h->max_items);
  h->items[n % h->max_items] = item;
  atomic_store(&h->posted, n + 1); /* publishes items[n % max_items] */
  wake(h);
}

void mdl_helper_wait(mdl_helper *h) {
  if (h->threaded)
    await(h, all_done, &h->waiting, &h->idle);
}

void mdl_helper_free(mdl_helper *h) {
  if (!h)
    return;
  if (h->threaded) {
    mdl_helper_wait(h);
    atomic_store(&h->quitting, 1);
    wake(h);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->idle);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
  }
  free(h->items);
  free(h);
}
