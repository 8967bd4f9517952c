# image/ova-verify: the one-command OVA verifier (C, OpenSSL, libxml2).
XML_CFLAGS := $(shell $(PKG_CONFIG) --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
XML_LIBS   := $(shell $(PKG_CONFIG) --libs libxml-2.0 2>/dev/null || echo -lxml2)
$(BUILD)/image/ova-verify/%.o: BASE_CFLAGS += $(XML_CFLAGS)
$(ASAN)/image/ova-verify/%.o: BASE_CFLAGS += $(XML_CFLAGS)

OVA_VERIFY_SRCS = image/ova-verify/verify.c image/ova-verify/verify_ova.c image/ova-verify/verify_release.c image/ova-verify/archive.c \
	image/ova-verify/stream.c image/ova/manifest.c image/ova/tar.c \
	image/vmdk/vmdk.c $(RELEASE_LIB_SRCS) $(LIBSPACE_SRCS)

PROGRAMS += ova-verify
# --sums (verify_sums.c): the signed checksum list of image/sums
ova-verify_SRCS = image/ova-verify/main.c image/ova-verify/verify_sums.c $(SUMS_LIB_SRCS) $(OVA_VERIFY_SRCS)
ova-verify_LIBS = $(CRYPTO_LIBS) $(DEFLATE_LIBS) $(XML_LIBS) $(RELEASE_LIBS) -lpthread

# `make fuzz`: libFuzzer (clang) on the parsers that see untrusted OVA bytes:
# manifest, .cert file (+ PEM), VMDK header/descriptor/footer, tar header,
# the grain directory/table walk of `vmdk extract` (vmdk_extract), and the
# OVF descriptor check (ovf: libxml2, our References/DiskSection walk and
# the cross checks of ov_finish() against the members it names).
# Each is `make fuzz-NAME` (recipes in the Makefile), seeds in fuzz/corpus/NAME.
OVA_FUZZ_TARGETS := manifest cert vmdk tar vmdk_extract ovf
fuzz_manifest_SRCS := image/ova/manifest.c $(LIBSPACE_SRCS)
fuzz_cert_SRCS     := image/ova/manifest.c $(LIBSPACE_SRCS)
fuzz_vmdk_SRCS     := image/vmdk/vmdk.c $(LIBSPACE_SRCS)
fuzz_tar_SRCS      := image/ova/tar.c image/ova/manifest.c $(LIBSPACE_SRCS)
fuzz_vmdk_extract_SRCS := image/vmdk/vmdk.c $(LIBSPACE_SRCS)
# recursive (=): RELEASE_LIB_SRCS comes from image/release, included later
fuzz_ovf_SRCS       = $(sort $(OVA_VERIFY_SRCS))
fuzz_ovf_CFLAGS     = $(XML_CFLAGS)
fuzz_ovf_LIBS       = $(XML_LIBS) $(RELEASE_LIBS) -lpthread
$(O)/fuzz/fuzz_ovf: $(wildcard image/ova-verify/*.[ch] image/release/*.[ch])

$(O)/fuzz/fuzz_%: image/ova-verify/fuzz/fuzz_%.c image/ova/manifest.c image/ova/tar.c image/vmdk/vmdk.c $(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(quiet) FUZZCC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(fuzz_$*_CFLAGS) -o $@ $< $(fuzz_$*_SRCS) $(CRYPTO_LIBS) $(DEFLATE_LIBS) \
		$(fuzz_$*_LIBS)

define ova_fuzz_target
.PHONY: fuzz-$(1)
fuzz: fuzz-$(1)
fuzz-$(1): $(O)/fuzz/fuzz_$(1)
	$$(call fuzz_run,$(1),image/ova-verify/fuzz/corpus/$(1),80000)
endef
$(foreach t,$(OVA_FUZZ_TARGETS),$(eval $(call ova_fuzz_target,$(t))))

UNIT_TESTS += test_ova_verify
test_ova_verify_SRCS = tests/unit/test_ova_verify.c $(OVA_VERIFY_SRCS) image/vmdk/vmdk_write.c \
	image/ova/sign.c image/ovf/ovf.c
test_ova_verify_LIBS = $(CRYPTO_LIBS) $(DEFLATE_LIBS) $(XML_LIBS) $(RELEASE_LIBS) -lpthread
$(ASAN)/tests/unit/test_ova_verify.o: BASE_CFLAGS += $(XML_CFLAGS)
