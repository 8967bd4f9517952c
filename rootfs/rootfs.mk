# rootfs/rootfs.mk - packages -> root tree.
#
# Every file of the root tree comes from a package of our own format:
#   - each pinned Debian package, converted by rootfs/deb2pkg.sh;
#   - base-files, from rootfs/skeleton plus generated release/shadow;
#   - one package per appliance program (C programs under pkg/);
#   - initramfs, made by dracut from the installed kernel modules.
# The tree is assembled by `pkg install --no-chown` into an empty directory;
# owners and device nodes live in the package database (`pkg attrs`) and are
# applied inside the filesystem image by mkimage.

KERNEL_PKG := $(shell awk '/^linux-image-/ {print $$1}' $(LOCK))
KVER       := $(KERNEL_PKG:linux-image-%=%)
DEB_NAMES  := $(shell awk '!/^#/ && NF {print $$1}' $(LOCK))
deb_version = $(shell awk '$$1 == "$(1)" {print $$2}' $(LOCK))
BUILD_ID   ?= $(shell git -C $(TOP) rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

PKGDIR     := $(O)/packages
STAGE      := $(O)/staging
# VARIANT names a second flavour of the same build that shares the package
# conversions (the e2e tests build one with a test-only admin password).
VARIANT    ?=
VSUFFIX    := $(if $(VARIANT),-$(VARIANT))
# One root tree serves every target (their drivers are all in it).
TDIR       := $(O)/system$(VSUFFIX)
ROOTFS     := $(TDIR)/rootfs
ROOTFS_ATTRS := $(TDIR)/rootfs.attrs
PKG        := $(BIN)/pkg

# Programs that go into the appliance: those built from pkg/<prog>/ (the
# host-only build tools say so with NAME_HOST_ONLY := 1).
APPLIANCE_PROGRAMS = $(foreach p,$(PROGRAMS),$(if $($(p)_HOST_ONLY),,$(if $(filter pkg/%,$(firstword $($(p)_SRCS))),$(p))))
prog_dir = $(patsubst %/,%,$(dir $(firstword $($(1)_SRCS))))
# A folder's files/ tree (config, service definitions) belongs to the program
# named like the folder; another program in it may have files-<name>/.
prog_files = $(call prog_dir,$(1))/$(if $(filter $(1),$(notdir $(call prog_dir,$(1)))),files,files-$(1))

DEB_PKGS  = $(addprefix $(PKGDIR)/,$(addsuffix .pkg,$(DEB_NAMES)))
PROG_PKGS = $(addprefix $(PKGDIR)/,$(addsuffix .pkg,$(APPLIANCE_PROGRAMS)))
BASE_PKG  = $(PKGDIR)/base-files$(VSUFFIX).pkg
ALL_PKGS  = $(BASE_PKG) $(DEB_PKGS) $(PROG_PKGS)

.PHONY: packages rootfs
packages: $(ALL_PKGS)
rootfs: $(TDIR)/rootfs.stamp

$(DEB_PKGS): $(PKGDIR)/%.pkg: $(STAMP)/fetch $(PKG) rootfs/deb2pkg.sh
	$(quiet) DEB2PKG $@
	$(Q)mkdir -p $(@D)
	$(Q)sh rootfs/deb2pkg.sh $(PKG) "$$($(BIN)/debs path --lock $(LOCK) --cache $(DEB_CACHE) $*)" \
		$* '$(call deb_version,$*)' $@ $(STAGE)/deb-$*
	$(Q)rm -rf $(STAGE)/deb-$*

# Knobs (see the Makefile): every package records the product and release;
# base-files also the build id (its release file) and which password file,
# per variant, whose content counts through the file's time.
KNOB_RELEASE := $(call knob,release,$(PRODUCT) $(VERSION))
KNOB_BASE    := $(call knob,base-files$(VSUFFIX),$(PRODUCT) $(VERSION) $(BUILD_ID) $(ADMIN_PASSWORD_FILE))
ADMIN_PW_DEP := $(if $(ADMIN_PASSWORD_FILE),$(ADMIN_PASSWORD_FILE))
$(BASE_PKG): $(PKG) rootfs/mkbase.sh rootfs/base-files.attrs $(shell find rootfs/skeleton) $(ADMIN_PW_DEP) $(KNOB_BASE)
	$(quiet) PKG $@
	$(Q)mkdir -p $(@D)
	$(Q)sh rootfs/mkbase.sh $(STAGE)/base-files$(VSUFFIX) $(PRODUCT) $(VERSION) $(BUILD_ID) $(ADMIN_PASSWORD_FILE)
	$(Q)$(PKG) build --name base-files --version $(VERSION) --release 1 --arch amd64 \
		--summary "$(PRODUCT) base system: init, rc scripts, accounts" --base-files \
		--config etc/hostname \
		--config etc/fstab --config etc/hosts --config etc/profile \
		--attrs rootfs/base-files.attrs $(STAGE)/base-files$(VSUFFIX) $@

# $(call prog_pkg,NAME): the package of one appliance program. NAME_EXTRA_FILES
# (set in its module.mk) lists SRC:DEST pairs: further files from elsewhere in
# the tree that it ships at DEST (relative to the root; mode 0644, new
# directories 0755 whatever the umask, as the other packages have them).
# PKG_RELEASE_NAME (default 1, a knob) is its package release: a hot patch
# (image/hotpatch) rebuilds it from patched sources with a higher one.
prog_release = $(or $(PKG_RELEASE_$(1)),1)
define prog_pkg
$(PKGDIR)/$(1).pkg: $(BIN)/$(1) $(PKG) $$(shell find $(call prog_files,$(1)) 2>/dev/null) $(KNOB_RELEASE) \
		$(call knob,pkg-release-$(1),$(call prog_release,$(1))) \
		$(foreach f,$($(1)_EXTRA_FILES),$(firstword $(subst :, ,$(f))))
	$$(quiet) PKG $$@
	$$(Q)rm -rf $(STAGE)/prog-$(1) && mkdir -p $(STAGE)/prog-$(1)$$(or $$($(1)_INSTALL_DIR),/usr/bin) $$(@D)
	$$(Q)if [ -d $(call prog_files,$(1)) ]; then cp -a $(call prog_files,$(1))/. $(STAGE)/prog-$(1)/; fi
	$$(Q)umask 022 && $(foreach f,$($(1)_EXTRA_FILES),install -D -m 0644 $(firstword $(subst :, ,$(f))) $(STAGE)/prog-$(1)/$(lastword $(subst :, ,$(f))) &&) true
	$$(Q)cp $(BIN)/$(1) $(STAGE)/prog-$(1)$$(or $$($(1)_INSTALL_DIR),/usr/bin)/$(1)
	$$(Q)strip --strip-unneeded $(STAGE)/prog-$(1)$$(or $$($(1)_INSTALL_DIR),/usr/bin)/$(1)
	$$(Q)$(PKG) build --name $(1) --version $(VERSION) --release $(call prog_release,$(1)) --arch amd64 \
		--summary "$(PRODUCT) $(1)" $(STAGE)/prog-$(1) $$@
endef
$(foreach p,$(APPLIANCE_PROGRAMS),$(eval $(call prog_pkg,$(p))))

# The initramfs: dracut with our own module only (rootfs/dracut/90space-boot,
# a busybox /init; no udev, systemd or bash) and the storage drivers of every
# target, so one initramfs boots the same image on KVM, ESXi and the JA2500.
# crc32c_generic: ext4's checksums (the kernel asks for crypto-crc32c).
INITRD_DRIVERS := virtio_blk virtio_scsi virtio_pci ahci ata_piix megaraid_sas mptspi \
	vmw_pvscsi nvme sd_mod sr_mod ext4 crc32c_generic
# dracut looks for modules in one base directory: ours is the host's dracut
# with modules.d holding our module alone, so no host module can slip in.
# --reproducible gives every file the time of dracut-functions.sh: a copy
# dated SOURCE_DATE_EPOCH (a link would lend its own, changing, time).
DRACUT_BASE := $(O)/dracut
$(DRACUT_BASE)/stamp: $(wildcard rootfs/dracut/*/*)
	$(Q)rm -rf $(@D) && mkdir -p $(@D)/modules.d
	$(Q)for f in /usr/lib/dracut/*; do [ "$${f##*/}" = modules.d ] || ln -s "$$f" $(@D)/; done
	$(Q)rm $(@D)/dracut-functions.sh && cp /usr/lib/dracut/dracut-functions.sh $(@D)/ && \
		touch -d @$(SOURCE_DATE_EPOCH) $(@D)/dracut-functions.sh
	$(Q)for m in rootfs/dracut/*/; do ln -s $(TOP)/$${m%/} $(@D)/modules.d/; done
	$(Q)touch $@
# rootfs/mkinitrd.sh runs dracut in $(TDIR) on the tree (rootfs.tmp) with
# nothing of the host but dracut itself (its comment says what it shuts
# out) and the same bytes whoever runs it; tests/image/check-initrd.sh
# checks that of the result (make test-image).
MKINITRD_DEPS := rootfs/mkinitrd.sh rootfs/dracut-nohost.sh

$(TDIR)/rootfs.stamp: $(ALL_PKGS) $(DRACUT_BASE)/stamp $(MKINITRD_DEPS) $(KNOB_RELEASE)
	$(quiet) ROOTFS $(ROOTFS)
	$(Q)rm -rf $(ROOTFS).tmp $(ROOTFS) $(STAGE)/initramfs$(VSUFFIX) && mkdir -p $(ROOTFS).tmp $(O)/tmp
	$(Q)$(PKG) --root $(ROOTFS).tmp install --no-chown --allow-devices base-files $(ALL_PKGS)
	$(quiet) DRACUT initrd.img-$(KVER)
	$(Q)mkdir -p $(STAGE)/initramfs$(VSUFFIX)/boot
	$(Q)cd $(TDIR) && sh $(TOP)/rootfs/mkinitrd.sh $(DRACUT_BASE) $(TOP) $(KVER) "$(INITRD_DRIVERS)" \
		$(STAGE)/initramfs$(VSUFFIX)/boot/initrd.img-$(KVER)
	$(Q)ln -s initrd.img-$(KVER) $(STAGE)/initramfs$(VSUFFIX)/boot/initrd.img
	$(Q)$(PKG) build --name initramfs --version $(VERSION) --release 1 --arch amd64 \
		--summary "initramfs for $(KVER) (dracut)" --depends $(KERNEL_PKG) \
		$(STAGE)/initramfs$(VSUFFIX) $(PKGDIR)/initramfs$(VSUFFIX).pkg
	$(Q)$(PKG) --root $(ROOTFS).tmp install --no-chown $(PKGDIR)/initramfs$(VSUFFIX).pkg
	$(sbom_install)
	$(Q)$(PKG) --root $(ROOTFS).tmp attrs > $(ROOTFS_ATTRS).tmp
	$(Q)mv $(ROOTFS_ATTRS).tmp $(ROOTFS_ATTRS)
	$(Q)mv $(ROOTFS).tmp $(ROOTFS)
	$(Q)touch $@
