# image/mkimage: the disk-image tool (raw GPT disk, qcow2, layout dump).
PROGRAMS += mkimage
mkimage_SRCS = image/mkimage/main.c image/mkimage/fmt-disk.c image/mkimage/fmt-qcow2.c \
	image/mkimage/fmt-layout.c image/mkimage/fmt-bootenv.c $(IMGLIB_SRCS) $(LIBSPACE_SRCS)
mkimage_LIBS := $(IMGLIB_LIBS)

TOOL_TESTS += tests/tool/mkimage.sh
BENCHES += tests/bench/mkimage.sh
