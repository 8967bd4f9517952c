# pkg/libmgmt: code shared by watchdog, mgmtd, devgate and spacectl (byte
# buffer, JSON writer/reader, HTTP request parser, session and lockout
# tables, KEY=VALUE config parser, control socket, release inventory,
# housekeeping). Linked into those programs; no program of its own.
LIBMGMT_SRCS := $(filter-out pkg/libmgmt/apps.c,$(wildcard pkg/libmgmt/*.c))

# The application check (apps.h) reads package records and the release's
# application table, so it needs the metadata parser and the release
# library: a program that calls it adds $(APPS_SRCS) to its sources
# (duplicates with other lists are harmless: the link takes $^).
APPS_SRCS = pkg/libmgmt/apps.c pkg/libpkg/meta.c pkg/libpkg/fs.c image/release/release.c \
	image/ova/manifest.c

UNIT_TESTS += test_apps
test_apps_SRCS = tests/unit/test_apps.c $(APPS_SRCS) $(LIBMGMT_SRCS) $(LIBSPACE_SRCS)
test_apps_LIBS := $(CRYPTO_LIBS)

UNIT_TESTS += test_libmgmt
test_libmgmt_SRCS := tests/unit/test_libmgmt.c $(LIBMGMT_SRCS) $(LIBSPACE_SRCS)
test_libmgmt_LIBS := $(CRYPTO_LIBS)

UNIT_TESTS += test_sntp
test_sntp_SRCS := tests/unit/test_sntp.c pkg/libmgmt/sntp.c $(LIBSPACE_SRCS)
test_sntp_LIBS := $(CRYPTO_LIBS)

.PHONY: fuzz fuzz-sntp
fuzz: fuzz-sntp
# The SNTP answer check (spacectl upgrade asks a time server before an
# upgrade): a UDP datagram from the network, parsed before it is trusted.
$(O)/fuzz/fuzz_sntp: pkg/libmgmt/fuzz/fuzz_sntp.c pkg/libmgmt/sntp.c $(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-sntp: $(O)/fuzz/fuzz_sntp
	$(call fuzz_run,sntp,pkg/libmgmt/fuzz/corpus/sntp,128)
