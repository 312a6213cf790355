# SPDX-License-Identifier: GPL-2.0-only
#
# Top-level Makefile of incrfs.  Targets:
#   make [KVER=...]   build incrfs.ko for KVER and the userspace tools
#   make deps         install every Debian package needed (root, apt)
#   make test         host unit tests, then the guest suite on every
#                     installed supported kernel; ends "N passed, N failed"
#   make demo         the main job: lazily load a real program tree
#   make check        checkpatch --strict and sparse on the module
#   make clean
#
# KVER defaults to the newest installed kernel that has headers.  The
# module of each KVER is built in build/<KVER>/ so that both supported
# kernels can be built side by side.

SUPPORTED_KVERS := $(shell $(CURDIR)/scripts/supported-kvers.sh)
KVER ?= $(lastword $(SUPPORTED_KVERS))
KDIR ?= /lib/modules/$(KVER)/build
BUILD := $(CURDIR)/build
KMOD_OUT := $(BUILD)/$(KVER)/kmod
KMOD_SRCS := $(wildcard kmod/*.c kmod/*.h) kmod/Kbuild uapi/incrfs.h

.PHONY: all module tools tools-static deps test test-host test-guest demo clean check-kver check

all: module tools

check-kver:
	@if [ -z "$(KVER)" ] || [ ! -d "$(KDIR)" ]; then \
		echo "incrfs: no kernel headers for KVER='$(KVER)'; run 'make deps'" >&2; \
		exit 1; \
	fi

module: $(KMOD_OUT)/incrfs.ko

# Copy the sources so each kernel version gets its own object directory.
$(KMOD_OUT)/incrfs.ko: $(KMOD_SRCS) | check-kver
	@mkdir -p $(KMOD_OUT) $(BUILD)/$(KVER)/uapi
	@cp -p kmod/*.c kmod/*.h kmod/Kbuild $(KMOD_OUT)/
	@cp -p uapi/incrfs.h $(BUILD)/$(KVER)/uapi/
	$(MAKE) -C $(KDIR) M=$(KMOD_OUT) CONFIG_INCRFS_FS=m W=1 modules

tools:
	$(MAKE) -C tools

# The QEMU guest has no shared libraries of its own: static tools for it.
tools-static:
	$(MAKE) -C tools O=out-static STATIC=1

# checkpatch --strict, then sparse (C=2: check every file) on each kernel.
check:
	./scripts/checkpatch.sh
	@for v in $(SUPPORTED_KVERS); do \
		$(MAKE) --no-print-directory module KVER=$$v >/dev/null || exit 1; \
		out=$$($(MAKE) -C /lib/modules/$$v/build M=$(BUILD)/$$v/kmod \
			CONFIG_INCRFS_FS=m C=2 modules 2>&1 | \
			grep -E '(warning|error):'); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
		echo "sparse clean: $$v"; \
	done

deps:
	./scripts/install-deps.sh

test: all
	./tests/run-all.sh $(SUPPORTED_KVERS)

test-host: tools
	./tests/run-all.sh --host-only

demo: module tools-static
	./tests/demo/run-demo.sh $(KVER)

clean:
	rm -rf $(BUILD)
	$(MAKE) -C tools clean
