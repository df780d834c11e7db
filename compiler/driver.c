/* driver.c — mdlc's command line: read, parse, check, emit C, and hand the
 * C to clang with the runtime library and OpenBLAS. */
#include "mdlc.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#ifndef MDLC_PLPLOT_LIBS /* the Makefile gives pkg-config's answer */
#define MDLC_PLPLOT_LIBS "-lplplot"
#endif

typedef struct {
  const char *input;
  const char *output;
  const char *cc;
  const char *march; /* clang's -march: "native" unless --march says */
  bool emit_c, keep_c, verbose, no_format;
  bool dump_tokens, dump_ast, dump_model;
  EmitOptions emit;
  SemaOverrides overrides; /* --method, -D */
} Options;

static void usage(FILE *out) {
  fprintf(out,
          "usage: mdlc [options] FILE.mdl\n"
          "\n"
          "Compiles an optimization experiment to a training program.\n"
          "\n"
          "  -o FILE              the program to write (default: FILE "
          "without .mdl)\n"
          "  --emit-c             write the generated C (to -o, default "
          "FILE.c) and stop\n"
          "  --keep-c             keep the generated C beside the program, "
          "as PROG.c\n"
          "  --cc COMPILER        the C compiler (default: $MDLC_CC, or "
          "clang)\n"
          "  --march ARCH         the processors the program is for "
          "(default: native,\n"
          "                       this one; x86-64-v3 for a cluster's "
          "mixed nodes)\n"
          "  --precision P        float (the default) or double; --double "
          "for short\n"
          "  --nag-form F         carried (the default: the look-ahead point "
          "is kept\n"
          "                       between updates) or direct (formed anew, "
          "eqs. 3-4 as written)\n"
          "  --method M           train with M (sgd, cm, nag or hf) instead "
          "of the program's\n"
          "                       method; sgd and hf drop its mu settings\n"
          "  -D NAME=VALUE        compile with const NAME = VALUE (also "
          "--define)\n"
          "  --no-format          do not pass the C through clang-format\n"
          "  --dump-tokens        print the tokens and stop\n"
          "  --dump-ast           print the syntax tree and stop\n"
          "  --dump-model         print the checked model description and "
          "stop\n"
          "  --dump-syntax        print the statements of net and init "
          "bodies (no FILE)\n"
          "  -v, --verbose        print every command mdlc runs\n"
          "  --help               print this help\n"
          "  --version            print mdlc's version\n"
          "\n"
          "The runtime is found beside mdlc (../include, ../lib), or under "
          "$MDLC_HOME.\n"
          "$MDLC_CFLAGS adds flags to the C compiler's command line (split "
          "at spaces).\n"
          "\n"
          "       mdlc sweep FILE.sweep [options]\n"
          "\n"
          "Runs a grid of experiments and makes the paper's table of it; "
          "'mdlc sweep --help'\n"
          "lists its options (docs/sweeps.md).\n");
}

static int bad_usage(const char *format, const char *arg) {
  fprintf(stderr, "mdlc: error: ");
  fprintf(stderr, format, arg);
  fprintf(stderr, "\nTry 'mdlc --help'.\n");
  return 1;
}

/* -D NAME=VALUE; false if it is not that. */
static bool add_define(Options *o, const char *text) {
  const char *eq = strchr(text, '=');
  if (!eq || eq == text)
    return false;
  char *end;
  double value = strtod(eq + 1, &end);
  if (end == eq + 1 || *end || !isfinite(value))
    return false;
  Define *defines =
      arena_alloc(sizeof *defines * (size_t)(o->overrides.n_defines + 1));
  for (int i = 0; i < o->overrides.n_defines; i++)
    defines[i] = o->overrides.defines[i];
  defines[o->overrides.n_defines++] =
      (Define){arena_strndup(text, (size_t)(eq - text)), value};
  o->overrides.defines = defines;
  return true;
}

