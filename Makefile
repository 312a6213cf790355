# SPDX-License-Identifier: GPL-2.0-only
#
# Top-level Makefile of incrfs.  Targets:
#   make [KVER=...]   build incrfs.ko for KVER and the userspace tools
#   make deps         install every Debian package needed (root, apt)
#   make test         host unit tests, then the guest suite on every
#                     installed supported kernel; ends "N passed, N failed"
#   make test-debug   the guest suite on a debug kernel (KASAN, lockdep,
#                     kmemleak, UBSAN, failslab), built once and cached
#   make test-all     make test and make test-debug, one closing line (CI)
#   make demo         the main job: a container's cold start from a registry
#                     over a WAN link, pulled vs lazily loaded (NET=...)
#   make bench        benchmarks vs ext4, EROFS and a FUSE lazy loader in the
#                     guest; writes Documentation/performance.md (not a test)
#   make fuzz-host    libFuzzer on the image and blob readers, FUZZ_SECS
#                     seconds each (default 60); make test runs 20 s of it
#   make check        checkpatch --strict and sparse on the module
#   make install      the tools, man pages and systemd unit (PREFIX=/usr/local)
#   make install-dkms the module sources as a DKMS package, built for every
#                     installed kernel
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

.PHONY: all module tools tools-static deps install install-dkms test test-host test-guest test-debug test-all demo clean check-kver check

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

PREFIX ?= /usr/local
DESTDIR ?=
# systemd looks for units of packages here (also under /usr/local)
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)

install: tools
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 tools/out/incrfs-pack tools/out/incrfs-image $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 tools/out/incrfsd tools/out/incrfsctl $(DESTDIR)$(PREFIX)/sbin/
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' packaging/systemd/incrfsd@.service.in \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/incrfsd@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/incrfsd@.service
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' packaging/systemd/incrfsd-node.service.in \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/incrfsd-node.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/incrfsd-node.service
	./scripts/gen-man.sh $(BUILD)/man
	cp Documentation/man/*.[0-9] $(BUILD)/man/
	@for m in $(BUILD)/man/*.[0-9]; do \
		[ -f "$$m" ] || continue; \
		s=$${m##*.}; \
		install -d $(DESTDIR)$(PREFIX)/share/man/man$$s; \
		install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; \
	done

install-dkms:
	rm -rf $(DESTDIR)/usr/src/incrfs-$(DKMS_VERSION)
	install -d $(DESTDIR)/usr/src/incrfs-$(DKMS_VERSION)/kmod \
		$(DESTDIR)/usr/src/incrfs-$(DKMS_VERSION)/uapi
	install -m 0644 dkms.conf $(DESTDIR)/usr/src/incrfs-$(DKMS_VERSION)/
	install -m 0644 kmod/*.c kmod/*.h kmod/Kbuild \
		$(DESTDIR)/usr/src/incrfs-$(DKMS_VERSION)/kmod/
	install -m 0644 uapi/incrfs.h $(DESTDIR)/usr/src/incrfs-$(DKMS_VERSION)/uapi/
	@if [ -z "$(DESTDIR)" ]; then \
		dkms remove incrfs/$(DKMS_VERSION) --all >/dev/null 2>&1 || true; \
		dkms add incrfs/$(DKMS_VERSION) && \
		for v in $(SUPPORTED_KVERS); do \
			dkms install incrfs/$(DKMS_VERSION) -k $$v || exit 1; \
		done; \
	fi

test: all
	./tests/run-all.sh $(SUPPORTED_KVERS)

test-host: tools
	./tests/run-all.sh --host-only

# The debug kernel: tests/debug-kernel/build-kernel.sh builds it once (in
# /var/cache/incrfs, keyed by its config), run-all.sh the module against it.
test-debug:
	./tests/run-all.sh --debug-only

test-all: all
	./tests/run-all.sh --debug $(SUPPORTED_KVERS)

NET ?= wan
demo: module tools-static
	NET=$(NET) ./tests/demo/run-demo.sh $(KVER)

# Ratios measured in one guest boot per kernel: every supported kernel,
# figure 8 on NET (wan) with WORKLOAD (py; py,app,small adds about 25
# minutes per kernel).  BENCH_KVERS to choose the kernels.
.PHONY: bench
BENCH_KVERS ?= $(SUPPORTED_KVERS)
WORKLOAD ?= py
bench: tools-static
	@for v in $(BENCH_KVERS); do \
		$(MAKE) --no-print-directory module KVER=$$v || exit 1; \
	done
	./tests/bench/run-bench.sh --net $(NET) --workload $(WORKLOAD) \
		$(BENCH_KVERS)

# The userspace readers under libFuzzer (clang); corpus in build/fuzz.
.PHONY: fuzz-host
FUZZ_SECS ?= 60
fuzz-host: tools
	./tests/fuzz/run-host-fuzz.sh -t $(FUZZ_SECS)

clean:
	rm -rf $(BUILD)
	$(MAKE) -C tools clean
