#!/bin/bash
# tests/tool/fabricd.sh - fabricd, the fabric's virtual-IP daemon:
#  - --help, usage errors (100); standalone (no configuration): ready, idle,
#    SIGHUP, SIGTERM exits 0;
#  - in network namespaces (unshare -rn; one per node, nested with
#    unshare -n, joined by veth to a bridge), three nodes n1 n2 n3 with
#    takeover 2 s:
#    - n1, first in the order, claims the VIP after listening; n3, whose
#      fabric address was on lo only, gets it added on eth0;
#    - a flood of junk datagrams from a node's address and from an address
#      outside the fabric is counted and changes nothing;
#    - n1 dies (its namespace goes): n2 claims the VIP, though an impostor
#      that took n1's address keeps sending heartbeats with a bad HMAC and
#      replays n1's recorded genuine ones; n3's neighbour entry for the VIP
#      moves to n2's MAC by the gratuitous ARP alone;
#    - n1 comes back: it does not take the VIP back;
#    - two holders (n3 starts with the VIP on its eth0): n3, later in the
#      order, deletes it; n2 keeps it;
#    - SIGTERM on the holder keeps the address: nobody claims it (their ARP
#      probe is answered), and the restarted daemon holds it at once;
#    - the holder's configuration removed: it releases the VIP, n1 claims;
#    - the VIP deleted from the holder's eth0 by hand: added again;
#    - a node started with the VIP on eth0 but no longer in the node list
#      deletes it.
#  Without network namespaces the second part is skipped.
#  --takeover-time T RUNS (inside unshare -rn, for tests/bench/fabricd.sh):
#  two nodes with takeover T; the holder's namespace is destroyed RUNS
#  times, printing the seconds until the VIP is on the other node.
# "Within N s" bounds below are generous waits, not speed measurements.
# Env: BIN (fabricd), O.
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/out/bin}
FD=$BIN/fabricd
VIP=10.9.0.100
IPCMD=$(command -v ip || echo /usr/sbin/ip)
. "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- helpers
declare -A KEEPER FDPID

# now: seconds since the epoch, to the millisecond
now() { date +%s.%N | cut -c1-14; }

