# image/sbom: `mksbom`, the SPDX 2.3 document of the root tree (sbom.h),
# from its package database, the .pkg files, pkg/debs.lock and each .deb's
# control data and DEP-5 copyright file (deb822.h, dep5.h). The make rules
# that run it are in image/sbom/sbom.mk.
SBOM_LIB_SRCS := image/sbom/deb822.c image/sbom/dep5.c pkg/lib/buf.c

PROGRAMS += mksbom
mksbom_HOST_ONLY := 1
mksbom_SRCS = image/sbom/main.c image/sbom/sbom.c $(SBOM_LIB_SRCS) pkg/lib/json.c pkg/debs/lock.c \
	$(LIBPKG_SRCS) $(LIBSPACE_SRCS)
mksbom_LIBS = $(LIBPKG_LIBS)

UNIT_TESTS += test_sbom
test_sbom_SRCS = tests/unit/test_sbom.c $(SBOM_LIB_SRCS) $(LIBSPACE_SRCS)
test_sbom_LIBS = $(CRYPTO_LIBS)

TOOL_TESTS += tests/tool/sbom.sh

# `make fuzz`: the deb822 and DEP-5 parsers and the license mapping (the
# control data and copyright files of the Debian packages), from the kept
# seeds in fuzz/corpus. -max_len past a large real copyright file.
.PHONY: fuzz-dep5
fuzz: fuzz-dep5
$(O)/fuzz/fuzz_dep5: image/sbom/fuzz/fuzz_dep5.c $(SBOM_LIB_SRCS) $(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-dep5: $(O)/fuzz/fuzz_dep5
	$(call fuzz_run,dep5,image/sbom/fuzz/corpus,65536)
