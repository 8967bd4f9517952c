# tests/tests.mk - how `make test` runs every kind of test.
#   UNIT_TESTS  C programs built with ASan+UBSan (tests/unit), TAP output
#   TOOL_TESTS  shell scripts run on the host (tests/tool), get O and BIN
#   E2E_TESTS   QEMU boot tests (tests/e2e)
#   check-format  the C layout (.clang-format), first: it takes seconds
.PHONY: test test-unit test-tool test-image test-e2e bench test-full test-deps check-format format

test: check-format test-unit test-tool test-image test-e2e check-repro

# The test tools (QEMU, OVMF, pexpect, ...), installed or listed the way
# the build tools are (pkg/host-deps.sh): every test target waits for them.
TEST_DEPS := $(STAMP)/test-deps
test-deps: $(TEST_DEPS)
$(TEST_DEPS): tests/host-packages.txt | $(STAMP)/host-deps
	$(quiet) CHECK "test tools"
	$(Q)sh pkg/host-deps.sh $<
	$(Q)mkdir -p $(@D) && touch $@

# The runner of named tests itself (tests/unit/tap.h).
UNIT_TESTS += test_tap
test_tap_SRCS := tests/unit/test_tap.c

# Every tracked *.c and *.h is laid out as .clang-format says (as genimage
# and RAUC check theirs): check-format names each file that differs and
# shows how; format rewrites them in place (tests/check-format.sh).
check-format: | $(TEST_DEPS)
	$(Q)sh tests/check-format.sh
format:
	$(Q)sh tests/check-format.sh --fix

# Every unit test has a name, "/PROGRAM/TEST" (tests/unit/tap.h; a program
# lists its own with -l). T=NAME runs only the tests of that name or group
# (T=/pkg/refusals, T=/pkg; several names separated by spaces), in whichever
# programs have them; a T that names no test anywhere fails.
# A program whose -l lists no names (a main() that is no tap_run table)
# fails: it could not be run by name.
test-unit: $(addprefix $(O)/tests/unit/,$(UNIT_TESTS)) | $(TEST_DEPS)
	$(Q)fail=0; seen=; for t in $^; do \
		if ! $$t -l 2>/dev/null | grep -q '^/' || $$t -l 2>/dev/null | grep -qv '^/'; then \
			echo "FAIL: $$t: -l lists no test names (tests/unit/tap.h: tap_run)"; fail=1; continue; fi; \
		names=; for n in $(T); do $$t -l $$n >/dev/null 2>&1 && names="$$names $$n"; done; \
		$(if $(T),test -n "$$names" || continue; seen="$$seen$$names ";) \
		echo "== $$t"; \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t $$names || fail=1; \
	done; \
	for n in $(T); do case " $$seen" in *" $$n "*) ;; *) fail=1; \
		echo "test-unit: no unit test named $$n (out/tests/unit/test_NAME -l lists a program's tests)";; \
	esac; done; exit $$fail

# The tool tests run TOOL_JOBS at a time (2 cores; the long ones mostly
# wait on timeouts), longest first: TOOL_LONG is their measured order, a
# test not in it runs after them. Each one's output goes to
# $(TOOL_LOGS)/NAME.tap, its exit status to NAME.rc and its seconds to
# NAME.s; then every output is printed whole, in TOOL_TESTS order, and a
# failed test is named and fails the target. Every test works in a
# directory of its own (mktemp -d) and on ports free_ports picked
# (tests/tool/mgmt-lib.sh), in namespaces of its own for the networks.
# TOOL_ALONE runs one at a time, after the others: mgmtd.sh bounds wall
# time (an answer within 1 s while clients hang, 5 within 3 s under a login
# flood, a 3 s idle session kept by a request a second) and is the loudest
# neighbour (50 TLS clients at once, floods of 6000 password hashes). The
# bounded waits of those in the pool (watchdog.sh's back-off under 2 s and
# stop under 3 s, fabricd.sh's 2 s takeover) leave a neighbour a second.
TOOL_JOBS  ?= 2
TOOL_LOGS  := $(O)/tests/tool
TOOL_LONG  := devgate fabricd hotpatch mkimage growdata watchdog upgrade mgmtd-upgrade \
	spacectl install release ova pkg
