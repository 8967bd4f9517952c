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

#include "kv.h"
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

#define STRKEY(k)                                                               \
	{                                                                       \
#k, offsetof(struct ovf_hw, k), sizeof(((struct ovf_hw *)0)->k) \
	}
static const struct {
	const char *key;
	size_t off, size;
} str_keys[] = {
	STRKEY(name),
	STRKEY(os_type),
	STRKEY(os_description),
	STRKEY(hardware_family),
	STRKEY(firmware),
	STRKEY(scsi),
	STRKEY(product),
	STRKEY(vendor),
	STRKEY(product_url),
	STRKEY(vendor_url),
	STRKEY(eula_file),
};

/* One value of a numeric key, or its reason. */
static const char *hw_number(struct ovf_hw *hw, const char *k, const char *v)
{
	if (!strcmp(k, "os_id"))
		return parse_uint(v, 0, 65535, &hw->os_id) ? NULL : "os_id must be a CIM OsType number 0..65535";
	if (!strcmp(k, "vcpus"))
		return parse_uint(v, 1, 128, &hw->vcpus) ? NULL : "vcpus must be 1..128";
	if (!strcmp(k, "memory_mib"))
		return parse_uint(v, 4, 6128 * 1024, &hw->memory_mib) ? NULL : "memory_mib must be 4..6275072";
	if (!strcmp(k, "disk_gib"))
		return parse_uint(v, 1, 62 * 1024, &hw->disk_gib) ? NULL : "disk_gib must be 1..63488";
	return "unknown key";
}

struct hw_ctx {
	struct ovf_hw *hw;
	const char *why; /* the reason of the line kv_parse stops at */
};

/* kv_parse's callback: one `key = value` line into the description. */
static int hw_kv(void *ctx, const char *k, const char *v, int line)
{
	struct hw_ctx *c = ctx;
	char *nic;

	(void)line;
	for (size_t i = 0; i < sizeof(str_keys) / sizeof(str_keys[0]); i++)
		if (!strcmp(k, str_keys[i].key)) {
			if (!copy_str((char *)c->hw + str_keys[i].off, str_keys[i].size, v))
				c->why = "value too long";
			return c->why ? -SPACE_E_FORMAT : 0;
		}
	if (strcmp(k, "nic")) {
		c->why = hw_number(c->hw, k, v);
		return c->why ? -SPACE_E_FORMAT : 0;
	}
	nic = strdup(v); /* parse_nic cuts the value into its words */
	if (!nic)
		return -ENOMEM;
	c->why = parse_nic(c->hw, nic);
	free(nic);
	return c->why ? -SPACE_E_FORMAT : 0;
}

/* What a complete description needs, or the first thing it lacks. */
static const char *hw_check(const struct ovf_hw *hw)
{
	unsigned fam;

	if (!hw->name[0] || !plain_token(hw->name))
		return "name missing or not [A-Za-z0-9_.-]+";
	if (!hw->os_type[0] || !hw->os_description[0])
		return "os_type and os_description are required";
	if (sscanf(hw->hardware_family, "vmx-%u", &fam) != 1 || fam < 4 || fam > 99 || strlen(hw->hardware_family) != 6)
		return "hardware_family must be vmx-NN";
	if (!is_one_of(hw->firmware, firmwares))
		return "firmware must be bios or efi";
	if (!is_one_of(hw->scsi, scsi_types))
		return "scsi must be lsilogic, lsilogicsas, buslogic or VirtualSCSI";
	if (!hw->vcpus || !hw->memory_mib || !hw->disk_gib)
		return "vcpus, memory_mib and disk_gib are required";
	if (!hw->product[0] || !hw->vendor[0])
		return "product and vendor are required";
	if (!hw->eula_file[0])
		return "eula_file is required";
	if (!hw->nnics)
		return "at least one nic is required";
	for (unsigned i = 0; i < hw->nnics; i++)
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(hw->nics[i].network, hw->nics[j].network))
				return "two nics on the same network name";
	return NULL;
}

/* Does line n (1-based) of text hold an '='? kv_parse refuses a key that
 * is not [A-Za-z0-9_.-]+ before asking hw_kv, which would have called it
 * an unknown key. */
static bool line_has_eq(const char *text, int n)
{
	const char *e;

	for (; n > 1 && text; n--)
		text = strchr(text, '\n') ? strchr(text, '\n') + 1 : NULL;
	if (!text)
		return false;
	e = strchr(text, '\n');
	return memchr(text, '=', e ? (size_t)(e - text) : strlen(text)) != NULL;
}

