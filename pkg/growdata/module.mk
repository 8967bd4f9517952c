# pkg/growdata: grows the data partition and its ext4 to the end of the
# disk at boot (rcS); the GPT part lives in image/lib/gpt.c.
PROGRAMS += growdata
growdata_SRCS = pkg/growdata/main.c $(IMGLIB_SRCS) $(LIBSPACE_SRCS)
growdata_LIBS = $(IMGLIB_LIBS)
growdata_INSTALL_DIR := /usr/sbin

UNIT_TESTS += test_gpt_grow
test_gpt_grow_SRCS = tests/unit/test_gpt_grow.c $(IMGLIB_SRCS) $(LIBSPACE_SRCS)
test_gpt_grow_LIBS = $(IMGLIB_LIBS)

TOOL_TESTS += tests/tool/growdata.sh
