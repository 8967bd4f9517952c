# pkg/libpkg: the package format library (metadata, build, install,
# verify, database). Programs link $(LIBPKG_SRCS) with $(LIBPKG_LIBS).
LIBPKG_SRCS := $(wildcard pkg/libpkg/*.c)
LIBPKG_LIBS := $(ARCHIVE_LIBS) $(CRYPTO_LIBS) $(DEFLATE_LIBS)

UNIT_TESTS += test_pkg_meta test_pkg
test_pkg_meta_SRCS := tests/unit/test_pkg_meta.c $(LIBPKG_SRCS) $(LIBSPACE_SRCS)
test_pkg_meta_LIBS := $(LIBPKG_LIBS)
test_pkg_SRCS := tests/unit/test_pkg.c $(LIBPKG_SRCS) $(LIBSPACE_SRCS)
test_pkg_LIBS := $(LIBPKG_LIBS)

# `make fuzz` also runs the .PKGINFO parser under libFuzzer (FUZZ_TIME s,
# seeds in pkg/libpkg/fuzz/corpus; a crash fails the target).
PKG_FUZZ_TIME ?= $(or $(FUZZ_TIME),25)
$(O)/fuzz/fuzz_pkg_meta: pkg/libpkg/fuzz/fuzz_pkg_meta.c $(LIBPKG_SRCS) $(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(quiet) FUZZCC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(or $(FUZZ_CC),clang) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -D_GNU_SOURCE -Ipkg/lib $(PC_CFLAGS) -o $@ $^ $(LIBPKG_LIBS)

.PHONY: fuzz fuzz-pkg
fuzz: fuzz-pkg
fuzz-pkg: $(O)/fuzz/fuzz_pkg_meta
	$(Q)mkdir -p $(O)/fuzz/artifacts $(O)/fuzz/corpus/pkg_meta
	$(Q)cp pkg/libpkg/fuzz/corpus/* $(O)/fuzz/corpus/pkg_meta/
	@echo "== fuzz pkg_meta ($(PKG_FUZZ_TIME) s)"
	$(Q)if $< -max_total_time=$(PKG_FUZZ_TIME) -max_len=4096 -print_final_stats=1 \
		-artifact_prefix=$(O)/fuzz/artifacts/pkg_meta- $(O)/fuzz/corpus/pkg_meta \
		> $(O)/fuzz/pkg_meta.log 2>&1; then \
		grep -E 'stat::number_of_executed_units|stat::new_units_added' $(O)/fuzz/pkg_meta.log; \
	else \
		grep -A30 -E '^==[0-9]+==ERROR|runtime error|deadly signal' $(O)/fuzz/pkg_meta.log | head -40; \
		echo "fuzz pkg_meta: crash, input in $(O)/fuzz/artifacts, log $(O)/fuzz/pkg_meta.log"; exit 1; \
	fi
