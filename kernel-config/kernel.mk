# kernel-config/kernel.mk - check the pinned kernel against the fragments of
# every target (common + kvm + esxi + ja2500).
KERNEL_FRAGMENTS := kernel-config/common.config kernel-config/kvm.config \
	kernel-config/esxi.config kernel-config/ja2500.config

.PHONY: check-kernel
check-kernel: $(TDIR)/rootfs.stamp
	$(Q)sh kernel-config/check-kernel.sh $(ROOTFS)/boot/config-$(KVER) \
		$(ROOTFS)/lib/modules/$(KVER) $(ROOTFS)/boot/initrd.img-$(KVER) $(KERNEL_FRAGMENTS)
