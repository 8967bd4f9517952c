# pkg/libmgmt: code shared by watchdog, mgmtd, devgate and spacectl (byte
# buffer, JSON writer/reader, HTTP request parser, session and lockout
# tables, KEY=VALUE config parser, control socket, release inventory,
# housekeeping). Linked into those programs; no program of its own.
LIBMGMT_SRCS := $(wildcard pkg/libmgmt/*.c)

UNIT_TESTS += test_libmgmt
test_libmgmt_SRCS := tests/unit/test_libmgmt.c $(LIBMGMT_SRCS) $(LIBSPACE_SRCS)
test_libmgmt_LIBS := $(CRYPTO_LIBS)

# The users of this library include "libmgmt/<module>.h"; -Ipkg is added
# only to their own objects so no other folder's include path changes.
MGMT_USER_DIRS := pkg/watchdog pkg/mgmtd pkg/spacectl pkg/devgate
$(foreach d,$(MGMT_USER_DIRS),$(BUILD)/$(d)/%.o $(ASAN)/$(d)/%.o) \
$(ASAN)/tests/unit/test_libmgmt.o $(ASAN)/tests/unit/test_watchdog.o \
$(ASAN)/tests/unit/test_mgmtd.o: BASE_CFLAGS += -Ipkg

# `make fuzz` also runs, under libFuzzer, the parsers of the management
# services that see outside input: the JSON reader (the login body is parsed
# before authentication) and the kv configuration parser here, the device
# line protocol in pkg/devgate/module.mk. Each runs MGMT_FUZZ_TIME seconds
# (default FUZZ_TIME, else 25) from its kept seeds in <folder>/fuzz/corpus/
# <name>, copied to $(O)/fuzz/corpus/<name> so the kept ones do not grow; a
# crash leaves its input in $(O)/fuzz/artifacts and fails the target.
# mgmt_fuzz_build and mgmt_fuzz_run are expanded in recipes, so any module.mk
# may use them whatever the include order.
MGMT_FUZZ_TIME ?= $(or $(FUZZ_TIME),25)
define mgmt_fuzz_build
	$(quiet) FUZZCC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(or $(FUZZ_CC),clang) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -D_GNU_SOURCE -Ipkg/lib -Ipkg $(PC_CFLAGS) -o $@ $^ $(CRYPTO_LIBS)
endef
# $(call mgmt_fuzz_run,NAME,SEED_DIR,MAX_LEN)
define mgmt_fuzz_run
	$(Q)mkdir -p $(O)/fuzz/artifacts $(O)/fuzz/corpus/$(1)
	$(Q)cp $(2)/* $(O)/fuzz/corpus/$(1)/
	@echo "== fuzz $(1) ($(MGMT_FUZZ_TIME) s)"
	$(Q)if $(O)/fuzz/fuzz_$(1) -max_total_time=$(MGMT_FUZZ_TIME) -max_len=$(3) -print_final_stats=1 \
		-artifact_prefix=$(O)/fuzz/artifacts/$(1)- $(O)/fuzz/corpus/$(1) > $(O)/fuzz/$(1).log 2>&1; then \
		grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added' \
			$(O)/fuzz/$(1).log; \
	else \
		grep -A30 -E '^==[0-9]+==ERROR|runtime error|deadly signal' $(O)/fuzz/$(1).log | head -40; \
		echo "fuzz $(1): crash, input in $(O)/fuzz/artifacts, log $(O)/fuzz/$(1).log"; exit 1; \
	fi
endef

.PHONY: fuzz fuzz-json fuzz-kv
fuzz: fuzz-json fuzz-kv
$(O)/fuzz/fuzz_json: pkg/libmgmt/fuzz/fuzz_json.c pkg/libmgmt/json.c pkg/libmgmt/buf.c \
		$(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(mgmt_fuzz_build)
fuzz-json: $(O)/fuzz/fuzz_json
	$(call mgmt_fuzz_run,json,pkg/libmgmt/fuzz/corpus/json,65536)
$(O)/fuzz/fuzz_kv: pkg/libmgmt/fuzz/fuzz_kv.c pkg/libmgmt/kv.c pkg/libmgmt/buf.c \
		$(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(mgmt_fuzz_build)
fuzz-kv: $(O)/fuzz/fuzz_kv
	$(call mgmt_fuzz_run,kv,pkg/libmgmt/fuzz/corpus/kv,65536)
