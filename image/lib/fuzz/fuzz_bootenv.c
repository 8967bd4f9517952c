/* SPDX-License-Identifier: MIT */
/* fuzz_bootenv.c - libFuzzer target: the FAT32 walk to /grub/grubenv
 * (bootenv_locate) and the environment block parser (grub_env_get,
 * grub_env_set). The upgrader and `mkimage bootenv` read both from a disk
 * whose ESP anyone with the disk could have written.
 *
 * The input is the start of an ESP of FUZZ_ESP_LEN bytes; a read past the
 * input is a disk error (-EIO), a read past the ESP is a bug (abort). The
 * seeds (make-seeds.sh) are FAT32 file systems made by mkfs.vfat and
 * mtools. Beyond not crashing: a located block is a whole sector inside the
 * ESP (the rewrite is one sector write); in a block that parses, a value
 * set reads back, a second identical set changes nothing, and a removed
 * key is gone. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/lib/bootenv.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ESP_LEN (64ull << 20)

struct input {
	const uint8_t *p;
	size_t n;
};

static int read_input(void *ctx, void *buf, size_t n, uint64_t off)
{
	const struct input *in = ctx;

	if (off > FUZZ_ESP_LEN || n > FUZZ_ESP_LEN - off)
		abort(); /* outside the partition: the geometry checks failed */
	if (off > in->n || n > in->n - off)
		return -EIO;
	memcpy(buf, in->p + off, n);
	return 0;
}

/* set, read back, set again (no change), remove */
static void env_round_trip(const char block[GRUBENV_SIZE], const char *key, const char *value)
{
	char env[GRUBENV_SIZE], again[GRUBENV_SIZE], got[GRUBENV_SIZE];
	int r;

	memcpy(env, block, GRUBENV_SIZE);
	r = grub_env_set(env, key, value);
	if (r == -ENOSPC || r == -SPACE_E_FORMAT) {
		if (memcmp(env, block, GRUBENV_SIZE))
			abort(); /* a refusal left the block changed */
		return;
	}
	if (r || grub_env_get(env, key, got, sizeof(got)) || strcmp(got, value))
		abort();
	memcpy(again, env, GRUBENV_SIZE);
	if (grub_env_set(again, key, value) || memcmp(again, env, GRUBENV_SIZE))
		abort();
	if (grub_env_set(env, key, NULL) || grub_env_get(env, key, got, sizeof(got)) != -ENOENT)
		abort();
}

static void env_check(const char block[GRUBENV_SIZE])
{
	static const char *const keys[] = { GRUBENV_SLOT_GOOD, GRUBENV_SLOT_TRY, GRUBENV_TRY_LEFT,
					    "ver_a", "ver_b", "next_entry" };
	char v[64];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int r = grub_env_get(block, keys[i], v, sizeof(v));

		if (r && r != -ENOENT && r != -ENAMETOOLONG && r != -SPACE_E_FORMAT)
			abort();
		if (!r && strlen(v) >= sizeof(v))
			abort();
	}
	env_round_trip(block, GRUBENV_SLOT_TRY, "b");
	env_round_trip(block, "ver_b", "21.3R2.1");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct space_err why = { "" };
	char block[GRUBENV_SIZE];
	uint64_t off = 0;
	int r = bootenv_locate(read_input, &in, FUZZ_ESP_LEN, &off, &why);

	if (r == -SPACE_E_FORMAT && !why.msg[0])
		abort(); /* a refusal says why */
	if (r < 0 && r != -SPACE_E_FORMAT && r != -EIO)
		abort();
	if (r < 0)
		return 0;
	if (off % 512 || off > FUZZ_ESP_LEN - GRUBENV_SIZE)
		abort();
	if (off + GRUBENV_SIZE <= size) {
		memcpy(block, data + off, GRUBENV_SIZE);
		env_check(block);
	}
	return 0;
}
