# pkg/hotpatch: hot patches (issue 9): Space-<release>-Hotpatch-vN.tgz.

# ---------------------------------------------------------------- library
# The bundle manifest (manifest.h: parser, formatter, name and level
# helpers), shared by the node tool `hotpatch` and the host tool
# `mkhotpatch` (image/hotpatch). Users add $(HOTPATCH_LIB_SRCS) to their
# sources and $(HOTPATCH_LIB_LIBS) to their libraries (duplicates with
# other lists are harmless: the link takes $^). What manifest.c needs:
# the release version grammar (image/release), the kv parser and buffer
# (pkg/libmgmt), the package token and path rules (pkg/libpkg meta.c, with
# fs.c for the helpers meta.c calls).
HOTPATCH_LIB_SRCS := pkg/hotpatch/manifest.c image/release/release.c image/ova/manifest.c \
	pkg/lib/kv.c pkg/lib/buf.c pkg/libpkg/meta.c pkg/libpkg/fs.c
HOTPATCH_LIB_LIBS := $(CRYPTO_LIBS)
# manifest.c includes "kv.h" and "libpkg/libpkg.h"

UNIT_TESTS += test_hotpatch_manifest
test_hotpatch_manifest_SRCS = tests/unit/test_hotpatch_manifest.c $(HOTPATCH_LIB_SRCS) $(LIBSPACE_SRCS)
test_hotpatch_manifest_LIBS = $(HOTPATCH_LIB_LIBS)

# `make fuzz`: the manifest parser (the node parses a manifest only once
# its signature verified, mkhotpatch parses definitions: still outside
# input to the parser), from the kept
# seeds in fuzz/corpus. -max_len past HP_MANIFEST_MAX to reach its refusal.
.PHONY: fuzz-hotpatch_manifest
fuzz: fuzz-hotpatch_manifest
$(O)/fuzz/fuzz_hotpatch_manifest: pkg/hotpatch/fuzz/fuzz_hotpatch_manifest.c $(HOTPATCH_LIB_SRCS) \
		$(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-hotpatch_manifest: $(O)/fuzz/fuzz_hotpatch_manifest
	$(call fuzz_run,hotpatch_manifest,pkg/hotpatch/fuzz/corpus,70000)

# and the .tgz unpacking (extract.c), which runs as root on the bytes an
# operator copied in, before any signature can be checked: each input is
# unpacked into a fresh directory and what comes out is checked (plain
# files and directories below it, within the bounds). Seeds: a bundle, a
# '..' member, a symlink member.
.PHONY: fuzz-hotpatch_extract
fuzz: fuzz-hotpatch_extract
$(O)/fuzz/fuzz_hotpatch_extract: fuzz_LIBS = $(ARCHIVE_LIBS)
$(O)/fuzz/fuzz_hotpatch_extract: pkg/hotpatch/fuzz/fuzz_hotpatch_extract.c pkg/hotpatch/extract.c \
		$(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-hotpatch_extract: $(O)/fuzz/fuzz_hotpatch_extract
	$(call fuzz_run,hotpatch_extract,pkg/hotpatch/fuzz/extract-corpus,65536)

# ---------------------------------------------------------------- program
# (the node tool `hotpatch`: below this line)
PROGRAMS += hotpatch
hotpatch_INSTALL_DIR := /usr/sbin
# The signature checks are ova-verify's (verify.c, and verify_sums.c for a
# file signed like the checksum list); packages go in through libpkg.
# Recursive (=): the lists come from modules included later.
hotpatch_SRCS = pkg/hotpatch/main.c $(sort pkg/hotpatch/apply.c pkg/hotpatch/backup.c pkg/hotpatch/bundle.c pkg/hotpatch/fabric.c $(FABRIC_LIB_SRCS) \
	pkg/hotpatch/extract.c pkg/hotpatch/fault.c pkg/hotpatch/state.c $(HOTPATCH_LIB_SRCS) $(SPACECTL_UPGRADE_SRCS) \
	image/ova-verify/verify_sums.c $(SUMS_LIB_SRCS) $(LIBPKG_SRCS) $(LIBMGMT_SRCS) $(LIBSPACE_SRCS))
hotpatch_LIBS = $(ARCHIVE_LIBS) $(SSL_LIBS) $(CRYPTO_LIBS) $(ZSTD_LIBS) $(ZLIB_LIBS) $(LIBPKG_LIBS) -lpthread -lm

TOOL_TESTS += tests/tool/hotpatch.sh
BENCHES += tests/bench/hotpatch.sh
