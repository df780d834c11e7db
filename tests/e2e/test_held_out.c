/* test_held_out.c — held-out sets (`validate on`, `test on`) measured at
 * every report beside the training set, a classifier's accuracy,
 * --save-best, and --predict checked against the reported test error. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

enum { INPUTS = 6, CLASSES = 3 };

/* rows cases whose class is the largest of their first three inputs, a rule
 * a small net learns, so that held-out errors fall with the training error:
 * DIR/NAME_x.npy (inputs k/16 in [-1, 1]) and DIR/NAME_y.npy (one-hot). */
static void write_cases(const char *dir, const char *name, int rows,
                        uint32_t seed) {
  double *x = malloc(sizeof(double) * rows * INPUTS);
  double *y = calloc((size_t)rows * CLASSES, sizeof(double));
  for (int i = 0; i < rows; i++) {
    int best = 0;
    for (int j = 0; j < INPUTS; j++)
      x[i * INPUTS + j] = -1 + e2e_draw(&seed, 33) / 16.0;
    for (int c = 1; c < CLASSES; c++)
      best = x[i * INPUTS + c] > x[i * INPUTS + best] ? c : best;
    y[i * CLASSES + best] = 1;
  }
  char file[256];
  snprintf(file, sizeof file, "%s/%s_x.npy", dir, name);
  e2e_write_f64(file, x, rows, INPUTS);
  snprintf(file, sizeof file, "%s/%s_y.npy", dir, name);
  e2e_write_f64(file, y, rows, CLASSES);
  free(x);
  free(y);
}

static const char *classifier =
    "data train_set = npy(inputs \"train_x.npy\", targets \"train_y.npy\")\n"
    "data valid_set = npy(inputs \"valid_x.npy\", targets \"valid_y.npy\")\n"
    "data test_set = npy(inputs \"test_x.npy\", targets \"test_y.npy\")\n"
    "net c : feedforward {\n"
    "  input 6\n"
    "  layer tanh 20\n"
    "  output softmax 3\n"
    "  loss cross_entropy\n"
    "}\n"
    "train c on train_set with nag {\n"
    "  batch 50; steps 400; epsilon 0.05; mu 0.9\n"
    "  report every 50\n"
    "  validate on valid_set\n"
    "  test on test_set\n"
    "}\n";

/* A directory with the three sets and the classifier compiled in it. */
static const char *classifier_dir(const char *name, const char **exe) {
  const char *dir = e2e_fresh_dir(name);
  write_cases(dir, "train", 300, 1);
  write_cases(dir, "valid", 120, 2);
  write_cases(dir, "test", 157, 3);
  *exe = e2e_compile(dir, "c", "--precision double", classifier);
  cr_assert_not_null(*exe);
  return dir;
}

