/* scratch.c — see scratch.h. */
#include "scratch.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

void scratch_make(char *dir, const char *tag) {
  snprintf(dir, 64, "/tmp/mdl-test-%s-XXXXXX", tag);
  cr_assert(mkdtemp(dir) != NULL, "mkdtemp failed");
}

void scratch_remove(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  char path[512];
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

void scratch_limit_memory(size_t more) {
  /* The first field of statm: the address space now, in pages. */
  FILE *f = fopen("/proc/self/statm", "r");
  cr_assert(f != NULL, "cannot read /proc/self/statm");
  unsigned long pages = 0;
  cr_assert(fscanf(f, "%lu", &pages) == 1);
  fclose(f);
  rlim_t limit = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + more;
  struct rlimit cap = {limit, limit};
  cr_assert(setrlimit(RLIMIT_AS, &cap) == 0, "setrlimit failed");
}