/* Parses argv; returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, Options *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes_value = !strcmp(a, "-o") || !strcmp(a, "--cc") ||
                       !strcmp(a, "--precision") || !strcmp(a, "--nag-form") ||
                       !strcmp(a, "--method") || !strcmp(a, "--march") ||
                       !strcmp(a, "-D") || !strcmp(a, "--define");
    if (takes_value && !value)
      return bad_usage("%s needs a value", a);
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--version")) {
      printf("mdlc %s\n", MDLC_VERSION);
      return 0;
    } else if (!strcmp(a, "--dump-syntax")) {
      bodies_print(stdout); /* statements.c's, as docs/language.md has it */
      return 0;
    } else if (!strcmp(a, "-o")) {
      o->output = argv[++i];
    } else if (!strcmp(a, "--cc")) {
      o->cc = argv[++i];
    } else if (!strcmp(a, "--march")) {
      o->march = argv[++i];
      if (!*o->march || strspn(o->march, "abcdefghijklmnopqrstuvwxyz"
                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789-_.") != strlen(o->march))
        return bad_usage("--march takes a processor name such as native or "
                         "x86-64-v3, not '%s'",
                         o->march);
    } else if (!strcmp(a, "--precision")) {
      i++;
      if (!strcmp(value, "double"))
        o->emit.use_double = true;
      else if (strcmp(value, "float"))
        return bad_usage("--precision is float or double, not '%s'", value);
    } else if (!strcmp(a, "--nag-form")) {
      i++;
      if (!strcmp(value, "direct"))
        o->emit.nag_direct = true;
      else if (strcmp(value, "carried"))
        return bad_usage("--nag-form is carried or direct, not '%s'", value);
    } else if (!strcmp(a, "--method")) {
      static const char *const methods[] = {"sgd", "cm", "nag", "hf", NULL};
      if (find_word(argv[++i], methods) < 0)
        return bad_usage("--method is sgd, cm, nag or hf, not '%s'", value);
      o->overrides.method = value;
    } else if (!strcmp(a, "-D") || !strcmp(a, "--define") ||
               !strncmp(a, "-D", 2)) {
      bool joined = strcmp(a, "-D") && strcmp(a, "--define"); /* -DN=V */
      const char *text = joined ? a + 2 : argv[++i];
      if (!add_define(o, text))
        return bad_usage("-D takes NAME=VALUE with a number, as in -D "
                         "mu_max=0.99; not '%s'",
                         text);
    } else if (!strcmp(a, "--double")) {
      o->emit.use_double = true;
    } else if (!strcmp(a, "--emit-c")) {
      o->emit_c = true;
    } else if (!strcmp(a, "--keep-c")) {
      o->keep_c = true;
    } else if (!strcmp(a, "--no-format")) {
      o->no_format = true;
    } else if (!strcmp(a, "--dump-tokens")) {
      o->dump_tokens = true;
    } else if (!strcmp(a, "--dump-ast")) {
      o->dump_ast = true;
    } else if (!strcmp(a, "--dump-model")) {
      o->dump_model = true;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      o->verbose = true;
    } else if (a[0] == '-' && a[1]) {
      return bad_usage("unknown option '%s'", a);
    } else if (o->input) {
      return bad_usage("one .mdl file at a time (also given: '%s')", a);
    } else {
      o->input = a;
    }
  }
  if (!o->input)
    return bad_usage("%s", "no input file");
  return -1;
}

const char *path_stem(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  return dot && dot != base ? arena_strndup(base, (size_t)(dot - base))
                            : arena_strdup(base);
}

/* What SIGINT, SIGTERM or SIGHUP must undo, kept where the handler can
 * read it: the process group of the child that runs (clang-format or the C
 * compiler, with whatever it starts), and the files and directory that
 * mdlc has made and not yet put in place. A pointer or a pid is stored in
 * one write, so the handler sees either the old value or the new. */
static volatile pid_t child_group;
static const char *volatile child_name;
enum { MAX_TEMPORARIES = 3 };
static const char *volatile temporaries[MAX_TEMPORARIES];
static const char *volatile temporary_dir;

static void add_temporary(const char *path) {
  for (int i = 0; i < MAX_TEMPORARIES; i++)
    if (!temporaries[i]) {
      temporaries[i] = path;
      return;
    }
}

