/* plot.c — a sweep's figures: each as a PNG for the report and an SVG whose
 * text can be searched, both drawn by the runtime (runtime/plot.c). */
#include "plot.h"

#include <stdio.h>
#include <string.h>

int plot_curves(const char *path_without_ext, const char *title,
                const char *x_label, const char *y_label, int n_lines,
                const PlotLine *lines, char *err, size_t err_size) {
  mdl_error e = {""};
  mdl_plot plot = {title, x_label, y_label, MDL_PLOT_LOG, n_lines, lines};
  static const char *const formats[][2] = {{"png", "pngcairo"}, {"svg", "svg"}};
  int rc = 0;
  if (!path_without_ext || !*path_without_ext)
    rc = mdl_fail(&e, "plot: no output path");
  /* Both drivers first: no PNG without its SVG. */
  for (int i = 0; rc == 0 && i < 2; i++)
    rc = mdl_plot_check_device(formats[i][1], &e);
  for (int i = 0; rc == 0 && i < 2; i++) {
    size_t size = strlen(path_without_ext) + 5;
    char path[size];
    snprintf(path, size, "%s.%s", path_without_ext, formats[i][0]);
    rc = mdl_plot_write(path, formats[i][1], &plot, &e);
  }
  if (rc != 0)
    snprintf(err, err_size, "%s", e.message);
  return rc;
}
