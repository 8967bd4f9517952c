# image/disk.mk - root tree -> raw GPT disk -> qcow2 (mkimage, image/lib).
IMGDIR     ?= $(O)
DISK_RAW   := $(IMGDIR)/$(PRODUCT)-$(VERSION)-$(TARGET).img
DISK_QCOW2 := $(IMGDIR)/$(PRODUCT)-$(VERSION)-$(TARGET).qcow2
DISK_SIZE  ?= 8G
ROOT_SIZE  ?= 2G
MKIMAGE    := $(BIN)/mkimage
MKIMAGE_V  := $(if $(filter 1,$(V)),-v)

.PHONY: images disk qcow2
# `make` builds the KVM qcow2 and the signed OVA (from the esxi target's disk).
images: $(DISK_QCOW2) ova
disk: $(DISK_RAW)
qcow2: $(DISK_QCOW2)

# The disk sizes are knobs of each target's disk (and variant).
KNOB_DISK = $(call knob,disk-$(1)$(VSUFFIX),$(DISK_SIZE) $(ROOT_SIZE))
$(DISK_RAW): $(TDIR)/rootfs.stamp $(MKIMAGE) $(call KNOB_DISK,$(TARGET))
	$(quiet) DISK $@
	$(Q)mkdir -p $(@D)
	$(Q)$(MKIMAGE) $(MKIMAGE_V) disk --out $@ --rootfs $(ROOTFS) --attrs $(ROOTFS_ATTRS) \
		--seed "$(PRODUCT)-$(VERSION)-$(TARGET)" --product $(PRODUCT) --version $(VERSION) \
		--size $(DISK_SIZE) --root-size $(ROOT_SIZE)

$(DISK_QCOW2): $(DISK_RAW)
	$(quiet) QCOW2 $@
	$(Q)$(MKIMAGE) $(MKIMAGE_V) qcow2 --in $< --out $@

# The OVA is made from the esxi target's disk, built by a sub-make with
# TARGET=esxi (same packages, its own root tree and disk seed).
ESXI_RAW := $(IMGDIR)/$(PRODUCT)-$(VERSION)-esxi.img
ifneq ($(TARGET),esxi)
$(ESXI_RAW): $(ALL_PKGS) $(MKIMAGE) rootfs/rootfs.mk image/disk.mk $(call KNOB_DISK,esxi)
	$(Q)$(MAKE) disk TARGET=esxi
endif
$(OVA_OUT): $(ESXI_RAW)
