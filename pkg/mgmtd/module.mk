# pkg/mgmtd: the management API daemon (HTTPS, JSON REST under /api/v1).
PROGRAMS += mgmtd
# (recursive: HOTPATCH_STATE_SRCS is spacectl's module.mk's, the hot-patch
# state reader GET hotpatches answers with)
MGMTD_LIB_SRCS = pkg/mgmtd/api.c pkg/mgmtd/auth.c pkg/mgmtd/conf.c pkg/mgmtd/fabric.c pkg/mgmtd/hotpatch.c pkg/mgmtd/throttle.c \
	pkg/mgmtd/tls.c pkg/mgmtd/upgrade.c pkg/fabric/conf.c pkg/fabric/keys.c pkg/fabric/local.c $(HOTPATCH_STATE_SRCS)
mgmtd_SRCS = pkg/mgmtd/main.c $(MGMTD_LIB_SRCS) $(LIBMGMT_SRCS) $(APPS_SRCS) $(LIBSPACE_SRCS)
mgmtd_LIBS := $(SSL_LIBS) -lcrypt
mgmtd_INSTALL_DIR := /usr/sbin

UNIT_TESTS += test_mgmtd
test_mgmtd_SRCS = tests/unit/test_mgmtd.c $(MGMTD_LIB_SRCS) $(LIBMGMT_SRCS) $(APPS_SRCS) $(LIBSPACE_SRCS)
test_mgmtd_LIBS := $(SSL_LIBS) -lcrypt

TOOL_TESTS += tests/tool/mgmtd.sh tests/tool/mgmtd-upgrade.sh tests/tool/mgmtd-hotpatch.sh \
	tests/tool/mgmtd-epoll.sh
BENCHES += tests/bench/mgmtd.sh

# `make fuzz` also runs mgmtd's HTTP request-head parser (libmgmt/http.c;
# recipes in the Makefile).
$(O)/fuzz/fuzz_http: pkg/mgmtd/fuzz/fuzz_http.c pkg/libmgmt/http.c | $(O)/stamp/test-deps
	$(fuzz_build)
.PHONY: fuzz-http
fuzz: fuzz-http
fuzz-http: $(O)/fuzz/fuzz_http
	$(call fuzz_run,http,pkg/mgmtd/fuzz/corpus/http,4096)
# ... and the name rules of uploads (upgrade_name_ok, hotpatch_name_ok): the
# last part of the PUT's path, checked before a file is created.
$(O)/fuzz/fuzz_upload_name: fuzz_CFLAGS = -DPRODUCT='"$(PRODUCT)"'
$(O)/fuzz/fuzz_upload_name: pkg/mgmtd/fuzz/fuzz_upload_name.c pkg/mgmtd/hotpatch.c pkg/mgmtd/upgrade.c \
		$(HOTPATCH_LIB_SRCS) $(LIBMGMT_SRCS) $(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(fuzz_build)
.PHONY: fuzz-upload_name
fuzz: fuzz-upload_name
fuzz-upload_name: $(O)/fuzz/fuzz_upload_name
	$(call fuzz_run,upload_name,pkg/mgmtd/fuzz/corpus/upload_name,255)
