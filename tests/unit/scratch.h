/* scratch.h — a temporary directory for the unit tests that write files. */
#ifndef SCRATCH_H
#define SCRATCH_H

/* Creates /tmp/mdl-test-TAG-XXXXXX in dir (at least 64 bytes); the test
 * fails if it cannot. */
void scratch_make(char *dir, const char *tag);

/* Removes the files in dir, then dir itself. */
void scratch_remove(const char *dir);

#endif
