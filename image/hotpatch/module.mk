# image/hotpatch: the hot-patch bundles (issue 9). `mkhotpatch` (host only)
# makes the signed Space-<release>-Hotpatch-vN.tgz from a patch definition
# of pkg/hotpatches/ and the packages rebuilt from the patched sources;
# image/hotpatch/hotpatch.mk has the make rules (make hotpatch HOTPATCH=N).
PROGRAMS += mkhotpatch
mkhotpatch_HOST_ONLY := 1
mkhotpatch_SRCS = image/hotpatch/main.c image/hotpatch/def.c image/hotpatch/tgz.c $(HOTPATCH_LIB_SRCS) \
	image/ova/sign.c $(LIBPKG_SRCS) $(LIBSPACE_SRCS)
mkhotpatch_LIBS = $(LIBPKG_LIBS) $(HOTPATCH_LIB_LIBS)


# layout, openssl checks, reproducibility, refusals; the tree's definitions apply
TOOL_TESTS += tests/tool/mkhotpatch.sh
