#!/bin/sh
# check-kernel.sh CONFIG MODDIR INITRD FRAGMENT... - check a kernel against
# the fragments (format in common.config). Prints one line per missing
# option and exits 1 if any; prints a summary otherwise.
set -eu
config=$1 moddir=$2 initrd=$3
shift 3
inram=$(mktemp)
trap 'rm -f "$inram"' EXIT
# The initramfs is a gzip'd cpio: list it once.
zcat "$initrd" | cpio -t --quiet 2>/dev/null | sed -n 's|.*/\([^/]*\)\.ko\(\.[a-z]*\)\{0,1\}$|\1|p' |
	tr '-' '_' | sort -u > "$inram"
awk -v moddir="$moddir" -v inram="$inram" '
	FNR == 1 { frag = FILENAME; sub(".*/", "", frag) }
	FILENAME == ARGV[1] {
		if (match($0, /^CONFIG_[A-Za-z0-9_]+=/)) { k = substr($0, 1, RLENGTH - 1); cfg[k] = substr($0, RLENGTH + 1) }
		next
	}
	/^[ \t]*(#|$)/ { next }
	{
		opt = $1; mod = $2; need = $3; checked++
		v = (opt in cfg) ? cfg[opt] : "n"
		if (v == "y") next
		if (need == "y") { printf "check-kernel: %s: %s is %s, must be =y\n", frag, opt, v; bad++; next }
		if (v != "m") { printf "check-kernel: %s: %s is not set (need =y or =m)\n", frag, opt; bad++; next }
		# module file names mix "-" and "_"; the kernel treats them alike
		m = mod; gsub("-", "_", m); d = mod; gsub("_", "-", d)
		cmd = "find " moddir " -name \"" m ".ko*\" -o -name \"" d ".ko*\" | head -n1"
		found = ""; cmd | getline found; close(cmd)
		if (found == "") { printf "check-kernel: %s: %s=m but module %s is not shipped\n", frag, opt, mod; bad++; next }
		if (need == "boot") {
			cmd = "grep -qx \"" m "\" " inram; if (system(cmd) != 0) {
				printf "check-kernel: %s: %s=m but module %s is not in the initramfs\n", frag, opt, mod; bad++ }
		}
	}
	END { if (bad) exit 1; printf "check-kernel: %d options ok\n", checked }
' "$config" "$@"
