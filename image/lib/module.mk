# image/lib: the disk-image library (GPT, ext4/FAT without root, GRUB for
# BIOS and UEFI, whole-disk build). Linked by mkimage, and by the installer
# and the upgrader: add $(IMGLIB_SRCS) to their _SRCS and $(IMGLIB_LIBS) to
# their _LIBS; include headers as "image/lib/disk.h" (from the top).
IMGLIB_SRCS := image/lib/imgutil.c image/lib/gpt.c image/lib/diskio.c image/lib/attrs.c image/lib/fs_ext4.c \
	image/lib/fs_esp.c image/lib/grub.c image/lib/disk.c image/lib/bootenv.c image/lib/bootkit.c \
	pkg/lib/kv.c pkg/lib/buf.c
IMGLIB_LIBS := $(CRYPTO_LIBS) $(ZLIB_LIBS)

UNIT_TESTS += test_gpt test_grub_patch test_attrs
test_gpt_SRCS = tests/unit/test_gpt.c $(IMGLIB_SRCS) $(LIBSPACE_SRCS)
test_gpt_LIBS = $(IMGLIB_LIBS)
test_grub_patch_SRCS = tests/unit/test_grub_patch.c $(IMGLIB_SRCS) $(LIBSPACE_SRCS)
test_grub_patch_LIBS = $(IMGLIB_LIBS)
test_attrs_SRCS = tests/unit/test_attrs.c $(IMGLIB_SRCS) $(LIBSPACE_SRCS)
test_attrs_LIBS = $(IMGLIB_LIBS)
# the FAT32 ESPs it reads are made by mkfs.vfat and mtools (host tools of the build)
UNIT_TESTS += test_bootenv
test_bootenv_SRCS = tests/unit/test_bootenv.c $(IMGLIB_SRCS) $(LIBSPACE_SRCS)
test_bootenv_LIBS = $(IMGLIB_LIBS)
# disk.c, fs_ext4.c and fs_esp.c, beside tests/tool/mkimage.sh: filesystems
# and a whole disk in a temp dir, read back with e2fsprogs and mtools
UNIT_TESTS += test_disk
test_disk_SRCS = tests/unit/test_disk.c $(IMGLIB_SRCS) $(LIBSPACE_SRCS)
test_disk_LIBS = $(IMGLIB_LIBS)

# `make fuzz`: the FAT32 walk to /grub/grubenv and the environment block
# parser (the upgrader and `mkimage bootenv` read both from the disk), from
# the kept seeds in fuzz/corpus/bootenv (made by fuzz/make-seeds.sh).
.PHONY: fuzz-bootenv
fuzz: fuzz-bootenv
$(O)/fuzz/fuzz_bootenv: fuzz_LIBS = $(ZLIB_LIBS)
$(O)/fuzz/fuzz_bootenv: image/lib/fuzz/fuzz_bootenv.c $(IMGLIB_SRCS) $(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-bootenv: $(O)/fuzz/fuzz_bootenv
	$(call fuzz_run,bootenv,image/lib/fuzz/corpus/bootenv,65536)

# `make fuzz`: the GPT reader and the boot-state lookup on a whole disk
# (the installer inspects every disk of the machine; growdata and the
# upgrader read the boot disk's table), from small tables made by sgdisk.
.PHONY: fuzz-gpt
fuzz: fuzz-gpt
$(O)/fuzz/fuzz_gpt: fuzz_LIBS = $(ZLIB_LIBS)
$(O)/fuzz/fuzz_gpt: image/lib/fuzz/fuzz_gpt.c $(IMGLIB_SRCS) $(LIBSPACE_SRCS) | $(O)/stamp/test-deps
	$(fuzz_build)
fuzz-gpt: $(O)/fuzz/fuzz_gpt
	$(call fuzz_run,gpt,image/lib/fuzz/corpus/gpt,131072)
