/* parser.y — the grammar of .mdl files, for Bison.
 *
 * A program is a list of items, one per line (or ';'):
 *
 *   const NAME = EXPR
 *   data NAME = SOURCE(ARG, ...)
 *   net NAME : KIND { WORDS... }
 *   init NET { WORDS... }
 *   train NET on DATA with METHOD { SETTINGS... }
 *   train NET with METHOD and METHOD { SETTINGS... }   (a quadratic: no data)
 *
 * Net and init bodies are lines of words (`encoder sigmoid [400, 200]`,
 * `weights sparse(fan_in 15, scale 1.0)`): their grammar is the table of
 * compiler/statements.c, which says which statements each kind of body
 * takes and the words of each (`mdlc --dump-syntax` prints it), and
 * sema_net.c and sema_init.c check a body against it, so that they can say
 * precisely what is wrong. Train bodies are settings whose values are
 * expressions of the update counter t.
 *
 * A keyword is one %token line below (see there).
 *
 * The actions only build the tree. Errors recover at the end of the line,
 * so one run reports every bad line.
 */

%code requires {
#include "mdlc.h"
}

%code provides {
int yylex(YYSTYPE *value, Loc *loc, Lexer *lx);
/* The last line on which the lexer reported an error, or 0. */
int lexer_error_line(const Lexer *lx);
/* After the '{' of a body whose first line was wrong: the lexer skips the
 * body, braces balanced, and returns the '}' that closes it next. */
void lexer_skip_body(Lexer *lx);
void yyerror(Loc *loc, Lexer *lx, Ast *ast, const char *message);
const char *token_name(int token);
/* The keyword the n characters at word spell, or 0 when they are a name;
 * and whether a token is a keyword. */
int keyword_token(const char *word, size_t n);
bool token_is_keyword(int token);
}

%code {
#include <stdlib.h>
#include <string.h>

/* A location spanning a rule's first to last symbol. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                        \
  do {                                                                     \
    if (N)                                                                 \
      (Cur) = loc_span(YYRHSLOC(Rhs, 1), YYRHSLOC(Rhs, N));                \
    else                                                                   \
      (Cur) = YYRHSLOC(Rhs, 0);                                            \
  } while (0)

static Expr *binary(BinaryOp op, Expr *lhs, Expr *rhs, Loc loc) {
  Expr *e = expr_new(EX_BINARY, loc);
  e->op = op;
  e->lhs = lhs;
  e->rhs = rhs;
  return e;
}

static Atom *number_atom(const char *text, bool is_integer, bool negate,
                         Loc loc) {
  Atom *a = atom_new(AT_NUMBER, loc);
  a->number = strtod(text, NULL);
  if (negate)
    a->number = -a->number;
  a->is_integer = is_integer;
  return a;
}

/* Appends to a list kept by its head; lists are short. */
#define APPEND(type, head, node)                                           \
  do {                                                                     \
    type **link_ = &(head);                                                \
    while (*link_)                                                         \
      link_ = &(*link_)->next;                                             \
    *link_ = (node);                                                       \
  } while (0)
}

/* No shift/reduce or reduce/reduce conflicts: a new rule that makes one
 * fails the build instead of being resolved silently. */
%expect 0
%define api.pure full
%define api.location.type {Loc}
%define parse.error detailed
%locations
%param {Lexer *lx}
%parse-param {Ast *ast}

%union {
  const char *text;
  Expr *expr;
  Atom *atom;
  Stmt *stmt;
  Item *item;
}

%token <text> NAME "name" INTEGER "integer" REAL "number" STRING "string"
%token EOL "end of line"
/* The keywords: a token named by its word in quotes is one, and this is
 * the one place that makes a word a keyword (the lexer looks it up here,
 * keyword_token below). One that joins expressions must also be allowed
 * inside brackets: the lexer's ends_brackets. */
%token CONST "'const'" DATA "'data'" NET "'net'" INIT "'init'"
%token TRAIN "'train'" ON "'on'" WITH "'with'" FIRST "'first'"
%token LAST "'last'" REPORT "'report'" IF "'if'" ELSE "'else'"
%token AND "'and'" OR "'or'" NOT "'not'"
%token LE "'<='" GE "'>='" EQ "'=='" NE "'!='"

%type <item> item
%type <stmt> word_stmts word_stmt train_stmts train_stmt
%type <atom> words report_words word list_items args arg methods
%type <expr> expr expr_list

%right IF ELSE
%left OR
%left AND
%precedence NOT
%nonassoc '<' LE '>' GE EQ NE
%left '+' '-'
%left '*' '/'
%precedence NEGATE
%right '^'

%%

program
  : %empty
  | program EOL
  | program item EOL        { APPEND(Item, ast->items, $2); }
  | program error EOL       { yyerrok; }
  | program error '{' skip_body '}' EOL { yyerrok; }
  ;

/* After an error in the first line of an item or a phase, its body is
 * skipped (braces balanced), so that the body's lines are not read as
 * items and its '}' does not close the enclosing body. */
