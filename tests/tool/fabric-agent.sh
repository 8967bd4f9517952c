#!/bin/bash
# tests/tool/fabric-agent.sh - the fabric agent on a scratch root: what a
# peer may ask over SSH (SSH_ORIGINAL_COMMAND), the keys it authorizes with
# the agent as forced command, the configuration it accepts, and refusals
# that change nothing. (The SSH trust itself, with dropbear, is driven in
# QEMU by tests/e2e/test_fabric.py.)
set -u
. "$(dirname "$0")/lib.sh"
W=$(mktemp -d /tmp/fabric-agent.XXXXXX)
trap 'rm -rf "$W"' EXIT
A=$BIN/fabric-agent
R=$W/root
mkdir -p "$R/var/etc/fabric" "$R/root/.ssh" "$R/etc"
# the slot's symlink into /var, as on a node
ln -s ../var/etc/space-cluster.conf "$R/etc/space-cluster.conf"
agent() { "$A" --root "$R" "$@"; }
key() { ssh-keygen -q -t ed25519 -N '' -C "$1" -f "$W/$1" && cut -d' ' -f1,2 "$W/$1.pub"; }
OWN=$(key own) K1=$(key n1) K2=$(key n2)
# this node's key pair, as dropbearkey left it (the agent keeps the public half)
cp "$W/own" "$R/var/etc/fabric/id_ed25519"
echo "$OWN root@node" > "$R/var/etc/fabric/id_ed25519.pub"
echo "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 operator@laptop" > "$R/root/.ssh/authorized_keys"

expect_rc "pubkey prints this node's key" 0 agent pubkey
is "  the key itself, no comment" "$(cat "$W/out")" "$OWN"
expect_rc "accept n1: its key may run the agent here" 0 agent accept n1 <<<"$K1 anything"
is "  accept prints this node's key" "$(cat "$W/out")" "$OWN"
check "  authorized_keys: n1's key with the agent as forced command, no pty or forwarding" \
	grep -qxF "command=\"/usr/sbin/fabric-agent\",no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-pty $K1 fabric:n1" "$R/root/.ssh/authorized_keys"
check "  the operator's own key line is kept" grep -q "operator@laptop" "$R/root/.ssh/authorized_keys"
is "  mode 0600" "$(stat -c %a "$R/root/.ssh/authorized_keys")" 600
is "  nodes.keys lists n1" "$(cat "$R/var/etc/fabric/nodes.keys")" "n1 $K1"
expect_rc "accept n1 again with a new key: replaced, not added" 0 agent accept n1 <<<"$K2"
is "  one fabric line" "$(grep -c fabric: "$R/root/.ssh/authorized_keys")" 1

cp -a "$R" "$W/before"
same() { diff -r --no-dereference "$W/before" "$R" >/dev/null; }
expect_rc "accept refuses an RSA key (1)" 1 agent accept n3 <<<"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7"
check "  one line: fabric-agent: accept n3: not an ssh-ed25519 public key" grep -qx "fabric-agent: accept n3: not an ssh-ed25519 public key" "$W/err"
expect_rc "accept refuses a key with a forced command of its own smuggled in (1)" 1 agent accept n3 <<<"command=\"sh\" $K1"
expect_rc "accept refuses a name with a slash (100)" 100 agent accept ../x <<<"$K1"
check "  nothing changed" same

# over SSH: the verb is SSH_ORIGINAL_COMMAND; no shell, no options
over() { SSH_ORIGINAL_COMMAND=$1 "$A"; }
expect_rc "over SSH: a shell command is refused (100)" 100 over 'sh -c id'
expect_rc "over SSH: --root is not taken from a peer (100)" 100 over "--root $W info"
expect_rc "over SSH: an unterminated quote is refused (100)" 100 over "accept 'x"
expect_rc "over SSH: too many words (100)" 100 over "accept a b"
check "  nothing changed" same

cat > "$W/c2" <<EOF2
version = 2
vip = 10.9.0.100/24
node = 10.9.0.1/24 n1
node = 10.9.0.2/24 n2
EOF2
expect_rc "conf-put version 2" 0 agent conf-put < "$W/c2"
check "  written as sent, through the slot's symlink into /var" cmp "$W/c2" "$R/var/etc/space-cluster.conf"
check "  the symlink stays" test -L "$R/etc/space-cluster.conf"
sed 's/version = 2/version = 1/' "$W/c2" > "$W/c1"
expect_rc "conf-put of an older version is refused (1)" 1 agent conf-put < "$W/c1"
check "  and says so" grep -q "version 1 is older than this node's 2" "$W/err"
expect_rc "conf-put of a malformed file is refused (1)" 1 agent conf-put <<<"version = 3"
check "  the configuration is the one before" cmp "$W/c2" "$R/etc/space-cluster.conf"
head -c 20000 /dev/zero | tr '\0' '#' > "$W/big"
expect_rc "conf-put of more than 16 KiB is refused" 111 agent conf-put < "$W/big"

printf '%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$W/hk"
expect_rc "key-put: 64 hex digits" 0 agent key-put < "$W/hk"
is "  mode 0600" "$(stat -c %a "$R/var/etc/fabric/key")" 600
expect_rc "key-put: a short key is refused (1)" 1 agent key-put <<<"abcd"
check "  the key is kept" cmp "$W/hk" "$R/var/etc/fabric/key"

