#!/bin/sh
# patchme.sh - the operator's entry point of a hot-patch bundle: in the
# bundle's directory, `sh patchme.sh [--reinstall]` checks and applies it
# with the node's tool (`hotpatch apply`, exit codes in README.md). The
# directory is this script's own, made absolute by cd and pwd -P: $0 is
# only ever a quoted word, never part of a command string.
unset CDPATH
case $0 in
*/*) dir=${0%/*} ;;
*) dir=. ;;
esac
dir=$(cd -P -- "${dir:-/}" && pwd -P) || exit 111
exec /usr/sbin/hotpatch apply "$@" "$dir"
