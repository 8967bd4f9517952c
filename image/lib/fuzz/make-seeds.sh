#!/bin/bash
# SPDX-License-Identifier: MIT
# make-seeds.sh OUTDIR - the seeds of fuzz_bootenv: FAT32 ESPs made by
# mkfs.vfat and mtools, as mkimage makes the ESP, holding /grub/grubenv.
#
# A FAT32 that mtools accepts has at least 65525 clusters, so its FAT alone
# is 256 KiB and the directories start past it: too large an input for the
# fuzzer to mutate usefully. Each image is therefore compacted: the FAT is
# cut to the sectors that map the clusters in use (sectors-per-FAT in the
# boot sector changed to match) and the data area moved up behind it. The
# FAT walk sees the same directories and chains; only the cluster count is
# below FAT32's minimum, which bootenv_locate() does not check (nor GRUB).
#   esp        EFI/BOOT/BOOTX64.EFI, grub/grub.cfg, grub/grubenv
#   esp-chain  grub/ holds 40 files before grubenv: its directory spans
#              three clusters (a FAT chain to follow)
#   esp-head   the first 64 KiB of an uncompacted ESP: the walk reads past
#              it (the fuzzer's -EIO)
set -euo pipefail
out=${1:?usage: make-seeds.sh OUTDIR}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export MTOOLS_SKIP_CHECK=1 LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=1700000000

printf '# GRUB Environment Block\nslot_good=a\nver_a=21.3R1.3\nver_b=\n' >"$T/env"
head -c $((512 - $(stat -c %s "$T/env"))) /dev/zero | tr '\0' '#' >>"$T/env"
printf 'set timeout=1\n' >"$T/grub.cfg"
printf 'MZ' >"$T/BOOTX64.EFI"
touch -d @"$SOURCE_DATE_EPOCH" "$T/env" "$T/grub.cfg" "$T/BOOTX64.EFI"

esp() { # IMG FILLERS
	truncate -s 33M "$1"
	mkfs.vfat --invariant -F 32 -S 512 -s 1 -f 1 -R 2 -i 1A2B3C4D "$1" >/dev/null 2>&1
	mmd -i "$1" ::/EFI ::/EFI/BOOT ::/grub
	mcopy -m -i "$1" "$T/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
	mcopy -m -i "$1" "$T/grub.cfg" ::/grub/grub.cfg
	for ((i = 0; i < $2; i++)); do mcopy -m -i "$1" "$T/grub.cfg" "::/grub/f$i.cfg"; done
	mcopy -m -i "$1" "$T/env" ::/grub/grubenv
}

compact() { # IN OUT
	python3 - "$1" "$2" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
rsvd, nfats = struct.unpack_from('<HB', d, 14)
fatsz, = struct.unpack_from('<I', d, 36)
fat = d[rsvd * 512:(rsvd + fatsz) * 512]
data = (rsvd + nfats * fatsz) * 512
used = [c for c in range(2, fatsz * 128) if struct.unpack_from('<I', fat, c * 4)[0] & 0x0FFFFFFF]
top = max(used) + 1
newsz = (top * 4 + 511) // 512
struct.pack_into('<BI', d, 16, 1, 0) # one FAT (bytes 17-20 are FAT12/16 fields, 0 on FAT32)
struct.pack_into('<I', d, 36, newsz)
out = d[:rsvd * 512] + fat[:newsz * 512] + d[data:data + (top - 2) * 512]
open(sys.argv[2], 'wb').write(out)
PY
}

mkdir -p "$out"
esp "$T/a.img" 0
compact "$T/a.img" "$out/esp"
esp "$T/b.img" 40
compact "$T/b.img" "$out/esp-chain"
head -c 65536 "$T/a.img" >"$out/esp-head"
