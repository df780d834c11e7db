/* lexer.re — the tokens of .mdl files, for re2c.
 *
 * Statements end at a newline or ';'. The lexer turns those into EOL tokens
 * and keeps the parser's view simple: runs of blank lines and comments give
 * one EOL, newlines inside (...) and [...] are plain white space (a long
 * argument list may span lines), and an EOL is supplied before a '}' and at
 * the end of the file when the last statement has none, so `{ mu 0.9 }`
 * needs no ';'. An unclosed '(' or '[' ends at the end of its statement (a
 * ';', or a brace or keyword that cannot occur inside brackets), so that one
 * missing ')' does not swallow the rest of the file. */
#include "mdlc.h"
#include "parser.h"

#include <stdlib.h>
#include <string.h>

struct Lexer {
  const SourceFile *file;
  const char *cursor;     /* next character to read */
  const char *token;      /* start of the current token */
  const char *marker;     /* re2c's backtracking point */
  const char *line_start; /* first character of the current line */
  int line;
  int depth;     /* open '(' and '[' */
  int last;      /* the last token returned, 0 at the start */
  int queued;    /* a token held back behind a supplied EOL, or 0 */
  Loc queued_loc;
  bool skipped_newline; /* a newline inside brackets since the last token */
  Loc newline_loc;      /* the first such newline */
  int error_line;       /* the last line with a lexical error, or 0 */
  int skip_depth;       /* skipping a body: the braces open in it, or 0 */
};

static Loc token_loc(Lexer *lx) {
  return (Loc){.file = lx->file,
               .line = lx->line,
               .col = (int)(lx->token - lx->line_start) + 1,
               .length = (int)(lx->cursor - lx->token)};
}

/* The keywords are the parser's (parser.y declares each, once). */
static int keyword_or_name(Lexer *lx, YYSTYPE *value) {
  size_t n = (size_t)(lx->cursor - lx->token);
  int keyword = keyword_token(lx->token, n);
  if (keyword)
    return keyword;
  value->text = arena_strndup(lx->token, n);
  return NAME;
}

/* The body of a string literal, its escapes resolved. */
static char *unescape(Lexer *lx, const char *begin, const char *end) {
  char *s = arena_alloc((size_t)(end - begin) + 1), *out = s;
  for (const char *p = begin; p < end; p++) {
    if (*p != '\\') {
      *out++ = *p;
      continue;
    }
    if (p + 1 == end) /* an unterminated string's last character */
      break;
    switch (*++p) {
    case 'n': *out++ = '\n'; break;
    case 't': *out++ = '\t'; break;
    case '"': *out++ = '"'; break;
    case '\\': *out++ = '\\'; break;
    default: {
      Loc loc = token_loc(lx);
      loc.col += (int)(p - 1 - lx->token);
      loc.length = 2;
      diag_error(loc, "unknown escape sequence '\\%c' in string", *p);
      lx->error_line = lx->line;
    }
    }
  }
  return s;
}

/* Braces and the keywords that begin an item or a statement never occur
 * inside brackets; the keywords that join expressions do. */
static bool ends_brackets(int t) {
  switch (t) {
  case '{': case '}': case YYEOF:
    return true;
  case IF: case ELSE: case AND: case OR: case NOT:
    return false;
  default:
    return token_is_keyword(t);
  }
}

/* Scans one raw token; newlines come back as EOL whatever the context. */
static int scan(Lexer *lx, YYSTYPE *value, Loc *loc) {
  for (;;) {
    lx->token = lx->cursor;
    /*!re2c
      re2c:define:YYCTYPE = "unsigned char";
      re2c:define:YYCURSOR = "lx->cursor";
      re2c:define:YYMARKER = "lx->marker";
      re2c:yyfill:enable = 0;
      re2c:flags:tags = 0;

      digit  = [0-9];
      digits = digit+;
      exponent = [eE] [+-]? digits;
      name   = [a-zA-Z_] [a-zA-Z0-9_]*;

      "\x00" {
        lx->cursor--; /* stay on the terminator: every later call is EOF */
        *loc = token_loc(lx);
        loc->length = 1;
        return YYEOF;
      }
      [ \t\r]+ { continue; }
      "#" [^\n\x00]* { continue; }
      "\n" | ";" {
        *loc = token_loc(lx);
        if (*lx->token == '\n') {
          lx->line++;
          lx->line_start = lx->cursor;
        }
        return EOL;
      }

      digits {
        *loc = token_loc(lx);
        value->text = arena_strndup(lx->token, (size_t)(lx->cursor - lx->token));
        return INTEGER;
      }
      (digits ("." digit*)? | "." digits) exponent?
      | digits exponent {
        *loc = token_loc(lx);
        value->text = arena_strndup(lx->token, (size_t)(lx->cursor - lx->token));
        return REAL;
      }
      name { *loc = token_loc(lx); return keyword_or_name(lx, value); }

      ["] ([^"\\\n\x00] | "\\" [^\n\x00])* ["] {
        *loc = token_loc(lx);
        value->text = unescape(lx, lx->token + 1, lx->cursor - 1);
        return STRING;
      }
      ["] ([^"\\\n\x00] | "\\" [^\n\x00])* "\\"? {
        *loc = token_loc(lx);
        diag_error(*loc, "missing closing '\"' of this string");
        lx->error_line = lx->line;
        value->text = unescape(lx, lx->token + 1, lx->cursor);
        return STRING;
      }

      ['] [^'\n\x00]* ['] {
        *loc = token_loc(lx);
        diag_error(*loc, "strings are written in double quotes: \"%.*s\"",
                   loc->length - 2, lx->token + 1);
        lx->error_line = lx->line;
        value->text = arena_strndup(lx->token + 1, (size_t)loc->length - 2);
        return STRING;
      }

      "<=" { *loc = token_loc(lx); return LE; }
      ">=" { *loc = token_loc(lx); return GE; }
      "==" { *loc = token_loc(lx); return EQ; }
      "!=" { *loc = token_loc(lx); return NE; }
      [-+*/^<>=(),:[\]{}] { *loc = token_loc(lx); return *lx->token; }

      [\x80-\xff]+ {
        *loc = token_loc(lx);
        diag_error(*loc, "non-ASCII characters are only allowed in comments "
                         "and strings");
        lx->error_line = lx->line;
        continue;
      }
      * {
        unsigned char c = (unsigned char)*lx->token;
        *loc = token_loc(lx);
        if (c == '\'')
          diag_error(*loc, "stray \"'\" in program; strings use double quotes");
        else if (c > ' ' && c < 127)
          diag_error(*loc, "stray '%c' in program", c);
        else
          diag_error(*loc, "stray character 0x%02x in program", c);
        lx->error_line = lx->line;
        continue;
      }
    */
  }
}

