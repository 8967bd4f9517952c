# pkg/nicname: fixed NIC names by PCI path at boot (rcS), from the per-target
# table /etc/nicname.conf (pkg/nicname/files); the JA2500's four onboard
# ports become eth0..eth3 (pkg/nicname/README.md).
PROGRAMS += nicname
nicname_SRCS = pkg/nicname/main.c pkg/nicname/nicname.c $(LIBSPACE_SRCS)
nicname_LIBS = $(CRYPTO_LIBS)
nicname_INSTALL_DIR := /usr/sbin

UNIT_TESTS += test_nicname
test_nicname_SRCS := tests/unit/test_nicname.c pkg/nicname/nicname.c $(LIBSPACE_SRCS)
test_nicname_LIBS := $(CRYPTO_LIBS)

# The real renames (SIOCSIFNAME) in a network namespace, against a sysfs
# tree that puts its interfaces at PCI paths.
TOOL_TESTS += tests/tool/nicname.sh

# `make fuzz` runs the table parser (the shipped table is the seed corpus's
# start) from the kept seeds in pkg/nicname/fuzz/corpus.
.PHONY: fuzz-nicname_conf
fuzz: fuzz-nicname_conf
$(O)/fuzz/fuzz_nicname_conf: pkg/nicname/fuzz/fuzz_nicname_conf.c pkg/nicname/nicname.c $(LIBSPACE_SRCS) \
		| $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-nicname_conf: $(O)/fuzz/fuzz_nicname_conf
	$(call fuzz_run,nicname_conf,pkg/nicname/fuzz/corpus,20000)
