# pkg/spacectl: the admin CLI.
PROGRAMS += spacectl
spacectl_SRCS = pkg/spacectl/main.c pkg/spacectl/backup.c $(LIBMGMT_SRCS) $(LIBSPACE_SRCS)
spacectl_LIBS := $(ARCHIVE_LIBS) $(CRYPTO_LIBS)

TOOL_TESTS += tests/tool/spacectl.sh
