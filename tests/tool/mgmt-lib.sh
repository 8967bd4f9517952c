# mgmt-lib.sh - helpers sourced by the management-service tool tests
# (watchdog.sh, mgmtd*.sh, spacectl.sh, apps.sh, devgate.sh; hotpatch.sh
# for free_ports): polling, and
# the client, settings and start of a test mgmtd; the TAP lines are lib.sh's.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# wait_for SECONDS COMMAND...: poll every 0.1 s until the command succeeds
wait_for() {
	local n=$(($1 * 10)); shift
	while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}
# free_ports N: the first of N consecutive TCP ports on 127.0.0.1 that are
# free now, below the kernel's ephemeral range (32768 up), so that no
# client connection of this or another test takes one meanwhile.
free_ports() {
	python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(10000, 32768 - n)
    try:
        socks = []
        for p in range(base, base + n):
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            socks.append(s)
        print(base)
        sys.exit(0)
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
sys.exit("free_ports: no free block of %d ports" % n)
PY
}
# A test mgmtd runs in the root $T on 127.0.0.1:$PORT, its API at $URL.
# code METHOD PATH [curl args...]: print the HTTP status; body in $T/body
code() { local m=$1 p=$2; shift 2; curl -sk -o "$T/body" -w '%{http_code}' -X "$m" "$URL/$p" "$@"; }
login() { curl -sk -X POST "$URL/login" -d "{\"username\":\"$1\",\"password\":\"$2\"}" | sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p'; }
# jget FILE KEY...: a member of the JSON in FILE (nested keys), as Python prints it
jget() { python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]: v = v[k]
print(json.dumps(v) if not isinstance(v, str) else v)' "$@"; }
# mgmtd_conf: the settings every test mgmtd shares (users in $T/etc/shadow
# and group, "operator" read-only, logs in $T/log/mgmtd, the release and
# hot patches of $T, no daemons unless the test starts them); a test
# appends its own (a key given again wins)
mgmtd_conf() {
	cat <<EOF
listen = 127.0.0.1
port = $PORT
cert = $T/etc/mgmtd/server.crt
key = $T/etc/mgmtd/server.key
shadow = $T/etc/shadow
group = $T/etc/group
readonly_users = operator
log_dir = $T/log/mgmtd
release_file = $T/etc/space-release
hotpatch_root = $T
cluster_file = $T/etc/space-cluster.conf
watchdog_socket = $T/run/watchdog.sock
devgate_socket = $T/run/devgate.sock
EOF
}
# mgmtd_root: $T/etc and $T/log of a test mgmtd: the accounts admin
# (password "secret", in the admin group) and operator ("opsecret", the
# read-only user of mgmtd_conf), and the release 21.3R1.3
mgmtd_root() {
	local h ho
	mkdir -p "$T/etc" "$T/log"
	h=$(openssl passwd -6 -salt s4ltS4lt secret)
	ho=$(openssl passwd -6 -salt s4ltS4lt opsecret)
	printf 'admin:%s:19000:0:99999:7:::\noperator:%s:19000:0:99999:7:::\n' "$h" "$ho" > "$T/etc/shadow"
	echo "admin:x:900:admin" > "$T/etc/group"
	printf 'PRODUCT=space\nVERSION=21.3R1.3\nBUILD_ID=42\n' > "$T/etc/space-release"
}
# start_mgmtd [setsid]: mgmtd -c $T/etc/mgmtd.conf in the background, its
# stderr in $T/log/mgmtd.err, its pid in M; with setsid in its own process
# group, as the watchdog runs it (and signals it). Returns once it answers
# on $PORT (5 s at most).
start_mgmtd() {
	${1:+"$1"} "$BIN/mgmtd" -c "$T/etc/mgmtd.conf" 2>>"$T/log/mgmtd.err" &
	M=$!
	wait_for 5 sh -c "curl -sk -o /dev/null https://127.0.0.1:$PORT/"
}
# mgmtd_login: AD and RO, the session tokens of admin and operator
mgmtd_login() {
	AD=$(login admin secret)
	RO=$(login operator opsecret)
}
# idle_cpu PID: the process used under half a second of CPU in the next
# two seconds (a daemon under load must not spin; CPU time, not wall time,
# so a busy machine does not make it fail).
idle_cpu() {
	local a b
	a=$(awk '{print $14 + $15}' "/proc/$1/stat")
	sleep 2
	b=$(awk '{print $14 + $15}' "/proc/$1/stat")
	[ $((b - a)) -lt $(($(getconf CLK_TCK) / 2)) ]
}