printf 'n1 %s\nn2 %s\n' "$K1" "$K2" > "$W/keys"
expect_rc "keys-put: two nodes" 0 agent keys-put < "$W/keys"
is "  two fabric lines" "$(grep -c fabric: "$R/root/.ssh/authorized_keys")" 2
printf 'n1 %s\nn1 %s\n' "$K1" "$K2" > "$W/dup"
expect_rc "keys-put: a name twice is refused (1)" 1 agent keys-put < "$W/dup"
: > "$W/nine"; for i in 1 2 3 4 5 6 7 8 9; do echo "x$i $K1" >> "$W/nine"; done
expect_rc "keys-put: nine keys (the table holds 8) are refused (1)" 1 agent keys-put < "$W/nine"
is "  still two fabric lines" "$(grep -c fabric: "$R/root/.ssh/authorized_keys")" 2

printf 'PRODUCT = space\nVERSION = 21.3R1.1\n' > "$R/etc/space-release"
: > "$R/etc/.Space-21.3R1-Hotpatch-v1"; : > "$R/etc/.Space-21.3R1-Hotpatch-v2"
expect_rc "info answers in KEY = VALUE lines" 0 agent info
check "  its fabric version" grep -qx "fabric_version = 2" "$W/out"
check "  its release" grep -qx "release = 21.3R1.1" "$W/out"
check "  its hot-patch level, from the markers" grep -qx "hotpatch_level = 2" "$W/out"
check "  no watchdog here: services unknown (-1)" grep -qx "services_total = -1" "$W/out"
check "  it does not hold the VIP" grep -qx "holds_vip = no" "$W/out"
check "  no upgrade yet: idle" grep -qx "upgrade_state = idle" "$W/out"
check "  this boot's id" grep -qx "boot_id = $(cat /proc/sys/kernel/random/boot_id)" "$W/out"
mkdir -p "$R/var/lib/upgrade" && printf 'state = failed\nrelease = 21.3R2\nreason = trial of 21.3R2: services not ready\n' > "$R/var/lib/upgrade/status"
expect_rc "info after a failed upgrade" 0 agent info
check "  its state, release and reason" grep -qx "upgrade_reason = trial of 21.3R2: services not ready" "$W/out"

head -c 100000 /dev/urandom > "$W/bundle"
expect_rc "put: a bundle from the VIP node" 0 agent put Space-21.3R1-Hotpatch-v2.tgz < "$W/bundle"
check "  kept as sent in /var/tmp/fabric, no part file left" cmp "$W/bundle" "$R/var/tmp/fabric/Space-21.3R1-Hotpatch-v2.tgz"
is "  nothing else there" "$(ls -A "$R/var/tmp/fabric")" "Space-21.3R1-Hotpatch-v2.tgz"
for bad in ../x.tgz .hidden.tgz x.tar 'a b.tgz' ../x.img x.img.tgz.sh; do
	expect_rc "put refuses the name '$bad' (100)" 100 agent put "$bad" < "$W/bundle"
done
expect_rc "put: a release image from the VIP node" 0 agent put space-21.3R2.img < "$W/bundle"
check "  kept beside the bundle" cmp "$W/bundle" "$R/var/tmp/fabric/space-21.3R2.img"
expect_rc "over SSH: upgrade-stage of a path is refused (100)" 100 over "upgrade-stage ../../x.img"
expect_rc "over SSH: upgrade-stage of a bundle is refused (100)" 100 over "upgrade-stage Space-21.3R1-Hotpatch-v2.tgz"
expect_rc "over SSH: upgrade-boot takes no argument (100)" 100 over "upgrade-boot now"
expect_rc "over SSH: hotpatch-apply of a path is refused (100)" 100 over "hotpatch-apply ../../etc/x.tgz"
expect_rc "over SSH: gate with another word is refused (100)" 100 over "gate open"
expect_rc "log without a hot-patch log: nothing, exit 0" 0 agent log
mkdir -p "$R/var/log/hotpatch" && seq 1 20000 > "$R/var/log/hotpatch/hotpatch.log"
expect_rc "log: the end of the hot-patch log" 0 agent log
is "  its last line" "$(tail -1 "$W/out")" 20000
check "  at most 16 KiB of it" test "$(wc -c < "$W/out")" -le 16384

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/vip.key" -out "$W/vip.crt" \
	-subj /CN=n1 -days 1 2>/dev/null
expect_rc "pin: the VIP node's certificate" 0 agent pin 10.9.0.1 < "$W/vip.crt"
check "  pinned as peers/10.9.0.1.pem" cmp "$W/vip.crt" "$R/var/etc/fabric/peers/10.9.0.1.pem"
expect_rc "pin: a key is not a certificate (1)" 1 agent pin 10.9.0.3 < "$W/vip.key"
expect_rc "pin: junk is refused (1)" 1 agent pin 10.9.0.3 <<<"-----BEGIN CERTIFICATE-----"
check "  nothing pinned for them" test ! -e "$R/var/etc/fabric/peers/10.9.0.3.pem"
for bad in 10.9.0.1/24 ../x 10.9.0; do
	expect_rc "pin refuses the address '$bad' (100)" 100 agent pin "$bad" < "$W/vip.crt"
done
expect_rc "leave" 0 agent leave
check "  the pinned certificates are gone" test -z "$(ls -A "$R/var/etc/fabric/peers")"
check "  the configuration, keys and fabric lines are gone" test ! -e "$R/var/etc/space-cluster.conf" -a ! -e "$R/var/etc/fabric/key" -a ! -e "$R/var/etc/fabric/nodes.keys"
is "  no fabric line is left" "$(grep -c fabric: "$R/root/.ssh/authorized_keys")" 0
check "  the operator's line stays" grep -q "operator@laptop" "$R/root/.ssh/authorized_keys"
done_testing