TOOL_ALONE := mgmtd
TOOL_ORDER  = $(filter-out $(TOOL_ALONE:%=tests/tool/%.sh),$(filter $(TOOL_TESTS),\
	$(TOOL_LONG:%=tests/tool/%.sh)) $(filter-out $(TOOL_LONG:%=tests/tool/%.sh),$(TOOL_TESTS)))
# (one test, the shell's $$t; stdin from /dev/null: no test reads it)
tool_run = l=$(TOOL_LOGS)/$$(basename $$t .sh); s=$$(date +%s); \
	O=$(O) BIN=$(BIN) TOP=$(TOP) PRODUCT=$(PRODUCT) VERSION=$(VERSION) bash $$t < /dev/null > $$l.tap 2>&1; \
	echo $$? > $$l.rc; echo $$(($$(date +%s) - s)) > $$l.s
test-tool: programs | $(TEST_DEPS)
	$(Q)rm -rf $(TOOL_LOGS) && mkdir -p $(TOOL_LOGS)
	$(Q)printf '%s\n' $(TOOL_ORDER) | xargs -r -n 1 -P $(TOOL_JOBS) $(SHELL) -c 't=$$1; $(tool_run)' tool
	$(Q)for t in $(filter $(TOOL_ALONE:%=tests/tool/%.sh),$(TOOL_TESTS)); do $(tool_run); done
	$(Q)fail=0; for t in $(TOOL_TESTS); do l=$(TOOL_LOGS)/$$(basename $$t .sh); \
		echo "== $$t ($$(cat $$l.s) s)"; cat $$l.tap; \
		test "$$(cat $$l.rc)" = 0 || { echo "FAIL: $$t (exit $$(cat $$l.rc))"; fail=1; }; \
	done; exit $$fail

# BENCHES: scripts that print "name: figure (ratio vs baseline)" lines.
bench: programs | $(TEST_DEPS)
	$(Q)for b in $(BENCHES); do \
		echo "== $$b"; \
		O=$(O) BIN=$(BIN) TOP=$(TOP) CACHE=$(CACHE) bash $$b || exit 1; \
	done

# ---------------------------------------------------------------- images
# The patched image of the newest hot patch (make patched): built by the
# node's tool offline, checked like the disk (tests/image/check-patched.sh).
HOTPATCH_TOP := $(lastword $(sort $(HOTPATCH_LEVELS)))
test-image: $(DISK_RAW) check-kernel | $(TEST_DEPS)
	$(Q)bash tests/image/check-disk.sh $(DISK_RAW) $(ROOTFS_ATTRS) $(ROOTFS)
	$(Q)bash tests/image/check-initrd.sh $(BOOT_DIR)/initrd.img-$(KVER) $(ROOTFS) $(DRACUT_BASE) $(KVER) \
		"$(INITRD_DRIVERS)"
	$(Q)$(if $(HOTPATCH_TOP),$(MAKE) -s patched HOTPATCH=$(HOTPATCH_TOP) && \
		bash tests/image/check-patched.sh $(IMGDIR)/$(PRODUCT)-$(VERSION)-hp$(HOTPATCH_TOP)-$(TARGET).qcow2 \
			$(HOTPATCH_TOP) $(HOTPATCH_RELEASE))

# ---------------------------------------------------------------- QEMU
# The e2e image is the same build with a test-only admin password (a second
# base-files; every other package is shared with the release build).
E2E_DIR     := $(O)/e2e
E2E_PWFILE  := $(TOP)/tests/e2e/admin-password.test
E2E_IMAGE   := $(E2E_DIR)/$(PRODUCT)-$(VERSION)-$(TARGET).qcow2
PYTHON      := /usr/bin/python3