static void drop_temporary(const char *path) {
  for (int i = 0; i < MAX_TEMPORARIES; i++)
    if (temporaries[i] == path)
      temporaries[i] = NULL;
}

static void say(const char *text) {
  ssize_t ignored = write(STDERR_FILENO, text, strlen(text));
  (void)ignored;
}

/* Ends the child's process group (SIGTERM, and SIGKILL for what is left
 * after 2 s), removes the temporaries, says so, and dies of the signal,
 * all with async-signal-safe calls. */
static void on_signal(int sig) {
  pid_t group = child_group;
  if (group > 0) {
    kill(-group, SIGTERM);
    /* Wait for the group to end: clang and clang-format remove their own
     * temporary files when they get SIGTERM. */
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 200; i++) {
      int status; /* reaped, or a zombie would keep the group alive */
      while (waitpid(-group, &status, WNOHANG) > 0)
        ;
      if (kill(-group, 0) != 0 && errno == ESRCH)
        break;
      nanosleep(&tick, NULL);
    }
    kill(-group, SIGKILL);
  }
  for (int i = 0; i < MAX_TEMPORARIES; i++)
    if (temporaries[i])
      unlink(temporaries[i]);
  if (temporary_dir)
    rmdir(temporary_dir);
  say(sig == SIGINT    ? "mdlc: error: interrupted (SIGINT)"
      : sig == SIGTERM ? "mdlc: error: terminated (SIGTERM)"
                       : "mdlc: error: hung up (SIGHUP)");
  if (group > 0 && child_name) {
    say("; stopped ");
    say(child_name);
  }
  say("\n");
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  raise(sig);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  _exit(128 + sig);
}

