# pkg/pkg: the `pkg` tool (build, install, remove, list, info, files,
# verify, attrs); see `pkg --help` and pkg/FORMAT.md.
PROGRAMS += pkg
# the release version order (image/release) checks an application's versions
pkg_SRCS = $(wildcard pkg/pkg/*.c) $(LIBPKG_SRCS) $(LIBSPACE_SRCS) image/release/release.c \
	image/ova/manifest.c pkg/lib/kv.c pkg/lib/buf.c
pkg_LIBS = $(LIBPKG_LIBS)
TOOL_TESTS += tests/tool/pkg.sh
BENCHES += tests/bench/pkg.sh