.PHONY: e2e-image
e2e-image:
	$(Q)$(MAKE) qcow2 VARIANT=e2e IMGDIR=$(E2E_DIR) ADMIN_PASSWORD_FILE=$(E2E_PWFILE)

# The VM tests, side by side (one vCPU each; TCG): SeaBIOS and OVMF boots of
# the e2e image, the first-boot password prompt of the release image, the
# OVA's disk on ESXi's hardware (PVSCSI, four E1000), and the initramfs on
# its own (other controllers, root= forms, a missing root). Each prints TAP
# and, when it fails, the console log. The OVMF boot is on a JA2500-like
# machine (tests/e2e/ja2500.py: DMI JA2500, AHCI, four onboard NICs whose
# probe order is not their PCI order, an add-in NIC): nicname's names, DHCP
# on eth0 and the board's drivers are checked in that VM, at no extra boot.
BOOT_DIR   = $(ROOTFS)/boot
E2E_RUNS    := bios uefi firstboot esxi initramfs
e2e_bios      = tests/e2e/test_boot.py $(E2E_IMAGE) bios $(E2E_PWFILE) $(VERSION) $(E2E_DIR)/logs
e2e_uefi      = tests/e2e/test_boot.py $(E2E_IMAGE) uefi $(E2E_PWFILE) $(VERSION) $(E2E_DIR)/logs ja2500
e2e_firstboot = tests/e2e/test_firstboot.py $(DISK_QCOW2) $(E2E_DIR)/logs
e2e_esxi      = tests/e2e/test_esxi.py $(OVA_OUT) $(E2E_DIR)/logs
e2e_initramfs = tests/e2e/test_initramfs.py $(DISK_RAW) $(BOOT_DIR)/vmlinuz-$(KVER) \
	$(BOOT_DIR)/initrd.img-$(KVER) $(E2E_DIR)/logs
# A/B upgrades (tests/e2e/test_upgrade.py): the e2e image is upgraded to a
# second release, built like the first with another VERSION, and (fallback)
# to the same release built with TEST_NEVER_READY=1. Both share this build's
# programs (BIN, BUILD): only packages, root tree, disk and image are made.
E2E_NEXT_VERSION ?= 21.3R2
E2E_NEXT     := $(O)/upgrade-next/$(PRODUCT)-$(E2E_NEXT_VERSION).img
E2E_BROKEN   := $(O)/upgrade-broken/$(PRODUCT)-$(E2E_NEXT_VERSION).img
.PHONY: e2e-upgrade-images
# (KNOB_CC too: the compiler knob of a new O= would be new, and every object
# would be compiled again)
E2E_SHARED := BIN=$(BIN) BUILD=$(BUILD) ASAN=$(ASAN) KNOB_CC=$(KNOB_CC)
e2e-upgrade-images: programs
	$(Q)$(MAKE) img O=$(O)/upgrade-next $(E2E_SHARED) VERSION=$(E2E_NEXT_VERSION)
	$(Q)$(MAKE) img O=$(O)/upgrade-broken $(E2E_SHARED) VERSION=$(E2E_NEXT_VERSION) TEST_NEVER_READY=1
# The fallback of a single node's upgrade runs in test-full: make test has
# the same on a fabric's node (test_fabric.py), with the same image.
E2E_RUNS    += upgrade powercut
e2e_upgrade  = tests/e2e/test_upgrade.py upgrade $(E2E_IMAGE) $(E2E_NEXT) $(E2E_PWFILE) $(VERSION) $(E2E_DIR)/logs
e2e_fallback = tests/e2e/test_upgrade.py fallback $(E2E_IMAGE) $(E2E_BROKEN) $(E2E_PWFILE) $(VERSION) $(E2E_DIR)/logs
e2e_powercut = tests/e2e/test_upgrade.py powercut $(E2E_IMAGE) $(E2E_NEXT) $(E2E_PWFILE) $(VERSION) $(E2E_DIR)/logs \
	$(RELEASE_IMG)

