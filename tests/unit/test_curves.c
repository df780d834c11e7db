/* test_curves.c — the re-synthesised CURVES images (runtime/data_curves.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "mdl/data.h"

enum { CURVE_PIXELS = 28 * 28 };

static mdl_dataset curves_or_fail(int n_cases, uint64_t seed) {
  mdl_dataset ds;
  mdl_error err = {""};
  cr_assert_eq(mdl_data_curves(&ds, n_cases, seed, &err), 0, "%s", err.message);
  cr_assert_eq(ds.n_cases, n_cases);
  cr_assert_eq(ds.n_inputs, CURVE_PIXELS);
  return ds;
}

static const float *curve_image(const mdl_dataset *ds, int i) {
  return ds->inputs + (size_t)i * CURVE_PIXELS;
}

Test(curves, values_lie_in_unit_interval) {
  mdl_dataset ds = curves_or_fail(200, 1);
  for (size_t k = 0; k < (size_t)200 * CURVE_PIXELS; k++)
    cr_assert(ds.inputs[k] >= 0.0f && ds.inputs[k] <= 1.0f, "value %zu is %g",
              k, ds.inputs[k]);
  mdl_data_free(&ds);
}

Test(curves, same_seed_same_images) {
  mdl_dataset a = curves_or_fail(50, 7), b = curves_or_fail(50, 7);
  cr_assert(memcmp(a.inputs, b.inputs, sizeof(float) * 50 * CURVE_PIXELS) == 0,
            "two runs with seed 7 differ");
  mdl_data_free(&a);
  mdl_data_free(&b);
}

Test(curves, different_seeds_differ) {
  mdl_dataset a = curves_or_fail(50, 1), b = curves_or_fail(50, 2);
  for (int i = 0; i < 50; i++)
    cr_assert(memcmp(curve_image(&a, i), curve_image(&b, i),
                     sizeof(float) * CURVE_PIXELS) != 0,
              "case %d is the same for seeds 1 and 2", i);
  mdl_data_free(&a);
  mdl_data_free(&b);
}

Test(curves, cases_differ_within_a_set) {
  mdl_dataset ds = curves_or_fail(50, 1);
  for (int i = 1; i < 50; i++)
    cr_assert(memcmp(curve_image(&ds, i - 1), curve_image(&ds, i),
                     sizeof(float) * CURVE_PIXELS) != 0,
              "cases %d and %d are identical", i - 1, i);
  mdl_data_free(&ds);
}

Test(curves, case_does_not_depend_on_count) {
  mdl_dataset small = curves_or_fail(10, 3), big = curves_or_fail(100, 3);
  cr_assert(
      memcmp(small.inputs, big.inputs, sizeof(float) * 10 * CURVE_PIXELS) == 0,
      "the first 10 cases change with n_cases");
  mdl_data_free(&small);
  mdl_data_free(&big);
}

Test(curves, mean_intensity_is_that_of_thin_strokes) {
  mdl_dataset ds = curves_or_fail(1000, 1);
  double sum = 0;
  for (size_t k = 0; k < (size_t)1000 * CURVE_PIXELS; k++)
    sum += ds.inputs[k];
  double mean = sum / (1000.0 * CURVE_PIXELS);
  /* About 0.058 over 20000 cases; thicker or missing strokes fall outside. */
  cr_assert(mean > 0.045 && mean < 0.075, "mean pixel value %g", mean);
  mdl_data_free(&ds);
}

Test(curves, every_image_has_a_bright_stroke) {
  mdl_dataset ds = curves_or_fail(1000, 5);
  for (int i = 0; i < 1000; i++) {
    const float *image = curve_image(&ds, i);
    int bright = 0, lit = 0;
    for (int k = 0; k < CURVE_PIXELS; k++) {
      bright += image[k] > 0.5f;
      lit += image[k] > 0.0f;
    }
    cr_assert(bright > 0, "case %d has no pixel above 0.5", i);
    /* A stroke, not a blob: most of the image stays black. */
    cr_assert(lit < CURVE_PIXELS / 2, "case %d lights %d pixels", i, lit);
  }
  mdl_data_free(&ds);
}

/* Flood-fills the 8-connected region of pixels above 0.5 from pixel start,
 * marking seen[]; returns its size. */
static int bright_region(const float *image, int start, char *seen) {
  int stack[CURVE_PIXELS], top = 0, size = 0;
  stack[top++] = start;
  seen[start] = 1;
  while (top > 0) {
    int k = stack[--top], r = k / 28, c = k % 28;
    size++;
    for (int dr = -1; dr <= 1; dr++)
      for (int dc = -1; dc <= 1; dc++) {
        int rr = r + dr, cc = c + dc, n = rr * 28 + cc;
        if (rr >= 0 && rr < 28 && cc >= 0 && cc < 28 && !seen[n] &&
            image[n] > 0.5f) {
          seen[n] = 1;
          stack[top++] = n;
        }
      }
  }
  return size;
}

Test(curves, stroke_is_one_unbroken_piece) {
  mdl_dataset ds = curves_or_fail(300, 11);
  for (int i = 0; i < 300; i++) {
    const float *image = curve_image(&ds, i);
    char seen[CURVE_PIXELS] = {0};
    int pieces = 0;
    for (int k = 0; k < CURVE_PIXELS; k++)
      if (image[k] > 0.5f && !seen[k]) {
        bright_region(image, k, seen);
        pieces++;
      }
    cr_assert_eq(pieces, 1, "case %d's stroke is in %d pieces", i, pieces);
  }
  mdl_data_free(&ds);
}

Test(curves, describes_its_source) {
  mdl_dataset ds = curves_or_fail(20, 9);
  cr_assert_str_eq(ds.source, "curves (synthetic, 20 cases, seed 9)");
  cr_assert_eq(ds.n_targets, 0);
  cr_assert_null(ds.targets);
  mdl_data_free(&ds);
}

Test(curves, rejects_no_cases) {
  mdl_dataset ds;
  mdl_error err = {""};
  cr_assert_eq(mdl_data_curves(&ds, 0, 1, &err), -1);
  cr_assert(strstr(err.message, "must be positive") != NULL, "%s", err.message);
  cr_assert_null(ds.inputs);
}
