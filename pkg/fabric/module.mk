# pkg/fabric: the fabric's shared code (issue 10): its configuration file
# (conf.c). Linked by spacectl, fabricd and the fabric agent: add
# $(FABRIC_LIB_SRCS) to their sources.
FABRIC_LIB_SRCS := pkg/fabric/conf.c

UNIT_TESTS += test_fabric_conf
test_fabric_conf_SRCS := tests/unit/test_fabric_conf.c $(FABRIC_LIB_SRCS) $(LIBSPACE_SRCS)
test_fabric_conf_LIBS := $(CRYPTO_LIBS)

# `make fuzz`: a copy of the configuration arrives from the VIP node.
.PHONY: fuzz-fabric_conf
fuzz: fuzz-fabric_conf
$(O)/fuzz/fuzz_fabric_conf: pkg/fabric/fuzz/fuzz_fabric_conf.c $(FABRIC_LIB_SRCS) $(LIBSPACE_SRCS) \
		| $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-fabric_conf: $(O)/fuzz/fuzz_fabric_conf
	$(call fuzz_run,fabric_conf,pkg/fabric/fuzz/corpus,16384)
