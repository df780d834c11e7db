/* scratch.h — a temporary directory for the unit tests that write files,
 * and a cap on a test's memory. */
#ifndef SCRATCH_H
#define SCRATCH_H

#include <stddef.h>

/* Creates /tmp/mdl-test-TAG-XXXXXX in dir (at least 64 bytes); the test
 * fails if it cannot. */
void scratch_make(char *dir, const char *tag);

/* Removes the files in dir, then dir itself. */
void scratch_remove(const char *dir);

/* Caps the address space of this test's process (Criterion runs each test
 * in a process of its own) at what it holds now plus `more` bytes: a reader
 * that believed a hostile header and asked for gigabytes then fails at once,
 * where an overcommitting kernel would have granted them. */
void scratch_limit_memory(size_t more);

#endif
