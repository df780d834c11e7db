/* mdlc.h — the compiler's one internal header, a section per source file.
 *
 * The pipeline, in the order a program goes through it:
 *   lexer.re  source text   -> tokens
 *   parser.y  tokens        -> AST (Item, Stmt, Atom, Expr), with locations
 *   sema.c    AST           -> checked Program (model.c's description,
 *                              with formula.c's formulas): lowered once
 *   emit_*.c  Program       -> one readable C file, from the Program alone
 *   driver.c  C file        -> clang -> an executable linked to libmdl
 */
#ifndef MDLC_H
#define MDLC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* ---- arena.c: all compiler memory lives until the process ends ---- */

void *arena_alloc(size_t bytes); /* zeroed */
char *arena_strdup(const char *s);
char *arena_strndup(const char *s, size_t n);
char *arena_printf(const char *format, ...)
    __attribute__((format(printf, 1, 2)));
/* Frees everything allocated so far, for a process that compiles many
 * programs in turn (tests/fuzz); nothing allocated before may be used. */
void arena_release(void);
/* "1 output", "12 outputs", "2 classes": a count and its noun, plural
 * unless the count is one. */
const char *count_of(long n, const char *noun);

/* ---- diag.c: file:line:col diagnostics with the source line and a caret ----
 */

typedef struct {
  const char *name; /* as given on the command line */
  const char *text; /* whole contents, NUL-terminated */
  size_t length;
} SourceFile;

typedef struct {
  const SourceFile *file;
  int line, col; /* 1-based */
  int length;    /* characters to underline, at least 1 */
} Loc;

/* Where diagnostics go (stderr unless a test redirects them). */
extern FILE *diag_out;
extern int diag_error_count;

void diag_reset(void);
/* Holds diagnostics back until diag_release, which prints them in the
 * order of the file. */
