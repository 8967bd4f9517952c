#!/bin/sh
# host-deps.sh LIST - make sure this host has the Debian packages in LIST
# (pkg/host-packages.txt for `make`, tests/host-packages.txt for `make
# test`). As root, install the missing ones; otherwise print one apt-get
# line and fail.
set -eu
want=$(grep -v '^[[:space:]]*#' "$1" | tr -s ' \n' '  ')
missing=
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "host-deps: installing ($1):$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086 # one word per package
	apt-get install -y -q $missing
else
	echo "host-deps: missing packages of $1; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
