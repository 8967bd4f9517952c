# image/sums.mk - the signed checksum list of a release's downloads
# (image/sums/sums.h), part of `make`:
#   $(O)/$(PRODUCT)-$(VERSION).sha256sums   `<sha256>  <name>` per output
#   ... .sha256sums.sig                     signature over the list
#   ... .sha256sums.cert.pem / .chain.pem   signer certificate, intermediates
# signed like the OVA and the release image (OVA_SIGN_ARGS: the development
# PKI, or SIGN_KEY/SIGN_CERT/SIGN_CHAIN/ROOT_CA) and checked with ova-verify
# before the build succeeds. README.md "Check a download" has the commands.
#
# The list names each output by its plain file name, so every output must
# be in $(O) (mksums refuses one elsewhere). The ISO joins through ISO_OUT,
# by default installer/iso.mk's $(ISO) ($(O)/$(PRODUCT)-$(VERSION).iso;
# without that fragment the list has the others). The SPDX SBOM
# (image/sbom/sbom.mk) is listed too. The prerequisites
# are expanded a second time (.SECONDEXPANSION, at the end of reading the
# makefiles), so ISO or ISO_OUT may be set in a fragment read after this
# one. The knob records the names listed: an output that joins or leaves
# the list rewrites it.
ISO_OUT    ?= $(ISO)
SUMS_OUT   := $(O)/$(PRODUCT)-$(VERSION).sha256sums
SUMS_FILES  = $(ISO_OUT) $(OVA_OUT) $(DISK_QCOW2) $(RELEASE_IMG) $(SBOM_OUT)

.PHONY: sums
all: sums
sums: $(SUMS_OUT)

.SECONDEXPANSION:
$(SUMS_OUT): $$(SUMS_FILES) $$(call knob,sums,$$(notdir $$(SUMS_FILES))) $(BIN)/mksums $(BIN)/ova-verify \
		$(SIGN_DEPS)
	$(quiet) SUMS $@
	$(sign_setup)
	$(Q)$(BIN)/mksums --out $@ -j2 $(OVA_SIGN_ARGS) $(SUMS_FILES) >/dev/null
	$(verify_signed)
