# image/hotpatch/hotpatch.mk - the hot-patch bundles of this release
# (issue 9), from the patch definitions pkg/hotpatches/vN.conf:
#
#   make hotpatch HOTPATCH=N   $(O)/Space-<rel>-Hotpatch-vN.tgz, .md5, .sha256
#   make hotpatches            every vN defined (part of `make`)
#   make print-hotpatches      "vN PATH" of each bundle (for tests)
#
# <rel> is VERSION cut after its R part (21.3R1.1 -> 21.3R1). A bundle is
# made from a copy of the sources ($(O)/hotpatch/vN/src: the folders make
# reads, copied as they are, no git needed) with the definition's fixes
# applied in order (patch -p1, no fuzz), by a sub-make in that copy
# (O=$(O)/hotpatch/vN/o) that builds only the packages the definition
# lists, at their package release (PKG_RELEASE_<name>, rootfs/rootfs.mk),
# then mkhotpatch signs it like the other outputs (OVA_SIGN_ARGS) and the
# node's own tool verifies it (`hotpatch verify`, a failing one is removed). The
# sub-make uses this build's pkg tool and compiler knob, and CACHE (the
# pinned Debian packages are not needed: only program packages are made).
# A patched file keeps the newer of its own time and its fix's, so a second
# run rebuilds nothing that did not change.
HOTPATCH_DEFDIR  := pkg/hotpatches
HOTPATCH_LEVELS  := $(sort $(patsubst $(HOTPATCH_DEFDIR)/v%.conf,%,$(wildcard $(HOTPATCH_DEFDIR)/v*.conf)))
HOTPATCH_RELEASE := $(shell printf '%s\n' '$(VERSION)' | sed -n 's/^\([0-9]*\.[0-9]*R[0-9]*\)\(\..*\)\{0,1\}$$/\1/p')
# the product's name capitalised, as the modelled platform names its bundles
HOTPATCH_PRODUCT := $(shell printf '%s\n' '$(PRODUCT)' | sed 's/^./\U&/')
HOTPATCH_COPY    := Makefile VERSION pkg image rootfs kernel-config installer tests
# every file of the copy: a change anywhere may change a rebuilt package
HOTPATCH_INPUTS  := $(shell find $(HOTPATCH_COPY) -type f 2>/dev/null)
hotpatch_dir      = $(O)/hotpatch/v$(1)
hotpatch_tgz      = $(O)/$(HOTPATCH_PRODUCT)-$(HOTPATCH_RELEASE)-Hotpatch-v$(1).tgz

# $(call hotpatch_rule,N)
define hotpatch_rule
HOTPATCH_TGZ_v$(1) := $(call hotpatch_tgz,$(1))
$(call hotpatch_tgz,$(1)): $(HOTPATCH_INPUTS) $(BIN)/mkhotpatch $(BIN)/hotpatch $(PKG) $(KNOB_RELEASE) $(KNOB_CC) $(SIGN_DEPS) \
		| $(STAMP)/host-deps
	$$(quiet) HOTPATCH $$@
	$$(sign_setup)
	$$(Q)mkdir -p $(O)/hotpatch
	$$(Q)$(BIN)/mkhotpatch plan --def $(HOTPATCH_DEFDIR)/v$(1).conf > $(call hotpatch_dir,$(1)).plan.tmp || \
		{ rm -f $(call hotpatch_dir,$(1)).plan.tmp; exit 1; }
	$$(Q)mv $(call hotpatch_dir,$(1)).plan.tmp $(call hotpatch_dir,$(1)).plan
	$$(Q)rm -rf $(call hotpatch_dir,$(1))/src && mkdir -p $(call hotpatch_dir,$(1))/src
	$$(Q)cp -a $(HOTPATCH_COPY) $(call hotpatch_dir,$(1))/src/
	$$(Q)sh image/hotpatch/apply-fixes.sh $(call hotpatch_dir,$(1))/src $(HOTPATCH_DEFDIR)/fixes \
		$(call hotpatch_dir,$(1)).plan
	$$(Q)set -- $$$$(awk '$$$$1 == "package" { print "PKG_RELEASE_" $$$$2 "=" $$$$3, "$(call hotpatch_dir,$(1))/o/packages/" $$$$2 ".pkg" }' \
		$(call hotpatch_dir,$(1)).plan) && \
		$(MAKE) $(if $(filter 1,$(V)),,-s) -C $(call hotpatch_dir,$(1))/src O=$(call hotpatch_dir,$(1))/o BIN=$(call hotpatch_dir,$(1))/o/bin \
			BUILD=$(call hotpatch_dir,$(1))/o/build ASAN=$(call hotpatch_dir,$(1))/o/asan PKG=$(PKG) \
			KNOB_CC=$(KNOB_CC) CACHE=$(CACHE) PRODUCT=$(PRODUCT) VERSION=$(VERSION) "$$$$@"
	$$(Q)$(BIN)/mkhotpatch build --def $(HOTPATCH_DEFDIR)/v$(1).conf --product $(PRODUCT) --version $(VERSION) \
		--script image/hotpatch/patchme.sh --out $(O) $$(OVA_SIGN_ARGS) \
		$$$$(awk '$$$$1 == "package" { print "$(call hotpatch_dir,$(1))/o/packages/" $$$$2 ".pkg" }' \
			$(call hotpatch_dir,$(1)).plan) >/dev/null
	$$(Q)$(if $(OVA_ROOT_CA),$(BIN)/hotpatch verify --ca $(OVA_ROOT_CA) $$@ >/dev/null || \
		{ $(BIN)/hotpatch verify --ca $(OVA_ROOT_CA) $$@; rm -f $$@ $$@.md5 $$@.sha256; exit 1; })
