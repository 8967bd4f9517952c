# image/record: the signed build record (image/record.mk) and make
# check-rebuild; mksums --sign-only signs it, ova-verify --signed checks it.
TOOL_TESTS += tests/tool/record.sh
