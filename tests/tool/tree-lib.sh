# tests/tool/tree-lib.sh - the smallest root tree mkimage makes a disk of,
# shared by the tool tests that need a disk (release, install, upgrade,
# growdata). Not bootable: the kernel and initramfs are text, and so are
# the signed UEFI chain's files (image/lib/disk.c efi_chain), which
# mkimage only copies onto the ESP. tests/tool/mkimage.sh boots its own.
# boot_tree DIR: boot/vmlinuz and boot/initrd.img (links to -6.1.0-test),
# the shim and signed GRUB stand-ins.
boot_tree() {
	mkdir -p "$1/boot" "$1/usr/lib/shim" "$1/usr/lib/grub/x86_64-efi-signed"
	printf 'not a kernel\n' > "$1/boot/vmlinuz-6.1.0-test"
	printf 'not an initrd\n' > "$1/boot/initrd.img-6.1.0-test"
	ln -sf vmlinuz-6.1.0-test "$1/boot/vmlinuz"
	ln -sf initrd.img-6.1.0-test "$1/boot/initrd.img"
	printf 'shim stand-in\n' > "$1/usr/lib/shim/shimx64.efi.signed"
	printf 'signed grub stand-in\n' > "$1/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed"
}
