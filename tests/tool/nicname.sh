#!/bin/bash
# tests/tool/nicname.sh - nicname against a sysfs tree (--sys) that puts
# interfaces at PCI paths and says which platform DMI reports:
#  - JA2500 (DMI product name): the four ports become eth0..eth3 by path,
#    an add-in card eth4; kvm or an unknown platform: nothing renamed;
#  - a port with no NIC: 1, the others are named; a bad table: 1 naming the
#    file and line; more interfaces than the bound: 111; usage: 100;
#  - in a network namespace (unshare -rn) with veth interfaces standing in
#    for the NICs, the real SIOCSIFNAME renames: the kernel's names are
#    swapped through temporary names, a second run renames nothing, an
#    interface that is up is refused.
# Env: BIN (nicname), TOP.
set -euo pipefail
BIN=${BIN:-out/bin}
TOP=${TOP:-.}
NN=$BIN/nicname
CONF=$TOP/pkg/nicname/files/etc/nicname.conf
P0=pci0000:00/0000:00:1c.0/0000:01:00.0
P1=pci0000:00/0000:00:1c.1/0000:02:00.0
P2=pci0000:00/0000:00:1c.2/0000:03:00.0
P3=pci0000:00/0000:00:1c.2/0000:03:00.1
PADD=pci0000:00/0000:00:03.0
# pass, fail, check, expect_rc, done_testing (they use $W, set below)
. "$(dirname "$0")/lib.sh"

# tree DIR PRODUCT NAME:IFINDEX:PATH... - a sysfs tree: DMI, and each
# interface with its ifindex and (PATH not "-") its device.
tree() {
	local d=$1 product=$2 e name idx path
	shift 2
	rm -rf "$d" && mkdir -p "$d/class/net" "$d/class/dmi/id" "$d/devices"
	echo "Juniper Networks" > "$d/class/dmi/id/sys_vendor"
	echo "$product" > "$d/class/dmi/id/product_name"
	for e in "$@"; do
		IFS=: read -r name idx path <<<"$e"
		mkdir -p "$d/class/net/$name"
		echo "$idx" > "$d/class/net/$name/ifindex"
		if [ "$path" != - ]; then
			mkdir -p "$d/devices/$path"
			ln -s "../../../devices/$path" "$d/class/net/$name/device"
		fi
	done
}

# ---------------------------------------------------------------- in a netns
# Run as `nicname.sh --netns DIR` inside unshare -rn: veth interfaces
# eth0..eth4 (peers p0..p4) as QEMU's JA2500 names them (tests/e2e/ja2500.py).
if [ "${1:-}" = --netns ]; then
	n=$TAP_N # numbered on from the caller's points; the count goes back in $W/tap.n
	W=$2
	paths=("$PADD" "$P2" "$P3" "$P0" "$P1")
	for i in 0 1 2 3 4; do ip link add "eth$i" type veth peer name "p$i"; done
	idx() { ip -o link show "$1" | cut -d: -f1; }
	# the tree of the interfaces as they are now
	now() {
		local args=() i n
		for i in 0 1 2 3 4; do
			n=$(ip -o link | awk -F': ' -v x="$(cat "$W/idx$i")" '$1 == x { sub("@.*", "", $2); print $2 }')
			args+=("$n:$(cat "$W/idx$i"):${paths[$i]}")
		done
		tree "$W/sys" JA2500 "${args[@]}" "lo:1:-"
	}
	for i in 0 1 2 3 4; do idx "eth$i" > "$W/idx$i"; done
	now
	expect_rc "netns: nicname renames the veth NICs" 0 "$NN" -v --sys "$W/sys" -c "$CONF"
	got=$(for n in eth0 eth1 eth2 eth3 eth4; do idx "$n"; done | tr '\n' ' ')
	want="$(cat "$W/idx3") $(cat "$W/idx4") $(cat "$W/idx1") $(cat "$W/idx2") $(cat "$W/idx0") "
	check "netns: eth0..eth3 are the ports' interfaces, eth4 the add-in card's ($got)" test "$got" = "$want"
	check "netns: -v says each rename" grep -qx "nicname: renamed eth3 -> eth0 ($P0)" "$W/out"
	check "netns: no temporary name is left" bash -c "! ip -o link | grep -q nntmp"
	check "netns: the peers are untouched" test "$(ip -o link | grep -c ': p[0-4]@')" = 5
	now
	expect_rc "netns: a second run" 0 "$NN" -v --sys "$W/sys" -c "$CONF"
	check "netns: ... renames nothing" test ! -s "$W/out"
	# kernel names again, one interface up
	for i in 0 1 2 3 4; do ip link set dev "$(ip -o link | awk -F': ' -v x="$(cat "$W/idx$i")" \
		'$1 == x { sub("@.*", "", $2); print $2 }')" name "k$i"; done
	for i in 0 1 2 3 4; do ip link set dev "k$i" name "eth$i"; done
	ip link set eth3 up
	now
	# Linux refuses to rename an interface that is up before 6.2 (the
	# appliance's 6.1), and allows it since.
	IFS=. read -r kmaj kmin _ <<<"$(uname -r)"
	if [ "$kmaj" -lt 6 ] || { [ "$kmaj" = 6 ] && [ "$kmin" -lt 2 ]; }; then
		expect_rc "netns: an interface that is up (Linux $kmaj.$kmin)" 111 "$NN" --sys "$W/sys" -c "$CONF"
		check "netns: ... is named in one line" \
			grep -qx "nicname: name NICs: eth3 -> nntmp$(cat "$W/idx3"): .*it is up.*" "$W/out"
	else
		expect_rc "netns: an interface that is up is renamed too (Linux $kmaj.$kmin >= 6.2)" 0 \
			"$NN" --sys "$W/sys" -c "$CONF"
		check "netns: ... to its port's name" test "$(idx eth0)" = "$(cat "$W/idx3")"
	fi
	echo "$n" > "$W/tap.n"
	exit "$fails"
