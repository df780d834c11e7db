/* mdl/plot.h — learning curves (error against updates) drawn with PLplot's
 * cairo drivers: a training program's --plot, and mdlc sweep's figures.
 * PLplot itself stays out of this header, so a program that includes it
 * needs PLplot only when it links. */
#ifndef MDL_PLOT_H
#define MDL_PLOT_H

#include "mdl/base.h"

/* One curve: n points (x[i], y[i]); label goes into the legend. */
typedef struct {
  const char *label;
  int n;
  const double *x;
  const double *y;
} mdl_plot_line;

typedef enum {
  /* A log y axis; y <= 0 (a zero error) is drawn on its bottom edge. */
  MDL_PLOT_LOG,
  /* A log y axis when every drawn y is positive, else a linear one. */
  MDL_PLOT_LOG_IF_POSITIVE,
  /* Linear axes both, with room around the points and 0 in range: a
   * path in the plane, such as a quadratic's (mdl/quadratic.h). */
  MDL_PLOT_LINEAR
} mdl_plot_scale;

typedef struct {
  const char *title, *x_label, *y_label;
  mdl_plot_scale scale;
  int n_lines;
  const mdl_plot_line *lines;
} mdl_plot;

/* The PLplot device that draws a file with path's extension: "pngcairo"
 * for .png, "svg" for .svg (which keeps text as <text>); NULL for any
 * other. */
const char *mdl_plot_device(const char *path);

/* Whether PLplot has that device; -1 with a message naming the Debian
 * package to install if not. (PLplot would otherwise ask on stdin for
 * another device, then exit.) */
int mdl_plot_check_device(const char *device, mdl_error *err);

/* Draws the lines on one set of axes into the file at path, through the
 * device, which must be there (mdl_plot_check_device). Returns 0, or -1
 * with a message in err: the file cannot be written, a line has no
 * points array. PLplot never ends the process here.
 *
 * Line k keeps colour and dash k whichever lines are empty, so a curve
 * looks the same in every figure. Non-finite points break a line. A line
 * with no points has no legend entry; with no points at all the figure is
 * still drawn, its axes saying "no data yet". Not thread-safe. */
int mdl_plot_write(const char *path, const char *device, const mdl_plot *plot,
                   mdl_error *err);

#endif
