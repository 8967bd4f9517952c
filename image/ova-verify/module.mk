# image/ova-verify: the one-command OVA verifier (C, OpenSSL, libxml2).
XML_CFLAGS := $(shell $(PKG_CONFIG) --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
XML_LIBS   := $(shell $(PKG_CONFIG) --libs libxml-2.0 2>/dev/null || echo -lxml2)
$(BUILD)/image/ova-verify/%.o: BASE_CFLAGS += $(XML_CFLAGS)
$(ASAN)/image/ova-verify/%.o: BASE_CFLAGS += $(XML_CFLAGS)

OVA_VERIFY_SRCS = image/ova-verify/verify.c image/ova-verify/verify_release.c image/ova-verify/archive.c \
	image/ova-verify/stream.c image/ova/manifest.c image/ova/tar.c \
	image/vmdk/vmdk.c $(RELEASE_LIB_SRCS) $(LIBSPACE_SRCS)

PROGRAMS += ova-verify
ova-verify_SRCS = image/ova-verify/main.c $(OVA_VERIFY_SRCS)
ova-verify_LIBS = $(CRYPTO_LIBS) $(DEFLATE_LIBS) $(XML_LIBS) $(RELEASE_LIBS) -lpthread

# `make fuzz`: libFuzzer (clang) on the parsers that see untrusted OVA bytes:
# manifest, .cert file (+ PEM), VMDK header/descriptor/footer, tar header,
# the grain directory/table walk of `vmdk extract` (vmdk_extract), and the
# OVF descriptor check (ovf: libxml2, our References/DiskSection walk and
# the cross checks of ov_finish() against the members it names).
# Each runs FUZZ_TIME seconds from the committed seeds in fuzz/corpus/;
# a crash leaves its input in $(O)/fuzz/artifacts and fails the target.
FUZZ_CC      ?= clang
FUZZ_TIME    ?= 25
FUZZ_TARGETS := manifest cert vmdk tar vmdk_extract ovf
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_GNU_SOURCE -Ipkg/lib $(PC_CFLAGS)
fuzz_manifest_SRCS := image/ova/manifest.c $(LIBSPACE_SRCS)
fuzz_cert_SRCS     := image/ova/manifest.c $(LIBSPACE_SRCS)
fuzz_vmdk_SRCS     := image/vmdk/vmdk.c $(LIBSPACE_SRCS)
fuzz_tar_SRCS      := image/ova/tar.c image/ova/manifest.c $(LIBSPACE_SRCS)
fuzz_vmdk_extract_SRCS := image/vmdk/vmdk.c $(LIBSPACE_SRCS)
# recursive (=): RELEASE_LIB_SRCS comes from image/release, included later
fuzz_ovf_SRCS       = $(sort $(OVA_VERIFY_SRCS))
fuzz_ovf_CFLAGS     = $(XML_CFLAGS) -Ipkg
fuzz_ovf_LIBS       = $(XML_LIBS) $(RELEASE_LIBS) -lpthread
$(O)/fuzz/fuzz_ovf: $(wildcard image/ova-verify/*.[ch] image/release/*.[ch])

$(O)/fuzz/fuzz_%: image/ova-verify/fuzz/fuzz_%.c image/ova/manifest.c image/ova/tar.c image/vmdk/vmdk.c $(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(quiet) FUZZCC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(fuzz_$*_CFLAGS) -o $@ $< $(fuzz_$*_SRCS) $(CRYPTO_LIBS) $(DEFLATE_LIBS) \
		$(fuzz_$*_LIBS)

.PHONY: fuzz
fuzz: $(addprefix $(O)/fuzz/fuzz_,$(FUZZ_TARGETS))
	$(Q)mkdir -p $(O)/fuzz/artifacts
	$(Q)for t in $(FUZZ_TARGETS); do \
		mkdir -p $(O)/fuzz/corpus/$$t && cp image/ova-verify/fuzz/corpus/$$t/* $(O)/fuzz/corpus/$$t/ && \
		echo "== fuzz $$t ($(FUZZ_TIME) s)" && \
		if $(O)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -max_len=80000 -print_final_stats=1 \
			-artifact_prefix=$(O)/fuzz/artifacts/$$t- $(O)/fuzz/corpus/$$t > $(O)/fuzz/$$t.log 2>&1; then \
			grep -E 'stat::number_of_executed_units|stat::new_units_added' $(O)/fuzz/$$t.log; \
		else \
			grep -A30 -E '^==[0-9]+==ERROR|runtime error|deadly signal' $(O)/fuzz/$$t.log | head -40; \
			echo "fuzz $$t: crash, input in $(O)/fuzz/artifacts, log $(O)/fuzz/$$t.log"; exit 1; \
		fi; \
	done

UNIT_TESTS += test_ova_verify
test_ova_verify_SRCS = tests/unit/test_ova_verify.c $(OVA_VERIFY_SRCS) image/vmdk/vmdk_write.c \
	image/ova/sign.c image/ovf/ovf.c
test_ova_verify_LIBS = $(CRYPTO_LIBS) $(DEFLATE_LIBS) $(XML_LIBS) $(RELEASE_LIBS) -lpthread
$(ASAN)/tests/unit/test_ova_verify.o: BASE_CFLAGS += $(XML_CFLAGS)