endef

ifneq ($(HOTPATCH_RELEASE),)
$(foreach n,$(HOTPATCH_LEVELS),$(eval $(call hotpatch_rule,$(n))))
HOTPATCH_TGZS := $(foreach n,$(HOTPATCH_LEVELS),$(HOTPATCH_TGZ_v$(n)))
endif

.PHONY: hotpatch hotpatches print-hotpatches
# part of `make`: about 5 s a level from clean on two cores, 0.3 s warm
all: hotpatches
hotpatches: $(HOTPATCH_TGZS)
hotpatch:
	$(if $(HOTPATCH),,$(error make hotpatch: say which, e.g. HOTPATCH=1 (defined: $(HOTPATCH_LEVELS))))
	$(if $(HOTPATCH_RELEASE),,$(error make hotpatch: VERSION $(VERSION) has no R part: no hot patches))
	$(if $(HOTPATCH_TGZ_v$(HOTPATCH)),,$(error make hotpatch: no $(HOTPATCH_DEFDIR)/v$(HOTPATCH).conf))
hotpatch: $(HOTPATCH_TGZ_v$(HOTPATCH))
print-hotpatches:
	@$(foreach n,$(HOTPATCH_LEVELS),echo 'v$(n) $(HOTPATCH_TGZ_v$(n))';) true

# make patched HOTPATCH=N: this release's KVM qcow2 with hot patch vN in it,
# as a factory ships a node after a patch: the node's own tool applies the
# signed bundle offline (`hotpatch apply --root`) to a copy of the root
# tree, then the disk is made from that tree as from the release's. The
# tool's record of that one run (the backup of the unpatched files, its
# history, log, progress and lock) is not the node's and is left out; the
# inventory of the level (var/lib/hotpatch/applied), the markers and the
# package database stay.
ifneq ($(HOTPATCH),)
PATCHED_DIR   := $(O)/patched-v$(HOTPATCH)
PATCHED_QCOW2 := $(IMGDIR)/$(PRODUCT)-$(VERSION)-hp$(HOTPATCH)-$(TARGET).qcow2
$(PATCHED_QCOW2): $(TDIR)/rootfs.stamp $(HOTPATCH_TGZ_v$(HOTPATCH)) $(BIN)/hotpatch $(MKIMAGE) $(PKG) $(KNOB_DISK)
	$(if $(OVA_ROOT_CA),,$(error make patched: the bundle is checked against ROOT_CA, which is not set))
	$(quiet) PATCHED $@
	$(Q)rm -rf $(PATCHED_DIR) && mkdir -p $(PATCHED_DIR)
	$(Q)cp -a $(ROOTFS) $(PATCHED_DIR)/rootfs
	$(Q)$(BIN)/hotpatch apply --root $(PATCHED_DIR)/rootfs --ca $(OVA_ROOT_CA) $(HOTPATCH_TGZ_v$(HOTPATCH)) \
		> $(PATCHED_DIR)/apply.log || { cat $(PATCHED_DIR)/apply.log; exit 1; }
	$(Q)rm -rf $(addprefix $(PATCHED_DIR)/rootfs/var/lib/hotpatch/,backup lock progress history work) \
		$(PATCHED_DIR)/rootfs/var/log/hotpatch
	$(Q)$(PKG) --root $(PATCHED_DIR)/rootfs attrs > $(PATCHED_DIR)/rootfs.attrs
	$(Q)$(MKIMAGE) $(MKIMAGE_V) disk --out $(PATCHED_DIR)/disk.raw --rootfs $(PATCHED_DIR)/rootfs \
		--attrs $(PATCHED_DIR)/rootfs.attrs --seed "$(PRODUCT)-$(VERSION)-hp$(HOTPATCH)" --product $(PRODUCT) \
		--version $(VERSION) --size $(DISK_SIZE) --root-size $(ROOT_SIZE)
	$(Q)$(MKIMAGE) $(MKIMAGE_V) qcow2 --in $(PATCHED_DIR)/disk.raw --out $@
	$(Q)rm -rf $(PATCHED_DIR)/disk.raw $(PATCHED_DIR)/rootfs
endif
.PHONY: patched
patched:
	$(if $(HOTPATCH),,$(error make patched: say which level, e.g. HOTPATCH=2 (defined: $(HOTPATCH_LEVELS))))
	$(if $(HOTPATCH_TGZ_v$(HOTPATCH)),,$(error make patched: no $(HOTPATCH_DEFDIR)/v$(HOTPATCH).conf))
patched: $(PATCHED_QCOW2)
