# darknet-focal — build, test, bench, demo.
# `make` builds ./darknet, libdarknet.a, libdarknet.so. `make test` and `make demo` first run
# scripts/deps.sh, which installs any missing Debian package (see README).

CC       ?= cc
OPENCV   ?= 0
SANITIZE ?=
FAST     ?= 0
DEPS     ?= 1

BUILD    ?= build
NPROC    := $(shell nproc 2>/dev/null || echo 2)
WARN     := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# -fno-trapping-math: we never unmask floating-point exceptions, so GCC may compute both sides
# of a select and vectorise it (mish, leaky); IEEE results are unchanged (not a fast-math flag).
OPT      := -O3 -march=x86-64-v2 -fno-trapping-math
ifeq ($(FAST),1)
OPT      += -ffast-math
endif
CFLAGS   ?=
# -fvisibility=hidden: libdarknet.so exports only what include/darknet.h marks DN_API.
CFLAGS   += -std=c11 $(OPT) -g -fPIC -fvisibility=hidden $(WARN) -MMD -MP -Iinclude -Isrc
ifeq ($(WERROR),1)
CFLAGS   += -Werror
endif
BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
CFLAGS   += $(BLAS_CFLAGS)
LDLIBS   := $(BLAS_LIBS) -pthread -lm
LDFLAGS  ?=

