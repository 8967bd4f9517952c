# image/ovf: OVF descriptor generator (library, used by mkova) and its
# hardware-description parser.
OVF_LIB_SRCS := image/ovf/ovf.c

UNIT_TESTS += test_ovf
test_ovf_SRCS := tests/unit/test_ovf.c $(OVF_LIB_SRCS) $(LIBSPACE_SRCS)
test_ovf_LIBS := $(CRYPTO_LIBS)
