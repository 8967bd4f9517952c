# pkg/spacectl: the admin CLI.
PROGRAMS += spacectl
# upgrade: the release verifier (no libxml2: verify_ova.c is the OVA's
# part), the slot writer and the boot state (image/). Recursive (=):
# RELEASE_LIB_SRCS comes from image/release, included later.
SPACECTL_UPGRADE_SRCS = image/ova-verify/verify.c image/ova-verify/verify_release.c \
	image/ova-verify/archive.c image/ova-verify/stream.c image/ova/tar.c image/release/slotwrite.c \
	image/lib/bootenv.c $(RELEASE_LIB_SRCS)
# (main.c first: rootfs.mk packages the programs whose first source is in pkg/)
spacectl_SRCS = pkg/spacectl/main.c $(sort pkg/spacectl/backup.c pkg/spacectl/fabric.c pkg/spacectl/fabric_upgrade.c $(FABRIC_LIB_SRCS) pkg/spacectl/hotpatch.c pkg/spacectl/node.c \
	pkg/spacectl/upgrade.c $(SPACECTL_UPGRADE_SRCS) $(HOTPATCH_STATE_SRCS) $(APPS_SRCS) $(LIBMGMT_SRCS) \
	$(LIBSPACE_SRCS))
spacectl_LIBS = $(ARCHIVE_LIBS) $(SSL_LIBS) $(CRYPTO_LIBS) $(ZSTD_LIBS) $(ZLIB_LIBS) -lpthread -lm

# The reader of a node's hot-patch state (pkg/hotpatch/state.h), shared by
# spacectl (show hotpatches) and mgmtd (GET /api/v1/hotpatches, the apply
# job). Recursive: HOTPATCH_LIB_SRCS (the manifest parser) is pkg/hotpatch's.
HOTPATCH_STATE_SRCS = pkg/hotpatch/state.c pkg/libmgmt/release.c pkg/lib/json.c $(HOTPATCH_LIB_SRCS)
UNIT_TESTS += test_hotpatch_state
test_hotpatch_state_SRCS = tests/unit/test_hotpatch_state.c $(HOTPATCH_STATE_SRCS) $(LIBSPACE_SRCS)
test_hotpatch_state_LIBS = $(HOTPATCH_LIB_LIBS)

TOOL_TESTS += tests/tool/spacectl.sh
TOOL_TESTS += tests/tool/upgrade.sh
BENCHES += tests/bench/upgrade.sh

# the trust anchor of `spacectl upgrade`: the root CA the images are signed under
spacectl_EXTRA_FILES = $(OVA_ROOT_CA):etc/space/root-ca.pem