fi
# A shell error in the part above (a failed $((...)) expansion) ends its
# "if", not the script: stop here, or this run would go on with the main
# part and start the namespace part again, in a nested namespace, for ever.
if [ "${1:-}" = --netns ]; then
	fail "the part in the namespace ended early (a shell error above)"
	echo "$n" >"$W/tap.n"
	exit 1
fi

W=$(mktemp -d "${O:-/tmp}/nicname-test.XXXXXX")
trap 'rm -rf "$W"' EXIT

expect_rc "--help" 0 "$NN" --help
check "--help points at the exit codes" grep -q "README.md, Exit codes" "$W/out"
expect_rc "an unknown option is a usage error" 100 "$NN" --frobnicate
expect_rc "an argument is a usage error" 100 "$NN" eth0

QEMU=("eth0:2:$PADD" "eth1:3:$P2" "eth2:4:$P3" "eth3:5:$P0" "eth4:6:$P1" "lo:1:-" "br0:7:-")
tree "$W/sys" JA2500 "${QEMU[@]}"
expect_rc "JA2500, dry run" 0 "$NN" --dry-run --sys "$W/sys" -c "$CONF"
cat > "$W/want" <<EOF
nicname: would rename eth0 -> eth4 ($PADD)
nicname: would rename eth1 -> eth2 ($P2)
nicname: would rename eth2 -> eth3 ($P3)
nicname: would rename eth3 -> eth0 ($P0)
nicname: would rename eth4 -> eth1 ($P1)
EOF
check "the ports become eth0..eth3 by path, the add-in card eth4" diff <(sort "$W/out") "$W/want"

