# pkg/lib: shared C helpers (errors, exit codes, util, fd I/O, digests,
# byte buffer, JSON, KEY=VALUE parser); linked into every program.
UNIT_TESTS += test_util
test_util_SRCS := tests/unit/test_util.c $(LIBSPACE_SRCS)
test_util_LIBS := $(CRYPTO_LIBS)
# the JSON writer/reader and the KEY=VALUE parser (their tests came with
# them from pkg/libmgmt's test_libmgmt.c)
UNIT_TESTS += test_json test_kv
test_json_SRCS := tests/unit/test_json.c $(LIBSPACE_SRCS)
test_json_LIBS := $(CRYPTO_LIBS)
test_kv_SRCS := tests/unit/test_kv.c $(LIBSPACE_SRCS)
test_kv_LIBS := $(CRYPTO_LIBS)
UNIT_TESTS += test_run_pipe
test_run_pipe_SRCS := tests/unit/test_run_pipe.c $(LIBSPACE_SRCS)
test_run_pipe_LIBS := $(CRYPTO_LIBS)

# The exit-code contract of every tool (README "Exit codes").
TOOL_TESTS += tests/tool/exitcodes.sh

# `make fuzz` (recipes in the Makefile): the JSON reader (mgmtd parses a
# login body before authentication) and the KEY=VALUE parser (every
# configuration, manifest and release file).
.PHONY: fuzz fuzz-json fuzz-kv
fuzz: fuzz-json fuzz-kv
$(O)/fuzz/fuzz_json: pkg/lib/fuzz/fuzz_json.c pkg/lib/json.c pkg/lib/buf.c \
		$(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-json: $(O)/fuzz/fuzz_json
	$(call fuzz_run,json,pkg/lib/fuzz/corpus/json,65536)
$(O)/fuzz/fuzz_kv: pkg/lib/fuzz/fuzz_kv.c pkg/lib/kv.c pkg/lib/buf.c \
		$(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-kv: $(O)/fuzz/fuzz_kv
	$(call fuzz_run,kv,pkg/lib/fuzz/corpus/kv,65536)
