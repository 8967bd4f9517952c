# image/sums: the signed checksum list of a release's downloads (sums.h).
# `mksums` hashes the outputs and signs the list with the OVA's signing
# code (image/ova/sign.c); ova-verify --sums checks it (verify_sums.c);
# image/sums.mk makes $(O)/$(PRODUCT)-$(VERSION).sha256sums in `make`.
SUMS_LIB_SRCS := image/sums/sums.c

PROGRAMS += mksums
mksums_SRCS = image/sums/main.c $(SUMS_LIB_SRCS) image/ova/sign.c image/ova/manifest.c $(LIBSPACE_SRCS)
mksums_LIBS = $(CRYPTO_LIBS) -lpthread

UNIT_TESTS += test_sums
test_sums_SRCS = tests/unit/test_sums.c $(SUMS_LIB_SRCS) image/ova/manifest.c $(LIBSPACE_SRCS)
test_sums_LIBS = $(CRYPTO_LIBS) -lpthread

TOOL_TESTS += tests/tool/sums.sh
# the make step (mksums -j2 + ova-verify --sums) against sha256sum
BENCHES += tests/bench/sums.sh

# `make fuzz`: the list parser (ova-verify --sums parses a downloaded list),
# from the kept seeds in fuzz/corpus/sums.
# -max_len past the parser's bound (64 lines of 167 bytes) to reach its refusal.
SUMS_FUZZ_MAX_LEN := 12000
.PHONY: fuzz-sums
fuzz: fuzz-sums
$(O)/fuzz/fuzz_sums: image/sums/fuzz/fuzz_sums.c $(SUMS_LIB_SRCS) image/ova/manifest.c $(LIBSPACE_SRCS) \
		| $(O)/stamp/test-deps
	$(fuzz_build)
$(O)/fuzz/fuzz_sums: fuzz_LIBS := -lpthread
fuzz-sums: $(O)/fuzz/fuzz_sums
	$(call fuzz_run,sums,image/sums/fuzz/corpus/sums,$(SUMS_FUZZ_MAX_LEN))
