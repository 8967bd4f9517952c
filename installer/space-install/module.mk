# installer/space-install: the installation medium's text installer (runs
# in the installer initramfs, installer/dracut). The core (install.c,
# disks.c) uses the image library, the release verifier and the
# upgrader's slot writer, not copies of them.
PROGRAMS += space-install
space-install_SRCS = installer/space-install/main.c $(sort installer/space-install/install.c \
	installer/space-install/disks.c installer/space-install/cmdline.c $(IMGLIB_SRCS) \
	$(SPACECTL_UPGRADE_SRCS) $(LIBSPACE_SRCS))
space-install_LIBS = $(ARCHIVE_LIBS) $(CRYPTO_LIBS) $(ZSTD_LIBS) $(ZLIB_LIBS) -lpthread -lm

TOOL_TESTS += tests/tool/install.sh
BENCHES += tests/bench/install.sh

# `make fuzz`: the kernel command line of unattended mode (space.action=,
# space.disk=, space.after=), typed at GRUB's prompt; seeds in
# fuzz/corpus/cmdline.
.PHONY: fuzz-install_cmdline
fuzz: fuzz-install_cmdline
$(O)/fuzz/fuzz_install_cmdline: installer/space-install/fuzz/fuzz_cmdline.c installer/space-install/cmdline.c \
		$(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-install_cmdline: $(O)/fuzz/fuzz_install_cmdline
	$(call fuzz_run,install_cmdline,installer/space-install/fuzz/corpus/cmdline,4096)
