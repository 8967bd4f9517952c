# image/disk.mk - root tree -> raw GPT disk -> qcow2 (mkimage, image/lib).
IMGDIR     ?= $(O)
raw_of      = $(IMGDIR)/$(PRODUCT)-$(VERSION)-$(1).raw
DISK_RAW   := $(call raw_of,$(TARGET))
DISK_QCOW2 := $(IMGDIR)/$(PRODUCT)-$(VERSION)-$(TARGET).qcow2
ESXI_RAW   := $(call raw_of,esxi)
DISK_SIZE  ?= 8G
ROOT_SIZE  ?= 2G
MKIMAGE    := $(BIN)/mkimage
MKIMAGE_V  := $(if $(filter 1,$(V)),-v)

.PHONY: images disk qcow2
# `make` builds the KVM qcow2, the signed OVA (from the esxi target's disk)
# and the signed release image.
images: $(DISK_QCOW2) ova img
disk: $(DISK_RAW)
qcow2: $(DISK_QCOW2)

# One disk is written from the one root tree, seeded by product and release
# only, so root slot A (and the whole disk) is the same bytes for every
# target; each target's raw disk is a sparse copy named for it.
# The installer's boot kit (image/lib/bootkit.h: GRUB's images and the ESP
# of this very disk) is written with it, into $(KIT_DIR).
KNOB_DISK := $(call knob,disk$(VSUFFIX),$(DISK_SIZE) $(ROOT_SIZE))
KIT_DIR   := $(TDIR)/kit
$(TDIR)/disk.raw: $(TDIR)/rootfs.stamp $(MKIMAGE) $(KNOB_DISK)
	$(quiet) DISK $@
	$(Q)rm -rf $(KIT_DIR)
	$(Q)$(MKIMAGE) $(MKIMAGE_V) disk --out $@ --rootfs $(ROOTFS) --attrs $(ROOTFS_ATTRS) \
		--seed "$(PRODUCT)-$(VERSION)" --product $(PRODUCT) --version $(VERSION) \
		--size $(DISK_SIZE) --root-size $(ROOT_SIZE) --kit $(KIT_DIR)
$(KIT_DIR)/kit.conf: $(TDIR)/disk.raw
	$(Q)test -f $@ && touch $@

$(IMGDIR)/$(PRODUCT)-$(VERSION)-%.raw: $(TDIR)/disk.raw
	$(quiet) RAW $@
	$(Q)mkdir -p $(@D)
	$(Q)cp --sparse=always --reflink=auto $< $@.tmp && mv $@.tmp $@

# The signed release image: root slot A of the disk (the same bytes in every
# target's disk), zstd, behind a signed manifest (image/release). It is the
# payload of upgrades and of the installer; ova-verify checks it before the
# build succeeds, as it does the OVA.
RELEASE_IMG := $(O)/$(PRODUCT)-$(VERSION).img
.PHONY: img
img: $(RELEASE_IMG)
$(RELEASE_IMG): $(TDIR)/disk.raw $(BIN)/mkrelease $(BIN)/ova-verify $(RELEASE_PATHS) $(RELEASE_APPS) $(SIGN_DEPS)
	$(quiet) IMG $@
	$(sign_setup)
	$(Q)$(BIN)/mkrelease build --raw $(TDIR)/disk.raw --out $(O) --product $(PRODUCT) --version $(VERSION) \
		--build $(BUILD_ID) --kernel $(KVER) --targets 'kvm esxi ja2500' \
		--paths $(RELEASE_PATHS) --apps $(RELEASE_APPS) $(OVA_SIGN_ARGS) -j2 >/dev/null
	$(verify_signed)

$(DISK_QCOW2): $(DISK_RAW)
	$(quiet) QCOW2 $@
	$(Q)$(MKIMAGE) $(MKIMAGE_V) qcow2 --in $< --out $@

$(OVA_OUT): $(ESXI_RAW)
