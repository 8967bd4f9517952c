# pkg/lib: shared C helpers (util.c); linked into every program.
UNIT_TESTS += test_util
test_util_SRCS := tests/unit/test_util.c $(LIBSPACE_SRCS)
test_util_LIBS := $(CRYPTO_LIBS)

# The exit-code contract of every tool (README "Exit codes").
TOOL_TESTS += tests/tool/exitcodes.sh
