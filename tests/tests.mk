# tests/tests.mk - how `make test` runs every kind of test.
#   UNIT_TESTS  C programs built with ASan+UBSan (tests/unit), TAP output
#   TOOL_TESTS  shell scripts run on the host (tests/tool), get O and BIN
#   E2E_TESTS   QEMU boot tests (tests/e2e)
.PHONY: test test-unit test-tool test-image test-e2e bench test-full

test: test-unit test-tool test-image test-e2e

test-unit: $(addprefix $(O)/tests/unit/,$(UNIT_TESTS))
	$(Q)fail=0; for t in $^; do \
		echo "== $$t"; \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t || fail=1; \
	done; exit $$fail

test-tool: programs
	$(Q)fail=0; for t in $(TOOL_TESTS); do \
		echo "== $$t"; \
		O=$(O) BIN=$(BIN) TOP=$(TOP) PRODUCT=$(PRODUCT) VERSION=$(VERSION) \
			bash $$t || { echo "FAIL: $$t"; fail=1; }; \
	done; exit $$fail

# BENCHES: scripts that print "name: figure (ratio vs baseline)" lines.
bench: programs
	$(Q)for b in $(BENCHES); do \
		echo "== $$b"; \
		O=$(O) BIN=$(BIN) TOP=$(TOP) CACHE=$(CACHE) bash $$b || exit 1; \
	done
