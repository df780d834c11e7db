/* emit.c — the generated program, top to bottom.
 *
 * The C file reads like a textbook page: what it trains, the sizes, the
 * parameter layout, the schedules, the layer functions, forward, loss,
 * backward, the update, and main. Each part has its own emitter file; this
 * one lays out the page and owns the shared printing helpers. */
#include "mdlc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void emit_line(Emitter *e, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vfprintf(e->out, format, ap);
  va_end(ap);
  fputc('\n', e->out);
}

void emit_blank(Emitter *e) { fputc('\n', e->out); }

/* The shortest decimal that reads back as exactly x: 0.005, not
 * 0.0050000000000000001. */
void emit_number(FILE *out, double x) {
  char buf[64];
  if (x == (double)(long long)x && x > -1e15 && x < 1e15) {
    fprintf(out, "%lld", (long long)x); /* 1000, not 1e+03 */
    return;
  }
  for (int digits = 1; digits <= 17; digits++) {
    snprintf(buf, sizeof buf, "%.*g", digits, x);
    if (strtod(buf, NULL) == x)
      break;
  }
  fputs(buf, out);
}

/* Character c of string s as it stands in a C literal, into buf (at most
 * 5 bytes). A '?' next to another is escaped: in C11 mode clang reads
 * "??/" and the other trigraphs as other characters. */
static void escape_char(const char *s, const char *c_at, char buf[5]) {
  unsigned char c = (unsigned char)*c_at;
  bool by_question = c_at[1] == '?' || (c_at > s && c_at[-1] == '?');
  if (c == '"' || c == '\\' || (c == '?' && by_question))
    snprintf(buf, 5, "\\%c", c);
  else if (c == '\n')
    strcpy(buf, "\\n");
  else if (c == '\t')
    strcpy(buf, "\\t");
  else if (c < 32 || c == 127)
    snprintf(buf, 5, "\\%03o", c);
  else
    snprintf(buf, 5, "%c", c);
}

/* Literals longer than LONG_LITERAL are written as pieces of PIECE to
 * PIECE_MAX characters, one per line, that fit an indented line as they
 * are: clang-format's time to break one long literal grows with the square
 * of its length (a data path of 1 MB took minutes), pieces cost it
 * nothing. */
enum { LONG_LITERAL = 256, PIECE = 40, PIECE_MAX = 56 };

static void emit_c_string(FILE *out, const char *s) {
  size_t escaped = 0;
  char buf[5];
  for (const char *c = s; *c; c++) {
    escape_char(s, c, buf);
    escaped += strlen(buf);
  }
  bool split = escaped > LONG_LITERAL;
  size_t piece = 0; /* characters in the current piece */
  fputc('"', out);
  for (const char *c = s; *c; c++) {
    /* A piece ends after a space or '/' once it is long enough, or where
     * the next character might not fit, but not inside an escape or
     * before a UTF-8 continuation byte (with room for 3 of them). */
    escape_char(s, c, buf);
    bool continuation = ((unsigned char)*c & 0xC0) == 0x80 && piece < PIECE_MAX;
    bool full = piece + strlen(buf) + 3 > PIECE_MAX;
    if (split && !continuation && piece >= PIECE &&
        (c[-1] == ' ' || c[-1] == '/' || full)) {
      fputs("\"\n      \"", out);
      piece = 0;
    }
    fputs(buf, out);
    piece += strlen(buf);
  }
  fputc('"', out);
}

/* C's precedence for each operator, to print no more parentheses than
 * needed; pow() and calls bind tightest. */
static int c_precedence(const Expr *x) {
  switch (x->kind) {
  case EX_COND:
    return 1;
  case EX_BINARY:
    switch (x->op) {
    case OP_OR:
      return 2;
    case OP_AND:
      return 3;
    case OP_EQ:
    case OP_NE:
      return 4;
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
      return 5;
    case OP_ADD:
    case OP_SUB:
      return 6;
    case OP_MUL:
    case OP_DIV:
      return 7;
    case OP_POW:
      return 9;
    }
    return 0;
  case EX_NEG:
  case EX_NOT:
    return 8;
  case EX_NUMBER:
    return x->number < 0 ? 8 : 10;
  default:
    return 10;
  }
}

static void emit_operand(Emitter *e, const Expr *x, int min_precedence) {
  bool parens = c_precedence(x) < min_precedence;
  if (parens)
    fputc('(', e->out);
  emit_expr(e, x);
  if (parens)
    fputc(')', e->out);
}

/* An expression of the language as C: t is the function's argument, steps
 * the run's number of updates, consts are the program's settings. */
