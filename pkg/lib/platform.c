/* SPDX-License-Identifier: MIT */
/* platform.c - the node's target from DMI (platform.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "platform.h"

int read_kernel_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), r = 0;
	size_t off = 0;

	buf[0] = '\0';
	if (fd < 0)
		return -errno;
	while (off + 1 < size) {
		ssize_t k = read(fd, buf + off, size - 1 - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			r = -errno;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	buf[r < 0 ? 0 : off] = '\0';
	close(fd);
	return r;
}

const char *platform_target(const char *vendor, const char *product)
{
	if (strstr(product, "JA2500"))
		return "ja2500";
	if (strstr(vendor, "VMware"))
		return "esxi";
	if (strstr(vendor, "QEMU") || strstr(product, "KVM") || strstr(product, "Standard PC"))
		return "kvm";
	return NULL;
}

/* First line of /sys/class/dmi/id/NAME, "" when missing. */
static void dmi(const char *sys, const char *name, char *out, size_t outlen)
{
	char path[4096], text[256];

	out[0] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s/class/dmi/id/%s", sys, name) >= sizeof(path) ||
	    read_kernel_text(path, text, sizeof(text)) < 0)
		return;
	snprintf(out, outlen, "%.*s", (int)strcspn(text, "\n"), text);
}

int platform_detect(const char *sys, struct platform *p)
{
	dmi(sys, "sys_vendor", p->vendor, sizeof(p->vendor));
	dmi(sys, "product_name", p->product, sizeof(p->product));
	p->target = platform_target(p->vendor, p->product);
	return p->target ? 0 : -ENODEV;
}

int platform_secure_boot(const char *sys)
{
	/* 4 bytes of attributes, then the value: 1 on, 0 off (UEFI 2.x, 3.3) */
	static const char var[] = "/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";
	unsigned char b[5];
	char path[512];
	ssize_t n;
	int fd, r;

	if (snprintf(path, sizeof(path), "%s/firmware/efi", sys) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	if (snprintf(path, sizeof(path), "%s%s", sys, var) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -errno;
	n = read(fd, b, sizeof(b));
	r = n < 0 ? -errno : n != (ssize_t)sizeof(b) ? -EIO :
						       b[4] == 1;
	close(fd);
	return r;
}
