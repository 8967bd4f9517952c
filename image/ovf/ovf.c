/* SPDX-License-Identifier: MIT */
/* ovf.c - hardware description parser and OVF descriptor generator.
 *
 * Element order inside every rasd/vssd block is alphabetical because the
 * CIM schemas declare them as xs:sequence in that order; the ProductSection
 * order (Product, Vendor, Version, FullVersion, ProductUrl, VendorUrl) is
 * fixed by dsp8023 as well. tests/tool/ova.sh validates with xmllint.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ovf.h"
#include "util.h"

static void trim(char *s)
{
	size_t n = strlen(s);
	char *p = s;

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (*p && isspace((unsigned char)*p))
		p++;
	memmove(s, p, strlen(p) + 1);
}

static bool copy_str(char *dst, size_t dsz, const char *v)
{
	size_t n = strlen(v);

	if (n >= dsz)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

static bool parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *e;
	unsigned long n;

	if (!isdigit((unsigned char)*v))
		return false;
	errno = 0;
	n = strtoul(v, &e, 10);
	if (errno || *e || n < lo || n > hi)
		return false;
	*out = (unsigned)n;
	return true;
}

static bool is_one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(v, *set) == 0)
			return true;
	return false;
}

static bool plain_token(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr("_.-", *v))
			return false;
	return true;
}

static const char *const scsi_types[] = { "lsilogic", "lsilogicsas", "buslogic", "VirtualSCSI", NULL };
static const char *const nic_types[] = { "E1000", "E1000e", "VmxNet3", NULL };
static const char *const firmwares[] = { "bios", "efi", NULL };

/* Parse `nic = TYPE NETWORK DESCRIPTION...`. */
static const char *parse_nic(struct ovf_hw *hw, char *v)
{
	struct ovf_nic *n;
	char *net, *desc;

	if (hw->nnics >= OVF_MAX_NICS)
		return "too many nic lines";
	n = &hw->nics[hw->nnics];
	net = strpbrk(v, " \t");
	if (!net)
		return "nic needs: TYPE NETWORK DESCRIPTION";
	*net++ = '\0';
	while (isspace((unsigned char)*net))
		net++;
	desc = strpbrk(net, " \t");
	if (!desc)
		return "nic needs: TYPE NETWORK DESCRIPTION";
	*desc++ = '\0';
	trim(desc);
	if (!is_one_of(v, nic_types))
		return "nic type must be E1000, E1000e or VmxNet3";
	if (!plain_token(net) || !copy_str(n->network, sizeof(n->network), net))
		return "network name must be [A-Za-z0-9_.-]+, < 64 chars";
	if (!*desc || !copy_str(n->description, sizeof(n->description), desc))
		return "nic description missing or too long";
	copy_str(n->type, sizeof(n->type), v);
	hw->nnics++;
	return NULL;
}

#define STRKEY(k) { #k, offsetof(struct ovf_hw, k), sizeof(((struct ovf_hw *)0)->k) }
static const struct {
	const char *key;
	size_t off, size;
} str_keys[] = {
	STRKEY(name),	 STRKEY(os_type),     STRKEY(os_description), STRKEY(hardware_family),
	STRKEY(firmware), STRKEY(scsi),	       STRKEY(product),	       STRKEY(vendor),
	STRKEY(product_url), STRKEY(vendor_url), STRKEY(eula_file),
};

