/* test_plot.c — --plot FILE.png / FILE.svg: every kind of training program
 * draws its learning curves (the training error and each held-out error,
 * named in the legend) at the end of its run, at every checkpoint, and when
 * a signal or a divergence stops it; a resumed run's figure has the rows its
 * log kept; a bad extension or an unwritable path is refused before training.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* A classifier of 60 cases with a test set: its figure has train_error and
 * test_error (and not the accuracies its log also has). report: what
 * follows `report every 20`, such as " accuracy". */
static const char *classifier_reporting(const char **dir, const char *name,
                                        const char *report) {
  *dir = e2e_fresh_dir(name);
  free(e2e_write_grid(*dir, "x.npy", 60, 4, -1, 1, 3));
  free(e2e_write_one_hot(*dir, "y.npy", 60, 1, 3, 5));
  free(e2e_write_grid(*dir, "tx.npy", 30, 4, -1, 1, 7));
  free(e2e_write_one_hot(*dir, "ty.npy", 30, 1, 3, 9));
  char program[1024];
  snprintf(program, sizeof program,
           "data d = npy(inputs \"x.npy\", targets \"y.npy\")\n"
           "data held = npy(inputs \"tx.npy\", targets \"ty.npy\")\n"
           "net c : feedforward {\n  input 4\n  layer tanh 8\n"
           "  output softmax 3\n  loss cross_entropy\n}\n"
           "train c on d with nag {\n  batch 20; steps 400; epsilon 0.05; "
           "mu 0.9\n  report every 20%s\n  test on held\n}\n",
           report);
  const char *exe = e2e_compile(*dir, "c", "", program);
  cr_assert_not_null(exe);
  return exe;
}

static const char *classifier(const char **dir, const char *name) {
  return classifier_reporting(dir, name, "");
}

/* The whole file, NUL-terminated, or NULL; its length in *size. */
static char *slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *text = malloc((size_t)n + 1);
  size_t got = fread(text, 1, (size_t)n, f);
  fclose(f);
  text[got] = '\0';
  *size = got;
  return text;
}

/* A PNG as PLplot's pngcairo driver draws it: the signature, then IHDR
 * with the figure's 960 × 640 pixels, and more than a blank page's bytes. */
static void expect_png(const char *path) {
  size_t size;
  unsigned char *png = (unsigned char *)slurp(path, &size);
  cr_assert_not_null(png, "no %s", path);
  static const unsigned char signature[8] = {0x89, 'P',  'N',  'G',
                                             '\r', '\n', 0x1a, '\n'};
  cr_assert(size > 5000, "%s: a PNG of %zu bytes", path, size);
  cr_assert(memcmp(png, signature, 8) == 0, "%s is not a PNG", path);
  cr_assert(memcmp(png + 12, "IHDR", 4) == 0);
  unsigned width =
      (unsigned)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19];
  unsigned height =
      (unsigned)png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23];
  cr_expect(width == 960 && height == 640, "%s: %ux%u", path, width, height);
  free(png);
}

/* PLplot's svg driver writes each character as a reference (&#x4E;): the
 * SVG's text with them turned back into UTF-8, or NULL. */
static char *svg_text(const char *path) {
  size_t size;
  char *s = slurp(path, &size);
  if (!s)
    return NULL;
  char *in = s, *out = s;
  while (*in) {
    unsigned long c;
    int used = 0;
    if (sscanf(in, "&#x%lx;%n", &c, &used) == 1 && used > 0) {
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
      in += used;
    } else {
      *out++ = *in++;
    }
  }
  *out = '\0';
  return s;
}

Test(plot, png_of_the_learning_curves) {
  const char *dir;
  const char *exe = classifier(&dir, "plot_png");
  e2e_result r =
      e2e_run("cd %s && %s --threads 1 --plot curves.png --quiet", dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  expect_png(e2e_join(dir, "curves.png"));
  r = e2e_run("ls %s", dir);
  cr_expect(!strstr(r.output, ".tmp"), "a temporary is left:\n%s", r.output);
  free(r.output);
}

Test(plot, svg_names_each_curve_and_the_program) {
  const char *dir;
  const char *exe = classifier(&dir, "plot_svg");
  e2e_result r =
      e2e_run("cd %s && %s --threads 1 --plot curves.svg --quiet", dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  char *svg = svg_text(e2e_join(dir, "curves.svg"));
  cr_assert_not_null(svg, "no curves.svg");
  cr_expect(strstr(svg, "</svg>"), "the SVG is not closed");
  cr_expect(strstr(svg, ">train_error<"), "no train_error in the legend");
  cr_expect(strstr(svg, ">test_error<"), "no test_error in the legend");
  cr_expect(!strstr(svg, "accuracy"), "the accuracies are not errors");
  cr_expect(strstr(svg, ">c.mdl: nag on c<"), "no title");
  cr_expect(strstr(svg, ">updates<") && strstr(svg, ">error<"),
            "no axis labels");
  free(svg);
}

Test(plot, offered_by_help) {
  const char *dir;
  const char *exe = classifier(&dir, "plot_help");
  e2e_result r = e2e_run("%s --help", exe);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "--plot FILE.png"), "%s", r.output);
  cr_expect(strstr(r.output, "FILE.svg"), "%s", r.output);
  free(r.output);
}

