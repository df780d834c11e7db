/* test_plot.c — learning-curve figures (runtime/plot.c, and compiler/plot.c
 * for sweeps): real PNG and SVG files with the legend's labels in them, a
 * log axis only where it can show every value, and errors, not exits, for
 * paths PLplot could not write. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/plot.h"
#include "plot.h"
#include "scratch.h"

static char plot_dir[64];

static void plot_setup(void) { scratch_make(plot_dir, "plot"); }

static void plot_teardown(void) { scratch_remove(plot_dir); }

static const char *plot_path(const char *name) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", plot_dir, name);
  return path;
}

/* The whole file, NUL-terminated; its length in *size. */
static char *slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  cr_assert(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *text = malloc((size_t)n + 1);
  cr_assert(fread(text, 1, (size_t)n, f) == (size_t)n);
  fclose(f);
  text[n] = '\0';
  *size = (size_t)n;
  return text;
}

/* PLplot's svg driver writes each character as a reference (&#x4E;); this
 * turns them back into UTF-8, in place, so labels can be searched for. */
static void decode_references(char *s) {
  char *out = s;
  while (*s) {
    unsigned long c;
    int used;
    if (sscanf(s, "&#x%lx;%n", &c, &used) == 1 && used > 0) {
      if (c < 0x80) {
        *out++ = (char)c;
      } else if (c < 0x800) {
        *out++ = (char)(0xC0 | c >> 6);
        *out++ = (char)(0x80 | (c & 0x3F));
      } else {
        *out++ = (char)(0xE0 | c >> 12);
        *out++ = (char)(0x80 | (c >> 6 & 0x3F));
        *out++ = (char)(0x80 | (c & 0x3F));
      }
      s += used;
    } else {
      *out++ = *s++;
    }
  }
  *out = '\0';
}

enum { N = 41 };
static double updates[N], nag[N], cm[N];

/* Two curves like CURVES' training error under NAG and CM. */
static void make_curves(void) {
  for (int i = 0; i < N; i++) {
    updates[i] = 250.0 * i;
    nag[i] = 4 + 257 * exp(-i / 6.0);
    cm[i] = 9 + 252 * exp(-i / 14.0);
  }
}

Test(plot, writes_a_png_and_an_svg_with_the_legend, .init = plot_setup,
     .fini = plot_teardown) {
  make_curves();
  PlotLine lines[] = {{"NAG, μ_max 0.999", N, updates, nag},
                      {"CM #2", N, updates, cm}};
  char err[256] = "";
  int rc = plot_curves(plot_path("curves"), "CURVES", "updates",
                       "training error", 2, lines, err, sizeof err);
  cr_assert_eq(rc, 0, "plot_curves: %s", err);

  size_t size;
  unsigned char *png = (unsigned char *)slurp(plot_path("curves.png"), &size);
  static const unsigned char signature[8] = {0x89, 'P',  'N',  'G',
                                             '\r', '\n', 0x1A, '\n'};
  cr_assert(size > 5000 && size < 2000000, "PNG of %zu bytes", size);
  cr_assert(memcmp(png, signature, 8) == 0, "not a PNG");
  /* IHDR, the first chunk: width and height, big-endian, at 16 and 20. */
  unsigned width =
      (unsigned)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19];
  unsigned height =
      (unsigned)png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23];
  cr_expect(width >= 600 && height >= 400, "PNG of %ux%u", width, height);
  free(png);

  char *svg = slurp(plot_path("curves.svg"), &size);
  cr_assert(strncmp(svg, "<?xml", 5) == 0 || strncmp(svg, "<svg", 4) == 0);
  cr_expect(strstr(svg, "</svg>") != NULL, "SVG not closed");
  decode_references(svg);
  cr_expect(strstr(svg, "NAG, μ_max 0.999") != NULL, "no NAG label");
  cr_expect(strstr(svg, "CM #2") != NULL, "no CM label ('#' escaped?)");
  cr_expect(strstr(svg, "training error") != NULL, "no y label");
  cr_expect(strstr(svg, "CURVES") != NULL, "no title");
  free(svg);
}

