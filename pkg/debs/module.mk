# pkg/debs: fetch and verify the pinned Debian packages (host build tool).
PROGRAMS += debs
debs_SRCS := pkg/debs/main.c pkg/debs/lock.c $(LIBSPACE_SRCS)
debs_LIBS := $(CRYPTO_LIBS)
debs_HOST_ONLY := 1

UNIT_TESTS += test_lock
test_lock_SRCS := tests/unit/test_lock.c pkg/debs/lock.c $(LIBSPACE_SRCS)
test_lock_LIBS := $(CRYPTO_LIBS)