/* A figure is a PNG or an SVG: anything else is a mistake on the command
 * line (status 2), found before the data are read. */
Test(plot, other_extensions_are_usage_errors) {
  const char *dir;
  const char *exe = classifier(&dir, "plot_extension");
  const char *bad[] = {"curves.pdf", "curves", "curves.png.old", ".png"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    e2e_result r =
        e2e_run("cd %s && mv x.npy x.away; %s --plot %s; s=$?; mv x.away "
                "x.npy; exit $s",
                dir, exe, bad[i]);
    cr_expect_eq(r.status, 2, "--plot %s:\n%s", bad[i], r.output);
    char said[256];
    snprintf(said, sizeof said,
             "c: error: --plot draws a PNG or an SVG file, chosen by the "
             "extension: FILE.png or FILE.svg, not '%s'\nTry 'c --help'.",
             bad[i]);
    cr_expect(strstr(r.output, said), "--plot %s:\n%s", bad[i], r.output);
    free(r.output);
  }
}

/* A path the figure cannot be written to stops the program before it
 * trains, not at the end of a long run. */
Test(plot, unwritable_paths_are_refused_before_training) {
  const char *dir;
  const char *exe = classifier(&dir, "plot_unwritable");
  e2e_result r = e2e_run("cd %s && %s --plot no/such/dir/curves.png", dir, exe);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "c: error: cannot open no/such/dir/curves.png "
                             "for writing (--plot): directory 'no/such/dir'"),
            "%s", r.output);
  cr_expect(!strstr(r.output, "update"), "it trained:\n%s", r.output);
  free(r.output);
}

/* Without PLplot's cairo driver (plplot-driver-cairo) a PNG cannot be
 * drawn: the program says which package to install, before training. The
 * drivers PLplot finds are those in $PLPLOT_DRV_DIR: here all but cairo's
 * (pkg-config knows where they are installed). */
Test(plot, a_missing_driver_names_its_package) {
  const char *dir;
  const char *exe = classifier(&dir, "plot_driver");
  e2e_result r = e2e_run(
      "cd %s && mkdir drivers && for f in $(pkg-config --variable=drvdir "
      "plplot)/*; do case $f in *cairo*) ;; *) ln -s $f drivers/ ;; esac; "
      "done && PLPLOT_DRV_DIR=$PWD/drivers %s --plot c.png",
      dir, exe);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "c: error: --plot c.png: PLplot's pngcairo "
                             "driver is missing (Debian package "
                             "plplot-driver-cairo)"),
            "%s", r.output);
  cr_expect(!strstr(r.output, "update"), "it trained:\n%s", r.output);
  free(r.output);
}

/* With --checkpoint the figure is redrawn at every report: a run killed
 * (kill -9: no chance to draw at its end) after its first checkpoint has
 * its figure. Without --checkpoint it draws only at the end. */
Test(plot, redrawn_at_every_checkpoint) {
  const char *dir;
  const char *exe = classifier(&dir, "plot_checkpoint");
  const char *wait_for =
      "wait_for() { i=0; while [ ! -e $1 ]; do kill -0 $pid || return 1; "
      "i=$((i+1)); [ $i -gt 6000 ] && return 1; sleep 0.01; done; }; ";
  const char *run = "--threads 1 --steps 100000000 --quiet";
  e2e_result r = e2e_run(
      "cd %s && %s (%s %s --checkpoint k.ckpt --plot k.png "
      "& pid=$!; wait_for k.ckpt || { kill -9 $pid; exit 99; }; kill -9 $pid; "
      "wait $pid; echo status: $?)",
      dir, wait_for, exe, run);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect_eq(e2e_number_after(r.output, "status:"), 137, "%s", r.output);
  free(r.output);
  expect_png(e2e_join(dir, "k.png"));

  r = e2e_run("cd %s && %s (%s %s --log n.csv --plot n.png & pid=$!; "
              "wait_for n.csv || { kill -9 $pid; exit 99; }; while [ $(wc -l < "
              "n.csv) -lt 4 ]; "
              "do kill -0 $pid || exit 98; sleep 0.01; done; kill -9 $pid; "
              "wait $pid; ls)",
              dir, wait_for, exe, run);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect(!strstr(r.output, "n.png"), "drawn without --checkpoint:\n%s",
            r.output);
  free(r.output);
}

