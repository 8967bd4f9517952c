# image/ova: the signed OVA for ESXi. `mkova` converts the raw disk to a
# streamOptimized VMDK, writes the OVF descriptor, the manifest, the .cert
# signature and the chain, and packs them into a reproducible ustar archive.
#
#   make ova ESXI_RAW=<raw disk>      -> $(O)/$(PRODUCT)-$(VERSION).ova
#   real keys: make ova SIGN_KEY=k.pem SIGN_CERT=c.pem SIGN_CHAIN=chain.pem ROOT_CA=root.pem
#   default:   the development PKI in $(CACHE)/pki (created once; DEVELOPMENT keys)
OVA_LIB_SRCS := image/ova/manifest.c image/ova/tar.c image/ova/sign.c

PROGRAMS += mkova
mkova_SRCS = image/ova/main.c $(OVA_LIB_SRCS) $(OVF_LIB_SRCS) $(VMDK_LIB_SRCS) $(LIBSPACE_SRCS)
mkova_LIBS := $(CRYPTO_LIBS) $(DEFLATE_LIBS) -lpthread

UNIT_TESTS += test_ova_manifest test_ova_tar
test_ova_manifest_SRCS := tests/unit/test_ova_manifest.c image/ova/manifest.c $(LIBSPACE_SRCS)
test_ova_manifest_LIBS := $(CRYPTO_LIBS)
test_ova_tar_SRCS := tests/unit/test_ova_tar.c image/ova/tar.c image/ova/manifest.c $(LIBSPACE_SRCS)
test_ova_tar_LIBS := $(CRYPTO_LIBS)

TOOL_TESTS += tests/tool/ova.sh
BENCHES += tests/bench/ova.sh

OVA_HW     ?= image/ova/esxi.hw
OVA_PKI    ?= $(CACHE)/pki
OVA_OUT    := $(O)/$(PRODUCT)-$(VERSION).ova
SIGN_KEY   ?=
SIGN_CERT  ?=
SIGN_CHAIN ?=
ROOT_CA    ?=
# ESXI_RAW is set by the pipeline (image/disk.mk, included after this file):
# it must also list $(ESXI_RAW) as a prerequisite of $(OVA_OUT) there,
# because prerequisites here are expanded before disk.mk is read.
ESXI_RAW   ?=

ifneq ($(SIGN_KEY),)
OVA_SIGN_ARGS = --key $(SIGN_KEY) --cert $(SIGN_CERT) $(if $(SIGN_CHAIN),--chain $(SIGN_CHAIN))
OVA_ROOT_CA   = $(ROOT_CA)
else
OVA_SIGN_ARGS = --pki $(OVA_PKI)
OVA_ROOT_CA   = $(OVA_PKI)/dev-root-ca.pem
endif

.PHONY: ova
ova: $(OVA_OUT)

# The root CA is also the node's trust anchor for upgrades: the root tree
# carries it (/etc/space/root-ca.pem, in the spacectl package). Without
# ROOT_CA, real keys would give nodes nothing to check upgrades against.
ifeq ($(OVA_ROOT_CA),)
$(error SIGN_KEY needs ROOT_CA: the root tree carries it, nodes verify upgrades with it)
endif
ifeq ($(SIGN_KEY),)
$(OVA_ROOT_CA): | $(BIN)/mkova
	$(Q)$(BIN)/mkova pki --dir $(OVA_PKI)
endif

# What every signed output (this OVA, the release image in image/disk.mk)
# shares: the signing knobs and key files as prerequisites (their content
# counts through the files' times), the setup before signing (a key needs
# its certificate; the development PKI is made on first use), and ova-verify
# checking the output before the build succeeds (a failing one is shown and
# removed).
KNOB_SIGN := $(call knob,sign,$(SIGN_KEY) $(SIGN_CERT) $(SIGN_CHAIN) $(ROOT_CA))
SIGN_DEPS := $(KNOB_SIGN) $(wildcard $(SIGN_KEY) $(SIGN_CERT) $(SIGN_CHAIN) $(ROOT_CA)) \
	$(if $(SIGN_KEY),,$(BIN)/mkova)
define sign_setup
	$(if $(SIGN_KEY),$(if $(SIGN_CERT),,$(error $@: SIGN_KEY needs SIGN_CERT (and SIGN_CHAIN, ROOT_CA))))
	$(Q)$(if $(SIGN_KEY),,$(BIN)/mkova pki --dir $(OVA_PKI))
endef
OVA_VERIFY_CA = $(if $(OVA_ROOT_CA),--ca $(OVA_ROOT_CA),--no-chain)
define verify_signed
	$(Q)$(BIN)/ova-verify $(OVA_VERIFY_CA) $@ >/dev/null || \
		{ $(BIN)/ova-verify $(OVA_VERIFY_CA) $@; rm -f $@; exit 1; }
endef

$(OVA_OUT): $(BIN)/mkova $(BIN)/ova-verify $(ESXI_RAW) $(OVA_HW) image/ova/eula.txt $(SIGN_DEPS)
	$(if $(ESXI_RAW),,$(error ova: ESXI_RAW is empty: set it to the esxi raw disk image, e.g. make ova ESXI_RAW=$(O)/esxi/$(PRODUCT)-$(VERSION).raw))
	$(quiet) OVA $@
	$(sign_setup)
	$(Q)$(BIN)/mkova build --raw $(ESXI_RAW) --hw $(OVA_HW) --out $(O) \
		--product $(PRODUCT) --version $(VERSION) $(OVA_SIGN_ARGS) >/dev/null
	$(verify_signed)
