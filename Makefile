# mdlc — a compiler for deep-learning optimization experiments.
#
#   make            build build/bin/mdlc and build/lib/libmdl.a
#   make check      build and run every test
#   make check SANITIZE=1
#                   the same under ASan and UBSan (fatal), built into
#                   build-san/; the generated programs too, through
#                   $MDLC_CFLAGS, which mdlc adds to clang's command line
#   make slurm-check  mdlc sweep through a one-node Slurm cluster (as root)
#   make fuzz       build the libFuzzer targets of tests/fuzz/ (front end,
#                   .npy, IDX and checkpoint readers) into build/fuzz/
#   make fuzz-smoke run each for FUZZ_SECONDS (15) from its seeds; fails on
#                   any crash, which is left in build/fuzz/crashes/
#   make demo       build, compile examples/curves.mdl and train it briefly
#   make bench      time the generated programs against PyTorch and the GEMM
#                   ceiling; writes bench/RESULTS.md (see bench/README.md)
#   make bench-step time one recurrent step: OpenBLAS, libxsmm, mdl/step.h
#   make install    install mdlc, the runtime, its headers and the man page
#                   under PREFIX
#   make deps       install the Debian packages we need (as root)

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L
PREFIX  ?= /usr/local
B       := build

# SANITIZE=1: everything, generated programs included, under AddressSanitizer
# and UndefinedBehaviorSanitizer, in a build directory of its own so its
# objects never mix with the plain build's. A report aborts the process
# (abort_on_error), so Criterion counts the test as crashed and the e2e
# tests, which check exit statuses, see a signal rather than a plain 1.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=all
ifeq ($(SANITIZE),1)
B       := build-san
ifeq ($(origin CC),default)
CC      := clang
endif
CFLAGS  += $(SAN_FLAGS)
# Exported for the make that the install test runs without MAKEFLAGS.
export SANITIZE
# mdlc adds these to the clang line of every program it builds.
export MDLC_CFLAGS := $(SAN_FLAGS)
# No leak checks: what a generated program loads (data, sampler) and what
# mdlc and the tests allocate is kept until exit by design, and exit-time
# reports of it would fail nearly every e2e test. (The fuzz targets, which
# free each input's memory, do check for leaks.) A malloc that fails
# returns NULL, as without ASan: the runtime reports it, and tests check
# that it does.
export ASAN_OPTIONS ?= abort_on_error=1:detect_leaks=0:allocator_may_return_null=1
export UBSAN_OPTIONS ?= abort_on_error=1:print_stacktrace=1
endif
LIBS    := -lopenblas -lz -lm
# PLplot draws the runtime's figures (a program's --plot, mdlc sweep's), so
# mdlc links it, and passes PLPLOT_LIBS on to the programs it builds. mdlc
# also links jansson for mdlc sweep's records. Expanded when used, after
# tools/deps.sh has run.
PLPLOT_CFLAGS = $(shell pkg-config --cflags plplot 2>/dev/null || echo -I/usr/include/plplot)
PLPLOT_LIBS = $(shell pkg-config --libs plplot 2>/dev/null || echo -lplplot)
MDLC_LIBS = -ljansson $(PLPLOT_LIBS)

