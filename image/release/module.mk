# image/release: the signed release image <product>-<ver>.img (the root
# slot of the raw disk, zstd, behind a signed manifest) and the release
# library the upgrader links: manifest, version order, upgrade-path matrix,
# application table, streaming slot unpacker. ova-verify checks the image.
#
#   mkrelease build --raw DISK.raw --out DIR --version VER --build ID --kernel KVER \
#       --targets 'kvm esxi ja2500' --paths image/release/upgrade-paths.conf \
#       --apps image/release/app-compat.conf (--pki DIR | --key K --cert C --chain CH)
ZSTD_LIBS := $(shell $(PKG_CONFIG) --libs libzstd 2>/dev/null || echo -lzstd)
RELEASE_PATHS := image/release/upgrade-paths.conf
RELEASE_APPS  := image/release/app-compat.conf

# The library: release.c needs pkg/libmgmt's kv parser (and its buffer),
# slot.c the GPT reader. Users add $(RELEASE_LIB_SRCS) and $(RELEASE_LIBS).
RELEASE_LIB_SRCS := image/release/release.c image/release/slot.c image/ova/manifest.c \
	pkg/lib/kv.c pkg/lib/buf.c image/lib/gpt.c image/lib/diskio.c image/lib/imgutil.c
RELEASE_LIBS := $(ZSTD_LIBS) $(CRYPTO_LIBS) $(ZLIB_LIBS)

PROGRAMS += mkrelease
mkrelease_SRCS = image/release/main.c $(RELEASE_LIB_SRCS) image/ova/tar.c image/ova/sign.c $(LIBSPACE_SRCS)
mkrelease_LIBS = $(RELEASE_LIBS)

UNIT_TESTS += test_release
test_release_SRCS = tests/unit/test_release.c $(RELEASE_LIB_SRCS) $(LIBSPACE_SRCS)
test_release_LIBS = $(RELEASE_LIBS)

# ova-verify's release mode as the upgrader drives it (a slot sink)
UNIT_TESTS += test_release_verify
test_release_verify_SRCS = tests/unit/test_release_verify.c $(OVA_VERIFY_SRCS) image/ova/sign.c
test_release_verify_LIBS = $(CRYPTO_LIBS) $(DEFLATE_LIBS) $(XML_LIBS) $(RELEASE_LIBS) -lpthread
$(ASAN)/tests/unit/test_release_verify.o: BASE_CFLAGS += $(XML_CFLAGS)

TOOL_TESTS += tests/tool/release.sh

# `make fuzz`: the manifest parser (ova-verify and the upgrader parse the
# manifest of an image before its signature is checked), from the kept
# seeds in fuzz/corpus/release-manifest.
.PHONY: fuzz-release-manifest
fuzz: fuzz-release-manifest
$(O)/fuzz/fuzz_release_manifest: image/release/fuzz/fuzz_manifest.c image/release/release.c \
		image/ova/manifest.c pkg/lib/kv.c pkg/lib/buf.c $(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-release-manifest: $(O)/fuzz/fuzz_release_manifest
	$(call fuzz_run,release_manifest,image/release/fuzz/corpus/release-manifest,65536)
