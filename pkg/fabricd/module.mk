# pkg/fabricd: the fabric's virtual-IP daemon (issue 10, item 2): heartbeats
# between the nodes, the VIP on the first live node, started by the watchdog
# on every node (pkg/watchdog/files/etc/watchdog.d/fabricd.conf).
# Of pkg/fabric (FABRIC_LIB_SRCS) only the configuration, conf.c: the rest
# of that list is the agent's HTTPS client, which would pull in libssl.
FABRICD_SRCS := pkg/fabricd/proto.c pkg/fabricd/vip.c
PROGRAMS += fabricd
fabricd_SRCS = pkg/fabricd/main.c pkg/fabricd/arp.c $(FABRICD_SRCS) pkg/fabric/conf.c \
	$(LIBMGMT_SRCS) $(LIBSPACE_SRCS)
fabricd_LIBS := $(CRYPTO_LIBS)
fabricd_INSTALL_DIR := /usr/sbin

# The state machine's every transition, the datagram codec, the peer table
# filled, the ARP frames.
UNIT_TESTS += test_fabricd
test_fabricd_SRCS = tests/unit/test_fabricd.c pkg/fabricd/arp.c $(FABRICD_SRCS) pkg/fabric/conf.c \
	$(LIBSPACE_SRCS)
test_fabricd_LIBS := $(CRYPTO_LIBS)

# Three nodes in network namespaces: claim, takeover, no pre-emption,
# forged and junk datagrams.
TOOL_TESTS += tests/tool/fabricd.sh
# VIP takeover time against the configured takeover (make bench).
BENCHES += tests/bench/fabricd.sh

# `make fuzz`: the heartbeat datagram (from the network, before it is
# trusted) through the peer table, and the ARP frames read while probing.
.PHONY: fuzz fuzz-fabricd_proto fuzz-fabricd_arp
fuzz: fuzz-fabricd_proto fuzz-fabricd_arp
$(O)/fuzz/fuzz_fabricd_proto: pkg/fabricd/fuzz/fuzz_fabricd_proto.c pkg/fabricd/proto.c pkg/fabric/conf.c \
		$(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-fabricd_proto: $(O)/fuzz/fuzz_fabricd_proto
	$(call fuzz_run,fabricd_proto,pkg/fabricd/fuzz/corpus/proto,256)
$(O)/fuzz/fuzz_fabricd_arp: pkg/fabricd/fuzz/fuzz_fabricd_arp.c pkg/fabricd/arp.c $(LIBSPACE_SRCS) \
		| $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-fabricd_arp: $(O)/fuzz/fuzz_fabricd_arp
	$(call fuzz_run,fabricd_arp,pkg/fabricd/fuzz/corpus/arp,128)