skip_body
  : %empty                  { lexer_skip_body(lx); }
  ;

item
  : CONST NAME '=' expr {
      $$ = item_new(IT_CONST, @1);
      $$->name = $2; $$->name_loc = @2; $$->value = $4;
    }
  | DATA NAME '=' NAME '(' args ')' {
      $$ = item_new(IT_DATA, @1);
      $$->name = $2; $$->name_loc = @2;
      $$->kind_name = $4; $$->kind_loc = @4; $$->args = $6;
    }
  | NET NAME ':' NAME '{' word_stmts '}' {
      $$ = item_new(IT_NET, @1);
      $$->name = $2; $$->name_loc = @2;
      $$->kind_name = $4; $$->kind_loc = @4; $$->body = $6;
    }
  | INIT NAME '{' word_stmts '}' {
      $$ = item_new(IT_INIT, @1);
      $$->name = $2; $$->name_loc = @2; $$->body = $4;
    }
  | TRAIN NAME ON NAME WITH methods '{' train_stmts '}' {
      $$ = item_new(IT_TRAIN, @1);
      $$->name = $2; $$->name_loc = @2;
      $$->data_name = $4; $$->data_loc = @4;
      $$->kind_name = $6->text; $$->kind_loc = $6->loc; $$->methods = $6;
      $$->body = $8;
    }
  /* A quadratic's objective needs no data (sema says so to a net). */
  | TRAIN NAME WITH methods '{' train_stmts '}' {
      $$ = item_new(IT_TRAIN, @1);
      $$->name = $2; $$->name_loc = @2;
      $$->kind_name = $4->text; $$->kind_loc = $4->loc; $$->methods = $4;
      $$->body = $6;
    }
  ;

/* `nag`, or methods compared in one program: `cm and nag`, `sgd, cm and
 * nag` (sema allows more than one for a quadratic only). */
methods
  : NAME                  { $$ = atom_new(AT_NAME, @1); $$->text = $1; }
  | methods ',' NAME {
      $$ = $1;
      Atom *m = atom_new(AT_NAME, @3); m->text = $3;
      APPEND(Atom, $$, m);
    }
  | methods AND NAME {
      $$ = $1;
      Atom *m = atom_new(AT_NAME, @3); m->text = $3;
      APPEND(Atom, $$, m);
    }
  ;

/* ---- net and init bodies: lines of words ---- */

word_stmts
  : %empty                      { $$ = NULL; }
  | word_stmts EOL              { $$ = $1; }
  | word_stmts word_stmt EOL    { $$ = $1; APPEND(Stmt, $$, $2); }
  | word_stmts error EOL        { $$ = $1; yyerrok; }
  | word_stmts error '{' skip_body '}' EOL { $$ = $1; yyerrok; }
  ;

word_stmt
  : NAME words {
      $$ = stmt_new(ST_WORDS, @1);
      $$->head = $1; $$->atoms = $2;
    }
  ;

words
  : %empty                      { $$ = NULL; }
  | words word                  { $$ = $1; APPEND(Atom, $$, $2); }
  ;

word
  : NAME                  { $$ = atom_new(AT_NAME, @1); $$->text = $1; }
  | INTEGER               { $$ = number_atom($1, true, false, @1); }
  | REAL                  { $$ = number_atom($1, false, false, @1); }
  | '-' INTEGER           { $$ = number_atom($2, true, true, @$); }
  | '-' REAL              { $$ = number_atom($2, false, true, @$); }
  | STRING                { $$ = atom_new(AT_STRING, @1); $$->text = $1; }
  /* `output linear 1 at last`: the phase keywords are words here too */
  | FIRST                 { $$ = atom_new(AT_NAME, @1); $$->text = "first"; }
  | LAST                  { $$ = atom_new(AT_NAME, @1); $$->text = "last"; }
  | '[' list_items ']'    { $$ = atom_new(AT_LIST, @$); $$->items = $2; }
  | NAME '(' args ')' {
      $$ = atom_new(AT_CALL, @$);
      $$->text = $1; $$->items = $3;
    }
  ;

list_items
  : word                        { $$ = $1; }
  | list_items ',' word         { $$ = $1; APPEND(Atom, $$, $3); }
  ;

/* Call arguments: `15`, or with a key, `fan_in 15`. */
args
  : %empty                      { $$ = NULL; }
  | arg                         { $$ = $1; }
  | args ',' arg                { $$ = $1; APPEND(Atom, $$, $3); }
  ;

arg
  : word                        { $$ = $1; }
  | NAME word {
      $$ = $2;
      $$->key = $1; $$->key_loc = @1;
    }
  ;

/* ---- train bodies: settings, phases, reporting ---- */

train_stmts
  : %empty                      { $$ = NULL; }
  | train_stmts EOL             { $$ = $1; }
  | train_stmts train_stmt EOL  { $$ = $1; APPEND(Stmt, $$, $2); }
  | train_stmts error EOL       { $$ = $1; yyerrok; }
  | train_stmts error '{' skip_body '}' EOL { $$ = $1; yyerrok; }
  ;

