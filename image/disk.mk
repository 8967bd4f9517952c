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
# `make` builds the KVM qcow2 and the signed OVA (from the esxi target's disk).
images: $(DISK_QCOW2) ova
disk: $(DISK_RAW)
qcow2: $(DISK_QCOW2)

# One disk is written from the one root tree, seeded by product and release
# only, so root slot A (and the whole disk) is the same bytes for every
# target; each target's raw disk is a sparse copy named for it.
KNOB_DISK := $(call knob,disk$(VSUFFIX),$(DISK_SIZE) $(ROOT_SIZE))
$(TDIR)/disk.raw: $(TDIR)/rootfs.stamp $(MKIMAGE) $(KNOB_DISK)
	$(quiet) DISK $@
	$(Q)$(MKIMAGE) $(MKIMAGE_V) disk --out $@ --rootfs $(ROOTFS) --attrs $(ROOTFS_ATTRS) \
		--seed "$(PRODUCT)-$(VERSION)" --product $(PRODUCT) --version $(VERSION) \
		--size $(DISK_SIZE) --root-size $(ROOT_SIZE)

$(IMGDIR)/$(PRODUCT)-$(VERSION)-%.raw: $(TDIR)/disk.raw
	$(quiet) RAW $@
	$(Q)mkdir -p $(@D)
	$(Q)cp --sparse=always --reflink=auto $< $@.tmp && mv $@.tmp $@

$(DISK_QCOW2): $(DISK_RAW)
	$(quiet) QCOW2 $@
	$(Q)$(MKIMAGE) $(MKIMAGE_V) qcow2 --in $< --out $@

$(OVA_OUT): $(ESXI_RAW)
