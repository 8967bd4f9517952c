/* SPDX-License-Identifier: MIT */
/* test_ovf.c - hardware description parser and OVF generator. Schema
 * validation with xmllint runs in tests/tool/ova.sh. */
#include <stdlib.h>
#include <string.h>

#include "image/ovf/ovf.h"
#include "tap.h"
#include "util.h"

static const char good[] =
	"# comment\n"
	"name = space\nos_id = 101\nos_type = other3xLinux64Guest\n"
	"os_description = Debian 12 <64-bit> & more\nhardware_family = vmx-14\nfirmware = bios\n"
	"vcpus = 4\nmemory_mib = 8192\ndisk_gib = 233\nscsi = lsilogic\n"
	"nic = E1000 eth0-net Management network\n"
	"nic = E1000 eth1-net Device network\n"
	"product = Space\nvendor = Space project\neula_file = eula.txt\n";

static int parse_with(const char *replace_from, const char *replace_to, char *err, size_t errlen)
{
	struct ovf_hw hw;
	struct space_err e = { "" };
	char buf[2048], *p;
	int r;

	strcpy(buf, good);
	p = strstr(buf, replace_from);
	if (p) {
		size_t fl = strlen(replace_from), tl = strlen(replace_to);
		memmove(p + tl, p + fl, strlen(p + fl) + 1);
		memcpy(p, replace_to, tl);
	}
	r = ovf_hw_parse(buf, &hw, &e);
	snprintf(err, errlen, "%s", e.msg);
	ovf_hw_free(&hw);
	return r;
}

/* a good hardware description, and the OVF made from it */
static void test_generate(void)
{
	struct ovf_hw hw;
	struct ovf_disk d = { "space-1-disk1.vmdk", 106835456, 8589934592ull, 409403392 };
	struct space_err err = { "" };
	char *x = NULL;
	size_t len = 0;

	is_int(ovf_hw_parse(good, &hw, &err), 0, "good description parses (%s)", err.msg);
	is_int(hw.vcpus, 4, "vcpus");
	is_int(hw.memory_mib, 8192, "memory");
	is_int(hw.nnics, 2, "two nics");
	ok(!strcmp(hw.nics[1].description, "Device network"), "nic description keeps its words");
	hw.eula = strdup("Terms & conditions");
	is_int(ovf_generate(&hw, "21.3R1.1", &d, &x, &len), 0, "generate");
	ok(x && strlen(x) == len, "length reported");
	ok(x && strstr(x, "ovf:size=\"106835456\""), "ovf:size is the VMDK byte size");
	ok(x && strstr(x, "ovf:capacity=\"233\" ovf:capacityAllocationUnits=\"byte * 2^30\""),
	   "capacity from the description when it is larger than the VMDK");
	ok(x && strstr(x, "<vssd:VirtualSystemType>vmx-14</vssd:VirtualSystemType>"), "hardware family");
	ok(x && strstr(x, "<rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>"), "SCSI controller type");
	ok(x && strstr(x, "Debian 12 &lt;64-bit&gt; &amp; more"), "text is XML-escaped");
	ok(x && strstr(x, "<License>Terms &amp; conditions</License>"), "EULA included");
	ok(x && strstr(x, "<rasd:Connection>eth1-net</rasd:Connection>"), "NIC connected to its network");
	free(x);
	d.capacity_bytes = 300ull << 30 | 1;
	x = NULL;
	ovf_generate(&hw, "v", &d, &x, &len);
	ok(x && strstr(x, "ovf:capacity=\"301\""), "capacity covers a larger VMDK (rounded up)");
	free(x);
	ovf_hw_free(&hw);
}

static void test_refusals(void)
{
	char err[160] = "";

	is_int(parse_with("vcpus = 4", "vcpus = 0", err, sizeof(err)), -SPACE_E_FORMAT, "vcpus 0 refused");
	ok(strstr(err, "line 8") != NULL, "error names the line: %s", err);
	is_int(parse_with("scsi = lsilogic", "scsi = nvme", err, sizeof(err)), -SPACE_E_FORMAT, "unknown SCSI refused");
	is_int(parse_with("hardware_family = vmx-14", "hardware_family = virtualbox-2.2", err, sizeof(err)),
	       -SPACE_E_FORMAT, "non-vmx hardware family refused");
	is_int(parse_with("nic = E1000 eth1-net", "nic = E1000 eth0-net", err, sizeof(err)), -SPACE_E_FORMAT,
	       "two NICs on one network refused");
	is_int(parse_with("nic = E1000 eth0-net", "nic = E1000 \"eth0\"", err, sizeof(err)), -SPACE_E_FORMAT,
	       "network name with quotes refused (it goes into an attribute)");
	is_int(parse_with("name = space", "colour = red", err, sizeof(err)), -SPACE_E_FORMAT, "unknown key refused");
	ok(strstr(err, "unknown key") != NULL, "reason given: %s", err);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/ovf/generate", test_generate },
		{ "/ovf/refusals", test_refusals },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