static void catch_signals(void) {
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaddset(&sa.sa_mask, SIGHUP);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
#ifdef PR_SET_CHILD_SUBREAPER
  /* The child's children, orphaned when it ends, become mdlc's: on_signal
   * can reap them too, rather than wait for an init that may not. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
}

/* Runs a command in a process group of its own, which on_signal ends as a
 * whole (clang runs clang -cc1 and the linker); waits for it. Its exit
 * status, or -1 if it cannot run. */
static int run(char *const argv[], bool verbose, bool quiet_if_missing) {
  if (verbose) {
    for (int i = 0; argv[i]; i++)
      fprintf(stderr, "%s%s", i ? " " : "", argv[i]);
    fputc('\n', stderr);
  }
  fflush(stdout);
  fflush(stderr);
  /* Held back until child_group is set, so that on_signal cannot miss a
   * child just started. */
  sigset_t signals, old;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigprocmask(SIG_BLOCK, &signals, &old);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    /* Out of the terminal's foreground group, a child that writes to the
     * terminal (under stty tostop) or reads it would be stopped, and mdlc
     * would wait for ever; ignored, these signals let the write go through
     * and make the read fail. */
    signal(SIGTTOU, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    sigprocmask(SIG_SETMASK, &old, NULL);
    execvp(argv[0], argv);
    if (!quiet_if_missing)
      fprintf(stderr, "mdlc: error: cannot run '%s': %s\n", argv[0],
              strerror(errno));
    _exit(127);
  }
  int fork_errno = errno;
  if (pid > 0) {
    setpgid(pid, pid); /* as the child does: whichever comes first */
    child_name = argv[0];
    child_group = pid;
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    diag_plain_error("cannot start %s: %s", argv[0], strerror(fork_errno));
    return -1;
  }
  int status;
  pid_t waited;
  while ((waited = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
    ;
  child_group = 0;
  if (waited < 0)
    return -1;
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return -1;
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The directory holding include/mdl and lib/libmdl.a: $MDLC_HOME, or the
 * parent of the directory mdlc runs from (build/ or the install PREFIX). */
static const char *runtime_home(void) {
  const char *env = getenv("MDLC_HOME");
  if (env && *env)
    return env;
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return ".";
  exe[n] = '\0';
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(exe, '/');
    if (slash)
      *slash = '\0';
  }
  return arena_strdup(exe[0] ? exe : "/");
}

/* Whether an output may be written at path: never over the input (the
 * same file, under whatever name), never over a directory, a device or a
 * FIFO, and only in a directory mdlc can write in. Says why not. */
static bool output_allowed(const char *input, const char *path) {
  struct stat in, out;
  if (stat(path, &out) == 0) {
    if (stat(input, &in) == 0 && in.st_dev == out.st_dev &&
        in.st_ino == out.st_ino) {
      diag_plain_error("the output '%s' is the input file; name another "
                       "output with -o",
                       path);
      return false;
    }
    if (!S_ISREG(out.st_mode)) {
      diag_plain_error("the output '%s' is %s; mdlc writes only regular "
                       "files",
                       path,
                       S_ISDIR(out.st_mode) ? "a directory" : "not a file");
      return false;
    }
  }
  const char *slash = strrchr(path, '/');
  const char *dir = !slash ? "."
                    : slash == path
                        ? "/"
                        : arena_strndup(path, (size_t)(slash - path));
  if (access(dir, W_OK) != 0) {
    diag_plain_error("cannot write '%s': %s", path, strerror(errno));
    return false;
  }
  return true;
}

/* A name beside path to write an output under, whole, before renaming it
 * into place: a failed or interrupted write leaves path as it was. */
static const char *temporary_beside(const char *path) {
  return arena_printf("%s.tmp%ld", path, (long)getpid());
}

/* Moves a finished output into place; false (the temporary removed) when
 * it cannot. */
static bool put_in_place(const char *tmp, const char *path) {
  if (rename(tmp, path) == 0)
    return true;
  diag_plain_error("cannot write '%s': %s", path, strerror(errno));
  remove(tmp);
  return false;
}

/* Adds the words of text, split at white space, to argv from n; the
 * new count. */
static int add_words(char **argv, int n, const char *text) {
  for (const char *p = text + strspn(text, " \t\n"); *p;) {
    size_t len = strcspn(p, " \t\n");
    argv[n++] = arena_strndup(p, len);
    p += len + strspn(p + len, " \t\n");
  }
  return n;
}

static int compile_c(const Options *o, const char *c_path, const char *output) {
  const char *home = runtime_home();
  const char *lib = arena_printf("%s/lib/libmdl.a", home);
  const char *header = arena_printf("%s/include/mdl/program.h", home);
  if (!is_file(lib) || !is_file(header)) {
    diag_plain_error("cannot find the mdl runtime under '%s' (looked for %s "
                     "and %s); build it with make, or set MDLC_HOME",
                     home, lib, header);
    return 1;
  }
  const char *cc = o->cc ? o->cc : getenv("MDLC_CC");
  if (!cc || !*cc)
    cc = "clang";
  char *fixed[] = {(char *)cc, "-std=c11",
                   "-O2",      arena_printf("-march=%s", o->march),
                   "-Wall",    "-Wextra"};
  char *files[] = {"-I",           arena_printf("%s/include", home),
                   "-o",           (char *)output,
                   (char *)c_path, (char *)lib};
  enum { N_FIXED = sizeof fixed / sizeof fixed[0] };
  enum { N_FILES = sizeof files / sizeof files[0] };
  /* $MDLC_CFLAGS: more flags, both when compiling and linking (make check
   * SANITIZE=1 gives the sanitizers this way, since the runtime it links
   * against was built with them). */
  const char *extra = getenv("MDLC_CFLAGS");
  if (!extra)
    extra = "";
  /* The runtime draws --plot's figures with PLplot: its link flags as
   * pkg-config gave them when mdlc was built, one word each. */
  const char *plplot = MDLC_PLPLOT_LIBS;
  char **argv =
      arena_alloc(sizeof *argv * (N_FIXED + N_FILES + strlen(extra) / 2 +
                                  strlen(plplot) / 2 + 6));
  int n = 0;
  for (int i = 0; i < N_FIXED; i++)
    argv[n++] = fixed[i];
  n = add_words(argv, n, extra);
  for (int i = 0; i < N_FILES; i++)
    argv[n++] = files[i];
  n = add_words(argv, n, plplot);
  argv[n++] = "-lopenblas";
  argv[n++] = "-lz";
  argv[n++] = "-lm";
  argv[n] = NULL;
  int status = run(argv, o->verbose, false);
  if (status != 0) {
    diag_plain_error("%s failed%s; the generated C is in %s", cc,
                     status == 127 ? " to start" : "", c_path);
    return 1;
  }
  return 0;
}

static void format_c(const Options *o, const char *c_path) {
  if (o->no_format)
    return;
  char *argv[] = {"clang-format", "-i", "--style=LLVM", (char *)c_path, NULL};
  if (run(argv, o->verbose, true) != 0 && o->verbose)
    fprintf(stderr, "mdlc: note: clang-format is not available; the C is "
                    "left as emitted\n");
}

static bool write_c(const Program *p, const EmitOptions *opt,
                    const char *path) {
  FILE *out = fopen(path, "w");
  if (!out) {
    diag_plain_error("cannot write '%s': %s", path, strerror(errno));
    return false;
  }
  emit_program(out, p, opt);
  if (fclose(out) != 0) {
    diag_plain_error("cannot write '%s': %s", path, strerror(errno));
    return false;
  }
  return true;
}

int mdlc_main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "sweep"))
    return sweep_main(argc - 1, argv + 1);
  catch_signals();
  Options o = {.march = "native"};
  int status = parse_args(argc, argv, &o);
  if (status >= 0)
    return status;

  SourceFile *file = source_read(o.input);
  if (!file)
    return 1;
  if (o.dump_tokens) {
    lexer_dump_tokens(stdout, file);
    return diag_error_count ? 1 : 0;
  }
  Ast ast;
  bool parsed = parse_source(file, &ast);
  if (o.dump_ast) {
    ast_dump(stdout, &ast);
    return parsed ? 0 : 1;
  }
  if (!parsed)
    return 1;
  Program *p = sema_check_with(&ast, &o.overrides);
  if (!p)
    return 1;
  if (!o.output)
    o.output = o.emit_c ? arena_printf("%s.c", path_stem(o.input))
                        : path_stem(o.input);
  p->program_name = path_stem(o.output);
  if (o.dump_model) {
    model_dump(stdout, p);
    return 0;
  }

  if (!output_allowed(o.input, o.output))
    return 1;
  if (o.emit_c) {
    const char *tmp = temporary_beside(o.output);
    add_temporary(tmp);
    if (!write_c(p, &o.emit, tmp)) {
      remove(tmp);
      return 1;
    }
    format_c(&o, tmp);
    bool placed = put_in_place(tmp, o.output);
    drop_temporary(tmp);
    return placed ? 0 : 1;
  }

  /* The C goes to PROG.c when kept, else to a private temporary directory
   * that is removed once clang has succeeded (and kept for a look if not). */
  const char *c_path, *tmpdir = NULL;
  if (o.keep_c) {
    c_path = arena_printf("%s.c", o.output);
    if (!output_allowed(o.input, c_path))
      return 1;
  } else {
    const char *base = getenv("TMPDIR");
    char *dir = arena_printf("%s/mdlc-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
      diag_plain_error("cannot create a temporary directory: %s",
                       strerror(errno));
      return 1;
    }
    tmpdir = temporary_dir = dir;
    c_path = arena_printf("%s/%s.c", dir, p->program_name);
  }
  /* Interrupted, mdlc leaves nothing behind: a kept C file too is removed
   * until the program is in place. */
  add_temporary(c_path);
  if (!write_c(p, &o.emit, c_path))
    return 1;
  format_c(&o, c_path);
  const char *tmp = temporary_beside(o.output);
  add_temporary(tmp);
  status = compile_c(&o, c_path, tmp);
  if (status != 0) {
    remove(tmp);
    return status;
  }
  bool placed = put_in_place(tmp, o.output);
  drop_temporary(tmp);
  if (o.keep_c)
    drop_temporary(c_path);
  if (!placed)
    return 1;
  if (tmpdir) {
    remove(c_path);
    rmdir(tmpdir);
  }
  return 0;
}