# wait_for SECS CMD...: until CMD succeeds (every 0.1 s); 1 after SECS
wait_for() {
	local end=$(($(date +%s) + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

nse() { local pid=$1; shift; nsenter -t "$pid" -n -- "$@"; }
in_node() { local n=$1; shift; nse "${KEEPER[$n]}" "$@"; }

# own_netns PID: PID runs in a network namespace of its own (unshare done)
own_netns() { [ "$(readlink "/proc/$1/ns/net")" != "$(readlink /proc/self/ns/net)" ]; }

# node_up NAME INDEX [lo]: a namespace with eth0 on the bridge and the
# node's address 10.9.0.INDEX/24 on eth0 (or 10.9.0.INDEX/32 on lo, or
# none: a node after a boot, before fabricd)
node_up() {
	local name=$1 i=$2 where=${3:-eth0} pid
	unshare -n sleep 1000000 &
	pid=$!
	wait_for 5 own_netns "$pid" || return 1
	KEEPER[$name]=$pid
	ip link del "v$name" 2>/dev/null
	ip link add "v$name" type veth peer name eth0 netns "$pid" || return 1
	ip link set "v$name" master br0 up
	nse "$pid" ip link set lo up
	nse "$pid" ip link set eth0 up
	if [ "$where" = lo ]; then
		nse "$pid" ip addr add "10.9.0.$i/32" dev lo
	elif [ "$where" = none ]; then
		:
	else
		nse "$pid" ip addr add "10.9.0.$i/24" dev eth0
	fi
}

# node_kill NAME: the node dies: its daemon and namespace go, and with it
# every address it held
node_kill() {
	local name=$1
	# (grouped: bash's "Killed" notice goes to the group's stderr)
	{
		kill -9 "${FDPID[$name]:-}" "${KEEPER[$name]}"
		wait "${FDPID[$name]:-}" "${KEEPER[$name]}"
	} 2>/dev/null
	FDPID[$name]=
	ip link del "v$name" 2>/dev/null
	true
}

# (nsenter execs the command, so $! is the daemon's pid: not a function's
# subshell)
fd_start() {
	local name=$1
	nsenter -t "${KEEPER[$name]}" -n -- "$FD" --conf "$W/$name.conf" --key "$W/key" --state "$W/$name.state" --self "$W/$name.self" \
		--ip-cmd "$IPCMD" >>"$W/$name.log" 2>&1 &
	FDPID[$name]=$!
}

has_vip() { in_node "$1" ip -4 -o addr show dev eth0 | grep -q " $VIP/24 "; }
no_vip() { ! has_vip "$1"; }
addr_on() { in_node "$1" ip -4 -o addr show dev eth0 | grep -q " $2 "; }
rcvbuf_errors() { in_node "$1" awk '/^Udp:/ && $1 == "Udp:" { n++; if (n == 2) print $6 }' /proc/net/snmp; }
neigh_is() { in_node "$1" ip neigh show "$VIP" dev eth0 | grep -q "lladdr $2"; }
st() { sed -n "s/^$2 = //p" "$W/$1.state" 2>/dev/null; }
state_is() { [ "$(st "$1" state)" = "$2" ]; }
# (not /sys: it shows the namespace that mounted it)
mac_of() { in_node "$1" ip -o link show eth0 | sed -n 's|.*link/ether \([0-9a-f:]*\) .*|\1|p'; }

# conf TAKEOVER NAME...: the configuration of those nodes (n1 is .1 ...)
conf() {
	local t=$1 n; shift
	printf 'version = 1\nvip = %s/24\ndev = eth0\ntakeover = %s\n' "$VIP" "$t"
	for n in "$@"; do echo "node = 10.9.0.${n#n}/24 $n"; done
}

# The impostors and the sniffer, in Python (standard library only).
write_peer_py() {
	cat >"$W/peer.py" <<'EOF'
import hmac, hashlib, os, random, socket, struct, sys, time
mode = sys.argv[1]
def send_all(src, dsts, payloads, seconds, gap):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    end = time.time() + seconds
    while True:
        for i, p in enumerate(payloads):
            for d in dsts:
                s.sendto(p, (d, 7810))
            if gap:
                time.sleep(gap)
            elif i % 25 == 24:
                time.sleep(0.003)  # a flood, but one the receive buffer holds
        if time.time() >= end:
            break
if mode in ("junk", "junk56"):  # junk SRC COUNT DST...: random sizes (junk56: all 56
    # bytes, a heartbeat's), some with the magic
    src, count, dsts = sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    r = random.Random(7)
    junk = []
    sizes = [56] if mode == "junk56" else [0, 1, 23, 55, 56, 57, 200, 1400]
    for i in range(count):
        b = bytes(r.getrandbits(8) for _ in range(r.choice(sizes)))
        if i % 3 == 0 and len(b) >= 8:
            b = b"SPFB\x01" + b[5:]
        junk.append(b)
    send_all(src, dsts, junk, 0, 0)
elif mode == "forge":  # forge SRC INDEX SECONDS DST...: "I hold the VIP", wrong key
    src, index, seconds, dsts = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5:]
    key = os.urandom(32)
    end = time.time() + seconds
    while time.time() < end:
        hdr = b"SPFB" + struct.pack(">BBBBQQ", 1, 1, index, 0, 1, int(time.time() * 1000))
        send_all(src, dsts, [hdr + hmac.new(key, hdr, hashlib.sha256).digest()], 0, 0)
        time.sleep(0.2)
elif mode == "sniff":  # sniff IFACE SRC SECONDS OUT: UDP payloads to port 7810
    iface, src, seconds, out = sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
    # ETH_P_ALL: a bridge port's frames reach only the taps of every
    # protocol; those of IPv4 alone see nothing the bridge takes
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))
    s.bind((iface, 3))
    s.settimeout(0.2)
    got, end = [], time.time() + seconds
    while time.time() < end:
        try:
            pkt, addr = s.recvfrom(2048)
        except socket.timeout:
            continue
        if addr[1] != 0x0800:
            continue
        ihl = (pkt[0] & 15) * 4
        if pkt[9] == 17 and socket.inet_ntoa(pkt[12:16]) == src and \
                struct.unpack(">H", pkt[ihl + 2:ihl + 4])[0] == 7810:
            got.append(pkt[ihl + 8:])
    with open(out, "wb") as f:
        for p in got:
            f.write(struct.pack(">H", len(p)) + p)
    print(len(got))
elif mode == "replay": # replay FILE SRC SECONDS DST...: the recorded ones again
    data, src, seconds, dsts = open(sys.argv[2], "rb").read(), sys.argv[3], float(sys.argv[4]), sys.argv[5:]
    got, i = [], 0
    while i < len(data):
        n = struct.unpack(">H", data[i:i + 2])[0]
        got.append(data[i + 2:i + 2 + n])
        i += 2 + n
    send_all(src, dsts, got, seconds, 0.1)
EOF
}

