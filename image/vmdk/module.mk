# image/vmdk: streamOptimized VMDK library (vmdk.c reader, vmdk_write.c
# multi-threaded writer) and the `vmdk` tool (convert / extract / info).
VMDK_LIB_SRCS := image/vmdk/vmdk.c image/vmdk/vmdk_write.c

PROGRAMS += vmdk
vmdk_SRCS := image/vmdk/main.c $(VMDK_LIB_SRCS) $(LIBSPACE_SRCS)
vmdk_LIBS := $(DEFLATE_LIBS) $(CRYPTO_LIBS) -lpthread

UNIT_TESTS += test_vmdk
test_vmdk_SRCS := tests/unit/test_vmdk.c $(VMDK_LIB_SRCS) $(LIBSPACE_SRCS)
test_vmdk_LIBS := $(DEFLATE_LIBS) $(CRYPTO_LIBS) -lpthread

TOOL_TESTS += tests/tool/vmdk.sh
