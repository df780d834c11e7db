/* fuzz_frontend.c — libFuzzer target: arbitrary text as a .mdl program,
 * through what mdlc does with a file short of running clang: lex, parse,
 * check, describe and emit the C (in float, and in double with the
 * direct form of NAG). Bad programs must get diagnostics and good ones C;
 * nothing may crash, trip a sanitizer or exit the process. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mdlc.h"

static FILE *null_out;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  null_out = fopen("/dev/null", "w");
  if (!null_out)
    abort();
  diag_out = null_out;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* mdlc refuses a file with a NUL byte before this point. */
  if (memchr(data, '\0', size))
    return 0;
  char *text = malloc(size + 1);
  memcpy(text, data, size);
  text[size] = '\0';
  diag_reset();
  SourceFile *file = source_from_string("fuzz.mdl", text);
  free(text);
  Ast ast;
  bool parsed = parse_source(file, &ast);
  ast_dump(null_out, &ast);
  Program *p = parsed ? sema_check(&ast) : NULL;
  if (p) {
    p->program_name = "fuzz";
    model_dump(null_out, p);
    emit_program(null_out, p, &(EmitOptions){0});
    emit_program(null_out, p,
                 &(EmitOptions){.use_double = true, .nag_direct = true});
  }
  arena_release();
  return 0;
}
