# Front door of the rig. See README.md.
#   make run            build the patched kernel, boot it on emulated pmem, run the DAX demo
#   make check          the full test suite on the patched kernel
#   make check KERNEL=stock   the same suite on unpatched 6.12
#   make shell | tree | export | build | tests | clean
KERNEL ?= patched
KCONFIG ?= default
TESTS ?=
export TESTS

ifeq ($(filter $(KERNEL),patched stock),)
$(error unknown KERNEL=$(KERNEL): use KERNEL=patched (the series) or KERNEL=stock (unpatched 6.12))
endif
ifneq ($(KCONFIG),default)
ifeq ($(wildcard config/$(KCONFIG).config),)
$(error unknown KCONFIG=$(KCONFIG): no config/$(KCONFIG).config)
endif
endif
ifneq ($(SOURCE_VERSION),)
export OVERRIDE_VERSION := $(SOURCE_VERSION)
endif
ifneq ($(SOURCE_SHA256),)
export OVERRIDE_SHA256 := $(SOURCE_SHA256)
endif

S := scripts/stage.sh
KSRC := $(CURDIR)/build/$(KERNEL)/src

.PHONY: all run check stress matrix shell tree export build build-each tests deps source clean lint bench
all: check

deps:
	@$(S) deps scripts/deps.sh

source: deps
	@$(S) source scripts/fetch-source.sh

build: source
	@$(S) "apply $(KERNEL)" scripts/prepare-tree.sh $(KERNEL)
	@$(S) "build $(KERNEL)" scripts/build-kernel.sh $(KERNEL) $(KCONFIG)

tests: build
	@$(S) tests $(MAKE) -s -C tests KSRC=$(KSRC) OUT=$(CURDIR)/build/tests

run: tests
	@$(S) "boot+demo $(KERNEL)" scripts/demo.sh $(KERNEL) $(KCONFIG)

check: tests
	@$(S) "check $(KERNEL)" scripts/check.sh $(KERNEL) $(KCONFIG)

# Benchmarks, stock vs patched, into build/bench/report.md (bench/README.md).
bench: tests
	@$(MAKE) -s build KERNEL=stock
	@QUICK=$(QUICK) $(S) bench scripts/bench.sh

# Build matrix (configs and cross architectures; hours): MATRIX="x86-nothp ..."
matrix: source
	@$(S) "apply $(KERNEL)" scripts/prepare-tree.sh $(KERNEL)
	@KERNEL=$(KERNEL) PARTIAL=$(PARTIAL) GOAL=$(GOAL) $(S) matrix scripts/build-matrix.sh $(MATRIX)

# Long reliability run: model-checked stress, pin/poison tests, power cuts.
stress: tests
	@$(S) "stress $(KERNEL)" scripts/stress.sh $(KERNEL) $(KCONFIG)

shell: tests
	@scripts/run-guest.sh $(KERNEL) shell $(KCONFIG)

tree: source
	@scripts/mktree.sh

export:
	@scripts/export.sh

# Build and boot every prefix of the series (slow: one kernel build per patch;
# FIRST=N resumes at patch N, LAST=N stops after it, BOOT=0 skips the boot tests).
build-each: tests
	@$(S) build-each scripts/build-each.sh $(KCONFIG)

lint:
	shellcheck -x scripts/*.sh guest/*.sh .ci/run

# Build output only; the development tree build/linux and the pmem images
# are kept (remove them by hand if you mean it).
clean:
	rm -rf build/stock/src/obj* build/patched/src/obj* build/tests build/results
