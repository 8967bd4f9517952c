# pkg/watchdog: the service supervisor (watchdog, started by init) and its
# control tool (watchdogctl).
PROGRAMS += watchdog watchdogctl
# $(APPS_SRCS): which applications may run (pkg/libmgmt/apps.h)
watchdog_SRCS = pkg/watchdog/main.c pkg/watchdog/sup.c pkg/watchdog/svcconf.c $(LIBMGMT_SRCS) $(APPS_SRCS) \
	$(LIBSPACE_SRCS)
watchdog_LIBS := $(CRYPTO_LIBS)
watchdog_INSTALL_DIR := /usr/sbin
watchdogctl_SRCS = pkg/watchdog/watchdogctl.c $(LIBMGMT_SRCS) $(APPS_SRCS) $(LIBSPACE_SRCS)
watchdogctl_LIBS := $(CRYPTO_LIBS)
watchdogctl_INSTALL_DIR := /usr/sbin

UNIT_TESTS += test_watchdog
test_watchdog_SRCS = tests/unit/test_watchdog.c pkg/watchdog/sup.c pkg/watchdog/svcconf.c $(LIBMGMT_SRCS) $(LIBSPACE_SRCS)
# --wrap=calloc: the test makes calloc() fail on demand
test_watchdog_LIBS := $(CRYPTO_LIBS) -Wl,--wrap=calloc

TOOL_TESTS += tests/tool/watchdog.sh
TOOL_TESTS += tests/tool/apps.sh

# The running release's application table (libmgmt/apps.h reads it there):
# the data file the release manifest's app.* lines are made from.
watchdog_EXTRA_FILES = $(RELEASE_APPS):usr/share/space/app-compat.conf

# TEST_NEVER_READY=1 (tests only): one more service that never becomes
# ready, so the image's trial boot after an upgrade is never confirmed.
# A knob: switching it back rebuilds the package (no stale test service).
ifeq ($(TEST_NEVER_READY),1)
watchdog_EXTRA_FILES += tests/e2e/files/never-ready.conf:etc/watchdog.d/never-ready.conf
endif
$(O)/packages/watchdog.pkg: $(call knob,test-never-ready,$(TEST_NEVER_READY))