# ---------------------------------------------------------------- bench
# --takeover-time T RUNS (inside unshare -rn): the VIP's move after the
# holder's death, RUNS times, one figure (seconds) a line on stdout.
if [ "${1:-}" = --takeover-time ]; then
	T_OVER=$2 RUNS=$3
	W=$(mktemp -d "${O:-/tmp}/fabricd-bench.XXXXXX")
	trap '{ for p in "${FDPID[@]}" "${KEEPER[@]}"; do kill -9 $p; done; wait; } 2>/dev/null; rm -rf "$W"' EXIT
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/key" && chmod 600 "$W/key"
	ip link add br0 type bridge && ip link set br0 up
	conf "$T_OVER" n1 n2 >"$W/n1.conf"
	cp "$W/n1.conf" "$W/n2.conf"
	node_up n1 1 && node_up n2 2 || exit 1
	fd_start n1
	fd_start n2
	for r in $(seq "$RUNS"); do
		wait_for $((T_OVER * 4 + 10)) has_vip n1 || wait_for 1 has_vip n2 || { echo "no holder" >&2; exit 1; }
		holder=n1 other=n2
		has_vip n1 || { holder=n2 other=n1; }
		# let the other node hear a few heartbeats, as a running fabric has
		wait_for 10 state_is "$other" standby || exit 1
		sleep 1.5
		t0=$(now)
		node_kill "$holder"
		wait_for $((T_OVER * 4 + 10)) has_vip "$other" || { echo "no takeover" >&2; exit 1; }
		t1=$(now)
		echo "$t0 $t1" | awk '{ printf "%.2f\n", $2 - $1 }'
		node_up "$holder" "${holder#n}" || exit 1
		fd_start "$holder"
		wait_for 10 state_is "$holder" standby || exit 1
	done
	exit 0
fi