# The compiler: the re2c lexer and Bison parser are generated into build/.
COMPILER_SRC := $(wildcard compiler/*.c)
COMPILER_OBJ := $(COMPILER_SRC:%.c=$(B)/%.o) $(B)/grammar/lexer.o $(B)/grammar/parser.o
COMPILER_LIB_OBJ := $(filter-out $(B)/compiler/main.o,$(COMPILER_OBJ))

# The runtime library that generated programs link against.
RUNTIME_SRC := $(wildcard runtime/*.c)
RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(B)/%.o)
HEADERS     := $(wildcard include/mdl/*.h)
BUILD_HEADERS := $(HEADERS:include/%=$(B)/include/%)

UNIT_SRC := $(wildcard tests/unit/*.c)
E2E_SRC  := $(wildcard tests/e2e/*.c)

VERSION := 0.1.0

.PHONY: all deps check unit e2e emitter-calls slurm-check fuzz fuzz-seeds fuzz-smoke demo bench bench-step install uninstall \
        clean format golden-update syntax-docs

all: deps $(B)/bin/mdlc $(B)/lib/libmdl.a $(BUILD_HEADERS)

deps:
	@sh tools/deps.sh

# Everything built waits for deps (order-only), so `make -j` cannot run a
# tool before tools/deps.sh has installed it.
$(B)/grammar/lexer.c: grammar/lexer.re $(B)/grammar/parser.c | deps
	@mkdir -p $(@D)
	re2c -W --no-generation-date -o $@ $<

$(B)/grammar/parser.c: grammar/parser.y | deps
	@mkdir -p $(@D)
	bison -Wall --defines=$(B)/grammar/parser.h -o $@ $<

$(B)/grammar/%.o: $(B)/grammar/%.c compiler/mdlc.h
	$(CC) $(CFLAGS) -Wno-unused-function -Icompiler -I$(B)/grammar -c -o $@ $<

$(B)/compiler/%.o: compiler/%.c $(wildcard compiler/*.h) $(B)/grammar/parser.c | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Icompiler -I$(B)/grammar -Iinclude \
	    -DMDLC_VERSION='"$(VERSION)"' -DMDLC_PLPLOT_LIBS='"$(PLPLOT_LIBS)"' \
	    -c -o $@ $<

$(B)/runtime/%.o: runtime/%.c $(HEADERS) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iinclude $(PLPLOT_CFLAGS) -c -o $@ $<

# mdlc links the runtime's file readers to check data files when compiling.
$(B)/bin/mdlc: $(COMPILER_OBJ) $(B)/lib/libmdl.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(COMPILER_OBJ) $(B)/lib/libmdl.a $(MDLC_LIBS) -lz -lm

$(B)/lib/libmdl.a: $(RUNTIME_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

# mdlc finds the runtime next to itself: ../include and ../lib.
$(B)/include/mdl/%.h: include/mdl/%.h
	@mkdir -p $(@D)
	cp $< $@

$(B)/tests/unit_tests: $(UNIT_SRC) $(COMPILER_LIB_OBJ) $(B)/lib/libmdl.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Icompiler -I$(B)/grammar -Iinclude -DTESTS_DIR='"$(CURDIR)/tests"' \
	    -o $@ $(UNIT_SRC) $(COMPILER_LIB_OBJ) $(B)/lib/libmdl.a -lcriterion \
	    $(MDLC_LIBS) $(LIBS)

$(B)/tests/e2e_tests: $(E2E_SRC) $(B)/lib/libmdl.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iinclude -DTESTS_DIR='"$(CURDIR)/tests"' \
	    -DMDLC='"$(CURDIR)/$(B)/bin/mdlc"' -DWORK_DIR='"$(CURDIR)/$(B)/tests/work"' \
	    -o $@ $(E2E_SRC) $(B)/lib/libmdl.a -lcriterion $(LIBS)

unit: all $(B)/tests/unit_tests
	$(B)/tests/unit_tests

e2e: all $(B)/tests/e2e_tests
	@rm -rf $(B)/tests/work && mkdir -p $(B)/tests/work
	$(B)/tests/e2e_tests

# The emitters call one another in one direction only, and never the
# front end (tools/emitter_calls.sh reads the objects' symbols).
emitter-calls: $(COMPILER_OBJ)
	@sh tools/emitter_calls.sh $(B)

# The Slurm test after the others, whatever -j says: its array tasks
# would compete with them for the cores.
check: unit e2e emitter-calls
	@$(MAKE) --no-print-directory slurm-check

$(B)/tests/same_records: tests/slurm/same_records.c | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -ljansson

# The Slurm test starts a one-node cluster on this machine (root only; it
# says "skipped" otherwise).
slurm-check: all $(B)/tests/same_records
	MDLC_BUILD=$(B) sh tests/slurm/test_sweep.sh

# Fuzzing with clang's libFuzzer, ASan and UBSan. The targets link their
# own instrumented copies of the compiler and runtime sources, built under
# $(FUZZ_B)/obj; their seeds are the example and test programs, and small
# data files and checkpoints that make_seeds writes. libFuzzer adds what
# it finds to $(FUZZ_B)/corpus and a crashing input to $(FUZZ_B)/crashes.
# FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (libFuzzer's convention) lowers
# the compiler's bound on checking schedules, to keep each run short.
FUZZ_CC      := clang
FUZZ_B       := $(B)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L \
                -fsanitize=fuzzer-no-link $(FUZZ_SAN) \
                -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_TARGETS := frontend npy idx checkpoint
FUZZ_SECONDS := 15
FUZZ_RUNTIME_OBJ  := $(RUNTIME_SRC:%.c=$(FUZZ_B)/obj/%.o)
FUZZ_COMPILER_OBJ := $(COMPILER_LIB_OBJ:$(B)/%=$(FUZZ_B)/obj/%)

$(FUZZ_B)/obj/runtime/%.o: runtime/%.c $(HEADERS) | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iinclude $(PLPLOT_CFLAGS) -c -o $@ $<

$(FUZZ_B)/obj/compiler/%.o: compiler/%.c $(wildcard compiler/*.h) $(B)/grammar/parser.c | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Icompiler -I$(B)/grammar -Iinclude \
	    -DMDLC_VERSION='"$(VERSION)"' -DMDLC_PLPLOT_LIBS='"$(PLPLOT_LIBS)"' \
	    -c -o $@ $<

$(FUZZ_B)/obj/grammar/%.o: $(B)/grammar/%.c compiler/mdlc.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-unused-function -Icompiler -I$(B)/grammar -c -o $@ $<

$(FUZZ_B)/libmdl.a: $(FUZZ_RUNTIME_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_B)/fuzz_frontend: tests/fuzz/fuzz_frontend.c $(FUZZ_COMPILER_OBJ) $(FUZZ_B)/libmdl.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Icompiler -Iinclude -o $@ $< \
	    $(FUZZ_COMPILER_OBJ) $(FUZZ_B)/libmdl.a $(MDLC_LIBS) $(LIBS)

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_file.h $(FUZZ_B)/libmdl.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Iinclude -o $@ $< \
	    $(FUZZ_B)/libmdl.a $(LIBS)

# The seeds, made afresh by each build: the programs, and data files and
# checkpoints written by make_seeds through the (plain) runtime.
$(FUZZ_B)/make_seeds: tests/fuzz/make_seeds.c $(B)/lib/libmdl.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iinclude -o $@ $< $(B)/lib/libmdl.a $(LIBS)

fuzz-seeds: $(FUZZ_B)/make_seeds
	rm -rf $(FUZZ_B)/seeds
	mkdir -p $(FUZZ_B)/seeds/frontend $(FUZZ_B)/seeds/npy $(FUZZ_B)/seeds/idx \
	    $(FUZZ_B)/seeds/checkpoint
	cp examples/*.mdl tests/diag/*.mdl tests/golden/*.mdl tests/sweeps/*.mdl \
	    $(FUZZ_B)/seeds/frontend/
	$(FUZZ_B)/make_seeds $(FUZZ_B)/seeds

fuzz: all $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%) fuzz-seeds

# Each target in turn for FUZZ_SECONDS, its log in $(FUZZ_B)/logs; the first
# crash (or leak, or input that runs past 30 s: a hang, when the slowest
# sound program takes well under a second) stops the run and fails it.
fuzz-smoke: fuzz
	@mkdir -p $(FUZZ_B)/crashes $(FUZZ_B)/logs
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_B)/corpus/$$t; \
	    dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	    if ! $(FUZZ_B)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=30 \
	        -rss_limit_mb=2048 $$dict \
	        -artifact_prefix=$(FUZZ_B)/crashes/$$t- \
	        $(FUZZ_B)/corpus/$$t $(FUZZ_B)/seeds/$$t \
	        >$(FUZZ_B)/logs/$$t.log 2>&1; then \
	    tail -n 60 $(FUZZ_B)/logs/$$t.log; \
	    echo "fuzz: $$t FAILED; the input is in $(FUZZ_B)/crashes/"; \
	    exit 1; fi; \
	    grep '^Done' $(FUZZ_B)/logs/$$t.log || true; \
	done

demo: all
	$(B)/bin/mdlc examples/curves.mdl -o $(B)/curves
	$(B)/curves --steps 2000 --report-every 250 --save-images $(B)/curves.png \
	    --plot $(B)/curves_curve.png
	@echo "inputs above their reconstructions: $(B)/curves.png"
	@echo "the learning curve: $(B)/curves_curve.png"

# The benchmark, never part of `make check`: bench/run.sh does the work.
# PyTorch is optional: tools/deps.sh --bench installs it when run as root;
# without it the PyTorch columns say "not installed". BENCH_QUICK=1 checks
# that it all runs; bench/README.md lists the other settings.
BENCH_TOOLS := $(B)/bench/runstat $(B)/bench/gemm_ceiling $(B)/bench/random_npy

$(BENCH_TOOLS): $(B)/bench/%: bench/%.c $(B)/lib/libmdl.a $(BUILD_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iinclude -o $@ $< $(B)/lib/libmdl.a $(LIBS)

bench: all $(BENCH_TOOLS)
	@sh tools/deps.sh --bench || echo "bench: going on without PyTorch"
	sh bench/run.sh

# One step of a recurrent net, forward and backward, timed the ways
# bench/rnn_step.c lists (OpenBLAS, libxsmm, mdl/step.h): compiled as a
# generated program is (clang -O2 -march=native), once per precision, with
# libxsmm where pkg-config finds it (tools/deps.sh --bench installs it).
# Never part of make bench; bench/README.md says how to read it.
RNN_STEP := $(B)/bench/rnn_step32 $(B)/bench/rnn_step64
XSMM_FLAGS = $(shell pkg-config --exists libxsmm 2>/dev/null && \
               echo -DMDL_BENCH_LIBXSMM $$(pkg-config --cflags --libs libxsmm))

$(B)/bench/rnn_step32: REAL := float
$(B)/bench/rnn_step64: REAL := double
$(RNN_STEP): bench/rnn_step.c $(B)/lib/libmdl.a $(BUILD_HEADERS)
	@mkdir -p $(@D)
	clang -std=c11 -O2 -march=native -Wall -Wextra -DRNN_REAL=$(REAL) \
	    -I$(B)/include -o $@ $< $(B)/lib/libmdl.a $(XSMM_FLAGS) $(LIBS)

bench-step: all $(RNN_STEP)
	$(B)/bench/rnn_step32 100 2 100 88 200
	$(B)/bench/rnn_step32 100 4 100 200 100
	$(B)/bench/rnn_step64 100 2 100 88 50

# Regenerates the golden C files after an intended change to the emitter.
# A golden .mdl may start with a line `# mdlc-flags: FLAGS` for mdlc.
golden-update: all
	for f in tests/golden/*.mdl; do \
	    flags=$$(sed -n '1s/^# mdlc-flags://p' $$f); \
	    $(B)/bin/mdlc $$flags --emit-c $$f -o $${f%.mdl}.c || exit 1; done

# docs/language.md's tables of net and init statements, printed from
# compiler/statements.c (test_statements checks that they agree).
syntax-docs: $(B)/bin/mdlc
	sh tools/syntax_docs.sh $(B)/bin/mdlc docs/language.md

format:
	clang-format -i compiler/*.c compiler/*.h runtime/*.c include/mdl/*.h tests/unit/*.c \
	    tests/e2e/*.c tests/slurm/*.c tests/fuzz/*.[ch] bench/*.c

# The man page gets the version here, so that it cannot name another.
MAN1 := $(DESTDIR)$(PREFIX)/share/man/man1

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/mdl \
	    $(MAN1)
	install -m 755 $(B)/bin/mdlc $(DESTDIR)$(PREFIX)/bin/mdlc
	install -m 644 $(B)/lib/libmdl.a $(DESTDIR)$(PREFIX)/lib/libmdl.a
	install -m 644 $(HEADERS) $(DESTDIR)$(PREFIX)/include/mdl/
	sed 's/@VERSION@/$(VERSION)/g' docs/mdlc.1 >$(MAN1)/mdlc.1
	chmod 644 $(MAN1)/mdlc.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mdlc $(DESTDIR)$(PREFIX)/lib/libmdl.a \
	    $(MAN1)/mdlc.1
	rm -rf $(DESTDIR)$(PREFIX)/include/mdl

clean:
	rm -rf build build-san
