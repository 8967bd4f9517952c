# installer/space-install: the installation medium's text installer (runs
# in the installer initramfs, installer/dracut). The core (install.c,
# disks.c) uses the image library, the release verifier and the
# upgrader's slot writer, not copies of them.
PROGRAMS += space-install
space-install_SRCS = installer/space-install/main.c $(sort installer/space-install/install.c \
	installer/space-install/disks.c $(IMGLIB_SRCS) $(SPACECTL_UPGRADE_SRCS) $(LIBSPACE_SRCS))
space-install_LIBS = $(ARCHIVE_LIBS) $(CRYPTO_LIBS) $(ZSTD_LIBS) $(ZLIB_LIBS) -lpthread -lm
$(BUILD)/installer/space-install/%.o: BASE_CFLAGS += -Ipkg

TOOL_TESTS += tests/tool/install.sh
BENCHES += tests/bench/install.sh