void emit_expr(Emitter *e, const Expr *x) {
  FILE *out = e->out;
  switch (x->kind) {
  case EX_NUMBER:
    emit_number(out, x->number);
    break;
  case EX_NAME:
    fputs(strcmp(x->name, "steps") == 0 ? "n_steps" : x->name, out);
    break;
  case EX_NEG:
  case EX_NOT:
    fputc(x->kind == EX_NEG ? '-' : '!', out);
    emit_operand(e, x->lhs, 8);
    break;
  case EX_BINARY: {
    if (x->op == OP_POW) {
      fputs("pow(", out);
      emit_expr(e, x->lhs);
      fputs(", ", out);
      emit_expr(e, x->rhs);
      fputc(')', out);
      break;
    }
    static const char *c_ops[] = {
        "+", "-", "*", "/", "", "<", "<=", ">", ">=", "==", "!=", "&&", "||"};
    int prec = c_precedence(x);
    emit_operand(e, x->lhs, prec);
    fprintf(out, " %s ", c_ops[x->op]);
    /* Left-associative: the right operand needs parentheses at equal
     * precedence (a - (b - c)). */
    emit_operand(e, x->rhs, prec + 1);
    break;
  }
  case EX_CALL: {
    const char *name = x->name;
    if (strcmp(name, "min") == 0 || strcmp(name, "max") == 0) {
      /* fmin/fmax take two arguments: min(a, b, c) = fmin(fmin(a, b), c). */
      int n = 0;
      for (const Expr *a = x->args; a; a = a->next)
        n++;
      for (int i = 1; i < n; i++)
        fprintf(out, "%s(", name[1] == 'i' ? "fmin" : "fmax");
      emit_expr(e, x->args);
      for (const Expr *a = x->args->next; a; a = a->next) {
        fputs(", ", out);
        emit_expr(e, a);
        fputc(')', out);
      }
      break;
    }
    fprintf(out, "%s(", strcmp(name, "abs") == 0 ? "fabs" : name);
    emit_expr(e, x->args);
    fputc(')', out);
    break;
  }
  case EX_COND:
    emit_operand(e, x->cond, 2);
    fputs(" ? ", out);
    emit_operand(e, x->lhs, 2);
    fputs(" : ", out);
    emit_operand(e, x->rhs, 1);
    break;
  }
}

static const char *output_description(const Program *p) {
  const Layer *out = &p->layers[p->n_layers - 1];
  const char *units =
      out->act == ACT_SIGMOID ? "logistic" : activation_name(out->act);
  const char *when = !p->is_recurrent ? ""
                     : p->loss_recall ? " at the recall steps"
                     : p->every_step  ? " at every step"
                                      : " at the last step of each sequence";
  return arena_printf(
      "the %s of its %s outputs%s",
      p->loss == LOSS_SQUARED ? "squared error" : "cross-entropy", units, when);
}

static const char *net_description(const Program *p) {
  if (p->is_recurrent)
    return arena_printf("recurrent net '%s' (%s, %s hidden units)", p->net_name,
                        model_shape(p), activation_name(p->layers[1].act));
  return arena_printf("%s '%s' (%s)",
                      p->is_autoencoder ? "autoencoder" : "feed-forward net",
                      p->net_name, model_shape(p));
}

static const char *method_long_name(Method m) {
  static const char *names[] = {
      "stochastic gradient descent (SGD)", "classical momentum (CM, eqs. 1-2)",
      "Nesterov's accelerated gradient (NAG, eqs. 3-4)",
      "Hessian-free optimization (HF, sec. 5; Martens 2010)"};
  return names[m];
}

/* A file name as it may stand inside a C comment: "*" followed by "/"
 * would end the comment, so a space goes between them. */
static const char *comment_safe(const char *name) {
  char *safe = arena_alloc(2 * strlen(name) + 1), *out = safe;
  for (const char *c = name; *c; c++) {
    *out++ = *c;
    if (c[0] == '*' && c[1] == '/')
      *out++ = ' ';
  }
  return safe;
}