int ovf_hw_parse(const char *text, struct ovf_hw *hw, char *err, size_t errlen)
{
	char *copy = strdup(text), *line, *save = NULL;
	const char *why = NULL;
	unsigned lineno = 0, seen = 0;
	unsigned fam;
	int r = 0;

	memset(hw, 0, sizeof(*hw));
	if (!copy)
		return -ENOMEM;
	/* strtok_r would merge blank lines and break the line count */
	for (line = copy; line && !why; line = save) {
		char *eq, *k, *v;
		bool done = false;

		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		lineno++;
		trim(line);
		if (!*line || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			why = "expected `key = value`";
			break;
		}
		*eq = '\0';
		k = line;
		v = eq + 1;
		trim(k);
		trim(v);
		for (size_t i = 0; i < sizeof(str_keys) / sizeof(str_keys[0]); i++) {
			if (strcmp(k, str_keys[i].key))
				continue;
			if (!copy_str((char *)hw + str_keys[i].off, str_keys[i].size, v))
				why = "value too long";
			seen |= 1u << i;
			done = true;
		}
		if (done)
			continue;
		if (!strcmp(k, "nic"))
			why = parse_nic(hw, v);
		else if (!strcmp(k, "os_id")) {
			if (!parse_uint(v, 0, 65535, &hw->os_id))
				why = "os_id must be a CIM OsType number 0..65535";
		} else if (!strcmp(k, "vcpus")) {
			if (!parse_uint(v, 1, 128, &hw->vcpus))
				why = "vcpus must be 1..128";
		} else if (!strcmp(k, "memory_mib")) {
			if (!parse_uint(v, 4, 6128 * 1024, &hw->memory_mib))
				why = "memory_mib must be 4..6275072";
		} else if (!strcmp(k, "disk_gib")) {
			if (!parse_uint(v, 1, 62 * 1024, &hw->disk_gib))
				why = "disk_gib must be 1..63488";
		} else
			why = "unknown key";
	}
	if (!why) {
		lineno = 0;
		if (!hw->name[0] || !plain_token(hw->name))
			why = "name missing or not [A-Za-z0-9_.-]+";
		else if (!hw->os_type[0] || !hw->os_description[0])
			why = "os_type and os_description are required";
		else if (sscanf(hw->hardware_family, "vmx-%u", &fam) != 1 || fam < 4 || fam > 99 ||
			 strlen(hw->hardware_family) != 6)
			why = "hardware_family must be vmx-NN";
		else if (!is_one_of(hw->firmware, firmwares))
			why = "firmware must be bios or efi";
		else if (!is_one_of(hw->scsi, scsi_types))
			why = "scsi must be lsilogic, lsilogicsas, buslogic or VirtualSCSI";
		else if (!hw->vcpus || !hw->memory_mib || !hw->disk_gib)
			why = "vcpus, memory_mib and disk_gib are required";
		else if (!hw->product[0] || !hw->vendor[0])
			why = "product and vendor are required";
		else if (!hw->eula_file[0])
			why = "eula_file is required";
		else if (!hw->nnics)
			why = "at least one nic is required";
		for (unsigned i = 0; !why && i < hw->nnics; i++)
			for (unsigned j = 0; j < i; j++)
				if (!strcmp(hw->nics[i].network, hw->nics[j].network))
					why = "two nics on the same network name";
	}
	if (why) {
		if (lineno)
			snprintf(err, errlen, "line %u: %s", lineno, why);
		else
			snprintf(err, errlen, "%s", why);
		r = -SPACE_E_FORMAT;
	}
	free(copy);
	return r;
}

void ovf_hw_free(struct ovf_hw *hw)
{
	free(hw->eula);
	hw->eula = NULL;
}

/* Character data and attribute values both go through here. */
static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void elem(FILE *f, const char *indent, const char *tag, const char *text)
{
	fprintf(f, "%s<%s>", indent, tag);
	xml_text(f, text);
	fprintf(f, "</%s>\n", tag);
}

