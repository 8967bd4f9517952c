# image/sbom/sbom.mk - the SPDX 2.3 SBOM of the root tree (mksbom,
# image/sbom/sbom.h), part of `make`:
#   $(O)/$(PRODUCT)-$(VERSION).spdx.json   the document, in the signed
#                                          checksum list (image/sums.mk)
#   /$(SBOM_NODE_PATH) on the node         the same bytes, in the root slot
# The document describes the packages of the assembled tree, so it is made
# from the tree's package database at the end of the rootfs rule
# (rootfs/rootfs.mk calls $(sbom_install) once the initramfs is in) and
# installed as one more package, `sbom`, which it lists without a digest
# (its .pkg holds the document). The release image and every disk carry
# the root slot, so they carry it too.
SBOM_OUT       := $(O)/$(PRODUCT)-$(VERSION).spdx.json
SBOM_NODE_PATH := usr/share/$(PRODUCT)/sbom.spdx.json
SBOM_PKG       := $(PKGDIR)/sbom$(VSUFFIX).pkg
SBOM_TREE      := $(TDIR)/sbom.spdx.json
DEBINFO        := $(O)/sbom/debinfo
DEBINFO_FILES  := $(addprefix $(DEBINFO)/,$(addsuffix .control,$(DEB_NAMES)))
# our own packages are under the project's license (SPDX-License-Identifier
# of the sources)
SBOM_LICENSE   := MIT

# The control data and copyright file of each pinned .deb (debinfo.sh).
$(DEBINFO)/%.control: $(STAMP)/fetch image/sbom/debinfo.sh
	$(quiet) DEBINFO $*
	$(Q)sh image/sbom/debinfo.sh "$$($(BIN)/debs path --lock $(LOCK) --cache $(DEB_CACHE) $*)" $* $(DEBINFO)

$(TDIR)/rootfs.stamp: $(BIN)/mksbom $(DEBINFO_FILES) image/sbom/sbom.mk

# Recipe lines of the rootfs rule (rootfs/rootfs.mk): the document of the
# tree $(ROOTFS).tmp, packaged as `sbom` and installed into it.
define sbom_install
	$(quiet) SBOM $(SBOM_TREE)
	$(Q)rm -rf $(STAGE)/sbom$(VSUFFIX) && (umask 022 && mkdir -p $(STAGE)/sbom$(VSUFFIX)/$(dir $(SBOM_NODE_PATH)))
	$(Q)$(BIN)/mksbom --root $(ROOTFS).tmp --lock $(LOCK) --debinfo $(DEBINFO) --product $(PRODUCT) \
		--version $(VERSION) --build $(BUILD_ID) --license $(SBOM_LICENSE) --self sbom \
		--out $(STAGE)/sbom$(VSUFFIX)/$(SBOM_NODE_PATH) $(ALL_PKGS) $(PKGDIR)/initramfs$(VSUFFIX).pkg
	$(Q)$(PKG) build --name sbom --version $(VERSION) --release 1 --arch amd64 \
		--summary "$(PRODUCT) SPDX 2.3 software bill of materials of the root tree" \
		$(STAGE)/sbom$(VSUFFIX) $(SBOM_PKG)
	$(Q)$(PKG) --root $(ROOTFS).tmp install --no-chown $(SBOM_PKG)
	$(Q)cp $(STAGE)/sbom$(VSUFFIX)/$(SBOM_NODE_PATH) $(SBOM_TREE)
endef

.PHONY: sbom
sbom: $(SBOM_OUT)
images: $(SBOM_OUT)
$(SBOM_OUT): $(TDIR)/rootfs.stamp
	$(quiet) SBOM $@
	$(Q)cp $(SBOM_TREE) $@.tmp && sync $@.tmp && mv $@.tmp $@

# make test-image: the document against the SPDX 2.3 JSON schema (a copy in
# tests/schemas: CI clones only this repository) and against the tree
# (tests/image/check-sbom.py).
.PHONY: check-sbom
test-image: check-sbom
check-sbom: $(SBOM_OUT) | $(STAMP)/test-deps
	$(Q)$(PYTHON) tests/image/check-sbom.py $(SBOM_OUT) tests/schemas/spdx-schema-2.3.json $(ROOTFS) \
		$(LOCK) $(PKG) $(SBOM_NODE_PATH)
