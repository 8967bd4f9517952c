# pkg/fabric-agent: what a fabric node lets the other nodes do to it (the
# forced command of their SSH keys; mgmtd runs `accept` when a node joins).
PROGRAMS += fabric-agent
fabric-agent_SRCS = pkg/fabric-agent/main.c $(FABRIC_LIB_SRCS) $(HOTPATCH_STATE_SRCS) $(LIBMGMT_SRCS) $(LIBSPACE_SRCS)
fabric-agent_LIBS = $(SSL_LIBS) $(CRYPTO_LIBS)
fabric-agent_INSTALL_DIR := /usr/sbin

TOOL_TESTS += tests/tool/fabric-agent.sh
