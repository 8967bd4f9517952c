/* SPDX-License-Identifier: MIT */
/* platform.h - which target a node is, from what its firmware says.
 *
 * One root tree serves every target (kvm, esxi, ja2500): the node learns
 * its hardware at run time, from DMI (/sys/class/dmi/id). The upgrader
 * checks a release's target list with it and nicname picks the NIC table
 * with it, so both answer the same question the same way:
 *   product name containing "JA2500"          -> ja2500
 *   vendor containing "VMware"                -> esxi
 *   vendor "QEMU", product "KVM" or "Standard PC" -> kvm
 * (QEMU reproduces a JA2500 with -smbios type=1,product=JA2500.)
 */
#ifndef SPACE_PLATFORM_H
#define SPACE_PLATFORM_H

#include <stddef.h>

struct platform {
	char vendor[128];   /* DMI sys_vendor, "" when absent */
	char product[128];  /* DMI product_name, "" when absent */
	const char *target; /* "kvm", "esxi", "ja2500"; NULL when unknown */
};

/* The target of a DMI vendor and product name, or NULL. */
const char *platform_target(const char *vendor, const char *product);

/* Read DMI below sys (normally "/sys"; a test gives a tree) and classify.
 * 0 with p->target set, or -ENODEV when the platform is unknown (p->vendor
 * and p->product say what it claims to be). */
int platform_detect(const char *sys, struct platform *p);

/* Secure Boot as the firmware reports it: the EFI variable SecureBoot
 * below sys (normally "/sys": firmware/efi/efivars, which rcS mounts read-
 * only). 1 on, 0 off, -ENODEV when the node did not boot by UEFI (no
 * firmware/efi), another negative errno when it cannot be read. */
int platform_secure_boot(const char *sys);

/* A small kernel text file (procfs, sysfs: their st_size is no guide)
 * into buf, NUL-terminated, cut at size - 1 bytes. 0 or a negative errno
 * (buf is "" then). */
int read_kernel_text(const char *path, char *buf, size_t size);

#endif