int ovf_hw_parse(const char *text, struct ovf_hw *hw, struct space_err *err)
{
	struct hw_ctx c = { .hw = hw };
	const char *why;
	int line = 0, r;

	memset(hw, 0, sizeof(*hw));
	r = kv_parse(text, strlen(text), hw_kv, &c, &line);
	if (r < 0)
		return err_set(err, r == -ENOMEM ? r : -SPACE_E_FORMAT, "line %d: %s", line,
			       c.why ? c.why : line_has_eq(text, line) ? "unknown key" :
									 "expected `key = value`");
	why = hw_check(hw);
	if (why)
		return err_set(err, -SPACE_E_FORMAT, "%s", why);
	return 0;
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

/* The envelope's start, References and DiskSection. */
static void put_envelope(FILE *f, const struct ovf_disk *disk, uint64_t gib)
{
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\"\n"
	      "          xmlns:cim=\"http://schemas.dmtf.org/wbem/wscim/1/common\"\n"
	      "          xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\"\n"
	      "          xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData\"\n"
	      "          xmlns:vmw=\"http://www.vmware.com/schema/ovf\"\n"
	      "          xmlns:vssd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData\"\n"
	      "          xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
	      "  <References>\n    <File ovf:href=\"",
	      f);
	xml_text(f, disk->href);
	fprintf(f, "\" ovf:id=\"file1\" ovf:size=\"%llu\"/>\n  </References>\n",
		(unsigned long long)disk->file_size);
	fprintf(f, "  <DiskSection>\n    <Info>Virtual disk information</Info>\n"
		   "    <Disk ovf:capacity=\"%llu\" ovf:capacityAllocationUnits=\"byte * 2^30\""
		   " ovf:diskId=\"vmdisk1\" ovf:fileRef=\"file1\""
		   " ovf:format=\"http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized\""
		   " ovf:populatedSize=\"%llu\"/>\n  </DiskSection>\n",
		(unsigned long long)gib, (unsigned long long)disk->populated_bytes);
}

/* NetworkSection: one logical network per nic. */
static void put_networks(FILE *f, const struct ovf_hw *hw)
{
	fputs("  <NetworkSection>\n    <Info>The list of logical networks</Info>\n", f);
	for (unsigned i = 0; i < hw->nnics; i++) {
		fprintf(f, "    <Network ovf:name=\"%s\">\n", hw->nics[i].network);
		elem(f, "      ", "Description", hw->nics[i].description);
		fputs("    </Network>\n", f);
	}
	fputs("  </NetworkSection>\n", f);
}

/* VirtualSystem's start: its name and OperatingSystemSection. */
static void put_system(FILE *f, const struct ovf_hw *hw)
{
	const char *I6 = "      ";

	fprintf(f, "  <VirtualSystem ovf:id=\"%s\">\n    <Info>A virtual machine</Info>\n", hw->name);
	elem(f, "    ", "Name", hw->name);
	fprintf(f, "    <OperatingSystemSection ovf:id=\"%u\" vmw:osType=\"", hw->os_id);
	xml_text(f, hw->os_type);
	fputs("\">\n      <Info>The kind of installed guest operating system</Info>\n", f);
	elem(f, I6, "Description", hw->os_description);
	fputs("    </OperatingSystemSection>\n", f);
}

/* VirtualHardwareSection's start, CPU, memory, SCSI controller and disk;
 * returns the next free InstanceID. */
static unsigned put_hardware(FILE *f, const struct ovf_hw *hw)
{
	const char *I8 = "        ";
	unsigned id = 1;

	fputs("    <VirtualHardwareSection>\n      <Info>Virtual hardware requirements</Info>\n"
	      "      <System>\n"
	      "        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>\n"
	      "        <vssd:InstanceID>0</vssd:InstanceID>\n",
	      f);
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
	return id;
}

/* The nics, the video card and the firmware; the section's end. */
static void put_devices(FILE *f, const struct ovf_hw *hw, unsigned id)
{
	const char *I8 = "        ";

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
		   "    </VirtualHardwareSection>\n",
		hw->firmware);
}

/* ProductSection, EulaSection and the envelope's end. */
static void put_product(FILE *f, const struct ovf_hw *hw, const char *version)
{
	const char *I6 = "      ";

	fputs("    <ProductSection ovf:required=\"false\">\n"
	      "      <Info>Information about the installed software</Info>\n",
	      f);
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
}

int ovf_generate(const struct ovf_hw *hw, const char *version, const struct ovf_disk *disk,
		 char **out, size_t *len)
{
	uint64_t gib = (disk->capacity_bytes + (1ull << 30) - 1) >> 30;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	if (gib < hw->disk_gib)
		gib = hw->disk_gib;
	f = open_memstream(&buf, &n);
	if (!f)
		return -ENOMEM;
	put_envelope(f, disk, gib);
	put_networks(f, hw);
	put_system(f, hw);
	put_devices(f, hw, put_hardware(f, hw));
	put_product(f, hw, version);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	if (len)
		*len = n;
	return 0;
}