void diag_hold(void);
void diag_release(void);
void diag_error(Loc loc, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void diag_warning(Loc loc, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void diag_note(Loc loc, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* An error that has no place in a file (a missing file, a bad option). */
void diag_plain_error(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

/* Reads a whole file; NULL (with an error reported) if it cannot. */
SourceFile *source_read(const char *path);
SourceFile *source_from_string(const char *name, const char *text);

/* ---- ast.c: the syntax tree the parser builds ---- */

typedef enum {
  EX_NUMBER,
  EX_NAME, /* t, steps, or a const */
  EX_NEG,
  EX_NOT,
  EX_BINARY, /* + - * / ^ < <= > >= == != and or */
  EX_CALL,   /* min max floor ceil log2 log exp sqrt abs */
  EX_COND    /* then if cond else otherwise */
} ExprKind;

typedef enum {
  OP_ADD,
  OP_SUB,
  OP_MUL,
  OP_DIV,
  OP_POW,
  OP_LT,
  OP_LE,
  OP_GT,
  OP_GE,
  OP_EQ,
  OP_NE,
  OP_AND,
  OP_OR
} BinaryOp;

typedef struct Expr Expr;
struct Expr {
  ExprKind kind;
  Loc loc;
  double number;    /* EX_NUMBER */
  const char *name; /* EX_NAME, EX_CALL */
  BinaryOp op;      /* EX_BINARY */
  Expr *lhs, *rhs;  /* EX_BINARY; EX_NEG/EX_NOT use lhs */
  Expr *cond;       /* EX_COND: lhs if cond else rhs */
  Expr *args;       /* EX_CALL: a list linked by next */
  Expr *next;
};

/* An atom is a word of a declaration: `sigmoid`, `784`, `"file.gz"`,
 * `[400, 200]`, or a call `sparse(fan_in 15, scale 1.0)` whose arguments
 * are atoms that may carry a key (`fan_in`). */
typedef enum { AT_NAME, AT_NUMBER, AT_STRING, AT_LIST, AT_CALL } AtomKind;

typedef struct Atom Atom;
struct Atom {
  AtomKind kind;
  Loc loc;
  const char *text; /* AT_NAME, AT_STRING (unescaped), AT_CALL (callee) */
  double number;    /* AT_NUMBER */
  bool is_integer;  /* AT_NUMBER written without '.', 'e' */
  const char *key;  /* a call argument's key, or NULL */
  Loc key_loc;
  Atom *items; /* AT_LIST elements, AT_CALL arguments */
  Atom *next;
};

typedef enum {
  ST_WORDS, /* head atom atom ...        (net, init, data-like lines) */
  ST_SET,   /* head expression / string  (train settings)            */
  ST_PHASE, /* first|last N { ... }                                  */
  ST_REPORT /* report every N [metric ...]                           */
} StmtKind;

typedef struct Stmt Stmt;
struct Stmt {
  StmtKind kind;
  Loc loc;          /* the head word */
  const char *head; /* ST_WORDS, ST_SET; "first"/"last" for ST_PHASE */
  Atom *atoms;      /* ST_WORDS, ST_REPORT */
  Expr *expr;       /* ST_SET value, ST_PHASE length */
  Atom *string;     /* ST_SET with a string value */
  Stmt *body;       /* ST_PHASE */
  Stmt *next;
};

/* What a report can show of a data set (`report every N error accuracy`):
 * the net's error as the paper reports it, a classifier's accuracy
 * (1 - its error rate), and the loss being minimized. */
typedef enum {
  METRIC_ERROR,
  METRIC_ACCURACY,
  METRIC_LOSS,
  METRIC_COUNT
} Metric;

typedef enum { IT_CONST, IT_DATA, IT_NET, IT_INIT, IT_TRAIN } ItemKind;

typedef struct Item Item;
struct Item {
  ItemKind kind;
  Loc loc;          /* the keyword */
  const char *name; /* const/data/net name; the net of init/train */
  Loc name_loc;
  const char *kind_name; /* data source, net kind, optimizer */
  Loc kind_loc;
  /* train: every method named, the first being kind_name (`with cm and
   * nag` compares two, for a quadratic) */
  Atom *methods;
  const char *data_name; /* train ... on DATA; NULL for `train NET with` */
  Loc data_loc;
  Atom *args;  /* data source arguments */
  Expr *value; /* const value */
  Stmt *body;  /* net, init, train */
  Item *next;
};

typedef struct {
  Item *items;
  const SourceFile *file;
} Ast;

Expr *expr_new(ExprKind kind, Loc loc);
Atom *atom_new(AtomKind kind, Loc loc);
Stmt *stmt_new(StmtKind kind, Loc loc);
Item *item_new(ItemKind kind, Loc loc);
Loc loc_span(Loc first, Loc last); /* from first's start to last's end */

const char *binary_op_text(BinaryOp op);
/* The shortest of 15 to 17 digits that reads back as x. */
void number_print(FILE *out, double x);
void ast_dump(FILE *out, const Ast *ast);
void expr_print(FILE *out, const Expr *e); /* in the language's syntax */

/* ---- lexer.re / parser.y ---- */

typedef struct Lexer Lexer;
/* Parses a file into *ast; returns false if there were syntax errors
 * (each already reported). */
bool parse_source(const SourceFile *file, Ast *ast);
/* Prints every token, one per line, for mdlc --dump-tokens. */
void lexer_dump_tokens(FILE *out, const SourceFile *file);

/* ---- formula.c: the model's expressions of the update counter t ----
 * A checked expression (a const's value, a schedule, a phase's length) with
 * its names resolved and its functions known. sema builds them from the
 * syntax tree; formula_eval is the one evaluator the compiler has, and
 * emit_print.c writes the same formula as C for the generated program. */

typedef struct Const Const;       /* model.c below */
typedef struct Schedule Schedule; /* model.c below */

typedef enum {
  FO_NUMBER,
  FO_T,     /* the update counter */
  FO_STEPS, /* the schedule's number of updates */
  FO_CONST, /* a const: the generated program's variable of that name */
  FO_NEG,
  FO_NOT,
  FO_BINARY,
  FO_CALL,
  FO_COND
} FormulaKind;

/* The functions an expression may call; formula_functions names them. */
typedef enum {
  FN_MIN, /* min and max take two or more arguments */
  FN_MAX,
  FN_FLOOR, /* the others one */
  FN_CEIL,
  FN_LOG2,
  FN_LOG,
  FN_EXP,
  FN_SQRT,
  FN_ABS
} Function;
extern const char *const formula_functions[]; /* by Function; NULL-ended */

typedef struct Formula Formula;
struct Formula {
  FormulaKind kind;
  double number;      /* FO_NUMBER */
  const Const *c;     /* FO_CONST */
  BinaryOp op;        /* FO_BINARY */
  Function fn;        /* FO_CALL */
  Formula *lhs, *rhs; /* FO_BINARY; FO_NEG and FO_NOT use lhs */
  Formula *cond;      /* FO_COND: lhs if cond else rhs */
  Formula **args;     /* FO_CALL */
  int n_args;
};

/* Its value at update t of a schedule of `steps` updates; a const is its
 * folded value. */
double formula_eval(const Formula *f, double t, long steps);
bool formula_uses_t(const Formula *f);
bool formula_uses_consts(const Formula *f);
long formula_size(const Formula *f); /* its nodes: the cost of an eval */
/* In the language's syntax, every operation in parentheses. */
void formula_print(FILE *out, const Formula *f);
/* The value of a schedule at update t of a run of `steps`, and which part
 * gives it: a phase's index, or -1 for the base. */
double schedule_at(const Schedule *s, double t, long steps, int *part);

/* ---- model.c: the checked description every emitter works from ---- */

typedef enum { ACT_SIGMOID, ACT_TANH, ACT_LINEAR, ACT_SOFTMAX } Activation;
typedef enum { LOSS_CROSS_ENTROPY, LOSS_SQUARED } Loss;
typedef enum { METHOD_SGD, METHOD_CM, METHOD_NAG, METHOD_HF } Method;
typedef enum {
  DATA_CURVES,
  DATA_IDX,
  DATA_NPY,
  /* the sequence problems of appendix A.3, for recurrent nets */
  DATA_ADDITION,
  DATA_MULTIPLICATION,
  DATA_MEMORIZATION
} DataKind;
typedef enum {
  NET_AUTOENCODER,
  NET_FEEDFORWARD,
  NET_RECURRENT,
  /* f(θ) = ½ θᵀAθ with A diagonal: no data, no layers (sec. 2.1) */
  NET_QUADRATIC
} NetKind;

/* A feed-forward data set as the generated program loads it: the training
 * set, or a held-out one (`test on NAME`, `validate on NAME`). */
typedef struct {
  const char *name;                      /* the data item; NULL: no such set */
  DataKind kind;                         /* DATA_CURVES, DATA_IDX or DATA_NPY */
  int n_cases;                           /* 0: all the file has */
  long seed;                             /* DATA_CURVES */
  const char *images_path, *labels_path; /* DATA_IDX */
  int n_classes;                         /* DATA_IDX; 0: from the labels */
  const char *npy_path, *targets_path;   /* DATA_NPY */
} DataFiles;
typedef enum {
  INIT_ZERO,
  INIT_CONSTANT,
  INIT_SPARSE,
  INIT_GAUSSIAN,
  INIT_TARGET_MEAN
} InitKind;

typedef struct {
  const char *name;  /* input, enc1, code, dec1, output, hid1, ... */
  const char *upper; /* NAME in upper case, for its size constant */
  int size;
  Activation act; /* unused for the input layer */
} Layer;

typedef struct {
  InitKind kind;
  double value;  /* INIT_CONSTANT */
  int fan_in;    /* INIT_SPARSE */
  double scale;  /* INIT_SPARSE: multiplier; INIT_GAUSSIAN: std. dev. */
  double radius; /* a square block rescaled to this spectral radius, or 0 */
  Loc loc;       /* the init line it came from (file NULL: the default) */
} InitSpec;

typedef enum {
  BLOCK_WEIGHTS, /* rows × cols: from layer `from` to layer `to` */
  BLOCK_BIAS,    /* the biases of layer `to` */
  BLOCK_INITIAL  /* a recurrent net's learned initial hidden state */
} BlockKind;

/* A parameter block at `offset` inside the flat parameter vector. In a
 * feed-forward net, weights feed layer `to` from layer to - 1; a recurrent
 * net's hidden_to_hidden block has from == to. */
typedef struct {
  const char *name;  /* input_to_enc1, enc1_bias, ... */
  const char *upper; /* INPUT_TO_ENC1, ... its offset constant */
  BlockKind kind;
  int from, to; /* layer indices; `from` is unused but for weights */
  long rows, cols;
  long offset, size;
  InitSpec init;
} Block;

struct Const {
  const char *name;
  Loc loc;
  Formula *value; /* as written */
  double folded;  /* its value */
  /* Some use of it is folded when compiling (another const, a size, an
   * initialization), so only mdlc -D changes it everywhere; --set at run
   * time would not. */
  bool compile_time;
  /* Its value uses consts that --set may change: the program computes it
   * again from theirs (unless it is given a --set of its own). */
  bool recomputed;
};

/* μ_t, ε_t or HF's d_t: a base formula and phases that override it, the
 * first that holds at t winning. */
typedef struct {
  bool is_first;   /* first N updates, or last N */
  Formula *length; /* N as written */
  long n;          /* N */
  Formula *value;
  Loc loc;       /* the `first`/`last` line, whose comment the C keeps */
  Loc value_loc; /* the value as written */
} Phase;

struct Schedule {
  Formula *base;   /* NULL: not given */
  Loc loc;         /* where base was written */
  bool is_default; /* base is the method's default, not written (loc: the
                      method's name) */
  Phase *phases;
  int n_phases;
  /* Decided once, by sema: the schedule is one plain number (no phases),
   * which the generated program offers as a --set setting of its own
   * name; and whether its value is the same at every t. */
  bool is_setting;
  bool constant;
};

/* A value that the generated program's --set NAME=VALUE may change before
 * training: a const, a schedule that is one number, the weight decay. */
typedef enum {
  SETTING_CONST,
  SETTING_EPSILON,
  SETTING_MU,
  SETTING_WEIGHT_DECAY, /* sgd, cm and nag's */
  SETTING_DECAY         /* hf's decay of CG's hot start */
} SettingKind;

typedef struct {
  SettingKind kind;
  const char *name; /* its variable in the C and its name for --set */
  double value;     /* when compiling */
  const char *help; /* what the program's --help says of it */
  const Const *c;   /* SETTING_CONST (c->compile_time: only -D reaches it) */
  Loc loc;          /* where it was written */
} Setting;

/* A line of the train item as written (`batch 200`), by its head word, so
 * that the C can show the line above what it became. */
typedef struct {
  const char *head;
  Loc loc;
} Written;

/* Hessian-free optimization's settings (sec. 5; the runtime's mdl/hf.h has
 * their meaning and Martens' defaults). */
typedef struct {
  int curvature_batch; /* cases of the Gauss-Newton products */
  int max_cg, min_cg;  /* CG steps per update */
  double cg_tolerance; /* Martens' relative-progress test */
  double lambda;       /* the initial damping */
  double weight_decay; /* wc of ½ wc ‖θ‖² */
  double structural;   /* μ_s of structural damping (recurrent nets) */
  bool precondition, backtrack, line_search;
} HfSettings;

typedef struct {
  /* where the program came from */
  const char *source_name;
  const char *program_name; /* basename of -o or of the source */

  /* data */
  const char *data_name;
  DataKind data_kind;
  int n_cases; /* 0: all the file has */
  long data_seed;
  const char *images_path; /* DATA_IDX */
  const char *labels_path; /* DATA_IDX, optional */
  int n_classes;
  const char *npy_path;     /* DATA_NPY */
  const char *targets_path; /* DATA_NPY, optional */
  /* sequences, for recurrent nets */
  int seq_T;           /* the problem's length T */
  int seq_symbols;     /* memorization: the symbols to remember */
  int seq_alphabet;    /* memorization: their alphabet */
  bool target_sum;     /* addition: A + B rather than (A + B) / 2 */
  bool center_inputs;  /* subtract the mean input (sec. 4.1) */
  bool center_targets; /* subtract the mean target */
  int n_test;          /* held-out sequences */
  int seq_length;      /* DATA_NPY sequences: the steps of each */
  int max_steps;       /* the longest sequence */
  bool every_step;     /* targets at every step, else at the last */
  /* Which steps carry loss and what the objective divides by (sec. 4.2;
   * Sutskever's code divides by its mask's count). loss_recall: only the
   * last seq_symbols steps of a memorization sequence, its recall. */
  bool loss_recall;
  bool loss_per_target; /* mean per target step, else per sequence */
  int target_steps;     /* steps that carry loss in every sequence */

  /* network */
  const char *net_name;
  NetKind net_kind;
  bool is_autoencoder;  /* net_kind == NET_AUTOENCODER */
  bool is_recurrent;    /* net_kind == NET_RECURRENT */
  bool learned_initial; /* recurrent: h_0 is a parameter, else 0 */
  Layer *layers;
  int n_layers; /* including input and output */
  Loss loss;
  Block *blocks;
  int n_blocks;
  long n_params;
  /* A quadratic, f(θ) = ½ θᵀAθ with A = diag(curvatures), n_params of
   * them, minimized from θ_0 = start by every method in methods. */
  double *curvatures;
  double *start;

  /* training */
  Method method; /* a quadratic comparing methods: a momentum method if
                    any is one, so that its train item takes mu */
  Method methods[3];
  int n_methods;
  int batch;
  long steps;
  long seed;
  long report_every;
  /* `report every N METRIC ...`: the figures of each set its lines show,
   * in the order named; n_metrics 0: the default columns (emit_report.c). */
  Metric metrics[METRIC_COUNT];
  int n_metrics;
  double zero_one_tolerance; /* addition, multiplication: 0.04 */
  double clip; /* clip ‖g‖ to this (Pascanu et al. 2013), or 0: never */
  const char *log_path; /* NULL: only with --log */
  /* Held-out sets measured at every report and never trained on. */
  DataFiles valid, test;
  Schedule mu, epsilon;
  Schedule decay; /* hf: the hot-start decay of CG */
  HfSettings hf;
  /* sgd, cm, nag: `weight_decay λ`, the penalty (λ/2)‖W‖² on the weights
   * (not the biases), when has_weight_decay. hf has its own (hf above). */
  bool has_weight_decay;
  double weight_decay;
  Const *consts;
  int n_consts;
  /* What --set may change, in the order the program's Settings section
   * declares them: the consts, then the others (sema_train.c). */
  Setting *settings;
  int n_settings;
  /* The train item's lines, each setting's first (model_written). */
  Written *written;
  int n_written;
} Program;

const char *activation_name(Activation act);
const char *loss_name(Loss loss);
const char *method_name(Method method);
const char *net_kind_name(NetKind kind); /* autoencoder, feedforward, ... */
/* Builds layers and blocks (names, sizes, offsets) once the layer list is
 * known; the output layer is the last. */
void model_layout(Program *p);
void model_dump(FILE *out, const Program *p);
/* The side of the square images an autoencoder reconstructs (28 for 784
 * inputs), or 0 when its inputs are not square images. */
int model_image_side(const Program *p);
/* A feed-forward net's weight block into layer l (1 .. n_layers - 1); its
 * bias block is the next one. */
const Block *model_weights_into(const Program *p, int l);
/* The training set's files (a feed-forward net's). */
DataFiles model_training_files(const Program *p);
/* Whether the net classifies: softmax outputs whose targets are classes
 * (IDX labels or one-hot .npy rows), so its error is the error rate and
 * its accuracy 1 - that. */
bool model_is_classifier(const Program *p);
/* Whether initialize() rescales some block to a spectral radius. */
bool model_uses_spectral_radius(const Program *p);
/* Whether some hidden layer (neither input nor output) has these units. */
bool model_hidden_uses(const Program *p, Activation act);
/* Whether the data is a generated sequence problem (addition, ...). */
bool model_is_sequence_problem(DataKind kind);
/* A block by name, or NULL. */
const Block *model_block(const Program *p, const char *name);
/* A setting by name, or NULL. */
const Setting *model_setting(const Program *p, const char *name);
/* Where the train item's setting `head` was written; file NULL when it was
 * not (the default). */
Loc model_written(const Program *p, const char *head);
/* "784-400-...-784" */
const char *model_shape(const Program *p);

/* ---- statements.c: the grammar of net and init bodies ----
 * The parser reads a net or init body as lines of words; this table says
 * which statements each kind of body takes and the words of each. sema
 * checks bodies against it, and docs/language.md's tables are printed
 * from it (mdlc --dump-syntax). */

typedef enum {
  STMT_OPTIONAL,  /* at most once */
  STMT_REQUIRED,  /* exactly once */
  STMT_REPEATABLE /* any number of times */
} Occurs;

typedef struct {
  const char *form;    /* as the docs write it: "`encoder ACT [N1, ...]`" */
  const char *meaning; /* the docs' words for it */
} StatementForm;

typedef struct {
  const char *head; /* its first word ("BLOCK": a block's name) */
  Occurs occurs;
  const char *what;    /* what it gives, in "has no 'input' size" */
  const char *example; /* one statement mdlc accepts */
  StatementForm forms[3];
} Statement;

typedef struct {
  const char *name;        /* the net's kind, or "init" */
  const char *noun;        /* for messages: "recurrent net" */
  const char *summary;     /* the docs' line above its table */
  Statement statements[8]; /* up to one without a head */
} Body;

/* An initialization of an init statement (INIT). */
typedef struct {
  const char *name; /* the call's name (sparse), or NULL: a number */
  const char *form, *meaning;
} Initialization;
extern const Initialization initializations[]; /* up to one without form */

/* A body by its name, or NULL; one of its statements by head, or NULL. */
const Body *body_named(const char *name);
const Statement *body_statement(const Body *body, const char *head);
/* NULL-ended lists of names, for one_of and suggest: a body's heads, the
 * kinds of net (in NetKind's order), the initializations' names. */
const char *const *body_heads(const Body *body);
const char *const *net_kinds(void);
const char *const *initialization_names(void);
/* The tables of docs/language.md, each between marker comments. */
void bodies_print(FILE *out);

/* ---- sema.c: checks names, sizes and schedules; builds the Program ---- */

/* Returns NULL when the AST has errors (each reported). */
Program *sema_check(const Ast *ast);

/* What mdlc's command line changes in a program, as if its source said so:
 * --method replaces the train item's optimizer (sgd and hf drop the
 * program's mu settings, which they cannot use), -D NAME=VALUE a const's
 * value (consts computed from it see the new value). */
typedef struct {
  const char *name;
  double value;
} Define;

typedef struct {
  const char *method; /* or NULL */
  const Define *defines;
  int n_defines;
} SemaOverrides;

Program *sema_check_with(const Ast *ast, const SemaOverrides *o);

/* ---- sema_*.c: the parts of the semantic checks ----
 * sema.c finds the items and runs the checks below in order; each file
 * checks one kind of item and fills its part of the Program. */

typedef struct {
  Program *p;
  const Item *data, *net, *init, *train;
  int errors_before; /* diag_error_count when the check began */
  /* Consts whose declaration was in error (already reported): their uses
   * are not reported again as unknown names. */
  const char **bad_consts;
  int n_bad_consts;
  /* A recurrent net's `output ... at last|every`, or NULL if not said; the
   * data check reconciles it with the data. */
  const Atom *output_at;
  bool output_every;
  bool output_recall; /* output ... at recall */
  /* `loss ... per sequence|target`, or NULL if not said */
  const Atom *loss_per;
  bool loss_per_target;
  /* Checking a const's value: the consts it uses are not folded there, for
   * the program computes it again after --set (Const.recomputed). */
  bool in_const;
} Sema;

/* sema_util.c: words, numbers and statements */
const char *suggest(const char *word, const char *const *candidates);
const char *one_of(const char *const *candidates);
int find_word(const char *word, const char *const *candidates);
const char *atom_text(const Atom *a);
const char *atom_noun(const Atom *a);
bool positive_int(const Atom *a, const char *what, long max, long *out);
bool positive_real(const Atom *a, const char *what, double *out);
int count_atoms(const Atom *a);
bool repeated(const Stmt *s, const Stmt *body);
const Stmt *find_stmt(const Stmt *body, const char *head);
bool word_count(const Stmt *s, int want, const char *example);

/* sema_expr.c: expressions and consts */
/* Checks an expression whose value must be a number, and lowers it to the
 * model's formula; NULL when it has errors (reported). `fixed` is NULL
 * where it may use t and steps, else what it is for, in messages (a const
 * it uses is then folded when compiling). */
Formula *check_number(Sema *S, const Expr *e, const char *what,
                      const char *fixed);
void check_consts(Sema *S, const Ast *ast);
/* A const folded when compiling makes the consts its value uses folded too:
 * --set could not reach it through them; then which consts follow a --set
 * of others. Run after every other check. */
void fold_const_uses(Program *p);
/* A checked const by name, or NULL. */
Const *sema_const(Program *p, const char *name);

/* sema_data.c, sema_net.c, sema_init.c, sema_train.c */
void check_data(Sema *S, const Item *it);
void check_data_shape(Sema *S);
bool check_net_body(Sema *S, const Item *net);
void check_init(Sema *S, const Item *init);
void check_train(Sema *S, const Item *train);
/* Lists what --set may change (Program.settings). Run after
 * fold_const_uses. */
void list_settings(Program *p);

/* sema_quadratic.c: the quadratic's body (curvatures), its init (start),
 * the methods a train item names, and the settings a quadratic takes. */
bool check_quadratic_net(Sema *S, const Item *net);
void check_quadratic_init(Sema *S, const Item *init);
bool check_methods(Sema *S, const Item *train);
/* Where the train item names a method (its first when it names others). */
Loc method_loc(const Item *train, Method method);
bool quadratic_setting(Sema *S, const Stmt *s);
void check_quadratic_train(Sema *S, const Item *train);

/* ---- emit_*.c: one readable C file ---- */

typedef struct {
  bool use_double; /* float64 instead of float32 */
  bool nag_direct; /* form the look-ahead point each update (eqs. 3-4
                      as written) instead of carrying it */
} EmitOptions;

/* What every emitter prints with. The emitters write each line indented
 * as it will read, but not wrapped: mdlc then runs clang-format (LLVM
 * style) over the file (driver.c; --no-format skips it), which breaks
 * lines and comments longer than 80 columns and aligns trailing comments,
 * changing about one line in six (139 of the 794 of curves.c). */
typedef struct {
  FILE *out;
  const Program *p;
  const EmitOptions *opt;
  const char *real; /* "float" or "double" */
  const char *gemm; /* "mdl_sgemm" or "mdl_dgemm" */
  const char *gemv;
  const char *dtype; /* "MDL_F32" or "MDL_F64" */
} Emitter;

/* The emitters call one another in one direction only, so each can be
 * read without the ones that call it: each file below calls only files
 * listed after it, from emit.c, which lays out the page, down to
 * emit_print.c, which calls none (tools/emitter_calls.sh checks it). */

/* emit.c: the page, top to bottom */
void emit_program(FILE *out, const Program *p, const EmitOptions *opt);

/* emit_quadratic.c: the whole page of a quadratic's program */
void emit_quadratic(Emitter *e);

/* emit_schedule.c: the settings and the schedules μ_t, ε_t (d_t) */
void emit_schedules(Emitter *e);

/* emit_forward.c, emit_backward.c: a feed-forward net's passes */
void emit_layer_functions(Emitter *e);
void emit_forward(Emitter *e);
void emit_loss(Emitter *e);
void emit_recurrent_loss(Emitter *e);
void emit_backward(Emitter *e);
/* φ' of hidden units, beside the units; the recurrent emitters use it too */
void emit_units_derivative(Emitter *e, Activation act);

/* emit_recurrent.c: the forward pass through time and backpropagation
 * through time of a recurrent net */
void emit_recurrent_forward(Emitter *e);
void emit_recurrent_backward(Emitter *e);

/* emit_update.c: the update of sgd, cm and nag; and the update function
 * of e->p's method, one loop over all N_PARAMS numbers (with NAG's
 * look-ahead helper), named name: update() in every program, sgd_update()
 * ... in a quadratic's, which compares several methods */
void emit_update(Emitter *e);
void emit_update_function(Emitter *e, const char *name);

/* emit_main.c: the buffers and evaluate() that start the Training
 * section, then what surrounds the algorithm (the gradient check,
 * pictures, predictions) and main() */
void emit_training_start(Emitter *e);
void emit_main(Emitter *e);
/* main()'s settings table, mdl_parse_options and the consts computed from
 * the settings, for every program's main() (a quadratic's too) */
void emit_parse_options(Emitter *e);

/* emit_train.c: train() of sgd, cm and nag, and the body of its
 * save_checkpoint, which goes with the harness after it */
void emit_train(Emitter *e);
void emit_train_checkpoint(Emitter *e);

/* emit_hf.c: an HF program's callbacks, and its training and checks */
void emit_hf(Emitter *e);
void emit_hf_training(Emitter *e);

/* emit_gauss_newton.c: G v (and the Fisher diagonal) for HF programs, and
 * a recurrent net's R-operator forward pass J v (for --check-gradients
 * too) */
void emit_gauss_newton(Emitter *e);
void emit_recurrent_r_forward(Emitter *e);

/* emit_report.c, shared by the training loops of emit_train.c and
 * emit_hf.c: the held-out sets as train()'s parameters, the figures of a
 * report (false: none) and their values measured at a report on theta;
 * the check for a stop signal between two updates, where state is what
 * save_checkpoint takes after the path and t. */
const char *emit_held_out_params(const Program *p);
bool emit_figures(Emitter *e);
void emit_held_out_report(Emitter *e, const char *theta);
void emit_stop_check(Emitter *e, const char *state);

/* emit_sequences.c: a recurrent net's buffers, its evaluation on held-out
 * sequences, and its data set in main(). */
void emit_sequence_buffers(Emitter *e);
void emit_sequence_evaluate(Emitter *e);
bool emit_tracks_saturation(const Program *p);
void emit_sequence_data(Emitter *e);
void emit_sequence_held_out(Emitter *e);

/* emit_loss_terms.c, shared by backpropagation (through time) and the
 * Gauss-Newton product: the output deltas' value (a C expression of y and
 * the target t) and the comment that explains it; what the summed loss of
 * rows sequences is divided by, in a comment ("(rows · TARGET_STEPS)") and
 * in C; whether step s of sequence b carries loss, as a C condition; and
 * the scale 1 / divisor as a C initializer. */
const char *emit_output_delta_value(const Program *p, const char *y,
                                    const char *t);
void emit_output_delta_comment(Emitter *e, const char *what, const char *more);
const char *emit_loss_divisor(const Program *p);
const char *emit_loss_divisor_c(const Program *p);
const char *emit_loss_counts(const Program *p);
const char *emit_loss_scale(const Emitter *e);

/* emit_source.c: the .mdl lines the C came from. emit_source_lines writes
 * a C comment, after indent: heading (if not NULL), then a line
 * `FILE:LINE  SOURCE  # COMMENT` per location (each line once, in the
 * file's order; none without a file), the source's comment under its code
 * where both would not fit in 80 columns; emit_source_line, one location's
 * line alone; emit_source_comment, the source line's comment alone as a C
 * comment after a line of C (nothing when it has none). */
void emit_source_lines(Emitter *e, const char *indent, const char *heading,
                       const Loc *locs, int n);
void emit_source_line(Emitter *e, const char *indent, Loc loc);
void emit_source_comment(Emitter *e, Loc loc);

/* emit_print.c: the printing helpers */
void emit_line(Emitter *e, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void emit_blank(Emitter *e);
void emit_number(FILE *out, double x);           /* the shortest exact form */
void emit_formula(Emitter *e, const Formula *f); /* as C */
void emit_string_literal(FILE *out, const char *s);
/* Emits `mdl_die("PATH: MESSAGE", ARGS);` after indent, so that a data
 * error names its file (without "PATH: " when path is NULL: generated
 * data has none). */
void emit_die_naming(Emitter *e, const char *indent, const char *path,
                     const char *message, const char *args);
/* "N_INPUT * N_ENC1": a block's element count as the constants that make it. */
const char *emit_block_size(const Program *p, const Block *b);
/* "mdl_dataset", or "mdl_seq_data" for a recurrent net's sequences. */
const char *emit_data_type(const Program *p);

/* ---- driver.c: the command line and the call to clang ---- */

int mdlc_main(int argc, char **argv);
/* "dir/curves.mdl" -> "curves": a file's name without directory and
 * extension, the default name of what mdlc makes from it. */
const char *path_stem(const char *path);

/* ---- sweep_*.c: mdlc sweep, grids of runs and the paper's tables ---- */

int sweep_main(int argc, char **argv);

#endif