train_stmt
  : NAME expr {
      $$ = stmt_new(ST_SET, @1);
      $$->head = $1; $$->expr = $2;
    }
  | NAME STRING {
      $$ = stmt_new(ST_SET, @1);
      $$->head = $1;
      $$->string = atom_new(AT_STRING, @2); $$->string->text = $2;
    }
  /* `line_search on`: the keyword of `train ... on ...` as a switch */
  | NAME ON {
      $$ = stmt_new(ST_SET, @1);
      $$->head = $1;
      $$->expr = expr_new(EX_NAME, @2); $$->expr->name = "on";
    }
  /* `test on fashion_test`: a held-out data set, named like train's */
  | NAME ON NAME {
      $$ = stmt_new(ST_SET, @1);
      $$->head = $1;
      $$->atoms = atom_new(AT_NAME, @3); $$->atoms->text = $3;
    }
  | FIRST expr '{' train_stmts '}' {
      $$ = stmt_new(ST_PHASE, @1);
      $$->head = "first"; $$->expr = $2; $$->body = $4;
    }
  | LAST expr '{' train_stmts '}' {
      $$ = stmt_new(ST_PHASE, @1);
      $$->head = "last"; $$->expr = $2; $$->body = $4;
    }
  | REPORT report_words {
      $$ = stmt_new(ST_REPORT, @1);
      $$->head = "report"; $$->atoms = $2;
    }
  ;

/* `report every 100 accuracy, loss`: the metrics, with or without commas */
report_words
  : words                       { $$ = $1; }
  | report_words ',' word       { $$ = $1; APPEND(Atom, $$, $3); }
  ;

/* ---- expressions of the update counter t ---- */

expr
  : INTEGER               { $$ = expr_new(EX_NUMBER, @1); $$->number = strtod($1, NULL); }
  | REAL                  { $$ = expr_new(EX_NUMBER, @1); $$->number = strtod($1, NULL); }
  | NAME                  { $$ = expr_new(EX_NAME, @1); $$->name = $1; }
  | NAME '(' expr_list ')' {
      $$ = expr_new(EX_CALL, @$);
      $$->name = $1; $$->args = $3;
    }
  | '(' expr ')'          { $$ = $2; $$->loc = @$; }
  | '-' expr %prec NEGATE { $$ = expr_new(EX_NEG, @$); $$->lhs = $2; }
  | NOT expr              { $$ = expr_new(EX_NOT, @$); $$->lhs = $2; }
  | expr '+' expr         { $$ = binary(OP_ADD, $1, $3, @$); }
  | expr '-' expr         { $$ = binary(OP_SUB, $1, $3, @$); }
  | expr '*' expr         { $$ = binary(OP_MUL, $1, $3, @$); }
  | expr '/' expr         { $$ = binary(OP_DIV, $1, $3, @$); }
  | expr '^' expr         { $$ = binary(OP_POW, $1, $3, @$); }
  | expr '<' expr         { $$ = binary(OP_LT, $1, $3, @$); }
  | expr LE expr          { $$ = binary(OP_LE, $1, $3, @$); }
  | expr '>' expr         { $$ = binary(OP_GT, $1, $3, @$); }
  | expr GE expr          { $$ = binary(OP_GE, $1, $3, @$); }
  | expr EQ expr          { $$ = binary(OP_EQ, $1, $3, @$); }
  | expr NE expr          { $$ = binary(OP_NE, $1, $3, @$); }
  | expr AND expr         { $$ = binary(OP_AND, $1, $3, @$); }
  | expr OR expr          { $$ = binary(OP_OR, $1, $3, @$); }
  | expr IF expr ELSE expr {
      $$ = expr_new(EX_COND, @$);
      $$->lhs = $1; $$->cond = $3; $$->rhs = $5;
    }
  ;

expr_list
  : expr                  { $$ = $1; }
  | expr_list ',' expr    { $$ = $1; APPEND(Expr, $$, $3); }
  ;

%%

void yyerror(Loc *loc, Lexer *lx, Ast *ast, const char *message) {
  (void)ast;
  /* A line with a lexical error has been reported once; what the parser
   * makes of the rest of it is noise. */
  if (loc->line == lexer_error_line(lx))
    return;
  diag_error(*loc, "%s", message);
}

const char *token_name(int token) {
  return yysymbol_name(YYTRANSLATE(token));
}

/* A keyword's token is named by its word in quotes: "'const'". */
static bool names_keyword(const char *name) {
  return name[0] == '\'' && name[1] >= 'a' && name[1] <= 'z';
}

bool token_is_keyword(int token) {
  return token > YYUNDEF && token <= YYMAXUTOK &&
         names_keyword(token_name(token));
}

int keyword_token(const char *word, size_t n) {
  for (int t = YYUNDEF + 1; t <= YYMAXUTOK; t++) {
    const char *name = token_name(t);
    if (names_keyword(name) && strncmp(name + 1, word, n) == 0 &&
        strcmp(name + 1 + n, "'") == 0)
      return t;
  }
  return 0;
}
