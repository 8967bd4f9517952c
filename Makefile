# SPDX-License-Identifier: MIT
# Top-level, non-recursive Makefile. Each folder contributes a *.mk fragment
# (included below); `make help` lists the targets.
#
#   make            build the images for TARGET (default kvm)
#   make test       run every test (unit, tool, image, QEMU boot)
#   make O=dir      build out of tree;  make V=1  show every command

MAKEFLAGS += -rR --no-print-directory
.SUFFIXES:
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

TOP      := $(CURDIR)
PRODUCT  ?= space
VERSION  ?= $(shell cat $(TOP)/VERSION)
TARGET   ?= kvm
O        ?= out
override O := $(abspath $(O))
CACHE    ?= $(HOME)/.cache/$(PRODUCT)-build
V        ?= 0
WERROR   ?= 0
ADMIN_PASSWORD_FILE ?=

ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-8s %s\n'
endif

# Reproducible builds: time and locale come from the source, not the machine.
SOURCE_DATE_EPOCH ?= $(shell git -C $(TOP) log -1 --format=%ct 2>/dev/null || echo 1700000000)
export SOURCE_DATE_EPOCH
export TZ := UTC
export LC_ALL := C
# mke2fs, debugfs, mkfs.vfat live in /usr/sbin, which an ordinary user's
# PATH lacks on Debian: the build runs them by name (no root needed).
export PATH := $(PATH):/usr/sbin:/sbin
unexport CFLAGS_EXTRA GREP_OPTIONS

# ---------------------------------------------------------------- C toolchain
# -R drops make's built-in CC in sub-makes too, so "undefined" counts as unset.
ifneq ($(filter default undefined,$(origin CC)),)
CC := gcc
AR := ar
endif
PKG_CONFIG ?= pkg-config
PC_PKGS    := openssl libarchive zlib libdeflate
PC_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(PC_PKGS) 2>/dev/null)
CRYPTO_LIBS    := $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)
SSL_LIBS       := $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null || echo -lssl -lcrypto)
ARCHIVE_LIBS   := $(shell $(PKG_CONFIG) --libs libarchive 2>/dev/null || echo -larchive)
ZLIB_LIBS      := $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null || echo -lz)
DEFLATE_LIBS   := $(shell $(PKG_CONFIG) --libs libdeflate 2>/dev/null || echo -ldeflate)

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wwrite-strings -Wundef -Wno-unused-parameter \
	-Werror=implicit-function-declaration
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
# -ffile-prefix-map: binaries (and their build-ids) do not depend on where
# the checkout lives, so images are identical whoever builds them where.
BASE_CFLAGS := -std=gnu11 -g -ffile-prefix-map=$(TOP)=. $(WARNINGS) -D_GNU_SOURCE -I. -Ipkg/lib -Itests/unit \
	-DPRODUCT='"$(PRODUCT)"' $(PC_CFLAGS) -MD -MP
CFLAGS   ?= -O2
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  ?=

# ------------------------------------------------------------------- knobs
# A knob that shapes an output (PRODUCT, VERSION, the password file, the
# signing keys, the disk sizes, the compiler and its flags) is recorded in a
# file under $(O)/knobs, rewritten only when its value changes: outputs list
# the file as a prerequisite, so changing a knob rebuilds what it shapes and
# nothing else (Kbuild's if_changed, with one file per knob). Files named by
# a knob are prerequisites too, so their content counts through their time.
KNOBS := $(O)/knobs
knob_differs = $(subst $(2),,$(1))$(subst $(1),,$(2))
# $(call knob,NAME,VALUE) -> $(KNOBS)/NAME, (re)written at parse time when
# it does not hold VALUE.
knob = $(if $(call knob_differs,$(file < $(KNOBS)/$(1)),$(2))$(if $(wildcard $(KNOBS)/$(1)),,new),$(shell mkdir -p $(KNOBS))$(file > $(KNOBS)/$(1),$(2)))$(KNOBS)/$(1)

BUILD := $(O)/build
ASAN  := $(O)/asan
BIN   := $(O)/bin

