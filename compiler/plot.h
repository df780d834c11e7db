/* plot.h — learning-curve figures (error against updates) for
 * `mdlc sweep --report`, drawn by the runtime's PLplot code (mdl/plot.h). */
#ifndef PLOT_H
#define PLOT_H

#include <stddef.h>

#include "mdl/plot.h"

/* One curve: n points (x[i], y[i]); label goes into the legend. */
typedef mdl_plot_line PlotLine;

/* Draws the lines on one set of axes, y on a log scale, and writes
 * PATH.png and PATH.svg; returns 0, or -1 with a message in err.
 *
 * Line k keeps colour and dash k whichever lines are empty, so a column
 * looks the same in every figure. Non-finite points break a line; y <= 0
 * (a zero error) is drawn on the bottom edge. A line with no points has no
 * legend entry; with no points at all the figure is still written, its axes
 * saying "no data yet". PATH's directory must exist. Not thread-safe. */
int plot_curves(const char *path_without_ext, const char *title,
                const char *x_label, const char *y_label, int n_lines,
                const PlotLine *lines, char *err, size_t err_size);

#endif