int ovf_generate(const struct ovf_hw *hw, const char *version, const struct ovf_disk *disk,
		 char **out, size_t *len)
{
	const char *I6 = "      ", *I8 = "        ";
	uint64_t gib = (disk->capacity_bytes + (1ull << 30) - 1) >> 30;
	char *buf = NULL;
	size_t n = 0;
	unsigned id = 1;
	FILE *f;

	if (gib < hw->disk_gib)
		gib = hw->disk_gib;
	f = open_memstream(&buf, &n);
	if (!f)
		return -ENOMEM;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\"\n"
	      "          xmlns:cim=\"http://schemas.dmtf.org/wbem/wscim/1/common\"\n"
	      "          xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\"\n"
	      "          xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData\"\n"
	      "          xmlns:vmw=\"http://www.vmware.com/schema/ovf\"\n"
	      "          xmlns:vssd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData\"\n"
	      "          xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
	      "  <References>\n    <File ovf:href=\"", f);
	xml_text(f, disk->href);
	fprintf(f, "\" ovf:id=\"file1\" ovf:size=\"%llu\"/>\n  </References>\n",
		(unsigned long long)disk->file_size);
	fprintf(f, "  <DiskSection>\n    <Info>Virtual disk information</Info>\n"
		   "    <Disk ovf:capacity=\"%llu\" ovf:capacityAllocationUnits=\"byte * 2^30\""
		   " ovf:diskId=\"vmdisk1\" ovf:fileRef=\"file1\""
		   " ovf:format=\"http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized\""
		   " ovf:populatedSize=\"%llu\"/>\n  </DiskSection>\n",
		(unsigned long long)gib, (unsigned long long)disk->populated_bytes);
	fputs("  <NetworkSection>\n    <Info>The list of logical networks</Info>\n", f);
	for (unsigned i = 0; i < hw->nnics; i++) {
		fprintf(f, "    <Network ovf:name=\"%s\">\n", hw->nics[i].network);
		elem(f, "      ", "Description", hw->nics[i].description);
		fputs("    </Network>\n", f);
	}
	fputs("  </NetworkSection>\n", f);
	fprintf(f, "  <VirtualSystem ovf:id=\"%s\">\n    <Info>A virtual machine</Info>\n", hw->name);
	elem(f, "    ", "Name", hw->name);
	fprintf(f, "    <OperatingSystemSection ovf:id=\"%u\" vmw:osType=\"", hw->os_id);
	xml_text(f, hw->os_type);
	fputs("\">\n      <Info>The kind of installed guest operating system</Info>\n", f);
	elem(f, I6, "Description", hw->os_description);
	fputs("    </OperatingSystemSection>\n", f);
	fputs("    <VirtualHardwareSection>\n      <Info>Virtual hardware requirements</Info>\n"
	      "      <System>\n"
	      "        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>\n"
	      "        <vssd:InstanceID>0</vssd:InstanceID>\n", f);
	elem(f, I8, "vssd:VirtualSystemIdentifier", hw->name);
	elem(f, I8, "vssd:VirtualSystemType", hw->hardware_family);
	fputs("      </System>\n", f);
	fprintf(f, "      <Item>\n%s<rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>\n"
		   "%s<rasd:Description>Number of Virtual CPUs</rasd:Description>\n"
		   "%s<rasd:ElementName>%u virtual CPU(s)</rasd:ElementName>\n"
		   "%s<rasd:InstanceID>%u</rasd:InstanceID>\n%s<rasd:ResourceType>3</rasd:ResourceType>\n"
		   "%s<rasd:VirtualQuantity>%u</rasd:VirtualQuantity>\n"
		   "%s<vmw:CoresPerSocket ovf:required=\"false\">1</vmw:CoresPerSocket>\n      </Item>\n",
		I8, I8, I8, hw->vcpus, I8, id, I8, I8, hw->vcpus, I8);
	id++;
	fprintf(f, "      <Item>\n%s<rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>\n"
		   "%s<rasd:Description>Memory Size</rasd:Description>\n"
		   "%s<rasd:ElementName>%uMB of memory</rasd:ElementName>\n"
		   "%s<rasd:InstanceID>%u</rasd:InstanceID>\n%s<rasd:ResourceType>4</rasd:ResourceType>\n"
		   "%s<rasd:VirtualQuantity>%u</rasd:VirtualQuantity>\n      </Item>\n",
		I8, I8, I8, hw->memory_mib, I8, id, I8, I8, hw->memory_mib);
	id++;
	fprintf(f, "      <Item>\n%s<rasd:Address>0</rasd:Address>\n"
		   "%s<rasd:Description>SCSI Controller</rasd:Description>\n"
		   "%s<rasd:ElementName>SCSI controller 0</rasd:ElementName>\n"
		   "%s<rasd:InstanceID>%u</rasd:InstanceID>\n%s<rasd:ResourceSubType>%s</rasd:ResourceSubType>\n"
		   "%s<rasd:ResourceType>6</rasd:ResourceType>\n      </Item>\n",
		I8, I8, I8, I8, id, I8, hw->scsi, I8);
	fprintf(f, "      <Item>\n%s<rasd:AddressOnParent>0</rasd:AddressOnParent>\n"
		   "%s<rasd:ElementName>Hard disk 1</rasd:ElementName>\n"
		   "%s<rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>\n"
		   "%s<rasd:InstanceID>%u</rasd:InstanceID>\n%s<rasd:Parent>%u</rasd:Parent>\n"
		   "%s<rasd:ResourceType>17</rasd:ResourceType>\n      </Item>\n",
		I8, I8, I8, I8, id + 1, I8, id, I8);
	id += 2;
	for (unsigned i = 0; i < hw->nnics; i++, id++) {
		fprintf(f, "      <Item>\n%s<rasd:AddressOnParent>%u</rasd:AddressOnParent>\n"
			   "%s<rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>\n"
			   "%s<rasd:Connection>%s</rasd:Connection>\n"
			   "%s<rasd:Description>%s ethernet adapter on &quot;%s&quot;</rasd:Description>\n"
			   "%s<rasd:ElementName>Network adapter %u</rasd:ElementName>\n"
			   "%s<rasd:InstanceID>%u</rasd:InstanceID>\n"
			   "%s<rasd:ResourceSubType>%s</rasd:ResourceSubType>\n"
			   "%s<rasd:ResourceType>10</rasd:ResourceType>\n      </Item>\n",
			I8, 7 + i, I8, I8, hw->nics[i].network, I8, hw->nics[i].type, hw->nics[i].network,
			I8, i + 1, I8, id, I8, hw->nics[i].type, I8);
	}
	fprintf(f, "      <Item ovf:required=\"false\">\n"
		   "%s<rasd:AutomaticAllocation>false</rasd:AutomaticAllocation>\n"
		   "%s<rasd:ElementName>Video card</rasd:ElementName>\n"
		   "%s<rasd:InstanceID>%u</rasd:InstanceID>\n%s<rasd:ResourceType>24</rasd:ResourceType>\n"
		   "      </Item>\n",
		I8, I8, I8, id, I8);
	fprintf(f, "      <vmw:Config ovf:required=\"false\" vmw:key=\"firmware\" vmw:value=\"%s\"/>\n"
		   "    </VirtualHardwareSection>\n", hw->firmware);
	fputs("    <ProductSection ovf:required=\"false\">\n"
	      "      <Info>Information about the installed software</Info>\n", f);
	elem(f, I6, "Product", hw->product);
	elem(f, I6, "Vendor", hw->vendor);
	elem(f, I6, "Version", version);
	elem(f, I6, "FullVersion", version);
	if (hw->product_url[0])
		elem(f, I6, "ProductUrl", hw->product_url);
	if (hw->vendor_url[0])
		elem(f, I6, "VendorUrl", hw->vendor_url);
	fputs("    </ProductSection>\n", f);
	fputs("    <EulaSection>\n      <Info>End User License Agreement</Info>\n", f);
	elem(f, I6, "License", hw->eula ? hw->eula : "");
	fputs("    </EulaSection>\n  </VirtualSystem>\n</Envelope>\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	if (len)
		*len = n;
	return 0;
}