# oneDNN (Debian libdnnl-dev): the fast convolution backend (src/core/dnnl_conv.c).
# DNNL=auto (default): used when the compiler finds <dnnl.h>; DNNL=1: required; DNNL=0: the
# reference backend only. At run time DN_BACKEND=ref selects the reference backend anyway.
DNNL     ?= auto
ifeq ($(DNNL),auto)
DNNL     := $(shell printf '\043include <dnnl.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo 1 || echo 0)
ifeq ($(DNNL)$(MAKELEVEL),00)
$(info note: oneDNN not found, convolutions use the reference backend; for the faster one: apt-get install libdnnl-dev, then make clean all)
endif
endif
ifeq ($(DNNL),1)
ifneq ($(shell printf '\043include <dnnl.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo 1),1)
$(error DNNL=1 but <dnnl.h> is not found: apt-get install libdnnl-dev)
endif
CFLAGS   += -DDN_DNNL
LDLIBS   += -ldnnl
endif

# stb's JPEG writer shifts negative values (UB, harmless); keep ASan but not UBSan on it.
STB_NOSAN :=
ifneq ($(SANITIZE),)
STB_NOSAN := -fno-sanitize=undefined
BUILD    := $(BUILD)-san
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
endif

ifeq ($(OPENCV),1)
CFLAGS   += -DDN_OPENCV $(shell pkg-config --cflags opencv4)
LDLIBS   += $(shell pkg-config --libs opencv4)
endif

# Folders from the bottom up (docs/architecture.md); a file includes only its own folder's
# headers and those of folders below it (`make check-deps`). src/cli/ is the program, not the
# library: libdarknet.{a,so} hold the rest, and export only include/darknet.h.
LAYERS   := core data loss layers eval train api
LIB_SRC  := $(filter-out src/data/stb_impl.c,$(foreach d,$(LAYERS),$(wildcard src/$(d)/*.c)))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/src/%.o) $(BUILD)/src/data/stb_impl.o
CLI_SRC  := $(filter-out src/cli/main.c,$(wildcard src/cli/*.c))
CLI_OBJ  := $(CLI_SRC:src/%.c=$(BUILD)/src/%.o)
CLIA     := $(BUILD)/libdarknet_cli.a
TEST_SRC := $(wildcard tests/unit/*.c tests/grad/*.c) tests/test_main.c
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

# Fuzz targets (tests/fuzz/fuzz_<t>.c): libFuzzer binaries for `make fuzz` (clang) and, with
# the normal compiler, replay drivers for `make test` (tests/fuzz/replay.sh).
FUZZ_TARGETS := cfg data labels weights image
FUZZ_SECONDS ?= 60
FUZZ_DEFS    := -DFUZZ_TINY_CFG='"$(CURDIR)/tests/data/tiny.cfg"' -Itests/fuzz
REPLAY       := $(FUZZ_TARGETS:%=$(BUILD)/replay_%)
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(BUILD)/fuzz_%)

ifneq ($(BUILD),build)
BIN      := $(BUILD)/darknet
TESTBIN  := $(BUILD)/darknet_test
LIBA     := $(BUILD)/libdarknet.a
LIBSO    := $(BUILD)/libdarknet.so
else
BIN      := darknet
TESTBIN  := $(BUILD)/darknet_test
LIBA     := libdarknet.a
LIBSO    := libdarknet.so
endif

.PHONY: all test test-unit test-fast test-san bench demo soak deps clean check-deps fuzz fuzz-build
all: $(BIN) $(LIBA) $(LIBSO)

# Objects depend on the compiler command line: a changed flag (OPT, SANITIZE, OPENCV, CC)
# rebuilds everything instead of linking objects built with the old one.
FLAGS_STAMP := $(BUILD)/flags.stamp
FLAGS_NOW   := $(CC) $(CFLAGS) $(LDFLAGS) $(LDLIBS)
$(shell mkdir -p $(BUILD); [ "$$(cat $(FLAGS_STAMP) 2>/dev/null)" = '$(subst ','"'"',$(FLAGS_NOW))' ] || \
        printf '%s\n' '$(subst ','"'"',$(FLAGS_NOW))' > $(FLAGS_STAMP))

$(BUILD)/src/%.o: src/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# stb's own code: relaxed warnings so the strict set stays on for ours.
$(BUILD)/src/data/stb_impl.o: src/data/stb_impl.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out $(WARN) -Werror,$(CFLAGS)) $(STB_NOSAN) -w -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LIBSO): $(LIB_OBJ) src/api/libdarknet.map
	$(CC) -shared $(LDFLAGS) -Wl,--version-script=src/api/libdarknet.map -o $@ $(LIB_OBJ) $(LDLIBS)

$(CLIA): $(CLI_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BIN): $(BUILD)/src/cli/main.o $(CLIA) $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The test table is generated from the TEST(name) lines of the test sources.
$(BUILD)/tests/test_list.h: $(TEST_SRC)
	@mkdir -p $(dir $@)
	@sed -n 's/^TEST(\([A-Za-z0-9_]*\)).*/X(\1)/p' $(filter-out tests/test_main.c,$(TEST_SRC)) > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/test_main.o: tests/test_main.c $(BUILD)/tests/test_list.h $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(BUILD)/tests -Itests -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -c $< -o $@

$(TESTBIN): $(TEST_OBJ) $(CLIA) $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Test-only: the data loader's internal functions for tests/cli/aug_labels.py (ctypes).
HOOKSO := $(BUILD)/libdn_testhooks.so
$(HOOKSO): tests/cli/data_hooks.c $(LIBA)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -shared $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

deps:
	@if [ "$(DEPS)" = 1 ]; then bash scripts/deps.sh; fi

$(BUILD)/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c tests/fuzz/fuzz_common.h $(LIBA)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(FUZZ_DEFS) $(LDFLAGS) -o $@ $< tests/fuzz/replay_main.c $(LIBA) $(LDLIBS)

# The whole suite: unit + gradient tests, CLI anomaly tests, fuzz-input replay, OpenCV parity.
# Ends with one "N passed, N failed" line. With SANITIZE=..., any sanitizer report fails it.
# Then, unless SAN=0 (or already under a sanitizer), the same suite again under ASan + LSan +
# UBSan (test-san); each run ends with its own "N passed, N failed" line.
SAN ?= 1
test: deps check-deps
	$(MAKE) -j$(NPROC) all $(TESTBIN) $(REPLAY) $(HOOKSO)
	DN_SAN=$(if $(SANITIZE),1,0) DN_TESTHOOKS=$(HOOKSO) bash tests/run_all.sh $(BIN) $(TESTBIN) $(LIBSO)
ifeq ($(SANITIZE),)
ifeq ($(SAN),1)
	$(MAKE) test-san DEPS=0
endif
endif

# The whole suite under AddressSanitizer + LeakSanitizer + UBSan (objects in build-san/).
test-san:
	$(MAKE) SANITIZE=address,undefined test

# libFuzzer targets (clang, objects in build-fuzz/), each run FUZZ_SECONDS from the seed
# corpus; fails on any crash (tests/fuzz/run_fuzz.sh).
fuzz:
	@if [ "$(DEPS)" = 1 ]; then DN_DEPS_FUZZ=1 bash scripts/deps.sh; fi
	$(MAKE) CC=clang BUILD=build-fuzz SANITIZE=fuzzer-no-link,address,undefined fuzz-build
	bash tests/fuzz/run_fuzz.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_BIN)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(LIBA)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -fsanitize=fuzzer $(FUZZ_DEFS) -o $@ $< $(LIBA) $(LDLIBS)

test-unit: all $(TESTBIN)
	$(TESTBIN)

# Stock vs focal on a built-in Fashion-MNIST dataset (scripts/demo.sh; ~10 minutes on 2 cores).
demo: deps
	$(MAKE) -j$(NPROC) all
	bash scripts/demo.sh

# 30-minute training soak (scripts/soak.sh): RSS and iterations per minute, SIGTERM at the end.
soak: deps
	$(MAKE) all
	bash scripts/soak.sh

bench: deps
	$(MAKE) all
	/usr/bin/python3 scripts/bench.py $(BENCH_ARGS)

# The direction of dependencies between the folders, and the focal module's purity
# (scripts/check_deps.sh; its test mutates a copy of the tree to show it fails).
check-deps:
	@echo "check-deps: the folders' include rules (scripts/check_deps.sh)"
	@bash scripts/check_deps.sh

clean:
	rm -rf build build-* darknet libdarknet.a libdarknet.so

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/src/cli/main.d
