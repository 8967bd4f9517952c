/* SPDX-License-Identifier: MIT */
/* ovf.h - OVF 1.x descriptor for one VM, generated from a per-target
 * hardware description (image/ova/<target>.hw).
 *
 * Hardware description format: the KEY = VALUE format of kv.h (one
 * `key = value` per line, `#` comments, blank lines ignored, a value may
 * be wrapped in double quotes). Keys (all required unless marked optional):
 *   name, os_id (CIM OsType number), os_type (vmw:osType), os_description,
 *   hardware_family (vmx-NN), firmware (bios|efi), vcpus, memory_mib,
 *   disk_gib (capacity offered to the VM; the VMDK may be smaller),
 *   scsi (lsilogic|lsilogicsas|buslogic|VirtualSCSI), product, vendor,
 *   product_url/vendor_url (optional), eula_file (path relative to the .hw
 *   file; read by the caller into ovf_hw.eula),
 *   nic = <E1000|E1000e|VmxNet3> <network-name> <description words...>
 *   (repeatable, 1..10, in adapter order).
 */
#ifndef SPACE_OVF_H
#define SPACE_OVF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define OVF_MAX_NICS 10

struct ovf_nic {
	char type[16];
	char network[64];
	char description[128];
};

struct ovf_hw {
	char name[64], os_type[64], os_description[128], hardware_family[16], firmware[8];
	char scsi[16], product[128], vendor[128], product_url[256], vendor_url[256];
	char eula_file[256];
	unsigned os_id, vcpus, memory_mib, disk_gib, nnics;
	struct ovf_nic nics[OVF_MAX_NICS];
	char *eula; /* EULA text, owned (malloc'd); NULL until the caller loads it */
};

/* Parse a hardware description. On failure returns -SPACE_E_FORMAT (or
 * -ENOMEM) with "line N: reason", or the reason a complete description
 * needs, in err. */
int ovf_hw_parse(const char *text, struct ovf_hw *hw, struct space_err *err);

/* Free hw->eula (the rest is inline). */
void ovf_hw_free(struct ovf_hw *hw);

/* The one disk file of the package. */
struct ovf_disk {
	const char *href;         /* member name of the VMDK */
	uint64_t file_size;       /* exact byte size of that member (ovf:size) */
	uint64_t capacity_bytes;  /* VMDK header capacity */
	uint64_t populated_bytes; /* bytes of data grains (ovf:populatedSize) */
};

/* Generate the descriptor. The disk capacity is max(hw->disk_gib GiB, the
 * VMDK capacity rounded up to GiB). *out is malloc'd, NUL-terminated. */
int ovf_generate(const struct ovf_hw *hw, const char *version, const struct ovf_disk *disk,
		 char **out, size_t *len);

#endif
