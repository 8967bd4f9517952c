# image/ova-verify: the one-command OVA verifier (C, OpenSSL, libxml2).
XML_CFLAGS := $(shell $(PKG_CONFIG) --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
XML_LIBS   := $(shell $(PKG_CONFIG) --libs libxml-2.0 2>/dev/null || echo -lxml2)
$(BUILD)/image/ova-verify/%.o: BASE_CFLAGS += $(XML_CFLAGS)
$(ASAN)/image/ova-verify/%.o: BASE_CFLAGS += $(XML_CFLAGS)

OVA_VERIFY_SRCS = image/ova-verify/verify.c image/ova/manifest.c image/ova/tar.c \
	image/vmdk/vmdk.c $(LIBSPACE_SRCS)

PROGRAMS += ova-verify
ova-verify_SRCS = image/ova-verify/main.c $(OVA_VERIFY_SRCS)
ova-verify_LIBS := $(CRYPTO_LIBS) $(DEFLATE_LIBS) $(XML_LIBS)
