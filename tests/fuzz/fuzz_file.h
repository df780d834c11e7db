/* fuzz_file.h — hands a fuzzer's input to a reader that takes a path.
 *
 * The runtime's readers open files by name (and the IDX reader through
 * zlib's gzopen), so each input is written into a memory file (memfd) and
 * passed as /proc/self/fd/N: no disk traffic, and every open starts afresh
 * at offset 0. */
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
  int fd; /* -1 until first used */
  char path[32];
} FuzzFile;

/* Makes the file hold exactly size bytes of data. */
static void fuzz_file_put(FuzzFile *f, const void *data, size_t size) {
  if (f->fd < 0) {
    f->fd = memfd_create("fuzz", 0);
    if (f->fd < 0) {
      perror("memfd_create");
      abort();
    }
    snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
  }
  if (ftruncate(f->fd, 0) != 0 ||
      (size && pwrite(f->fd, data, size, 0) != (ssize_t)size)) {
    perror("fuzz file");
    abort();
  }
}

#endif
