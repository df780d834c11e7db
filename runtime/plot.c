/* plot.c — learning curves drawn with PLplot; see mdl/plot.h. A PNG goes
 * through the pngcairo driver, an SVG through the svg driver (which keeps
 * text as <text>, so the labels stay searchable; svgcairo turns them into
 * glyph outlines).
 *
 * PLplot ends the process (plexit) when it cannot open its output file, so
 * everything that can fail is checked here before PLplot is called. It is not
 * thread-safe: one figure at a time. */
#include "mdl/plot.h"

#include <errno.h>
#include <math.h>
#include <plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WIDTH_PX = 960, HEIGHT_PX = 640 };

/* Colour map 0: 0 is the background, 1 the axes and text, then the lines'
 * colours (Okabe & Ito's palette less its yellow, told apart with colour
 * blindness too, and a grey). */
static const int palette[][3] = {
    {255, 255, 255}, {0, 0, 0},      {0, 114, 178},
    {213, 94, 0},    {0, 158, 115},  {204, 121, 167},
    {230, 159, 0},   {86, 180, 233}, {110, 110, 110},
};
enum {
  N_PALETTE = sizeof palette / sizeof palette[0],
  FIRST_LINE_COLOUR = 2,
  N_LINE_COLOURS = N_PALETTE - FIRST_LINE_COLOUR,
  N_LINE_STYLES = 8 /* PLplot's pllsty 1 (solid) to 8 */
};

/* The legend's line samples, as a part of the axes' width. */
static const double SAMPLE_WIDTH = 0.06;
/* Widths in PLplot's character heights (a capital's height, not the font
 * size): a digit, and an average character of text. */
static const double DIGIT_WIDTH = 0.8, CHAR_WIDTH = 0.56;

/* Line k's colour and style: the first N_LINE_COLOURS lines differ in both;
 * after that the style shifts, so no two of the first 56 lines look alike. */
static int line_colour(int k) { return FIRST_LINE_COLOUR + k % N_LINE_COLOURS; }
static int line_style(int k) {
  return 1 + (k % N_LINE_COLOURS + k / N_LINE_COLOURS) % N_LINE_STYLES;
}

/* NaN and infinities (a diverged run) are not drawn: the line breaks there,
 * so a gap is never bridged. */
static int drawable(double x, double y) { return isfinite(x) && isfinite(y); }

/* The axes' extent; y in the axis' own units (log10 y on a log axis). */
typedef struct {
  double x_min, x_max;
  double y_min, y_max;
  int log; /* the y axis is logarithmic */
  int n_points;
} Range;

/* Errors of exactly zero do happen (a zero-one error that reaches 0). On a
 * log axis (MDL_PLOT_LOG) such a point, and any y <= 0, is drawn on the
 * bottom edge, half a decade below the smallest positive value: that is
 * where zero lies, and the line visibly drops off the scale instead of
 * vanishing. MDL_PLOT_LOG_IF_POSITIVE draws them on a linear axis. */
static Range find_range(const mdl_plot *plot) {
  Range r = {INFINITY, -INFINITY, 0, 0, 1, 0};
  double pos_min = INFINITY, pos_max = -INFINITY;
  double all_min = INFINITY, all_max = -INFINITY;
  for (int k = 0; k < plot->n_lines; k++)
    for (int i = 0; i < plot->lines[k].n; i++) {
      double x = plot->lines[k].x[i], y = plot->lines[k].y[i];
      if (!drawable(x, y))
        continue;
      r.n_points++;
      r.x_min = fmin(r.x_min, x);
      r.x_max = fmax(r.x_max, x);
      all_min = fmin(all_min, y);
      all_max = fmax(all_max, y);
      if (y > 0) {
        pos_min = fmin(pos_min, y);
        pos_max = fmax(pos_max, y);
      }
    }
  if (r.n_points == 0) {
    r.x_min = 0, r.x_max = 1;
  } else if (r.x_min == r.x_max) {
    r.x_min -= 0.5, r.x_max += 0.5;
  }
  int any_not_positive = r.n_points > 0 && all_min <= 0;
  if (plot->scale == MDL_PLOT_LINEAR && r.n_points > 0) {
    double lo = fmin(0, r.x_min), hi = fmax(0, r.x_max);
    double pad = 0.04 * (hi > lo ? hi - lo : 1);
    r.x_min = lo - pad;
    r.x_max = hi + pad;
  }
  if ((plot->scale == MDL_PLOT_LOG_IF_POSITIVE && any_not_positive) ||
      plot->scale == MDL_PLOT_LINEAR) {
    /* From zero (or below) to the largest value, a little room around. */
    double lo = fmin(0, all_min), hi = all_max > lo ? all_max : lo + 1;
    if (plot->scale == MDL_PLOT_LINEAR)
      hi = fmax(hi, 0);
    double pad = 0.04 * (hi - lo);
    r.log = 0;
    r.y_min = lo - pad;
    r.y_max = hi + pad;
    return r;
  }
  if (pos_min > pos_max) /* no positive value at all */
    pos_min = 1, pos_max = 10;
  /* At least a third of a decade tall, with a little room above and below. */
  double lo = log10(pos_min), hi = log10(pos_max), mid = 0.5 * (lo + hi);
  if (hi - lo < 1.0 / 3)
    lo = mid - 1.0 / 6, hi = mid + 1.0 / 6;
  double pad = 0.04 * (hi - lo);
  r.y_min = lo - pad - (any_not_positive ? 0.5 : 0);
  r.y_max = hi + pad;
  return r;
}