static void emit_preamble(Emitter *e) {
  const Program *p = e->p;
  emit_line(e, "/* %s.c — generated by mdlc %s from %s.",
            comment_safe(p->program_name), MDLC_VERSION,
            comment_safe(p->source_name));
  emit_line(e, " * Do not edit: change the .mdl file and compile it again.");
  emit_line(e, " *");
  emit_line(e, " * Trains the %s on the data set '%s'", net_description(p),
            p->data_name);
  emit_line(e, " * with %s,", method_long_name(p->method));
  emit_line(e, " * minimizing %s, in %s.", output_description(p),
            e->opt->use_double ? "float64" : "float32");
  emit_line(e, " *");
  emit_line(e, " * The equations are those of Sutskever, Martens, Dahl & "
               "Hinton, \"On the");
  emit_line(e, " * importance of initialization and momentum in deep "
               "learning\", ICML 2013.");
  emit_line(e, " * Read on in order: sizes, parameters, settings and "
               "schedules, layers,");
  if (p->is_recurrent)
    emit_line(e, " * the forward pass through time, the loss, backpropagation "
                 "through time,\n * the update, and training. */");
  else
    emit_line(e, " * the forward pass, the loss, backpropagation, the update, "
                 "and training. */");
  emit_line(e, "#include <math.h>");
  emit_line(e, "#include <stdint.h>");
  emit_line(e, "#include <stdio.h>");
  emit_line(e, "#include <stdlib.h>"); /* predict() */
  emit_line(e, "#include <string.h>");
  emit_blank(e);
  emit_line(e, "#include <mdl/blas.h>");
  emit_line(e, "#include <mdl/checkpoint.h>");
  emit_line(e, "#include <mdl/data.h>");
  if (p->method == METHOD_HF)
    emit_line(e, "#include <mdl/hf.h>");
  if (!e->opt->use_double)
    emit_line(e, "#include <mdl/fastmath.h>");
  if (model_image_side(e->p))
    emit_line(e, "#include <mdl/image.h>");
  emit_line(e, "#include <mdl/init.h>");
  emit_line(e, "#include <mdl/npy.h>");
  emit_line(e, "#include <mdl/program.h>");
  emit_line(e, "#include <mdl/rng.h>");
  if (p->is_recurrent)
    emit_line(e, "#include <mdl/sequences.h>");
  emit_blank(e);
}

static void emit_sizes(Emitter *e) {
  const Program *p = e->p;
  emit_line(e, "/* ---- Sizes ---- */");
  emit_blank(e);
  emit_line(e, "enum {");
  if (p->method == METHOD_HF)
    emit_line(e, "  BATCH = %d, /* %s at a time: the curvature batch */",
              p->hf.curvature_batch, p->is_recurrent ? "sequences" : "cases");
  else
    emit_line(e, "  BATCH = %d, /* %s per minibatch */", p->batch,
              p->is_recurrent ? "sequences" : "cases");
  for (int l = 0; l < p->n_layers; l++) {
    const Layer *L = &p->layers[l];
    if (l == 0)
      emit_line(e, "  N_%s = %d, /* units of each layer, input to output */",
                L->upper, L->size);
    else
      emit_line(e, "  N_%s = %d,", L->upper, L->size);
  }
  if (p->is_recurrent)
    emit_line(e, "  MAX_STEPS = %d, /* the steps of the longest sequence */",
              p->max_steps);
  if (p->is_recurrent && (p->loss_recall || p->loss_per_target))
    emit_line(e,
              "  TARGET_STEPS = %d, /* the steps of a sequence that carry "
              "loss%s */",
              p->target_steps, p->loss_recall ? ": its recall" : "");
  int side = model_image_side(p);
  if (side)
    emit_line(e, "  IMAGE_SIDE = %d, /* the inputs are %d × %d images */", side,
              side, side);
  emit_line(e, "};");
  emit_blank(e);
}

static void emit_layout(Emitter *e) {
  const Program *p = e->p;
  emit_line(e, "/* ---- Parameters ----");
  emit_line(e, " * The parameters θ, the velocity v and the gradient g are "
               "each one flat");
  emit_line(e, " * vector of N_PARAMS numbers; each block below is an offset "
               "into all three.");
  emit_line(e, " * Weights from a layer of m units to one of n units form an "
               "m × n row-major");
  emit_line(e, " * matrix: element [i * n + j] connects unit i below to unit "
               "j above. */");
  emit_blank(e);
  emit_line(e, "enum {");
  for (int i = 0; i < p->n_blocks; i++) {
    const Block *b = &p->blocks[i];
    if (i == 0) {
      emit_line(e, "  %s = 0,", b->upper);
      continue;
    }
    const Block *prev = &p->blocks[i - 1];
    emit_line(e, "  %s = %s + %s,", b->upper, prev->upper,
              emit_block_size(p, prev));
  }
  const Block *last = &p->blocks[p->n_blocks - 1];
  emit_line(e, "  N_PARAMS = %s + %s", last->upper, emit_block_size(p, last));
  emit_line(e, "};");
  emit_blank(e);
  emit_line(e, "/* The blocks by name, for --check-gradients. */");
  emit_line(e, "static const mdl_block blocks[] = {");
  for (int i = 0; i < p->n_blocks; i++) {
    const Block *b = &p->blocks[i];
    if (b->kind != BLOCK_WEIGHTS)
      emit_line(e, "    {\"%s\", %s, 1, N_%s},", b->name, b->upper,
                p->layers[b->to].upper);
    else
      emit_line(e, "    {\"%s\", %s, N_%s, N_%s},", b->name, b->upper,
                p->layers[b->from].upper, p->layers[b->to].upper);
  }
  emit_line(e, "};");
  emit_blank(e);
}

