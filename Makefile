# mdlc — a compiler for deep-learning optimization experiments.
#
#   make            build build/bin/mdlc and build/lib/libmdl.a
#   make check      build and run every test
#   make slurm-check  mdlc sweep through a one-node Slurm cluster (as root)
#   make demo       build, compile examples/curves.mdl and train it briefly
#   make bench      time the generated programs against PyTorch and the GEMM
#                   ceiling; writes bench/RESULTS.md (see bench/README.md)
#   make install    install mdlc, the runtime and its headers under PREFIX
#   make deps       install the Debian packages we need (as root)

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L
PREFIX  ?= /usr/local
B       := build
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

.PHONY: all deps check unit e2e slurm-check demo bench install uninstall clean format golden-update

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

# The Slurm test after the others, whatever -j says: its array tasks
# would compete with them for the cores.
check: unit e2e
	@$(MAKE) --no-print-directory slurm-check

$(B)/tests/same_records: tests/slurm/same_records.c | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -ljansson

# The Slurm test starts a one-node cluster on this machine (root only; it
# says "skipped" otherwise).
slurm-check: all $(B)/tests/same_records
	sh tests/slurm/test_sweep.sh

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

# Regenerates the golden C files after an intended change to the emitter.
# A golden .mdl may start with a line `# mdlc-flags: FLAGS` for mdlc.
golden-update: all
	for f in tests/golden/*.mdl; do \
	    flags=$$(sed -n '1s/^# mdlc-flags://p' $$f); \
	    $(B)/bin/mdlc $$flags --emit-c $$f -o $${f%.mdl}.c || exit 1; done

format:
	clang-format -i compiler/*.c compiler/*.h runtime/*.c include/mdl/*.h tests/unit/*.c tests/e2e/*.c tests/slurm/*.c bench/*.c

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/mdl
	install -m 755 $(B)/bin/mdlc $(DESTDIR)$(PREFIX)/bin/mdlc
	install -m 644 $(B)/lib/libmdl.a $(DESTDIR)$(PREFIX)/lib/libmdl.a
	install -m 644 $(HEADERS) $(DESTDIR)$(PREFIX)/include/mdl/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mdlc $(DESTDIR)$(PREFIX)/lib/libmdl.a
	rm -rf $(DESTDIR)$(PREFIX)/include/mdl

clean:
	rm -rf $(B)