Test(plot, zero_nan_and_empty_lines_still_draw, .init = plot_setup,
     .fini = plot_teardown) {
  make_curves();
  double zero_one[N];
  for (int i = 0; i < N; i++)
    zero_one[i] = i < 30 ? 0.5 / (i + 1) : 0; /* reaches zero error */
  cm[20] = NAN;                               /* a gap */
  cm[40] = INFINITY;
  PlotLine lines[] = {{"zero-one", N, updates, zero_one},
                      {"no points yet", 0, NULL, NULL},
                      {"CM", N, updates, cm}};
  char err[256] = "";
  cr_assert_eq(plot_curves(plot_path("odd"), "odd", "updates", "error", 3,
                           lines, err, sizeof err),
               0, "plot_curves: %s", err);
  size_t size;
  free(slurp(plot_path("odd.png"), &size));
  cr_expect(size > 5000);
}

/* No lines at all is a figure with axes that says "no data yet": a report
 * made before any run has logged still has its figure. */
Test(plot, no_lines_is_an_empty_figure, .init = plot_setup,
     .fini = plot_teardown) {
  char err[256] = "";
  cr_assert_eq(plot_curves(plot_path("empty"), "waiting", "updates", "error", 0,
                           NULL, err, sizeof err),
               0, "plot_curves: %s", err);
  size_t size;
  char *svg = slurp(plot_path("empty.svg"), &size);
  decode_references(svg);
  cr_expect(strstr(svg, "no data yet") != NULL);
  free(svg);
}

Test(plot, unwritable_paths_are_errors_not_exits, .init = plot_setup,
     .fini = plot_teardown) {
  make_curves();
  PlotLine line = {"NAG", N, updates, nag};
  char err[256] = "";
  cr_assert_eq(plot_curves(plot_path("no/such/dir/fig"), "t", "x", "y", 1,
                           &line, err, sizeof err),
               -1);
  cr_expect(strstr(err, "no/such/dir/fig.png") != NULL, "message: %s", err);

  /* Below a regular file: unwritable even for root. */
  FILE *f = fopen(plot_path("file"), "w");
  cr_assert(f != NULL);
  fclose(f);
  err[0] = '\0';
  cr_assert_eq(plot_curves(plot_path("file/fig"), "t", "x", "y", 1, &line, err,
                           sizeof err),
               -1);
  cr_expect(strstr(err, "cannot write") != NULL, "message: %s", err);

  err[0] = '\0';
  PlotLine broken = {"broken", 3, NULL, NULL};
  cr_assert_eq(
      plot_curves(plot_path("fig"), "t", "x", "y", 1, &broken, err, sizeof err),
      -1);
  cr_expect(err[0] != '\0');
}

/* A training program's --plot picks the driver by the extension. */
Test(plot, the_extension_names_the_device) {
  cr_expect_str_eq(mdl_plot_device("curves.png"), "pngcairo");
  cr_expect_str_eq(mdl_plot_device("out/run.1.svg"), "svg");
  const char *others[] = {
      "curves.pdf", "curves", "curves.png.old", ".png", "dir/.svg",
      "a.PNG",      ""};
  for (size_t i = 0; i < sizeof others / sizeof *others; i++)
    cr_expect_null(mdl_plot_device(others[i]), "%s", others[i]);
  cr_expect_null(mdl_plot_device(NULL));
}

/* The y labels of an SVG figure: the texts right-aligned left of the axes
 * are the ticks; here, whether one reads exactly `label`. */
static int has_text(const char *svg, const char *label) {
  char want[64];
  snprintf(want, sizeof want, ">%s</tspan>", label);
  return strstr(svg, want) != NULL;
}

/* MDL_PLOT_LOG_IF_POSITIVE: an error that reaches 0 is drawn on a linear
 * axis with 0 on it; errors that stay positive on a log axis, which has
 * no 0. */