/* A run stopped by a signal (Ctrl-C, kill, scancel) draws what it has. */
Test(plot, drawn_when_a_signal_stops_the_run) {
  const char *dir;
  const char *exe = classifier(&dir, "plot_signal");
  e2e_result r = e2e_run(
      "cd %s && (%s --threads 1 --steps 100000000 --quiet --log s.csv --plot "
      "s.svg & pid=$!; i=0; while [ $(cat s.csv 2>/dev/null | wc -l) -lt 4 ]; "
      "do i=$((i+1)); [ $i -gt 6000 ] && kill -9 $pid && exit 99; "
      "sleep 0.01; done; kill -TERM $pid; wait $pid; echo status: $?)",
      dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect_eq(e2e_number_after(r.output, "status:"), 143, "%s", r.output);
  free(r.output);
  char *svg = svg_text(e2e_join(dir, "s.svg"));
  cr_assert_not_null(svg, "no figure after SIGTERM");
  cr_expect(strstr(svg, ">train_error<"));
  free(svg);
}

/* A run that diverges stops with a message, and draws its figure on the
 * way out: the curve up to where it went wrong. */
Test(plot, drawn_when_the_run_diverges) {
  const char *dir = e2e_fresh_dir("plot_diverge");
  free(e2e_write_grid(dir, "x.npy", 40, 4, -1, 1, 3));
  free(e2e_write_grid(dir, "y.npy", 40, 1, -1, 1, 5));
  const char *exe = e2e_compile(
      dir, "fit", "",
      "data d = npy(inputs \"x.npy\", targets \"y.npy\")\n"
      "net f : feedforward {\n  input 4\n  layer tanh 8\n"
      "  output linear 1\n  loss squared\n}\n"
      "train f on d with nag {\n  batch 20; steps 400; epsilon 0.01; mu 0.9\n"
      "  report every 20\n}\n");
  cr_assert_not_null(exe);
  e2e_result r = e2e_run("cd %s && %s --threads 1 --quiet --set epsilon=1e30 "
                         "--plot d.png",
                         dir, exe);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "fit: error: training diverged at update "), "%s",
            r.output);
  free(r.output);
  expect_png(e2e_join(dir, "d.png"));
}

/* Every number of an SVG in order (coordinates, colours' digits): two
 * figures of the same curves give the same list, up to rounding. */
static int svg_numbers(const char *path, double **values) {
  size_t size;
  char *s = slurp(path, &size);
  cr_assert_not_null(s, "no %s", path);
  int n = 0, capacity = 1024;
  *values = malloc(sizeof(double) * capacity);
  for (char *p = s; *p;) {
    char *end;
    int starts = (*p >= '0' && *p <= '9') ||
                 ((*p == '-' || *p == '.') && p[1] >= '0' && p[1] <= '9');
    double v = starts ? strtod(p, &end) : 0;
    if (!starts || end == p) {
      p++;
      continue;
    }
    if (n == capacity)
      *values = realloc(*values, sizeof(double) * (capacity *= 2));
    (*values)[n++] = v;
    p = end;
  }
  free(s);
  return n;
}

/* Trains exe in dir to update 200 with a checkpoint and a log, resumes it
 * to the end with --plot (and once without the log), and expects the
 * resumed figure to be the uninterrupted run's. */
