# pkg/devgate: the device communication gate (TCP 7804), blocked and
# unblocked through mgmtd and spacectl; started by the watchdog.
PROGRAMS += devgate
devgate_SRCS = pkg/devgate/main.c $(LIBMGMT_SRCS) $(LIBSPACE_SRCS)
devgate_LIBS := $(CRYPTO_LIBS)
devgate_INSTALL_DIR := /usr/sbin
