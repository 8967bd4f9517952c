# pkg/mgmtd: the management API daemon (HTTPS, JSON REST under /api/v1).
PROGRAMS += mgmtd
MGMTD_LIB_SRCS := pkg/mgmtd/api.c pkg/mgmtd/auth.c pkg/mgmtd/conf.c pkg/mgmtd/throttle.c pkg/mgmtd/tls.c
mgmtd_SRCS = pkg/mgmtd/main.c $(MGMTD_LIB_SRCS) $(LIBMGMT_SRCS) $(LIBSPACE_SRCS)
mgmtd_LIBS := $(SSL_LIBS) -lcrypt
mgmtd_INSTALL_DIR := /usr/sbin

UNIT_TESTS += test_mgmtd
test_mgmtd_SRCS = tests/unit/test_mgmtd.c $(MGMTD_LIB_SRCS) $(LIBMGMT_SRCS) $(LIBSPACE_SRCS)
test_mgmtd_LIBS := $(SSL_LIBS) -lcrypt

TOOL_TESTS += tests/tool/mgmtd.sh
BENCHES += tests/bench/mgmtd.sh

# `make fuzz` also runs mgmtd's HTTP request-head parser (libmgmt/http.c)
# under libFuzzer: FUZZ_TIME s from the seeds in pkg/mgmtd/fuzz/corpus/http;
# a crash leaves its input in $(O)/fuzz/artifacts and fails the target.
MGMTD_FUZZ_TIME ?= $(or $(FUZZ_TIME),25)
$(O)/fuzz/fuzz_http: pkg/mgmtd/fuzz/fuzz_http.c pkg/libmgmt/http.c | $(O)/stamp/test-deps
	$(quiet) FUZZCC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(or $(FUZZ_CC),clang) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -D_GNU_SOURCE -Ipkg -Ipkg/lib -o $@ $^

.PHONY: fuzz fuzz-mgmtd
fuzz: fuzz-mgmtd
fuzz-mgmtd: $(O)/fuzz/fuzz_http
	$(Q)mkdir -p $(O)/fuzz/artifacts $(O)/fuzz/corpus/http
	$(Q)cp pkg/mgmtd/fuzz/corpus/http/* $(O)/fuzz/corpus/http/
	@echo "== fuzz http ($(MGMTD_FUZZ_TIME) s)"
	$(Q)if $< -max_total_time=$(MGMTD_FUZZ_TIME) -max_len=4096 -print_final_stats=1 \
		-artifact_prefix=$(O)/fuzz/artifacts/http- $(O)/fuzz/corpus/http \
		> $(O)/fuzz/http.log 2>&1; then \
		grep -E 'stat::number_of_executed_units|stat::new_units_added' $(O)/fuzz/http.log; \
	else \
		grep -A30 -E '^==[0-9]+==ERROR|runtime error|deadly signal' $(O)/fuzz/http.log | head -40; \
		echo "fuzz http: crash, input in $(O)/fuzz/artifacts, log $(O)/fuzz/http.log"; exit 1; \
	fi