Test(plot, log_axis_only_for_positive_errors, .init = plot_setup,
     .fini = plot_teardown) {
  double x[] = {100, 200, 300, 400};
  double with_zero[] = {3, 2, 1, 0}, positive[] = {3.5, 2, 1.5, 1};
  mdl_plot_line line = {"train_error", 4, x, with_zero};
  mdl_plot plot = {"t", "updates", "error", MDL_PLOT_LOG_IF_POSITIVE, 1, &line};
  mdl_error err;
  cr_assert_eq(mdl_plot_write(plot_path("linear.svg"), "svg", &plot, &err), 0,
               "%s", err.message);
  line.y = positive;
  cr_assert_eq(mdl_plot_write(plot_path("log.svg"), "svg", &plot, &err), 0,
               "%s", err.message);
  size_t size;
  char *linear = slurp(plot_path("linear.svg"), &size);
  char *log = slurp(plot_path("log.svg"), &size);
  decode_references(linear);
  decode_references(log);
  /* Linear: 0 to 3 in steps of 1 (0.5 between would be 2.5, a minor tick). */
  cr_expect(has_text(linear, "0") && has_text(linear, "1") &&
                has_text(linear, "2") && has_text(linear, "3"),
            "linear ticks");
  cr_expect(!has_text(linear, "0.5"));
  /* Log, less than a decade: every digit from 1 to 3, and no 0. */
  cr_expect(has_text(log, "1") && has_text(log, "2") && has_text(log, "3"),
            "log ticks");
  cr_expect(!has_text(log, "0"));
  free(linear);
  free(log);

  /* MDL_PLOT_LOG keeps a log axis and puts the zero on its bottom edge. */
  line.y = with_zero;
  plot.scale = MDL_PLOT_LOG;
  cr_assert_eq(mdl_plot_write(plot_path("edge.svg"), "svg", &plot, &err), 0,
               "%s", err.message);
  char *edge = slurp(plot_path("edge.svg"), &size);
  decode_references(edge);
  cr_expect(!has_text(edge, "0") && has_text(edge, "1"), "log ticks");
  free(edge);
}

/* MDL_PLOT_LINEAR (a quadratic's path in the plane): linear axes even
 * when every y is positive, with 0 in their range: the minimum. */
Test(plot, linear_axes_hold_the_origin, .init = plot_setup,
     .fini = plot_teardown) {
  double x[] = {0.5, 0.75, 1}, y[] = {3, 2, 1};
  mdl_plot_line line = {"CM", 3, x, y};
  mdl_plot plot = {"t", "θ1", "θ2", MDL_PLOT_LINEAR, 1, &line};
  mdl_error err;
  cr_assert_eq(mdl_plot_write(plot_path("path.svg"), "svg", &plot, &err), 0,
               "%s", err.message);
  size_t size;
  char *svg = slurp(plot_path("path.svg"), &size);
  decode_references(svg);
  cr_expect(has_text(svg, "0") && has_text(svg, "1") && has_text(svg, "2") &&
                has_text(svg, "3"),
            "linear y ticks from 0");
  cr_expect(has_text(svg, "0.0"), "x from 0: PLplot labels it 0.0");
  cr_expect(has_text(svg, "CM"));
  free(svg);
}

Test(plot, unwritable_file_is_an_error, .init = plot_setup,
     .fini = plot_teardown) {
  double x[] = {1, 2}, y[] = {2, 1};
  mdl_plot_line line = {"e", 2, x, y};
  mdl_plot plot = {"t", "updates", "error", MDL_PLOT_LOG_IF_POSITIVE, 1, &line};
  mdl_error err;
  cr_assert_eq(
      mdl_plot_write(plot_path("no/such/dir/f.png"), "pngcairo", &plot, &err),
      -1);
  cr_expect(strstr(err.message, "cannot write") &&
                strstr(err.message, "no/such/dir/f.png"),
            "%s", err.message);
  cr_expect_eq(mdl_plot_check_device("pngcairo", &err), 0, "%s", err.message);
  cr_expect_eq(mdl_plot_check_device("svg", &err), 0, "%s", err.message);
  cr_expect_eq(mdl_plot_check_device("no-such-device", &err), -1);
  cr_expect(strstr(err.message, "no-such-device driver is missing"), "%s",
            err.message);
}
