/* test_emit_memory.c — compiling and emitting a program leaves nothing on
 * the heap once the arena is released, so that one process can compile
 * program after program (the front end's fuzz target does).
 *
 * The heap is measured with glibc's mallinfo2, which counts the chunks
 * that its per-thread caches keep as in use: so the measure is taken only
 * once those caches have filled, and then must not move. Under
 * AddressSanitizer, whose allocator glibc does not see, the test passes
 * without meaning, and the fuzz target's own leak check stands in. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <stdio.h>

#include "mdlc.h"

/* Found by tests/fuzz/fuzz_frontend.c: the model identity of a program's
 * checkpoints was written into a memory stream whose buffer was never
 * freed, 25 bytes per program emitted. */
static const char leaked_program[] =
    "data d = idx(images \"train-images.gz\", labels \"train-labels.gz\")\n"
    "net n : autoencoder {\n"
    "    input 784\n"
    "    code linear 6\n"
    "    output sigmoid\n"
    "}\n"
    "train n on d with nag {\n"
    "    steps 1000\n"
    "    epsilon 0.01\n"
    "    mu 0.9\n"
    "}\n";

/* Parses, checks and emits the program (to out), then frees the arena. */
static void compile_and_emit(FILE *out) {
  diag_reset();
  SourceFile *file = source_from_string("leak.mdl", leaked_program);
  Ast ast;
  cr_assert(parse_source(file, &ast));
  Program *p = sema_check(&ast);
  cr_assert_not_null(p);
  p->program_name = "leak";
  emit_program(out, p, &(EmitOptions){0});
  arena_release();
}

Test(emit_memory, a_compiled_program_leaves_nothing_behind) {
  FILE *out = fopen("/dev/null", "w");
  cr_assert_not_null(out);
  diag_out = out;
  for (int i = 0; i < 100; i++) /* stdio's buffers, glibc's caches */
    compile_and_emit(out);
  size_t before = mallinfo2().uordblks;
  for (int i = 0; i < 100; i++)
    compile_and_emit(out);
  size_t after = mallinfo2().uordblks;
  cr_expect_eq(after, before, "%zd bytes were left on the heap by 100 programs",
               (ssize_t)(after - before));
  diag_out = NULL;
  fclose(out);
}