/* PLplot reads '#' as the start of an escape sequence; "##" is a '#'. */
static char *escape_text(const char *s) {
  s = s ? s : "";
  size_t n = 0;
  for (const char *p = s; *p; p++)
    n += *p == '#' ? 2 : 1;
  char *out = malloc(n + 1), *q = out;
  if (!out)
    return NULL;
  for (const char *p = s; *p; p++) {
    *q++ = *p;
    if (*p == '#')
      *q++ = '#';
  }
  *q = '\0';
  return out;
}

static size_t utf8_length(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* A y tick's value as people write it: 20, 0.005, or 10^-7 (in PLplot's
 * superscript escapes) far from 1. Returns the characters it shows. */
static int format_tick(char *out, size_t size, int mantissa, int exponent) {
  if (exponent >= -4 && exponent <= 5)
    return snprintf(out, size, "%g", mantissa * pow(10, exponent));
  if (mantissa == 1)
    return snprintf(out, size, "10#u%d#d", exponent) - 4;
  return snprintf(out, size, "%d×10#u%d#d", mantissa, exponent) - 5;
}

/* Labels the log y axis at 1, 2 and 5 times powers of ten (every digit when
 * the axis is short, decades alone when it is long): PLplot's own log
 * labels name decades only, and a learning curve often spans less than
 * one. Returns the widest label's length in characters. */
static int label_log_axis(const Range *r) {
  static const int mantissas[] = {1, 2, 5, 3, 4, 6, 7, 8, 9};
  double span = r->y_max - r->y_min;
  int n_mantissas = span <= 0.7 ? 9 : span <= 1.5 ? 4 : span <= 3 ? 3 : 1;
  int decade_step = span <= 10 ? 1 : (int)ceil(span / 10);
  int widest = 1;
  for (int e = (int)floor(r->y_min); e <= (int)ceil(r->y_max); e++) {
    if (e % decade_step != 0)
      continue;
    for (int m = 0; m < n_mantissas; m++) {
      double at = log10(mantissas[m]) + e;
      if (at < r->y_min || at > r->y_max)
        continue;
      char text[48];
      int shown = format_tick(text, sizeof text, mantissas[m], e);
      plmtex("lv", 0.6, (at - r->y_min) / span, 1.0, text);
      widest = shown > widest ? shown : widest;
    }
  }
  return widest;
}

/* The step between a linear axis' ticks: 1, 2 or 5 times a power of ten,
 * giving four to ten of them. */
static double linear_step(const Range *r) {
  double rough = (r->y_max - r->y_min) / 5;
  double decade = pow(10, floor(log10(rough)));
  return rough <= decade       ? decade
         : rough <= 2 * decade ? 2 * decade
         : rough <= 5 * decade ? 5 * decade
                               : 10 * decade;
}

/* Labels a linear y axis at the multiples of step; the widest label's
 * length in characters. */
static int label_linear_axis(const Range *r, double step) {
  int widest = 1;
  double span = r->y_max - r->y_min;
  for (double k = ceil(r->y_min / step); k * step <= r->y_max; k++) {
    char text[48];
    /* %.6g of k·step: 0.3, not 0.30000000000000004. */
    int shown = snprintf(text, sizeof text, "%.6g", k * step);
    if (strcmp(text, "-0") == 0)
      shown = snprintf(text, sizeof text, "0");
    plmtex("lv", 0.6, (k * step - r->y_min) / span, 1.0, text);
    widest = shown > widest ? shown : widest;
  }
  return widest;
}

