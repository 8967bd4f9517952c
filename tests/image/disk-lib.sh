# tests/image/disk-lib.sh - read a raw GPT disk of ours the way an operator's
# tools do (sfdisk, dd). Set raw (the disk) and work (a scratch directory),
# then call dump_table before part and extract.
dump_table() { sfdisk --dump "$raw" > "$work/dump" 2>&1; }
part() { # part NAME -> "start size" in sectors
	awk -v n="\"$1\"" '$0 ~ "name=" n {
		s = $0; sub(/.*start= */, "", s); sub(/,.*/, "", s)
		z = $0; sub(/.*size= */, "", z); sub(/,.*/, "", z); print s, z }' "$work/dump"
}
extract() { # extract NAME FILE
	set -- "$1" "$2" $(part "$1")
	dd if="$raw" of="$2" bs=512 skip="$3" count="$4" conv=sparse status=none
}