tree "$W/kvm" "Standard PC (Q35 + ICH9, 2009)" "${QEMU[@]}"
sed -i 's/Juniper Networks/QEMU/' "$W/kvm/class/dmi/id/sys_vendor"
expect_rc "kvm (DMI QEMU)" 0 "$NN" -v --dry-run --sys "$W/kvm" -c "$CONF"
check "... nothing renamed: no ports for kvm" grep -qx "nicname: no ports for target kvm in $CONF: names left as they are" "$W/out"
tree "$W/esxi" "VMware7,1" "${QEMU[@]}"
sed -i 's/Juniper Networks/VMware, Inc./' "$W/esxi/class/dmi/id/sys_vendor"
expect_rc "esxi (DMI VMware), not verbose" 0 "$NN" --dry-run --sys "$W/esxi" -c "$CONF"
check "... silent" test ! -s "$W/out"
tree "$W/other" "PowerEdge R640" "${QEMU[@]}"
expect_rc "an unknown platform" 0 "$NN" -v --dry-run --sys "$W/other" -c "$CONF"
check "... is left alone, and -v says why" grep -q "unknown platform (DMI vendor 'Juniper Networks', product 'PowerEdge R640')" "$W/out"
expect_rc "--target ja2500 on it" 0 "$NN" --dry-run --target ja2500 --sys "$W/other" -c "$CONF"
check "... names as on a JA2500" diff <(sort "$W/out") "$W/want"

tree "$W/miss" JA2500 "eth0:2:$P0" "eth1:3:$P1" "eth2:4:$PADD" "eth3:5:$P3"
expect_rc "port 2 without a NIC: refused" 1 "$NN" --dry-run --sys "$W/miss" -c "$CONF"
check "... naming the port" grep -qx "nicname: name eth2: no NIC at $P2: the name stays unused" "$W/out"
check "... the add-in card gets eth4, not eth2" grep -qx "nicname: would rename eth2 -> eth4 ($PADD)" "$W/out"

tree "$W/virt" JA2500 "eth0:2:$P0" "eth1:3:-" "eth2:4:$P1"
expect_rc "a port's name held by a virtual interface: refused" 1 "$NN" --dry-run --sys "$W/virt" -c "$CONF"
check "... in one line" grep -qx "nicname: name NICs: eth1, the name of the port at $P1, is held by an interface without a device" "$W/out"

# the interface bound: 64 are named, 65 refused
many=("eth0:2:$P0" "eth1:3:$P1" "eth2:4:$P2" "eth3:5:$P3")
for i in $(seq 4 63); do many+=("eth$i:$((i + 2)):pci0000:00/0000:$(printf %02x "$i"):00.0"); done
tree "$W/many" JA2500 "${many[@]}" "lo:1:-" "bond0:99:-"
expect_rc "64 interfaces" 0 "$NN" --dry-run --sys "$W/many" -c "$CONF"
tree "$W/many" JA2500 "${many[@]}" "eth64:66:pci0000:00/0000:40:00.0"
expect_rc "65 interfaces: refused" 111 "$NN" --dry-run --sys "$W/many" -c "$CONF"
check "... saying so" grep -qx "nicname: name NICs: more than 64 network interfaces" "$W/out"

printf 'ja2500 eth0 %s\nja2500 eth0 %s\n' "$P0" "$P1" > "$W/dup.conf"
expect_rc "a name given twice: refused" 1 "$NN" --dry-run --sys "$W/sys" -c "$W/dup.conf"
check "... naming the file and line" grep -qx "nicname: read $W/dup.conf: line 2: name eth0 of ja2500 is given on line 1 too" "$W/out"
printf 'kvm eth0 %s\nbad\n' "$P0" > "$W/bad.conf"
expect_rc "a bad table is refused on any target" 1 "$NN" --dry-run --sys "$W/kvm" -c "$W/bad.conf"
{ cat "$CONF"; head -c 16384 /dev/zero | tr '\0' '#'; } > "$W/big.conf"
expect_rc "a table over 16 KiB: refused" 1 "$NN" --dry-run --sys "$W/sys" -c "$W/big.conf"
expect_rc "no table: a system failure" 111 "$NN" --dry-run --sys "$W/sys" -c "$W/none.conf"
check "... in one line" grep -qx "nicname: read $W/none.conf: No such file or directory" "$W/out"

# The real renames, where a network namespace can be made.
if unshare -rn ip link add t0 type veth peer name t1 2>/dev/null; then
	rc=0
	W="$W" BIN="$BIN" TOP="$TOP" TAP_N=$n unshare -rn bash "$0" --netns "$W" || rc=$?
	fails=$((fails + rc))
	n=$(cat "$W/tap.n" 2>/dev/null || echo "$n")
else
	skip "no network namespace with veth here (unshare -rn): the renames are left to tests/e2e"
fi

done_testing
