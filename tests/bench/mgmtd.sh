#!/bin/bash
# mgmtd.sh - bench: requests per second of mgmtd for GET /api/v1/system over
# TLS keep-alive on loopback, against nginx serving the same JSON as a
# static file with the same certificate, protocol range and cipher list, in
# the same run; plus memory per idle keep-alive connection and per session.
# Prints "name: figure (ratio vs baseline)" lines. Env: BIN, TOP, CONNS,
# SECS.
set -eu
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/out/bin}
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
CONNS=${CONNS:-4}
SECS=${SECS:-4}
IDLE=${IDLE:-200}
T=$(mktemp -d /tmp/mgmtd-bench.XXXXXX)
P1=$((20000 + RANDOM % 20000)); P2=$((P1 + 1))
MG=; NG=
cleanup() {
	[ -n "$MG" ] && kill "$MG" 2>/dev/null && wait "$MG" 2>/dev/null
	[ -n "$NG" ] && kill "$NG" 2>/dev/null && wait "$NG" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
command -v nginx >/dev/null || { echo "mgmtd bench: nginx not installed (nginx-light)"; exit 1; }
NGINX=$(command -v nginx)

cc -O2 -o "$T/tlsload" "$TOP/tests/bench/tlsload.c" -lssl -lcrypto -lpthread
mkdir -p "$T/etc" "$T/www/api/v1" "$T/ngx/logs"
H=$(openssl passwd -6 -salt benchsalt secret)
echo "admin:$H:19000:0:99999:7:::" > "$T/etc/shadow"
printf 'PRODUCT=space\nVERSION=21.3R1.3\nBUILD_ID=42\n' > "$T/etc/space-release"
cat > "$T/etc/mgmtd.conf" <<EOF
listen = 127.0.0.1
port = $P1
cert = $T/etc/tls/server.crt
key = $T/etc/tls/server.key
shadow = $T/etc/shadow
group = $T/etc/group
log_dir = $T/log
log_max = 104857600
release_file = $T/etc/space-release
hotpatch_root = $T
cluster_file = $T/etc/cluster
max_sessions = 1024
# 200 logins by admin below measure the session table
max_sessions_per_user = 1024
EOF
"$BIN/mgmtd" -c "$T/etc/mgmtd.conf" 2>"$T/mgmtd.err" &
MG=$!
for i in $(seq 50); do curl -sk "https://127.0.0.1:$P1/" >/dev/null 2>&1 && break; sleep 0.1; done
TOK=$(curl -sk -X POST "https://127.0.0.1:$P1/api/v1/login" -d '{"username":"admin","password":"secret"}' |
	sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
curl -sk -H "Authorization: Bearer $TOK" "https://127.0.0.1:$P1/api/v1/system" > "$T/www/api/v1/system"
grep -q '"release":"21.3R1.3"' "$T/www/api/v1/system"

chmod -R a+rX "$T"
cat > "$T/ngx/nginx.conf" <<EOF
worker_processes 1;
user root root;
pid $T/ngx/nginx.pid;
error_log $T/ngx/logs/error.log;
events { worker_connections 4096; }
http {
	access_log $T/ngx/logs/access.log;
	client_body_temp_path $T/ngx/body;
	proxy_temp_path $T/ngx/proxy;
	fastcgi_temp_path $T/ngx/fastcgi;
	uwsgi_temp_path $T/ngx/uwsgi;
	scgi_temp_path $T/ngx/scgi;
	keepalive_requests 100000000;
	keepalive_timeout 60s;
	server {
		listen 127.0.0.1:$P2 ssl;
		ssl_certificate $T/etc/tls/server.crt;
		ssl_certificate_key $T/etc/tls/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20;
		root $T/www;
		default_type application/json;
		add_header Cache-Control no-store;
	}
}
EOF
"$NGINX" -p "$T/ngx" -c "$T/ngx/nginx.conf" -g 'daemon off;' 2>"$T/ngx/stderr" &
NG=$!
for i in $(seq 50); do curl -sk "https://127.0.0.1:$P2/api/v1/system" >/dev/null 2>&1 && break; sleep 0.1; done
cmp -s <(curl -sk "https://127.0.0.1:$P2/api/v1/system") "$T/www/api/v1/system"

rps() { "$T/tlsload" run 127.0.0.1 "$1" /api/v1/system "$TOK" "$CONNS" "$SECS" | awk '$4 == 0 { print $6 } $4 != 0 { print "ERR" }'; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# warm-up, then two alternating rounds; the better round of each counts
"$T/tlsload" run 127.0.0.1 "$P1" /api/v1/system "$TOK" "$CONNS" 1 >/dev/null
"$T/tlsload" run 127.0.0.1 "$P2" /api/v1/system "$TOK" "$CONNS" 1 >/dev/null
m1=$(rps "$P1"); n1=$(rps "$P2"); m2=$(rps "$P1"); n2=$(rps "$P2")
for v in "$m1" "$m2" "$n1" "$n2"; do [ "$v" != ERR ] || { echo "mgmtd bench: request errors"; exit 1; }; done
M=$(( m1 > m2 ? m1 : m2 )); N=$(( n1 > n2 ? n1 : n2 ))
awk -v m="$M" -v n="$N" -v c="$CONNS" -v s="$SECS" 'BEGIN {
	printf "mgmtd GET /api/v1/system TLS keep-alive, %d conns, %ds: %d req/s (%.2fx nginx %d req/s)\n", c, s, m, m / n, n }'

# memory per idle keep-alive connection (after one request each)
NW=$(pgrep -P "$NG" | head -1)
m0=$(rss_kb "$MG"); n0=$(rss_kb "$NW")
"$T/tlsload" idle 127.0.0.1 "$P1" /api/v1/system "$TOK" "$IDLE" 6 > "$T/idle1" &
L1=$!
for i in $(seq 100); do grep -q ready "$T/idle1" 2>/dev/null && break; sleep 0.1; done
m1=$(rss_kb "$MG")
wait "$L1"
"$T/tlsload" idle 127.0.0.1 "$P2" /api/v1/system "$TOK" "$IDLE" 6 > "$T/idle2" &
L2=$!
for i in $(seq 100); do grep -q ready "$T/idle2" 2>/dev/null && break; sleep 0.1; done
n1=$(rss_kb "$NW")
wait "$L2"
awk -v a="$m0" -v b="$m1" -v c="$n0" -v d="$n1" -v k="$IDLE" 'BEGIN {
	printf "mgmtd memory per idle TLS keep-alive connection (%d conns): %.1f KiB (%.2fx nginx %.1f KiB)\n",
		k, (b - a) / k, ((b - a) / k) / ((d - c) / k > 0 ? (d - c) / k : 1), (d - c) / k }'

# memory per idle login session: 200 logins, RSS before/after
s0=$(rss_kb "$MG")
for i in $(seq 200); do
	curl -sk -o /dev/null -X POST "https://127.0.0.1:$P1/api/v1/login" -d '{"username":"admin","password":"secret"}'
done
s1=$(rss_kb "$MG")
awk -v a="$s0" -v b="$s1" 'BEGIN { printf "mgmtd memory per idle session (200 logins): %.2f KiB (table preallocated by max_sessions)\n", (b - a) / 200 }'
