# pkg/lib: shared C helpers (util.c); linked into every program.
UNIT_TESTS += test_util
test_util_SRCS := tests/unit/test_util.c $(LIBSPACE_SRCS)
test_util_LIBS := $(CRYPTO_LIBS)