Test(held_out, reports_show_every_set_side_by_side) {
  const char *exe;
  const char *dir = classifier_dir("held_out_report", &exe);
  e2e_result r =
      e2e_run("cd %s && %s --threads 1 --log c.csv && head -1 c.csv", dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  /* The header names each set and counts its cases. */
  cr_expect(strstr(r.output, "# validation  npy valid_x.npy (120 × 6), targets "
                             "valid_y.npy (3 wide), 120 "
                             "cases\n"),
            "%s", r.output);
  cr_expect(strstr(r.output, "# test        npy test_x.npy (157 × 6), targets "
                             "test_y.npy (3 wide), 157 "
                             "cases\n"),
            "%s", r.output);
  const char *titles = strstr(r.output, "train_error  train_accuracy");
  cr_expect(titles && strstr(titles, "valid_error  valid_accuracy") &&
                strstr(titles, "test_error  test_accuracy"),
            "%s", r.output);
  cr_expect(strstr(r.output, "update,mu,epsilon,train_error,loss,seconds,"
                             "grad_norm_mean,grad_norm_max,clipped,saturated,"
                             "train_accuracy,valid_error,valid_accuracy,"
                             "test_error,test_accuracy\n"),
            "%s", r.output);
  const char *done = strstr(r.output, "# done:");
  cr_assert(done, "%s", r.output);
  double train = e2e_number_after(done, "train_error");
  double valid = e2e_number_after(done, "valid_error");
  double test = e2e_number_after(done, "test_error");
  cr_expect_float_eq(e2e_number_after(done, "train_accuracy"), 1 - train, 1e-6,
                     "%s", done);
  cr_expect_float_eq(e2e_number_after(done, "valid_accuracy"), 1 - valid, 1e-6,
                     "%s", done);
  cr_expect_float_eq(e2e_number_after(done, "test_accuracy"), 1 - test, 1e-6,
                     "%s", done);
  /* Learned (chance is 2/3 wrong), and each set measured on its own cases:
   * 157 test cases make errors in steps of 1/157. */
  cr_expect(train < 0.2 && valid < 0.3 && test < 0.3, "%s", done);
  double wrong = test * 157;
  cr_expect_float_eq(wrong, round(wrong), 1e-3, "test error %g", test);
  free(r.output);
}

/* The classifier program with another report line. */
static const char *classifier_reporting(const char *report) {
  static char text[1024];
  const char *at = strstr(classifier, "  report every 50\n");
  snprintf(text, sizeof text, "%.*s%s%s", (int)(at - classifier), classifier,
           report, at + strlen("  report every 50\n"));
  return text;
}

/* `report every 50 accuracy, loss`: the accuracy and loss of every set and
 * no error column; the accuracies are 1 - the error rates of the default
 * report of the same run, and the test loss is the loss of a program
 * trained on the test set, measured with the run's final parameters. */
Test(held_out, chosen_metrics_replace_the_default_columns) {
  const char *exe;
  const char *dir = classifier_dir("held_out_metrics", &exe);
  const char *chosen =
      e2e_compile(dir, "m", "--precision double",
                  classifier_reporting("  report every 50 accuracy, loss\n"));
  cr_assert_not_null(chosen);
  e2e_result r =
      e2e_run("cd %s && %s --threads 1 --quiet --save-params p.npy && "
              "%s --threads 1 --log m.csv && head -1 m.csv",
              dir, exe, chosen);
  cr_assert_eq(r.status, 0, "%s", r.output);
  const char *plain = strstr(r.output, "# done:");
  const char *titles = strstr(r.output, "  update  ");
  cr_assert(plain && titles, "%s", r.output);
  cr_expect(!strstr(titles, "_error"), "%s", titles);
  cr_expect(strstr(titles, "epsilon  train_accuracy  valid_accuracy    "
                           "valid_loss  test_accuracy     test_loss        "
                           "loss   |g| mean"),
            "%s", titles);
  cr_expect(strstr(titles, "update,mu,epsilon,loss,seconds,grad_norm_mean,"
                           "grad_norm_max,clipped,saturated,train_accuracy,"
                           "valid_accuracy,valid_loss,test_accuracy,"
                           "test_loss\n"),
            "%s", titles);
  const char *done = strstr(titles, "# done:");
  cr_assert(done, "%s", titles);
  const char *sets[] = {"train", "valid", "test"};
  for (int i = 0; i < 3; i++) {
    char error[32], accuracy[32];
    snprintf(error, sizeof error, "%s_error ", sets[i]);
    snprintf(accuracy, sizeof accuracy, "%s_accuracy ", sets[i]);
    cr_expect_float_eq(e2e_number_after(done, accuracy),
                       1 - e2e_number_after(plain, error), 1e-6, "%s%s", plain,
                       done);
  }
  cr_expect_float_eq(e2e_number_after(done, ", loss "),
                     e2e_number_after(plain, ", loss "), 1e-9, "%s%s", plain,
                     done);
  double test_loss = e2e_number_after(done, "test_loss ");
  free(r.output);
  /* The test set's loss, measured as a training set's. */
  char program[1024];
  snprintf(program, sizeof program, "%s", classifier);
  char *on = strstr(program, "train c on train_set");
  memcpy(on, "train c on test_set ", strlen("train c on test_set "));
  *strstr(program, "  test on test_set\n") = '\0';
  strcat(program, "}\n");
  const char *measure = e2e_compile(dir, "t", "--precision double", program);
  cr_assert_not_null(measure);
  r = e2e_run("cd %s && %s --threads 1 --quiet --steps 0 --load-params p.npy",
              dir, measure);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect_float_eq(e2e_number_after(r.output, ", loss "), test_loss,
                     1e-6 * test_loss, "%s", r.output);
  free(r.output);
}

/* A sequence problem's `report every 5 loss`: no zero_one column in the
 * progress line, the log or the final line, and the loss of the default
 * report of the same run. */
Test(held_out, chosen_metrics_of_a_sequence_problem) {
  const char *dir = e2e_fresh_dir("held_out_metrics_rnn");
  const char *program = "data d = addition(T 10, test_cases 50)\n"
                        "net r : recurrent {\n  input 2\n  hidden tanh 8\n"
                        "  output linear 1 at last\n}\n"
                        "train r on d with nag {\n  batch 10; steps 10; "
                        "epsilon 0.01; mu 0.9\n  report every 5%s\n}\n";
  char text[512];
  snprintf(text, sizeof text, program, "");
  const char *plain = e2e_compile(dir, "p", "", text);
  snprintf(text, sizeof text, program, " loss");
  const char *chosen = e2e_compile(dir, "c", "", text);
  cr_assert(plain && chosen);
  e2e_result r = e2e_run("cd %s && %s --threads 1 --quiet && %s --threads 1 "
                         "--log c.csv && head -1 c.csv",
                         dir, plain, chosen);
  cr_assert_eq(r.status, 0, "%s", r.output);
  const char *second = strstr(r.output, "# program");
  cr_assert(second, "%s", r.output);
  cr_expect(strstr(r.output, "final zero_one "), "%s", r.output);
  cr_expect(!strstr(second, "zero_one"), "%s", second);
  cr_expect(strstr(second, "\nupdate,mu,epsilon,loss,seconds,grad_norm_mean,"
                           "grad_norm_max,clipped,saturated\n"),
            "%s", second);
  double loss = e2e_number_after(r.output, ", loss ");
  cr_expect_float_eq(e2e_number_after(second, "final loss "), loss, 1e-6 * loss,
                     "%s", r.output);
  free(r.output);
}

/* --predict on the test set's inputs: the outputs' error against the test
 * targets is the test error the program reports. */
Test(held_out, predictions_give_the_reported_test_error) {
  const char *exe;
  const char *dir = classifier_dir("held_out_predict", &exe);
  e2e_result r = e2e_run("cd %s && %s --threads 1 --quiet --save-params p.npy "
                         "&& %s --threads 1 --quiet --steps 0 --load-params "
                         "p.npy --predict test_x.npy --outputs out.npy",
                         dir, exe, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  double reported =
      e2e_number_after(strstr(r.output, "# done: 0"), "test_error");
  cr_expect(strstr(r.output, "# predict: 157 cases, outputs in out.npy"), "%s",
            r.output);
  free(r.output);
  double *y, *t;
  char *out = e2e_join(dir, "out.npy"), *targets = e2e_join(dir, "test_y.npy");
  cr_assert_eq(e2e_read_f64(out, &y), 157 * CLASSES);
  cr_assert_eq(e2e_read_f64(targets, &t), 157 * CLASSES);
  int wrong = 0;
  for (int i = 0; i < 157; i++) {
    int guess = 0, truth = 0;
    double sum = 0;
    for (int c = 0; c < CLASSES; c++) {
      guess = y[i * CLASSES + c] > y[i * CLASSES + guess] ? c : guess;
      truth = t[i * CLASSES + c] > t[i * CLASSES + truth] ? c : truth;
      sum += y[i * CLASSES + c];
    }
    cr_expect_float_eq(sum, 1, 1e-9, "softmax outputs of case %d", i);
    wrong += guess != truth;
  }
  cr_expect_float_eq(wrong / 157.0, reported, 1e-6, "%d wrong, reported %g",
                     wrong, reported);
}

/* --save-best keeps the parameters of the report with the lowest
 * validation error: loaded, they measure that error again. */
Test(held_out, save_best_keeps_the_lowest_validation_error) {
  const char *exe;
  const char *dir = classifier_dir("held_out_best", &exe);
  e2e_result r = e2e_run(
      "cd %s && %s --threads 1 --quiet --save-best best.npy --log c.csv && "
      "echo lowest: $(cut -d, -f12 c.csv | tail -n +2 | sort -g | head -1) && "
      "%s --threads 1 --quiet --steps 0 --load-params best.npy",
      dir, exe, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  double lowest = e2e_number_after(r.output, "lowest:");
  double best = e2e_number_after(r.output, "# best valid_error");
  double again = e2e_number_after(strstr(r.output, "# done: 0"), "valid_error");
  cr_expect(strstr(r.output, "saved to best.npy"), "%s", r.output);
  cr_expect_float_eq(best, lowest, 1e-6, "%s", r.output);
  cr_expect_float_eq(again, lowest, 1e-6, "%s", r.output);
  free(r.output);
  /* A program with a held-out set lists --save-best in its --help. */
  r = e2e_run("%s --help", exe);
  cr_expect(strstr(r.output, "--save-best FILE.npy"), "%s", r.output);
  free(r.output);
}

Test(held_out, bad_command_lines_are_refused_before_training) {
  const char *exe;
  const char *dir = classifier_dir("held_out_usage", &exe);
  struct {
    const char *args, *said;
    int status;
  } cases[] = {
      {"--predict test_x.npy",
       "--predict needs --outputs FILE.npy: where to write the outputs", 2},
      {"--outputs o.npy",
       "--outputs names where --predict writes; give --predict INPUTS.npy too",
       2},
      {"--steps 0 --predict train_y.npy --outputs o.npy",
       "train_y.npy has 3 values per case, but the network's input has 6 "
       "units",
       1},
      {"--save-best /nonexistent/b.npy",
       "cannot open /nonexistent/b.npy for writing (--save-best)", 1},
      {"--save-params .", "cannot write . (--save-params): it is a directory",
       1},
      {"--log fifo",
       "cannot write fifo (--log): it is a FIFO or socket, not a file", 1},
  };
  e2e_result made = e2e_run("cd %s && mkfifo fifo", dir);
  cr_assert_eq(made.status, 0, "%s", made.output);
  free(made.output);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    e2e_result r =
        e2e_run("cd %s && %s --threads 1 --quiet %s", dir, exe, cases[i].args);
    cr_expect_eq(r.status, cases[i].status, "%s: %s", cases[i].args, r.output);
    cr_expect(strstr(r.output, cases[i].said), "%s: %s", cases[i].args,
              r.output);
    cr_expect(!strstr(r.output, "# done"), "%s: trained first:\n%s",
              cases[i].args, r.output);
    free(r.output);
  }
}

/* A small CURVES autoencoder, with more data items and train settings. */
static const char *tiny_autoencoder(const char *data, const char *train) {
  static char text[1024];
  snprintf(text, sizeof text,
           "data d = curves(cases 200)\n%s"
           "net ae : autoencoder {\n  input 784\n  encoder sigmoid [8]\n"
           "  code linear 2\n  output sigmoid\n}\n"
           "train ae on d with nag {\n"
           "  batch 20; steps 20; epsilon 0.01; mu 0.9\n%s}\n",
           data, train);
  return text;
}

/* Without a held-out set there is no best to keep. */
Test(held_out, save_best_needs_a_held_out_set) {
  const char *dir = e2e_fresh_dir("held_out_none");
  const char *exe = e2e_compile(dir, "ae", "", tiny_autoencoder("", ""));
  cr_assert_not_null(exe);
  e2e_result r = e2e_run("cd %s && %s --save-best b.npy", dir, exe);
  cr_expect_eq(r.status, 2, "%s", r.output);
  cr_expect(strstr(r.output, "--save-best keeps the parameters with the "
                             "lowest held-out error; this program has no "
                             "held-out set (declare one in its train item: "
                             "test on DATA, validate on DATA)"),
            "%s", r.output);
  free(r.output);
  /* ... and its --help does not offer it. */
  r = e2e_run("%s --help", exe);
  cr_expect(!strstr(r.output, "--save-best"), "%s", r.output);
  free(r.output);
}

/* A held-out draw of CURVES for an autoencoder: its squared reconstruction
 * error beside the training set's, and no accuracy (not a classifier). */
Test(held_out, an_autoencoder_reports_its_test_reconstruction_error) {
  const char *dir = e2e_fresh_dir("held_out_curves");
  const char *exe =
      e2e_compile(dir, "ae", "",
                  tiny_autoencoder("data unseen = curves(cases 100, seed 7)\n",
                                   "  test on unseen\n"));
  cr_assert_not_null(exe);
  e2e_result r = e2e_run("cd %s && %s --threads 1", dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  const char *done = strstr(r.output, "# done:");
  cr_assert(done, "%s", r.output);
  double train = e2e_number_after(done, "train_error");
  double test = e2e_number_after(done, "test_error");
  cr_expect(test > 10 && train > 10 && test != train, "%s", done);
  cr_expect(!strstr(r.output, "accuracy"), "%s", r.output);
  cr_expect(!strstr(r.output, "not used"), "%s", r.output);
  free(r.output);
}

/* --predict for a recurrent net on .npy sequences (centered inputs and
 * targets): the squared error of its outputs against the file's targets is
 * the train_error the program reports (for .npy sequences the squared
 * error on the file), at the last step and at every step. */
static void check_recurrent_predictions(const char *name, int every) {
  const char *dir = e2e_fresh_dir(name);
  enum { SEQUENCES = 37, STEPS = 5, UNITS = 2 };
  int target_steps = every ? STEPS : 1;
  free(e2e_write_grid(dir, "x.npy", SEQUENCES, STEPS * 3, -1, 1, 3));
  free(e2e_write_grid(dir, "y.npy", SEQUENCES, target_steps * UNITS, 0, 2, 5));
  char program[1024];
  snprintf(program, sizeof program,
           "data d = npy(inputs \"x.npy\", targets \"y.npy\", length %d, "
           "center [inputs, targets])\n"
           "net r : recurrent {\n  input 3\n  hidden tanh 8\n"
           "  output linear %d at %s\n  loss squared\n}\n"
           "train r on d with nag {\n  batch 10; steps 50; epsilon 0.01; "
           "mu 0.9\n}\n",
           STEPS, UNITS, every ? "every" : "last");
  const char *exe = e2e_compile(dir, "r", "--precision double", program);
  cr_assert_not_null(exe);
  e2e_result r = e2e_run("cd %s && %s --threads 1 --quiet --save-params p.npy "
                         "&& %s --threads 1 --quiet --steps 0 --load-params "
                         "p.npy --predict x.npy --outputs out.npy",
                         dir, exe, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  double reported =
      e2e_number_after(strstr(r.output, "# done: 0"), "train_error");
  cr_expect(strstr(r.output, "# predict: 37 sequences, outputs in out.npy"),
            "%s", r.output);
  free(r.output);
  double *y, *t;
  char *out = e2e_join(dir, "out.npy"), *targets = e2e_join(dir, "y.npy");
  long n = SEQUENCES * target_steps * UNITS;
  cr_assert_eq(e2e_read_f64(out, &y), n);
  cr_assert_eq(e2e_read_f64(targets, &t), n);
  double error = 0;
  for (long i = 0; i < n; i++)
    error += (y[i] - t[i]) * (y[i] - t[i]);
  cr_expect_float_eq(error / SEQUENCES, reported, 1e-5 * reported,
                     "predicted %g, reported %g", error / SEQUENCES, reported);
}

Test(held_out, recurrent_predictions_at_the_last_step) {
  check_recurrent_predictions("predict_rnn_last", 0);
}

Test(held_out, recurrent_predictions_at_every_step) {
  check_recurrent_predictions("predict_rnn_every", 1);
}

/* A recurrent net on .npy sequences with held-out sets of its own files:
 * a test set identical to the training set gives the training figures at
 * every report; the validation error is the squared error of --predict's
 * outputs on the validation inputs (centered with the training set's
 * means, in the targets' units) against its targets; and --save-best
 * keeps the parameters of the lowest validation error. */
Test(held_out, recurrent_nets_measure_npy_held_out_sequences) {
  const char *dir = e2e_fresh_dir("held_out_rnn");
  enum { TRAIN = 40, VALID = 17, STEPS = 5, UNITS = 2 };
  free(e2e_write_grid(dir, "x.npy", TRAIN, STEPS * 3, -1, 1, 3));
  free(e2e_write_grid(dir, "y.npy", TRAIN, UNITS, 0, 2, 5));
  free(e2e_write_grid(dir, "vx.npy", VALID, STEPS * 3, -1, 2, 7));
  free(e2e_write_grid(dir, "vy.npy", VALID, UNITS, 1, 3, 9));
  const char *data = "length 5, center [inputs, targets])\n";
  char program[1024];
  snprintf(program, sizeof program,
           "data d = npy(inputs \"x.npy\", targets \"y.npy\", %s"
           "data v = npy(inputs \"vx.npy\", targets \"vy.npy\", %s"
           "data same = npy(inputs \"x.npy\", targets \"y.npy\", %s"
           "net r : recurrent {\n  input 3\n  hidden tanh 8\n"
           "  output linear 2 at last\n  loss squared\n}\n"
           "train r on d with nag {\n  batch 10; steps 60; epsilon 0.01; "
           "mu 0.9\n  report every 10\n  validate on v\n  test on same\n}\n",
           data, data, data);
  const char *exe = e2e_compile(dir, "r", "--precision double", program);
  cr_assert_not_null(exe);
  e2e_result r =
      e2e_run("cd %s && %s --threads 1 --log r.csv --save-params p.npy "
              "--save-best b.npy && cat r.csv",
              dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "# validation  npy vx.npy: 17 sequences of 5 "
                             "steps × 3, targets vy.npy\n"),
            "%s", r.output);
  const char *header = strstr(r.output, "update,mu,epsilon,train_error,loss,"
                                        "seconds,grad_norm_mean,grad_norm_max,"
                                        "clipped,saturated,valid_error,"
                                        "test_error\n");
  cr_assert(header, "%s", r.output);
  cr_expect(strstr(r.output, "# best valid_error "), "%s", r.output);
  free(r.output);
  /* Every row: the test set is the training set, the same figures. */
  r = e2e_run("cd %s && tail -n +2 r.csv | cut -d, -f4,12 | "
              "awk -F, '$1 == $2 {same++} END {print NR, same}'",
              dir);
  cr_expect(strcmp(r.output, "7 7\n") == 0,
            "rows, rows where test_error = train_error: %s", r.output);
  free(r.output);
  r = e2e_run("cd %s && %s --threads 1 --quiet --steps 0 --load-params p.npy "
              "--predict vx.npy --outputs out.npy && %s --threads 1 --quiet "
              "--steps 0 --load-params b.npy",
              dir, exe, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  double reported = e2e_number_after(r.output, "valid_error ");
  double best_again =
      e2e_number_after(strstr(r.output, "\n# done") + 1, "valid_error ");
  free(r.output);
  double *y, *t;
  char *out = e2e_join(dir, "out.npy"), *targets = e2e_join(dir, "vy.npy");
  cr_assert_eq(e2e_read_f64(out, &y), VALID * UNITS);
  cr_assert_eq(e2e_read_f64(targets, &t), VALID * UNITS);
  double error = 0;
  for (int i = 0; i < VALID * UNITS; i++)
    error += (y[i] - t[i]) * (y[i] - t[i]);
  cr_expect_float_eq(error / VALID, reported, 1e-5 * reported,
                     "predicted %g, reported %g", error / VALID, reported);
  /* The best: the lowest valid_error of the log, measured again. */
  r = e2e_run("cd %s && tail -n +2 r.csv | cut -d, -f11 | sort -g | head -1",
              dir);
  double lowest = strtod(r.output, NULL);
  free(r.output);
  cr_expect_float_eq(best_again, lowest, 1e-6 * lowest, "best %g, lowest %g",
                     best_again, lowest);
}

/* New sequences must be as long as the net's longest (T = 10 gives
 * sequences of up to 11 steps). */
Test(held_out, recurrent_predictions_need_whole_sequences) {
  const char *dir = e2e_fresh_dir("predict_rnn_width");
  const char *exe = e2e_compile(dir, "a", "",
                                "data d = addition(T 10, test_cases 50)\n"
                                "net r : recurrent {\n  input 2\n"
                                "  hidden tanh 8\n  output linear 1 at last\n"
                                "}\n"
                                "train r on d with nag {\n  batch 10; steps "
                                "5; epsilon 0.01; mu 0.9\n}\n");
  cr_assert_not_null(exe);
  free(e2e_write_grid(dir, "x.npy", 4, 7, -1, 1, 3));
  e2e_result r =
      e2e_run("cd %s && %s --predict x.npy --outputs o.npy", dir, exe);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "x.npy: rows of 7 values, but the net reads "
                             "sequences of 11 steps × 2 inputs (22 values per "
                             "row)"),
            "%s", r.output);
  cr_expect(!strstr(r.output, "update"), "trained first:\n%s", r.output);
  free(r.output);
}

/* An HF program measures its held-out sets at every report too, and keeps
 * the best of them with --save-best. */
Test(held_out, hf_programs_report_their_held_out_sets) {
  const char *dir = e2e_fresh_dir("held_out_hf");
  const char *exe = e2e_compile(dir, "ae", "",
                                "data d = curves(cases 200)\n"
                                "data unseen = curves(cases 100, seed 7)\n"
                                "net ae : autoencoder {\n  input 784\n"
                                "  encoder sigmoid [8]\n  code linear 2\n"
                                "  output sigmoid\n}\n"
                                "train ae on d with hf {\n  batch 100\n"
                                "  steps 3\n  max_cg 10\n  validate on unseen\n"
                                "}\n");
  cr_assert_not_null(exe);
  e2e_result r = e2e_run("cd %s && %s --threads 1 --report-every 1 --log "
                         "h.csv --save-best best.npy && head -1 h.csv",
                         dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  const char *done = strstr(r.output, "# done:");
  cr_assert(done, "%s", r.output);
  double valid = e2e_number_after(done, "valid_error");
  cr_expect(valid > 10 && valid < 1000, "%s", done);
  cr_expect(strstr(r.output,
                   "seconds_per_update,ms_per_cg_step,seconds,valid_error\n"),
            "%s", r.output);
  cr_expect(strstr(r.output, "# best valid_error"), "%s", r.output);
  free(r.output);
}
