# pkg/devgate: the device communication gate (TCP 7804), blocked and
# unblocked through mgmtd and spacectl; started by the watchdog.
PROGRAMS += devgate
devgate_SRCS = pkg/devgate/main.c pkg/devgate/proto.c $(LIBMGMT_SRCS) $(LIBSPACE_SRCS)
devgate_LIBS := $(CRYPTO_LIBS)
devgate_INSTALL_DIR := /usr/sbin

UNIT_TESTS += test_devgate
test_devgate_SRCS := tests/unit/test_devgate.c pkg/devgate/proto.c

# Connection floods, fd exhaustion, hello and idle timeouts.
TOOL_TESTS += tests/tool/devgate.sh

# `make fuzz` runs the device line protocol parser (proto.c) from the kept
# seeds in pkg/devgate/fuzz/corpus (recipes in the Makefile).
.PHONY: fuzz fuzz-devgate_proto
fuzz: fuzz-devgate_proto
$(O)/fuzz/fuzz_devgate_proto: pkg/devgate/fuzz/fuzz_devgate_proto.c pkg/devgate/proto.c \
		| $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-devgate_proto: $(O)/fuzz/fuzz_devgate_proto
	$(call fuzz_run,devgate_proto,pkg/devgate/fuzz/corpus,4096)