/* The element count of a block, as the constants that make it. */
const char *emit_block_size(const Program *p, const Block *b) {
  if (b->kind != BLOCK_WEIGHTS)
    return arena_printf("N_%s", p->layers[b->to].upper);
  return arena_printf("N_%s * N_%s", p->layers[b->from].upper,
                      p->layers[b->to].upper);
}

static void emit_init_block(Emitter *e, const Block *b) {
  const Program *p = e->p;
  const char *size = emit_block_size(p, b);
  FILE *out = e->out;
  switch (b->init.kind) {
  case INIT_ZERO:
  case INIT_CONSTANT:
    fprintf(out, "  mdl_init_constant(theta + %s, %s, %s, ", b->upper, e->dtype,
            size);
    emit_number(out, b->init.value);
    fputs(");\n", out);
    break;
  case INIT_SPARSE:
    fprintf(out, "  mdl_init_sparse(theta + %s, %s, N_%s, N_%s, %d, ", b->upper,
            e->dtype, p->layers[b->from].upper, p->layers[b->to].upper,
            b->init.fan_in);
    emit_number(out, b->init.scale);
    fputs(", &rng);\n", out);
    break;
  case INIT_GAUSSIAN:
    fprintf(out, "  mdl_init_gaussian(theta + %s, %s, %s, ", b->upper, e->dtype,
            size);
    emit_number(out, b->init.scale);
    fputs(", &rng);\n", out);
    break;
  case INIT_TARGET_MEAN: {
    const Layer *L = &p->layers[b->to];
    emit_line(e, "  %s(data, theta + %s, %s);",
              p->is_recurrent ? "mdl_seq_target_mean" : "mdl_data_target_mean",
              b->upper, e->dtype);
    if (L->act == ACT_LINEAR)
      break;
    /* The bias that makes a unit with no input from below output the
     * mean: the inverse of its nonlinearity at the mean. */
    const char *inverse = L->act == ACT_SIGMOID ? "log(m / (1 - m))"
                          : L->act == ACT_TANH  ? "atanh(m)"
                                                : "log(m)";
    emit_line(e, "  for (int j = 0; j < N_%s; j++) {", L->upper);
    emit_line(e, "    double m = theta[%s + j];", b->upper);
    if (L->act == ACT_TANH)
      emit_line(e, "    m = fmin(fmax(m, -1 + 1e-6), 1 - 1e-6);");
    else
      emit_line(e, "    m = fmin(fmax(m, 1e-6), 1 - 1e-6);");
    emit_line(e, "    theta[%s + j] = %s;", b->upper, inverse);
    emit_line(e, "  }");
    break;
  }
  }
  if (b->init.radius) {
    fprintf(out, "  if (mdl_init_spectral_radius(theta + %s, %s, N_%s, ",
            b->upper, e->dtype, p->layers[b->to].upper);
    emit_number(out, b->init.radius);
    fputs(", radius_before, radius_after, &err) != 0)\n", out);
    emit_line(e, "    mdl_die(\"%%s\", err.message);");
  }
}

/* The runtime's type of the program's data set. */
const char *emit_data_type(const Program *p) {
  return p->is_recurrent ? "mdl_seq_data" : "mdl_dataset";
}

/* Whether initialize() rescales a block to a spectral radius. */
bool emit_uses_radius(const Program *p) {
  for (int i = 0; i < p->n_blocks; i++)
    if (p->blocks[i].init.radius)
      return true;
  return false;
}

static const char *init_kind_comment(const InitSpec *s) {
  switch (s->kind) {
  case INIT_ZERO:
    return "0";
  case INIT_CONSTANT:
    return "a constant";
  case INIT_SPARSE:
    return arena_printf("sparse: %d incoming weights per unit from N(0, 1)%s",
                        s->fan_in, s->scale == 1 ? "" : " times the scale");
  case INIT_GAUSSIAN:
    return arena_printf("dense Gaussian, N(0, %g^2)", s->scale);
  case INIT_TARGET_MEAN:
    return "the mean of the training targets (Table 4)";
  }
  return "";
}