# ---------------------------------------------------------------- in netns
if [ "${1:-}" = --netns ]; then
	n=$TAP_N
	W=$2
	trap '{ for p in "${FDPID[@]}" "${KEEPER[@]}"; do kill -9 $p; done; wait; } 2>/dev/null' EXIT
	write_peer_py
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/key"
	chmod 600 "$W/key"
	ip link set lo up
	ip link add br0 type bridge && ip link set br0 up
	for x in n1 n2 n3; do conf 2 n1 n2 n3 >"$W/$x.conf"; done
	node_up n1 1 && node_up n2 2 && node_up n3 3 lo || die "three node namespaces on a bridge"
	for x in n1 n2 n3; do fd_start "$x"; done

	check "n1, first in the order, claims the VIP (within 12 s)" wait_for 12 has_vip n1
	check "... after listening first" grep -q "listening 2 s for the holder of vip $VIP" "$W/n1.log"
	check "... logs the claim" grep -q "vip $VIP claimed" "$W/n1.log"
	wait_for 3 state_is n2 standby
	wait_for 3 bash -c "grep -qx 'holder = n1' '$W/n2.state'"
	is "n1's status: holder" "$(st n1 state) $(st n1 holder) $(st n1 holder_address)" "holder n1 10.9.0.1"
	is "n2's status: standby, n1 holds" "$(st n2 state) $(st n2 holder)" "standby n1"
	check "n2 does not have the VIP" no_vip n2
	check "n3 does not have the VIP" no_vip n3
	check "n3's fabric address was on lo only: added on eth0" addr_on n3 10.9.0.3/24
	check "... and logged" grep -q "node n3: 10.9.0.3/24 is not on eth0: adding it" "$W/n3.log"
	check "n2's status lists its peers" grep -qx "peer.n1.live = 1" "$W/n2.state"

	# the flood: junk from n3's address and from one outside the fabric.
	# What the kernel drops when the socket's buffer is full is in n2's
	# UDP RcvbufErrors: every datagram is either there or counted by n2.
	in_node n3 ip addr add 10.9.0.77/24 dev eth0
	lost0=$(rcvbuf_errors n2)
	in_node n3 python3 "$W/peer.py" junk 10.9.0.3 3000 10.9.0.1 10.9.0.2
	in_node n3 python3 "$W/peer.py" junk56 10.9.0.77 1000 10.9.0.1 10.9.0.2
	sleep 2.5
	lost=$(($(rcvbuf_errors n2) - lost0))
	echo "# n2's kernel dropped $lost datagrams for a full receive buffer"
	is "after 4000 junk datagrams each, n1 still holds and n2 stands by" \
		"$(st n1 state) $(st n2 state) $(st n2 holder)" "holder standby n1"
	total=0
	for k in size source magic version hmac format index stale replay; do total=$((total + $(st n2 "dropped.$k"))); done
	check "n2 counted every junk datagram it got as dropped ($total + $lost lost >= 4000)" \
		test "$total" -le 4000 -a $((total + lost)) -ge 4000
	check "... from outside the fabric under source ($(st n2 dropped.source) + $lost >= 1000)" \
		test $(($(st n2 dropped.source) + lost)) -ge 1000
	check "... and per peer for n3 ($(st n2 peer.n3.dropped) + $lost >= 3000)" \
		test $(($(st n2 peer.n3.dropped) + lost)) -ge 3000
	is "... while n3's own heartbeats still count" "$(st n2 peer.n3.live)" 1
	check "... in one log line, not one per datagram" test "$(grep -c dropped "$W/n2.log")" -le 3
	check "n2's daemon is still running" kill -0 "${FDPID[n2]}"
	# bounded: the flood allocates nothing (one slot per node, static buffers)
	rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/${FDPID[n2]}/status")
	echo "# n2's fabricd after 4000 junk datagrams: peak RSS ${rss} kB"
	check "... its peak RSS stays small (${rss} kB < 16 MiB)" test "${rss:-99999}" -lt 16384

	# n3 learns n1's MAC for the VIP (one datagram to it)
	in_node n3 python3 -c "import socket; socket.socket(2, 2).sendto(b'x', ('$VIP', 9))"
	mac1=$(mac_of n1) mac2=$(mac_of n2)
	check "n3's neighbour entry for the VIP is n1's MAC" wait_for 3 neigh_is n3 "$mac1"

	# record n1's genuine heartbeats, then n1 dies; an impostor takes its
	# address, sends bad-HMAC "I hold it" and replays the recording
	got=$(python3 "$W/peer.py" sniff vn1 10.9.0.1 3 "$W/n1.rec")
	check "3 s of n1's heartbeats recorded ($got)" test "${got:-0}" -ge 4
	h2=$(st n2 dropped.hmac)
	node_kill n1
	node_up evil 1 || die "the impostor's namespace"
	nsenter -t "${KEEPER[evil]}" -n -- python3 "$W/peer.py" forge 10.9.0.1 0 8 10.9.0.2 10.9.0.3 &
	forger=$!
	nsenter -t "${KEEPER[evil]}" -n -- python3 "$W/peer.py" replay "$W/n1.rec" 10.9.0.1 8 10.9.0.2 10.9.0.3 &
	replayer=$!
	check "n1 dead: n2 claims the VIP (within 10 s)" wait_for 10 has_vip n2
	check "... its log says so" grep -q "vip $VIP claimed" "$W/n2.log"
	check "... and that n1 was lost" grep -q "peer n1 lost" "$W/n2.log"
	wait $forger $replayer 2>/dev/null
	sleep 0.5
	check "the impostor's bad HMACs were dropped ($(st n2 dropped.hmac) > $h2)" test "$(st n2 dropped.hmac)" -gt "$h2"
	check "the replayed heartbeats were dropped ($(st n2 dropped.replay))" test "$(st n2 dropped.replay)" -gt 0
	is "n3 stands by, n2 holds" "$(st n3 state) $(st n3 holder)" "standby n2"
	check "no VIP on n3" no_vip n3
	check "gratuitous ARP: n3's neighbour entry moved to n2's MAC $mac2" neigh_is n3 "$mac2"
	node_kill evil

	# n1 comes back as after a boot, its address not up: fabricd finds
	# itself by the name it kept, puts the address back, learns n2 holds
	# and leaves it there
	is "n1 kept its name" "$(cat "$W/n1.self")" n1
	node_up n1 1 none || die "n1's namespace again"
	: >"$W/n1.log"
	fd_start n1
	check "n1 back without its address: fabricd puts 10.9.0.1/24 on eth0" wait_for 5 addr_on n1 10.9.0.1/24
	sleep 6
	is "n1 back: standby, n2 still holds" "$(st n1 state) $(st n1 holder)" "standby n2"
	check "... no VIP on n1" no_vip n1
	check "... n2 still has it" has_vip n2
	check "... n1 never claimed" bash -c "! grep -q 'claimed\\|probing' '$W/n1.log'"

	# two holders: n3 starts with the VIP on eth0 (as after a partition)
	kill "${FDPID[n3]}"; wait "${FDPID[n3]}"
	in_node n3 ip addr add "$VIP/24" dev eth0
	fd_start n3
	check "two holders: n3, later in the order, deletes the VIP (within 6 s)" wait_for 6 no_vip n3
	check "... saying why" grep -q "vip $VIP released: n2 holds it too and comes first" "$W/n3.log"
	check "... n2 keeps it" has_vip n2
	wait_for 3 state_is n3 standby
	is "... n3 stands by" "$(st n3 state)" standby

	# SIGTERM on the holder: the address stays, nobody claims, a restart holds
	kill -TERM "${FDPID[n2]}"
	rc=0; wait "${FDPID[n2]}" || rc=$?
	is "SIGTERM: fabricd exits 0" "$rc" 0
	check "... keeps the VIP on eth0" has_vip n2
	check "... and says so" grep -q "stopping: vip $VIP kept on dev" "$W/n2.log"
	is "... status: stopped" "$(st n2 state)" stopped
	sleep 7
	check "7 s later (takeover 2): n1 has not claimed it" no_vip n1
	check "... its probe was answered by n2's MAC" grep -q "vip $VIP not claimed: $mac2 (answer)" "$W/n1.log"
	fd_start n2
	check "restarted, n2 holds the VIP at once" wait_for 3 state_is n2 holder
	check "... from the address on dev" grep -q "vip $VIP is on dev: held (kept by the last run)" "$W/n2.log"

	# n2 leaves the fabric (its configuration removed): released, n1 claims
	rm "$W/n2.conf"
	kill -HUP "${FDPID[n2]}"
	check "configuration removed: n2 releases the VIP" wait_for 3 no_vip n2
	check "... saying so" grep -q "vip $VIP released: left the fabric" "$W/n2.log"
	wait_for 3 state_is n2 standalone
	is "... and is standalone" "$(st n2 state)" standalone
	check "n1, first live, claims it (within 8 s)" wait_for 8 has_vip n1
	check "... n3 does not" no_vip n3

	# the holder's VIP deleted behind its back: added again
	in_node n1 ip addr del "$VIP/24" dev eth0
	check "the VIP deleted from the holder's eth0: added again (within 3 s)" wait_for 3 has_vip n1
	check "... saying so" grep -q "vip $VIP vanished from dev: adding it again" "$W/n1.log"

	# a VIP kept by a stopped run, on a node no longer listed: released
	kill "${FDPID[n3]}"; wait "${FDPID[n3]}"
	in_node n3 ip addr add "$VIP/24" dev eth0
	conf 2 n1 n2 >"$W/n3.conf"
	fd_start n3
	check "n3 not listed, the VIP on its eth0: released (within 3 s)" wait_for 3 no_vip n3
	check "... saying so" grep -q "vip $VIP released: this node is not in the fabric" "$W/n3.log"
	is "... state outside" "$(st n3 state)" outside
	check "... n1 keeps it" has_vip n1

	echo "$n" >"$W/tap.n"
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

