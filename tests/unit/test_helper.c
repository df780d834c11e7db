/* test_helper.c — mdl/helper.h, the second thread of BPTT's gradient sums:
 * every item posted runs once, in the order posted, before
 * mdl_helper_wait returns, over many passes on the one thread; and with
 * one thread the items run at once, inside mdl_helper_post. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdatomic.h>

#include "mdl/blas.h"
#include "mdl/helper.h"

enum { MAX_ITEMS = 64 };

/* What a pass's items did: the items in the order run. */
typedef struct {
  int ran[MAX_ITEMS];
  atomic_int n_ran;
  int pass;
} Record;

static void record(void *context, int item) {
  Record *r = context;
  int n = atomic_load(&r->n_ran);
  r->ran[n] = item + 1000 * r->pass;
  atomic_store(&r->n_ran, n + 1);
}

/* Many passes of different lengths, as the backward passes of sequences
 * of different lengths: a pass's items are all run, in order, when wait
 * returns, and never one of the next pass early. */
static void passes(int threads) {
  mdl_set_threads(threads);
  mdl_helper *helper = mdl_helper_new(MAX_ITEMS);
  Record records[2];
  for (int pass = 0; pass < 300; pass++) {
    Record *r = &records[pass % 2];
    atomic_store(&r->n_ran, 0);
    r->pass = pass;
    mdl_helper_begin(helper, record, r);
    int items = 1 + (pass * 37) % MAX_ITEMS;
    for (int s = items; s >= 1; s--)
      mdl_helper_post(helper, s);
    mdl_helper_wait(helper);
    cr_assert_eq(atomic_load(&r->n_ran), items, "pass %d ran %d of %d items",
                 pass, atomic_load(&r->n_ran), items);
    for (int k = 0; k < items; k++)
      cr_assert_eq(r->ran[k], items - k + 1000 * pass,
                   "pass %d: item %d ran as %d", pass, k, r->ran[k]);
  }
  mdl_helper_free(helper);
  mdl_set_threads(1);
}

Test(helper, every_item_runs_in_order_before_wait_returns) { passes(2); }

Test(helper, one_thread_runs_each_item_as_it_is_posted) {
  mdl_set_threads(1);
  mdl_helper *helper = mdl_helper_new(4);
  Record r = {.pass = 0};
  atomic_init(&r.n_ran, 0);
  mdl_helper_begin(helper, record, &r);
  mdl_helper_post(helper, 7);
  cr_expect_eq(atomic_load(&r.n_ran), 1, "the item did not run at once");
  cr_expect_eq(r.ran[0], 7);
  mdl_helper_wait(helper);
  mdl_helper_free(helper);
  passes(1);
}

/* A pass that posts more than it announced is a bug in the program: it
 * stops with a message rather than overwrite an item not yet run. */
Test(helper, a_pass_longer_than_announced_stops, .exit_code = 1,
     .init = cr_redirect_stderr) {
  mdl_set_threads(2);
  mdl_helper *helper = mdl_helper_new(3);
  Record r = {.pass = 0};
  atomic_init(&r.n_ran, 0);
  mdl_helper_begin(helper, record, &r);
  for (int s = 0; s < 4; s++)
    mdl_helper_post(helper, s);
  mdl_helper_wait(helper);
}