# Shared library code every program may link (pkg/lib).
LIBSPACE_SRCS := $(wildcard pkg/lib/*.c)

PROGRAMS   :=
UNIT_TESTS :=
TOOL_TESTS :=
E2E_TESTS  :=
BENCHES    :=

# Static libraries. A program lists every source it needs in NAME_SRCS;
# the ones that belong to a library are taken from its archive, so the
# program links only the objects it uses (growdata, which reads a GPT, does
# not carry the GRUB and ESP code of image/lib). LIB_NAMES is in link order:
# a library may use the ones after it. lib_srcs_NAME is set here for the
# libraries whose module.mk defines their source list.
LIB_NAMES := img pkg mgmt space
lib_srcs_img   = $(filter image/lib/%,$(IMGLIB_SRCS))
lib_srcs_pkg   = $(LIBPKG_SRCS)
lib_srcs_mgmt  = $(LIBMGMT_SRCS)
lib_srcs_space = $(LIBSPACE_SRCS)
lib_srcs_all   = $(foreach l,$(LIB_NAMES),$(lib_srcs_$(l)))
# $(call link_inputs,SRCS,OBJDIR): the objects of SRCS outside every
# library, then the archives of the libraries SRCS draws on.
link_inputs = $(patsubst %.c,$(2)/%.o,$(filter-out $(lib_srcs_all),$(1))) \
	$(foreach l,$(LIB_NAMES),$(if $(filter $(lib_srcs_$(l)),$(1)),$(2)/lib/lib$(l).a))

# $(call c_library,NAME) -> $(BUILD)/lib/libNAME.a and its ASan+UBSan twin
# $(ASAN)/lib/libNAME.a (ar D: no dates or owners, the same bytes each build).
define c_library
$(BUILD)/lib/lib$(1).a: $$(patsubst %.c,$(BUILD)/%.o,$$(lib_srcs_$(1)))
	$$(quiet) AR $$@
	$$(Q)mkdir -p $$(@D)
	$$(Q)rm -f $$@ && $$(AR) rcsD $$@ $$^
$(ASAN)/lib/lib$(1).a: $$(patsubst %.c,$(ASAN)/%.o,$$(lib_srcs_$(1)))
	$$(quiet) AR $$@
	$$(Q)mkdir -p $$(@D)
	$$(Q)rm -f $$@ && $$(AR) rcsD $$@ $$^
endef

# $(call c_program,NAME): $(NAME)_SRCS, $(NAME)_LIBS -> $(BIN)/NAME
define c_program
$(BIN)/$(1): $$(call link_inputs,$$($(1)_SRCS),$(BUILD))
	$$(quiet) LD $$@
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$($(1)_LIBS)
endef

# $(call c_unit_test,NAME): $(NAME)_SRCS, $(NAME)_LIBS -> $(O)/tests/unit/NAME,
# built with ASan+UBSan.
define c_unit_test
$(O)/tests/unit/$(1): $$(call link_inputs,$$($(1)_SRCS),$(ASAN))
	$$(quiet) LD $$@
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(SAN_FLAGS) $$(LDFLAGS) -o $$@ $$^ $$($(1)_LIBS)
endef

# Objects wait for the host build tools (installed or listed on first use),
# and are rebuilt when the compiler or its flags change (-Werror aside: it
# changes no output).
KNOB_CC := $(call knob,cc,$(CC) $(filter-out -Werror,$(BASE_CFLAGS)) $(CFLAGS) $(LDFLAGS))
$(BUILD)/%.o: %.c $(KNOB_CC) | $(O)/stamp/host-deps
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -c -o $@ $<

$(ASAN)/%.o: %.c $(KNOB_CC) | $(O)/stamp/host-deps
	$(quiet) CC-ASAN $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) -O1 $(SAN_FLAGS) -DUNIT_TEST -c -o $@ $<

# -------------------------------------------------------------------- fuzz
# `make fuzz` runs every libFuzzer target (clang) FUZZ_TIME seconds from its
# kept seeds, copied to $(O)/fuzz/corpus/NAME so the kept ones do not grow;
# `make fuzz-NAME` runs one. A crash leaves its input in $(O)/fuzz/artifacts
# and fails. A module adds a target with a build rule using $(fuzz_build)
# (sources in $^, libraries in $(fuzz_LIBS) set per target) and
#   fuzz: fuzz-NAME
#   fuzz-NAME: $(O)/fuzz/fuzz_NAME ; $(call fuzz_run,NAME,SEED_DIR,MAX_LEN)
# Both are expanded in recipes, so every module.mk may use them.
FUZZ_CC   ?= clang
FUZZ_TIME ?= 25
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_GNU_SOURCE -I. -Ipkg/lib $(PC_CFLAGS)
define fuzz_build
	$(quiet) FUZZCC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(fuzz_CFLAGS) -o $@ $(filter %.c,$^) $(fuzz_LIBS) $(CRYPTO_LIBS)
endef
# $(call fuzz_run,NAME,SEED_DIR,MAX_LEN)
define fuzz_run
	$(Q)mkdir -p $(O)/fuzz/artifacts $(O)/fuzz/corpus/$(1)
	$(Q)cp $(2)/* $(O)/fuzz/corpus/$(1)/
	@echo "== fuzz $(1) ($(FUZZ_TIME) s)"
	$(Q)if $(O)/fuzz/fuzz_$(1) -max_total_time=$(FUZZ_TIME) -max_len=$(3) -print_final_stats=1 \
		-artifact_prefix=$(O)/fuzz/artifacts/$(1)- $(O)/fuzz/corpus/$(1) > $(O)/fuzz/$(1).log 2>&1; then \
		grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added' \
			$(O)/fuzz/$(1).log; \
	else \
		grep -A30 -E '^==[0-9]+==ERROR|runtime error|deadly signal' $(O)/fuzz/$(1).log | head -40; \
		echo "fuzz $(1): crash, input in $(O)/fuzz/artifacts, log $(O)/fuzz/$(1).log"; exit 1; \
	fi
endef
.PHONY: fuzz
$(if $(filter 0,$(FUZZ_TIME)),$(error FUZZ_TIME=0 would fuzz forever; give seconds))

# ------------------------------------------------------------------ fragments
# Every program or library folder has a module.mk declaring PROGRAMS,
# UNIT_TESTS, TOOL_TESTS and their sources.
include $(sort $(wildcard */module.mk */*/module.mk))
include pkg/debs.mk
include rootfs/rootfs.mk
include kernel-config/kernel.mk
include image/disk.mk
include image/sbom/sbom.mk
include installer/iso.mk
include image/hotpatch/hotpatch.mk
include tests/tests.mk
# last: the checksum list of every output the fragments above define, then
# the signed build record of them all
include image/sums.mk
include image/record.mk

$(foreach l,$(LIB_NAMES),$(eval $(call c_library,$(l))))
$(foreach p,$(PROGRAMS),$(eval $(call c_program,$(p))))
$(foreach t,$(UNIT_TESTS),$(eval $(call c_unit_test,$(t))))

.PHONY: all programs clean distclean help
all: images iso
programs: $(addprefix $(BIN)/,$(PROGRAMS))

clean:
	rm -rf $(O)

distclean: clean
	rm -rf $(CACHE)

help:
	@echo 'Build:'
	@echo '  make [all]          images: $(TARGET) raw disk + qcow2, the signed OVA and release image, in $(O)/,'
	@echo '                      and their signed checksum list'
	@echo '  make disk | qcow2   only the raw disk / qcow2 of TARGET'
	@echo '  make ova            the signed OVA (esxi disk; SIGN_KEY= SIGN_CERT= SIGN_CHAIN= ROOT_CA=)'
	@echo '  make img            the signed release image $(PRODUCT)-$(VERSION).img (same SIGN_* knobs)'
	@echo '  make iso            the installer ISO $(PRODUCT)-$(VERSION).iso (CD or USB stick, BIOS or UEFI)'
	@echo '  make sums           the signed checksum list $(PRODUCT)-$(VERSION).sha256sums of every output'
	@echo '  make record         the signed build record $(PRODUCT)-$(VERSION).buildrecord (written last)'
	@echo '  make hotpatches     the signed hot-patch bundles of pkg/hotpatches (make hotpatch HOTPATCH=N: one)'
	@echo '  make patched HOTPATCH=N  the KVM qcow2 with hot patch vN applied offline by the node'"'"'s own tool'
	@echo '  make programs       the C programs only ($(O)/bin)'
	@echo '  make rootfs         the one assembled root tree of every target ($(ROOTFS))'
	@echo '  make fetch          download and verify the pinned Debian packages'
	@echo '  make update-lock    refresh pkg/debs.lock from the Debian archive'
	@echo '  make check-kernel   check the pinned kernel against kernel-config/'
	@echo '  make check-repro    build twice from clean and compare the images'
	@echo '  make check-rebuild RECORD=file  rebuild a build record'"'"'s commit in a clone and compare'
	@echo 'Test:'
	@echo '  make test           every test (format, unit, tool, image, QEMU boot)'
	@echo '  make check-format   the C files are laid out as .clang-format says (make format: rewrite them)'
	@echo '  make test-unit      C unit tests under ASan+UBSan (T=/pkg/refusals: one test by name; T=/pkg: a group;'
	@echo '                      out/tests/unit/test_pkg -l lists a program'"'"'s names)'
	@echo '  make test-tool      tool tests on the host'
	@echo '  make test-image     image layout/filesystem checks'
	@echo '  make test-e2e       QEMU boot tests (TCG)'
	@echo '  make bench          benchmarks (figures as ratios against baselines)'
	@echo '  make fuzz           libFuzzer runs of every parser of outside input, FUZZ_TIME s each (fuzz-NAME: one)'
	@echo '  make test-full      make test, the installer AHCI and MegaRAID runs, check-knobs, make fuzz'
	@echo '  make check-knobs    each build knob rebuilds what it shapes, and only that'
	@echo 'Knobs: PRODUCT VERSION TARGET O= V=1 WERROR=1 ADMIN_PASSWORD_FILE CACHE'

# Generated header dependencies.
-include $(shell find $(BUILD) $(ASAN) -name '*.d' 2>/dev/null)
