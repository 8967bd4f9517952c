# image/record.mk - the signed build record, part of `make`, written last:
#   $(O)/$(PRODUCT)-$(VERSION).buildrecord   KEY = VALUE lines (README.md,
#       "Build record"): the commit and whether the tree was clean,
#       SOURCE_DATE_EPOCH, the sha256 of pkg/debs.lock, the versions of the
#       host tools that shape the outputs, the knobs, and the sha256 of
#       every output of `make`
#   ... .buildrecord.sig / .cert.pem / .chain.pem   signed as the checksum
#       list is (mksums --sign-only: the same code and keys), checked with
#       ova-verify --signed before the build succeeds.
# Nothing in it depends on when, where or by whom it was built: the same
# inputs give the same record. `make check-rebuild RECORD=file` rebuilds
# from one (image/record/check-rebuild.sh).
RECORD_OUT := $(O)/$(PRODUCT)-$(VERSION).buildrecord
# every output of `make`, the checksum list and its companions last; the
# prerequisites are the files with a rule (a bundle's .md5 and .sha256 and
# the list's companions are written by the same recipe as it)
RECORD_DEPS  = $(DISK_RAW) $(DISK_QCOW2) $(ESXI_RAW) $(OVA_OUT) $(RELEASE_IMG) $(ISO_OUT) \
	$(HOTPATCH_TGZS) $(SBOM_OUT) $(SUMS_OUT)
RECORD_FILES = $(DISK_RAW) $(DISK_QCOW2) $(ESXI_RAW) $(OVA_OUT) $(RELEASE_IMG) $(ISO_OUT) \
	$(foreach t,$(HOTPATCH_TGZS),$(t) $(t).md5 $(t).sha256) \
	$(SBOM_OUT) $(SUMS_OUT) $(addprefix $(SUMS_OUT),.sig .cert.pem .chain.pem)
RECORD_KNOBS := PRODUCT VERSION TARGET DISK_SIZE ROOT_SIZE CC CFLAGS LDFLAGS ADMIN_PASSWORD_SHA256
# What the recipe reads besides the outputs, as a knob: a commit, a tree
# made dirty or clean, or a host tool upgraded rewrites the record.
RECORD_STATE := $(shell git -C $(TOP) rev-parse -q --verify HEAD 2>/dev/null; \
	git -C $(TOP) status --porcelain 2>/dev/null | sha256sum; \
	dpkg-query -W dracut-core grub-common grub-pc-bin grub-efi-amd64-bin e2fsprogs xorriso dosfstools mtools \
		qemu-utils gcc libc6 2>/dev/null | sha256sum)
KNOB_RECORD := $(call knob,buildrecord,$(RECORD_STATE) $(SOURCE_DATE_EPOCH) $(CC) $(CFLAGS) $(LDFLAGS) $(TARGET))

.PHONY: record
all: record
record: $(RECORD_OUT)

$(RECORD_OUT): $$(RECORD_DEPS) $(LOCK) $(KNOB_RECORD) $(ADMIN_PW_DEP) image/record/buildrecord.sh \
		$(BIN)/mksums $(BIN)/ova-verify $(SIGN_DEPS)
	$(quiet) RECORD $@
	$(sign_setup)
	$(Q)PRODUCT='$(PRODUCT)' VERSION='$(VERSION)' TARGET='$(TARGET)' DISK_SIZE='$(DISK_SIZE)' \
		ROOT_SIZE='$(ROOT_SIZE)' CC='$(CC)' CFLAGS='$(CFLAGS)' LDFLAGS='$(LDFLAGS)' \
		ADMIN_PASSWORD_SHA256=$(if $(ADMIN_PASSWORD_FILE),$$(sha256sum < $(ADMIN_PASSWORD_FILE) | cut -c1-64),none) \
		RECORD_KNOBS='$(RECORD_KNOBS)' sh image/record/buildrecord.sh $(TOP) $(LOCK) $@ $(RECORD_FILES)
	$(Q)$(BIN)/mksums --sign-only --out $@ $(OVA_SIGN_ARGS) >/dev/null
	$(Q)$(BIN)/ova-verify $(OVA_VERIFY_CA) --signed $@ >/dev/null || \
		{ $(BIN)/ova-verify $(OVA_VERIFY_CA) --signed $@; rm -f $@; exit 1; }

# make check-rebuild RECORD=file: verify the record, build its commit in a
# fresh clone with its SOURCE_DATE_EPOCH and knobs into a temporary O=
# (sharing CACHE), compare every output's sha256 and the host tools.
# Exit 0 identical, 1 differs (or a record refused), 111 failure.
# REPO= the repository to clone (default: this checkout's).
REPO ?= $(TOP)
.PHONY: check-rebuild
check-rebuild: $(BIN)/ova-verify
	$(if $(RECORD),,$(error make check-rebuild: say which record, RECORD=<file>.buildrecord))
	$(Q)sign_args='$(if $(SIGN_KEY),SIGN_KEY=$(SIGN_KEY) SIGN_CERT=$(SIGN_CERT) SIGN_CHAIN=$(SIGN_CHAIN) ROOT_CA=$(ROOT_CA))' \
		pw_arg='$(if $(ADMIN_PASSWORD_FILE),ADMIN_PASSWORD_FILE=$(abspath $(ADMIN_PASSWORD_FILE)))' \
		bash image/record/check-rebuild.sh '$(abspath $(RECORD))' '$(REPO)' '$(CACHE)' '$(BIN)/ova-verify' \
		'$(OVA_VERIFY_CA)' '$(MAKE)'