static void expect_resumed_figure_whole(const char *dir, const char *exe) {
  e2e_result r = e2e_run(
      "cd %s && %s --threads 1 --steps 200 --checkpoint half.ckpt --log "
      "half.csv --quiet && cp half.ckpt bare.ckpt && %s --threads 1 --resume "
      "half.ckpt --log half.csv --plot resumed.svg --quiet && %s --threads 1 "
      "--resume bare.ckpt --plot bare.svg --quiet && %s --threads 1 --plot "
      "whole.svg --quiet",
      dir, exe, exe, exe, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  double *whole, *resumed, *bare;
  int n_whole = svg_numbers(e2e_join(dir, "whole.svg"), &whole);
  int n_resumed = svg_numbers(e2e_join(dir, "resumed.svg"), &resumed);
  int n_bare = svg_numbers(e2e_join(dir, "bare.svg"), &bare);
  cr_assert_eq(n_resumed, n_whole, "the resumed figure differs");
  for (int i = 0; i < n_whole; i++)
    cr_assert(fabs(resumed[i] - whole[i]) < 1e-3,
              "number %d: %.9g in the resumed figure, %.9g in the whole "
              "run's",
              i, resumed[i], whole[i]);
  int same = n_bare == n_whole;
  for (int i = 0; same && i < n_whole; i++)
    same = fabs(bare[i] - whole[i]) < 1e-3;
  cr_expect(!same, "without a log the figure starts at the resume");
  free(whole);
  free(resumed);
  free(bare);
}

/* --resume with the run's --log: the figure shows the rows before the
 * checkpoint too, read back from the log, as the uninterrupted run's
 * figure does. Without a log it starts at the resumed update. */
Test(plot, a_resumed_run_draws_the_rows_its_log_kept) {
  const char *dir;
  const char *exe = classifier(&dir, "plot_resume");
  expect_resumed_figure_whole(dir, exe);
}

/* Metrics that leave the errors out (report every N accuracy): the log has
 * no training error to read back, so the figure draws what every report
 * shows, the training loss, and a resumed run's figure is still whole. */
Test(plot, a_report_without_errors_plots_the_loss) {
  const char *dir;
  const char *exe = classifier_reporting(&dir, "plot_loss", " accuracy");
  expect_resumed_figure_whole(dir, exe);
  char *svg = svg_text(e2e_join(dir, "whole.svg"));
  cr_assert_not_null(svg, "no whole.svg");
  cr_expect(strstr(svg, ">loss<"), "no loss in the legend or on the axis");
  cr_expect(!strstr(svg, "_error<") && !strstr(svg, ">error<"),
            "an error curve the report does not show");
  free(svg);
}

/* Recurrent programs plot their zero-one error; HF programs, whose
 * progress is their own, plot theirs. */
Test(plot, recurrent_and_hf_programs_plot_too) {
  const char *dir = e2e_fresh_dir("plot_kinds");
  const char *rnn = e2e_compile(
      dir, "rnn", "",
      "data add = addition(T 10, test_cases 200, center [inputs, targets])\n"
      "net rnn : recurrent {\n  input 2\n  hidden tanh 20\n"
      "  output linear 1 at last\n}\n"
      "train rnn on add with nag {\n  batch 20\n  steps 40\n"
      "  epsilon 0.01\n  mu 0.9\n  report every 10 zero_one(0.04)\n}\n");
  cr_assert_not_null(rnn);
  free(e2e_write_grid(dir, "x.npy", 6, 5, 0, 1, 7));
  const char *hf = e2e_compile(
      dir, "hf", "",
      "data d = npy(\"x.npy\", cases 6)\n"
      "net n : autoencoder {\n  input 5\n  encoder tanh [4]\n"
      "  code linear 3\n  decoder sigmoid [4]\n  output sigmoid\n"
      "  loss cross_entropy\n}\n"
      "train n on d with hf {\n  batch 6\n  curvature_batch 3\n  steps 4\n"
      "  report every 2\n}\n");
  cr_assert_not_null(hf);
  e2e_result r = e2e_run("cd %s && %s --threads 1 --quiet --plot rnn.svg && "
                         "%s --threads 1 --quiet --plot hf.svg --checkpoint "
                         "hf.ckpt && %s --threads 1 --quiet --plot hf.png",
                         dir, rnn, hf, hf);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  char *svg = svg_text(e2e_join(dir, "rnn.svg"));
  cr_assert_not_null(svg, "no rnn.svg");
  cr_expect(strstr(svg, ">zero_one<"), "no zero_one in the legend");
  cr_expect(strstr(svg, ">rnn.mdl: nag on rnn<"), "no title");
  free(svg);
  svg = svg_text(e2e_join(dir, "hf.svg"));
  cr_assert_not_null(svg, "no hf.svg");
  cr_expect(strstr(svg, ">train_error<"), "no train_error in the legend");
  cr_expect(strstr(svg, ">hf.mdl: hf on n<"), "no title");
  free(svg);
  expect_png(e2e_join(dir, "hf.png"));
}
