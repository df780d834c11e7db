/* helper.c — the second thread of mdl/helper.h.
 *
 * The main thread posts by publishing a count; the helper runs what it has
 * not run yet. Between items it spins for a while before it sleeps, since
 * the next item usually comes within tens of microseconds (one step of the
 * recurrence) and waking a sleeping thread costs about as much. */
#include "mdl/helper.h"

#include "mdl/base.h"
#include "mdl/blas.h"

#include <fenv.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Polls of the posted count before the helper sleeps: some tens of
 * microseconds. */
enum { SPINS = 4000 };

struct mdl_helper {
  mdl_helper_fn fn;
  void *context;
  int *items;
  int max_items;
  atomic_int posted;    /* items[0 .. posted) are posted */
  atomic_int finishing; /* nothing more will be posted */
  atomic_int sleeping;  /* the helper waits on wake */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_t thread;
  int threaded;
  fenv_t environment; /* the main thread's: flushing subnormals, rounding */
};

static void pause_briefly(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Whether there is an item after the first `next`, or nothing more to
 * wait for. */
static int has_work(mdl_helper *h, int next) {
  return next < atomic_load(&h->posted) || atomic_load(&h->finishing);
}

static void *run(void *arg) {
  mdl_helper *h = arg;
  fesetenv(&h->environment);
  int next = 0;
  for (;;) {
    if (next < atomic_load(&h->posted)) {
      h->fn(h->context, h->items[next]);
      next++;
      continue;
    }
    /* finishing is set after the last post, so once it is seen, posted is
     * final: look at it once more */
    if (atomic_load(&h->finishing)) {
      if (next < atomic_load(&h->posted))
        continue;
      return NULL;
    }
    for (int i = 0; i < SPINS && !has_work(h, next); i++)
      pause_briefly();
    if (has_work(h, next))
      continue;
    /* Sleep. `sleeping` is set before posted is read again, and the main
     * thread publishes posted before it reads sleeping: one of the two
     * sees the other, so a post is never missed. */
    pthread_mutex_lock(&h->lock);
    atomic_store(&h->sleeping, 1);
    while (!has_work(h, next))
      pthread_cond_wait(&h->wake, &h->lock);
    atomic_store(&h->sleeping, 0);
    pthread_mutex_unlock(&h->lock);
  }
}

static void wake(mdl_helper *h) {
  if (atomic_load(&h->sleeping)) {
    pthread_mutex_lock(&h->lock);
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
  }
}

mdl_helper *mdl_helper_start(mdl_helper_fn fn, void *context, int max_items) {
  mdl_helper *h = mdl_alloc(sizeof *h);
  h->fn = fn;
  h->context = context;
  h->max_items = max_items;
  h->items = mdl_alloc(sizeof *h->items * (max_items > 0 ? max_items : 1));
  atomic_init(&h->posted, 0);
  atomic_init(&h->finishing, 0);
  atomic_init(&h->sleeping, 0);
  h->threaded = 0;
  if (mdl_threads() <= 1)
    return h;
  fegetenv(&h->environment);
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->wake, NULL);
  /* The helper takes no signals: they go to the main thread, which acts
   * on them (runtime/stop.c). It inherits the mask it starts with. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  h->threaded = pthread_create(&h->thread, NULL, run, h) == 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (!h->threaded) {
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
  }
  return h;
}

void mdl_helper_post(mdl_helper *h, int item) {
  if (!h->threaded) {
    h->fn(h->context, item);
    return;
  }
  int n = atomic_load(&h->posted);
  if (n >= h->max_items)
    mdl_die("mdl_helper_post: more than the %d items announced", h->max_items);
  h->items[n] = item;
  atomic_store(&h->posted, n + 1); /* publishes items[n] */
  wake(h);
}

void mdl_helper_finish(mdl_helper *h) {
  if (h->threaded) {
    atomic_store(&h->finishing, 1);
    wake(h);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
  }
  free(h->items);
  free(h);
}