# The installer ISO (tests/e2e/test_install.py): under SeaBIOS as a CD,
# install chosen by number onto a blank virtio disk beside a too-small one,
# then the disk boots alone; under OVMF as a USB stick, an unattended
# reinstall (typed at GRUB's prompt) over an installed e2e image, after
# which GRUB's default boots the local disk. test-full adds a target on
# AHCI chosen by word, and one behind a MegaRAID controller (unattended,
# poweroff). Each installed disk is checked booted: release, services,
# install log, slot A's digest.
# They run in a second wave, once the first wave's VMs are done: with six
# more guests beside it, GRUB's prompt on the serial line loses typed
# characters (install-usb types its command line there: tried in CI, its
# kernel came up without the initrd), and ten TCG guests on two cores
# starve each other (RCU stalls, login timeouts).
E2E_RUNS2    := install-cd install-usb
E2E_FULL_RUNS := install-ahci install-megasas fallback fabric-full
e2e_install  = tests/e2e/test_install.py $(1) $(ISO) $(RELEASE_IMG) $(VERSION) $(E2E_DIR)/logs
e2e_install-cd      = $(call e2e_install,cd)
e2e_install-usb     = $(call e2e_install,usb) $(E2E_IMAGE)
e2e_install-ahci    = $(call e2e_install,ahci)
e2e_install-megasas = $(call e2e_install,megasas)

# Hot patches (tests/e2e/test_hotpatch.py): v1 then v2 applied to a running
# e2e node as an operator does, with a device client and an API poller on
# the host; rollback; a power cut in the install step. It runs after the
# SeaBIOS boot, in the same slot of the first wave (E2E_AFTER_bios): the
# short runs leave room there while the upgrade runs go on.
E2E_AFTER_bios := hotpatch
# Secure Boot (every UEFI run has it on, with Microsoft's keys: vm.py): a
# copy of the image whose kernel has one byte changed is refused by GRUB
# through shim (tests/e2e/test_sb_tamper.py), after the OVMF boot.
E2E_AFTER_uefi := sb-tamper
# The fabric (tests/e2e/test_fabric.py): two nodes on a private network
# between the VMs form a fabric, are hot-patched from the VIP node (v1, v2
# with a fault and the rollback, v2), and the virtual address moves when
# the VIP node dies; a fabric upgrade to the never-ready release falls
# back on every node. Two VMs, after the short ESXi run. test-full also
# brings the dead VIP node back (it must not take the address again).
E2E_AFTER_esxi := fabric
e2e_fabric = tests/e2e/test_fabric.py $(E2E_IMAGE) $(E2E_PWFILE) $(HOTPATCH_TGZ_v1) $(HOTPATCH_TGZ_v2) \
	$(E2E_BROKEN) $(E2E_DIR)/logs
e2e_fabric-full = $(e2e_fabric) full $(E2E_NEXT)
e2e_sb-tamper = tests/e2e/test_sb_tamper.py $(E2E_IMAGE) $(E2E_DIR)/logs
e2e_hotpatch = tests/e2e/test_hotpatch.py $(E2E_IMAGE) $(E2E_PWFILE) $(HOTPATCH_TGZ_v1) $(HOTPATCH_TGZ_v2) \
	$(E2E_DIR)/logs
# $(call e2e_run,NAME): one VM test, its TAP and exit status in logs/
e2e_run = $(PYTHON) $(e2e_$(1)) > $(E2E_DIR)/logs/$(1).tap 2>&1; echo $$? > $(E2E_DIR)/logs/$(1).rc;
E2E_ALL = $(foreach r,$(E2E_RUNS),$(r) $(E2E_AFTER_$(r))) $(E2E_RUNS2)

