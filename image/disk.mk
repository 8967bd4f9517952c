# image/disk.mk - root tree -> raw GPT disk -> qcow2 (mkimage, image/lib).
IMGDIR     ?= $(O)
DISK_RAW   := $(IMGDIR)/$(PRODUCT)-$(VERSION)-$(TARGET).img
DISK_QCOW2 := $(IMGDIR)/$(PRODUCT)-$(VERSION)-$(TARGET).qcow2
DISK_SIZE  ?= 8G
ROOT_SIZE  ?= 2G
MKIMAGE    := $(BIN)/mkimage
MKIMAGE_V  := $(if $(filter 1,$(V)),-v)

.PHONY: images disk qcow2
images: $(DISK_QCOW2)
disk: $(DISK_RAW)
qcow2: $(DISK_QCOW2)

$(DISK_RAW): $(TDIR)/rootfs.stamp $(MKIMAGE)
	$(quiet) DISK $@
	$(Q)mkdir -p $(@D)
	$(Q)$(MKIMAGE) $(MKIMAGE_V) disk --out $@ --rootfs $(ROOTFS) --attrs $(ROOTFS_ATTRS) \
		--seed "$(PRODUCT)-$(VERSION)-$(TARGET)" --product $(PRODUCT) --version $(VERSION) \
		--size $(DISK_SIZE) --root-size $(ROOT_SIZE)

$(DISK_QCOW2): $(DISK_RAW)
	$(quiet) QCOW2 $@
	$(Q)$(MKIMAGE) $(MKIMAGE_V) qcow2 --in $< --out $@