static const char *init_comment(const InitSpec *s) {
  if (!s->radius)
    return init_kind_comment(s);
  return arena_printf("%s, rescaled to spectral radius %g (sec. 4.1)",
                      init_kind_comment(s), s->radius);
}

static void emit_initialize(Emitter *e) {
  const Program *p = e->p;
  bool uses_data = false, uses_rng = false;
  for (int i = 0; i < p->n_blocks; i++) {
    uses_data |= p->blocks[i].init.kind == INIT_TARGET_MEAN;
    uses_rng |= p->blocks[i].init.kind == INIT_SPARSE ||
                p->blocks[i].init.kind == INIT_GAUSSIAN;
  }
  bool radius = emit_uses_radius(p);
  if (p->is_recurrent) {
    emit_line(e, "/* ---- Initialization (sec. 4.1, Table 4) ----");
    emit_line(e, " * The echo-state idea: a sparse hidden-to-hidden matrix "
                 "rescaled to a");
    emit_line(e, " * spectral radius slightly above 1, so that the hidden "
                 "state neither forgets");
    emit_line(e, " * its inputs at once nor explodes; small input weights, so "
                 "that irrelevant");
    emit_line(e, " * inputs do not overwrite what it holds. */");
  } else {
    emit_line(e, "/* ---- Initialization (sec. 3.1) ----");
    emit_line(e, " * Sparse initialization gives each unit a fixed number of "
                 "incoming weights");
    emit_line(e, " * drawn from N(0, 1) (times a scale) and leaves every other "
                 "weight exactly");
    emit_line(e,
              " * 0, but trainable; unlike dense scaled weights it keeps the "
              "units'");
    emit_line(e, " * total inputs from growing or shrinking with the layer "
                 "widths. */");
  }
  emit_blank(e);
  emit_line(e,
            "static void initialize(%s *theta, uint64_t seed, const %s "
            "*data%s) {",
            e->real, emit_data_type(p),
            radius ? ", double *radius_before, double *radius_after" : "");
  if (radius)
    emit_line(e, "  mdl_error err;");
  if (uses_rng) {
    emit_line(e, "  mdl_rng rng;");
    emit_line(e, "  mdl_rng_seed(&rng, seed);");
  } else {
    emit_line(e, "  (void)seed;");
  }
  if (!uses_data)
    emit_line(e, "  (void)data;");
  const InitSpec *last = NULL;
  for (int i = 0; i < p->n_blocks; i++) {
    const Block *b = &p->blocks[i];
    if (!last || memcmp(last, &b->init, sizeof *last) != 0)
      emit_line(e, "  /* %s: %s */", b->name, init_comment(&b->init));
    last = &b->init;
    emit_init_block(e, b);
  }
  emit_line(e, "}");
  emit_blank(e);
}

void emit_program(FILE *out, const Program *p, const EmitOptions *opt) {
  Emitter e = {.out = out, .p = p, .opt = opt};
  e.real = opt->use_double ? "double" : "float";
  e.gemm = opt->use_double ? "mdl_dgemm" : "mdl_sgemm";
  e.gemv = opt->use_double ? "mdl_dgemv" : "mdl_sgemv";
  e.dtype = opt->use_double ? "MDL_F64" : "MDL_F32";
  emit_preamble(&e);
  emit_sizes(&e);
  emit_layout(&e);
  emit_schedules(&e);
  emit_initialize(&e);
  emit_layer_functions(&e);
  if (p->is_recurrent) {
    emit_recurrent_forward(&e);
    emit_recurrent_loss(&e);
    emit_recurrent_backward(&e);
  } else {
    emit_forward(&e);
    emit_loss(&e);
    emit_backward(&e);
  }
  if (p->method == METHOD_HF)
    emit_gauss_newton(&e); /* the driver in the runtime makes the update */
  else
    emit_update(&e);
  emit_main(&e);
}

/* Used by emit_main.c for data paths. */
void emit_string_literal(FILE *out, const char *s) { emit_c_string(out, s); }

void emit_die_naming(Emitter *e, const char *indent, const char *path,
                     const char *message, const char *args) {
  const char *format = message;
  if (path) {
    /* The path is text inside the format: each '%' doubled. */
    size_t n = 0;
    for (const char *c = path; *c; c++)
      n += *c == '%' ? 2 : 1;
    char *text = arena_alloc(n + 1), *t = text;
    for (const char *c = path; *c; c++) {
      *t++ = *c;
      if (*c == '%')
        *t++ = '%';
    }
    format = arena_printf("%s: %s", text, message);
  }
  fprintf(e->out, "%smdl_die(", indent);
  emit_c_string(e->out, format);
  fprintf(e->out, ", %s);\n", args);
}