test-e2e: e2e-image e2e-upgrade-images $(DISK_QCOW2) $(OVA_OUT) $(RELEASE_IMG) $(ISO) $(HOTPATCH_TGZS) | $(TEST_DEPS)
	$(Q)mkdir -p $(E2E_DIR)/logs
	$(Q)$(foreach r,$(E2E_RUNS),{ $(call e2e_run,$(r)) $(foreach a,$(E2E_AFTER_$(r)),$(call e2e_run,$(a))) } & ) wait
	$(Q)$(foreach r,$(E2E_RUNS2),{ $(call e2e_run,$(r)) } & ) wait
	$(Q)fail=0; for r in $(E2E_ALL); do cat $(E2E_DIR)/logs/$$r.tap; \
		test "$$(cat $(E2E_DIR)/logs/$$r.rc)" = 0 || { echo "FAIL: e2e $$r"; fail=1; }; done; exit $$fail

# ---------------------------------------------------------------- repro
# The outputs of this tree's build (incremental or not) against one clean
# build in another directory: a difference is a reproducibility bug either
# way (a path, a date, an order, or a stale incremental output), and one
# build instead of two saves about 90 s of make test.
REPRO_FILES = $(DISK_RAW) $(DISK_QCOW2) $(OVA_OUT) $(RELEASE_IMG) $(ISO) $(SBOM_OUT) $(HOTPATCH_TGZS)
check-repro:
	$(Q)$(MAKE) images iso hotpatches
	$(Q)rm -rf $(O)/repro
	$(Q)$(MAKE) images iso hotpatches O=$(O)/repro CACHE=$(CACHE)
	$(Q)for f in $(patsubst $(O)/%,%,$(REPRO_FILES)); do \
		if cmp -s $(O)/$$f $(O)/repro/$$f; then echo "check-repro: $${f##*/} identical ($$(sha256sum < $(O)/$$f | cut -c1-16))"; \
		else echo "check-repro: $${f##*/} DIFFERS ($(O)/$$f, $(O)/repro/$$f)"; exit 1; fi; done
	$(Q)rm -rf $(O)/repro

.PHONY: FORCE check-repro
FORCE:

BENCHES += tests/bench/build.sh tests/bench/boot.sh

# Knobs: each knob that shapes an output rebuilds what it shapes and nothing
# else, and set back gives the old bytes (tests/image/check-knobs.sh; real
# rebuilds in a scratch O=, about 2 minutes a knob, hence test-full).
KNOB_CASES ?= password disk sign cflags version
.PHONY: check-knobs
check-knobs:
	$(Q)rm -rf $(O)/knobs-check
	$(Q)$(MAKE) -s images O=$(O)/knobs-check CACHE=$(CACHE)
	$(Q)TOP=$(TOP) bash tests/image/check-knobs.sh $(O)/knobs-check $(KNOB_CASES)
	$(Q)rm -rf $(O)/knobs-check

# The wider run: everything in `make test`, the installer's other targets,
# the knobs, then the fuzzers.
.PHONY: test-e2e-full
test-e2e-full: e2e-image e2e-upgrade-images $(ISO) $(RELEASE_IMG) $(HOTPATCH_TGZS) | $(TEST_DEPS)
	$(Q)mkdir -p $(E2E_DIR)/logs
	$(Q)$(foreach r,$(E2E_FULL_RUNS),{ $(PYTHON) $(e2e_$(r)) > $(E2E_DIR)/logs/$(r).tap 2>&1; \
		echo $$? > $(E2E_DIR)/logs/$(r).rc; } & ) wait
	$(Q)fail=0; for r in $(E2E_FULL_RUNS); do cat $(E2E_DIR)/logs/$$r.tap; \
		test "$$(cat $(E2E_DIR)/logs/$$r.rc)" = 0 || { echo "FAIL: e2e $$r"; fail=1; }; done; exit $$fail
test-full: test test-e2e-full check-knobs fuzz