/* Draws one line as runs of consecutive drawable points. */
static void draw_line(const mdl_plot_line *line, const Range *r, PLFLT *xs,
                      PLFLT *ys) {
  int m = 0;
  for (int i = 0; i <= line->n; i++) {
    if (i < line->n && drawable(line->x[i], line->y[i])) {
      double y = line->y[i];
      xs[m] = line->x[i];
      ys[m] = !r->log ? y : y > 0 ? log10(y) : r->y_min;
      m++;
      continue;
    }
    if (m == 1) /* a lone point still shows: a filled circle */
      plpoin(1, xs, ys, 17);
    else if (m > 1)
      plline(m, xs, ys);
    m = 0;
  }
}

typedef struct {
  const char *title, *x_label, *y_label;
  int n_lines;
  const mdl_plot_line *lines;
  char **legend_text; /* escaped labels, one per line */
  const Range *range;
  PLFLT *xs, *ys; /* scratch, as long as the longest line */
} Figure;

/* The legend: one entry per line that has points, right of the axes. */
static void draw_legend(const Figure *f) {
  int n = 0;
  for (int k = 0; k < f->n_lines; k++)
    n += f->lines[k].n > 0;
  if (n == 0)
    return;
  PLINT opts[n], text_colours[n], line_colours[n], line_styles[n];
  PLFLT line_widths[n];
  const char *text[n];
  for (int k = 0, j = 0; k < f->n_lines; k++) {
    if (f->lines[k].n <= 0)
      continue;
    opts[j] = PL_LEGEND_LINE;
    text_colours[j] = 1;
    line_colours[j] = line_colour(k);
    line_styles[j] = line_style(k);
    line_widths[j] = 2.0;
    text[j] = f->legend_text[k];
    j++;
  }
  PLFLT width, height;
  pllegend(&width, &height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
           PL_POSITION_RIGHT | PL_POSITION_OUTSIDE, 0.015, 0.0, SAMPLE_WIDTH, 0,
           1, 1, 0, 0, n, opts, 1.0, 0.9, 2.0, 0.0, text_colours, text, NULL,
           NULL, NULL, NULL, line_colours, line_styles, line_widths, NULL, NULL,
           NULL, NULL);
}

/* The part of the page's width the legend needs, estimated from its longest
 * label (PLplot measures a legend only as it draws it). */
static double legend_share(const Figure *f, double char_mm, double page_mm) {
  size_t longest = 0;
  for (int k = 0; k < f->n_lines; k++) {
    size_t chars = utf8_length(f->legend_text[k]);
    if (f->lines[k].n > 0 && chars > longest)
      longest = chars;
  }
  if (longest == 0)
    return 0;
  double text_mm = ((double)longest * CHAR_WIDTH + 3) * char_mm;
  double share = text_mm / page_mm + SAMPLE_WIDTH * 0.8 + 0.03;
  return share < 0.4 ? share : 0.4;
}

/* The axes, their labels and the title. The y tick labels are drawn before
 * the axes' final left edge is known, so the viewport is set twice: once to
 * measure, once with room for the widest label and the y label. */
static void draw_axes(const Figure *f) {
  const Range *r = f->range;
  PLFLT char_default, char_mm, x0, x1, y0, y1;
  plgchr(&char_default, &char_mm);
  plgspa(&x0, &x1, &y0, &y1);
  double page_mm = x1 - x0;
  int widest = 6; /* "0.0005": the widest %g tick */
  double left = (0.6 + widest * DIGIT_WIDTH + 2.2) * char_mm / page_mm;
  /* The legend goes right of the axes, where it cannot hide a line. */
  double right = 0.97 - legend_share(f, char_mm, page_mm);
  plvpor(left, right, 0.12, 0.9);
  plwind(r->x_min, r->x_max, r->y_min, r->y_max);
  plcol0(1);
  plwidth(1.0);
  pllsty(1);
  /* Updates as plain integers (250000, not 2.5 and "x10^5" in a corner). */
  int integers = r->x_max - r->x_min >= 10;
  plprec(integers, 0);
  double step = r->log ? 0 : linear_step(r);
  plbox(integers ? "bcfnst" : "bcnst", 0, 0, r->log ? "bcstl" : "bcst", step,
        r->log ? 0 : 2);
  widest = r->log ? label_log_axis(r) : label_linear_axis(r, step);
  plmtex("l", 0.6 + widest * DIGIT_WIDTH + 1.0, 0.5, 0.5, f->y_label);
  plmtex("b", 3.2, 0.5, 0.5, f->x_label);
  plmtex("t", 1.5, 0.5, 0.5, f->title);
  if (r->n_points == 0)
    plptex(0.5 * (r->x_min + r->x_max), 0.5 * (r->y_min + r->y_max), 1, 0, 0.5,
           "no data yet");
}

