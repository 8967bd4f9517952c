# pkg/fabric: the fabric's shared code (issue 10): its configuration file
# (conf.c), the nodes' SSH keys and root's authorized_keys (keys.c), the
# join's one HTTPS call (https.c), this node's own addresses (local.c), an
# agent verb run on a node (rpc.c), and
# where it all lives (paths.h). Linked by spacectl, fabricd, fabric-agent
# and mgmtd: add $(FABRIC_LIB_SRCS) to their sources, $(SSL_LIBS) to their
# libraries.
FABRIC_LIB_SRCS := pkg/fabric/conf.c pkg/fabric/keys.c pkg/fabric/https.c pkg/fabric/local.c pkg/fabric/progress.c \
	pkg/fabric/rpc.c

UNIT_TESTS += test_fabric_conf
test_fabric_conf_SRCS := tests/unit/test_fabric_conf.c pkg/fabric/conf.c $(LIBSPACE_SRCS)
test_fabric_conf_LIBS := $(CRYPTO_LIBS)

# `make fuzz`: a copy of the configuration arrives from the VIP node.
.PHONY: fuzz-fabric_conf
fuzz: fuzz-fabric_conf
$(O)/fuzz/fuzz_fabric_conf: pkg/fabric/fuzz/fuzz_fabric_conf.c pkg/fabric/conf.c $(LIBSPACE_SRCS) \
		| $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-fabric_conf: $(O)/fuzz/fuzz_fabric_conf
	$(call fuzz_run,fabric_conf,pkg/fabric/fuzz/corpus,16384)

# `make fuzz`: what a peer sends outside the configuration (the nodes'
# keys, a public key, a peer mgmtd's HTTPS response).
.PHONY: fuzz-fabric_peer
fuzz: fuzz-fabric_peer
$(O)/fuzz/fuzz_fabric_peer: fuzz_LIBS = $(SSL_LIBS)
$(O)/fuzz/fuzz_fabric_peer: pkg/fabric/fuzz/fuzz_fabric_peer.c $(FABRIC_LIB_SRCS) $(LIBSPACE_SRCS) \
		| $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-fabric_peer: $(O)/fuzz/fuzz_fabric_peer
	$(call fuzz_run,fabric_peer,pkg/fabric/fuzz/corpus-peer,16384)

# The fabric as a whole, in QEMU (tests/e2e/test_fabric.py): its patch time,
# the device windows, the VIP takeover.
BENCHES += tests/bench/fabric.sh