/* The next token for the parser, before any body is skipped. */
static int next_token(YYSTYPE *value, Loc *loc, Lexer *lx) {
  if (lx->queued) {
    int t = lx->queued;
    *loc = lx->queued_loc;
    lx->queued = 0;
    return lx->last = t;
  }
  for (;;) {
    int t = scan(lx, value, loc);
    if (t == EOL) {
      /* Inside brackets a newline is white space; elsewhere only the first
       * of several ends a statement. */
      bool is_newline = loc->length == 1 && *lx->token == '\n';
      if (lx->depth > 0 && is_newline) {
        if (!lx->skipped_newline)
          lx->newline_loc = *loc;
        lx->skipped_newline = true;
        continue;
      }
      lx->depth = 0; /* a ';' inside brackets ends them */
      if (lx->last == EOL || lx->last == 0 || lx->last == '{')
        continue;
      lx->skipped_newline = false;
      return lx->last = EOL;
    }
    bool skipped_newline = lx->skipped_newline;
    lx->skipped_newline = false;
    /* Braces and the words that begin an item or a train statement never
     * occur inside brackets: an unclosed bracket ends before them, at the
     * newline where it should have been closed. */
    if (lx->depth > 0 && ends_brackets(t)) {
      lx->depth = 0;
      if (skipped_newline && lx->last != EOL && lx->last != '{') {
        lx->queued = t;
        lx->queued_loc = *loc;
        *loc = lx->newline_loc;
        return lx->last = EOL;
      }
    }
    if (t == '(' || t == '[')
      lx->depth++;
    if ((t == ')' || t == ']') && lx->depth > 0)
      lx->depth--;
    /* A '}' or the end of the file also ends the statement before it. */
    if ((t == '}' || t == YYEOF) && lx->last != EOL && lx->last != '{' &&
        lx->last != 0) {
      lx->queued = t;
      lx->queued_loc = *loc;
      return lx->last = EOL;
    }
    return lx->last = t;
  }
}

int yylex(YYSTYPE *value, Loc *loc, Lexer *lx) {
  for (;;) {
    int t = next_token(value, loc, lx);
    if (!lx->skip_depth || t == YYEOF) {
      lx->skip_depth = 0;
      return t;
    }
    if (t == '{')
      lx->skip_depth++;
    else if (t == '}' && --lx->skip_depth == 0)
      return t;
  }
}

void lexer_skip_body(Lexer *lx) { lx->skip_depth = 1; }

int lexer_error_line(const Lexer *lx) { return lx->error_line; }

static void lexer_init(Lexer *lx, const SourceFile *file) {
  memset(lx, 0, sizeof *lx);
  lx->file = file;
  lx->cursor = lx->line_start = file->text;
  lx->line = 1;
}

bool parse_source(const SourceFile *file, Ast *ast) {
  Lexer lx;
  lexer_init(&lx, file);
  ast->file = file;
  ast->items = NULL;
  int errors_before = diag_error_count;
  int status = yyparse(&lx, ast);
  return status == 0 && diag_error_count == errors_before;
}

void lexer_dump_tokens(FILE *out, const SourceFile *file) {
  Lexer lx;
  lexer_init(&lx, file);
  for (;;) {
    YYSTYPE value = {0};
    Loc loc;
    int t = yylex(&value, &loc, &lx);
    fprintf(out, "%d:%d\t%s", loc.line, loc.col, token_name(t));
    if (t == NAME || t == INTEGER || t == REAL)
      fprintf(out, "\t%s", value.text);
    else if (t == STRING)
      fprintf(out, "\t\"%s\"", value.text);
    fputc('\n', out);
    if (t == YYEOF)
      break;
  }
}