/* One output file through one PLplot driver, in a stream of its own. */
static void render(const Figure *f, const char *device, const char *file) {
  PLINT previous, stream;
  plgstrm(&previous);
  plmkstrm(&stream);
  plsdev(device);
  plsfnam(file);
  plspage(0, 0, WIDTH_PX, HEIGHT_PX, 0, 0);
  for (int c = 0; c < N_PALETTE; c++)
    plscol0(c, palette[c][0], palette[c][1], palette[c][2]);
  plinit();
  pladv(0);
  plschr(0, 1.1);
  draw_axes(f);
  for (int k = 0; k < f->n_lines; k++) {
    plcol0(line_colour(k));
    pllsty(line_style(k));
    plwidth(2.0);
    draw_line(&f->lines[k], f->range, f->xs, f->ys);
  }
  pllsty(1);
  plwidth(1.0);
  draw_legend(f);
  plend1();
  plsstrm(previous);
}

/* Creates (or empties) the file, so that PLplot will be able to. */
static int check_writable(const char *file, mdl_error *err) {
  FILE *probe = fopen(file, "wb");
  if (!probe)
    return mdl_fail(err, "cannot write %s: %s", file, strerror(errno));
  fclose(probe);
  return 0;
}

const char *mdl_plot_device(const char *path) {
  const char *dot = path ? strrchr(path, '.') : NULL;
  if (!dot || dot == path || dot[-1] == '/')
    return NULL;
  if (strcmp(dot, ".png") == 0)
    return "pngcairo";
  if (strcmp(dot, ".svg") == 0)
    return "svg";
  return NULL;
}

int mdl_plot_check_device(const char *device, mdl_error *err) {
  enum { MAX_DEVICES = 128 };
  const char *menu[MAX_DEVICES], *names[MAX_DEVICES];
  const char **menu_p = menu, **names_p = names;
  int n = MAX_DEVICES;
  plgDevs(&menu_p, &names_p, &n);
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], device) == 0)
      return 0;
  return mdl_fail(
      err, "PLplot's %s driver is missing (Debian package %s)", device,
      strcmp(device, "pngcairo") == 0 ? "plplot-driver-cairo" : "libplplot17");
}

static int check_lines(const mdl_plot *plot, mdl_error *err) {
  if (plot->n_lines < 0 || (plot->n_lines > 0 && !plot->lines))
    return mdl_fail(err, "plot: no lines given");
  for (int k = 0; k < plot->n_lines; k++) {
    const mdl_plot_line *line = &plot->lines[k];
    if (line->n < 0 || (line->n > 0 && (!line->x || !line->y)))
      return mdl_fail(err, "plot: line %d has no points array", k + 1);
  }
  return 0;
}

int mdl_plot_write(const char *path, const char *device, const mdl_plot *plot,
                   mdl_error *err) {
  if (!path || !*path)
    return mdl_fail(err, "plot: no output path");
  if (check_lines(plot, err) < 0 || check_writable(path, err) < 0)
    return -1;
  int longest = 1;
  for (int k = 0; k < plot->n_lines; k++)
    longest = plot->lines[k].n > longest ? plot->lines[k].n : longest;
  Range range = find_range(plot);
  Figure f = {.n_lines = plot->n_lines, .lines = plot->lines, .range = &range};
  f.title = escape_text(plot->title);
  f.x_label = escape_text(plot->x_label);
  f.y_label = escape_text(plot->y_label);
  f.legend_text = calloc((size_t)plot->n_lines + 1, sizeof *f.legend_text);
  f.xs = malloc((size_t)longest * sizeof *f.xs);
  f.ys = malloc((size_t)longest * sizeof *f.ys);
  int ok = f.title && f.x_label && f.y_label && f.legend_text && f.xs && f.ys;
  for (int k = 0; ok && k < plot->n_lines; k++)
    ok = (f.legend_text[k] = escape_text(plot->lines[k].label)) != NULL;
  if (ok)
    render(&f, device, path);
  for (int k = 0; f.legend_text && k < plot->n_lines; k++)
    free(f.legend_text[k]);
  free(f.legend_text);
  free((char *)f.title);
  free((char *)f.x_label);
  free((char *)f.y_label);
  free(f.xs);
  free(f.ys);
  return ok ? 0 : mdl_fail(err, "plot: out of memory");
}