W=$(mktemp -d "${O:-/tmp}/fabricd-test.XXXXXX")
trap 'rm -rf "$W"' EXIT

expect_rc "--help" 0 "$FD" --help
check "--help points at the exit codes" grep -q "README.md, Exit codes" "$W/out"
expect_rc "an unknown option is a usage error" 100 "$FD" --frobnicate
expect_rc "an argument is a usage error" 100 "$FD" extra
expect_rc "a bad port is a usage error" 100 "$FD" --port 70000
check "... named in one line" grep -qx "fabricd: option --port: want a port number (1-65535)" "$W/out"
expect_rc "a state file that cannot be written: 111" 111 "$FD" --conf "$W/none" --state "$W/no/such/dir/state"

# standalone: no configuration
"$FD" --conf "$W/none.conf" --key "$W/none.key" --state "$W/sa.state" >"$W/sa.log" 2>&1 &
pid=$!
check "standalone: the status file is written (ready)" wait_for 5 test -s "$W/sa.state"
is "... state standalone" "$(st sa state)" standalone
check "... logged once" grep -q "no fabric configuration: standalone: idle" "$W/sa.log"
printf 'version = 1\nvip = 10.99.0.100/24\nnode = 10.99.0.1/24 far\n' >"$W/none.conf"
kill -HUP $pid
check "SIGHUP: a configuration without this node: outside" wait_for 3 bash -c "grep -qx 'state = outside' '$W/sa.state'"
printf 'version = 2\nvip = 127.0.0.100/8\nnode = 127.0.0.1/8 me\n' >"$W/none.conf"
kill -HUP $pid
check "... one listing this node but no key: nokey" wait_for 3 bash -c "grep -qx 'state = nokey' '$W/sa.state'"
check "... naming the key file" grep -q "key $W/none.key: No such file" "$W/sa.log"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/none.key"
chmod 644 "$W/none.key"
kill -HUP $pid
check "... a key others may read is refused" wait_for 3 grep -q "key $W/none.key: mode 0644, want 0600" "$W/sa.log"
kill -TERM $pid
rc=0; wait $pid || rc=$?
is "SIGTERM: exit 0" "$rc" 0

if unshare -rnpf --mount-proc sh -c 'ip link add t0 type veth peer name t1 && ip link add b0 type bridge' 2>/dev/null; then
	rc=0
	# a PID namespace too: whatever the test leaves running dies with it
	W="$W" BIN="$BIN" TAP_N=$n unshare -rnpf --mount-proc bash "$0" --netns "$W" || rc=$?
	fails=$((fails + rc))
	n=$(cat "$W/tap.n" 2>/dev/null || echo "$n")
	for x in n1 n2 n3; do [ "$rc" = 0 ] || { echo "# --- $x.log"; sed 's/^/# /' "$W/$x.log" 2>/dev/null | tail -40; }; done
else
	skip "no network and PID namespaces with veth and a bridge here (unshare -rnpf): the fabric part is not run"
fi

done_testing
