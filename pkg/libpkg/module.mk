# pkg/libpkg: the package format library (metadata, build, install,
# verify, database). Programs link $(LIBPKG_SRCS) with $(LIBPKG_LIBS).
LIBPKG_SRCS := $(wildcard pkg/libpkg/*.c)
LIBPKG_LIBS := $(ARCHIVE_LIBS) $(CRYPTO_LIBS) $(DEFLATE_LIBS)

UNIT_TESTS += test_pkg_meta test_pkg
test_pkg_meta_SRCS := tests/unit/test_pkg_meta.c $(LIBPKG_SRCS) $(LIBSPACE_SRCS)
test_pkg_meta_LIBS := $(LIBPKG_LIBS)
test_pkg_SRCS := tests/unit/test_pkg.c $(LIBPKG_SRCS) $(LIBSPACE_SRCS)
test_pkg_LIBS := $(LIBPKG_LIBS)

# `make fuzz` also runs the .PKGINFO parser (recipes in the Makefile).
$(O)/fuzz/fuzz_pkg_meta: fuzz_LIBS = $(LIBPKG_LIBS)
$(O)/fuzz/fuzz_pkg_meta: pkg/libpkg/fuzz/fuzz_pkg_meta.c $(LIBPKG_SRCS) $(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(fuzz_build)
.PHONY: fuzz-pkg_meta
fuzz: fuzz-pkg_meta
fuzz-pkg_meta: $(O)/fuzz/fuzz_pkg_meta
	$(call fuzz_run,pkg_meta,pkg/libpkg/fuzz/corpus,4096)
